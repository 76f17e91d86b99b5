"""Case statistics on a hand-checked data set."""

from datetime import UTC, datetime

import pytest

from cases.stats import case_statistics, compute_case_statistics
from tests.factories import CaseFactory, IncidentFactory

# kind, outcome, region, killed, wounded, identification basis
HAND_CHECKED = [
    ("missile_strike", "impact", "Kharkiv", 2, 10, ["debris"]),
    ("missile_strike", "impact", "Kyiv", 1, 5, ["debris", "trajectory"]),
    ("launch", "failed_in_flight", "", 0, 0, ["trajectory", "launch_site"]),
    ("failure_in_flight", "unknown", "", 0, 0, ["speed"]),
    ("interception", "intercepted", "Kyiv", 0, 1, ["intelligence"]),
    ("shipment", "delivered", "", 0, 0, []),
]


def as_rows(table):
    keys = ("kind", "outcome", "region", "killed", "wounded", "identification_basis")
    return [dict(zip(keys, row, strict=True)) for row in table]


def test_figures_of_the_hand_checked_set():
    stats = compute_case_statistics(as_rows(HAND_CHECKED))
    assert stats["incidents"] == 6
    assert stats["launches"] == 5  # the shipment is not a launch
    assert stats["killed"] == 3
    assert stats["wounded"] == 16
    assert stats["launches_failed_in_flight"] == 2  # by kind (row 4) and by outcome (row 3)
    assert stats["failed_in_flight_share"] == 0.4
    assert stats["launches_identified_by_debris"] == 2
    assert stats["launches_identified_by_trajectory_speed_or_launch_site"] == 2  # rows 3 and 4, not row 2
    assert stats["launches_by_identification_basis"]["trajectory"] == 2
    assert stats["by_kind"] == {
        "failure_in_flight": 1, "interception": 1, "launch": 1, "missile_strike": 2, "shipment": 1,
    }  # fmt: skip
    assert stats["by_outcome"]["impact"] == 2
    assert stats["by_region"] == {"": 3, "Kharkiv": 1, "Kyiv": 2}


def test_no_launches_gives_no_share():
    stats = compute_case_statistics([])
    assert stats["launches"] == 0
    assert stats["failed_in_flight_share"] is None


def test_about_half_of_fifty_launches_failed_comes_out_of_the_data():
    rows = as_rows([("missile_strike", "impact", "Kyiv", 0, 0, ["debris"])] * 21)
    rows += as_rows([("failure_in_flight", "failed_in_flight", "", 0, 0, ["trajectory"])] * 24)
    rows += as_rows([("missile_strike", "impact", "Donetsk", 0, 0, ["speed"])] * 5)
    stats = compute_case_statistics(rows)
    assert stats["launches"] == 50
    assert stats["failed_in_flight_share"] == 0.48


@pytest.mark.django_db
def test_case_statistics_reads_only_that_case():
    case = CaseFactory()
    for kind, outcome, region, killed, wounded, basis in HAND_CHECKED:
        IncidentFactory(
            case=case, kind=kind, outcome=outcome, region=region, killed=killed, wounded=wounded,
            identification_basis=basis, occurred_at=datetime(2024, 1, 2, tzinfo=UTC),
        )  # fmt: skip
    IncidentFactory(killed=100)  # another case
    assert case_statistics(case) == compute_case_statistics(as_rows(HAND_CHECKED))
