"""Named, versioned rules for reading production windows off component date codes (pure, no Django).

`read_code(code)` returns every window any rule allows; lot tables are data loaded from JSON.
See docs/date-codes.md#reading-a-code-named-versioned-rules.
"""

from __future__ import annotations

import calendar
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from evidence.lib.datecodes import MONTH_NAMES, parse_date_code

__all__ = [
    "DEFAULT_RULES",
    "FULL",
    "JEDEC",
    "JUCHE",
    "MMYY",
    "RULES",
    "YWW",
    "YYMM",
    "YYWW",
    "LotTable",
    "Rule",
    "Window",
    "lot_rule",
    "lot_table_from_dict",
    "lot_table_from_json",
    "read_code",
    "rule_by_name",
]


@dataclass(frozen=True, slots=True)
class Window:
    """The production window one rule allows for one code: first and last possible day."""

    rule: str
    version: str
    earliest: date
    latest: date
    explanation: str

    def __post_init__(self) -> None:
        if self.earliest > self.latest:
            raise ValueError(f"window starts after it ends: {self.earliest} > {self.latest}")


# A rule's reader: (code, not_after, earliest_year) -> (earliest, latest, explanation) for each reading.
Period = tuple[date, date, str]
Reader = Callable[[str, date, int], Iterable[Period]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A named, versioned reading convention."""

    name: str
    version: str
    description: str
    reader: Reader = field(repr=False, compare=False)

    def windows(self, code: str, *, not_after: date | None = None, earliest_year: int = 1950) -> list[Window]:
        """Every window this rule allows for `code`, sorted; windows starting after `not_after` are dropped."""
        horizon = _horizon(not_after)
        found = {
            Window(self.name, self.version, earliest, latest, explanation)
            for earliest, latest, explanation in self.reader(code, horizon, earliest_year)
            if earliest <= horizon
        }
        return sorted(found, key=_order)

    __call__ = windows

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


# --- helpers ---------------------------------------------------------------------------------------------------

_LABEL = re.compile(r"^(?:DATE[\s-]*CODE|DATE|D\s*/\s*C|D\.\s*C\.?|DC)(?:\s*[:#=-]\s*|\s+|(?=[0-9]))")
_SPACED_SEPARATOR = re.compile(r"\s*([-/.])\s*")


def _normalise(text: str) -> str:
    """NFKC (full-width digits become ASCII), upper case, trimmed, one leading "DC"/"DATE CODE" label dropped."""
    code = unicodedata.normalize("NFKC", text).upper().strip()
    code = _LABEL.sub("", code, count=1)
    return _SPACED_SEPARATOR.sub(r"\1", code).strip()


def _horizon(not_after: date | None) -> date:
    if isinstance(not_after, datetime):
        return not_after.date()  # a datetime does not compare with a date
    return not_after if not_after is not None else date.today()


def _order(window: Window) -> tuple[date, date, str, str]:
    return (window.earliest, window.latest, window.rule, window.version)


def _years_for_yy(yy: int, earliest_year: int, horizon: date) -> list[int]:
    low, high = max(earliest_year, date.min.year), horizon.year
    return [c * 100 + yy for c in range(low // 100, high // 100 + 1) if low <= c * 100 + yy <= high]


def _iso_week(year: int, week: int) -> tuple[date, date] | None:
    try:
        # Raises for week 0, week > 53, and week 53 in a 52-week ISO year.
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    return monday, monday + timedelta(days=6)


def _month(year: int, month: int) -> tuple[date, date] | None:
    if not (1 <= month <= 12 and date.min.year <= year <= date.max.year):
        return None
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _yyww(yy: int, week: int, earliest_year: int, horizon: date) -> list[Period]:
    periods = []
    for year in _years_for_yy(yy, earliest_year, horizon):
        if span := _iso_week(year, week):
            periods.append((*span, f"week {week} of {year} (ISO week)"))
    return periods


def _yww(last_digit: int, week: int, earliest_year: int, horizon: date) -> list[Period]:
    periods = []
    for year in range(max(earliest_year, date.min.year), horizon.year + 1):
        if year % 10 == last_digit and (span := _iso_week(year, week)):
            periods.append((*span, f"week {week} of {year} (ISO week; the year's last digit is {last_digit})"))
    return periods


def _delegated(formats: frozenset[str]) -> Reader:
    """A reader that keeps the `evidence.lib.datecodes` readings of the given formats."""

    def read(code: str, horizon: date, earliest_year: int) -> list[Period]:
        return [
            (r.start, r.end, f"{r.explanation} ({r.format})")
            for r in parse_date_code(code, not_after=horizon, earliest_year=earliest_year)
            if r.format in formats
        ]

    return read


# --- the rules -------------------------------------------------------------------------------------------------

_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_THREE_DIGITS = re.compile(r"[0-9]{3}")
_YY_MM = re.compile(r"(?P<yy>[0-9]{2})[-/.]?(?P<mm>[0-9]{2})")
_JEDEC = re.compile(r"(?P<digits>[0-9]{3,4})\s*(?P<suffix>[A-Z]{1,2})?")


def _read_yyww(code: str, horizon: date, earliest_year: int) -> list[Period]:
    code = _normalise(code)
    if not _FOUR_DIGITS.fullmatch(code):
        return []
    return _yyww(int(code[:2]), int(code[2:]), earliest_year, horizon)


def _read_yww(code: str, horizon: date, earliest_year: int) -> list[Period]:
    code = _normalise(code)
    if not _THREE_DIGITS.fullmatch(code):
        return []
    return _yww(int(code[0]), int(code[1:]), earliest_year, horizon)


def _read_yymm(code: str, horizon: date, earliest_year: int) -> list[Period]:
    m = _YY_MM.fullmatch(_normalise(code))
    if not m:
        return []
    month = int(m["mm"])
    periods = []
    for year in _years_for_yy(int(m["yy"]), earliest_year, horizon):
        if span := _month(year, month):
            periods.append((*span, f"{MONTH_NAMES[month - 1]} {year} (year, then month)"))
    return periods


def _read_jedec(code: str, horizon: date, earliest_year: int) -> list[Period]:
    m = _JEDEC.fullmatch(_normalise(code))
    if not m:
        return []
    digits, suffix = m["digits"], m["suffix"]
    if len(digits) == 4:
        periods = _yyww(int(digits[:2]), int(digits[2:]), earliest_year, horizon)
    else:
        periods = _yww(int(digits[0]), int(digits[1:]), earliest_year, horizon)
    note = f"; suffix {suffix!r} is a site/lot mark, ignored" if suffix else ""
    form = "YYWW" if len(digits) == 4 else "YWW"
    return [(earliest, latest, f"{text}, read as JEDEC {form}{note}") for earliest, latest, text in periods]


YYWW = Rule(
    "YYWW",
    "1",
    "Four digits: two-digit year and ISO week 01-53 (e.g. 2312 = week 12 of 2023).",
    _read_yyww,
)
YWW = Rule(
    "YWW",
    "1",
    "Three digits: last digit of the year and ISO week; one window for every matching year in range.",
    _read_yww,
)
YYMM = Rule(
    "YYMM",
    "1",
    "Four digits, optionally with -, / or . in the middle: two-digit year then month (2303 = March 2023).",
    _read_yymm,
)
MMYY = Rule(
    "MMYY",
    "1",
    "Month then two-digit year: 0312 or 03/23 (as read by evidence.lib.datecodes).",
    _delegated(frozenset({"MMYY", "MM/YY"})),
)
JEDEC = Rule(
    "JEDEC",
    "1",
    "JEDEC-style YYWW (4 digits) or YWW (3 digits), optionally followed by a site/lot letter that is ignored.",
    _read_jedec,
)
JUCHE = Rule(
    "JUCHE",
    "1",
    "North Korean Juche year (Gregorian = Juche + 1911), optionally with a month: 주체112, 주체112년 3월, J112.",
    _delegated(frozenset({"JUCHE"})),
)
FULL = Rule(
    "FULL",
    "1",
    "A date with a four-digit year: YYYY, YYYY-MM, MM/YYYY, YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY or MM/DD/YYYY.",
    _delegated(frozenset({"YYYY", "YYYY-MM", "MM/YYYY", "YYYY-MM-DD", "DD.MM.YYYY", "DD/MM/YYYY", "MM/DD/YYYY"})),
)

# Every rule and version this module knows, in the order `read_code` applies them.
RULES: tuple[Rule, ...] = (YYWW, YWW, YYMM, MMYY, JEDEC, JUCHE, FULL)
# The rules `read_code` uses unless told otherwise: the latest version of each name.
DEFAULT_RULES: tuple[Rule, ...] = RULES


def _version_key(version: str) -> tuple[int, int | str]:
    return (1, int(version)) if version.isdigit() else (0, version)


def rule_by_name(name: str, version: str | None = None, *, rules: Sequence[Rule] = RULES) -> Rule:
    """The rule called `name` at `version` (default: its latest version). Raises KeyError if there is none."""
    candidates = [r for r in rules if r.name == name and (version is None or r.version == version)]
    if not candidates:
        known = ", ".join(r.label for r in rules)
        wanted = name if version is None else f"{name} v{version}"
        raise KeyError(f"no date-code rule {wanted}; known: {known}")
    return max(candidates, key=lambda r: _version_key(r.version))


# --- lot tables ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LotTable:
    """A manufacturer's lot-code -> production-window table.

    `prefixes` maps a lot-code prefix (compared case-insensitively) to (earliest, latest);
    `patterns` maps a regular expression, which must match the whole code (case-insensitive),
    to (earliest, latest). A code matching several entries gets every matching window.
    """

    manufacturer: str
    version: str
    prefixes: Mapping[str, tuple[date, date]] = field(default_factory=dict)
    patterns: Mapping[str, tuple[date, date]] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        if not self.manufacturer.strip() or not self.version.strip():
            raise ValueError("a lot table needs a manufacturer and a version")
        for key, (earliest, latest) in [*self.prefixes.items(), *self.patterns.items()]:
            if earliest > latest:
                raise ValueError(f"lot table entry {key!r}: {earliest} is after {latest}")
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"lot table pattern {pattern!r} is not a regular expression: {error}") from None

    @property
    def rule_name(self) -> str:
        return f"LOT:{self.manufacturer}"

    @property
    def rule(self) -> Rule:
        return lot_rule(self)


def _parse_day(value: Any, where: str) -> date:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected an ISO date string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _parse_entries(data: Mapping[str, Any], key: str) -> dict[str, tuple[date, date]]:
    entries = data.get(key, {})
    if not isinstance(entries, Mapping):
        raise ValueError(f"lot table {key!r} must be an object of code -> [earliest, latest]")
    parsed = {}
    for code, span in entries.items():
        if not isinstance(span, (list, tuple)) or len(span) != 2:
            raise ValueError(f"lot table {key}[{code!r}] must be [earliest, latest]")
        parsed[str(code)] = (_parse_day(span[0], f"{key}[{code!r}]"), _parse_day(span[1], f"{key}[{code!r}]"))
    return parsed


def lot_table_from_dict(data: Mapping[str, Any]) -> LotTable:
    """A `LotTable` from a plain dict:

    {"manufacturer": "...", "version": "...", "source": "... (optional)",
     "prefixes": {"K3C": ["2023-03-01", "2023-03-31"]},
     "patterns": {"X23Q1[0-9]{3}": ["2023-01-01", "2023-03-31"]}}
    """
    if not isinstance(data, Mapping):
        raise ValueError("a lot table must be a JSON object")
    manufacturer, version = data.get("manufacturer"), data.get("version")
    if not isinstance(manufacturer, str) or not isinstance(version, str):
        raise ValueError("a lot table needs string 'manufacturer' and 'version' fields")
    unknown = set(data) - {"manufacturer", "version", "source", "prefixes", "patterns"}
    if unknown:
        raise ValueError(f"unknown lot table fields: {', '.join(sorted(unknown))}")
    return LotTable(
        manufacturer=manufacturer,
        version=version,
        prefixes=_parse_entries(data, "prefixes"),
        patterns=_parse_entries(data, "patterns"),
        source=str(data.get("source", "")),
    )


def lot_table_from_json(text: str) -> LotTable:
    """A `LotTable` from JSON text (see `lot_table_from_dict` for the shape). Raises ValueError on bad input."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"lot table is not valid JSON: {error}") from None
    return lot_table_from_dict(data)


def lot_rule(table: LotTable) -> Rule:
    """The rule that reads codes through `table`: name "LOT:<manufacturer>", version = the table's version."""
    compiled = [(re.compile(p, re.IGNORECASE), p, span) for p, span in table.patterns.items()]
    where = f"{table.manufacturer}'s lot table v{table.version}"

    def read(code: str, horizon: date, earliest_year: int) -> list[Period]:
        text = unicodedata.normalize("NFKC", code).strip()
        periods = [
            (*span, f"lot prefix {prefix!r} in {where}")
            for prefix, span in table.prefixes.items()
            if prefix and text.upper().startswith(prefix.upper())
        ]
        periods += [(*span, f"lot pattern {raw!r} in {where}") for rx, raw, span in compiled if rx.fullmatch(text)]
        return periods

    description = f"Lot codes looked up in {where}" + (f" ({table.source})" if table.source else "") + "."
    return Rule(table.rule_name, table.version, description, read)


# --- reading a code --------------------------------------------------------------------------------------------


def read_code(
    code: str,
    *,
    rules: Sequence[Rule] = DEFAULT_RULES,
    lot_tables: Iterable[LotTable] = (),
    not_after: date | None = None,
    earliest_year: int = 1950,
) -> list[Window]:
    """Every window any rule (or lot table) allows for `code`, de-duplicated and sorted by (earliest, latest).

    An ambiguous code yields every window; none is picked. When several rules give the same period, it is
    listed once under the first of them (in `rules` order, lot tables last) and its explanation names the
    others. Windows starting after `not_after` (default today) are dropped. `[]` when nothing matches.
    """
    horizon = _horizon(not_after)
    found: dict[tuple[date, date], Window] = {}
    for rule in [*rules, *(lot_rule(t) for t in lot_tables)]:
        for window in rule.windows(code, not_after=horizon, earliest_year=earliest_year):
            key = (window.earliest, window.latest)
            if key not in found:
                found[key] = window
            elif found[key].rule != rule.name:
                first = found[key]
                found[key] = replace(first, explanation=f"{first.explanation}; same period under {rule.label}")
    return sorted(found.values(), key=_order)
