"""Case references: one spelling, a fixed alphabet, never a path, safe in command output."""

from __future__ import annotations

import io
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from cases import references
from cases.models import Case
from evidence import filestore, services
from evidence.choices import ExportStatus
from evidence.export.build import build_export
from tests.packages import anchors

# Each of these was accepted next to PGO-2024-0101 as a different case.
LOOK_ALIKES = {
    "hyphen U+2010": "PGO\u20102024\u20100101",
    "non-breaking hyphen U+2011": "PGO\u20112024\u20110101",
    "fullwidth": "\uff30\uff27\uff2f-2024-0101",
    "Cyrillic ER and O": "\u0420G\u041e-2024-0101",
    "zero-width space": "PGO-2024-\u200b0101",
    "zero-width joiner": "PGO-2024\u200d-0101",
    "right-to-left override": "\u202ePGO-2024-0101",
    "Arabic-Indic digits": "PGO-\u0662\u0660\u0662\u0664-0101",
    "embedded newline": "PGO-2024-0101\nPGO-2024-0102: intact",
    "combining accent": "PGO-2024-0101\u0301",
    "path": "../../../../tmp/x/trav",
    "absolute path": "/tmp/x/trav",
    "a megabyte": "A" * 1_000_000,
    "a formula": "=HYPERLINK(1)",
    "trailing separator": "PGO-2024-",
    "dot-dot inside": "A/../../../../../../../TMP/X/TRAV",
    "dot-dot segment": "A/../B",
    "double slash": "A//B",
    "dot segment": "A/./B",
    "slash and dot apart": "A/-.B",
}


