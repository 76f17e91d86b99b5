"""The state a custody ledger replays to: the case record and its incidents as last recorded.

Pure: no Django here. A package's data/case.json carries the case and its incidents as the database
held them when the package was built; every change to them appends case.created / case.updated or
incident.created / incident.updated with the subject's full new state (docs/custody-format.md,
section 5), so replaying the package's ledger must give the same values. A correction
(event.corrected) never changes a stored state, so it does not change the replayed one either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CASE_EVENTS = ("case.created", "case.updated")
INCIDENT_EVENTS = ("incident.created", "incident.updated")


@dataclass
class ReplayedState:
    """The latest state of the case (None if the ledger never recorded it) and of each incident, by id."""

    case: dict[str, Any] | None = None
    incidents: dict[int, dict[str, Any]] = field(default_factory=dict)


def replay(events: Iterable[Mapping[str, Any]]) -> ReplayedState:
    """Apply the events in sequence order; each case or incident event replaces its subject's state."""
    state = ReplayedState()
    for event in sorted(events, key=lambda event: event["seq"]):
        payload = event.get("payload") or {}
        if event["type"] in CASE_EVENTS:
            state.case = dict(payload["case"])
        elif event["type"] in INCIDENT_EVENTS:
            state.incidents[event["subject"]["id"]] = dict(payload["incident"])
    return state


def read_ledger(text: str) -> list[dict[str, Any]]:
    """The events of an exported ledger (JSON Lines, section 7), one object a line."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
