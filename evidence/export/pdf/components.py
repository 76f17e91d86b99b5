"""The component table (CAR style), its two charts and the earliest-assembly statement."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph

from evidence.export import charts
from evidence.export.pdf.common import DASH, FRAME_WIDTH, Context, data_tables
from evidence.export.pdf.images import PendingPicture
from evidence.export.pdf.labels import format_date, format_int, format_month
from evidence.export.pdf.text import MONO, SANS_BOLD, TextLine

if TYPE_CHECKING:
    from evidence.export.pdf.data import ComponentRow, DateCodeRow

ROMAN = ("I", "II", "III", "IV")
HASH_SHOWN = 12


def quarter_label(year: int, quarter: int, language: str) -> str:
    """Q2 2023 / II кв. 2023."""
    return f"{ROMAN[quarter - 1]} кв. {year}" if language == "uk" else f"Q{quarter} {year}"


def chart_spec(ctx: Context) -> dict[str, Any]:
    """The component charts' data (JSON-able), added to the dossier's chart spec when there are components."""
    rows = ctx.data.components
    if not rows:
        return {}
    unknown = ctx.labels["country_unknown"]
    by_country = Counter(row.country.strip() or unknown for row in rows)
    spec: dict[str, Any] = {
        "countries": {
            "bars": sorted(by_country.items(), key=lambda item: (-item[1], item[0])),
            "out": str(ctx.tmp / "countries.png"),
            "axis_label": ctx.labels["country_axis"],
        }
    }
    bounds = [row.bound for row in rows if row.bound is not None]
    if bounds:
        by_quarter = Counter((day.year, (day.month - 1) // 3 + 1) for day in bounds)
        quarters = charts.quarters_between(min(by_quarter), max(by_quarter))
        spec["quarters"] = {
            "bars": [[quarter_label(*quarter, ctx.language), by_quarter.get(quarter, 0)] for quarter in quarters],
            "out": str(ctx.tmp / "quarters.png"),
            "axis_label": ctx.labels["production_axis"],
        }
    return spec


def _chart(ctx: Context, key: str, max_height: float) -> Flowable:
    path = Path(ctx.chart_spec[key]["out"])

    def resolve() -> Path:
        ctx.side.wait()
        return path

    return PendingPicture(key, resolve, charts.pixel_size(charts.BARS_INCHES), FRAME_WIDTH, max_height)


def date_code_text(ctx: Context, reading: DateCodeRow) -> str:
    """2319 (JEDEC v1): 5 Jun 2023 to 11 Jun 2023 (en dash), every window of an ambiguous code on its own line."""
    language = ctx.language

    def window(earliest: Any, latest: Any) -> str:
        return f"{format_date(earliest, language, short=True)} \u2013 {format_date(latest, language, short=True)}"

    head = f"{reading.raw_code} ({reading.rule})" if reading.rule else reading.raw_code
    windows = list(reading.windows) or [(reading.earliest, reading.latest)]
    text = "\n".join([head, *(window(*pair) for pair in windows)])
    if not reading.counted:
        text += f"\n[{ctx.labels['not_verified_reading']}]"
    return text


def _manufacturer(ctx: Context, row: ComponentRow) -> str:
    if row.distributor:
        return f"{row.manufacturer or DASH}\n{ctx.labels['distributor']}: {row.distributor}"
    return row.manufacturer


def _photos(row: ComponentRow) -> str:
    return "\n".join(f"{photo.name}\n{photo.sha256[:HASH_SHOWN]}…" for photo in row.photos) or DASH


def component_table(ctx: Context) -> list[Flowable]:
    styles = ctx.styles
    story: list[Flowable] = [
        TextLine(
            [(ctx.labels["components"], SANS_BOLD)], styles.h1, outline=("components", ctx.labels["components"], 0)
        ),
        Paragraph(ctx.label("components_note"), styles.note),
    ]
    # Points; each header word must fit at the smallest header size in both languages (test_dossier_verification).
    widths = (40, 46, 52, 66, 56, 54, 34, 0, 70)
    widths = (*widths[:7], FRAME_WIDTH - sum(widths), widths[8])
    story += data_tables(
        ctx,
        (
            "col_number",
            "col_designator",
            "col_function",
            "col_manufacturer",
            "col_hq_country",
            "col_part_number",
            "col_lot",
            "col_date_codes",
            "col_photo_refs",
        ),
        (
            (
                row.exhibit,
                row.designator,
                row.function,
                _manufacturer(ctx, row),
                row.country,
                row.part_number,
                row.lot_code,
                "\n".join(date_code_text(ctx, reading) for reading in row.date_codes) or ctx.labels["no_date_code"],
                _photos(row),
            )
            for row in ctx.data.components
        ),
        widths,
        fonts={0: (SANS_BOLD, 7), 8: (MONO, 6)},
    )
    story += assembly(ctx)
    story += component_charts(ctx)
    return story


def assembly(ctx: Context) -> list[Flowable]:
    statement = ctx.data.assembly
    if statement is None:
        return []
    styles, language = ctx.styles, ctx.language
    values = {
        "readings": format_int(statement.readings, language),
        "components": format_int(statement.components, language),
        "without": format_int(statement.without_code, language),
    }
    if statement.not_before is not None:
        text = ctx.label("assembly_statement", month=format_month(statement.not_before, language), **values)
    else:
        text = ctx.label("assembly_none", **values)
    return [
        CondPageBreak(40 * mm),
        Paragraph(ctx.label("assembly_title"), styles.h2),
        Paragraph(text, styles.body),
        Paragraph(ctx.label("assembly_caveat"), styles.note),
    ]


def component_charts(ctx: Context) -> list[Flowable]:
    styles = ctx.styles
    story: list[Flowable] = []
    if "countries" in ctx.chart_spec:
        heading = Paragraph(ctx.label("country_chart"), styles.h2)
        story += [CondPageBreak(85 * mm), KeepTogether([heading, _chart(ctx, "countries", 75 * mm)])]
    if "quarters" in ctx.chart_spec:
        heading = Paragraph(ctx.label("production_chart"), styles.h2)
        caption = Paragraph(ctx.label("production_note"), styles.caption)
        story += [CondPageBreak(90 * mm), KeepTogether([heading, _chart(ctx, "quarters", 75 * mm), caption])]
    return story
