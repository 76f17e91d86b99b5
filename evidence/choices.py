"""Choices of the evidence app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemKind(models.TextChoices):
    PHYSICAL_DEBRIS = "physical_debris", _("Physical debris")
    COMPONENT = "component", _("Component")
    DOCUMENT = "document", _("Document")
    DIGITAL_MEDIA = "digital_media", _("Digital media")
    SAMPLE = "sample", _("Sample")


class ItemStatus(models.TextChoices):
    IN_CUSTODY = "in_custody", _("In custody")
    TRANSFERRED = "transferred", _("Transferred")
    IN_LABORATORY = "in_laboratory", _("In laboratory")
    RETURNED = "returned", _("Returned")
    DESTROYED = "destroyed", _("Destroyed")


class EventType(models.TextChoices):
    """What a custody event records. The value is what the ledger encodes and hashes."""

    ITEM_CREATED = "item.created", _("Item created")
    ITEM_UPDATED = "item.updated", _("Item updated")
    CUSTODY_TRANSFER = "custody.transfer", _("Custody transfer")
    EXAMINATION = "item.examined", _("Examination")
    PHOTO_ADDED = "photo.added", _("Photo added")
    PHOTO_PROCESSED = "photo.processed", _("Photo processed")
    MARKING_RECORDED = "marking.recorded", _("Marking recorded")
    MARKING_CORRECTED = "marking.corrected", _("Marking corrected")
    MARKING_VERIFIED = "marking.verified", _("Marking verified")
    SOURCE_ADDED = "source.added", _("Source added")
    SOURCE_UPDATED = "source.updated", _("Source updated")
    SOURCE_WITHDRAWN = "source.withdrawn", _("Source withdrawn")
    ATTRIBUTION_ADDED = "attribution.added", _("Attribution added")
    ATTRIBUTION_WITHDRAWN = "attribution.withdrawn", _("Attribution withdrawn")
    EXPORT_PRODUCED = "export.produced", _("Export produced")
    FIXITY_CHECK = "fixity.checked", _("Fixity check")
    CORRECTION = "event.corrected", _("Correction of an event")


class SubjectType(models.TextChoices):
    CASE = "case", _("Case")
    EVIDENCE_ITEM = "evidence_item", _("Evidence item")
    PHOTO = "photo", _("Photo")
    MARKING = "marking", _("Marking")
    SOURCE = "source", _("Source")
    ATTRIBUTION = "attribution", _("Attribution")
    EXPORT = "export", _("Export")
    EVENT = "custody_event", _("Custody event")


class FileKind(models.TextChoices):
    ORIGINAL = "original", _("Photo original")
    SOURCE_ARCHIVE = "source_archive", _("Archived source")
    EXPORT = "export", _("Export")


class PhotoStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class PhotoFormat(models.TextChoices):
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    TIFF = "tiff", "TIFF"
    WEBP = "webp", "WebP"
    HEIC = "heic", "HEIC/HEIF"


class CapturedAtSource(models.TextChoices):
    EXIF = "exif", _("from EXIF")
    STATED = "stated", _("as stated")
    UNKNOWN = "unknown", _("unknown")
