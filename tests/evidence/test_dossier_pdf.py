"""The dossier PDF renderer (evidence/export/pdf/render.py), on hand-built data: no database.

Each PDF is rendered once per module (fixtures) and read back with pypdf: text in three scripts,
every exhibit number and SHA-256, headers and page numbers on every page, embedded fonts,
Ukrainian labels, JPEG previews embedded byte for byte, the edition without photos, progress.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from evidence.export.charts import MAP_INCHES, TIMELINE_INCHES
from evidence.export.charts import pixel_size as chart_pixels
from evidence.export.pdf import sidejob
from evidence.export.pdf.data import (
    AttributionRow,
    CustodyRow,
    DossierData,
    Exhibit,
    IncidentRow,
    ManifestRow,
    MarkingRow,
    PhotoRow,
    SourceRow,
)
from evidence.export.pdf.images import crop_geometry
from evidence.export.pdf.labels import LABELS, SAME_IN_BOTH, format_date
from evidence.export.pdf.render import render_dossier
from evidence.export.pdf.text import markup, script_runs

ROOT = Path(__file__).resolve().parents[2]
CASE = "PGO-2024-0001"
HEAD = "e8f14aea9fa11122e582b1eef0027a12df6204346da3831097a94dc931560933"
SIGNATURE = "JtL9BxrR7dixslI2xCOlg2boiHf3VCO1vmWzRwf+ahU0J1z/glTPiwRGjQvGLIspk1tYP/tRUakEQ6ivootACg=="
HANGUL_MARKING = "주체112"
CYRILLIC_PLACE = "Харків"
CYRILLIC_STAMP = "ЗАВ №5"  # noqa: RUF001 (Cyrillic on purpose)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _jpeg(path: Path, size: tuple[int, int], seed: int) -> Path:
    """A small textured JPEG (stripes and a rectangle), different for every seed."""
    image = Image.new("RGB", size, (40 + seed * 30 % 200, 90, 140))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 7 + seed):
        draw.line((x, 0, x + size[1] // 2, size[1]), fill=(200, 180 - seed * 20 % 150, 60), width=2)
    draw.rectangle((size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2), outline=(255, 255, 255), width=3)
    image.save(path, "JPEG", quality=85)
    return path


@pytest.fixture(scope="module")
def case_files(tmp_path_factory) -> dict[str, list[Path]]:
    folder = tmp_path_factory.mktemp("dossier")
    previews = [_jpeg(folder / f"preview-{n}.jpg", (320, 213), n) for n in range(4)]
    thumbnails = [_jpeg(folder / f"thumb-{n}.jpg", (120, 80), n + 5) for n in range(3)]
    return {"previews": previews, "thumbnails": thumbnails}


def _data(files: dict[str, list[Path]], *, language: str = "en", include_photos: bool = True) -> DossierData:
    previews, thumbnails = files["previews"], files["thumbnails"]
    t = lambda day, hour=5, minute=40: datetime(2024, 1, day, hour, minute, tzinfo=UTC)  # noqa: E731
    incidents = [
        IncidentRow(t(2), "Launch", "Kharkiv", "Kharkiv", 49.9935, 36.2304, "KN-23", "Impact", 2, 14),
        IncidentRow(t(2, 6), "Impact", CYRILLIC_PLACE, "Харківська область", 49.98, 36.25, "KN-23", "Impact", 1, 3),
        IncidentRow(t(6, 3, 10), "Impact", "Kyiv", "Kyiv City", 50.4501, 30.5234, "KN-23", "Intercepted", 0, 2),
        IncidentRow(t(9), "Debris found", "Zaporizhzhia", "Zaporizhzhia", None, None, "KN-23", "Failed", 0, 0),
    ]
    custody = [
        CustodyRow(1, t(2, 9), "Recovered", "o.kovalenko", f"Recovered at {CYRILLIC_PLACE}, вул. Сумська"),
        CustodyRow(4, t(3, 11), "Transfer", "o.kovalenko", "Handed to KNDISE; seal UA-0042 intact"),
        CustodyRow(9, t(5, 14), "Examined", "lab", "Markings photographed & transcribed <verbatim>"),
    ]
    photos = [
        PhotoRow(previews[n], 320, 213, _sha(f"photo-{n}"), f"IMG_{n:04d}.JPG", "Canon EOS R5 · 2024-01-02 05:40")
        for n in range(4)
    ]
    exhibits = [
        Exhibit(
            number="EX-0001",
            title="Rocket motor casing",
            kind="Physical debris",
            description="Burnt casing with stencilled markings.",
            status="In custody",
            custodian="National Police, Kharkiv",
            thumbnail_path=thumbnails[0],
            custody=custody,
            photos=photos[:3],
            markings=[
                MarkingRow(
                    HANGUL_MARKING,
                    "Stencil",
                    "Juche year 112 = 2023",
                    "High",
                    "analyst",
                    previews[0],
                    (100, 60, 80, 40),
                ),
                MarkingRow(CYRILLIC_STAMP, "Stamp", "Factory stamp", "Medium", None, previews[1], (10, 10, 60, 30)),
            ],
            attributions=[
                AttributionRow(
                    "B2", "supports", "The missile is a Hwasong-11 (KN-23)", "UN Panel of Experts", "para 84"
                ),
            ],
        ),
        Exhibit(
            number="EX-0002",
            title="Guidance board",
            kind="Component",
            description="",
            status="At the laboratory",
            custodian="KNDISE",
            parent_number="EX-0001",
            component="Analog Devices AD7541AKN, United States, made 2023-03 (month)",
            thumbnail_path=thumbnails[1],
            custody=custody[1:],
            photos=photos[3:],
        ),
        Exhibit(
            number="EX-0003",
            title=f"Photograph of the impact site, {CYRILLIC_PLACE}",
            kind="Photograph",
            description="",
            status="Recorded",
            custodian="SBU",
            thumbnail_path=thumbnails[2],
        ),
    ]
    sources = [
        SourceRow(
            "UN Panel of Experts report",
            "Report",
            "United Nations",
            date(2024, 3, 7),
            "A",
            "S/2024/215",
            "https://www.un.org/securitycouncil/sanctions/1718/panel_experts/reports",
            _sha("report"),
        ),
        SourceRow(
            "Air Force statement",
            "Statement",
            "Повітряні сили ЗСУ",  # noqa: RUF001
            None,
            "C",
            "",
            "https://t.me/kpszsu/1",
            None,
            withdrawn=True,
        ),
    ]
    manifest = [
        ManifestRow(f"files/{photo.sha256}/original.jpg", photo.sha256, 4_000_000 + n) for n, photo in enumerate(photos)
    ]
    manifest.append(ManifestRow(f"ledger/{CASE}.jsonl", _sha("ledger"), 5_432))
    return DossierData(
        case_reference=CASE,
        case_title="KN-23 strikes on Kharkiv and Kyiv, January 2024",
        case_status="Open",
        case_summary=f"North Korean Hwasong-11 missiles fired at Ukraine, among them at {CYRILLIC_PLACE}.",
        legal_basis=["UNSCR 1718 (2006), paragraph 8", "UNSCR 2270 (2016)"],
        opened_on=date(2024, 1, 2),
        generated_at=datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        generated_by="o.kovalenko",
        language=language,
        ledger_size=12,
        ledger_head=HEAD,
        checkpoint_signed_at="2024-05-01T09:59:00.000000Z",
        checkpoint_key="21fe31dfa154a261",
        checkpoint_signature=SIGNATURE,
        public_key_fingerprint="21fe31dfa154a261",
        statistics={
            "incidents": 4,
            "killed": 3,
            "wounded": 19,
            "launches": 2,
            "launches_failed_in_flight": 1,
            "failed_in_flight_share": 0.5,
            "launches_identified_by_debris": 1,
            "launches_identified_by_trajectory_speed_or_launch_site": 1,
            "by_kind": {"Launch": 1, "Impact": 2, "Debris found": 1},
            "by_outcome": {"Impact": 2, "Intercepted": 1, "Failed": 1},
            "by_region": {"Kharkiv": 2, "Kyiv City": 1, "Zaporizhzhia": 1},
        },
        incidents=incidents,
        exhibits=exhibits,
        sources=sources,
        manifest=manifest,
        include_photos=include_photos,
    )


class Rendered:
    def __init__(self, data: DossierData, pdf: bytes, progress: list[tuple[int, str]]) -> None:
        self.data = data
        self.pdf = pdf
        self.progress = progress
        self.reader = PdfReader(io.BytesIO(pdf))
        self.pages = [page.extract_text() for page in self.reader.pages]
        self.text = "\n".join(self.pages)


@contextlib.contextmanager
def _side_job(*, in_child: bool, executable: str | None = None):
    """Charts and crops made by the child process (as in production) or in this process (faster here)."""
    saved = sidejob.IN_CHILD_PROCESS, sys.executable
    sidejob.IN_CHILD_PROCESS = in_child
    if executable is not None:
        sys.executable = executable
    try:
        yield
    finally:
        sidejob.IN_CHILD_PROCESS, sys.executable = saved


def _render(data: DossierData, *, in_child: bool = False, executable: str | None = None) -> Rendered:
    progress: list[tuple[int, str]] = []
    out = io.BytesIO()
    with _side_job(in_child=in_child, executable=executable):
        render_dossier(data, out, progress=lambda percent, stage: progress.append((percent, stage)))
    return Rendered(data, out.getvalue(), progress)


@pytest.fixture(scope="module")
def english(case_files) -> Rendered:
    return _render(_data(case_files), in_child=True)


@pytest.fixture(scope="module")
def ukrainian(case_files) -> Rendered:
    return _render(_data(case_files, language="uk"))


@pytest.fixture(scope="module")
def without_photos(case_files) -> Rendered:
    return _render(_data(case_files, include_photos=False))


def test_is_a_pdf_with_pages(english):
    assert english.pdf.startswith(b"%PDF-")
    assert english.pdf.rstrip().endswith(b"%%EOF")
    assert len(english.reader.pages) >= 8


def test_every_exhibit_number_and_sha256_appears_whole(english):
    data = english.data
    for exhibit in data.exhibits:
        assert exhibit.number in english.text
    digests = [photo.sha256 for exhibit in data.exhibits for photo in exhibit.photos]
    digests += [row.sha256 for row in data.manifest]
    digests += [source.archived_sha256 for source in data.sources if source.archived_sha256]
    digests.append(data.ledger_head)
    for digest in digests:
        assert digest in english.text, digest
    assert f"{data.ledger_size}:{data.ledger_head}" in english.text
    assert data.checkpoint_signature in english.text


def test_cyrillic_and_hangul_come_back_out_intact(english):
    assert CYRILLIC_PLACE in english.text
    assert "Харківська область" in english.text
    assert HANGUL_MARKING in english.text
    assert CYRILLIC_STAMP in english.text
    assert "Analog Devices AD7541AKN, United States, made 2023-03 (month)" in english.text
    # Escaped, not interpreted as markup.
    assert "Markings photographed & transcribed <verbatim>" in english.text


def test_case_reference_in_the_header_and_page_numbers_on_every_page(english):
    total = len(english.pages)
    for number, text in enumerate(english.pages, start=1):
        assert text.lstrip().startswith(CASE), f"page {number} has no header"
        assert re.search(rf"Page {number} of\s*{total}\b", text), f"page {number} has no page number"


def _fonts(reader: PdfReader) -> dict[str, object]:
    """Every font used by pages and the forms they draw, by BaseFont name."""
    fonts: dict[str, object] = {}

    def visit(resources) -> None:
        if resources is None:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                visit(xobject.get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
    return fonts


def test_only_the_projects_fonts_are_used_and_all_are_embedded(english):
    fonts = _fonts(english.reader)
    names = {name.split("+", 1)[-1] for name in fonts}
    assert {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono", "NanumGothic"} <= names
    assert names <= {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono", "NanumGothic", "NanumGothicBold"}
    for name, font in fonts.items():
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{name} is not embedded"


def test_ukrainian_rendition_uses_ukrainian_labels(ukrainian, english):
    uk = LABELS["uk"]
    for key in ("exhibits", "custody_history", "photos", "markings", "attributions", "sources", "summary"):
        assert uk[key] in ukrainian.text, key
    total = len(ukrainian.pages)
    assert re.search(rf"Сторінка 1 з\s*{total}\b", ukrainian.pages[0])
    assert "2 січня 2024" in ukrainian.text  # opened on
    assert "1 травня 2024" in ukrainian.pages[0]
    for key in ("custody_history", "photos", "sources"):
        assert LABELS["en"][key] not in ukrainian.text, key
    assert "2 January 2024" in english.text
    assert HANGUL_MARKING in ukrainian.text


def test_labels_are_complete_in_both_languages():
    assert set(LABELS) == {"en", "uk"}
    assert set(LABELS["en"]) == set(LABELS["uk"])
    for key, english_text in LABELS["en"].items():
        assert LABELS["uk"][key].strip(), key
        if key not in SAME_IN_BOTH:
            assert LABELS["uk"][key] != english_text, key
    for key in SAME_IN_BOTH:
        assert key in LABELS["en"]


def test_dates_per_language():
    assert format_date(date(2024, 1, 2), "en") == "2 January 2024"
    assert format_date(date(2024, 1, 2), "uk") == "2 січня 2024"
    assert format_date(date(2024, 11, 30), "uk", short=True) == "30 лист. 2024"
    assert format_date(None, "en") == "—"


def test_jpeg_previews_are_embedded_without_re_encoding(english, case_files):
    for path in case_files["previews"] + case_files["thumbnails"]:
        assert path.read_bytes() in english.pdf, path.name


def test_without_photos_the_previews_are_left_out(without_photos, case_files):
    for path in case_files["previews"]:
        assert path.read_bytes() not in without_photos.pdf, path.name
    # Still identified by their hashes, and the thumbnails of the list remain.
    for exhibit in without_photos.data.exhibits:
        for photo in exhibit.photos:
            assert photo.sha256 in without_photos.text
    assert case_files["thumbnails"][0].read_bytes() in without_photos.pdf
    assert LABELS["en"]["photos_omitted"].split(";")[0] in without_photos.text.replace("\n", " ")


def test_progress_reaches_100_in_order(english):
    percents = [percent for percent, _ in english.progress]
    stages = [stage for _, stage in english.progress]
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert stages[:4] == ["cover", "summary", "incidents", "exhibits"]
    assert "exhibits 3/3" in stages
    assert {"sources", "annex", "writing"} <= set(stages)


def _images(reader: PdfReader) -> dict[int, int]:
    """Image XObjects drawn on each page (1-based page number -> count)."""
    counts = {}
    for number, page in enumerate(reader.pages, start=1):
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        counts[number] = sum(1 for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image")
    return counts


def test_charts_and_crops_are_drawn(english):
    # Summary: the timeline; then the map; the marking crops sit with exhibit EX-0001's markings.
    summary = next(n for n, text in enumerate(english.pages, 1) if LABELS["en"]["timeline_chart"] in text)
    located = next(n for n, text in enumerate(english.pages, 1) if LABELS["en"]["map_chart"] in text)
    marked = next(n for n, text in enumerate(english.pages, 1) if HANGUL_MARKING in text)
    images = _images(english.reader)
    assert images[summary] >= 1
    assert images[located] >= 1
    assert images[marked] >= 2


def _page_images(reader: PdfReader, number: int) -> list:
    xobjects = (reader.pages[number - 1].get("/Resources") or {}).get("/XObject") or {}
    return [x.get_object() for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image"]


def test_with_the_photos_a_marking_is_a_clipped_view_of_the_embedded_preview(english):
    """No crop is decoded or encoded: the marking page draws the preview's own bytes, clipped, outlined in red."""
    previews = {photo.preview_path.read_bytes() for exhibit in english.data.exhibits for photo in exhibit.photos}
    # The pages with a clipping path and the red outline: the markings' (nothing else clips).
    marked = [
        number
        for number, page in enumerate(english.reader.pages, 1)
        if b"W* n" in (content := page.get_contents().get_data()) and b".839216 .121569 .121569 RG" in content
    ]
    assert marked, "no marking drawn as a clipped, outlined view"
    assert any(HANGUL_MARKING in english.pages[number - 1] for number in marked)
    for number in marked:
        drawn = [image.get_data() for image in _page_images(english.reader, number)]
        assert drawn
        assert all(data in previews for data in drawn), "a marking was drawn from a newly made image"


