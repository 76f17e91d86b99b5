"""Reads shared by services, tasks and the health report."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from evidence.choices import ExportStatus, PhotoStatus
from evidence.models import Export, Photo


def stuck_photos(*, now: dt.datetime | None = None) -> QuerySet[Photo]:
    """Photos pending or processing for longer than ATTEST_PHOTO_STUCK_MINUTES."""
    cutoff = (now or timezone.now()) - dt.timedelta(minutes=settings.ATTEST_PHOTO_STUCK_MINUTES)
    return Photo.objects.filter(status__in=[PhotoStatus.PENDING, PhotoStatus.PROCESSING], status_changed_at__lt=cutoff)


def stuck_exports(*, now: dt.datetime | None = None) -> QuerySet[Export]:
    """Exports pending or running with no sign of life (queued, claimed, progress) for ATTEST_EXPORT_STUCK_MINUTES."""
    cutoff = (now or timezone.now()) - dt.timedelta(minutes=settings.ATTEST_EXPORT_STUCK_MINUTES)
    return Export.objects.filter(status__in=[ExportStatus.PENDING, ExportStatus.RUNNING], heartbeat_at__lt=cutoff)
