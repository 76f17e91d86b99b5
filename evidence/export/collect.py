"""Gather a case from the database into the plain data the dossier renderer takes.

Previews and thumbnails are reused as they are on disk: originals are never decoded again.
Redaction replaces personal names (collectors, photographers, witnesses, people handing over
exhibits) with "Witness 1", "Witness 2" … consistently through the whole document.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases.choices import IncidentKind, Outcome
from cases.models import Case
from cases.stats import case_statistics
from evidence import custody, filestore, services
from evidence.choices import PhotoStatus, SubjectType
from evidence.export.dossier import (
    AttributionRow,
    CustodyRow,
    DossierData,
    Exhibit,
    IncidentRow,
    ManifestRow,
    MarkingRow,
    PhotoRow,
    SourceRow,
)
from evidence.lib.ledger import key_id
from evidence.models import Checkpoint, CustodyEvent, EvidenceItem, Export, Photo, Source
from evidence.services.markings import region_on_preview


class Redactor:
    """Same name, same label: 'Witness 1' stays 'Witness 1' wherever the name appears."""

    def __init__(self, enabled: bool, label: str):
        self.enabled, self.label, self.names = enabled, label, {}

    def __call__(self, name: str) -> str:
        if not self.enabled or not name.strip():
            return name
        key = name.strip().casefold()
        if key not in self.names:
            self.names[key] = f"{self.label} {len(self.names) + 1}"
        return self.names[key]


def _exif_summary(photo: Photo) -> str:
    parts = [" ".join(part for part in (photo.camera_make, photo.camera_model) if part)]
    if photo.exif_taken_at:
        parts.append(photo.exif_taken_at)
    if photo.gps_latitude is not None:
        parts.append(f"GPS {photo.gps_latitude}, {photo.gps_longitude}")
    parts.append(f"{photo.width} x {photo.height} px {photo.get_format_display()}")
    return "; ".join(part for part in parts if part)


def _photo_rows(item: EvidenceItem, redact: Redactor, local: Callable[[str], Path]) -> Iterator[PhotoRow]:
    for photo in item.photos.filter(status=PhotoStatus.DONE).select_related("original").order_by("pk"):
        summary = _exif_summary(photo)
        if photo.photographer:
            summary += f"; {redact(photo.photographer)}"
        yield PhotoRow(
            preview_path=local(photo.derivative_path("preview")),
            preview_width=photo.preview_width,
            preview_height=photo.preview_height,
            sha256=photo.original.sha256,
            original_name=photo.original_name,
            exif_summary=summary,
        )


def _custody_rows(item: EvidenceItem, redact: Redactor) -> list[CustodyRow]:
    events = CustodyEvent.objects.filter(
        case_id=item.case_id, subject_type=SubjectType.EVIDENCE_ITEM, subject_id=item.pk
    ).order_by("sequence")
    rows = []
    for event in events:
        details = custody.describe_event(event)
        transfer = event.payload_data.get("transfer")
        if transfer and redact.enabled:
            details = f"{redact(transfer.get('from') or '?')} → {redact(transfer.get('to') or '?')}"
        rows.append(
            CustodyRow(
                sequence=event.sequence,
                occurred_at=event.occurred_at,
                event=event.get_event_type_display(),
                actor=event.actor_name or _("system"),
                details=str(details),
            )
        )
    return rows


def labelled_statistics(stats: dict) -> dict:
    """The case statistics with incident kinds and outcomes by name, in the active language, not by code."""
    names = {"by_kind": dict(IncidentKind.choices), "by_outcome": dict(Outcome.choices)}
    for key, labels in names.items():
        stats[key] = {str(labels.get(code, code)): count for code, count in (stats.get(key) or {}).items()}
    return stats


def _component_summary(item: EvidenceItem) -> str | None:
    if item.kind != "component":
        return None
    made = ""
    if item.manufactured_on:
        made = _("made %(date)s (%(precision)s)") % {
            "date": item.manufactured_on.isoformat(),
            "precision": item.get_manufactured_precision_display(),
        }
    parts = [item.manufacturer.name if item.manufacturer else "", item.part_number, item.country_of_origin, made]
    return ", ".join(part for part in parts if part) or None


def exhibits(case: Case, export: Export, redact: Redactor, viewer, local: Callable[[str], Path]) -> Iterator[Exhibit]:
    """The exhibits; `local` gives a stored file's path on this machine (see filestore.fetch)."""
    items = EvidenceItem.objects.filter(case=case).select_related("parent", "manufacturer").order_by("exhibit_number")
    for item in items:
        first = item.photos.filter(status=PhotoStatus.DONE).select_related("original").order_by("pk").first()
        markings = []
        for marking in item.markings.filter(withdrawn_at__isnull=True).select_related(
            "photo__original", "manufacturer", "verified_by"
        ):
            interpretation = ", ".join(
                part
                for part in (
                    marking.manufacturer.name if marking.manufacturer else "",
                    marking.part_number,
                    marking.interpreted_date.isoformat() if marking.interpreted_date else "",
                )
                if part
            )
            photo_ready = marking.photo is not None and marking.photo.status == PhotoStatus.DONE
            markings.append(
                MarkingRow(
                    transcription=marking.transcription,
                    marking_type=marking.get_marking_type_display(),
                    interpretation=interpretation,
                    confidence=marking.get_confidence_display(),
                    verified_by=marking.verified_by.get_username() if marking.verified_by else None,
                    preview_path=local(marking.photo.derivative_path("preview")) if photo_ready else None,
                    region_on_preview=region_on_preview(marking) if photo_ready else None,
                )
            )
        attributions = [
            AttributionRow(
                grade=attribution.grade,
                stance=attribution.get_stance_display(),
                claim=attribution.claim,
                source_title=attribution.source.title,
                locator=", ".join(part for part in (attribution.page, attribution.paragraph) if part),
            )
            for attribution in services.attributions_of(item, viewer=viewer).attributions
        ]
        yield Exhibit(
            number=item.exhibit_number,
            title=item.title,
            kind=item.get_kind_display(),
            description=item.description,
            status=item.get_status_display(),
            custodian=redact(item.custodian) if redact.enabled else item.custodian,
            parent_number=item.parent.exhibit_number if item.parent else None,
            component=_component_summary(item),
            thumbnail_path=local(first.derivative_path("thumbnail")) if first else None,
            custody=_custody_rows(item, redact),
            photos=list(_photo_rows(item, redact, local)) if export.include_photos else [],
            markings=markings,
            attributions=attributions,
        )


