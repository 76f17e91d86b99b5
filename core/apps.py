from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Plumbing below every feature app: the API's tokens and shared API classes, SQLite and memory tuning."""

    name = "core"
    verbose_name = _("API access")

    def ready(self):
        from django.db.models.signals import post_migrate

        from core import allocator, sqlite_keeper

        allocator.keep_freed_memory()  # every process that serves or processes photos sets Django up
        sqlite_keeper.install()
        # Without Redis, the API throttle counts in a database cache (settings: CACHES); `migrate` makes
        # its table, so that no deployment can leave it out.
        post_migrate.connect(_create_cache_table, sender=self, dispatch_uid="attest-cache-table")


def _create_cache_table(*, using, **kwargs):
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
