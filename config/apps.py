from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project itself, last in INSTALLED_APPS: what it sets up over every app."""

    name = "config"
    label = "project"

    def ready(self):
        from config import admin_phrases

        # Every app's admin modules are imported by now (django.contrib.admin comes first).
        admin_phrases.install()
