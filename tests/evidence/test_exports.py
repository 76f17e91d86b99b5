"""Dossiers and evidence packages end to end: built, stored write-once, recorded, verifiable offline."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import bagit
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pypdf import PdfReader

from evidence import custody, filestore, services
from evidence.choices import ExportErrorCode, ExportStatus
from evidence.export.build import build_export
from evidence.models import CustodyEvent, Export, StoredFile
from tests import corpus
from tests.factories import (
    AttributionFactory,
    EvidenceItemFactory,
    IncidentFactory,
    MarkingFactory,
    SourceFactory,
)
from tests.packages import anchors, key_fingerprint

pytestmark = pytest.mark.django_db


@pytest.fixture
def evidence_case(team, eager_tasks, django_capture_on_commit_callbacks):
    """A small case with photos, a Hangul marking, a Cyrillic place and a graded source."""
    IncidentFactory(case=team.case, place_name="Харків", region="Kharkiv")
    debris = EvidenceItemFactory(case=team.case, actor=team.ivan, title="Rocket motor casing")
    component = EvidenceItemFactory(
        case=team.case, actor=team.ivan, kind="component", parent=debris, title="Stamped plate",
        country_of_origin="DPRK", manufactured_on=dt.date(2023, 1, 1), manufactured_precision="year",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("Landscape_3.jpg", "Apple iPhone 4.jpg"):
            services.add_photo_from_path(actor=team.ivan, item=debris, path=corpus.photo(name))
    MarkingFactory(item=component, transcription="주체112", marking_type="date_code", actor=team.bob)
    source = SourceFactory(case=team.case, reliability="B", actor=team.bob)
    AttributionFactory(case=team.case, source=source, subject_type="evidence_item", subject=debris, actor=team.bob)
    return team.case


def build(team, case, **options) -> Export:
    export = services.request_export(actor=team.vera, case=case, **options)
    return build_export(export_id=export.pk)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


class TestDossier:
    def test_the_pdf_names_every_exhibit_and_hash_and_is_recorded_with_a_checkpoint(self, team, evidence_case):
        export = build(team, evidence_case)
        assert export.status == ExportStatus.DONE
        path = filestore.absolute(export.file.path)
        assert filestore.hash_file(path)[0] == export.file.sha256
        text = pdf_text(path)
        for item in evidence_case.items.all():
            assert item.exhibit_number in text
        for stored in custody.case_files(evidence_case).exclude(kind="export"):
            assert stored.sha256 in text.replace("\n", "")
        assert "주체112" in text
        assert "Харків" in text
        assert f"{export.checkpoint.size}:{export.checkpoint.head_hash}"[:20] in text.replace("\n", "")
        event = CustodyEvent.objects.filter(case=evidence_case, event_type="export.produced").get()
        assert event.payload_data["export"]["sha256"] == export.file.sha256
        assert event.payload_data["checkpoint"]["size"] == export.checkpoint.size
        assert event.sequence == export.checkpoint.size + 1
        assert custody.verify_case(evidence_case).intact

    def test_ukrainian_without_photos_and_redacted(self, team, evidence_case):
        english = build(team, evidence_case)
        ukrainian = build(team, evidence_case, language="uk", include_photos=False, redact_names=True)
        text = pdf_text(filestore.absolute(ukrainian.file.path))
        assert "Свідок 1" in text
        assert "виготовлено 2023-01-01" in text  # the component's line, in the dossier's language
        assert "made 2023-01-01" in pdf_text(filestore.absolute(english.file.path))
        assert "Regional police explosives team" not in text
        assert ukrainian.file.size < english.file.size  # no previews embedded

    def test_a_failed_build_is_recorded_as_failed_and_leaves_no_file(self, team, evidence_case, settings):
        settings.ATTEST_SIGNING_KEY_PATH = Path("/nonexistent/key.pem")
        before = StoredFile.objects.count()
        export = services.request_export(actor=team.vera, case=evidence_case)
        with pytest.raises(Exception, match="signing key"):
            build_export(export_id=export.pk)
        export.refresh_from_db()
        assert export.status == ExportStatus.FAILED
        assert "signing key" in export.error
        assert "/nonexistent" not in export.error  # a known cause, told without the server's paths
        assert export.file is None
        assert StoredFile.objects.count() == before
        assert not any((filestore.incoming_dir()).glob("export-*"))

    def test_an_unexpected_failure_stores_a_generic_error_and_logs_the_detail(
        self, team, evidence_case, monkeypatch, caplog, api
    ):
        import shutil

        def render_badly(data, path, progress):
            path.write_bytes(b"%PDF-")
            shutil.copyfile(path, path)  # SameFileError: PosixPath('/…/incoming/export-…/…-dossier.pdf') …

        monkeypatch.setattr("evidence.export.build.render_dossier", render_badly)
        export = services.request_export(actor=team.vera, case=evidence_case)
        with caplog.at_level("ERROR", logger="evidence.export.build"), pytest.raises(shutil.SameFileError):
            build_export(export_id=export.pk)
        export.refresh_from_db()
        assert export.status == ExportStatus.FAILED
        assert (export.error_code, export.error) == (ExportErrorCode.NOT_BUILT, str(ExportErrorCode.NOT_BUILT.label))
        shown = api(team.vera).get(f"/api/v1/exports/{export.pk}/").json()["error"]
        assert shown == str(ExportErrorCode.NOT_BUILT.label)
        assert "SameFileError" in caplog.text  # the detail stays in the server log
        assert str(filestore.incoming_dir()) in caplog.text

    def test_an_outsider_cannot_ask(self, team, evidence_case):
        from django.http import Http404

        with pytest.raises(Http404):
            services.request_export(actor=team.charlie, case=evidence_case)

    def test_the_command_writes_the_file(self, team, evidence_case, tmp_path, capsys):
        output = tmp_path / "dossier.pdf"
        call_command("export_dossier", evidence_case.reference, "--output", str(output), "--as", "vera")
        export = Export.objects.get()
        assert filestore.hash_file(output)[0] == export.file.sha256
        assert export.file.sha256 in capsys.readouterr().out
        with pytest.raises(CommandError, match="no such case"):
            call_command("export_dossier", "PGO-1999-0001", "--output", str(output))


class TestPackage:
    @pytest.fixture
    def bag(self, team, evidence_case, tmp_path) -> Path:
        call_command("export_package", evidence_case.reference, "--output", str(tmp_path / "bag"), "--as", "vera")
        [root] = (tmp_path / "bag").iterdir()
        return root

    def verify_script(self, bag: Path, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(bag / "verify.py"), str(bag), *args], capture_output=True, text=True, timeout=120
        )

    def test_the_bag_validates_and_verify_py_finds_it_intact(self, team, evidence_case, bag):
        assert bagit.Bag(str(bag)).is_valid()
        info = (bag / "bag-info.txt").read_text()
        assert "Payload-Oxum" in info
        # BagIt 1.0 (RFC 8493), and the bag-info fields the format page's package profile describes.
        assert (bag / "bagit.txt").read_text() == "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
        assert bagit.Bag(str(bag)).version_info == (1, 0)
        export = Export.objects.filter(case=evidence_case, kind="package").latest("pk")
        assert f"Attest-Ledger-Head: {export.checkpoint.size}:{export.checkpoint.head_hash}" in info
        assert f"Attest-Key-Fingerprint: {key_fingerprint()}" in info
        assert "Attest-Format: attest-custody-ledger/1" in info
        assert (bag / "tagmanifest-sha256.txt").read_text().count("verify.py") == 1
        unanchored = self.verify_script(bag)
        assert unanchored.returncode == 2, unanchored.stdout + unanchored.stderr
        assert f"{evidence_case.reference}: INTACT BUT UNANCHORED" in unanchored.stdout
        result = self.verify_script(bag, *anchors(evidence_case))
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{evidence_case.reference}: INTACT AND ANCHORED" in result.stdout
        photos = list((bag / "data" / "originals").rglob("*.jpg"))
        assert len(photos) == 2
        for photo in photos:
            assert filestore.hash_file(photo)[0] == photo.stem  # named by SHA-256, under the exhibit number
        assert (bag / "data" / "case.json").exists()
        assert list((bag / "data" / "dossier").glob("*.pdf"))

    @pytest.mark.parametrize("target", ["photo", "ledger", "dossier"])
    def test_one_changed_byte_fails_bagit_and_verify_py(self, bag, target):
        path = {
            "photo": next((bag / "data" / "originals").rglob("*.jpg")),
            "ledger": next((bag / "data" / "ledger").glob("*.jsonl")),
            "dossier": next((bag / "data" / "dossier").glob("*.pdf")),
        }[target]
        data = bytearray(path.read_bytes())
        position = len(data) // 2 if target != "ledger" else data.index(b'"payload"') + 12
        data[position] ^= 0x01
        path.chmod(0o644)
        path.write_bytes(bytes(data))
        assert not bagit.Bag(str(bag)).is_valid()
        result = self.verify_script(bag)
        assert result.returncode == 1
        assert "BROKEN" in result.stdout

    def test_a_published_head_from_the_dossier_checks_out(self, team, evidence_case, bag):
        export = Export.objects.get(kind="package")
        result = self.verify_script(bag, "--head", f"{export.checkpoint.size}:{export.checkpoint.head_hash}")
        assert result.returncode == 0, result.stdout
        wrong = self.verify_script(bag, "--head", f"{export.checkpoint.size}:{'0' * 64}")
        assert wrong.returncode == 1

    def test_the_zip_is_stored_write_once_with_its_hash(self, team, evidence_case):
        export = build(team, evidence_case, kind="package")
        path = filestore.absolute(export.file.path)
        assert path.stat().st_mode & 0o222 == 0
        with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as bundle:
            names = bundle.namelist()
        assert any(name.endswith("/bagit.txt") for name in names)
        assert any(name.endswith("/verify.py") for name in names)

    @pytest.mark.parametrize("name", ["a." + "ж" * 151, 'a.":<>|*?', "report.pdf/../../x", "a.\u202egpj"])
    def test_an_uploaded_file_name_never_makes_a_path_in_the_package(self, team, evidence_case, name):
        """A source archived as `a.жжж…` (150 letters) failed every package of its case: the name's
        suffix became part of a file name, too long for the file system."""
        from evidence.services import add_source

        with filestore.hashed_copy(io.BytesIO(b"archived page")) as archive:
            source = add_source(actor=team.bob, case=evidence_case, archive=archive, archive_name=name,
                                title="Archived report", kind="news_report", reliability="B")  # fmt: skip
        export = build(team, evidence_case, kind="package")
        assert export.status == ExportStatus.DONE, export.error
        with zipfile.ZipFile(io.BytesIO(filestore.absolute(export.file.path).read_bytes())) as bundle:
            [archived] = [entry for entry in bundle.namelist() if f"/sources/{source.pk}-" in entry]
        assert archived.endswith(f"{source.archived_copy.sha256}.bin")


def test_the_dossier_names_incident_kinds_and_outcomes_in_its_language():
    from django.utils import translation

    from cases.choices import IncidentKind, Outcome
    from evidence.export.collect import labelled_statistics

    stats = {"by_kind": {"missile_strike": 2, "launch": 1}, "by_outcome": {"failed_in_flight": 1}, "killed": 3}
    with translation.override("uk"):
        labelled = labelled_statistics(dict(stats))
        strike, failed = str(IncidentKind.MISSILE_STRIKE.label), str(Outcome.FAILED_IN_FLIGHT.label)
    assert strike != "missile_strike"
    assert labelled["by_kind"][strike] == 2
    assert labelled["by_outcome"] == {failed: 1}
    assert labelled["killed"] == 3
    assert not any("_" in name for name in labelled["by_kind"])