def dossier_data(export: Export, checkpoint: Checkpoint, *, workdir: Path) -> DossierData:
    """Everything the dossier shows, as of the signed head `checkpoint`.

    Previews and thumbnails are read from disk; from a bucket, they are downloaded into `workdir`.
    """
    case = export.case
    redact = Redactor(export.redact_names, "Witness" if export.language == "en" else "Свідок")
    with translation.override(export.language):
        incidents = [
            IncidentRow(
                occurred_at=incident.occurred_at,
                kind=incident.get_kind_display(),
                place=incident.place_name,
                region=incident.region,
                latitude=float(incident.latitude) if incident.latitude is not None else None,
                longitude=float(incident.longitude) if incident.longitude is not None else None,
                weapon=incident.weapon_system.name if incident.weapon_system else "",
                outcome=incident.get_outcome_display(),
                killed=incident.killed,
                wounded=incident.wounded,
            )
            for incident in case.incidents.select_related("weapon_system").order_by("occurred_at", "pk")
        ]
        sources = [
            SourceRow(
                title=source.title,
                kind=source.get_kind_display(),
                publisher=source.publisher,
                published_on=source.published_on,
                reliability=source.reliability,
                document_reference=source.document_reference,
                url=source.url,
                archived_sha256=source.archived_copy.sha256 if source.archived_copy else None,
                withdrawn=source.withdrawn_at is not None,
            )
            for source in Source.objects.filter(case=case).select_related("archived_copy").order_by("pk")
        ]
        local = functools.partial(filestore.fetch, folder=workdir)
        exhibit_list = list(exhibits(case, export, redact, viewer=export.requested_by, local=local))
        status = case.get_status_display()
        legal_basis = [str(provision) for provision in case.legal_basis.all()]  # "para." in the dossier's language
        statistics = labelled_statistics(case_statistics(case))
    manifest = [
        ManifestRow(path=stored.path, sha256=stored.sha256, size=stored.size)
        for stored in custody.case_files(case).exclude(kind="export")
    ]
    public_raw = custody.public_key_raw()
    return DossierData(
        case_reference=case.reference,
        case_title=case.title,
        case_status=str(status),
        case_summary=case.summary,
        legal_basis=legal_basis,
        opened_on=case.opened_on,
        generated_at=timezone.now(),
        generated_by=export.requested_by.get_full_name() or export.requested_by.get_username(),
        language=export.language,
        ledger_size=checkpoint.size,
        ledger_head=checkpoint.head_hash,
        checkpoint_signed_at=checkpoint.as_signed(case.reference)["signed_at"],
        checkpoint_key=checkpoint.key_id,
        checkpoint_signature=checkpoint.signature,
        public_key_fingerprint=key_id(public_raw),
        statistics=statistics,
        incidents=incidents,
        exhibits=exhibit_list,
        sources=sources,
        manifest=manifest,
        include_photos=export.include_photos,
    )
