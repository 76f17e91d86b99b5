"""Fonts, script-aware markup and paragraph styles.

ReportLab draws each run of text in one font and does not fall back per glyph, so text is split
into runs: Hangul (and whatever else only NanumGothic has, such as CJK punctuation and Hanja) in
NanumGothic, everything else (Latin, Cyrillic, digits, punctuation) in DejaVu Sans. The fonts are
the TrueType files shipped in evidence/export/fonts/ and are embedded (subset) in every PDF.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.fonts import addMapping
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"

SANS = "DejaVu"
SANS_BOLD = "DejaVu-Bold"
MONO = "DejaVuMono"
HANGUL = "Hangul"
HANGUL_BOLD = "Hangul-Bold"

FONT_FILES = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    MONO: "DejaVuSansMono.ttf",
    HANGUL: "NanumGothic.ttf",
    HANGUL_BOLD: "NanumGothicBold.ttf",
}

# Always drawn with NanumGothic: Hangul Jamo, Hangul Compatibility Jamo, Hangul Jamo Extended-A,
# Hangul Syllables, Hangul Jamo Extended-B, CJK Symbols and Punctuation, Halfwidth Hangul.
HANGUL_RANGES = (
    (0x1100, 0x11FF),
    (0x3000, 0x303F),
    (0x3130, 0x318F),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7AF),
    (0xD7B0, 0xD7FF),
    (0xFFA0, 0xFFDC),
)

NAVY = colors.HexColor("#1F3A5F")
GREY = colors.HexColor("#5B6470")
LIGHT = colors.HexColor("#E9EDF2")
RULE = colors.HexColor("#B8C0CA")
ALERT = colors.HexColor("#A61B1B")

_lock = threading.RLock()
_registered: set[str] = set()
_mapped = False
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def use_font(name: str) -> str:
    """Register one of the shipped fonts with ReportLab on first use (NanumGothic is 4.7 MB to parse)."""
    if name not in _registered:
        with _lock:
            if name not in _registered:
                path = FONT_DIR / FONT_FILES[name]
                if not path.is_file():
                    raise FileNotFoundError(f"font file missing: {path}")
                pdfmetrics.registerFont(TTFont(name, str(path)))
                _registered.add(name)
    return name


def register_fonts() -> None:
    """Register the DejaVu fonts and the font families (the Hangul fonts register when first used)."""
    global _mapped
    for name in (SANS, SANS_BOLD, MONO):
        use_font(name)
    with _lock:
        if not _mapped:
            for family, regular, bold in ((SANS, SANS, SANS_BOLD), (HANGUL, HANGUL, HANGUL_BOLD), (MONO, MONO, MONO)):
                addMapping(family, 0, 0, regular)
                addMapping(family, 1, 0, bold)
                addMapping(family, 0, 1, regular)
                addMapping(family, 1, 1, bold)
            _mapped = True


@lru_cache(maxsize=1)
def _sans_cmap() -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(use_font(SANS)).face.charToGlyph)


@lru_cache(maxsize=1)
def _hangul_cmap() -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(use_font(HANGUL)).face.charToGlyph)


def needs_hangul_font(char: str) -> bool:
    """Whether a character is drawn with NanumGothic rather than DejaVu Sans."""
    code = ord(char)
    if code < 0x1100:
        return False
    for low, high in HANGUL_RANGES:
        if low <= code <= high:
            return True
    return code not in _sans_cmap() and code in _hangul_cmap()


def script_runs(text: str) -> list[tuple[bool, str]]:
    """Split text into (is_hangul, run) pieces; whitespace joins the run it follows."""
    runs: list[tuple[bool, str]] = []
    current: list[str] = []
    current_hangul = False
    for char in text:
        hangul = current_hangul if char.isspace() else needs_hangul_font(char)
        if current and hangul != current_hangul:
            runs.append((current_hangul, "".join(current)))
            current = []
        current_hangul = hangul
        current.append(char)
    if current:
        runs.append((current_hangul, "".join(current)))
    return runs


def clean(text: object) -> str:
    """User text as a str without control characters (tabs become spaces, line ends kept)."""
    if text is None:
        return ""
    value = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", value)


# User text is laid out in pieces of at most this many characters. ReportLab breaks what is left of a
# paragraph (or of a table row) again at every page it splits it across, so one long paragraph costs time
# that grows with the square of its length; pieces keep it linear (a 1 MB description once took minutes).
PARAGRAPH_CHUNK = 1500
PARAGRAPH_LINES = 30


def chunk_text(text: str, limit: int = PARAGRAPH_CHUNK, max_lines: int = PARAGRAPH_LINES) -> list[str]:
    """text in pieces of at most `limit` characters and `max_lines` lines, in order.

    A piece ends at a line end where one is in its second half, else at a space, else anywhere; the line
    end or space it ends at is dropped. Each step looks at one window of `limit` characters: linear time.
    """
    limit, max_lines = max(1, limit), max(1, max_lines)
    pieces: list[str] = []
    start, size = 0, len(text)
    while size - start > limit or text.count("\n", start, min(size, start + limit)) >= max_lines:
        end = min(size, start + limit)
        newline = start - 1
        for _line in range(max_lines):  # a piece holds at most max_lines lines
            newline = text.find("\n", newline + 1, end)
            if newline < 0:
                break
        else:
            pieces.append(text[start:newline])
            start = newline + 1
            continue
        cut = text.rfind("\n", start + limit // 2, end)
        if cut < 0:
            cut = text.rfind(" ", start + limit // 2, end)
        if cut < 0:
            pieces.append(text[start:end])
            start = end
        else:
            pieces.append(text[start:cut])
            start = cut + 1
    pieces.append(text[start:])
    return pieces


def _escape(run: str) -> str:
    return escape(run).replace("\n", "<br/>")


def markup(text: object, *, bold: bool = False) -> str:
    """Paragraph markup for user text: XML-escaped, each Hangul run in <font name="Hangul">."""
    value = clean(text)
    if not value:
        return ""
    if value.isascii():
        body = _escape(value)
        return f'<font name="{SANS_BOLD}">{body}</font>' if bold else body
    parts = []
    for hangul, run in script_runs(value):
        body = _escape(run)
        if hangul:
            parts.append(f'<font name="{use_font(HANGUL_BOLD if bold else HANGUL)}">{body}</font>')
        elif bold:
            parts.append(f'<font name="{SANS_BOLD}">{body}</font>')
        else:
            parts.append(body)
    return "".join(parts)


def is_single_font(text: str) -> bool:
    """True when every character of text is drawn with DejaVu Sans."""
    if text.isascii():
        return True
    return not any(needs_hangul_font(char) for char in text)


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    note: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_head: ParagraphStyle
    cell_head_right: ParagraphStyle
    cell_right: ParagraphStyle
    mono: ParagraphStyle
    mono_small: ParagraphStyle
    code: ParagraphStyle
    caption: ParagraphStyle
    label: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    cover_kicker: ParagraphStyle
    cover_reference: ParagraphStyle
    cover_title: ParagraphStyle
    transcription: ParagraphStyle


@lru_cache(maxsize=1)
def styles() -> Styles:
    register_fonts()
    body = ParagraphStyle("body", fontName=SANS, fontSize=9, leading=12.5, alignment=TA_LEFT, spaceAfter=4)
    cell = ParagraphStyle("cell", fontName=SANS, fontSize=7.5, leading=9.4, spaceAfter=0)
    mono = ParagraphStyle("mono", fontName=MONO, fontSize=7.5, leading=9.6)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10.5),
        note=ParagraphStyle("note", parent=body, fontSize=8, leading=10.5, textColor=GREY),
        cell=cell,
        cell_bold=ParagraphStyle("cell_bold", parent=cell, fontName=SANS_BOLD),
        cell_head=ParagraphStyle("cell_head", parent=cell, fontName=SANS_BOLD, textColor=NAVY),
        cell_head_right=ParagraphStyle("cell_head_right", parent=cell, fontName=SANS_BOLD, textColor=NAVY, alignment=2),
        cell_right=ParagraphStyle("cell_right", parent=cell, alignment=2),
        mono=mono,
        mono_small=ParagraphStyle("mono_small", parent=mono, fontSize=6.6, leading=8.4),
        code=ParagraphStyle(
            "code",
            parent=mono,
            fontSize=6.4,
            leading=8.6,
            backColor=LIGHT,
            borderPadding=(4, 5, 4, 5),
            spaceBefore=4,
            spaceAfter=8,
            leftIndent=5,
            rightIndent=5,
        ),
        caption=ParagraphStyle("caption", parent=cell, fontSize=7.5, leading=9.6, textColor=GREY),
        label=ParagraphStyle("label", parent=cell, fontSize=7, leading=8.6, textColor=GREY),
        h1=ParagraphStyle(
            "h1",
            fontName=SANS_BOLD,
            fontSize=15,
            leading=19,
            textColor=NAVY,
            spaceBefore=2,
            spaceAfter=8,
            keepWithNext=1,
        ),
        h2=ParagraphStyle(
            "h2",
            fontName=SANS_BOLD,
            fontSize=11,
            leading=14,
            textColor=NAVY,
            spaceBefore=10,
            spaceAfter=5,
            keepWithNext=1,
        ),
        h3=ParagraphStyle(
            "h3",
            fontName=SANS_BOLD,
            fontSize=9,
            leading=12,
            textColor=NAVY,
            spaceBefore=6,
            spaceAfter=3,
            keepWithNext=1,
        ),
        cover_kicker=ParagraphStyle("cover_kicker", fontName=SANS_BOLD, fontSize=10, leading=13, textColor=GREY),
        cover_reference=ParagraphStyle(
            "cover_reference", fontName=SANS_BOLD, fontSize=24, leading=30, textColor=NAVY, spaceBefore=4
        ),
        cover_title=ParagraphStyle("cover_title", fontName=SANS, fontSize=14, leading=18.5, spaceAfter=14),
        transcription=ParagraphStyle("transcription", fontName=SANS, fontSize=12, leading=15, spaceAfter=3),
    )


def para(text: object, style: ParagraphStyle, *, bold: bool = False) -> Paragraph:
    """A Paragraph of user text (escaped, script-aware)."""
    return Paragraph(markup(text, bold=bold), style)


def rich(fixed_markup: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of trusted markup (labels with tags, already-marked-up user text)."""
    return Paragraph(fixed_markup, style)


