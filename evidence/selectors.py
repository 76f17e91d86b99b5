"""Reads of evidence shared by services, tasks, exports, the API and the admin (writes are in evidence.services).

Nothing here writes, or imports evidence.services, evidence.tasks or evidence.export.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, Entity, Incident
from evidence.choices import (
    AttributionSubject,
    EventType,
    ExportStatus,
    ItemKind,
    MarkingType,
    PhotoStatus,
    Stance,
    SubjectType,
    TraceStatus,
)
from evidence.lib.assembly import ComponentReading, infer_earliest_assembly
from evidence.lib.datecodes import DateReading, parse_date_code
from evidence.lib.daterules import Window
from evidence.lib.imaging import display_size, display_to_original, hamming_distance, original_to_display
from evidence.models import (
    Attribution,
    Component,
    CustodyEvent,
    DateCodeReading,
    EvidenceFile,
    EvidenceItem,
    Export,
    Marking,
    Photo,
    TraceRequest,
)


def stuck_photos(*, now: dt.datetime | None = None) -> QuerySet[Photo]:
    """Photos pending or processing for longer than ATTEST_PHOTO_STUCK_MINUTES."""
    cutoff = (now or timezone.now()) - dt.timedelta(minutes=settings.ATTEST_PHOTO_STUCK_MINUTES)
    return Photo.objects.filter(status__in=[PhotoStatus.PENDING, PhotoStatus.PROCESSING], status_changed_at__lt=cutoff)


def stuck_exports(*, now: dt.datetime | None = None) -> QuerySet[Export]:
    """Exports pending or running with no sign of life (queued, claimed, progress) for ATTEST_EXPORT_STUCK_MINUTES."""
    cutoff = (now or timezone.now()) - dt.timedelta(minutes=settings.ATTEST_EXPORT_STUCK_MINUTES)
    return Export.objects.filter(status__in=[ExportStatus.PENDING, ExportStatus.RUNNING], heartbeat_at__lt=cutoff)


# --- The case overview (evidence.admin.overview): each read is one query, whatever the case holds. ----


def last_fixity_check(case) -> CustodyEvent | None:
    """The newest fixity verdict recorded in the case's ledger, or None if it was never checked."""
    return CustodyEvent.objects.filter(case=case, event_type=EventType.FIXITY_CHECK).order_by("-sequence").first()


def _count_of(rows: QuerySet, field: str) -> Coalesce:
    rows = rows.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk"))
    return Coalesce(Subquery(rows.values("n"), output_field=IntegerField()), 0)


def exhibits_overview(case) -> QuerySet[EvidenceItem]:
    """The case's exhibits with their photo and (standing) marking counts and the first processed photo (a thumbnail).

    Counted in subqueries, not joins: joining both photos and markings multiplies the rows by each other.
    """
    first_photo = Photo.objects.filter(item=OuterRef("pk"), status=PhotoStatus.DONE).order_by("uploaded_at", "pk")
    return (
        EvidenceItem.objects.filter(case=case)
        .annotate(
            photo_count=_count_of(Photo.objects.all(), "item"),
            marking_count=_count_of(Marking.objects.filter(withdrawn_at__isnull=True), "item"),
            thumbnail_photo_id=Subquery(first_photo.values("pk")[:1]),
        )
        .order_by("exhibit_number")
    )


def photo_positions(case) -> QuerySet[Photo]:
    """Photos of the case whose EXIF gave a GPS position, with their exhibit."""
    return (
        Photo.objects.filter(item__case=case, gps_latitude__isnull=False, gps_longitude__isnull=False)
        .select_related("item")
        .only("pk", "original_name", "gps_latitude", "gps_longitude", "item__exhibit_number")
        .order_by("pk")
    )


def subjects_by_exhibit(case) -> dict[tuple[str, int], int]:
    """(subject type, id) -> exhibit id for every photo, marking and kept file of the case: whose exhibit an
    event is about."""
    found: dict[tuple[str, int], int] = {}
    for kind, model in (
        (SubjectType.PHOTO, Photo),
        (SubjectType.MARKING, Marking),
        (SubjectType.EVIDENCE_FILE, EvidenceFile),
    ):
        for subject_id, item_id in model.objects.filter(item__case=case).values_list("pk", "item_id"):
            found[(kind, subject_id)] = item_id
    return found


CUSTODY_EVENTS_SHOWN = 50  # the overview's timeline; the ledger's own list pages through them all


