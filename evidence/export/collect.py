"""Gather a case from the database into the plain data the dossier renderer takes.

Previews and thumbnails are reused as they are on disk: originals are never decoded again.
Redaction replaces personal names (collectors, photographers, witnesses, people handing over
exhibits) with "Witness 1", "Witness 2" … consistently through the whole document.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases.choices import IncidentKind, Outcome, Role
from cases.fields import as_names
from cases.models import Case, Entity, SanctionsProvision
from cases.stats import case_statistics
from evidence import custody, filestore
from evidence.choices import DossierLanguage, ItemKind, PhotoStatus, Stance, SubjectType
from evidence.export import layout
from evidence.export.disclosure import Disclosure, Party, disclose
from evidence.export.layout import VERIFY_SCRIPT
from evidence.export.pdf.data import (
    AssemblyStatement,
    AttributionRow,
    ComponentRow,
    CustodyRow,
    DateCodeRow,
    DossierData,
    Exhibit,
    IncidentRow,
    ManifestRow,
    MarkingRow,
    PhotoReference,
    PhotoRow,
    SourceRow,
)
from evidence.export.pdf.labels import LABELS, format_date
from evidence.export.tracefiles import trace_files
from evidence.lib.assembly import ComponentReading, infer_earliest_assembly
from evidence.lib.daterules import Window
from evidence.lib.ledger import format_timestamp, key_fingerprint
from evidence.models import Attribution, Checkpoint, CustodyEvent, EvidenceFile, EvidenceItem, Export, Photo, Source
from evidence.models.components import Component, DateCodeReading
from evidence.models.markings import Manufacturer, Marking
from evidence.selectors import region_on_preview

RESOLUTION = re.compile(r"^Resolution\b", re.IGNORECASE)


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
    if item.kind != ItemKind.COMPONENT:
        return None
    made = ""
    if item.manufactured_on:
        made = _("made %(date)s (%(precision)s)") % {
            "date": item.manufactured_on.isoformat(),
            "precision": item.get_manufactured_precision_display(),
        }
    parts = [item.manufacturer.name if item.manufacturer else "", item.part_number, item.country_of_origin, made]
    return ", ".join(part for part in parts if part) or None


def _attribution_subject(attribution: Attribution, language: str) -> str:
    """What an attribution is about, in the active language: "Case", "Incident: 2 January 2024, Kharkiv"…"""
    kind = str(attribution.get_subject_type_display())
    if attribution.incident is not None:
        incident = attribution.incident
        return f"{kind}: {format_date(incident.occurred_at, language)}, {incident.place_name}".rstrip(", ")
    if attribution.item is not None:
        return f"{kind} {attribution.item.exhibit_number}"
    if attribution.marking is not None:
        marking = attribution.marking
        return f"{kind} {marking.transcription[:60]} ({marking.item.exhibit_number})"
    if attribution.entity is not None:
        return f"{kind}: {attribution.entity.name}"
    return kind


def _attribution_row(attribution: Attribution, language: str) -> AttributionRow:
    return AttributionRow(
        grade=attribution.grade,
        stance=str(attribution.get_stance_display()),
        claim=attribution.claim,
        source_title=attribution.source.title,
        locator=", ".join(part for part in (attribution.page, attribution.paragraph) if part),
        subject=_attribution_subject(attribution, language),
        contradicts=attribution.stance == Stance.CONTRADICTS,
        withdrawn=attribution.withdrawn_at is not None,
    )


def case_attributions(case: Case, viewer, language: str) -> list[AttributionRow]:
    """Every attribution of the case, whatever its subject and stance; withdrawn ones last."""
    rows = (
        Attribution.objects.visible_to(viewer)
        .filter(case=case)
        .select_related("source", "incident", "item", "marking__item", "entity")
        .order_by("source__reliability", "credibility", "pk")
    )
    return sorted((_attribution_row(attribution, language) for attribution in rows), key=lambda row: row.withdrawn)


def exhibits(case: Case, export: Export, redact: Redactor, viewer, local: Callable[[str], Path]) -> Iterator[Exhibit]:
    """The exhibits; `local` gives a stored file's path on this machine (see filestore.fetch)."""
    language = export.language
    items = EvidenceItem.objects.filter(case=case).select_related("parent", "manufacturer").order_by("exhibit_number")
    for item in items:
        done = list(item.photos.filter(status=PhotoStatus.DONE).order_by("pk").values_list("pk", flat=True))
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
                    photo_sha256=marking.photo.original.sha256 if marking.photo is not None else None,
                    photo_name=marking.photo.original_name if marking.photo is not None else "",
                    photo_index=done.index(marking.photo_id) + 1 if marking.photo_id in done else None,
                    photo_count=len(done),
                )
            )
        # About the exhibit itself and about its markings.
        about = (
            Attribution.objects.visible_to(viewer)
            .active()
            .filter(Q(item=item) | Q(marking__item=item))
            .select_related("source", "marking__item")
            .order_by("source__reliability", "credibility", "pk")
        )
        attributions = [_attribution_row(attribution, language) for attribution in about]
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


