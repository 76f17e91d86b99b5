"""Case statistics from incident rows: a pure function, so the figures can be checked by hand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from cases.choices import FLIGHT_BASES, LAUNCH_KINDS, IdentificationBasis, IncidentKind, Outcome

STAT_FIELDS = ("kind", "outcome", "region", "killed", "wounded", "identification_basis")


def _is_failure_in_flight(row: Mapping[str, Any]) -> bool:
    return row["kind"] == IncidentKind.FAILURE_IN_FLIGHT or row["outcome"] == Outcome.FAILED_IN_FLIGHT


def compute_case_statistics(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    rows = list(rows)
    launches = [row for row in rows if row["kind"] in LAUNCH_KINDS]
    failed = sum(1 for row in launches if _is_failure_in_flight(row))
    bases = [set(row["identification_basis"] or ()) for row in launches]
    by_debris = sum(1 for basis in bases if IdentificationBasis.DEBRIS in basis)
    by_flight_only = sum(1 for basis in bases if IdentificationBasis.DEBRIS not in basis and basis & set(FLIGHT_BASES))
    return {
        "incidents": len(rows),
        "by_kind": dict(sorted(Counter(row["kind"] for row in rows).items())),
        "by_outcome": dict(sorted(Counter(row["outcome"] for row in rows).items())),
        "by_region": dict(sorted(Counter(row["region"] or "" for row in rows).items())),
        "killed": sum(row["killed"] for row in rows),
        "wounded": sum(row["wounded"] for row in rows),
        "launches": len(launches),
        "launches_failed_in_flight": failed,
        "failed_in_flight_share": round(failed / len(launches), 4) if launches else None,
        "launches_identified_by_debris": by_debris,
        "launches_identified_by_trajectory_speed_or_launch_site": by_flight_only,
        "launches_by_identification_basis": {
            basis: sum(1 for found in bases if basis in found) for basis in IdentificationBasis.values
        },
    }


def case_statistics(case) -> dict[str, Any]:
    return compute_case_statistics(case.incidents.values(*STAT_FIELDS))
