"""Damaged files: a photo original the pipeline refuses is kept as an evidence file (write-once, hashed,
in the ledger) when the investigator asks, never lost; it is listed with its hash on its exhibit."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cases.models import AccessLog
from evidence import custody, services
from evidence.export.build import build_export
from evidence.filestore import absolute, hashed_copy
from evidence.models import CustodyEvent, EvidenceFile, StoredFile
from tests import corpus
from tests.factories import EvidenceItemFactory
from tests.packages import anchors

pytestmark = pytest.mark.django_db
DAMAGED = "truncated_jpeg.jpg"  # a real camera JPEG cut short: the pipeline refuses it as a photo


def keep(actor, item, name=DAMAGED):
    with corpus.photo(name).open("rb") as source, hashed_copy(source) as upload:
        return services.keep_file(actor=actor, item=item, upload=upload, original_name=name, reason="damaged")


def test_a_damaged_original_is_refused_as_a_photo_but_kept_as_an_evidence_file(team):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    data = corpus.photo(DAMAGED).read_bytes()
    with (
        pytest.raises(Exception, match="incomplete"),
        corpus.photo(DAMAGED).open("rb") as source,
        hashed_copy(source) as upload,
    ):
        services.add_photo(actor=team.ivan, item=item, upload=upload, original_name=DAMAGED)
    result = keep(team.ivan, item)
    kept = result.kept
    assert not result.duplicate
    assert kept.file.sha256 == hashlib.sha256(data).hexdigest()
    assert kept.file.kind == "kept"
    assert absolute(kept.file.path).read_bytes() == data  # byte for byte
    assert not absolute(kept.file.path).stat().st_mode & 0o222  # read-only: written once
    event = CustodyEvent.objects.get(event_type="file.kept")
    assert (event.subject_type, event.subject_id, event.actor) == ("evidence_file", kept.pk, team.ivan)
    assert event.payload_data["file"]["sha256"] == kept.file.sha256
    report = custody.verify_case(team.case)
    assert report.intact
    assert report.files >= 1  # the fixity check re-hashes kept files too
    assert keep(team.ivan, item).duplicate  # the same bytes again: nothing new stored
    assert EvidenceFile.objects.count() == StoredFile.objects.filter(kind="kept").count() == 1


def test_only_an_investigator_keeps_files(team):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    with pytest.raises(PermissionDenied):
        keep(team.bob, item)  # an analyst
    assert not EvidenceFile.objects.exists()


def test_a_kept_file_is_never_deleted(team):
    from evidence.models import EvidenceIsPermanent

    kept = keep(team.ivan, EvidenceItemFactory(case=team.case, actor=team.ivan)).kept
    with pytest.raises(EvidenceIsPermanent):
        kept.delete()


def test_the_exhibit_page_shows_kept_files_with_their_hash_and_a_logged_download(client, team):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    kept = keep(team.ivan, item).kept
    client.force_login(team.vera)
    page = client.get(reverse("admin:evidence_evidenceitem_change", args=[item.pk])).content.decode()
    assert kept.file.sha256 in page
    assert DAMAGED in page
    url = reverse("admin:evidence_evidencefile_download", args=[kept.pk])
    assert url in page
    response = client.get(url)
    assert b"".join(response.streaming_content) == corpus.photo(DAMAGED).read_bytes()
    assert response["Content-Disposition"].startswith("attachment")  # not a vetted image: never shown inline
    assert response["Content-Type"] == "application/octet-stream"
    logged = AccessLog.objects.filter(user=team.vera).latest("pk")
    assert (logged.action, logged.object_type) == ("download", "evidencefile")
    client.force_login(team.charlie)
    assert client.get(url).status_code == 404


def test_a_damaged_upload_on_the_exhibit_page_is_kept_when_asked(client, team):
    from django.core.files.uploadedfile import SimpleUploadedFile

    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    url = reverse("admin:evidence_evidenceitem_upload", args=[item.pk])
    data = corpus.photo(DAMAGED).read_bytes()
    client.force_login(team.ivan)
    assert (
        'name="keep_refused"'
        in client.get(reverse("admin:evidence_evidenceitem_change", args=[item.pk])).content.decode()
    )
    page = client.post(url, {"photos": [SimpleUploadedFile(DAMAGED, data)]}, follow=True).content.decode()
    assert "was not kept" in page  # and says how to keep it
    assert not EvidenceFile.objects.exists()
    page = client.post(url, {"photos": [SimpleUploadedFile(DAMAGED, data)], "keep_refused": "1"}, follow=True)
    kept = EvidenceFile.objects.get()
    assert kept.file.sha256 == hashlib.sha256(data).hexdigest()
    assert kept.reason == "refused as a photo (truncated)"
    assert f"kept as an evidence file, SHA-256 {kept.file.sha256}" in page.content.decode()
    assert kept.file.sha256 in page.content.decode()  # listed on the exhibit page
    assert not item.photos.exists()


def test_the_evidence_package_ships_kept_files_and_verifies(team, tmp_path):
    import json
    import subprocess
    import sys

    from django.core.management import call_command

    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    kept = keep(team.ivan, item).kept
    call_command("export_package", team.case.reference, "--output", str(tmp_path / "bag"), "--as", "vera")
    [bag] = (tmp_path / "bag").iterdir()
    shipped = bag / "data" / "files" / item.exhibit_number / f"{kept.file.sha256}.bin"
    assert shipped.read_bytes() == corpus.photo(DAMAGED).read_bytes()
    listed = json.loads((bag / "data" / "files.json").read_text())
    assert {"path": f"files/{item.exhibit_number}/{kept.file.sha256}.bin", "sha256": kept.file.sha256,
            "size": kept.file.size} in listed  # fmt: skip
    records = json.loads((bag / "data" / "case.json").read_text())
    assert records["evidence_files"][0]["sha256"] == kept.file.sha256
    command = [sys.executable, str(bag / "verify.py"), str(bag), *anchors(item.case)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INTACT AND ANCHORED" in result.stdout


def test_the_dossier_manifest_lists_kept_files_by_hash(team):
    from pypdf import PdfReader

    from evidence import filestore

    kept = keep(team.ivan, EvidenceItemFactory(case=team.case, actor=team.ivan)).kept
    export = services.request_export(actor=team.vera, case=team.case)
    export = build_export(export_id=export.pk)
    text = "".join(page.extract_text() for page in PdfReader(filestore.absolute(export.file.path)).pages)
    assert kept.file.sha256 in text.replace("\n", "")


def test_ingest_photos_keeps_refused_files_when_asked(team, tmp_path, capsys, eager_tasks):
    from django.core.management import call_command

    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in ("Landscape_1.jpg", DAMAGED):
        (folder / name).write_bytes(corpus.photo(name).read_bytes())
    args = ["ingest_photos", team.case.reference, item.exhibit_number, str(folder), "--as", "ivan"]
    call_command(*args, "--keep-refused")  # nothing refused and not kept: no exit 1
    out = capsys.readouterr().out
    kept = EvidenceFile.objects.get()
    assert "1 accepted, 0 duplicates, 0 refused, 1 kept as evidence files" in out
    assert f"{DAMAGED}: refused as a photo, kept as an evidence file, SHA-256 {kept.file.sha256}" in out
    assert kept.reason == "refused as a photo (truncated)"
    assert item.photos.count() == 1


def test_the_case_timeline_filtered_by_exhibit_shows_its_kept_files(team):
    from evidence import selectors

    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    keep(team.ivan, item)
    subjects = selectors.subjects_by_exhibit(team.case)
    events = selectors.custody_events(team.case, subjects=subjects, exhibit=item.pk)
    assert [event.event_type for event in events] == ["file.kept", "item.created"]