def test_without_the_photos_a_marking_crop_holds_only_its_box(without_photos):
    """With the photos left out, a clipped view would carry each whole photo: a small crop is made instead."""
    marked = next(n for n, text in enumerate(without_photos.pages, 1) if HANGUL_MARKING in text)
    previews = {photo.preview_path.read_bytes() for exhibit in without_photos.data.exhibits for photo in exhibit.photos}
    images = _page_images(without_photos.reader, marked)
    assert images
    assert not any(image.get_data() in previews for image in images)


def test_side_job_falls_back_to_this_process(case_files, english, tmp_path):
    """When the child process cannot start, the charts and crops are made here: same images."""
    target = tmp_path / "dossier.pdf"
    with _side_job(in_child=True, executable=str(tmp_path / "no-such-python")):
        render_dossier(_data(case_files), target)
    reader = PdfReader(target)
    assert CASE in reader.pages[0].extract_text()
    assert _images(reader) == _images(english.reader)


def test_markup_splits_scripts_and_escapes():
    assert script_runs("EX 주체112 Харків") == [(False, "EX "), (True, "주체"), (False, "112 Харків")]
    assert markup("a < b & 주체 c") == 'a &lt; b &amp; <font name="Hangul">주체 </font>c'
    assert markup("주체", bold=True) == '<font name="Hangul-Bold">주체</font>'
    assert markup("line\nbreak\x07") == "line<br/>break"
    assert markup("「주체」") == '<font name="Hangul">「주체」</font>'


