from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Evidence")

    def ready(self):
        from django.conf import settings
        from django.core.signals import setting_changed

        from config import admin_phrases
        from evidence import audit, tasks  # noqa: F401 - their receivers: sign-ins to the access log, work to queue
        from evidence.lib.imaging import set_pillow_pixel_limit
        from evidence.templatetags import attest_a11y

        # The one place Pillow's limit is set; every process that serves or processes photos (web
        # server, Celery worker, management command) runs app ready before it opens one.
        set_pillow_pixel_limit(settings.ATTEST_MAX_IMAGE_PIXELS)
        setting_changed.connect(_follow_pixel_limit, dispatch_uid="attest-pillow-pixel-limit")
        # The admin modules are imported by now (django.contrib.admin comes first in INSTALLED_APPS).
        admin_phrases.install()
        attest_a11y.install()


def _follow_pixel_limit(*, setting, value, **kwargs):
    """Keep Pillow's limit equal to the setting when a test overrides it."""
    if setting == "ATTEST_MAX_IMAGE_PIXELS" and value is not None:
        from evidence.lib.imaging import set_pillow_pixel_limit

        set_pillow_pixel_limit(value)
