"""Charts for the dossier, drawn with matplotlib's Agg renderer into PNG files (no network, no pyplot).

Figures are built with matplotlib.figure.Figure directly, so nothing touches pyplot's global
state or the process-wide backend. Text uses DejaVu Sans with NanumGothic as fallback (the fonts
shipped in evidence/export/fonts/), so Latin, Cyrillic and Hangul labels all render.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

FONT_DIR = Path(__file__).resolve().parent / "fonts"
TIMELINE_INCHES = (6.8, 2.5)
MAP_INCHES = (6.8, 4.4)
BARS_INCHES = (6.8, 2.6)

FONT_FAMILY = ["DejaVu Sans", "NanumGothic"]
PALETTE = ["#1F3A5F", "#C8553D", "#2A9D8F", "#E9C46A", "#8E5572", "#6C8EAD", "#F4A261", "#3D5A80", "#98C1D9", "#7A7A7A"]
DPI = 200

_lock = threading.Lock()
_fonts_added = False


@dataclass(frozen=True)
class TimelinePoint:
    day: date
    kind: str


@dataclass(frozen=True)
class MapPoint:
    longitude: float
    latitude: float
    kind: str
    region: str
    casualties: int


def _setup() -> None:
    global _fonts_added
    with _lock:
        if _fonts_added:
            return
        from matplotlib import font_manager

        for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "NanumGothic.ttf", "NanumGothicBold.ttf"):
            path = FONT_DIR / name
            if path.is_file():
                font_manager.fontManager.addfont(str(path))
        _fonts_added = True


def _rc() -> dict:
    return {
        "font.family": FONT_FAMILY,
        "font.size": 7,
        "axes.titlesize": 8,
        "axes.labelsize": 7,
        "axes.edgecolor": "#8A929C",
        "axes.linewidth": 0.6,
        "xtick.labelsize": 6.5,
        "ytick.labelsize": 6.5,
        "legend.fontsize": 6.5,
        "svg.fonttype": "none",
    }


def _colors(kinds: Sequence[str]) -> dict[str, str]:
    return {kind: PALETTE[index % len(PALETTE)] for index, kind in enumerate(kinds)}


def _bucket(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def timeline_unit(days: Sequence[date]) -> str:
    """day, week or month: whichever keeps the number of bars readable."""
    if not days:
        return "day"
    span = (max(days) - min(days)).days
    if span <= 62:
        return "day"
    if span <= 2 * 366:
        return "week"
    return "month"


def pixel_size(inches: tuple[float, float]) -> tuple[int, int]:
    """The PNG's size in pixels: figures are saved at DPI without trimming."""
    return round(inches[0] * DPI), round(inches[1] * DPI)


ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_tick_labels(days: Sequence[date], months: Sequence[str] = ENGLISH_MONTHS) -> list[str]:
    """Labels of the time axis in the dossier's language, not the C locale's: "Mar", "15", "2024"...

    A tick on the first of a month names the month, a year's first month or the first tick names the
    year too; other ticks name the day (and the month on the first tick).
    """
    labels = []
    for index, day in enumerate(days):
        month = months[day.month - 1]
        if day.day == 1:
            labels.append(f"{month} {day.year}" if index == 0 or day.month == 1 else month)
        else:
            labels.append(f"{day.day} {month} {day.year}" if index == 0 else str(day.day))
    return labels


