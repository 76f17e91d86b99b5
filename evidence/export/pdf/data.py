"""The dossier's data: plain frozen dataclasses, filled by the caller, drawn by render_dossier (render.py).

Defined beside the renderer so that pdf/ needs nothing above it; collect.py fills them. No Django,
no ReportLab here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class IncidentRow:
    occurred_at: datetime
    kind: str  # display label
    place: str
    region: str
    latitude: float | None
    longitude: float | None
    weapon: str
    outcome: str
    killed: int
    wounded: int


@dataclass(frozen=True)
class CustodyRow:
    sequence: int  # the event's seq in the case ledger
    occurred_at: datetime  # aware
    event: str  # display label
    actor: str
    details: str


@dataclass(frozen=True)
class PhotoRow:
    preview_path: Path | None  # upright JPEG, at most 1600 px; None when not processed yet
    preview_width: int | None
    preview_height: int | None
    sha256: str  # of the original
    original_name: str
    exif_summary: str


@dataclass(frozen=True)
class MarkingRow:
    transcription: str  # as read: Latin, Cyrillic or Hangul
    marking_type: str
    interpretation: str
    confidence: str
    verified_by: str | None = None
    preview_path: Path | None = None  # the preview of the photo the marking is on
    region_on_preview: tuple[int, int, int, int] | None = None  # x, y, width, height in preview pixels
    photo_sha256: str | None = None  # of the original of the photo the marking is on
    photo_name: str = ""  # that photo's original file name
    photo_index: int | None = None  # its number among the exhibit's photographs (1-based), as in "Photo 2 of 3"
    photo_count: int = 0


@dataclass(frozen=True)
class AttributionRow:
    grade: str  # e.g. "B2": source reliability A-F, information credibility 1-6
    stance: str
    claim: str
    source_title: str
    locator: str
    subject: str = ""  # what the claim is about, e.g. "Case" or "Incident: 2 January 2024, Kharkiv"
    contradicts: bool = False  # the source contradicts the case's account
    withdrawn: bool = False


@dataclass(frozen=True)
class Exhibit:
    number: str  # "EX-0001"
    title: str
    kind: str
    description: str
    status: str
    custodian: str
    parent_number: str | None = None
    component: str | None = None  # e.g. "Analog Devices AD7541AKN, United States, made 2023-03 (month)"
    thumbnail_path: Path | None = None  # JPEG, at most 400 px
    custody: Sequence[CustodyRow] = ()
    photos: Sequence[PhotoRow] = ()
    markings: Sequence[MarkingRow] = ()
    attributions: Sequence[AttributionRow] = ()


@dataclass(frozen=True)
class DateCodeRow:
    raw_code: str
    rule: str
    earliest: date
    latest: date
    windows: Sequence[tuple[date, date]] = ()  # every window the rules allow (ambiguous codes have several)
    counted: bool = True  # verified and not withdrawn: the earliest-assembly statement rests on it


@dataclass(frozen=True)
class PhotoReference:
    name: str  # the photo's original file name
    sha256: str  # of its original


@dataclass(frozen=True)
class ComponentRow:
    """A row of the component table (names as the document's disclosure shows them)."""

    exhibit: str
    designator: str
    function: str
    manufacturer: str  # the manufacturer as shown ("Manufacturer A" when it may not be named)
    country: str  # its headquarters country
    part_number: str
    lot_code: str
    distributor: str = ""  # as shown
    date_codes: Sequence[DateCodeRow] = ()
    photos: Sequence[PhotoReference] = ()

    @property
    def bound(self) -> date | None:
        """The day it cannot have been made before: the latest earliest day of its counted readings."""
        days = [reading.earliest for reading in self.date_codes if reading.counted]
        return max(days) if days else None


@dataclass(frozen=True)
class AssemblyStatement:
    """The earliest-assembly inference: date codes bound assembly from below only (parts may be stockpiled)."""

    not_before: date | None  # the latest earliest day of the counted readings; None without any
    readings: int  # how many counted readings it rests on
    components: int  # current components
    without_code: int  # of which without a counted reading


@dataclass(frozen=True)
class SourceRow:
    title: str
    kind: str
    publisher: str
    published_on: date | None
    reliability: str  # "A".."F"
    document_reference: str
    url: str
    archived_sha256: str | None = None
    withdrawn: bool = False


@dataclass(frozen=True)
class ManifestRow:
    path: str  # relative to the package's data/ folder
    sha256: str
    size: int


@dataclass(frozen=True)
class DossierData:
    case_reference: str
    case_title: str
    case_status: str  # display text
    case_summary: str
    legal_basis: Sequence[str]
    opened_on: date | None
    generated_at: datetime  # aware
    generated_by: str
    language: str  # "en" or "uk"
    ledger_size: int
    ledger_head: str  # 64 hex
    checkpoint_signed_at: str
    checkpoint_key: str  # key id
    checkpoint_signature: str  # base64
    public_key_fingerprint: str  # the full SHA-256 of the key's raw bytes (verify.py --key-fingerprint)
    verifier_sha256: str = ""  # of the verify.py a package ships, so the reader can check it first
    # The RFC 3161 timestamps of that checkpoint: (the TSA as its certificate names it, its time in UTC).
    timestamps: Sequence[tuple[str, str]] = ()
    # incidents, killed, wounded, launches, launches_failed_in_flight, failed_in_flight_share (float | None),
    # launches_identified_by_debris, launches_identified_by_trajectory_speed_or_launch_site,
    # by_kind / by_outcome / by_region (dict[str, int]).
    statistics: Mapping[str, Any] = field(default_factory=dict)
    incidents: Sequence[IncidentRow] = ()
    exhibits: Sequence[Exhibit] = ()
    sources: Sequence[SourceRow] = ()
    manifest: Sequence[ManifestRow] = ()
    include_photos: bool = True
    attributions: Sequence[AttributionRow] = ()  # every attribution of the case, whatever its subject
    components: Sequence[ComponentRow] = ()  # the component table (current components)
    assembly: AssemblyStatement | None = None  # None when the case has no components

    @property
    def published_head(self) -> str:
        """The ledger head as written in a dossier or court filing: SIZE:SHA256."""
        return f"{self.ledger_size}:{self.ledger_head}"