Piece = tuple[str, str]  # (text, font name): font is SANS, SANS_BOLD or MONO; Hangul is split out


class TextLine(Flowable):
    """One line of text drawn run by run with drawString: no markup parsing, no line breaking.

    Most captions, headings and labels fit on one line; a Paragraph for each costs a markup parse
    and several line-breaking passes. A TextLine measures its runs once. When the line does not
    fit the width it is given, it becomes the equivalent Paragraph (the `fallback` markup).
    """

    def __init__(
        self,
        pieces: list[Piece],
        style: ParagraphStyle,
        *,
        colors_: list[object] | None = None,
        outline: tuple[str, str, int] | None = None,
    ) -> None:
        super().__init__()
        self.style = style
        self.outline = outline
        self.runs: list[tuple[str, str, object]] = []
        fallback = []
        for index, (text, font) in enumerate(pieces):
            color = colors_[index] if colors_ else None
            value = clean(text)
            bold = font == SANS_BOLD
            for hangul, run in script_runs(value) if not value.isascii() else [(False, value)]:
                run_font = use_font(HANGUL_BOLD if bold else HANGUL) if hangul else font
                self.runs.append((run, run_font, color))
            body = markup(value)
            if color is not None:
                body = f"<font color='{color.hexval() if hasattr(color, 'hexval') else color}'>{body}</font>"
            fallback.append(f'<font name="{font}">{body}</font>' if font != style.fontName else body)
        self.fallback_markup = "".join(fallback)
        size = style.fontSize
        self.text_width = sum(stringWidth(run, font, size) for run, font, _ in self.runs)
        self._paragraph: Paragraph | None = None

    def _as_paragraph(self) -> Paragraph:
        if self._paragraph is None:
            self._paragraph = Paragraph(self.fallback_markup, self.style)
        return self._paragraph

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        if self.text_width > available_width:
            return self._as_paragraph().wrap(available_width, available_height)
        self._paragraph = None
        self.width = available_width
        return available_width, self.style.leading

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        if self.text_width > available_width:
            return self._as_paragraph().split(available_width, available_height)
        return []

    def draw(self) -> None:
        canvas = self.canv
        if self.outline is not None:
            key, title, level = self.outline
            canvas.bookmarkPage(key)
            canvas.addOutlineEntry(title, key, level=level, closed=level > 0)
        if self._paragraph is not None:
            self._paragraph.drawOn(canvas, 0, 0)
            return
        style = self.style
        size = style.fontSize
        # One text object for all runs, so that text extraction reads the line as one.
        canvas.saveState()
        text = canvas.beginText(0, style.leading - size)
        for run, font, color in self.runs:
            text.setFillColor(color or style.textColor)
            text.setFont(font, size)
            text.textOut(run)
        canvas.drawText(text)
        canvas.restoreState()
