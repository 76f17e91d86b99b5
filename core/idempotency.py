"""How long a POST's first response is kept for replay (settings.ATTEST_IDEMPOTENCY_HOURS)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.models import IdempotencyRecord


def replay_cutoff(now: datetime | None = None) -> datetime:
    """Records made before this are expired: their key may be used for a new request."""
    return (now or timezone.now()) - timedelta(hours=settings.ATTEST_IDEMPOTENCY_HOURS)


def expire_records(*, now: datetime | None = None) -> int:
    """Delete the records past their window; the number deleted."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=replay_cutoff(now)).delete()
    return deleted
