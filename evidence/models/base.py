"""What every evidence model shares: nothing is ever deleted; what was recorded in error is withdrawn."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import CaseScopedQuerySet, TimestampedModel, bounded_text
from cases.permanence import EvidenceIsPermanent  # its home now; imported from here by many


class UndeletableMixin:
    def delete(self):
        raise EvidenceIsPermanent(_("Evidence is never deleted; record a correction instead."))


class UndeletableQuerySet(UndeletableMixin, CaseScopedQuerySet):
    """Rows under a case, visible to its team, never deleted."""


class StoredFileQuerySet(UndeletableMixin, models.QuerySet):
    pass


class UndeletableModel(models.Model):
    """Evidence rows are corrected by new events, never removed."""

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise EvidenceIsPermanent(_("Evidence is never deleted; record a correction instead."))


class WithdrawableModel(UndeletableModel, TimestampedModel):
    """A record withdrawn, not deleted, when found wrong: when and why (who: in its custody event).

    evidence.services.common.withdraw sets these fields; the row stays on record, flagged.
    """

    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    withdrawal_reason = bounded_text(_("reason for withdrawal"), blank=True, editable=False)

    class Meta:
        abstract = True