# --- components, date codes and disclosure ------------------------------------------------------------


def _manufacturer_party(manufacturer: Manufacturer) -> Party:
    return Party(
        role="manufacturer",
        key=manufacturer.pk,
        name=manufacturer.name,
        legal_name=manufacturer.legal_name,
        aliases=tuple(as_names(manufacturer.aliases)),
        may_be_named=manufacturer.may_be_named,
        named_from=manufacturer.named_from,
    )


def _entity_party(entity: Entity, role: str) -> Party:
    return Party(
        role=role,
        key=entity.pk,
        name=entity.name,
        aliases=tuple(as_names(entity.aliases)),
        may_be_named=entity.may_be_named,
        named_from=entity.named_from,
    )


def case_parties(case: Case) -> list[Party]:
    """Every manufacturer and entity the case's documents may print, with its sharing terms.

    Manufacturers of components, markings and exhibits; distributors of components; entities that
    attributions are about, that are sanctions entities of those manufacturers, or that the case lists.
    An entity that distributed a component is lettered as a distributor, any other as an entity.
    """
    manufacturer_ids = set(
        Component.objects.filter(item__case=case, manufacturer__isnull=False).values_list("manufacturer_id", flat=True)
    )
    manufacturer_ids |= set(
        Marking.objects.filter(item__case=case, manufacturer__isnull=False).values_list("manufacturer_id", flat=True)
    )
    manufacturer_ids |= set(
        EvidenceItem.objects.filter(case=case, manufacturer__isnull=False).values_list("manufacturer_id", flat=True)
    )
    manufacturers = list(Manufacturer.objects.filter(pk__in=manufacturer_ids).order_by("pk"))
    distributor_ids = set(
        Component.objects.filter(item__case=case, distributor__isnull=False).values_list("distributor_id", flat=True)
    )
    entity_ids = set(Attribution.objects.filter(case=case, entity__isnull=False).values_list("entity_id", flat=True))
    entity_ids |= {manufacturer.entity_id for manufacturer in manufacturers if manufacturer.entity_id}
    entity_ids |= set(case.entities.values_list("pk", flat=True))
    entities = Entity.objects.filter(pk__in=entity_ids | distributor_ids).order_by("pk")
    parties = [_manufacturer_party(manufacturer) for manufacturer in manufacturers]
    parties += [
        _entity_party(entity, "distributor" if entity.pk in distributor_ids else "entity") for entity in entities
    ]
    return parties


def case_disclosure(case: Case, *, on: date, language: str) -> Disclosure:
    """The names a document of the case dated `on` may print, and the letters of those it may not."""
    return disclose(case_parties(case), on=on, language=language)


def _windows(reading: DateCodeReading) -> tuple[tuple[date, date], ...]:
    windows = []
    for window in reading.windows or ():
        try:
            windows.append((date.fromisoformat(str(window["earliest"])), date.fromisoformat(str(window["latest"]))))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(sorted(set(windows)))