def test_renderer_imports_no_django():
    code = (
        "import sys; import evidence.export.pdf.data, evidence.export.pdf.render, evidence.export.charts; "
        "sys.exit(any(name == 'django' or name.startswith('django.') for name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_side_job_child_makes_the_charts_and_crops(case_files, tmp_path):
    preview = case_files["previews"][0]
    geometry = crop_geometry((320, 213), (100, 60, 80, 40))
    crop = {
        "preview": str(preview),
        "box": geometry.box,
        "region": geometry.region,
        "size": geometry.size,
        "out": str(tmp_path / "crop.jpg"),
    }
    charts = {
        "timeline": {
            "points": [["2024-01-02", "Launch"], ["2024-01-05", "Зліт 주체"]],
            "out": str(tmp_path / "t.png"),
            "y_label": "Incidents",
            "unit": "day",
        },
        "map": {
            "points": [[36.23, 49.99, "Launch", CYRILLIC_PLACE, 3]],
            "out": str(tmp_path / "m.png"),
            "x_label": "Longitude",
            "y_label": "Latitude",
        },
    }
    with _side_job(in_child=True):
        job = sidejob.SideJob({"crops": [crop], "charts": charts}, tmp_path)
        assert job.process is not None
        job.wait()
    assert job.process.returncode == 0
    with Image.open(tmp_path / "crop.jpg") as made:
        assert made.size == geometry.size
    for name, size in (("t.png", chart_pixels(TIMELINE_INCHES)), ("m.png", chart_pixels(MAP_INCHES))):
        with Image.open(tmp_path / name) as made:
            assert made.size == size


def test_the_child_process_keeps_the_pixel_limit_of_its_parent(tmp_path, monkeypatch):
    """The child has no Django settings; it took Pillow's default limit, not ATTEST_MAX_IMAGE_PIXELS."""
    preview = tmp_path / "preview.jpg"
    Image.new("RGB", (1500, 1500), "grey").save(preview)
    geometry = crop_geometry((1500, 1500), (100, 100, 200, 100))
    crop = {"preview": str(preview), "box": list(geometry.box), "region": list(geometry.region),
            "size": list(geometry.size), "out": str(tmp_path / "crop.jpg")}  # fmt: skip
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)  # the parent's limit, below this preview
    with _side_job(in_child=True):
        job = sidejob.SideJob({"crops": [crop]}, tmp_path)
        assert job.process is not None
        job.process.wait(timeout=60)
        assert job.process.returncode == 0
    assert not (tmp_path / "crop.jpg").exists()  # refused in the child: the dossier draws a grey box
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3_000_000)
    with _side_job(in_child=True):
        sidejob.SideJob({"crops": [crop]}, tmp_path).wait()
    assert (tmp_path / "crop.jpg").exists()
