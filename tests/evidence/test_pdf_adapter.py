"""The adapter to ReportLab internals (evidence/export/pdf/reportlab_adapter.py).

The pins fail loudly when a ReportLab upgrade changes code the adapter copies or overrides; the rest
checks what the adapter promises, read back with PDFium: a valid PDF written piece by piece, JPEG
bytes passed through unchanged, images made after layout drawn, "page N of M" right.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import io
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import reportlab
from PIL import Image, ImageDraw
from reportlab.platypus import Frame, PageBreak, PageTemplate, Paragraph
from reportlab.platypus.flowables import Spacer

from evidence.export.pdf import reportlab_adapter
from evidence.export.pdf.images import PendingPicture, Picture
from evidence.export.pdf.reportlab_adapter import StreamingCanvas
from evidence.export.pdf.text import register_fonts, styles
from evidence.export.pdf.writer import Deferred, DossierCanvas, DossierDocTemplate

# SHA-256 of inspect.getsource() of everything the adapter relies on (RELIES_ON, less "reportlab."), in 5.1.0.
PINNED = {
    "pdfbase.pdfdoc.PDFDocument.__init__": "cd323144e687e270b21e3ecb59e068bf4806637cdffb15f662be629a78129cf6",
    "pdfbase.pdfdoc.PDFDocument.format": "536ea7a675493430f5438f2eda50eb2ac959284cb4bbae99a86008ec615dcb22",
    "pdfbase.pdfdoc.PDFDocument.SaveToFile": "65f2b1f7c212d7df3b435cb0897f27f02dfa58f0e2b873e622ac0ed6ea169e56",
    "pdfbase.pdfdoc.PDFDocument.GetPDFData": "d277704fa42a10621577c723755d6175a8e03fc716195e6b8bc9f98c865377a2",
    "pdfbase.pdfdoc.PDFDocument.Reference": "75342ed129b2115cb15eb48ac086393dd97304b29324b84757ec6f35c632edc5",
    "pdfbase.pdfdoc.PDFDocument.addForm": "d830d06e1a13bbee21803adf277cd73b0bcdc7270caa236f1a20a74fe1f03905",
    "pdfbase.pdfdoc.PDFFile": "372f44883d587c93634e536dcd68a0b268af7b98046cdb7cb6a3843e3ea9912b",
    "pdfbase.pdfdoc.PDFIndirectObject": "9cd769d1528d91f4e369bfe01ab2313bff144fbc36a233126cadde8cb2bb20b0",
    "pdfbase.pdfdoc.PDFCrossReferenceTable": "9079697361b3e25304a3098f3e217c8098de56fcec307310b3c8b8576affc2a6",
    "pdfbase.pdfdoc.PDFTrailer": "75d31617ae4eaba15bd9477be21591965654c9dcb8b256b3e741e00f3a0af231",
    "pdfbase.pdfdoc.PDFImageXObject.__init__": "f368db814320689d9f62a748958fc571cdae26c59241323c06ca2d2049afe41a",
    "pdfbase.pdfdoc.PDFImageXObject.loadImageFromJPEG": (
        "1d56b4ce5d56a377a61ea8fe88a7850bfcadf1020734f106454aa0074d97b460"
    ),
    "pdfbase.pdfdoc.PDFImageXObject.loadImageFromSRC": (
        "89a46524695fd626e0a1c8d64b7dace9ccc8bf876d5046088031ce534c37141b"
    ),
    "pdfbase.pdfdoc.PDFImageXObject.format": "24388858deee8de5afed4e7534af50dbbf7fc2112c04137471ffc5368bf1e4a5",
    "pdfbase.pdfutils.readJPEGInfo": "e50cce76d4402edbce5e1a620cbf50344c1bd68baa7ea642e4cb38485d5b491e",
    "pdfgen.canvas.Canvas.__init__": "8bfca25dcd6a794d7d8590354a3ef0b7aa37490f7e702dc20d12db9aa754ce39",
    "pdfgen.canvas.Canvas.save": "50fd3ba8f81e953c0166c10f34841c3c9130e9f284fd009543d1024bc12e21a1",
}

RECHECK = (
    "ReportLab changed code that evidence/export/pdf/reportlab_adapter.py relies on. Before updating this pin, "
    "re-check the adapter against the new ReportLab: _StreamingDocument.format must still follow "
    "PDFDocument.format (object order, xref, trailer, encryption, digital signatures, pdfComments), SaveToFile "
    "must still end in GetPDFData -> format, _SinkFile must still match PDFFile (strings, write, add, offset), "
    "_LazyJPEG/_PendingRaster must still set the attributes PDFImageXObject.format reads, and StreamingCanvas "
    "must still find a PDFDocument in Canvas._doc and a page in progress in Canvas._code. Then run "
    "tests/evidence/test_pdf_*.py, tests/evidence/test_dossier*.py and bench/bench_dossier.py (memory, time)."
)


def _resolve(dotted: str):
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            found = getattr(found, name)
        return found
    raise ImportError(dotted)


def test_reportlab_is_the_version_the_adapter_was_written_for():
    assert reportlab.Version == reportlab_adapter.WRITTEN_FOR == "5.1.0", (
        f"reportlab is {reportlab.Version}, the adapter was written for {reportlab_adapter.WRITTEN_FOR}. {RECHECK} "
        "Then set WRITTEN_FOR and the pins here to the new version."
    )


def test_every_internal_the_adapter_relies_on_is_pinned():
    pinned = {f"reportlab.{name}" for name in PINNED}
    assert pinned == set(reportlab_adapter.RELIES_ON), "pin every name in RELIES_ON (and nothing else)"


@pytest.mark.parametrize("dotted", sorted(PINNED))
def test_reportlab_internals_are_unchanged(dotted):
    try:
        source = inspect.getsource(_resolve(f"reportlab.{dotted}"))
    except (ImportError, AttributeError) as error:
        pytest.fail(f"{dotted} is gone ({error}). {RECHECK}")
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == PINNED[dotted], f"{dotted} changed (SHA-256 {digest}). {RECHECK}"


# --- behaviour ------------------------------------------------------------------------------------


def _jpeg(path: Path, size: tuple[int, int], seed: int, mode: str = "RGB") -> Path:
    image = Image.new("RGB", size, (30 + seed * 40 % 200, 120, 160))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 5 + seed):
        draw.line((x, 0, x + size[1] // 2, size[1]), fill=(220, 200 - seed * 30 % 150, 40), width=2)
    image.convert(mode).save(path, "JPEG", quality=88)
    return path


class Sink(io.BytesIO):
    """An output that remembers the size of every write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[int] = []

    def write(self, data) -> int:
        self.writes.append(len(data))
        return super().write(data)