def custody_events(case, *, subjects: dict[tuple[str, int], int] | None = None, exhibit: int | None = None,
                   event_type: str = "", limit: int = CUSTODY_EVENTS_SHOWN) -> list[CustodyEvent]:  # fmt: skip
    """The case's newest custody events, optionally about one exhibit (itself, its photos and markings)
    and of one type. `subjects` is subjects_by_exhibit(case), needed only to filter by exhibit."""
    events = CustodyEvent.objects.filter(case=case).order_by("-sequence")
    if event_type:
        events = events.filter(event_type=event_type)
    if exhibit is not None:
        about = Q(subject_type=SubjectType.EVIDENCE_ITEM, subject_id=exhibit)
        for kind in (SubjectType.PHOTO, SubjectType.MARKING, SubjectType.EVIDENCE_FILE):
            ids = [pk for (found, pk), item in (subjects or {}).items() if found == kind and item == exhibit]
            if ids:
                about |= Q(subject_type=kind, subject_id__in=ids)
        events = events.filter(about)
    return list(events[:limit])


# --- Components, date codes and trace requests (shared by the API, the admin and the dossier) ------------


def component_table(case):
    """The case's standing components, one row each, with exhibit, manufacturer, distributor, and the
    standing markings and readings prefetched; ordered by exhibit, then as recorded."""
    return (
        Component.objects.current()
        .filter(item__case=case)
        .select_related("item", "manufacturer", "distributor")
        .prefetch_related(
            Prefetch("markings", queryset=Marking.objects.filter(withdrawn_at__isnull=True).order_by("pk")),
            Prefetch("readings", queryset=DateCodeReading.objects.filter(withdrawn_at__isnull=True).order_by("pk")),
        )
        .order_by("item__exhibit_number", "pk")
    )


