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

    CASE_CREATED = "case.created", _("Case created")
    CASE_UPDATED = "case.updated", _("Case updated")
    INCIDENT_CREATED = "incident.created", _("Incident created")
    INCIDENT_UPDATED = "incident.updated", _("Incident updated")
    ITEM_CREATED = "item.created", _("Item created")
    ITEM_UPDATED = "item.updated", _("Item updated")
    CUSTODY_TRANSFER = "custody.transfer", _("Custody transfer")
    EXAMINATION = "item.examined", _("Examination")
    PHOTO_ADDED = "photo.added", _("Photo added")
    PHOTO_PROCESSED = "photo.processed", _("Photo processed")
    FILE_KEPT = "file.kept", _("File kept as evidence")
    MARKING_RECORDED = "marking.recorded", _("Marking recorded")
    MARKING_CORRECTED = "marking.corrected", _("Marking corrected")
    MARKING_VERIFIED = "marking.verified", _("Marking verified")
    MARKING_WITHDRAWN = "marking.withdrawn", _("Marking withdrawn")
    COMPONENT_RECORDED = "component.recorded", _("Component recorded")
    COMPONENT_CORRECTED = "component.corrected", _("Component corrected")
    COMPONENT_WITHDRAWN = "component.withdrawn", _("Component withdrawn")
    READING_RECORDED = "reading.recorded", _("Date-code reading recorded")
    READING_VERIFIED = "reading.verified", _("Date-code reading verified")
    READING_WITHDRAWN = "reading.withdrawn", _("Date-code reading withdrawn")
    TRACE_CREATED = "trace.created", _("Trace request drafted")
    TRACE_LETTER = "trace.letter", _("Trace letter issued")
    TRACE_UPDATED = "trace.updated", _("Trace request updated")
    TRACE_ANSWERED = "trace.answered", _("Trace response received")
    SOURCE_ADDED = "source.added", _("Source added")
    SOURCE_UPDATED = "source.updated", _("Source updated")
    SOURCE_WITHDRAWN = "source.withdrawn", _("Source withdrawn")
    ATTRIBUTION_ADDED = "attribution.added", _("Attribution added")
    ATTRIBUTION_WITHDRAWN = "attribution.withdrawn", _("Attribution withdrawn")
    EXPORT_PRODUCED = "export.produced", _("Export produced")
    PACKAGE_SEALED = "package.sealed", _("Package sealed")
    KEY_ROTATED = "key.rotated", _("Signing key rotated")
    FIXITY_CHECK = "fixity.checked", _("Fixity check")
    CORRECTION = "event.corrected", _("Correction of an event")


class SubjectType(models.TextChoices):
    CASE = "case", _("Case")
    INCIDENT = "incident", _("Incident")
    EVIDENCE_ITEM = "evidence_item", _("Evidence item")
    PHOTO = "photo", _("Photo")
    EVIDENCE_FILE = "evidence_file", _("Evidence file")
    MARKING = "marking", _("Marking")
    COMPONENT = "component", _("Component")
    READING = "date_reading", _("Date-code reading")
    TRACE_REQUEST = "trace_request", _("Trace request")
    SOURCE = "source", _("Source")
    ATTRIBUTION = "attribution", _("Attribution")
    EXPORT = "export", _("Export")
    EVENT = "custody_event", _("Custody event")


class FileKind(models.TextChoices):
    ORIGINAL = "original", _("Photo original")
    SOURCE_ARCHIVE = "source_archive", _("Archived source")
    EXPORT = "export", _("Export")
    KEPT = "kept", _("File kept as evidence")
    LETTER = "letter", _("Trace letter")
    RESPONSE = "response", _("Trace response")


class PhotoStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class PhotoErrorCode(models.TextChoices):
    """Why a photo failed, stored as a code with its parameters (Photo.error_code, error_params) and shown in the
    reader's language: the label is the message. A refusal of the file has no code; its own words are kept."""

    GAVE_UP = "gave_up", _("Gave up after %(n)s attempts.")
    GAVE_UP_RETRYING = "gave_up_retrying", _("Gave up after retries: the database or the task broker was unreachable.")
    NOT_PROCESSED = "not_processed", _("The photo could not be processed; the server log has the details.")


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


class ManufacturePrecision(models.TextChoices):
    YEAR = "year", _("Year")
    MONTH = "month", _("Month")
    WEEK = "week", _("Week")
    DAY = "day", _("Day")


class MarkingType(models.TextChoices):
    MANUFACTURER = "manufacturer", _("Manufacturer name or logo")
    PART_NUMBER = "part_number", _("Part number")
    SERIAL_NUMBER = "serial_number", _("Serial number")
    LOT = "lot", _("Lot / batch")
    DATE_CODE = "date_code", _("Date code")
    COUNTRY_OF_ORIGIN = "country_of_origin", _("Country-of-origin text")
    INSPECTION_STAMP = "inspection_stamp", _("Inspection stamp")
    OTHER = "other", _("Other")


