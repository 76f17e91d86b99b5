"""Who saw what: an append-only log of views, downloads, exports, refusals and sign-ins."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseScopedQuerySet
from evidence.choices import AccessAction
from evidence.models.base import EvidenceIsPermanent


class AccessLogQuerySet(CaseScopedQuerySet):
    def update(self, **kwargs):
        raise EvidenceIsPermanent(_("The access log is append-only."))

    def delete(self):
        raise EvidenceIsPermanent(_("The access log is append-only."))

    def readable_by(self, user):
        """A case's log is for its leads (and superusers), not for everyone on the team."""
        if user.is_superuser:
            return self
        return self.filter(case__memberships__user=user, case__memberships__role="lead")


class AccessLog(models.Model):
    """One access to something under a case (or a sign-in): by whom, from where, when, with what result."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_log",
        verbose_name=_("user"),
    )
    username = models.CharField(_("user name"), max_length=150, blank=True, help_text=_("as typed, for sign-ins"))
    action = models.CharField(_("action"), max_length=16, choices=AccessAction.choices)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="access_log", verbose_name=_("case")
    )
    method = models.CharField(_("method"), max_length=8, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["case", "at"], name="access_case_at"),
            models.Index(fields=["object_type", "object_id"], name="access_object"),
        ]

    def __str__(self) -> str:
        who = self.username or self.user_id
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.get_action_display()} {self.object_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise EvidenceIsPermanent(_("The access log is append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EvidenceIsPermanent(_("The access log is append-only."))