def _images(page: pdfium.PdfPage) -> list[pdfium.PdfImage]:
    return list(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=4))


def _text(page: pdfium.PdfPage) -> str:
    return page.get_textpage().get_text_range()


@pytest.fixture
def opened():
    """Open PDFs with PDFium and close them after the test."""
    documents: list[pdfium.PdfDocument] = []

    def open_pdf(source) -> pdfium.PdfDocument:
        documents.append(pdfium.PdfDocument(source))
        return documents[-1]

    yield open_pdf
    for document in reversed(documents):
        document.close()


def test_canvas_streams_a_valid_pdf_with_jpegs_passed_through_unchanged(tmp_path, opened):
    jpegs = [_jpeg(tmp_path / f"photo-{n}.jpg", (640, 420), n) for n in range(4)]
    gray = _jpeg(tmp_path / "gray.jpg", (300, 200), 9, mode="L")
    out = Sink()
    canvas = StreamingCanvas(out)
    for n, path in enumerate([*jpegs, gray]):
        canvas.drawString(72, 800, f"photo {n}")
        canvas.draw_jpeg(str(path), 72, 300, 400, 262)
        canvas.draw_jpeg(str(jpegs[0]), 72, 100, 100, 66)  # the same file again: one image object
        canvas.showPage()
    canvas.save()
    pdf = out.getvalue()

    # Written piece by piece as objects are formatted, not as one joined file.
    largest_jpeg = max(path.stat().st_size for path in jpegs)
    assert len(out.writes) > 20
    assert max(out.writes) < largest_jpeg + 4096 < len(pdf) // 2
    for path in [*jpegs, gray]:
        assert pdf.count(path.read_bytes()) == 1, f"{path.name} not embedded once, byte for byte"

    document = opened(pdf)
    assert len(document) == 5
    for n in range(5):
        page = document[n]
        assert f"photo {n}" in _text(page)
        images = _images(page)
        assert len(images) == 2
        assert all(image.get_filters() == ["DCTDecode"] for image in images)
    first = _images(document[0])[0]
    assert bytes(first.get_data(decode_simple=False)) == jpegs[0].read_bytes()
    assert first.get_px_size() == (640, 420)
    gray_image = _images(document[4])[0]
    assert bytes(gray_image.get_data(decode_simple=False)) == gray.read_bytes()
    assert gray_image.get_metadata().colorspace == pdfium_c.FPDF_COLORSPACE_DEVICEGRAY


