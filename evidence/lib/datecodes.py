"""Read manufacturing date codes off component markings: every plausible reading, never a choice (pure).

See docs/date-codes.md#the-date-code-parser for the formats and the ambiguity rules.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

__all__ = ["DateReading", "Precision", "parse_date_code"]

Precision = Literal["year", "month", "week", "day"]

JUCHE_OFFSET = 1911

MONTH_NAMES = (  # English month names, for explanations and statements
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True)
class DateReading:
    start: date  # first day of the period
    end: date  # last day of the period
    precision: Precision
    format: str
    explanation: str


_LABEL = re.compile(r"^(?:DATE[\s-]*CODE|DATE|D\s*/\s*C|D\.\s*C\.?|DC)(?:\s*[:#=-]\s*|\s+|(?=[0-9]))")
_SPACED_SEPARATOR = re.compile(r"\s*([-/.])\s*")

_JUCHE = re.compile(
    r"(?:주체|JUCHE|J)\s*(?P<year>[0-9]{1,3})(?:\s*년)?"
    # A month needs a separator, a space or 년 before it, so "주체1123" is not 112 + month 3.
    r"(?:(?:[-/.]|\s+|(?<=년))(?P<month>[0-9]{1,2})(?:\s*월)?)?"
)
_YMD = re.compile(r"(?P<year>[0-9]{4})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})")
_DMY_DOTTED = re.compile(r"(?P<day>[0-9]{1,2})\.(?P<month>[0-9]{1,2})\.(?P<year>[0-9]{4})")
_SLASHED = re.compile(r"(?P<a>[0-9]{1,2})(?P<sep>[-/])(?P<b>[0-9]{1,2})(?P=sep)(?P<year>[0-9]{4})")
_YM = re.compile(r"(?P<year>[0-9]{4})[-/.](?P<month>[0-9]{1,2})")
_MY4 = re.compile(r"(?P<month>[0-9]{1,2})[-/.](?P<year>[0-9]{4})")
_MY2 = re.compile(r"(?P<month>[0-9]{1,2})[-/.](?P<yy>[0-9]{2})")
_FOUR = re.compile(r"[0-9]{4}")
_THREE = re.compile(r"[0-9]{3}")


def parse_date_code(text: str, *, not_after: date | None = None, earliest_year: int = 1950) -> list[DateReading]:
    """Every plausible reading of `text`, sorted by start; `[]` when nothing matches."""
    if isinstance(not_after, datetime):
        not_after = not_after.date()  # a datetime does not compare with a date
    horizon = not_after if not_after is not None else date.today()
    window = (max(earliest_year, date.min.year), horizon.year)

    code = _normalise(text)
    readings = _readings(code, window) if code else []

    unique: dict[tuple[date, date, str], DateReading] = {}
    for reading in sorted(readings, key=lambda r: (r.start, r.end, r.format)):
        if reading.start <= horizon:
            # Two formats giving the same period (e.g. "05/05/2023") are one reading.
            unique.setdefault((reading.start, reading.end, reading.precision), reading)
    return list(unique.values())


def _normalise(text: str) -> str:
    code = unicodedata.normalize("NFKC", text).upper().strip()
    code = _LABEL.sub("", code, count=1)
    return _SPACED_SEPARATOR.sub(r"\1", code).strip()


def _readings(code: str, window: tuple[int, int]) -> list[DateReading]:
    if m := _JUCHE.fullmatch(code):
        return _juche(int(m["year"]), int(m["month"]) if m["month"] else None)
    if m := _YMD.fullmatch(code):
        return _day(int(m["year"]), int(m["month"]), int(m["day"]), "YYYY-MM-DD")
    if m := _DMY_DOTTED.fullmatch(code):
        return _day(int(m["year"]), int(m["month"]), int(m["day"]), "DD.MM.YYYY")
    if m := _SLASHED.fullmatch(code):
        a, b, year = int(m["a"]), int(m["b"]), int(m["year"])
        return _day(year, b, a, "DD/MM/YYYY") + _day(year, a, b, "MM/DD/YYYY")
    if m := _YM.fullmatch(code):
        return _month(int(m["year"]), int(m["month"]), "YYYY-MM")
    if m := _MY4.fullmatch(code):
        return _month(int(m["year"]), int(m["month"]), "MM/YYYY")
    if m := _MY2.fullmatch(code):
        month, yy = int(m["month"]), int(m["yy"])
        return [r for year in _years_for_yy(yy, window) for r in _month(year, month, "MM/YY")]
    if _FOUR.fullmatch(code):
        return _four_digits(code, window)
    if _THREE.fullmatch(code):
        last_digit, week = int(code[0]), int(code[1:])
        years = [y for y in range(window[0], window[1] + 1) if y % 10 == last_digit]
        return [r for year in years for r in _week(year, week, "YWW")]
    return []


def _four_digits(code: str, window: tuple[int, int]) -> list[DateReading]:
    ab, cd, value = int(code[:2]), int(code[2:]), int(code)
    readings = [r for year in _years_for_yy(ab, window) for r in _week(year, cd, "YYWW")]
    if window[0] <= value <= window[1]:
        readings += _year(value, "YYYY", f"the year {value}")
    readings += [r for year in _years_for_yy(cd, window) for r in _month(year, ab, "MMYY")]
    return readings


def _years_for_yy(yy: int, window: tuple[int, int]) -> list[int]:
    low, high = window
    return [c * 100 + yy for c in range(low // 100, high // 100 + 1) if low <= c * 100 + yy <= high]


def _juche(juche_year: int, month: int | None) -> list[DateReading]:
    if juche_year < 1:
        return []
    year = juche_year + JUCHE_OFFSET
    if month is None:
        return _year(year, "JUCHE", f"Juche {juche_year} = {year}")
    if not 1 <= month <= 12:
        return []
    return _month(year, month, "JUCHE", f"{MONTH_NAMES[month - 1]} of Juche {juche_year} ({year})")


def _year(year: int, fmt: str, explanation: str) -> list[DateReading]:
    if not date.min.year <= year <= date.max.year:
        return []
    return [DateReading(date(year, 1, 1), date(year, 12, 31), "year", fmt, explanation)]


def _month(year: int, month: int, fmt: str, explanation: str | None = None) -> list[DateReading]:
    if not (1 <= month <= 12 and date.min.year <= year <= date.max.year):
        return []
    last = calendar.monthrange(year, month)[1]
    text = explanation or f"{MONTH_NAMES[month - 1]} {year}"
    return [DateReading(date(year, month, 1), date(year, month, last), "month", fmt, text)]


def _week(year: int, week: int, fmt: str) -> list[DateReading]:
    try:
        # Raises for week 0, week > 53, and week 53 in a 52-week ISO year.
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        return []
    sunday = monday + timedelta(days=6)
    return [DateReading(monday, sunday, "week", fmt, f"week {week} of {year} (ISO week)")]


def _day(year: int, month: int, day: int, fmt: str) -> list[DateReading]:
    try:
        when = date(year, month, day)
    except ValueError:
        return []
    return [DateReading(when, when, "day", fmt, f"{day} {MONTH_NAMES[month - 1]} {year}")]
