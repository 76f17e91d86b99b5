"""Requests for dossiers and evidence packages, built by Celery and stored write-once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseScopedQuerySet
from evidence.choices import DossierLanguage, ExportErrorCode, ExportKind, ExportStatus
from evidence.models.base import UndeletableMixin, UndeletableModel
from evidence.models.files import StoredFile
from evidence.models.ledger import Checkpoint


class ExportQuerySet(UndeletableMixin, CaseScopedQuerySet):
    pass


class Export(UndeletableModel):
    """A dossier (PDF) or an evidence package (BagIt zip) of a case: asked for, built, then kept."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="exports", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=10, choices=ExportKind.choices)
    language = models.CharField(
        _("language"), max_length=2, choices=DossierLanguage.choices, default=DossierLanguage.ENGLISH
    )
    include_photos = models.BooleanField(_("include photos"), default=True)
    redact_names = models.BooleanField(
        _("redact personal names"), default=False, help_text=_("witnesses and collectors become Witness 1, …")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING, editable=False
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0, editable=False)
    stage = models.CharField(_("stage"), max_length=120, blank=True, editable=False)
    error = models.TextField(_("error"), blank=True, editable=False)  # in English, as the API returns it
    # What the error is, as a code with its parameters: shown in the reader's language (none: shown as stored).
    error_code = models.CharField(
        _("reason"), max_length=40, choices=ExportErrorCode.choices, blank=True, editable=False
    )
    error_params = models.JSONField(_("details"), default=dict, blank=True, editable=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True, editable=False)
    # When it was last queued, claimed or reported progress: a build quiet for longer is stuck (the sweeper's test).
    heartbeat_at = models.DateTimeField(_("last sign of life"), default=timezone.now, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, editable=False)
    file = models.ForeignKey(
        StoredFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exports",
        verbose_name=_("file"),
        editable=False,
    )
    checkpoint = models.ForeignKey(
        Checkpoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exports",
        verbose_name=_("checkpoint of the ledger head"),
        editable=False,
    )

    objects = ExportQuerySet.as_manager()

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ExportStatus.DONE) | Q(file__isnull=False, checkpoint__isnull=False),
                name="export_done_has_file_and_checkpoint",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="export_progress_percent"),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="export_status_heartbeat")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def filename(self) -> str:
        extension = "pdf" if self.kind == ExportKind.DOSSIER else "zip"
        suffix = "dossier" if self.kind == ExportKind.DOSSIER else "package"
        return f"{self.case.file_stem}-{suffix}-{self.pk}.{extension}"
