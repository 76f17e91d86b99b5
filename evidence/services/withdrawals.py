"""Withdrawal, the steps every withdraw_* service shares: what was recorded in error is flagged, never deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cases.choices import Role
from cases.models import Case, refuse_long_text
from cases.services import require_role
from evidence.models import WithdrawableModel

Withdrawable = TypeVar("Withdrawable", bound=WithdrawableModel)


def withdraw(
    *,
    actor,
    case: Case,
    row: Withdrawable,
    rows: models.QuerySet,
    reason: str,
    say_why: str,
    record_event: Callable[..., Any],
    event_type: str,
) -> Withdrawable:
    """Withdraw a row of a WithdrawableModel; call it inside the service's transaction.

    An analyst's right; the reason (`say_why` asks for it when blank) goes into the ledger. The row is
    read again from `rows` (with what `record_event` reads joined) and locked, so that two withdrawals
    at once record one event. A row already withdrawn comes back as it is, with no event: a retried
    request or an admin action over a mixed selection changes nothing.
    `record_event(row, event_type, actor, extra)` appends the custody event, as marking_event does.
    """
    require_role(case=case, actor=actor, role=Role.ANALYST)
    if not reason.strip():
        raise ValidationError({"reason": say_why})
    refuse_long_text(reason=reason)
    locked = rows.select_for_update().get(pk=row.pk)
    if locked.withdrawn_at is None:
        locked.withdrawn_at, locked.withdrawal_reason = timezone.now(), reason
        locked.save(update_fields=["withdrawn_at", "withdrawal_reason", "updated_at"])
        record_event(locked, event_type, actor, {"reason": reason})
    return locked