def timeline_chart(
    points: Sequence[TimelinePoint], out: Path, *, y_label: str, months: Sequence[str] = ENGLISH_MONTHS
) -> str:
    """Stacked bars of incidents per day/week/month coloured by kind; returns the unit used.

    months: the twelve short month names of the dossier's language, for the time axis.
    """
    _setup()
    from matplotlib import dates as mdates
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    unit = timeline_unit([point.day for point in points])
    counts: dict[str, Counter] = defaultdict(Counter)
    for point in points:
        counts[point.kind][_bucket(point.day, unit)] += 1
    kinds = sorted(counts, key=lambda kind: (-sum(counts[kind].values()), kind))
    buckets = sorted({bucket for per_kind in counts.values() for bucket in per_kind})
    if buckets:
        # Fill gaps so that quiet periods show as such.
        step = {"day": 1, "week": 7}.get(unit)
        if step:
            first, last = buckets[0], buckets[-1]
            buckets = [first + timedelta(days=offset) for offset in range(0, (last - first).days + 1, step)]
        else:
            months, current = [], buckets[0]
            while current <= buckets[-1]:
                months.append(current)
                current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
            buckets = months
    bar_width = {"day": 0.8, "week": 5.6, "month": 24}[unit]
    colour = _colors(kinds)
    with rc_context(_rc()):
        figure = Figure(figsize=TIMELINE_INCHES, dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(1, 1, 1)
        # One collection of rectangles per kind: far cheaper than a Rectangle artist per bar.
        starts = [mdates.date2num(datetime(day.year, day.month, day.day)) for day in buckets]
        if unit == "day":
            starts = [start - bar_width / 2 for start in starts]
        bottom = [0] * len(buckets)
        for kind in kinds:
            heights = [counts[kind].get(bucket, 0) for bucket in buckets]
            boxes = [
                [(x, low), (x + bar_width, low), (x + bar_width, low + high), (x, low + high)]
                for x, low, high in zip(starts, bottom, heights, strict=True)
                if high
            ]
            axes.add_collection(PolyCollection(boxes, facecolors=colour[kind], linewidths=0, label=kind))
            bottom = [low + high for low, high in zip(bottom, heights, strict=True)]
        if starts:
            axes.set_xlim(starts[0] - bar_width, starts[-1] + 2 * bar_width)
            axes.set_ylim(0, max(1, max(bottom)) * 1.05)
        axes.xaxis_date()
        axes.set_ylabel(y_label)
        axes.yaxis.get_major_locator().set_params(integer=True)
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
        axes.xaxis.set_major_locator(locator)
        ticks = [value for value in locator() if axes.get_xlim()[0] <= value <= axes.get_xlim()[1]]
        axes.set_xticks(ticks, date_tick_labels([mdates.num2date(value).date() for value in ticks], months))
        axes.grid(axis="y", color="#DDE2E8", linewidth=0.5)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        if kinds:
            handles = [Patch(facecolor=colour[kind], label=kind) for kind in kinds]
            axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, borderaxespad=0)
        # Fixed margins (tight_layout would draw the figure once more to measure it).
        figure.subplots_adjust(left=0.075, right=0.80, bottom=0.14, top=0.97)
        # Stored, not compressed: ReportLab decodes the PNG and compresses it into the PDF anyway.
        figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"compress_level": 0})
    return unit


def decimal_formatter(decimal: str):
    """matplotlib's tick labels with the dossier language's decimal separator: 50.5 / 50,5."""
    from matplotlib.ticker import ScalarFormatter

    class Formatter(ScalarFormatter):
        def __call__(self, x, pos=None):
            return super().__call__(x, pos).replace(".", decimal)

    formatter = Formatter(useOffset=False)
    return formatter


def map_chart(points: Sequence[MapPoint], out: Path, *, x_label: str, y_label: str, decimal: str = ".") -> None:
    """Incident coordinates (longitude, latitude), coloured by kind, sized by casualties, regions labelled.

    decimal: the decimal separator of the dossier's language, for the degrees on the axes.
    """
    _setup()
    from matplotlib import patheffects, rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kinds = sorted({point.kind for point in points}, key=lambda kind: (-sum(p.kind == kind for p in points), kind))
    colour = _colors(kinds)
    longitudes = [point.longitude for point in points]
    latitudes = [point.latitude for point in points]
    mean_latitude = sum(latitudes) / len(latitudes)
    with rc_context(_rc()):
        figure = Figure(figsize=MAP_INCHES, dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(1, 1, 1)
        for kind in kinds:
            selected = [point for point in points if point.kind == kind]
            axes.scatter(
                [point.longitude for point in selected],
                [point.latitude for point in selected],
                s=[14 + 10 * math.sqrt(max(0, point.casualties)) for point in selected],
                color=colour[kind],
                alpha=0.75,
                edgecolors="white",
                linewidths=0.4,
                label=kind,
                zorder=3,
            )
        regions: dict[str, list[MapPoint]] = defaultdict(list)
        for point in points:
            if point.region:
                regions[point.region].append(point)
        busiest = sorted(regions, key=lambda region: (-len(regions[region]), region))[:24]
        for region in busiest:
            members = regions[region]
            x = sum(point.longitude for point in members) / len(members)
            y = sum(point.latitude for point in members) / len(members)
            text = axes.annotate(
                f"{region} ({len(members)})",
                (x, y),
                xytext=(5, 5),
                textcoords="offset points",
                fontsize=6.5,
                color="#1B2633",
                zorder=4,
            )
            text.set_path_effects([patheffects.withStroke(linewidth=2.2, foreground="white")])
        pad_x = max(0.6, (max(longitudes) - min(longitudes)) * 0.08)
        pad_y = max(0.4, (max(latitudes) - min(latitudes)) * 0.08)
        axes.set_xlim(min(longitudes) - pad_x, max(longitudes) + pad_x)
        axes.set_ylim(min(latitudes) - pad_y, max(latitudes) + pad_y)
        # Equirectangular with the scale of the mean latitude: distances look right.
        axes.set_aspect(1 / max(0.2, math.cos(math.radians(mean_latitude))), adjustable="box")
        axes.xaxis.set_major_formatter(decimal_formatter(decimal))
        axes.yaxis.set_major_formatter(decimal_formatter(decimal))
        axes.set_xlabel(x_label)
        axes.set_ylabel(y_label)
        axes.grid(color="#DDE2E8", linewidth=0.5)
        axes.set_axisbelow(True)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, borderaxespad=0, markerscale=0.8)
        figure.subplots_adjust(left=0.08, right=0.80, bottom=0.09, top=0.98)
        # Stored, not compressed: ReportLab decodes the PNG and compresses it into the PDF anyway.
        figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"compress_level": 0})


