"""The case record and its incidents in the custody ledger.

cases.services writes cases and incidents and calls these (installed by evidence.apps: cases does not
import evidence) inside the transaction of each change, so every state of a case and of
its incidents that a dossier's statistics or a package's case.json may show is in the hashed chain.
"""

from __future__ import annotations

from typing import Any

from cases.models import Case, Incident
from evidence import custody
from evidence.choices import EventType, SubjectType
from evidence.models import CustodyEvent

# The row's own timestamps change with every save; the event's recorded_at says when.
TIMESTAMPS = ("created_at", "updated_at")


def lock(case: Case) -> None:
    """Take the ledger's append lock on the case first, so the state read before a change is current."""
    custody.lock_case(case)


def case_state(case: Case) -> dict[str, Any]:
    """The case's full state: every stored field, and its legal basis and entities as sorted ids."""
    state = custody.snapshot(case, exclude=TIMESTAMPS)
    state["legal_basis"] = sorted(case.legal_basis.values_list("pk", flat=True))
    state["entities"] = sorted(case.entities.values_list("pk", flat=True))
    return state


def incident_state(incident: Incident) -> dict[str, Any]:
    """The incident's full state (casualties and identification basis included), entities as sorted ids."""
    state = custody.snapshot(incident, exclude=TIMESTAMPS)
    state["entities"] = sorted(incident.entities.values_list("pk", flat=True))
    return state


def incident_label(incident: Incident) -> str:
    """The ledger's name of an incident: not its display text, which follows the reader's language."""
    return f"incident {incident.pk}"


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(name for name in after.keys() | before.keys() if before.get(name) != after.get(name))


def _record(*, case: Case, key: str, state: dict[str, Any], before: dict[str, Any] | None, created: str,
            updated: str, subject_type: str, subject_id: int, label: str, actor) -> CustodyEvent | None:  # fmt: skip
    """Append `created` (no `before`) or `updated` with the new state; an update that changed nothing appends
    nothing. Call inside the transaction of the change."""
    payload: dict[str, Any] = {key: state}
    event_type = created
    if before is not None:
        changed = changed_fields(before, state)
        if not changed:
            return None
        payload["changed"] = changed
        event_type = updated
    return custody.append_event(
        case=case, event_type=event_type, subject_type=subject_type, subject_id=subject_id,
        subject_label=label, actor=actor, payload=payload,
    )  # fmt: skip


def record_case(*, case: Case, actor, before: dict[str, Any] | None = None) -> CustodyEvent | None:
    """Append case.created (no `before`) or case.updated with the case's new state."""
    return _record(
        case=case, key="case", state=case_state(case), before=before, created=EventType.CASE_CREATED,
        updated=EventType.CASE_UPDATED, subject_type=SubjectType.CASE, subject_id=case.pk, label=case.reference,
        actor=actor,
    )  # fmt: skip


def record_incident(*, incident: Incident, actor, before: dict[str, Any] | None = None) -> CustodyEvent | None:
    """Append incident.created (no `before`) or incident.updated with the incident's new state."""
    return _record(
        case=incident.case, key="incident", state=incident_state(incident), before=before,
        created=EventType.INCIDENT_CREATED, updated=EventType.INCIDENT_UPDATED, subject_type=SubjectType.INCIDENT,
        subject_id=incident.pk, label=incident_label(incident), actor=actor,
    )  # fmt: skip