def _tally(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


def component_counts(case) -> dict:
    """How many standing components the case has, by headquarters country and by manufacturer (linked
    manufacturers; "unknown" for none or a blank country), and how many have a counted (verified, standing)
    date-code reading."""
    rows = list(
        Component.objects.current()
        .filter(item__case=case)
        .values_list("pk", "manufacturer__name", "manufacturer__country")
    )
    with_code = set(
        DateCodeReading.objects.counted()
        .filter(component__in=[pk for pk, _name, _country in rows])
        .values_list("component_id", flat=True)
    )
    total = len(rows)
    return {
        "total": total,
        "by_country": _tally(country or "unknown" for _pk, _name, country in rows),
        "by_manufacturer": _tally(name or "unknown" for _pk, name, _country in rows),
        "with_readable_code": len(with_code),
        "share_with_code": len(with_code) / total if total else None,
    }


def seen_in_other_cases(component, *, viewer) -> list:
    """Standing components of other cases the viewer can see with the same part number (compared without
    case, spaces or dashes) and, when both have one, the same lot code."""
    number = normalise_part_number(component.part_number)
    if not number:
        return []
    lot = normalise_part_number(component.lot_code)
    candidates = (
        Component.objects.visible_to(viewer)
        .current()
        .exclude(item__case=component.item.case_id)
        .exclude(part_number="")
        .select_related("item__case", "manufacturer")
        .order_by("item__case__reference", "item__exhibit_number", "pk")
    )
    return [
        other
        for other in candidates
        if normalise_part_number(other.part_number) == number
        and not (lot and other.lot_code and normalise_part_number(other.lot_code) != lot)
    ]


def assembly_inference(case, *, item=None):
    """The earliest-assembly inference (evidence.lib.assembly) over the case's standing components, or those
    of one exhibit and the items taken from it. Only counted readings (verified, standing) are handed over,
    so an unverified reading can never move the bound."""
    components = Component.objects.current().filter(item__case=case)
    if item is not None:
        components = components.filter(Q(item=item) | Q(item__parent=item))
    readings = (
        DateCodeReading.objects.counted()
        .filter(component__in=components)
        .select_related("component__item")
        .order_by("component__item__exhibit_number", "component_id", "pk")
    )
    return infer_earliest_assembly(
        [
            ComponentReading(
                component_id=str(reading.component_id),
                label=str(reading.component),  # "EX-0004 U2: AD7541A", as the team names the part
                raw_code=reading.raw_code,
                windows=tuple(
                    Window(
                        window["rule"],
                        window["version"],
                        dt.date.fromisoformat(window["earliest"]),
                        dt.date.fromisoformat(window["latest"]),
                        "",
                    )
                    for window in reading.windows
                ),
                verified=True,
            )
            for reading in readings
        ],
        components.count(),
    )


def trace_requests_due(*, viewer=None, case=None, today: dt.date | None = None, days: int = 7):
    """Sent trace requests whose answer is due within `days` of today (or already past due but not yet
    marked), and those marked NO_ANSWER; visible to `viewer` when one is given. Soonest due first."""
    today = today or timezone.localdate()
    requests = TraceRequest.objects.all() if viewer is None else TraceRequest.objects.visible_to(viewer)
    if case is not None:
        requests = requests.filter(case=case)
    return (
        requests.filter(
            Q(status=TraceStatus.SENT, due_on__lte=today + dt.timedelta(days=days)) | Q(status=TraceStatus.NO_ANSWER)
        )
        .select_related("case")
        .order_by("due_on", "pk")
    )


# --- Attributions, near duplicates, date readings and regions (the API, the admin and the exports show them) --


@dataclass(frozen=True)
class SubjectAttributions:
    """What every subject shows: its active attributions with grades, and whether they disagree."""

    attributions: list[Attribution]

    @property
    def contradicted(self) -> bool:
        stances = {attribution.stance for attribution in self.attributions}
        return {Stance.SUPPORTS, Stance.CONTRADICTS} <= stances


def attributions_of(subject, *, viewer) -> SubjectAttributions:
    """Active attributions about a case, incident, item, marking or entity, visible to the viewer."""
    queryset = Attribution.objects.visible_to(viewer).active().select_related("source")
    if isinstance(subject, Case):
        queryset = queryset.filter(case=subject, subject_type=AttributionSubject.CASE)
    else:
        relation = {Incident: "incident", EvidenceItem: "item", Marking: "marking", Entity: "entity"}[type(subject)]
        queryset = queryset.filter(**{relation: subject})
    return SubjectAttributions(list(queryset.order_by("source__reliability", "credibility", "pk")))


def near_duplicates(*, photo: Photo, viewer, max_distance: int | None = None) -> list[tuple[Photo, int]]:
    """Photos the viewer can see whose pHash lies within the distance of this one, nearest first."""
    if not photo.phash:
        return []
    max_distance = settings.ATTEST_NEAR_DUPLICATE_DISTANCE if max_distance is None else max_distance
    candidates = (
        Photo.objects.visible_to(viewer)
        .exclude(pk=photo.pk)
        .exclude(phash="")
        .select_related("item__case", "original")
        .only(
            "id",
            "phash",
            "original_name",
            "item__exhibit_number",
            "item__case__reference",
            "original__sha256",
        )
    )
    found = [(other, hamming_distance(photo.phash, other.phash)) for other in candidates.iterator()]
    return sorted(
        [(other, distance) for other, distance in found if distance <= max_distance], key=lambda pair: pair[1]
    )


def date_readings(marking: Marking, *, not_after: dt.date | None = None) -> list[DateReading]:
    """Every reading of a date-code marking (never a guess), bounded by the item's recovery."""
    if marking.marking_type != MarkingType.DATE_CODE:
        return []
    recovered = marking.item.recovered_at
    limit = not_after or (timezone.localdate(recovered) if recovered else timezone.localdate())
    return parse_date_code(marking.transcription, not_after=limit)


def _preview_scale(photo: Photo) -> tuple[float, float, tuple[int, int]]:
    """How preview pixels map to the upright image at the original's resolution."""
    if not photo.preview_width:
        raise ValidationError({"region": _("The photo has no preview yet; wait until it is processed.")})
    upright = display_size((photo.width, photo.height), photo.orientation)
    return upright[0] / photo.preview_width, upright[1] / photo.preview_height, upright


def region_from_preview(*, photo: Photo, rect: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """A rectangle drawn on the upright preview, in the original's stored pixel coordinates."""
    scale_x, scale_y, upright = _preview_scale(photo)
    x, y, width, height = rect
    left, top = max(0, round(x * scale_x)), max(0, round(y * scale_y))
    right, bottom = min(upright[0], round((x + width) * scale_x)), min(upright[1], round((y + height) * scale_y))
    if right <= left or bottom <= top:
        raise ValidationError({"region": _("Draw a rectangle over the photo.")})
    return display_to_original(
        (left, top, right - left, bottom - top),
        orientation=photo.orientation,
        original_size=(photo.width, photo.height),
    )


def region_on_preview(marking: Marking) -> tuple[int, int, int, int] | None:
    """Where a marking's region shows on the upright preview (for outlining it)."""
    if marking.region is None or marking.photo is None or not marking.photo.preview_width:
        return None
    photo = marking.photo
    scale_x, scale_y, _upright = _preview_scale(photo)
    x, y, width, height = original_to_display(
        marking.region, orientation=photo.orientation, original_size=(photo.width, photo.height)
    )
    return round(x / scale_x), round(y / scale_y), round(width / scale_x), round(height / scale_y)


# --- The sanctions question: whose components, made when, and where else they were seen ------------------


@dataclass
class Group:
    key: str
    count: int = 0
    latest_manufacture: dt.date | None = None
    made_after: int = 0
    exhibits: list[str] = field(default_factory=list)

    def add(self, component: EvidenceItem, after: dt.date | None) -> None:
        self.count += 1
        self.exhibits.append(component.exhibit_number)
        made = component.manufactured_on
        if made and (self.latest_manufacture is None or made > self.latest_manufacture):
            self.latest_manufacture = made
        if made_after(component, after):
            self.made_after += 1


def made_after(component: EvidenceItem, after: dt.date | None) -> bool:
    """Made after the date for certain: the period it is dated to starts after it."""
    return after is not None and component.manufactured_on is not None and component.manufactured_on > after


def sanctions_report(case: Case, *, after: dt.date | None = None) -> dict:
    """Components grouped by country of origin and by manufacturer, with counts, the latest date of
    manufacture, and which were made after `after` (e.g. the day a restriction was adopted)."""
    components = list(
        EvidenceItem.objects.filter(case=case, kind=ItemKind.COMPONENT)
        .select_related("manufacturer", "parent")
        .order_by("exhibit_number")
    )
    by_country: dict[str, Group] = {}
    by_manufacturer: dict[str, Group] = {}
    rows = []
    for component in components:
        country = component.country_of_origin or (component.manufacturer.country if component.manufacturer else "")
        maker = component.manufacturer.name if component.manufacturer else ""
        by_country.setdefault(country or "unknown", Group(country or "unknown")).add(component, after)
        by_manufacturer.setdefault(maker or "unknown", Group(maker or "unknown")).add(component, after)
        rows.append(
            {
                "exhibit": component.exhibit_number,
                "title": component.title,
                "taken_from": component.parent.exhibit_number if component.parent else "",
                "manufacturer": maker,
                "sanctioned_entity": bool(component.manufacturer and component.manufacturer.entity_id),
                "part_number": component.part_number,
                "country_of_origin": country,
                "manufactured_on": component.manufactured_on,
                "manufactured_precision": component.manufactured_precision,
                "made_after": made_after(component, after),
            }
        )

    def ordered(groups: dict[str, Group]) -> list[dict]:
        return [
            {
                "key": group.key,
                "count": group.count,
                "latest_manufacture": group.latest_manufacture,
                "made_after": group.made_after,
                "exhibits": group.exhibits,
            }
            for group in sorted(groups.values(), key=lambda group: (-group.count, group.key))
        ]

    return {
        "case": case.reference,
        "after": after,
        "components": len(components),
        "by_country": ordered(by_country),
        "by_manufacturer": ordered(by_manufacturer),
        "rows": rows,
    }


def normalise_part_number(text: str) -> str:
    """Part numbers compare without case, spaces or dashes: 'AD-7541 A' equals 'ad7541a'."""
    return "".join(character for character in text.upper() if character.isalnum())


def seen_elsewhere(item: EvidenceItem, *, viewer) -> list[dict]:
    """The same part number or lot seen in other cases the viewer can see."""
    numbers = {item.part_number} | set(
        Marking.objects.filter(item=item, withdrawn_at__isnull=True)
        .exclude(part_number="")
        .values_list("part_number", flat=True)
    )
    lots = set(
        Marking.objects.filter(item=item, marking_type=MarkingType.LOT, withdrawn_at__isnull=True).values_list(
            "transcription", flat=True
        )
    )
    wanted_numbers = {normalise_part_number(number) for number in numbers if number}
    wanted_lots = {normalise_part_number(lot) for lot in lots if lot}
    if not wanted_numbers and not wanted_lots:
        return []
    found: dict[tuple[int, str], set[str]] = defaultdict(set)
    candidates = (
        Marking.objects.visible_to(viewer)
        .exclude(item__case=item.case_id)
        .filter(withdrawn_at__isnull=True)
        .filter(Q(marking_type=MarkingType.LOT) | ~Q(part_number=""))
        .select_related("item__case")
    )
    for marking in candidates:
        if wanted_numbers and normalise_part_number(marking.part_number) in wanted_numbers:
            found[(marking.item_id, "part number")].add(marking.part_number)
        if marking.marking_type == MarkingType.LOT and normalise_part_number(marking.transcription) in wanted_lots:
            found[(marking.item_id, "lot")].add(marking.transcription)
    items = EvidenceItem.objects.visible_to(viewer).exclude(case=item.case_id).exclude(part_number="")
    for other in items.select_related("case"):
        if normalise_part_number(other.part_number) in wanted_numbers:
            found[(other.pk, "part number")].add(other.part_number)
    others = {other.pk: other for other in EvidenceItem.objects.filter(pk__in={key[0] for key in found})}
    return [
        {
            "item": others[item_id].pk,
            "case": others[item_id].case.reference,
            "exhibit": others[item_id].exhibit_number,
            "match": match,
            "values": sorted(values),
        }
        for (item_id, match), values in sorted(found.items())
    ]