def component_rows(case: Case, disclosure: Disclosure) -> list[ComponentRow]:
    """The component table: one row per current component, in exhibit order (active language)."""
    components = (
        Component.objects.current()
        .filter(item__case=case)
        .select_related("item", "manufacturer", "distributor")
        .order_by("item__exhibit_number", "pk")
    )
    rows = []
    for component in components:
        readings = component.readings.filter(withdrawn_at__isnull=True).order_by("earliest", "pk")
        photos: dict[str, PhotoReference] = {}
        markings = component.markings.filter(withdrawn_at__isnull=True, photo__isnull=False).select_related(
            "photo__original"
        )
        for marking in markings.order_by("pk"):
            sha = marking.photo.original.sha256
            photos.setdefault(sha, PhotoReference(name=marking.photo.original_name, sha256=sha))
        manufacturer = component.manufacturer
        if manufacturer is not None:
            shown = disclosure.shown("manufacturer", manufacturer.pk, manufacturer.name)
        else:
            shown = disclosure.scrub(component.manufacturer_as_marked)
        distributor = component.distributor
        rows.append(
            ComponentRow(
                exhibit=component.item.exhibit_number,
                designator=component.designator,
                function=str(component.get_function_display()),
                manufacturer=shown,
                country=manufacturer.country if manufacturer is not None else "",
                part_number=component.part_number,
                lot_code=component.lot_code,
                distributor=disclosure.shown("distributor", distributor.pk, distributor.name) if distributor else "",
                date_codes=[
                    DateCodeRow(
                        raw_code=reading.raw_code,
                        rule=reading.rule,
                        earliest=reading.earliest,
                        latest=reading.latest,
                        windows=_windows(reading),
                        counted=reading.verified_by_id is not None,
                    )
                    for reading in readings
                ],
                photos=list(photos.values()),
            )
        )
    return rows


def assembly_statement(rows: list[ComponentRow]) -> AssemblyStatement | None:
    """Earliest assembly (evidence.lib.assembly): the latest lower bound of the counted readings (verified,
    not withdrawn; an ambiguous code by its earliest window)."""
    if not rows:
        return None
    readings = [
        ComponentReading(
            component_id=str(index),
            label=f"{row.exhibit} {row.designator}".strip(),
            raw_code=reading.raw_code,
            windows=tuple(
                Window(rule=reading.rule, version="", earliest=earliest, latest=latest, explanation="")
                for earliest, latest in (reading.windows or ((reading.earliest, reading.latest),))
            ),
            verified=reading.counted,
        )
        for index, row in enumerate(rows)
        for reading in row.date_codes
    ]
    inference = infer_earliest_assembly(readings, components_total=len(rows))
    return AssemblyStatement(
        not_before=inference.not_before,
        readings=inference.readings_counted,
        components=inference.components_total,
        without_code=inference.components_without_code,
    )


# Fields that hold hashes, keys, signatures or paths: never free text, never scrubbed.
TECHNICAL_FIELDS = frozenset(
    {
        "ledger_head",
        "checkpoint_signature",
        "checkpoint_key",
        "public_key_fingerprint",
        "verifier_sha256",
        "sha256",
        "photo_sha256",
        "archived_sha256",
        "path",
        "preview_path",
        "thumbnail_path",
        "manifest",
        "language",
    }
)


def _scrubbed(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            item.name: _scrubbed(getattr(value, item.name), scrub)
            for item in dataclasses.fields(value)
            if item.name not in TECHNICAL_FIELDS
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, Mapping):
        return {_scrubbed(key, scrub): _scrubbed(item, scrub) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrubbed(item, scrub) for item in value)
    return value


def scrub_dossier(data: DossierData, disclosure: Disclosure) -> DossierData:
    """The dossier with every name of a party it may not name replaced by its letter, in every text field."""
    if not disclosure.hidden:
        return data
    return _scrubbed(data, disclosure.scrub)


def _generated_by(case: Case, user) -> str:
    """Who asked for the dossier, with their role on the case in the active language: "Olena Kovalenko (Lead)"."""
    name = user.get_full_name() or user.get_username()
    role = case.role_of(user)
    return f"{name} ({Role(role).label})" if role else name


