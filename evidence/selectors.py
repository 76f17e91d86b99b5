"""Reads shared by services, tasks and the health report."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from evidence.choices import EventType, ExportStatus, PhotoStatus, SubjectType
from evidence.models import CustodyEvent, EvidenceFile, EvidenceItem, Export, Marking, Photo


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
    from django.db.models import Prefetch

    from evidence.models import Component, DateCodeReading

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
    from evidence.models import Component, DateCodeReading

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
    from evidence.models import Component
    from evidence.services.reports import normalise_part_number

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
    from evidence.lib.assembly import ComponentReading, infer_earliest_assembly
    from evidence.lib.daterules import Window
    from evidence.models import Component, DateCodeReading

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
    from evidence.choices import TraceStatus
    from evidence.models import TraceRequest

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
