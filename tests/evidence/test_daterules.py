"""Named, versioned date-code rules: a table of real-world code formats with hand-written windows.

Every expected window is a literal worked out by hand from the ISO calendar (ISO week 1 of 2023 starts on
Monday 2 January 2023, so week 12 starts on 20 March), never from the code under test.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.lib.datecodes import parse_date_code
from evidence.lib.daterules import (
    DEFAULT_RULES,
    RULES,
    YYWW,
    LotTable,
    Window,
    lot_rule,
    lot_table_from_dict,
    lot_table_from_json,
    read_code,
    rule_by_name,
)

# Every row runs with this not_after unless it sets its own, so results do not depend on the clock.
RECOVERED = date(2025, 6, 30)

W12_2023 = ("YYWW", "2023-03-20", "2023-03-26")
DEC_2023 = ("YYMM", "2023-12-01", "2023-12-31")
JUCHE_2023 = [("JUCHE", "2023-01-01", "2023-12-31")]
JEDEC_W52_2019 = [("JEDEC", "2019-12-23", "2019-12-29")]  # 2019's ISO week 1 starts on Monday 31 December 2018

CASES: list[tuple[str, dict, list[tuple[str, str, str]]]] = [
    # Four digits: YYWW week 12 of 2023, and YYMM reads 23/12 as December 2023 (JEDEC gives the YYWW week again).
    ("2312", {}, [W12_2023, DEC_2023]),
    ("DC 2312", {}, [W12_2023, DEC_2023]),
    ("\uff12\uff13\uff11\uff12", {}, [W12_2023, DEC_2023]),  # full-width digits "2312"
    # The YYMM / YYWW ambiguity: week 3 of 2023 or March 2023 -- both kept.
    ("2303", {}, [("YYWW", "2023-01-16", "2023-01-22"), ("YYMM", "2023-03-01", "2023-03-31")]),
    # Three readings: YYWW 2003 week 12, YYMM December 2003, MMYY March 2012.
    (
        "0312",
        {},
        [
            ("YYWW", "2003-03-17", "2003-03-23"),
            ("YYMM", "2003-12-01", "2003-12-31"),
            ("MMYY", "2012-03-01", "2012-03-31"),
        ],
    ),
    # A four-digit year is also a plausible reading of four digits.
    ("1952", {}, [("FULL", "1952-01-01", "1952-12-31"), ("YYWW", "2019-12-23", "2019-12-29")]),
    ("2023", {}, [("YYWW", "2020-06-01", "2020-06-07"), ("FULL", "2023-01-01", "2023-12-31")]),
    ("2053", {}, [("YYWW", "2020-12-28", "2021-01-03")]),  # 2020 has an ISO week 53 that ends in 2021
    ("2153", {}, []),  # 2021 has no week 53, 53 is no month, 2153 is in the future
    # YWW: one window per year ending in 3 from earliest_year on.
    (
        "312",
        {"earliest_year": 2000},
        [("YWW", "2003-03-17", "2003-03-23"), ("YWW", "2013-03-18", "2013-03-24"), ("YWW", "2023-03-20", "2023-03-26")],
    ),
    # JEDEC with a site/lot letter: only the JEDEC rule reads it.
    ("1952A", {}, JEDEC_W52_2019),
    ("1952 A", {}, JEDEC_W52_2019),
    ("1952a", {}, JEDEC_W52_2019),
    ("312B", {"earliest_year": 2010}, [("JEDEC", "2013-03-18", "2013-03-24"), ("JEDEC", "2023-03-20", "2023-03-26")]),
    # YY/MM and MM/YY with a separator.
    ("23/03", {}, [("YYMM", "2023-03-01", "2023-03-31")]),
    ("03/23", {}, [("MMYY", "2023-03-01", "2023-03-31")]),
    ("12.03", {}, [("MMYY", "2003-12-01", "2003-12-31"), ("YYMM", "2012-03-01", "2012-03-31")]),
    # Juche: Gregorian = Juche + 1911.
    ("주체112", {}, JUCHE_2023),
    ("주체112년", {}, JUCHE_2023),
    ("Juche 112", {}, JUCHE_2023),
    ("J112", {}, JUCHE_2023),
    ("주체113년 3월", {}, [("JUCHE", "2024-03-01", "2024-03-31")]),
    ("주체112.3", {}, [("JUCHE", "2023-03-01", "2023-03-31")]),
    # Full dates.
    ("2023-03-12", {}, [("FULL", "2023-03-12", "2023-03-12")]),
    ("2023-03", {}, [("FULL", "2023-03-01", "2023-03-31")]),
    ("12.03.2023", {}, [("FULL", "2023-03-12", "2023-03-12")]),
    ("12/03/2023", {}, [("FULL", "2023-03-12", "2023-03-12"), ("FULL", "2023-12-03", "2023-12-03")]),
    # not_after drops windows that start later; a window straddling it is kept whole.
    ("2312", {"not_after": date(2023, 6, 30)}, [W12_2023]),
    ("2312", {"not_after": date(2023, 3, 22)}, [W12_2023]),
    ("2312", {"not_after": date(2023, 3, 19)}, []),
    ("주체113년 3월", {"not_after": date(2024, 2, 29)}, []),
    ("2312", {"not_after": datetime(2023, 6, 30, 12, 0)}, [W12_2023]),
    # Unrecognised.
    ("", {}, []),
    ("ABCD", {}, []),
    ("LOT 2312", {}, []),
    ("23122", {}, []),
    ("2312ABC", {}, []),
    ("A2312", {}, []),
    ("2399", {}, []),
]


def _as_tuples(windows: list[Window]) -> list[tuple[str, str, str]]:
    return [(w.rule, w.earliest.isoformat(), w.latest.isoformat()) for w in windows]


@pytest.mark.parametrize(
    ("code", "options", "expected"), CASES, ids=[f"{c!r}-{i}" for i, (c, _, _) in enumerate(CASES)]
)
def test_code_table(code, options, expected):
    options = {"not_after": RECOVERED, **options}
    windows = read_code(code, **options)
    assert _as_tuples(windows) == expected
    for window in windows:
        assert window.version == "1"
        assert window.explanation.strip()


def test_same_period_from_two_rules_is_listed_once_and_names_both():
    [week, _december] = read_code("2312", not_after=RECOVERED)
    assert (week.rule, week.version) == ("YYWW", "1")
    assert "JEDEC v1" in week.explanation
    assert "week 12 of 2023" in week.explanation


def test_suffix_is_named_as_ignored():
    [window] = read_code("2312 A", not_after=RECOVERED)
    assert window.rule == "JEDEC"
    assert "'A'" in window.explanation
    assert "ignored" in window.explanation


def test_earliest_year_gives_both_centuries():
    windows = read_code("2312", not_after=RECOVERED, earliest_year=1900)
    assert _as_tuples(windows) == [
        ("YYWW", "1923-03-19", "1923-03-25"),  # 1 January 1923 was a Monday
        ("YYMM", "1923-12-01", "1923-12-31"),
        W12_2023,
        DEC_2023,
    ]


def test_not_after_defaults_to_today():
    # Juche 200 is 2111: it starts after today whatever today is (until 2111).
    assert read_code("주체200") == []
    assert _as_tuples(read_code("주체112")) == JUCHE_2023


def test_restricting_the_rules():
    assert _as_tuples(read_code("2303", rules=[YYWW], not_after=RECOVERED)) == [("YYWW", "2023-01-16", "2023-01-22")]
    assert read_code("2303", rules=[], not_after=RECOVERED) == []


def test_a_single_rule_can_be_applied_on_its_own():
    yymm = rule_by_name("YYMM")
    assert _as_tuples(yymm.windows("2303", not_after=RECOVERED)) == [("YYMM", "2023-03-01", "2023-03-31")]
    assert _as_tuples(yymm("2312", not_after=date(2023, 6, 30))) == []


# --- rule registry -------------------------------------------------------------------------------------------------


def test_rules_are_named_and_versioned():
    names = [r.name for r in RULES]
    assert names == ["YYWW", "YWW", "YYMM", "MMYY", "JEDEC", "JUCHE", "FULL"]
    assert len({(r.name, r.version) for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.version == "1"
        assert rule.description.strip()
        assert "\n" not in rule.description
    assert set(DEFAULT_RULES) <= set(RULES)


def test_rule_by_name():
    assert rule_by_name("YYWW") is YYWW
    assert rule_by_name("YYWW", "1") is YYWW
    assert rule_by_name("JUCHE").name == "JUCHE"
    with pytest.raises(KeyError, match="YYWW v2"):
        rule_by_name("YYWW", "2")
    with pytest.raises(KeyError, match="NOPE"):
        rule_by_name("NOPE")


def test_rule_by_name_picks_the_latest_version():
    newer = type(YYWW)("YYWW", "10", "a later convention", lambda code, horizon, earliest_year: [])
    assert rule_by_name("YYWW", rules=[YYWW, newer]) is newer
    assert rule_by_name("YYWW", "1", rules=[YYWW, newer]) is YYWW


# --- lot tables ----------------------------------------------------------------------------------------------------

LOT_JSON = json.dumps(
    {
        "manufacturer": "Example Semiconductor",
        "version": "2024-02",
        "source": "distributor letter of 12 Feb 2024",
        "prefixes": {"K3C": ["2023-03-01", "2023-03-31"], "K3": ["2023-01-01", "2023-06-30"]},
        "patterns": {"X23Q1[0-9]{3}": ["2023-01-01", "2023-03-31"]},
    }
)


def test_lot_table_from_json_maps_a_lot_to_its_window():
    table = lot_table_from_json(LOT_JSON)
    assert (table.manufacturer, table.version) == ("Example Semiconductor", "2024-02")
    assert table.prefixes["K3C"] == (date(2023, 3, 1), date(2023, 3, 31))

    windows = read_code("K3C0042", lot_tables=[table], not_after=RECOVERED)
    assert [(w.rule, w.version, w.earliest, w.latest) for w in windows] == [
        ("LOT:Example Semiconductor", "2024-02", date(2023, 1, 1), date(2023, 6, 30)),  # prefix K3
        ("LOT:Example Semiconductor", "2024-02", date(2023, 3, 1), date(2023, 3, 31)),  # prefix K3C
    ]
    assert "2024-02" in windows[0].explanation

    [by_pattern] = read_code("x23q1007", lot_tables=[table], not_after=RECOVERED)
    assert (by_pattern.earliest, by_pattern.latest) == (date(2023, 1, 1), date(2023, 3, 31))
    assert read_code("X23Q1007Z", lot_tables=[table], not_after=RECOVERED) == []  # patterns match the whole code
    assert read_code("K3C0042", not_after=RECOVERED) == []  # without the table the code means nothing


def test_lot_rule_is_named_and_versioned():
    rule = lot_rule(lot_table_from_json(LOT_JSON))
    assert (rule.name, rule.version) == ("LOT:Example Semiconductor", "2024-02")
    assert "distributor letter" in rule.description


def test_lot_table_windows_also_respect_not_after():
    table = lot_table_from_json(LOT_JSON)
    windows = read_code("K3C0042", lot_tables=[table], not_after=date(2023, 2, 1))
    assert [(w.earliest, w.latest) for w in windows] == [(date(2023, 1, 1), date(2023, 6, 30))]


def test_lot_table_and_generic_rules_together():
    table = lot_table_from_dict({"manufacturer": "M", "version": "1", "prefixes": {"23": ["2022-11-01", "2022-11-30"]}})
    assert _as_tuples(read_code("2312", lot_tables=[table], not_after=RECOVERED)) == [
        ("LOT:M", "2022-11-01", "2022-11-30"),
        W12_2023,
        DEC_2023,
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        "[]",
        json.dumps({"version": "1"}),
        json.dumps({"manufacturer": "M"}),
        json.dumps({"manufacturer": "M", "version": ""}),
        json.dumps({"manufacturer": "M", "version": "1", "prefixes": {"A": ["2023-02-01", "2023-01-01"]}}),
        json.dumps({"manufacturer": "M", "version": "1", "prefixes": {"A": ["2023-02-30", "2023-03-01"]}}),
        json.dumps({"manufacturer": "M", "version": "1", "prefixes": {"A": ["2023-01-01"]}}),
        json.dumps({"manufacturer": "M", "version": "1", "patterns": {"([": ["2023-01-01", "2023-01-31"]}}),
        json.dumps({"manufacturer": "M", "version": "1", "lots": {}}),
    ],
)
def test_bad_lot_tables_are_refused(bad):
    with pytest.raises(ValueError):  # noqa: PT011 -- each case has its own message
        lot_table_from_json(bad)


def test_lot_table_is_plain_data():
    table = LotTable("M", "3", prefixes={"AB": (date(2020, 1, 1), date(2020, 12, 31))})
    assert table.rule.name == "LOT:M"
    assert table.rule.version == "3"


# --- nothing the parser reads is lost --------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    code=st.text(alphabet="0123456789-/. ", min_size=2, max_size=10),
    horizon=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)),
)
def test_every_parser_reading_is_a_window(code, horizon):
    periods = {(w.earliest, w.latest) for w in read_code(code, not_after=horizon)}
    for reading in parse_date_code(code, not_after=horizon):
        assert (reading.start, reading.end) in periods


@settings(max_examples=200, deadline=None)
@given(
    code=st.text(alphabet="0123456789AJ주체년월 ./-", max_size=10),
    horizon=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)),
)
def test_windows_are_sorted_unique_and_not_after_the_horizon(code, horizon):
    windows = read_code(code, not_after=horizon)
    keys = [(w.earliest, w.latest) for w in windows]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert all(w.earliest <= horizon for w in windows)
    assert all(w.earliest <= w.latest for w in windows)
