"""Files kept as evidence as they arrived, though they are not photos the pipeline can read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import CaseScopedQuerySet, bounded_text
from evidence.models.base import UndeletableMixin, UndeletableModel
from evidence.models.files import StoredFile
from evidence.models.items import EvidenceItem


class EvidenceFileQuerySet(UndeletableMixin, CaseScopedQuerySet):
    case_lookup = "item__case_id"


class EvidenceFile(UndeletableModel):
    """A file of an exhibit kept byte for byte, e.g. a damaged photo original refused as a photo.

    Its bytes are a write-once stored file with their SHA-256, and keeping it is a custody event
    (file.kept), so a file that reached the case is never lost for not being a readable image.
    """

    item = models.ForeignKey(
        EvidenceItem, on_delete=models.PROTECT, related_name="kept_files", verbose_name=_("evidence item")
    )
    file = models.ForeignKey(
        StoredFile, on_delete=models.PROTECT, related_name="kept_files", verbose_name=_("file"), editable=False
    )
    original_name = models.CharField(_("original file name"), max_length=255, editable=False)
    reason = bounded_text(_("why it is not a photo"), blank=True)
    kept_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="files_kept",
        verbose_name=_("kept by"),
        editable=False,
    )
    kept_at = models.DateTimeField(_("kept at"), auto_now_add=True)

    objects = EvidenceFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["item", "kept_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["item", "file"], name="evidence_file_unique_per_item")]

    def __str__(self) -> str:
        return f"{self.item.exhibit_number} {self.original_name}"

    @property
    def label(self) -> str:
        return f"{self.item.exhibit_number} file {self.file.sha256[:12]}"