def test_a_jpeg_is_read_when_the_pdf_is_written_and_must_not_change_meanwhile(tmp_path):
    path = _jpeg(tmp_path / "photo.jpg", (200, 150), 1)
    canvas = StreamingCanvas(io.BytesIO())
    canvas.draw_jpeg(str(path), 0, 0, 200, 150)
    canvas.showPage()
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(RuntimeError, match="changed while the dossier was being written"):
        canvas.save()


def test_a_file_that_is_not_a_jpeg_is_drawn_the_ordinary_way(tmp_path, opened):
    png = tmp_path / "chart.png"
    Image.new("RGB", (40, 30), (10, 200, 30)).save(png)
    out = tmp_path / "out.pdf"
    canvas = StreamingCanvas(str(out))
    canvas.draw_jpeg(str(png), 0, 0, 40, 30)
    canvas.save()
    document = opened(out)
    (image,) = _images(document[0])
    assert image.get_px_size() == (40, 30)
    assert image.get_filters() == ["FlateDecode"]


def test_pending_images_are_made_after_layout_and_missing_ones_drawn_grey(tmp_path, opened):
    made = tmp_path / "made.jpg"
    resolved: list[str] = []

    def resolve(path: Path):
        def inner() -> str:
            resolved.append(path.name)
            return str(path)

        return inner

    out = io.BytesIO()
    canvas = StreamingCanvas(out)
    canvas.draw_pending_image("made", resolve(made), 0, 0, 100, 100)
    canvas.draw_pending_image("missing", resolve(tmp_path / "missing.jpg"), 100, 0, 100, 100)
    canvas.showPage()
    assert resolved == []  # nothing asked for while the pages are laid out
    _jpeg(made, (120, 90), 3)
    canvas.save()
    assert sorted(resolved) == ["made.jpg", "missing.jpg"]
    pdf = out.getvalue()
    assert made.read_bytes() in pdf  # a JPEG made beside the layout is passed through too
    images = sorted(_images(opened(pdf)[0]), key=lambda image: image.get_px_size())
    assert [image.get_px_size() for image in images] == [(1, 1), (120, 90)]


def test_dossier_canvas_numbers_pages_n_of_m_through_lazy_sections(tmp_path, opened):
    register_fonts()
    style = styles().body
    jpegs = [_jpeg(tmp_path / f"photo-{n}.jpg", (320, 213), n) for n in range(3)]
    progress: list[tuple[int, str]] = []

    def section(n: int) -> list:
        pictures = [Picture(path, None, 400, 250) for path in jpegs]
        return [Paragraph(f"Section {n}", style), *[item for picture in pictures for item in (picture, Spacer(1, 8))]]

    story: list = []
    for n in range(1, 4):
        story += [Deferred(lambda n=n: section(n), percent=n * 10, stage=f"section {n}"), PageBreak()]
    story.append(PendingPicture("chart", lambda: tmp_path / "chart.jpg", (300, 200), 300, 200))
    _jpeg(tmp_path / "chart.jpg", (300, 200), 7)

    def decorate(canvas, doc) -> None:
        canvas.drawString(72, 30, f"Page {doc.page} of")
        canvas.draw_page_total(140, 30)

    out = tmp_path / "doc.pdf"
    doc = DossierDocTemplate(str(out), progress=lambda percent, stage: progress.append((percent, stage)))
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])
    doc.build(story, canvasmaker=DossierCanvas)

    assert progress == [(10, "section 1"), (20, "section 2"), (30, "section 3")]
    document = opened(out)
    total = len(document)
    assert total >= 7  # three pictures do not fit on one page: each section takes two
    for number in range(1, total + 1):
        text = " ".join(_text(document[number - 1]).split())
        assert f"Page {number} of {total}" in text, text
    pdf = out.read_bytes()
    for path in [*jpegs, tmp_path / "chart.jpg"]:
        assert pdf.count(path.read_bytes()) == 1
