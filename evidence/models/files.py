"""Write-once stored files."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from evidence.choices import FileKind
from evidence.models.base import StoredFileQuerySet, UndeletableModel


class StoredFile(UndeletableModel):
    """A write-once file under a content-addressed path: photo originals, archived sources, exports."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True, editable=False)
    size = models.PositiveBigIntegerField(_("size in bytes"), editable=False)
    path = models.CharField(_("path"), max_length=200, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=FileKind.choices, editable=False)
    created_at = models.DateTimeField(_("stored at"), auto_now_add=True)

    objects = StoredFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return ngettext("%(hash)s… (%(size)s byte)", "%(hash)s… (%(size)s bytes)", self.size) % {
            "hash": self.sha256[:12],
            "size": self.size,
        }