def provision_text(provision: SanctionsProvision, language: str) -> str:
    """A provision as the dossier cites it, in its language: "Резолюція 1718 (2006), п. 8(b)".

    Instruments are recorded in English ("Resolution 1718 (2006)"); the word "Resolution" and "para."
    (gettext, active language) are written in the dossier's language.
    """
    instrument = RESOLUTION.sub(LABELS[language]["resolution"], provision.instrument, count=1)
    if not provision.paragraph:
        return instrument
    return _("%(instrument)s, para. %(paragraph)s") % {"instrument": instrument, "paragraph": provision.paragraph}


def package_manifest(case: Case) -> list[ManifestRow]:
    """The evidence files of the case under the paths they have in its package's data/ folder (layout.py).

    The same files, in the same order, as package.build_package places them (the dossier itself aside).
    """
    rows = []
    photos = Photo.objects.filter(item__case=case).select_related("item", "original")
    for photo in photos.order_by("item__exhibit_number", "pk"):
        stored = photo.original
        path = layout.photo_path(photo.item.exhibit_number, stored.sha256, photo.format)
        rows.append(ManifestRow(path=path, sha256=stored.sha256, size=stored.size))
    kept_files = EvidenceFile.objects.filter(item__case=case).select_related("item", "file")
    for kept in kept_files.order_by("item__exhibit_number", "pk"):
        stored = kept.file
        path = layout.kept_file_path(kept.item.exhibit_number, stored.sha256)
        rows.append(ManifestRow(path=path, sha256=stored.sha256, size=stored.size))
    sources = Source.objects.filter(case=case, archived_copy__isnull=False).select_related("archived_copy")
    for source in sources.order_by("pk"):
        stored = source.archived_copy
        path = layout.source_path(source.pk, stored.sha256, source.archived_copy_name)
        rows.append(ManifestRow(path=path, sha256=stored.sha256, size=stored.size))
    for stored, path in trace_files(case):
        rows.append(ManifestRow(path=path, sha256=stored.sha256, size=stored.size))
    return rows


def dossier_data(export: Export, checkpoint: Checkpoint, *, workdir: Path) -> DossierData:
    """Everything the dossier shows, as of the signed head `checkpoint`.

    Previews and thumbnails are read from disk; from a bucket, they are downloaded into `workdir`.
    """
    case = export.case
    redact = Redactor(export.redact_names, "Witness" if export.language == DossierLanguage.ENGLISH else "Свідок")
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
        attributions = case_attributions(case, export.requested_by, export.language)
        status = case.get_status_display()
        legal_basis = [provision_text(provision, export.language) for provision in case.legal_basis.all()]
        statistics = labelled_statistics(case_statistics(case))
        generated_by = _generated_by(case, export.requested_by)
        disclosure = case_disclosure(case, on=timezone.localdate(), language=export.language)
        components = component_rows(case, disclosure)
    manifest = package_manifest(case)
    public_raw = custody.public_key_raw()
    data = DossierData(
        case_reference=case.reference,
        case_title=case.title,
        case_status=str(status),
        case_summary=case.summary,
        legal_basis=legal_basis,
        opened_on=case.opened_on,
        generated_at=timezone.now(),
        generated_by=generated_by,
        language=export.language,
        ledger_size=checkpoint.size,
        ledger_head=checkpoint.head_hash,
        checkpoint_signed_at=checkpoint.as_signed(case.reference)["signed_at"],
        checkpoint_key=checkpoint.key_id,
        checkpoint_signature=checkpoint.signature,
        public_key_fingerprint=key_fingerprint(public_raw),
        verifier_sha256=filestore.hash_file(VERIFY_SCRIPT)[0],
        timestamps=[
            (token.tsa_name, format_timestamp(token.gen_time)[:19].replace("T", " "))
            for token in checkpoint.timestamps.order_by("gen_time", "tsa_url")
        ],
        statistics=statistics,
        incidents=incidents,
        exhibits=exhibit_list,
        sources=sources,
        manifest=manifest,
        include_photos=export.include_photos,
        attributions=attributions,
        components=components,
        assembly=assembly_statement(components),
    )
    # Whoever may not be named is named nowhere: not in a table, a title, a transcription or a claim.
    return scrub_dossier(data, disclosure)
