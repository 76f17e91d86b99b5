from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Evidence")

    def ready(self):
        from django.conf import settings
        from django.core.signals import setting_changed

        from cases import services as case_services
        from evidence import tasks  # noqa: F401 - its receivers queue work
        from evidence.lib.imaging import set_pillow_pixel_limit
        from evidence.services import case_records
        from evidence.templatetags import attest_a11y

        # The one place Pillow's limit is set; every process that serves or processes photos (web
        # server, Celery worker, management command) runs app ready before it opens one.
        set_pillow_pixel_limit(settings.ATTEST_MAX_IMAGE_PIXELS)
        setting_changed.connect(_follow_pixel_limit, dispatch_uid="attest-pillow-pixel-limit")
        attest_a11y.install()
        # Cases and incidents are recorded in the custody ledger, which this app keeps.
        case_services.use_ledger(case_records)


def _follow_pixel_limit(*, setting, value, **kwargs):
    """Keep Pillow's limit equal to the setting when a test overrides it."""
    if setting == "ATTEST_MAX_IMAGE_PIXELS" and value is not None:
        from evidence.lib.imaging import set_pillow_pixel_limit

        set_pillow_pixel_limit(value)
