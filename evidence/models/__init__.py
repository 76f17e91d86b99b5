"""Models of the evidence app, one module per subject."""

from evidence.models.base import EvidenceIsPermanent, UndeletableModel, UndeletableQuerySet, WithdrawableModel
from evidence.models.components import Component, DateCodeReading
from evidence.models.exports import Export
from evidence.models.files import StoredFile
from evidence.models.items import EvidenceItem
from evidence.models.kept import EvidenceFile
from evidence.models.ledger import Checkpoint, CheckpointTimestamp, CustodyEvent, TimestampAuthorityStatus
from evidence.models.markings import Manufacturer, Marking
from evidence.models.photos import Photo
from evidence.models.sources import Attribution, Source
from evidence.models.tracing import TraceRequest, TraceResponse

__all__ = [
    "Attribution",
    "Checkpoint",
    "CheckpointTimestamp",
    "Component",
    "CustodyEvent",
    "DateCodeReading",
    "EvidenceFile",
    "EvidenceIsPermanent",
    "EvidenceItem",
    "Export",
    "Manufacturer",
    "Marking",
    "Photo",
    "Source",
    "StoredFile",
    "TimestampAuthorityStatus",
    "TraceRequest",
    "TraceResponse",
    "UndeletableModel",
    "UndeletableQuerySet",
    "WithdrawableModel",
]
