"""What every evidence model shares: nothing is ever deleted."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import CaseScopedQuerySet


class EvidenceIsPermanent(ValidationError):
    """Raised on any attempt to delete evidence or to rewrite the ledger."""


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
