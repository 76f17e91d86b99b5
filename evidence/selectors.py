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
