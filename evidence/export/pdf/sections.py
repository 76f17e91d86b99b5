"""The dossier's sections other than the exhibits: cover, summary, incidents, sources, annex."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Preformatted, Spacer, Table

from evidence.export import charts
from evidence.export.pdf.common import (
    DASH,
    FRAME_WIDTH,
    Context,
    data_tables,
    key_value_table,
    stance_cell,
    table_style,
)
from evidence.export.pdf.images import PendingPicture
from evidence.export.pdf.labels import as_utc, format_date, format_datetime, format_int, format_share, month_names
from evidence.export.pdf.text import LIGHT, MONO, NAVY, SANS_BOLD, TextLine, chunk_text, clean, markup, para

# --- cover ------------------------------------------------------------------------------------


def cover(ctx: Context) -> list[Flowable]:
    data, styles = ctx.data, ctx.styles
    story: list[Flowable] = [
        TextLine(
            [(ctx.labels["document_title"].upper(), SANS_BOLD)],
            styles.cover_kicker,
            outline=("cover", data.case_reference, 0),
        ),
        Paragraph(markup(data.case_reference), styles.cover_reference),
        para(data.case_title, styles.cover_title),
    ]
    basis: Any = [para(item, styles.cell) for item in data.legal_basis] or DASH
    story.append(
        key_value_table(
            [
                (ctx.label("status"), data.case_status),
                (ctx.label("legal_basis"), basis),
                (ctx.label("opened_on"), format_date(data.opened_on, ctx.language)),
                (ctx.label("generated_at"), format_datetime(data.generated_at, ctx.language)),
                (ctx.label("generated_by"), data.generated_by),
                (ctx.label("language"), ctx.label("language_name")),
            ],
            (42 * mm, FRAME_WIDTH - 42 * mm),
            styles,
        )
    )
    story.append(Spacer(1, 9 * mm))
    story.append(integrity_box(ctx))
    return story


def integrity_box(ctx: Context) -> Flowable:
    """The ledger head and its signed checkpoint, each value on its own line, in a framed box."""
    data, styles = ctx.data, ctx.styles
    inner = FRAME_WIDTH - 16

    def entry(label_key: str, value: str, style: Any) -> list[Flowable]:
        return [Paragraph(ctx.label(label_key), styles.label), para(value or DASH, style), Spacer(1, 3.5)]

    content: list[Flowable] = [
        Paragraph(ctx.label("integrity"), styles.h3),
        Paragraph(ctx.label("integrity_note"), styles.note),
        Spacer(1, 4),
    ]
    content += entry("published_head", data.published_head, styles.mono)
    pairs = Table(
        [
            [
                entry("ledger_size", format_int(data.ledger_size, ctx.language), styles.mono),
                entry("checkpoint_signed_at", data.checkpoint_signed_at, styles.mono),
            ],
            [
                entry("checkpoint_key", data.checkpoint_key, styles.mono),
                entry("public_key_fingerprint", data.public_key_fingerprint, styles.mono),
            ],
        ],
        colWidths=[inner * 0.35, inner * 0.65],
        hAlign="LEFT",
    )
    pairs.setStyle(
        table_style(
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("LINEBELOW", (0, 0), (-1, -1), 0, LIGHT),
            ("TOPPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            header=False,
            zebra=False,
        )
    )
    content.append(pairs)
    content += entry("ledger_head", data.ledger_head, styles.mono)
    content += entry("checkpoint_signature", data.checkpoint_signature, styles.mono)
    box = Table([[content]], colWidths=[FRAME_WIDTH], hAlign="LEFT")
    box.setStyle(
        table_style(
            ("BOX", (0, 0), (-1, -1), 0.8, NAVY),
            ("LINEBEFORE", (0, 0), (0, -1), 3, NAVY),
            ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ("TOPPADDING", (0, 0), (-1, -1), 6),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            header=False,
            zebra=False,
        )
    )
    return box


# --- summary ----------------------------------------------------------------------------------


def summary(ctx: Context) -> list[Flowable]:
    data, styles = ctx.data, ctx.styles
    stats: Mapping[str, Any] = data.statistics or {}
    story: list[Flowable] = [
        TextLine([(ctx.labels["summary"], SANS_BOLD)], styles.h1, outline=("summary", ctx.labels["summary"], 0))
    ]
    if data.case_summary.strip():
        story.append(Paragraph(ctx.label("case_summary"), styles.h2))
        for block in data.case_summary.strip().split("\n\n"):
            # Pieces of bounded length, each a Paragraph that splits across pages cheaply.
            story += [para(piece, styles.body) for piece in chunk_text(block.strip()) if piece.strip()]
    story.append(Paragraph(ctx.label("statistics"), styles.h2))
    language = ctx.language
    figures = [
        ("stat_incidents", format_int(stats.get("incidents"), language)),
        ("stat_killed", format_int(stats.get("killed"), language)),
        ("stat_wounded", format_int(stats.get("wounded"), language)),
        ("stat_launches", format_int(stats.get("launches"), language)),
        ("stat_failed", format_int(stats.get("launches_failed_in_flight"), language)),
        ("stat_failed_share", format_share(stats.get("failed_in_flight_share"), language)),
        ("stat_by_debris", format_int(stats.get("launches_identified_by_debris"), language)),
        (
            "stat_by_trajectory",
            format_int(stats.get("launches_identified_by_trajectory_speed_or_launch_site"), language),
        ),
    ]
    story += data_tables(
        ctx,
        None,
        [(Paragraph(ctx.label(key), styles.cell), value) for key, value in figures],
        (110 * mm, 25 * mm),
        right=(1,),
    )
    breakdowns = [(key, stats.get(key) or {}) for key in ("by_kind", "by_outcome", "by_region")]
    breakdowns = [(key, values) for key, values in breakdowns if values]
    if breakdowns:
        gap = 5 * mm
        column = (FRAME_WIDTH - gap * (len(breakdowns) - 1)) / len(breakdowns)
        cells = []
        for key, values in breakdowns:
            ordered = sorted(values.items(), key=lambda item: (-item[1], str(item[0])))
            cells.append(
                data_tables(
                    ctx,
                    (key, "count"),
                    [(name, format_int(number, language)) for name, number in ordered],
                    (column - 18 * mm, 18 * mm),
                    right=(1,),
                    chunk=10_000,
                )
            )
        row: list[Any] = []
        widths: list[float] = []
        for index, tables in enumerate(cells):
            if index:
                row.append("")
                widths.append(gap)
            row.append(tables)
            widths.append(column)
        side_by_side = Table([row], colWidths=widths, hAlign="LEFT")
        side_by_side.setStyle(
            table_style(
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, -1), 0, LIGHT),
                header=False,
                zebra=False,
            )
        )
        story += [Spacer(1, 5 * mm), side_by_side]
    story += timeline(ctx)
    story += locations(ctx)
    return story


def chart_spec(ctx: Context) -> dict[str, Any]:
    """What the charts show, as JSON-able data for charts.ChartJob (drawn beside the layout)."""
    spec: dict[str, Any] = {}
    incidents = ctx.data.incidents
    if incidents:
        days = [as_utc(row.occurred_at).date() for row in incidents]
        unit = charts.timeline_unit(days)
        spec["timeline"] = {
            "points": [[day.isoformat(), row.kind or DASH] for day, row in zip(days, incidents, strict=True)],
            "out": str(ctx.tmp / "timeline.png"),
            "y_label": ctx.labels[f"per_{unit}"].split(" (")[0],
            "unit": unit,
            "months": month_names(ctx.language),
        }
    located = [row for row in incidents if row.latitude is not None and row.longitude is not None]
    if located:
        spec["map"] = {
            "points": [
                [row.longitude, row.latitude, row.kind or DASH, row.region, (row.killed or 0) + (row.wounded or 0)]
                for row in located
            ],
            "out": str(ctx.tmp / "map.png"),
            "x_label": ctx.labels["longitude"],
            "y_label": ctx.labels["latitude"],
            "decimal": "," if ctx.language == "uk" else ".",
        }
    return spec


def _chart(ctx: Context, key: str, inches: tuple[float, float], max_height: float) -> Flowable:
    path = Path(ctx.chart_spec[key]["out"])

    def resolve() -> Path:
        ctx.side.wait()
        return path

    return PendingPicture(key, resolve, charts.pixel_size(inches), FRAME_WIDTH, max_height)


def timeline(ctx: Context) -> list[Flowable]:
    styles = ctx.styles
    heading = Paragraph(ctx.label("timeline_chart"), styles.h2)
    spec = ctx.chart_spec.get("timeline")
    if not spec:
        return [heading, Paragraph(ctx.label("no_incidents"), styles.note)]
    picture = _chart(ctx, "timeline", charts.TIMELINE_INCHES, 80 * mm)
    caption = Paragraph(ctx.label(f"per_{spec['unit']}"), styles.caption)
    return [CondPageBreak(90 * mm), KeepTogether([heading, picture, caption])]


def locations(ctx: Context) -> list[Flowable]:
    styles = ctx.styles
    heading = Paragraph(ctx.label("map_chart"), styles.h2)
    if "map" not in ctx.chart_spec:
        return [heading, Paragraph(ctx.label("no_coordinates"), styles.note)]
    picture = _chart(ctx, "map", charts.MAP_INCHES, 130 * mm)
    return [CondPageBreak(140 * mm), KeepTogether([heading, picture, Paragraph(ctx.label("map_note"), styles.caption)])]


# --- incidents --------------------------------------------------------------------------------


def incidents(ctx: Context) -> list[Flowable]:
    styles, language = ctx.styles, ctx.language
    story: list[Flowable] = [
        TextLine([(ctx.labels["incidents"], SANS_BOLD)], styles.h1, outline=("incidents", ctx.labels["incidents"], 0))
    ]
    rows = sorted(ctx.data.incidents, key=lambda row: as_utc(row.occurred_at))
    if not rows:
        return [*story, Paragraph(ctx.label("no_incidents"), styles.note)]
    widths = (60, 56, 84, 58, 80, 67, 42, 46)
    scale = FRAME_WIDTH / sum(widths)
    widths = tuple(width * scale for width in widths)

    def place(row: Any) -> Any:
        if row.region and row.region != row.place:
            return f"{clean(row.place).strip()}\n{clean(row.region).strip()}"
        return row.place

    def coordinates(row: Any) -> str:
        if row.latitude is None or row.longitude is None:
            return DASH
        return f"{row.latitude:.4f}, {row.longitude:.4f}"

    def when(row: Any) -> str:
        moment = as_utc(row.occurred_at)
        return format_datetime(moment, language, short=True, utc_suffix=False)

    story += data_tables(
        ctx,
        (
            "col_time",
            "col_kind",
            "col_place",
            "col_coordinates",
            "col_weapon",
            "col_outcome",
            "col_killed",
            "col_wounded",
        ),
        (
            (
                when(row),
                row.kind,
                place(row),
                coordinates(row),
                row.weapon,
                row.outcome,
                format_int(row.killed, language),
                format_int(row.wounded, language),
            )
            for row in rows
        ),
        widths,
        right=(6, 7),
    )
    return story


# --- sources ----------------------------------------------------------------------------------


def sources(ctx: Context) -> list[Flowable]:
    data, styles, language = ctx.data, ctx.styles, ctx.language
    story: list[Flowable] = [
        TextLine([(ctx.labels["sources"], SANS_BOLD)], styles.h1, outline=("sources", ctx.labels["sources"], 0))
    ]
    if not data.sources:
        story.append(Paragraph(ctx.label("no_sources"), styles.note))
    else:
        rows = []
        for source in data.sources:
            lines = [markup(source.title, bold=True)]
            if source.withdrawn:
                lines[0] = (
                    f"<strike>{lines[0]}</strike> "
                    f"<font color='#A61B1B' name='DejaVu-Bold'>{ctx.label('withdrawn')}</font>"
                )
            facts = [markup(value) for value in (source.kind, source.publisher) if value]
            if source.published_on:
                facts.append(f"{ctx.label('col_published')} {format_date(source.published_on, language)}")
            if facts:
                lines.append(" · ".join(facts))
            if source.document_reference:
                lines.append(f"{ctx.label('col_reference')}: {markup(source.document_reference)}")
            if source.url:
                lines.append(f"<font color='#1F3A5F'>{markup(source.url)}</font>")
            archive = (
                f"<font name='DejaVuMono' size='6.8'>{markup(source.archived_sha256)}</font>"
                if source.archived_sha256
                else ctx.label("not_archived")
            )
            lines.append(f"<font color='#5B6470'>{ctx.label('archived_sha256')}:</font> {archive}")
            grade = Paragraph(f"<font name='DejaVu-Bold' size='10'>{markup(source.reliability)}</font>", styles.cell)
            rows.append((grade, Paragraph("<br/>".join(lines), styles.cell)))
        story += data_tables(ctx, ("col_grade", "col_source"), rows, (14 * mm, FRAME_WIDTH - 14 * mm))
    story += case_attributions(ctx)
    story.append(grading_legend(ctx))
    return story


def case_attributions(ctx: Context) -> list[Flowable]:
    """Every attribution of the case, whatever its subject; those contradicting the case marked in red."""
    rows = ctx.data.attributions
    if not rows:
        return []
    styles = ctx.styles
    widths = (40, 62, 92, 0, 118)
    widths = (*widths[:3], FRAME_WIDTH - sum(widths), widths[4])

    def source(row: Any) -> str:
        return f"{row.source_title}\n{row.locator}" if row.locator else row.source_title

    story: list[Flowable] = [
        CondPageBreak(40 * mm),
        Paragraph(ctx.label("all_attributions"), styles.h2),
        Paragraph(ctx.label("all_attributions_note"), styles.note),
    ]
    story += data_tables(
        ctx,
        ("col_grade", "col_stance", "col_subject", "col_claim", "col_source"),
        ((row.grade, stance_cell(ctx, row), row.subject, row.claim, source(row)) for row in rows),
        widths,
        fonts={0: (SANS_BOLD, 7.5)},
    )
    return story


def grading_legend(ctx: Context) -> Flowable:
    styles = ctx.styles
    reliability = [Paragraph(ctx.label(f"rel_{grade}"), styles.caption) for grade in "ABCDEF"]
    credibility = [Paragraph(ctx.label(f"cred_{grade}"), styles.caption) for grade in "123456"]
    half = FRAME_WIDTH / 2
    legend = Table(list(zip(reliability, credibility, strict=True)), colWidths=[half, half], hAlign="LEFT")
    legend.setStyle(
        table_style(
            ("LINEBELOW", (0, 0), (-1, -1), 0, LIGHT),
            ("TOPPADDING", (0, 0), (-1, -1), 0.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
            header=False,
            zebra=False,
        )
    )
    return KeepTogether([Spacer(1, 5 * mm), Paragraph(ctx.label("grading"), styles.h3), legend])


# --- annex ------------------------------------------------------------------------------------


CHECKSUM_LINES_PER_BLOCK = 60
CHECKSUM_FONT_SIZES = (6.0, 5.6, 5.2, 4.8, 4.4)


def checksum_lines(ctx: Context) -> list[Flowable]:
    """The manifest as `sha256sum -c` reads it: '<sha256>  <path>', one file a line, never wrapped.

    Drawn as preformatted text (the two spaces are kept, as copied out of the PDF), in the largest of
    CHECKSUM_FONT_SIZES at which the longest line fits the page's width.
    """
    styles = ctx.styles
    lines = [f"{row.sha256}  {row.path}" for row in ctx.data.manifest]
    longest = max(lines, key=lambda line: stringWidth(line, MONO, 1))
    size = next(
        (size for size in CHECKSUM_FONT_SIZES if stringWidth(longest, MONO, size) <= FRAME_WIDTH - 12),
        CHECKSUM_FONT_SIZES[-1],
    )
    style = ParagraphStyle("checksums", parent=styles.code, fontName=MONO, fontSize=size, leading=size * 1.3)
    story: list[Flowable] = [
        CondPageBreak(30 * mm),
        Paragraph(ctx.label("checksums_title"), styles.h2),
        Paragraph(ctx.label("checksums_intro"), styles.body),
    ]
    for start in range(0, len(lines), CHECKSUM_LINES_PER_BLOCK):
        story.append(Preformatted("\n".join(lines[start : start + CHECKSUM_LINES_PER_BLOCK]), style))
    return story


def annex(ctx: Context) -> list[Flowable]:
    data, styles, language = ctx.data, ctx.styles, ctx.language
    story: list[Flowable] = [
        TextLine([(ctx.labels["annex"], SANS_BOLD)], styles.h1, outline=("annex", ctx.labels["annex"], 0)),
        Paragraph(ctx.label("manifest_intro"), styles.body),
    ]
    if data.manifest:
        size_width = 20 * mm
        hash_width = 93 * mm
        story += data_tables(
            ctx,
            ("col_file", "col_sha256", "col_size"),
            ((row.path, row.sha256, format_int(row.size, language)) for row in data.manifest),
            (FRAME_WIDTH - size_width - hash_width, hash_width, size_width),
            right=(2,),
            fonts={1: (MONO, 6.6)},
        )
        story += checksum_lines(ctx)
    else:
        story.append(Paragraph(ctx.label("no_files"), styles.note))
    head = data.published_head
    # Commands are printed as a shell takes them, one argument a line with "\" continuations, so that
    # copying them out of the PDF and pasting them runs them as printed.
    steps = [
        (ctx.label("verify_step_script").format(sha256=data.verifier_sha256), "sha256sum verify.py"),
        (ctx.label("verify_step_files"), None),
        (ctx.label("verify_step_package"),
         f"python3 verify.py . \\\n  --head {head} \\\n  --key-fingerprint {data.public_key_fingerprint}"),
        (ctx.label("verify_step_attest"),
         f"python manage.py verify_custody {data.case_reference} \\\n  --head {head}"),
    ]  # fmt: skip
    if data.timestamps:
        stamps = "; ".join(f"{tsa}, {when} UTC" for tsa, when in data.timestamps)
        steps.insert(3, (
            ctx.label("verify_step_timestamp", size=data.ledger_size, stamps=stamps),
            f"python3 verify.py . \\\n  --head {head} \\\n  --key-fingerprint {data.public_key_fingerprint} \\\n"
            "  --tsa-cert TSA-ROOT.pem",
        ))  # fmt: skip
    command_style = ParagraphStyle("command", parent=styles.code, fontName=MONO, fontSize=6.6, leading=8.6)
    block: list[Flowable] = [CondPageBreak(60 * mm), Paragraph(ctx.label("verify_title"), styles.h2)]
    for number, (text, command) in enumerate(steps, start=1):
        block.append(Paragraph(f"{number}. {text}", styles.body))
        if command:
            block.append(Preformatted(command, command_style))
    block.append(Paragraph(ctx.label("verify_expected"), styles.body))
    story += block
    return story
