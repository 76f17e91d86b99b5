"""What a defence expert checking a dossier needs (their verification tripped).

The annex names the files as the package holds them and prints lines `sha256sum -c` reads; every
attribution is printed, the contradicting ones marked; each marking crop names its photo and its
SHA-256; a markings table continued on the next page repeats its exhibit's heading; column headers
break only between words; charts, roles and instruments are in the dossier's language.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from evidence import filestore, services
from evidence.export import layout
from evidence.export.build import build_export
from evidence.export.pdf import common, sidejob
from evidence.export.pdf.data import (
    AttributionRow,
    ComponentRow,
    CustodyRow,
    DateCodeRow,
    DossierData,
    Exhibit,
    IncidentRow,
    ManifestRow,
    MarkingRow,
    PhotoReference,
    SourceRow,
)
from evidence.export.pdf.labels import LABELS
from evidence.export.pdf.render import render_dossier
from tests import corpus
from tests.factories import AttributionFactory, EvidenceItemFactory, IncidentFactory, MarkingFactory, SourceFactory

CHECKSUM_LINE = re.compile(r"([0-9a-f]{64})  (\S+)")


def pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def squeezed(text: str) -> str:
    """Text without whitespace: claims come out of table cells broken into lines."""
    return re.sub(r"\s+", "", text)


def build(actor, case, **options):
    export = services.request_export(actor=actor, case=case, **options)
    return build_export(export_id=export.pk)


# --- 1. the annex's paths are the package's, and its checksum lines pass sha256sum -c ----------------


@pytest.fixture
def filed_case(team, eager_tasks, django_capture_on_commit_callbacks, tmp_path):
    """A case with photos on two exhibits, a file kept as evidence and a source with its archived copy."""
    first = EvidenceItemFactory(case=team.case, actor=team.ivan, title="Rocket motor casing")
    second = EvidenceItemFactory(case=team.case, actor=team.ivan, title="Fin")
    with django_capture_on_commit_callbacks(execute=True):
        services.add_photo_from_path(actor=team.ivan, item=first, path=corpus.photo("Landscape_3.jpg"))
        services.add_photo_from_path(actor=team.ivan, item=second, path=corpus.photo("Apple iPhone 4.jpg"))
    damaged = tmp_path / "damaged photo.jpg"
    damaged.write_bytes(b"\xff\xd8\xff not really a JPEG")
    services.keep_file_from_path(actor=team.ivan, item=second, path=damaged, reason="refused as a photo")
    report = tmp_path / "panel report.html"
    report.write_text("<html><body>Final report of the Panel of Experts</body></html>")
    services.add_source_from_path(
        actor=team.bob, case=team.case, path=report, kind="un_report", title="Report", reliability="B"
    )
    return team.case


@pytest.mark.django_db
def test_the_annex_prints_the_package_paths_and_lines_that_sha256sum_checks(team, filed_case, tmp_path):
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is not installed")
    call_command("export_package", filed_case.reference, "--output", str(tmp_path / "bag"), "--as", "vera")
    [bag] = (tmp_path / "bag").iterdir()
    data = bag / "data"
    [dossier] = (data / "dossier").glob("*.pdf")
    text = "\n".join(pdf_pages(dossier))
    annex = text[text.rindex(LABELS["en"]["checksums_title"]) :]
    assert "sha256sum -c SHA256SUMS" in annex.replace("\n", " ")
    lines = [f"{digest}  {path}" for digest, path in CHECKSUM_LINE.findall(annex)]
    packaged = sorted(
        path.relative_to(data).as_posix()
        for folder in ("originals", "files", "sources")
        for path in (data / folder).rglob("*")
        if path.is_file()
    )
    assert sorted(line.split("  ", 1)[1] for line in lines) == packaged  # every evidence file, as the package names it
    assert len(packaged) == 4
    sums = tmp_path / "SHA256SUMS"
    sums.write_text("\n".join(lines) + "\n")
    checked = subprocess.run(["sha256sum", "-c", str(sums)], cwd=data, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == 4

    altered = data / packaged[0]
    altered.chmod(0o644)
    altered.write_bytes(altered.read_bytes() + b"\x00")
    checked = subprocess.run(["sha256sum", "-c", str(sums)], cwd=data, capture_output=True, text=True, timeout=60)
    assert checked.returncode != 0
    assert f"{packaged[0]}: FAILED" in checked.stdout


def test_the_layout_names_files_as_the_package_does():
    sha = "ab" * 32
    assert layout.photo_path("EX-0001", sha, "jpeg") == f"originals/EX-0001/{sha}.jpg"
    assert layout.photo_path("EX-0001", sha, "bmp") == f"originals/EX-0001/{sha}.bin"
    assert layout.kept_file_path("EX-0002", sha) == f"files/EX-0002/{sha}.bin"
    assert layout.source_path(7, sha, "report.pdf") == f"sources/7-{sha}.pdf"
    assert layout.source_path(7, sha, "") == f"sources/7-{sha}.bin"


# --- 2. every attribution, the contradicting ones marked; roles and instruments translated -----------


@pytest.mark.django_db
def test_every_attribution_is_printed_with_its_stance(team, eager_tasks):
    incident = IncidentFactory(case=team.case, place_name="Харків")
    item = EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", title="Plate")
    marking = MarkingFactory(item=item, transcription="주체112", actor=team.bob)
    source = SourceFactory(case=team.case, actor=team.bob, title="Panel report")
    claims = {
        "case": AttributionFactory(case=team.case, source=source, actor=team.bob, claim="Claim about the case."),
        "denial": AttributionFactory(
            case=team.case, source=source, actor=team.bob, claim="The DPRK denies it all.", stance="contradicts"
        ),
        "incident": AttributionFactory(
            case=team.case, source=source, actor=team.bob, subject_type="incident", subject=incident,
            claim="Claim about the strike.",
        ),
        "item": AttributionFactory(
            case=team.case, source=source, actor=team.bob, subject_type="evidence_item", subject=item,
            claim="Claim about the plate.",
        ),
        "marking": AttributionFactory(
            case=team.case, source=source, actor=team.bob, subject_type="marking", subject=marking,
            claim="Claim about the stamp.",
        ),
        "withdrawn": AttributionFactory(case=team.case, source=source, actor=team.bob, claim="A claim taken back."),
    }  # fmt: skip
    services.withdraw_attribution(actor=team.bob, attribution=claims["withdrawn"], reason="misread")
    export = build(team.vera, team.case)
    pages = pdf_pages(filestore.absolute(export.file.path))
    text = squeezed("\n".join(pages))
    for attribution in claims.values():
        assert squeezed(attribution.claim) in text, attribution.claim
    [section] = [page for page in pages if "Attributions in the case" in page]
    section = squeezed(section)
    assert squeezed("Contradicts Case The DPRK denies it all.") in section  # its stance printed beside it
    assert squeezed("Supports Case Claim about the case.") in section
    assert squeezed("WITHDRAWN Case A claim taken back.") in section
    assert squeezed(f"Marking 주체112 ({item.exhibit_number})") in section
    assert squeezed("Claim about the strike.") in section


@pytest.mark.django_db
def test_the_demo_dossier_prints_all_ten_claims_and_speaks_ukrainian(
    eager_tasks, django_capture_on_commit_callbacks, settings
):
    from django.contrib.auth import get_user_model

    from cases.models import Case
    from evidence.demo import data as demo

    settings.DEBUG = True
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    case = Case.objects.get(reference="PGO-2024-0101")
    prosecutor = get_user_model().objects.get(username="prosecutor")
    english = "\n".join(pdf_pages(filestore.absolute(build(prosecutor, case).file.path)))
    assert len(demo.MAIN_CLAIMS) == 10
    for claim in demo.MAIN_CLAIMS:
        assert squeezed(claim.claim) in squeezed(english), claim.claim
    assert squeezed("Contradicts Case The DPRK denies supplying arms") in squeezed(english)

    ukrainian = "\n".join(pdf_pages(filestore.absolute(build(prosecutor, case, language="uk").file.path)))
    assert squeezed("Суперечить Справа The DPRK denies supplying arms") in squeezed(ukrainian)
    assert "(lead)" not in ukrainian
    assert "Demo Prosecutor (Керівник групи)" in ukrainian
    assert "Resolution" not in ukrainian
    assert "Резолюція 1718 (2006), п. 8(b)" in ukrainian
    assert "Resolution 1718 (2006), para. 8(b)" in english
    assert "Demo Prosecutor (Lead)" in english


# --- 3. marking crops name their photo; a continued markings table repeats its exhibit's heading -----


@pytest.mark.django_db
def test_each_marking_names_its_photo_and_the_photos_sha256(team, eager_tasks, django_capture_on_commit_callbacks):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", title="Plate")
    with django_capture_on_commit_callbacks(execute=True):
        services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Landscape_3.jpg"))
        photo = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Apple iPhone 4.jpg")).photo
    MarkingFactory(item=item, transcription="STAMP-ON-SECOND", actor=team.bob, photo=photo, region=(10, 10, 60, 40))
    photo.refresh_from_db()
    pages = pdf_pages(filestore.absolute(build(team.vera, team.case).file.path))
    [page] = [page for page in pages if "STAMP-ON-SECOND" in page]
    after = squeezed(page[page.index("STAMP-ON-SECOND") :])
    assert squeezed(f"Photo 2 of 2 · Original file: {photo.original_name}") in after
    assert squeezed(f"SHA-256 of the original: {photo.original.sha256}") in after


def _dossier(language: str = "en", **fields) -> DossierData:
    values = {
        "case_reference": "PGO-2024-0001",
        "case_title": "Hwasong-11 debris",
        "case_status": "Open",
        "case_summary": "",
        "legal_basis": [],
        "opened_on": date(2024, 1, 3),
        "generated_at": datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
        "generated_by": "tester",
        "language": language,
        "ledger_size": 3,
        "ledger_head": "0" * 64,
        "checkpoint_signed_at": "2024-05-01T09:00:00Z",
        "checkpoint_key": "k",
        "checkpoint_signature": "s",
        "public_key_fingerprint": "f",
    }
    return DossierData(**{**values, **fields})


@pytest.fixture
def in_process(monkeypatch):
    monkeypatch.setattr(sidejob, "IN_CHILD_PROCESS", False)


def test_a_markings_table_continued_on_the_next_page_repeats_its_exhibit_heading(tmp_path, in_process):
    markings = [
        MarkingRow(
            transcription=f"MARK-{number:03d} " + "long reading " * 12,
            marking_type="Part number",
            interpretation="",
            confidence="Probable",
        )
        for number in range(60)
    ]
    exhibit = Exhibit("EX-0007", "Plate 주체", "Component", "", "Open", "Lab", markings=markings)
    out = tmp_path / "dossier.pdf"
    render_dossier(_dossier(exhibits=[exhibit]), out)
    pages = [page for page in pdf_pages(out) if "MARK-0" in page]
    assert len(pages) >= 2  # the table runs onto another page
    for page in pages:
        assert "Exhibit EX-0007 · Plate 주체" in page, page[:300]


# --- 4. headers break only between words; charts in the dossier's language --------------------------


def _full_dossier(language: str) -> DossierData:
    when = datetime(2024, 1, 2, 5, 40, tzinfo=UTC)
    attribution = AttributionRow("B2", "Supports", "A claim.", "A source", "p. 3", subject="Case")
    exhibit = Exhibit(
        "EX-0001", "Casing", "Debris", "", "Open", "Lab",
        custody=[CustodyRow(1, when, "Created", "ivan", "details")],
        markings=[MarkingRow("주체112", "Date code", "2023", "Confirmed")],
        attributions=[attribution],
    )  # fmt: skip
    incident = IncidentRow(when, "Missile strike", "Kharkiv", "Kharkiv", 50.0, 36.2, "Hwasong-11", "Hit", 2, 115)
    source = SourceRow("Panel report", "UN report", "UN", date(2024, 4, 25), "B", "S/2024/215", "")
    return _dossier(
        language,
        statistics={"incidents": 1, "by_kind": {"Missile strike": 1}, "by_outcome": {"Hit": 1}, "by_region": {"K": 1}},
        incidents=[incident],
        exhibits=[exhibit],
        sources=[source],
        attributions=[attribution],
        manifest=[ManifestRow(f"originals/EX-0001/{'a' * 64}.jpg", "a" * 64, 1024)],
        components=[
            ComponentRow(
                "EX-0001",
                "U7",
                "Guidance",
                "Analog Devices",
                "Switzerland",
                "ADIS16470",
                "L2312",
                date_codes=[DateCodeRow("2312", "YYWW/1", date(2023, 3, 20), date(2023, 3, 26))],
                photos=[PhotoReference("board.jpg", "b" * 64)],
            )
        ],
    )


@pytest.mark.parametrize("language", ["en", "uk"])
def test_column_headers_break_only_between_words(tmp_path, in_process, monkeypatch, language):
    tables = []

    class RecordedTable(common.Table):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            tables.append(self)

    monkeypatch.setattr(common, "Table", RecordedTable)
    render_dossier(_full_dossier(language), tmp_path / "dossier.pdf")
    labels = {" ".join(text.split()) for text in LABELS[language].values()}
    headers = 0
    for table in tables:
        if not table.repeatRows:
            continue
        row = table.repeatRows - 1  # the column headers (a title line may stand above them)
        for column, value in enumerate(table._cellvalues[row]):
            if not isinstance(value, str) or not value.strip():
                continue
            style = table._cellStyles[row][column]
            room = table._colWidths[column] - style.leftPadding - style.rightPadding
            assert " ".join(value.split()) in labels, f"{value!r}: a word of a label was broken"
            for word in value.split():
                assert stringWidth(word, style.fontname, style.fontsize) <= room, (word, style.fontsize, room)
            headers += 1
    assert headers >= 25  # incidents, exhibits, custody, markings, attributions, sources, annex, statistics


@pytest.mark.parametrize(("language", "expected", "absent"), [("uk", "50,5", "50.5"), ("en", "50.5", "50,5")])
def test_the_map_writes_degrees_with_the_languages_decimal_separator(tmp_path, monkeypatch, language, expected, absent):
    from types import SimpleNamespace

    from matplotlib.figure import Figure

    from evidence.export import charts
    from evidence.export.pdf import sections

    drawn = []
    real_savefig = Figure.savefig

    def savefig(figure, *args, **kwargs):
        axes = figure.axes[0]
        drawn.extend(label.get_text() for label in [*axes.get_xticklabels(), *axes.get_yticklabels()])
        return real_savefig(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    rows = [
        SimpleNamespace(
            occurred_at=datetime(2024, 1, 2, tzinfo=UTC), kind="strike", latitude=lat, longitude=lon, region="K",
            killed=1, wounded=0,
        )
        for lat, lon in ((49.6, 35.1), (50.3, 36.2), (51.1, 36.9))
    ]  # fmt: skip
    ctx = SimpleNamespace(
        data=SimpleNamespace(incidents=rows), tmp=tmp_path, language=language, labels=LABELS[language]
    )
    spec = sections.chart_spec(ctx)
    charts.draw_charts({"map": spec["map"]})
    text = " ".join(drawn)
    assert expected in text, drawn
    assert absent not in text, drawn


# --- the dossier's printed verification steps, followed literally --------------------------------


def printed_commands(dossier: Path) -> list[str]:
    """The annex's commands as a reader copies them: each block of lines that continue with '\\'."""
    text = "\n".join(pdf_pages(dossier))
    steps = text[text.rindex(LABELS["en"]["verify_title"]) :]
    commands, current = [], []
    for line in steps.splitlines():
        line = line.strip()
        if current or line.startswith(("sha256sum verify.py", "python3 verify.py", "python manage.py")):
            current.append(line)
            if not line.endswith("\\"):
                commands.append("\n".join(current))
                current = []
    return commands


