"""Photos of evidence items."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.fields import latitude_field, longitude_field
from cases.models import CaseScopedQuerySet, bounded_text
from evidence.choices import CapturedAtSource, PhotoErrorCode, PhotoFormat, PhotoStatus
from evidence.models.base import UndeletableMixin, UndeletableModel
from evidence.models.files import StoredFile
from evidence.models.items import EvidenceItem


class PhotoQuerySet(UndeletableMixin, CaseScopedQuerySet):
    case_lookup = "item__case_id"


class Photo(UndeletableModel):
    """A photo of an evidence item. Its original is a write-once stored file; the rest is derived."""

    item = models.ForeignKey(
        EvidenceItem, on_delete=models.PROTECT, related_name="photos", verbose_name=_("evidence item")
    )
    original = models.ForeignKey(
        StoredFile,
        on_delete=models.PROTECT,
        related_name="photos",
        verbose_name=_("original"),
        editable=False,
    )
    original_name = models.CharField(_("original file name"), max_length=255, editable=False)
    format = models.CharField(_("format"), max_length=8, choices=PhotoFormat.choices, editable=False)
    width = models.PositiveIntegerField(_("width"), editable=False)
    height = models.PositiveIntegerField(_("height"), editable=False)
    photographer = models.CharField(_("photographer"), max_length=200, blank=True)
    captured_at = models.DateTimeField(_("captured at"), null=True, blank=True)
    captured_at_source = models.CharField(
        _("capture time from"),
        max_length=8,
        choices=CapturedAtSource.choices,
        default=CapturedAtSource.UNKNOWN,
    )
    notes = bounded_text(_("notes"), blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="photos_uploaded",
        verbose_name=_("uploaded by"),
        editable=False,
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    # The pipeline's state; not evidence, so changing it appends no event until it is done.
    status = models.CharField(
        _("status"), max_length=12, choices=PhotoStatus.choices, default=PhotoStatus.PENDING, editable=False
    )
    error = models.TextField(_("error"), blank=True, editable=False)  # in English, as the API returns it
    # What the error is, as a code with its parameters: shown in the reader's language (none: shown as stored).
    error_code = models.CharField(
        _("reason"), max_length=40, choices=PhotoErrorCode.choices, blank=True, editable=False
    )
    error_params = models.JSONField(_("details"), default=dict, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0, editable=False)
    status_changed_at = models.DateTimeField(_("status changed at"), auto_now_add=True, editable=False)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True, editable=False)

    # From EXIF (the original keeps every byte of it; these are read out for search and display).
    camera_make = models.CharField(_("camera make"), max_length=120, blank=True, editable=False)
    camera_model = models.CharField(_("camera model"), max_length=120, blank=True, editable=False)
    lens = models.CharField(_("lens"), max_length=200, blank=True, editable=False)
    exif_taken_at = models.CharField(
        _("taken at (EXIF)"),
        max_length=40,
        blank=True,
        editable=False,
        help_text=_("as recorded, with offset"),
    )
    # Read out of EXIF, never typed: no form validates them (and none were migrated).
    gps_latitude = latitude_field(_("GPS latitude"), editable=False, validators=[])
    gps_longitude = longitude_field(_("GPS longitude"), editable=False, validators=[])
    gps_altitude = models.DecimalField(
        _("GPS altitude (m)"), max_digits=9, decimal_places=2, null=True, blank=True, editable=False
    )
    orientation = models.PositiveSmallIntegerField(_("EXIF orientation"), null=True, blank=True, editable=False)
    exif = models.JSONField(_("EXIF tags"), default=dict, blank=True, editable=False)

    # Derivatives: upright JPEGs without metadata, regenerated at will from the original.
    preview_width = models.PositiveIntegerField(_("preview width"), null=True, blank=True, editable=False)
    preview_height = models.PositiveIntegerField(_("preview height"), null=True, blank=True, editable=False)
    phash = models.CharField(_("pHash"), max_length=16, blank=True, editable=False, db_index=True)
    dhash = models.CharField(_("dHash"), max_length=16, blank=True, editable=False)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["item", "uploaded_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "original"], name="photo_unique_original_per_item"),
        ]
        indexes = [models.Index(fields=["status", "status_changed_at"], name="photo_status_age")]

    def __str__(self) -> str:
        return f"{self.item.exhibit_number} {self.original_name}"

    @property
    def sha256(self) -> str:
        return self.original.sha256

    def derivative_path(self, kind: str) -> str:
        """Where the preview or thumbnail lives under MEDIA_ROOT (not evidence; rebuilt at will)."""
        return f"derivatives/{self.original.sha256[:2]}/{self.original.sha256}/{kind}.jpg"
