"""Earliest-assembly inference from component date codes: a lower bound only (pure, no Django, no I/O).

See docs/date-codes.md#the-inference-a-lower-bound-only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from evidence.lib.datecodes import MONTH_NAMES
from evidence.lib.daterules import Window

__all__ = [
    "CAVEAT",
    "NO_BOUND_CAVEAT",
    "ComponentReading",
    "Inference",
    "format_not_before",
    "infer_earliest_assembly",
    "share_in_years",
]


CAVEAT = (
    "A date code says when a part was made, not when it was fitted. Parts can sit in stock for years before "
    "they are built into a weapon, so the newest date code only shows that the weapon was assembled no earlier "
    "than that date; it may have been assembled much later. Date codes never bound assembly from above. "
    "Codes that can be read in more than one way count with their earliest reading, and only readings an "
    "analyst has verified count at all."
)

NO_BOUND_CAVEAT = (
    "No verified, readable date code: nothing here bounds the assembly date. "
    "Even when there are date codes, they only bound assembly from below, because parts can be stockpiled."
)


@dataclass(frozen=True, slots=True)
class ComponentReading:
    """One date code read off one component, with every window the rules allow for it."""

    component_id: str
    label: str
    raw_code: str
    windows: tuple[Window, ...]
    verified: bool

    @property
    def lower_bound(self) -> date | None:
        """The earliest day any of the windows allows; None when the code gave no window."""
        return min((w.earliest for w in self.windows), default=None)

    @property
    def counts(self) -> bool:
        """Whether this reading takes part in the inference: verified and with at least one window."""
        return self.verified and bool(self.windows)


@dataclass(frozen=True)
class Inference:
    """The earliest-assembly bound and the numbers behind it.

    `production_histogram` maps (year, quarter 1-4) to the number of counted readings whose LOWER BOUND
    (earliest window start) falls in that quarter; each counted reading is counted exactly once, so an
    ambiguous reading appears in the quarter of its earliest reading only. Keys are in ascending order.
    """

    not_before: date | None
    resting_on: list[ComponentReading]
    readings_counted: int
    components_total: int
    components_without_code: int
    share_with_code: float | None
    caveat: str
    production_histogram: dict[tuple[int, int], int]


def _quarter(day: date) -> tuple[int, int]:
    return (day.year, (day.month - 1) // 3 + 1)


def infer_earliest_assembly(readings: Iterable[ComponentReading], components_total: int) -> Inference:
    """The latest of the verified readings' lower bounds, and the counts that go with it.

    `components_total` is the number of components examined, with or without a code.
    A component "has a code" when at least one of its readings counts (verified, with a window);
    `components_without_code` is the rest, and `share_with_code` is the share that has one
    (None when `components_total` is 0). `resting_on` lists, in input order, every counted reading
    whose lower bound equals `not_before`.
    """
    counted = [r for r in readings if r.counts]
    with_code = len({r.component_id for r in counted})
    if components_total < 0:
        raise ValueError("components_total cannot be negative")
    if with_code > components_total:
        raise ValueError(f"{with_code} components have a verified code but components_total is {components_total}")

    bounds = [(r, r.lower_bound) for r in counted]
    not_before = max((b for _, b in bounds if b is not None), default=None)
    resting_on = [r for r, b in bounds if b == not_before] if not_before is not None else []
    histogram = Counter(_quarter(b) for _, b in bounds if b is not None)

    return Inference(
        not_before=not_before,
        resting_on=resting_on,
        readings_counted=len(counted),
        components_total=components_total,
        components_without_code=components_total - with_code,
        share_with_code=with_code / components_total if components_total else None,
        caveat=CAVEAT if not_before is not None else NO_BOUND_CAVEAT,
        production_histogram=dict(sorted(histogram.items())),
    )


def format_not_before(day: date) -> str:
    """Month and year in English, e.g. "March 2023"."""
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


def share_in_years(readings: Sequence[ComponentReading], first_year: int, last_year: int) -> float:
    """Share of the counted readings (verified, with a window) that lie entirely within first_year..last_year.

    A reading is inside only when EVERY one of its windows is, so an ambiguous reading that might fall
    outside the years is not claimed for them. Returns 0.0 when no reading counts.
    """
    if first_year > last_year:
        raise ValueError(f"first_year {first_year} is after last_year {last_year}")
    counted = [r for r in readings if r.counts]
    if not counted:
        return 0.0
    start, end = date(first_year, 1, 1), date(last_year, 12, 31)
    inside = sum(1 for r in counted if all(start <= w.earliest and w.latest <= end for w in r.windows))
    return inside / len(counted)
