"""Records that are written once: the refusals every append-only model shares.

Below cases.models, so that any app's models (the custody ledger, the access log) can import it downward.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


class EvidenceIsPermanent(ValidationError):
    """Raised on any attempt to delete evidence or to rewrite the ledger."""


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses the bulk writes that would go around AppendOnlyModel.save() and delete()."""

    def update(self, **kwargs):
        raise EvidenceIsPermanent(self.model.refused_change)

    def bulk_update(self, objs, fields, batch_size=None):
        raise EvidenceIsPermanent(self.model.refused_change)

    def delete(self):
        raise EvidenceIsPermanent(self.model.refused_delete)


class AppendOnlyModel(models.Model):
    """A row that is inserted once and never updated or deleted (on PostgreSQL, triggers refuse it too).

    A subclass says in its own words what it refuses, as lazy translated strings:
    `refused_change` (save of a stored row, update) and `refused_delete`. A custom manager must come
    from an AppendOnlyQuerySet (combine it with another queryset class by inheriting both).
    """

    refused_change: str
    refused_delete: str

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise EvidenceIsPermanent(self.refused_change)
        # Always an INSERT: a new instance given the pk of a stored row must not overwrite it.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EvidenceIsPermanent(self.refused_delete)
