"""Date-code parser: one table of codes and their exact readings, plus property checks.

Expected dates are literals worked out by hand or from the ISO calendar, never from the parser.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

import pytest

from evidence.lib.datecodes import DateReading, parse_date_code

# Every table row runs with this not_after unless it sets its own, so results do not depend on the clock.
RECOVERED = date(2025, 6, 30)

W12_2023 = [("2023-03-20", "week", "YYWW")]
JUCHE_112 = [("2023-01-01", "year", "JUCHE")]
JUCHE_112_MARCH = [("2023-03-01", "month", "JUCHE")]
MARCH_2023 = [("2023-03-01", "month", "YYYY-MM")]
BOTH_ORDERS = [("2023-03-04", "day", "MM/DD/YYYY"), ("2023-04-03", "day", "DD/MM/YYYY")]

CASES: list[tuple[str, dict, list[tuple[str, str, str]]]] = [
    # YYWW
    ("2312", {}, W12_2023),
    ("2301", {}, [("2023-01-02", "week", "YYWW")]),  # ISO week 1 of 2023 starts on Monday 2 January
    ("2053", {}, [("2020-12-28", "week", "YYWW")]),  # 2020 has an ISO week 53
    ("2153", {}, []),  # 2021 has no week 53; 21 is no month; 2153 is in the future
    ("2300", {}, []),  # week 00
    ("2354", {}, []),  # week 54
    ("1253", {}, [("1953-12-01", "month", "MMYY")]),  # 2012 has no week 53, 1912 is before 1950
    # Four digits: YYWW, YYYY and MMYY together
    ("2012", {}, [("2012-01-01", "year", "YYYY"), ("2020-03-16", "week", "YYWW")]),
    ("2024", {}, [("2020-06-08", "week", "YYWW"), ("2024-01-01", "year", "YYYY")]),
    ("2026", {}, [("2020-06-22", "week", "YYWW")]),  # the year 2026 is after not_after
    ("1999", {}, [("1999-01-01", "year", "YYYY")]),  # week 99 and month 19 do not exist
    ("0312", {}, [("2003-03-17", "week", "YYWW"), ("2012-03-01", "month", "MMYY")]),
    ("1512", {"earliest_year": 1900}, [("1915-03-22", "week", "YYWW"), ("2015-03-16", "week", "YYWW")]),
    # YWW: one reading per decade in [earliest_year, not_after]
    (
        "312",
        {},
        [
            ("1953-03-16", "week", "YWW"),
            ("1963-03-18", "week", "YWW"),
            ("1973-03-19", "week", "YWW"),
            ("1983-03-21", "week", "YWW"),
            ("1993-03-22", "week", "YWW"),
            ("2003-03-17", "week", "YWW"),
            ("2013-03-18", "week", "YWW"),
            ("2023-03-20", "week", "YWW"),
        ],
    ),
    (
        "312",
        {"not_after": date(2013, 3, 1), "earliest_year": 1980},  # 2013 week 12 starts on 18 March
        [("1983-03-21", "week", "YWW"), ("1993-03-22", "week", "YWW"), ("2003-03-17", "week", "YWW")],
    ),
    (
        "312",
        {"not_after": date(2013, 3, 18), "earliest_year": 1980},
        [
            ("1983-03-21", "week", "YWW"),
            ("1993-03-22", "week", "YWW"),
            ("2003-03-17", "week", "YWW"),
            ("2013-03-18", "week", "YWW"),
        ],
    ),
    ("053", {"earliest_year": 1990}, [("2020-12-28", "week", "YWW")]),  # 1990, 2000, 2010 have 52 weeks
    # YYYY-MM; a stated year is not bounded by earliest_year
    ("2023-03", {}, MARCH_2023),
    ("2023/3", {}, MARCH_2023),
    ("2023.03", {}, MARCH_2023),
    ("2023 - 03", {}, MARCH_2023),
    ("2023-13", {}, []),
    ("1920-05", {}, [("1920-05-01", "month", "YYYY-MM")]),
    # MM/YY: every century that falls in [earliest_year, not_after]
    ("03/23", {}, [("2023-03-01", "month", "MM/YY")]),
    ("03/23", {"earliest_year": 1920}, [("1923-03-01", "month", "MM/YY"), ("2023-03-01", "month", "MM/YY")]),
    ("03-75", {}, [("1975-03-01", "month", "MM/YY")]),
    ("3.23", {}, [("2023-03-01", "month", "MM/YY")]),
    ("13/23", {}, []),
    ("03/2023", {}, [("2023-03-01", "month", "MM/YYYY")]),
    # Full dates
    ("2023-03-12", {}, [("2023-03-12", "day", "YYYY-MM-DD")]),
    ("2023.3.12", {}, [("2023-03-12", "day", "YYYY-MM-DD")]),
    ("2023-03/12", {}, []),  # mixed separators
    ("12.03.2023", {}, [("2023-03-12", "day", "DD.MM.YYYY")]),
    ("31.02.2023", {}, []),
    ("03/04/2023", {}, BOTH_ORDERS),
    ("03-04-2023", {}, BOTH_ORDERS),
    ("25/03/2023", {}, [("2023-03-25", "day", "DD/MM/YYYY")]),
    ("03/25/2023", {}, [("2023-03-25", "day", "MM/DD/YYYY")]),
    ("05/05/2023", {}, [("2023-05-05", "day", "DD/MM/YYYY")]),  # both orders give the same day
    # Juche: year N is N + 1911
    ("주체112", {}, JUCHE_112),
    ("주체 112", {}, JUCHE_112),
    ("주체112년", {}, JUCHE_112),
    ("Juche 112", {}, JUCHE_112),
    ("JUCHE112", {}, JUCHE_112),
    ("J112", {}, JUCHE_112),
    ("j 112", {}, JUCHE_112),
    ("주체1", {}, [("1912-01-01", "year", "JUCHE")]),
    ("주체112.3", {}, JUCHE_112_MARCH),
    ("주체112년 3월", {}, JUCHE_112_MARCH),
    ("주체 112년3월", {}, JUCHE_112_MARCH),
    ("Juche 112.03", {}, JUCHE_112_MARCH),
    ("주체112.13", {}, []),
    ("주체0", {}, []),
    ("주체1123", {}, []),  # no separator between year and month
    # Labels, spacing and full-width digits
    ("DC 2312", {}, W12_2023),
    ("DC2312", {}, W12_2023),
    ("D/C: 2312", {}, W12_2023),
    ("d.c. 2312", {}, W12_2023),
    ("DATE CODE 2312", {}, W12_2023),
    ("Date: 2312", {}, W12_2023),
    ("  2312\n", {}, W12_2023),
    ("\uff12\uff13\uff11\uff12", {}, W12_2023),  # full-width digits
    ("DATE: 주체112", {}, JUCHE_112),
    # Garbage
    ("", {}, []),
    ("   ", {}, []),
    ("hello", {}, []),
    ("LOT 2312", {}, []),  # codes are not searched for inside other text
    ("23120", {}, []),
    ("12", {}, []),
    ("ABCD", {}, []),
    ("DC", {}, []),
    ("2023-03-12 extra", {}, []),
    # not_after drops readings that start after it
    ("2312", {"not_after": date(2023, 3, 19)}, []),
    ("2312", {"not_after": date(2023, 3, 20)}, W12_2023),
    ("2023-03-12", {"not_after": date(2023, 3, 11)}, []),
    ("주체112", {"not_after": date(2022, 12, 31)}, []),
    ("03/04/2023", {"not_after": date(2023, 3, 31)}, [("2023-03-04", "day", "MM/DD/YYYY")]),
    ("2012", {"not_after": date(2015, 1, 1)}, [("2012-01-01", "year", "YYYY")]),
]


def _summary(readings: list[DateReading]) -> list[tuple[str, str, str]]:
    return [(r.start.isoformat(), r.precision, r.format) for r in readings]


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"), CASES, ids=[f"{t!r}-{k}" if k else repr(t) for t, k, _ in CASES]
)
def test_readings(text: str, kwargs: dict, expected: list[tuple[str, str, str]]) -> None:
    assert _summary(parse_date_code(text, **{"not_after": RECOVERED, **kwargs})) == expected


def _assert_well_formed(readings: list[DateReading], not_after: date) -> None:
    assert readings == sorted(readings, key=lambda r: r.start)
    for r in readings:
        assert r.start <= r.end
        assert r.start <= not_after
        assert r.explanation
        if r.precision == "day":
            assert r.start == r.end
        elif r.precision == "week":
            assert r.start.isoweekday() == 1
            assert r.end - r.start == timedelta(days=6)
        elif r.precision == "month":
            assert r.start.day == 1
            assert r.end == r.start.replace(day=calendar.monthrange(r.start.year, r.start.month)[1])
        else:
            assert r.precision == "year"
            assert r.start == date(r.start.year, 1, 1)
            assert r.end == date(r.start.year, 12, 31)


def test_every_table_reading_is_well_formed() -> None:
    for text, kwargs, _ in CASES:
        not_after = kwargs.get("not_after", RECOVERED)
        _assert_well_formed(parse_date_code(text, **{"not_after": RECOVERED, **kwargs}), not_after)


def test_every_three_and_four_digit_code_is_well_formed() -> None:
    for n in range(10_000):
        for text in (f"{n:04d}", f"{n:03d}") if n < 1000 else (f"{n:04d}",):
            _assert_well_formed(parse_date_code(text, not_after=RECOVERED, earliest_year=1900), RECOVERED)


@pytest.mark.parametrize("spelling", ["주체{n}", "주체 {n}", "주체{n}년", "Juche {n}", "J{n}"])
def test_juche_year_n_is_gregorian_n_plus_1911(spelling: str) -> None:
    for n in range(1, 121):
        readings = parse_date_code(spelling.format(n=n), not_after=date(2100, 1, 1))
        assert [(r.start, r.end, r.precision) for r in readings] == [
            (date(n + 1911, 1, 1), date(n + 1911, 12, 31), "year")
        ]


def test_explanations_are_human_phrases() -> None:
    assert [r.explanation for r in parse_date_code("2312", not_after=RECOVERED)] == ["week 12 of 2023 (ISO week)"]
    assert [r.explanation for r in parse_date_code("주체112.3", not_after=RECOVERED)] == ["March of Juche 112 (2023)"]


def test_not_after_defaults_to_today() -> None:
    assert parse_date_code("2099-01-01") == []
    assert _summary(parse_date_code("2023-03-12")) == [("2023-03-12", "day", "YYYY-MM-DD")]


def test_not_after_accepts_a_datetime() -> None:
    assert _summary(parse_date_code("2312", not_after=datetime(2023, 3, 20, 23, 59))) == W12_2023


def test_readings_are_frozen() -> None:
    reading = parse_date_code("2312", not_after=RECOVERED)[0]
    with pytest.raises(AttributeError):
        reading.start = date(2000, 1, 1)  # type: ignore[misc]
