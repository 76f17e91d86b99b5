"""Earliest-assembly inference: a property test, a hand-checked KN-23-like fixture, ambiguity and the empty case.

Expected dates and counts are literals worked out by hand, never computed by the code under test.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.lib.assembly import (
    CAVEAT,
    NO_BOUND_CAVEAT,
    ComponentReading,
    format_not_before,
    infer_earliest_assembly,
    share_in_years,
)
from evidence.lib.daterules import Window, read_code


def _window(earliest: date, latest: date, rule: str = "TEST") -> Window:
    return Window(rule, "1", earliest, latest, "hand-made window")


def _reading(component_id: str, *spans: tuple[date, date], verified: bool = True) -> ComponentReading:
    windows = tuple(_window(a, b) for a, b in spans)
    return ComponentReading(component_id, f"part {component_id}", "n/a", windows, verified)


# --- (1) property: more verified evidence never moves the bound earlier; unverified never moves it ---------------

_spans = st.builds(
    lambda start, days: (start, start + timedelta(days=days)),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=400),
)
_readings = st.builds(
    lambda spans, verified, n: ComponentReading(
        f"c{n}", "label", "code", tuple(_window(a, b) for a, b in spans), verified
    ),
    st.lists(_spans, min_size=0, max_size=3),
    st.booleans(),
    st.integers(min_value=0, max_value=10_000),
)


@settings(max_examples=300, deadline=None)
@given(readings=st.lists(_readings, max_size=12), extra=_readings)
def test_adding_a_verified_reading_never_makes_the_bound_earlier(readings, extra):
    extra = ComponentReading("extra", extra.label, extra.raw_code, extra.windows, verified=True)
    total = len(readings) + 1
    before = infer_earliest_assembly(readings, total).not_before
    after = infer_earliest_assembly([*readings, extra], total).not_before
    if before is not None:
        assert after is not None
        assert after >= before
    if extra.windows:
        assert after is not None
        assert after >= min(w.earliest for w in extra.windows)
    else:
        assert after == before


@settings(max_examples=300, deadline=None)
@given(readings=st.lists(_readings, max_size=12), extra=_readings)
def test_an_unverified_reading_never_changes_the_result(readings, extra):
    extra = ComponentReading("extra", extra.label, extra.raw_code, extra.windows, verified=False)
    total = len(readings) + 1
    before = infer_earliest_assembly(readings, total)
    after = infer_earliest_assembly([*readings, extra], total)
    assert after == before


@settings(max_examples=200, deadline=None)
@given(readings=st.lists(_readings, max_size=12))
def test_the_bound_is_one_of_the_verified_lower_bounds_and_at_least_all_of_them(readings):
    inference = infer_earliest_assembly(readings, len(readings))
    bounds = [min(w.earliest for w in r.windows) for r in readings if r.verified and r.windows]
    if not bounds:
        assert inference.not_before is None
        assert inference.resting_on == []
        return
    assert inference.not_before in bounds
    assert all(inference.not_before >= b for b in bounds)
    assert inference.resting_on
    assert all(min(w.earliest for w in r.windows) == inference.not_before for r in inference.resting_on)
    assert sum(inference.production_histogram.values()) == inference.readings_counted == len(bounds)


# --- (2) hand-checked fixture: 290 components, 145 with a verified code ------------------------------------------

RECOVERED = date(2024, 1, 2)  # Kharkiv, 2 January 2024

# code, how many components bear it, its lower bound worked out by hand, and that bound's quarter.
# Four-digit codes are read as YYWW (ISO week) and YYMM (year, month); the lower bound is the earlier.
# ISO week 1 starts: 2018-01-01, 2018-12-31 (for 2019), 2019-12-30 (for 2020), 2021-01-04, 2022-01-03, 2023-01-02.
FIXTURE: list[tuple[str, int, date, tuple[int, int]]] = [
    ("2312", 3, date(2023, 3, 20), (2023, 1)),  # week 12 of 2023 (YYMM: December 2023)
    ("2310", 5, date(2023, 3, 6), (2023, 1)),  # week 10 of 2023 (YYMM: October 2023)
    ("2305", 10, date(2023, 1, 30), (2023, 1)),  # week 5 of 2023 (YYMM: May 2023)
    ("2248", 20, date(2022, 11, 28), (2022, 4)),  # week 48 of 2022
    ("2220", 25, date(2022, 5, 16), (2022, 2)),  # week 20 of 2022
    ("2208", 15, date(2022, 2, 21), (2022, 1)),  # week 8 of 2022 (YYMM: August 2022)
    ("2139", 20, date(2021, 9, 27), (2021, 3)),  # week 39 of 2021
    ("2115", 12, date(2021, 4, 12), (2021, 2)),  # week 15 of 2021
    # 110 so far, all inside 2021-2023; the 35 below are older.
    ("2026", 15, date(2020, 6, 22), (2020, 2)),  # week 26 of 2020 (the year 2026 is after recovery)
    ("1944", 10, date(2019, 10, 28), (2019, 4)),  # week 44 of 2019 (the year 1944 is before 1950)
    ("1852", 10, date(2018, 12, 24), (2018, 4)),  # week 52 of 2018
]
COMPONENTS_TOTAL = 290
WITH_CODE = 145  # 3 + 5 + 10 + 20 + 25 + 15 + 20 + 12 + 15 + 10 + 10
IN_2021_2023 = 110  # 3 + 5 + 10 + 20 + 25 + 15 + 20 + 12


def _fixture_readings() -> list[ComponentReading]:
    readings = []
    for code, count, _bound, _quarter in FIXTURE:
        windows = tuple(read_code(code, not_after=RECOVERED))
        for _ in range(count):
            n = len(readings) + 1
            readings.append(ComponentReading(f"C{n:03d}", f"component {n}", code, windows, verified=True))
    return readings


@pytest.mark.parametrize(("code", "bound"), [(code, bound) for code, _, bound, _ in FIXTURE])
def test_fixture_table_lower_bounds_match_the_rules(code, bound):
    assert min(w.earliest for w in read_code(code, not_after=RECOVERED)) == bound


def test_fixture_counts_are_as_written():
    assert sum(count for _, count, _, _ in FIXTURE) == WITH_CODE
    assert len(_fixture_readings()) == WITH_CODE


def test_hand_checked_fixture():
    readings = _fixture_readings()
    inference = infer_earliest_assembly(readings, COMPONENTS_TOTAL)

    assert inference.not_before == date(2023, 3, 20)
    assert format_not_before(inference.not_before) == "March 2023"
    assert [r.raw_code for r in inference.resting_on] == ["2312", "2312", "2312"]
    assert [r.component_id for r in inference.resting_on] == ["C001", "C002", "C003"]
    assert inference.readings_counted == 145
    assert inference.components_total == 290
    assert inference.components_without_code == 145
    assert inference.share_with_code == 0.5
    assert inference.caveat == CAVEAT

    share = share_in_years(readings, 2021, 2023)
    assert share > 0.75
    assert share == pytest.approx(110 / 145)  # = 22/29, about 0.7586
    assert share_in_years(readings, 2023, 2023) == pytest.approx(18 / 145)  # 3 + 5 + 10
    assert share_in_years(readings, 1900, 2100) == 1.0

    histogram = inference.production_histogram
    assert histogram[(2023, 1)] == 18  # 2312, 2310 and 2305: 3 + 5 + 10
    assert histogram[(2022, 2)] == 25  # 2220
    assert histogram[(2022, 1)] == 15  # 2208: its lower bound is February (the YYMM reading would be August)
    assert histogram == {
        (2018, 4): 10,
        (2019, 4): 10,
        (2020, 2): 15,
        (2021, 2): 12,
        (2021, 3): 20,
        (2022, 1): 15,
        (2022, 2): 25,
        (2022, 4): 20,
        (2023, 1): 18,
    }


def test_fixture_with_unverified_later_codes_is_unchanged():
    readings = _fixture_readings()
    # Two later codes nobody has verified yet, on components that otherwise have no code.
    unverified = [
        ComponentReading("C200", "x", "2340", tuple(read_code("2340", not_after=RECOVERED)), verified=False),
        ComponentReading("C201", "y", "주체112년 11월", tuple(read_code("주체112년 11월", not_after=RECOVERED)), False),
    ]
    inference = infer_earliest_assembly([*unverified, *readings], COMPONENTS_TOTAL)
    assert inference.not_before == date(2023, 3, 20)
    assert inference.components_without_code == 145
    assert inference.readings_counted == 145
    assert share_in_years([*unverified, *readings], 2021, 2023) == pytest.approx(110 / 145)


# --- (3) ambiguous readings bound from their earliest window -----------------------------------------------------


def test_ambiguous_reading_uses_its_earliest_window():
    # "2303": week 3 of 2023 (16-22 January) or March 2023; the bound must hold either way.
    ambiguous = _reading("A", (date(2023, 3, 1), date(2023, 3, 31)), (date(2023, 1, 16), date(2023, 1, 22)))
    alone = infer_earliest_assembly([ambiguous], 1)
    assert alone.not_before == date(2023, 1, 16)
    assert alone.production_histogram == {(2023, 1): 1}

    other = _reading("B", (date(2023, 2, 1), date(2023, 2, 28)))
    together = infer_earliest_assembly([ambiguous, other], 2)
    assert together.not_before == date(2023, 2, 1)  # not 1 March: the ambiguous part may be from January
    assert together.resting_on == [other]


def test_ambiguous_reading_counts_in_years_only_when_every_window_is_inside():
    straddles = _reading("A", (date(2020, 12, 1), date(2020, 12, 31)), (date(2021, 3, 1), date(2021, 3, 31)))
    inside = _reading("B", (date(2021, 5, 1), date(2021, 5, 31)))
    assert share_in_years([straddles, inside], 2021, 2023) == 0.5


def test_ties_all_rest_the_bound():
    a = _reading("A", (date(2023, 3, 20), date(2023, 3, 26)))
    b = _reading("B", (date(2023, 3, 20), date(2023, 12, 31)))
    c = _reading("C", (date(2022, 1, 1), date(2022, 12, 31)))
    assert infer_earliest_assembly([a, c, b], 3).resting_on == [a, b]


# --- (4) no verified readings -------------------------------------------------------------------------------------


def test_no_verified_readings_gives_no_bound():
    unverified = _reading("A", (date(2023, 3, 20), date(2023, 3, 26)), verified=False)
    unreadable = ComponentReading("B", "b", "??", (), verified=True)
    inference = infer_earliest_assembly([unverified, unreadable], 10)
    assert inference.not_before is None
    assert inference.resting_on == []
    assert inference.readings_counted == 0
    assert inference.components_without_code == 10
    assert inference.share_with_code == 0.0
    assert inference.production_histogram == {}
    assert inference.caveat == NO_BOUND_CAVEAT
    assert share_in_years([unverified, unreadable], 2021, 2023) == 0.0


def test_nothing_at_all():
    inference = infer_earliest_assembly([], 0)
    assert inference.not_before is None
    assert inference.share_with_code is None


# --- details -------------------------------------------------------------------------------------------------------


def test_two_codes_on_one_component_count_as_one_component_with_a_code():
    first = _reading("A", (date(2022, 1, 1), date(2022, 1, 31)))
    second = _reading("A", (date(2022, 6, 1), date(2022, 6, 30)))
    inference = infer_earliest_assembly([first, second], 4)
    assert inference.readings_counted == 2
    assert inference.components_without_code == 3
    assert inference.share_with_code == 0.25
    assert inference.not_before == date(2022, 6, 1)


def test_components_total_must_cover_the_coded_components():
    readings = [
        _reading("A", (date(2022, 1, 1), date(2022, 1, 31))),
        _reading("B", (date(2022, 1, 1), date(2022, 1, 1))),
    ]
    with pytest.raises(ValueError, match="components_total"):
        infer_earliest_assembly(readings, 1)
    with pytest.raises(ValueError, match="negative"):
        infer_earliest_assembly([], -1)
    with pytest.raises(ValueError, match="after"):
        share_in_years(readings, 2023, 2021)


@pytest.mark.parametrize(
    ("day", "text"),
    [(date(2023, 3, 20), "March 2023"), (date(2021, 1, 1), "January 2021"), (date(1999, 12, 31), "December 1999")],
)
def test_format_not_before(day, text):
    assert format_not_before(day) == text


def test_caveat_says_lower_bound_only():
    text = CAVEAT.lower()
    assert "stock" in text
    assert "no earlier than" in text
    assert "never bound assembly from above" in text
