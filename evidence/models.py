"""Evidence items, the custody ledger and its signed checkpoints, and write-once stored files."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import (
    LATITUDE_VALIDATORS,
    LONGITUDE_VALIDATORS,
    Case,
    CaseScopedQuerySet,
    Incident,
    TimestampedModel,
)
from evidence.choices import (
    CapturedAtSource,
    EventType,
    FileKind,
    ItemKind,
    ItemStatus,
    PhotoFormat,
    PhotoStatus,
    SubjectType,
)
from evidence.lib import ledger


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


class EvidenceItem(UndeletableModel, TimestampedModel):
    """A physical or digital exhibit of a case, numbered EX-0001, EX-0002 … in the order recorded."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="items", verbose_name=_("case"))
    exhibit_number = models.CharField(_("exhibit number"), max_length=20, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ItemKind.choices)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    incident = models.ForeignKey(
        Incident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("incident"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("taken from"),
        help_text=_("the item this one was taken out of, e.g. the debris a component came from"),
    )
    recovered_at = models.DateTimeField(_("recovered at"), null=True, blank=True)
    recovered_by = models.CharField(
        _("recovered by"),
        max_length=200,
        blank=True,
        help_text=_("free text: collectors are often not users"),
    )
    recovery_place = models.CharField(_("recovery place"), max_length=300, blank=True)
    recovery_latitude = models.DecimalField(
        _("recovery latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=LATITUDE_VALIDATORS,
    )
    recovery_longitude = models.DecimalField(
        _("recovery longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=LONGITUDE_VALIDATORS,
    )
    custodian = models.CharField(_("current custodian"), max_length=200, blank=True)
    storage_location = models.CharField(_("storage location"), max_length=300, blank=True)
    seal_number = models.CharField(_("seal number"), max_length=100, blank=True)
    condition = models.TextField(_("condition"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ItemStatus.choices, default=ItemStatus.IN_CUSTODY)

    objects = UndeletableQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence item")
        verbose_name_plural = _("evidence items")
        ordering = ["case", "exhibit_number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "exhibit_number"], name="item_unique_exhibit_per_case"),
            models.CheckConstraint(
                condition=Q(recovery_latitude__isnull=True) | Q(recovery_latitude__gte=-90, recovery_latitude__lte=90),
                name="item_recovery_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(recovery_longitude__isnull=True)
                | Q(recovery_longitude__gte=-180, recovery_longitude__lte=180),
                name="item_recovery_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exhibit_number} {self.title}"


class CustodyEventQuerySet(CaseScopedQuerySet):
    """The ledger is append-only: rows are inserted, never updated or deleted."""

    def update(self, **kwargs):
        raise EvidenceIsPermanent(_("The custody ledger is append-only."))

    def delete(self):
        raise EvidenceIsPermanent(_("The custody ledger is append-only."))

    def bulk_update(self, *args, **kwargs):
        raise EvidenceIsPermanent(_("The custody ledger is append-only."))


class CustodyEvent(models.Model):
    """One entry of a case's hash-chained custody ledger (format: docs/custody-format.md).

    Every field that the hash covers is stored as it was hashed, so the chain can be
    recomputed from these rows alone. On PostgreSQL a trigger also refuses UPDATE and DELETE.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="custody_events", verbose_name=_("case"))
    sequence = models.PositiveBigIntegerField(_("sequence number"), editable=False)
    event_type = models.CharField(_("event type"), max_length=32, choices=EventType.choices, editable=False)
    subject_type = models.CharField(_("subject type"), max_length=20, choices=SubjectType.choices, editable=False)
    subject_id = models.BigIntegerField(_("subject id"), editable=False)
    subject_label = models.CharField(_("subject"), max_length=120, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custody_events",
        verbose_name=_("actor"),
        editable=False,
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True, editable=False)
    occurred_at = models.DateTimeField(_("occurred at"), editable=False)
    recorded_at = models.DateTimeField(_("recorded at"), editable=False)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
        editable=False,
    )
    # The canonical JSON text exactly as hashed (not a JSON column: jsonb would reorder it).
    payload = models.TextField(_("payload"), editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = CustodyEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        ordering = ["case", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="custody_unique_sequence_per_case"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="custody_sequence_from_one"),
        ]
        indexes = [
            models.Index(fields=["case", "subject_type", "subject_id"], name="custody_subject"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.event_type} {self.subject_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise EvidenceIsPermanent(_("The custody ledger is append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EvidenceIsPermanent(_("The custody ledger is append-only."))

    @property
    def payload_data(self) -> dict:
        return json.loads(self.payload)

    def record(self, case_reference: str, corrects_sequence: int | None) -> dict:
        """The hashed fields, rebuilt from this row (see ledger.event_record)."""
        return ledger.event_record(
            case=case_reference,
            seq=self.sequence,
            event_type=self.event_type,
            subject={"type": self.subject_type, "id": self.subject_id, "label": self.subject_label},
            actor=None if self.actor_id is None else {"id": self.actor_id, "name": self.actor_name},
            occurred_at=ledger.format_timestamp(self.occurred_at),
            recorded_at=ledger.format_timestamp(self.recorded_at),
            corrects=corrects_sequence,
            payload=json.loads(self.payload),
            prev=self.prev_hash,
        )


class Checkpoint(models.Model):
    """A signed statement of a ledger's head (size and hash) at a moment. Sizes never shrink."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="checkpoints", verbose_name=_("case"))
    size = models.PositiveBigIntegerField(_("size"), editable=False)
    head_hash = models.CharField(_("head hash"), max_length=64, editable=False)
    signed_at = models.DateTimeField(_("signed at"), editable=False)
    key_id = models.CharField(_("key"), max_length=16, editable=False)
    signature = models.CharField(_("signature"), max_length=200, editable=False)
    reason = models.CharField(_("reason"), max_length=40, editable=False)

    objects = CustodyEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        ordering = ["case", "signed_at"]
        get_latest_by = "signed_at"

    def __str__(self) -> str:
        return f"{self.case_id} size {self.size} at {self.signed_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise EvidenceIsPermanent(_("Checkpoints are never changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EvidenceIsPermanent(_("Checkpoints are never deleted."))

    def as_signed(self, case_reference: str) -> dict:
        return {
            "v": ledger.FORMAT_VERSION,
            "case": case_reference,
            "size": self.size,
            "head": self.head_hash,
            "signed_at": ledger.format_timestamp(self.signed_at),
            "key": self.key_id,
            "signature": self.signature,
        }


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
        return f"{self.sha256[:12]}… ({self.size} bytes)"


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
    notes = models.TextField(_("notes"), blank=True)
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
    error = models.TextField(_("error"), blank=True, editable=False)
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
    gps_latitude = models.DecimalField(
        _("GPS latitude"), max_digits=9, decimal_places=6, null=True, blank=True, editable=False
    )
    gps_longitude = models.DecimalField(
        _("GPS longitude"), max_digits=9, decimal_places=6, null=True, blank=True, editable=False
    )
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