class TestPolicy:
    @pytest.mark.parametrize("text", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
    def test_look_alikes_are_refused(self, text):
        assert references.problem(references.normalise(text))

    @pytest.mark.parametrize(
        "text",
        ["PGO-2024-0101", "ICC-01/04", "ICC-01/04-01/06", "S/2024/215", "U.S.-1", "A--1", "UA.2024.17", "AB", "A" * 40],
    )
    def test_registry_references_are_accepted(self, text):
        assert references.problem(references.normalise(text)) is None

    def test_one_spelling(self):
        assert references.normalise("  pgo-2024-0101 ") == "PGO-2024-0101"
        nfd = unicodedata.normalize("NFD", "É-1")
        assert references.normalise(nfd) == unicodedata.normalize("NFC", "É-1")
        # No non-ASCII letter is folded onto a Latin one by upper-casing (long s would become S).
        assert references.normalise("pgo-\u017f") == "pgo-\u017f"

    def test_the_reason_names_the_character(self):
        reason = references.problem(references.normalise("\u0420GO-2024-0101"))
        assert reason == ("character", {"position": 1, "character": "U+0420 CYRILLIC CAPITAL LETTER ER"})

    def test_a_second_separator_in_a_row_is_named_by_its_position(self):
        assert references.problem("X/../../WORK") == ("separators", {"position": 3})
        assert references.problem("PGO-2024.-/1") == ("separators", {"position": 11})

    def test_file_stems_are_one_component_and_map_back(self):
        assert references.file_stem("ICC-01/04") == "ICC-01_04"
        assert references.from_file_stem("ICC-01_04") == "ICC-01/04"
        with pytest.raises(ValueError, match="policy"):
            references.file_stem("../../etc")

    def test_printable_keeps_one_line(self):
        shown = references.printable("A\nB\u202eC\u200bD")
        assert "\n" not in shown
        assert "\u202e" not in shown
        assert shown == "A\\u000aB\\u202eC\\u200bD"
        # A file name of bytes that are no UTF-8 reaches Python as lone surrogates, which a UTF-8 terminal
        # cannot write at all.
        assert references.printable("\udcff.jpg").encode("utf-8") == b"\\udcff.jpg"


@pytest.mark.django_db
class TestCreating:
    @pytest.mark.parametrize("text", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
    def test_the_api_refuses_a_look_alike_naming_the_field(self, api, team, text):
        before = Case.objects.count()
        response = api(team.root).post("/api/v1/cases/", {"reference": text, "title": "Twin"}, format="json")
        assert response.status_code == 400, response.content[:300]
        assert "reference" in response.json()["error"]["fields"]
        assert Case.objects.count() == before

    def test_lower_case_is_the_same_reference(self, api, team):
        client = api(team.root)
        created = client.post("/api/v1/cases/", {"reference": "pgo-2024-0101", "title": "First"}, format="json")
        assert created.status_code == 201, created.content
        assert created.json()["reference"] == "PGO-2024-0101"
        twin = client.post("/api/v1/cases/", {"reference": "Pgo-2024-0101", "title": "Twin"}, format="json")
        assert twin.status_code == 400
        assert "exists already" in twin.json()["error"]["fields"]["reference"][0]

    def test_the_database_refuses_a_case_twin_from_any_writer(self, team):
        with pytest.raises(IntegrityError), transaction.atomic():
            Case.objects.create(reference=team.case.reference.lower(), title="Twin", lead=team.alice)

    def test_the_admin_form_refuses_a_look_alike(self, client, team):
        client.force_login(team.root)
        response = client.post(
            "/admin/cases/case/add/",
            {"reference": "\u0420GO-2024-0101", "title": "Twin", "status": "open", "opened_on": "2024-01-01"},
        )
        assert response.status_code == 200  # the form again, with its error
        assert "CYRILLIC CAPITAL LETTER ER" in response.content.decode()
        assert not Case.objects.filter(title="Twin").exists()


@pytest.fixture
def short_tmp():
    """A folder with a short path: the reference column holds 40 characters (PostgreSQL enforces it)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="r", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def legacy_case(team, reference: str) -> Case:
    """A reference written before the policy, as the attack left one in the database."""
    Case.objects.filter(pk=team.case.pk).update(reference=reference)
    team.case.refresh_from_db()
    return team.case


@pytest.mark.django_db
class TestNeverAPath:
    def test_a_path_reference_writes_nothing_outside_the_build_folder(self, team, api, short_tmp):
        tmp_path = short_tmp
        target = tmp_path / "x"
        case = legacy_case(team, f"../../../../..{target}/trav")
        export = services.request_export(actor=team.alice, case=case)
        export = build_export(export_id=export.pk)
        assert export.status == ExportStatus.DONE, export.error
        assert not target.exists()
        assert not list(tmp_path.rglob("*trav*"))
        response = api(team.alice).get(f"/api/v1/exports/{export.pk}/download/")
        assert response.status_code == 200
        disposition = response["Content-Disposition"]
        assert ".." not in disposition
        assert "/" not in disposition
        assert f"case-{case.pk}-dossier-{export.pk}.pdf" in disposition

    def test_a_package_of_a_path_reference_is_refused_with_a_plain_reason(self, team):
        case = legacy_case(team, "/tmp/x/trav")
        export = services.request_export(actor=team.alice, case=case, kind="package")
        with pytest.raises(ValueError, match="policy"):
            build_export(export_id=export.pk)
        export.refresh_from_db()
        assert export.status == ExportStatus.FAILED
        assert "/tmp" not in export.error
        assert not Path("/tmp/x/trav").exists()
        assert not any(filestore.incoming_dir().glob("export-*"))

    def test_a_reference_with_a_slash_makes_a_package_verify_py_finds_intact(self, team, tmp_path):
        case = legacy_case(team, "ICC-01/04")
        call_command("export_package", case.reference, "--output", str(tmp_path / "bag"), "--as", "alice")
        [root] = (tmp_path / "bag").iterdir()
        assert (root / "data" / "ledger" / "ICC-01_04.jsonl").is_file()
        assert not (root / "data" / "ledger" / "ICC-01").exists()
        result = subprocess.run(
            [sys.executable, str(root / "verify.py"), str(root), *anchors(case)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ICC-01/04: INTACT AND ANCHORED" in result.stdout, result.stdout + result.stderr

    def test_the_sanctions_report_download_name_is_safe(self, api, team):
        legacy_case(team, '../"x\r\nSet-Cookie: a=b')
        response = api(team.alice).get(f"/api/v1/sanctions-reports/{team.case.pk}/?export=csv")
        assert response.status_code == 200, response.content[:300]
        assert response["Content-Disposition"] == f'attachment; filename="case-{team.case.pk}-sanctions-report.csv"'


@pytest.mark.django_db
def test_verify_custody_writes_one_line_per_case_whatever_the_reference(team):
    legacy_case(team, "PGO-2024-0001\nPGO-2024-0009: intact")
    out = io.StringIO()
    call_command("verify_custody", "--skip-files", stdout=out)
    lines = out.getvalue().splitlines()
    assert not any(line.startswith("PGO-2024-0009") for line in lines)
    assert any(line.startswith("PGO-2024-0001\\u000aPGO-2024-0009: intact: intact") for line in lines), lines


@pytest.mark.django_db
def test_commands_find_a_case_whatever_its_spelling(team, tmp_path):
    out = io.StringIO()
    call_command("verify_custody", team.case.reference.lower(), "--skip-files", stdout=out)
    assert f"{team.case.reference}: intact" in out.getvalue()