class Confidence(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    PROBABLE = "probable", _("Probable")
    POSSIBLE = "possible", _("Possible")


class SourceKind(models.TextChoices):
    UN_REPORT = "un_report", _("UN report")
    GOVERNMENT_STATEMENT = "government_statement", _("Government statement")
    NEWS_REPORT = "news_report", _("News report")
    COURT_DOCUMENT = "court_document", _("Court document")
    LABORATORY_REPORT = "laboratory_report", _("Laboratory report")
    WITNESS_STATEMENT = "witness_statement", _("Witness statement")
    SATELLITE_IMAGERY = "satellite_imagery", _("Satellite imagery")
    OPEN_SOURCE_POST = "open_source_post", _("Open-source post")
    OTHER = "other", _("Other")


class Reliability(models.TextChoices):
    """Admiralty (NATO) scale: how reliable the source is, A to F."""

    A = "A", _("A: completely reliable")
    B = "B", _("B: usually reliable")
    C = "C", _("C: fairly reliable")
    D = "D", _("D: not usually reliable")
    E = "E", _("E: unreliable")
    F = "F", _("F: reliability cannot be judged")


class Credibility(models.IntegerChoices):
    """Admiralty scale: how credible this piece of information is, 1 to 6."""

    CONFIRMED = 1, _("1: confirmed by other sources")
    PROBABLY_TRUE = 2, _("2: probably true")
    POSSIBLY_TRUE = 3, _("3: possibly true")
    DOUBTFUL = 4, _("4: doubtful")
    IMPROBABLE = 5, _("5: improbable")
    CANNOT_JUDGE = 6, _("6: truth cannot be judged")


class Stance(models.TextChoices):
    SUPPORTS = "supports", _("Supports")
    CONTRADICTS = "contradicts", _("Contradicts")


class AttributionSubject(models.TextChoices):
    CASE = "case", _("Case")
    INCIDENT = "incident", _("Incident")
    EVIDENCE_ITEM = "evidence_item", _("Evidence item")
    MARKING = "marking", _("Marking")
    ENTITY = "entity", _("Entity")


class ExportKind(models.TextChoices):
    DOSSIER = "dossier", _("PDF dossier")
    PACKAGE = "package", _("Evidence package (BagIt)")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExportErrorCode(models.TextChoices):
    """What went wrong with a build, stored as a code with its parameters (Export.error_code, error_params) and
    shown in the reader's language: the label is the message. The stalled ones are written by the sweeper."""

    NOT_QUEUED = "not_queued", _("The build could not be queued: the task broker is unreachable.")
    NOT_BUILT = "not_built", _("The build failed; the server log has the details.")
    NO_SIGNING_KEY = (
        "no_signing_key",
        _("The build failed: the ledger signing key is missing (see create_signing_key)."),
    )
    STALLED_REQUEUED = (
        "stalled_requeued",
        _("No sign of progress for %(minutes)s minutes (at stage %(stage)s): the build was queued again."),
    )
    STALLED_GAVE_UP = (
        "stalled_gave_up",
        _(
            "No sign of progress for %(minutes)s minutes (at stage %(stage)s) after %(attempts)s attempts: "
            "the build was given up. Ask for a new export."
        ),
    )


class DossierLanguage(models.TextChoices):
    ENGLISH = "en", _("English")
    UKRAINIAN = "uk", _("Ukrainian")


class ComponentFunction(models.TextChoices):
    """What a component does in the weapon (CAR's and the UN Panel's usual groupings)."""

    GUIDANCE = "guidance", _("Guidance and navigation (IMU, GNSS)")
    PROCESSING = "processing", _("Processing and memory")
    POWER = "power", _("Power conversion")
    SERVO = "servo", _("Servo and actuation")
    COMMUNICATION = "communication", _("Communication and telemetry")
    SENSOR = "sensor", _("Sensor")
    PASSIVE = "passive", _("Passive component")
    CONNECTOR = "connector", _("Connector or cable")
    STRUCTURE = "structure", _("Structure or mechanical")
    OTHER = "other", _("Other")


class RecipientKind(models.TextChoices):
    MANUFACTURER = "manufacturer", _("Manufacturer")
    DISTRIBUTOR = "distributor", _("Distributor")
    STATE = "state", _("State")


class TraceKind(models.TextChoices):
    TRACE = "trace", _("Trace request")
    RIGHT_OF_REPLY = "right_of_reply", _("Right of reply")


class TraceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    NO_ANSWER = "no_answer", _("No answer")
    CLOSED = "closed", _("Closed")


class TraceChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    POST = "post", _("Post")
    PORTAL = "portal", _("Web portal")
    DIPLOMATIC = "diplomatic", _("Diplomatic note")
    OTHER = "other", _("Other")
