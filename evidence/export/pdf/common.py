"""What every section of the dossier shares: the render context, tables and small helpers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from evidence.export.pdf.text import (
    GREY,
    LIGHT,
    MONO,
    NAVY,
    RULE,
    SANS,
    SANS_BOLD,
    Styles,
    chunk_text,
    clean,
    is_single_font,
    markup,
    para,
)

if TYPE_CHECKING:
    from evidence.export.pdf.data import DossierData

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_LEFT = MARGIN_RIGHT = 18 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 18 * mm
FRAME_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
FRAME_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

CELL_PADDING = 3
CELL_FONT_SIZE = 7.5
CELL_LEADING = 9.4
LABEL_FONT_SIZE = 7
# Rows per table: long tables are laid out as a run of tables of this many rows, each of which
# splits at most once across a page (ReportLab re-measures the whole rest of a table at each split).
TABLE_CHUNK = 60
# Lines of text in one table row at most: longer text in a cell goes on in the rows below it (its
# continuation rows), since ReportLab can split a table between rows cheaply but re-measures the rest
# of a row each time it splits one across a page.
ROW_LINES = 30
DASH = "—"


class Continued(list):
    """A table cell whose items go one per row: the row itself, then continuation rows below it."""


@dataclass
class Context:
    data: DossierData
    labels: dict[str, str]
    styles: Styles
    tmp: Path
    language: str
    chart_spec: dict[str, Any] = field(default_factory=dict)
    # id(MarkingRow) -> (crop file, pixel size), the crop being made beside the layout; None: no crop.
    crops: dict[int, Any] = field(default_factory=dict)  # a ClippedPicture, (crop file, size), or None
    crop_spec: list[dict[str, Any]] = field(default_factory=list)
    side: Any = None  # sidejob.SideJob making the charts and crops
    _names: Any = field(default_factory=count)

    def label(self, key: str, **values: Any) -> str:
        """A label as Paragraph markup (labels are trusted; values substituted are escaped)."""
        text = self.labels[key]
        if values:
            text = text.format(**{name: markup(value) for name, value in values.items()})
        return text

    def temp_path(self, suffix: str) -> Path:
        return self.tmp / f"{next(self._names):05d}{suffix}"


BREAK_AFTER = frozenset("/-_.?&=,;:")


def _break_word(word: str, limit: float, font: str, size: float) -> list[str]:
    """A word wider than the limit in pieces that fit, broken after / - _ . etc. where possible."""
    pieces: list[str] = []
    start, width, last_break = 0, 0.0, -1
    index = 0
    while index < len(word):
        char_width = stringWidth(word[index], font, size)
        if width + char_width > limit and index > start:
            cut = last_break + 1 if last_break >= start else index
            pieces.append(word[start:cut])
            start, last_break = cut, -1
            width = stringWidth(word[start:index], font, size)
            continue
        width += char_width
        if word[index] in BREAK_AFTER:
            last_break = index
        index += 1
    pieces.append(word[start:])
    return pieces


def wrap_lines(text: str, limit: float, font: str, size: float) -> str:
    """Greedy line breaking of single-font text at spaces (long words broken), as lines in one string."""
    lines: list[str] = []
    space = stringWidth(" ", font, size)
    for source_line in text.split("\n"):
        if stringWidth(source_line, font, size) <= limit:
            lines.append(source_line)
            continue
        current: list[str] = []
        width = 0.0
        for word in source_line.split(" "):
            word_width = stringWidth(word, font, size)
            if word_width > limit:
                if current:
                    lines.append(" ".join(current))
                *whole, word = _break_word(word, limit, font, size)
                lines.extend(whole)
                current, width = [], 0.0
                word_width = stringWidth(word, font, size)
            if current and width + space + word_width > limit:
                lines.append(" ".join(current))
                current, width = [word], word_width
            else:
                width = width + space + word_width if current else word_width
                current.append(word)
        lines.append(" ".join(current))
    return "\n".join(lines)


def cell(text: object, width: float, style: Any, *, font: str = SANS, size: float = CELL_FONT_SIZE) -> str | Paragraph:
    """A table cell for user text: plain (line-broken) text when it is all in one font, else a Paragraph.

    Plain strings are drawn by the table in the column's font (DejaVu unless the table says
    otherwise), which costs far less than a Paragraph; text with Hangul becomes a script-aware
    Paragraph.
    """
    return cell_rows(text, width, style, font=font, size=size)[0]


def chars_per_row(width: float, size: float, lines: int = ROW_LINES) -> int:
    """How many characters surely fit `lines` lines of a column: one em each (a Hangul syllable's width)."""
    return max(1, int((width - 2 * CELL_PADDING) / size)) * lines


def cell_rows(
    text: object, width: float, style: Any, *, font: str = SANS, size: float = CELL_FONT_SIZE
) -> list[str | Paragraph]:
    """cell(), in pieces of at most ROW_LINES lines: the first for the row, the rest for continuation rows."""
    if text is None or text == "":
        return [DASH]
    value = clean(text).strip()
    if not value:
        return [DASH]
    if is_single_font(value):
        lines = wrap_lines(value, width - 2 * CELL_PADDING - 0.5, font, size).split("\n")
        return ["\n".join(lines[start : start + ROW_LINES]) for start in range(0, len(lines), ROW_LINES)]
    return [para(piece, style) for piece in chunk_text(value, chars_per_row(width, size), ROW_LINES)]


def table_style(
    *extra: tuple, header: bool = True, zebra: bool = True, rows: int = 0, continued: frozenset[int] = frozenset()
) -> TableStyle:
    """The tables' look. `continued`: the rows that go on with the row above (no rule between, same shade)."""
    commands: list[tuple] = [
        ("FONTNAME", (0, 0), (-1, -1), SANS),
        ("FONTSIZE", (0, 0), (-1, -1), CELL_FONT_SIZE),
        ("LEADING", (0, 0), (-1, -1), CELL_LEADING),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if continued:
        commands += [("LINEBELOW", (0, row), (-1, row), 0.25, RULE) for row in range(rows) if row + 1 not in continued]
    else:
        commands.append(("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE))
    if header:
        commands += [
            ("FONTNAME", (0, 0), (-1, 0), SANS_BOLD),
            ("TEXTCOLOR", (0, 0), (-1, 0), NAVY),
            ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, NAVY),
            ("LINEABOVE", (0, 0), (-1, 0), 0.8, NAVY),
        ]
    if zebra and rows:
        odd = False
        for row in range(1 if header else 0, rows):
            if row not in continued:
                odd = not odd
            if not odd:  # every second row, with its continuation rows
                commands.append(("BACKGROUND", (0, row), (-1, row), colors.HexColor("#F6F8FA")))
    commands.extend(extra)
    return TableStyle(commands)


def data_tables(
    ctx: Context,
    header_keys: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float],
    *,
    right: Sequence[int] = (),
    fonts: Mapping[int, tuple[str, float]] | None = None,
    chunk: int = TABLE_CHUNK,
    title: str | None = None,
) -> list[Flowable]:
    """A header row of labels (if any) and rows of cells, as one table per `chunk` rows (header repeated).

    title: a line above the header, across the table, repeated with it on every page the table runs
    onto (e.g. the exhibit whose markings these are). Header labels break only between words: a
    column too narrow for a word of its label gets that label in a smaller font (header_cell).

    fonts: column -> (font, size) for the plain-string cells of that column (e.g. hashes in mono).
    A cell's text longer than ROW_LINES lines goes on in continuation rows; so do the items of a
    Continued cell. Other flowables and lists of them stay in their row.
    """
    fonts = fonts or {}
    styles = ctx.styles
    heads = [header_cell(ctx.labels[key], widths[index]) for index, key in enumerate(header_keys or ())]
    header = [text for text, _ in heads]
    title_row = None
    if title:  # user text (an exhibit's title): wrapped, a Paragraph if it needs the Hangul font
        title_row = [cell(title, sum(widths), styles.cell_head, font=SANS_BOLD), *([""] * (len(widths) - 1))]
    tables: list[Flowable] = []
    batch: list[list[Any]] = []
    continued: set[int] = set()  # indexes in batch of continuation rows

    def flush() -> None:
        top = [row for row in (title_row, header) if row]
        data = [*top, *batch]
        first = len(top)
        extra = [("ALIGN", (column, 0), (column, -1), "RIGHT") for column in right]
        head = first - 1 if header else None  # the row of column headers
        if head is not None:
            extra += [
                ("FONTSIZE", (column, head), (column, head), size)
                for column, (_, size) in enumerate(heads)
                if size != CELL_FONT_SIZE
            ]
        if title_row:
            extra += [
                ("SPAN", (0, 0), (-1, 0)),
                ("FONTNAME", (0, 0), (-1, 0), SANS_BOLD),
                ("TEXTCOLOR", (0, 0), (-1, 0), NAVY),
                ("BACKGROUND", (0, 0), (-1, 0), colors.white),
                ("LINEABOVE", (0, 0), (-1, 0), 0, colors.white),
            ]
            if head is not None:
                extra += [
                    ("FONTNAME", (0, head), (-1, head), SANS_BOLD),
                    ("TEXTCOLOR", (0, head), (-1, head), NAVY),
                    ("BACKGROUND", (0, head), (-1, head), LIGHT),
                    ("LINEABOVE", (0, head), (-1, head), 0.8, NAVY),
                    ("LINEBELOW", (0, head), (-1, head), 0.8, NAVY),
                ]
        for column, (font, size) in fonts.items():
            extra += [
                ("FONTNAME", (column, first), (column, -1), font),
                ("FONTSIZE", (column, first), (column, -1), size),
            ]
        # splitInRow: a row taller than what is left of the page (a long note) continues on the next.
        table = Table(data, colWidths=list(widths), repeatRows=first, hAlign="LEFT", splitInRow=1)
        rows_continued = frozenset(index + first for index in continued)
        table.setStyle(table_style(*extra, header=bool(top), rows=len(data), continued=rows_continued))
        tables.append(table)
        batch.clear()
        continued.clear()

    for row in rows:
        cells = [_cell_rows_in(styles, value, widths[index], index, right, fonts) for index, value in enumerate(row)]
        for line in range(max(len(pieces) for pieces in cells)):
            if line and batch:  # a continuation row that starts a new table stands as a row of its own
                continued.add(len(batch))
            batch.append([pieces[line] if line < len(pieces) else "" for pieces in cells])
            if len(batch) >= chunk:
                flush()
    if batch:
        flush()
    return tables


HEADER_MIN_FONT_SIZE = 5.5


def header_cell(label: str, width: float) -> tuple[str, float]:
    """A column's header: its label broken into lines at spaces only, and the font size that allows it.

    The cell font's size when every word of the label fits the column, else the largest smaller size
    (down to HEADER_MIN_FONT_SIZE) at which each does; only below that is a word broken.
    """
    text = clean(label).strip()
    limit = width - 2 * CELL_PADDING - 0.5
    size = CELL_FONT_SIZE
    widest = max((stringWidth(word, SANS_BOLD, 1) for word in text.split()), default=0)
    if widest * size > limit:
        size = max(HEADER_MIN_FONT_SIZE, math.floor(limit / widest * 10) / 10)
    return wrap_lines(text, limit, SANS_BOLD, size) if text else DASH, size


def _cell_rows_in(
    styles: Styles,
    value: object,
    width: float,
    index: int,
    right: Sequence[int],
    fonts: Mapping[int, tuple[str, float]],
) -> list[Any]:
    if isinstance(value, Continued):
        return list(value) or [""]
    if isinstance(value, Flowable | list):
        return [value]
    font, size = fonts.get(index, (SANS, CELL_FONT_SIZE))
    style = styles.mono_small if font == MONO else styles.cell_right if index in right else styles.cell
    return cell_rows(value, width, style, font=font, size=size)


def key_value_table(rows: Sequence[tuple[str, Any]], widths: tuple[float, float], styles: Styles) -> Table:
    """Label / value pairs (labels are plain label text; values are user text or flowables).

    A long value goes on in continuation rows below its label, as in data_tables().
    """
    data: list[list[Any]] = []
    continued: set[int] = set()
    for label, value in rows:
        pieces = [value] if isinstance(value, Flowable | list) else cell_rows(value, widths[1], styles.cell)
        data.append([cell(label, widths[0], styles.label, size=LABEL_FONT_SIZE), pieces[0]])
        for piece in pieces[1:]:
            continued.add(len(data))
            data.append(["", piece])
    table = Table(data, colWidths=list(widths), hAlign="LEFT", splitInRow=1)
    table.setStyle(
        table_style(
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("FONTSIZE", (0, 0), (0, -1), LABEL_FONT_SIZE),
            ("TEXTCOLOR", (0, 0), (0, -1), GREY),
            header=False,
            zebra=False,
            rows=len(data),
            continued=frozenset(continued),
        )
    )
    return table


def mono(text: str, style: Any) -> Paragraph:
    """Hashes, keys and signatures: monospaced, never containing markup."""
    return para(text, style)


def stance_cell(ctx: Context, row: Any) -> Paragraph:
    """An attribution's stance; one that contradicts the case in red and bold, a withdrawn one marked so."""
    text = markup(row.stance)
    if getattr(row, "contradicts", False):
        text = f"<font color='#A61B1B' name='DejaVu-Bold'>{text}</font>"
    if getattr(row, "withdrawn", False):
        text += f"<br/><font color='#A61B1B' name='DejaVu-Bold'>{ctx.label('withdrawn')}</font>"
    return Paragraph(text, ctx.styles.cell)