def quarters_between(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    """Every (year, quarter) from first to last inclusive, so that empty quarters show as such."""
    quarters, (year, quarter) = [], first
    while (year, quarter) <= last:
        quarters.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return quarters


def bar_chart(
    bars: Sequence[tuple[str, int]], out: Path, *, axis_label: str, horizontal: bool = False, inches=BARS_INCHES
) -> None:
    """Labelled bars of counts (horizontal: one bar a line, first on top), integer ticks."""
    _setup()
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = [name for name, _ in bars]
    counts = [count for _, count in bars]
    with rc_context(_rc()):
        figure = Figure(figsize=inches, dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(1, 1, 1)
        positions = list(range(len(bars)))
        if horizontal:
            axes.barh(positions, counts, color=PALETTE[0], height=0.6)
            axes.set_yticks(positions, names)
            axes.invert_yaxis()
            axes.set_xlabel(axis_label)
            axes.xaxis.get_major_locator().set_params(integer=True)
            axes.grid(axis="x", color="#DDE2E8", linewidth=0.5)
            figure.subplots_adjust(left=0.28, right=0.97, bottom=0.17, top=0.97)
        else:
            axes.bar(positions, counts, color=PALETTE[0], width=0.7)
            axes.set_xticks(
                positions, names, rotation=45 if len(bars) > 8 else 0, ha="right" if len(bars) > 8 else "center"
            )
            axes.set_ylabel(axis_label)
            axes.yaxis.get_major_locator().set_params(integer=True)
            axes.grid(axis="y", color="#DDE2E8", linewidth=0.5)
            figure.subplots_adjust(left=0.08, right=0.98, bottom=0.24 if len(bars) > 8 else 0.14, top=0.97)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"compress_level": 0})


# --- charts from a JSON-able spec ---------------------------------------------------------------------


def draw_charts(spec: dict[str, Any]) -> None:
    """Draw the charts a spec describes (JSON-able, as evidence.export.pdf.sidejob passes it to its child)."""
    timeline = spec.get("timeline")
    if timeline:
        points = [TimelinePoint(date.fromisoformat(day), kind) for day, kind in timeline["points"]]
        timeline_chart(
            points, Path(timeline["out"]), y_label=timeline["y_label"], months=timeline.get("months", ENGLISH_MONTHS)
        )
    for key, horizontal in (("countries", True), ("quarters", False)):
        bars = spec.get(key)
        if bars:
            bar_chart(
                [(name, count) for name, count in bars["bars"]],
                Path(bars["out"]),
                axis_label=bars["axis_label"],
                horizontal=horizontal,
            )
    locations = spec.get("map")
    if locations:
        points = [MapPoint(*point) for point in locations["points"]]
        map_chart(
            points,
            Path(locations["out"]),
            x_label=locations["x_label"],
            y_label=locations["y_label"],
            decimal=locations.get("decimal", "."),
        )
