"""Long free text in the dossier: laid out in pieces of bounded size, so the build stays linear in it.

ReportLab breaks what is left of a paragraph, or of a table row, again at every page it splits it
across: one 20,000-character paragraph in a table cell cost time growing with the square of its
length (a 1 MB description outlived the web server's timeout). The structure is checked here (no
piece of the layout holds more than LARGEST characters); bench/bench_dossier_text.py times N
against 4N characters.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Table

from cases.models import TEXT_MAX_LENGTH
from evidence.export.pdf import exhibits, sections, sidejob
from evidence.export.pdf.common import Context
from evidence.export.pdf.data import AttributionRow, CustodyRow, DossierData, Exhibit, MarkingRow
from evidence.export.pdf.exhibits import PhotoBlock
from evidence.export.pdf.labels import labels_for
from evidence.export.pdf.render import render_dossier
from evidence.export.pdf.text import PARAGRAPH_CHUNK, TextLine, chunk_text, register_fonts, styles

# No paragraph, line or table row of the layout may hold more than this many characters.
LARGEST = 4_000
TOKEN = re.compile(r"[A-Z]\d{5}")


def long_text(tag: str, length: int = TEXT_MAX_LENGTH, *, hangul: bool = False) -> str:
    """Numbered words ("D00001 D00002 …", with a Hangul syllable each when asked), a paragraph break now
    and then, cut to `length` characters: every word can be found again in the PDF."""
    words, size, number = [], 0, 0
    while size < length:
        number += 1
        word = f"{tag}{number:05d}" + ("주" if hangul else "")
        words.append(word + ("\n\n" if number % 700 == 0 else " "))
        size += len(words[-1])
    return "".join(words)[:length].rstrip()


def tokens(text: str) -> set[str]:
    return set(TOKEN.findall(text))


def case_data(*, exhibits_count: int = 1, hangul: bool = False) -> DossierData:
    moment = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
    exhibit_rows = [
        Exhibit(
            number=f"EX-{n:04d}",
            title="Rocket motor casing",
            kind="Physical debris",
            description=long_text("D", hangul=hangul),
            status="In custody",
            custodian="National Police",
            custody=[CustodyRow(1, moment, "Examined", "lab", long_text("F", hangul=hangul))],
            markings=[MarkingRow(long_text("T", hangul=hangul), "Stencil", "", "High")],
            attributions=[AttributionRow("B2", "supports", long_text("C", hangul=hangul), "UN Panel", "para 84")],
        )
        for n in range(1, exhibits_count + 1)
    ]
    return DossierData(
        case_reference="PGO-2024-0001",
        case_title="Long text",
        case_status="Open",
        case_summary=long_text("S", hangul=hangul),
        legal_basis=[],
        opened_on=None,
        generated_at=moment,
        generated_by="tester",
        language="en",
        ledger_size=1,
        ledger_head="0" * 64,
        checkpoint_signed_at="2024-01-02T09:00:00Z",
        checkpoint_key="k",
        checkpoint_signature="s",
        public_key_fingerprint="f",
        exhibits=exhibit_rows,
    )


def size_of(item) -> int:
    """Characters of text an item holds, all of it."""
    if item is None:
        return 0
    if isinstance(item, str):
        return len(item)
    if isinstance(item, list | tuple):
        return sum(size_of(each) for each in item)
    if isinstance(item, Paragraph):
        return len(item.getPlainText())
    if isinstance(item, TextLine):
        return sum(len(run) for run, _font, _color in item.runs)
    if isinstance(item, Table):
        return sum(size_of(row) for row in item._cellvalues)
    if isinstance(item, KeepTogether):
        return size_of(item._content)
    if isinstance(item, PhotoBlock):
        return size_of(item.captions)
    return 0


def largest(item) -> int:
    """The most text ReportLab must lay out in one piece: a paragraph, a line, a table row."""
    if isinstance(item, list | tuple):
        return max((largest(each) for each in item), default=0)
    if isinstance(item, Table):
        return max((size_of(row) for row in item._cellvalues), default=0)
    if isinstance(item, KeepTogether):
        return largest(item._content)
    return size_of(item)


def story_of(data: DossierData) -> list[Flowable]:
    register_fonts()
    ctx = Context(data=data, labels=labels_for("en"), styles=styles(), tmp=Path("/nonexistent"), language="en")
    ctx.chart_spec = sections.chart_spec(ctx)
    exhibits.plan_crops(ctx)
    story = [*sections.cover(ctx), *sections.summary(ctx), *exhibits.exhibit_list(ctx)]
    for exhibit in data.exhibits:
        story += exhibits.exhibit_pages(ctx, exhibit)
    return story


def test_chunk_text_keeps_every_word_in_bounded_pieces():
    text = long_text("W", 50_000)
    pieces = chunk_text(text, 1000, 20)
    assert all(len(piece) <= 1000 and piece.count("\n") < 20 for piece in pieces)
    assert " ".join(pieces).split() == text.split()
    assert chunk_text("x" * 2500, 1000, 20) == ["x" * 1000, "x" * 1000, "x" * 500]  # no space: cut anywhere
    assert len(chunk_text("a\n" * 99 + "a", 1000, 20)) == 5  # lines are bounded too
    assert chunk_text("short", PARAGRAPH_CHUNK) == ["short"]


@pytest.mark.parametrize("hangul", [False, True], ids=["one font", "with Hangul"])
def test_no_piece_of_the_layout_holds_a_long_text_whole(hangul):
    data = case_data(hangul=hangul)
    story = story_of(data)
    assert largest(story) <= LARGEST
    # and nothing was left out: every word of every long text is in the layout
    exhibit = data.exhibits[0]
    laid_out = size_of(story)
    for text in (data.case_summary, exhibit.description, exhibit.custody[0].details, exhibit.attributions[0].claim):
        assert len(text) == TEXT_MAX_LENGTH
    assert laid_out >= 5 * TEXT_MAX_LENGTH * 0.99


def test_many_long_texts_render_and_every_word_reaches_the_pdf(monkeypatch):
    monkeypatch.setattr(sidejob, "IN_CHILD_PROCESS", False)
    data = case_data(exhibits_count=3)
    out = io.BytesIO()
    render_dossier(data, out)
    reader = PdfReader(io.BytesIO(out.getvalue()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    expected = tokens(data.case_summary)
    for exhibit in data.exhibits:
        for field in (exhibit.description, exhibit.custody[0].details, exhibit.attributions[0].claim):
            expected |= tokens(field)
        expected |= tokens(exhibit.markings[0].transcription)
    assert expected <= tokens(text)
    assert len(reader.pages) > 3 * 5 * 4  # each long text flows over pages