def run_in(folder: Path, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", command], cwd=folder, capture_output=True, text=True, timeout=120)


@pytest.mark.django_db
def test_the_printed_steps_pass_a_true_package_and_fail_a_rewritten_resigned_one(team, filed_case, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from evidence.lib import ledger

    call_command("export_package", filed_case.reference, "--output", str(tmp_path / "bag"), "--as", "alice")
    [bag] = (tmp_path / "bag").iterdir()
    [dossier] = (bag / "data" / "dossier").glob("*.pdf")
    check_script, verify_command, _attest = printed_commands(dossier)
    text = " ".join(pdf_pages(dossier))
    printed_sha = re.search(r"must print\s+([0-9a-f]{64})", text).group(1)
    assert run_in(bag, check_script).stdout.split()[0] == printed_sha
    verdict = run_in(bag, verify_command.replace("python3 ", f"{sys.executable} ", 1))
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert f"{filed_case.reference}: INTACT AND ANCHORED" in verdict.stdout

    # A forger rewrites event 1 and every later one, re-signs with a key of his own and ships it.
    path = next((bag / "data" / "ledger").glob("*.jsonl"))
    entries = ledger.parse_ledger_lines(path.read_bytes().splitlines(keepends=True))
    forger, prev, forged = Ed25519PrivateKey.generate(), ledger.GENESIS_HASH, []
    for entry in entries:
        record = {name: entry[name] for name in ledger.EVENT_FIELDS}
        record["prev"] = prev
        if record["seq"] == 1:
            record["payload"] = {**record["payload"], "forged": True}
        prev = ledger.event_hash(record)
        forged.append(ledger.ledger_line(record, prev) + b"\n")
    path.chmod(0o644)
    path.write_bytes(b"".join(forged))
    signed = ledger.sign_checkpoint(forger, case=filed_case.reference, size=len(forged), head=prev,
                                    signed_at="2030-01-01T00:00:00.000000Z")  # fmt: skip
    next((bag / "data" / "checkpoints").glob("*.json")).write_text(json.dumps([signed]))
    for old in (bag / "data" / "public-keys").glob("*.pem"):
        old.unlink()
    public = forger.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    (bag / "data" / "public-keys" / f"{ledger.key_id(raw)}.pem").write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    alone = run_in(bag, f"{sys.executable} verify.py .")
    assert alone.returncode == 2, alone.stdout  # consistent with itself, and says that is all
    assert "INTACT BUT UNANCHORED" in alone.stdout
    verdict = run_in(bag, verify_command.replace("python3 ", f"{sys.executable} ", 1))
    assert verdict.returncode == 1, verdict.stdout + verdict.stderr
    assert "BROKEN" in verdict.stdout


@pytest.mark.django_db
def test_the_printed_timestamp_step_anchors_to_the_tsa_when_followed(team, filed_case, tmp_path, settings):
    """With a TSA configured, the dossier names the timestamp and prints a command with --tsa-cert;
    saving the TSA's root certificate as it says and running that command anchors to the timestamp."""
    import shutil

    from tests.tsa import LoopbackTSA, openssl_available

    if not openssl_available():
        pytest.skip("needs the openssl command (openssl ts -reply)")
    with LoopbackTSA(tmp_path / "tsa") as tsa:
        settings.ATTEST_TSA_URLS = [tsa.url]
        call_command("export_package", filed_case.reference, "--output", str(tmp_path / "bag"), "--as", "alice")
    [bag] = (tmp_path / "bag").iterdir()
    [dossier] = (bag / "data" / "dossier").glob("*.pdf")
    text = squeezed(" ".join(pdf_pages(dossier)))
    assert squeezed("timestamped by a Time-Stamp Authority (RFC 3161): Attest Test TSA, ") in text
    _script, _package, stamped, _attest = printed_commands(dossier)
    assert stamped.endswith("--tsa-cert TSA-ROOT.pem")
    command = stamped.replace("python3 ", f"{sys.executable} ", 1)
    missing = run_in(bag, command)
    assert missing.returncode == 3, missing.stdout + missing.stderr  # the certificate is not there yet
    shutil.copyfile(tsa.ca_cert, bag / "TSA-ROOT.pem")
    verdict = run_in(bag, command)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "timestamp by CN=Attest Test TSA at " in verdict.stdout
