"""Evidence files in an S3-compatible bucket (MEDIA_STORAGE=s3), end to end over HTTP.

The bucket (the `bucket` fixture, tests/conftest.py) is served by moto's S3 server on loopback:
boto3 and django-storages speak the real S3 protocol to it (signed requests, conditional PUTs,
404s), as they would to MinIO or AWS.
"""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.urls import reverse

from config.health import check_media
from evidence import custody, filestore, services
from evidence.choices import FileKind, PhotoStatus
from evidence.export.build import build_export
from evidence.models import StoredFile
from tests import corpus
from tests.factories import EvidenceItemFactory, MarkingFactory

pytestmark = pytest.mark.django_db

PHOTO = "Apple iPhone 4.jpg"  # with the camera's make and model in its EXIF


def content_address(data: bytes, folder: str = "sources") -> str:
    sha256 = hashlib.sha256(data).hexdigest()
    return f"{folder}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def keys(bucket) -> set[str]:
    return {summary.key for summary in bucket.objects.all()}


def body(bucket, key: str) -> bytes:
    return bucket.Object(key).get()["Body"].read()


@pytest.fixture
def photo(team, bucket, eager_tasks, django_capture_on_commit_callbacks):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan, title="Rocket motor casing")
    with django_capture_on_commit_callbacks(execute=True):
        accepted = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo(PHOTO))
    accepted.photo.refresh_from_db()
    return accepted.photo


def test_an_original_goes_to_the_bucket_under_its_content_address_and_nowhere_on_disk(photo, bucket, settings):
    media_root = settings.MEDIA_ROOT
    original = corpus.photo(PHOTO).read_bytes()
    sha256 = hashlib.sha256(original).hexdigest()
    assert photo.original.sha256 == sha256
    assert photo.original.path == f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}"
    assert body(bucket, photo.original.path) == original
    assert not (media_root / photo.original.path).exists()
    assert not any((media_root / "incoming").iterdir()), "temporary files were left on disk"


def test_a_worker_processes_the_photo_from_the_bucket_and_puts_its_derivatives_there(photo, bucket):
    assert photo.status == PhotoStatus.DONE, photo.error
    assert photo.camera_make == "Apple"  # EXIF read from the downloaded original
    for kind in ("preview", "thumbnail"):
        assert body(bucket, photo.derivative_path(kind))[:2] == b"\xff\xd8"  # a JPEG


def test_the_store_never_replaces_an_object(bucket):
    storage = filestore.object_storage()
    assert storage.save_once("originals/aa/bb/first", io.BytesIO(b"first bytes")) is True
    assert storage.save_once("originals/aa/bb/first", io.BytesIO(b"other bytes")) is False
    assert body(bucket, "originals/aa/bb/first") == b"first bytes"


def test_storing_the_same_bytes_twice_keeps_one_object_and_one_row(bucket, tmp_path):
    source = tmp_path / "report.pdf"
    source.write_bytes(b"%PDF-1.7 panel report")
    stored = []
    for _ in range(2):
        with source.open("rb") as handle, filestore.hashed_copy(handle) as temp:
            stored.append(filestore.store(temp, kind=FileKind.SOURCE_ARCHIVE))
    (first, created), (second, created_again) = stored
    assert (created, created_again) == (True, False)
    assert first.pk == second.pk
    assert keys(bucket) == {first.path}


def test_an_object_altered_in_the_bucket_is_caught_and_never_built_on(photo, bucket):
    bucket.put_object(Key=photo.original.path, Body=b"not the photo")
    report = custody.verify_case(photo.item.case)
    assert not report.intact
    assert any(photo.original.path in problem.where for problem in report.problems)
    # Storing the real bytes again must not take the altered object for them.
    StoredFile.objects.filter(pk=photo.original.pk).update(sha256="0" * 64)  # frees the hash for the test
    with (
        corpus.photo(PHOTO).open("rb") as handle,
        filestore.hashed_copy(handle) as temp,
        pytest.raises(filestore.StoreDamaged),
    ):
        filestore.store(temp, kind=FileKind.ORIGINAL)


def test_a_missing_object_is_reported(photo, bucket):
    bucket.Object(photo.original.path).delete()
    report = custody.verify_case(photo.item.case)
    assert any("missing" in problem.reason for problem in report.problems)


def test_a_service_that_fails_leaves_no_object_behind(bucket, tmp_path):
    source = tmp_path / "note.txt"
    source.write_bytes(b"half-stored, then refused")
    seen = []

    def service_that_refuses_after_storing():
        with source.open("rb") as handle, filestore.hashed_copy(handle) as temp, filestore.files_removed_on_failure():
            filestore.store(temp, kind=FileKind.SOURCE_ARCHIVE)
            seen.append(keys(bucket))
            raise RuntimeError("the service refused it after storing")

    with pytest.raises(RuntimeError):
        service_that_refuses_after_storing()
    assert seen == [{content_address(b"half-stored, then refused")}]  # it was there
    assert keys(bucket) == set()


def test_a_download_streams_the_object_after_the_access_check(photo, team, api):
    response = api(team.vera).get(reverse("photo-original", args=[photo.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == corpus.photo(PHOTO).read_bytes()
    assert response["Content-Disposition"].startswith("attachment")
    assert api(team.charlie).get(reverse("photo-original", args=[photo.pk])).status_code == 404


def test_a_dossier_and_a_package_are_built_from_the_bucket_and_kept_in_it(photo, team, bucket):
    MarkingFactory(
        item=photo.item, photo=photo, region=(10, 10, 50, 20), transcription="주체112", marking_type="date_code"
    )
    dossier = build_export(export_id=services.request_export(actor=team.vera, case=team.case, include_photos=True).pk)
    package = build_export(export_id=services.request_export(actor=team.vera, case=team.case, kind="package").pk)
    for export in (dossier, package):
        assert export.status == "done", export.error
        assert hashlib.sha256(body(bucket, export.file.path)).hexdigest() == export.file.sha256
    # The dossier embeds the preview downloaded from the bucket.
    assert len(body(bucket, dossier.file.path)) > len(body(bucket, photo.derivative_path("preview")))
    with zipfile.ZipFile(io.BytesIO(body(bucket, package.file.path))) as bundle:
        originals = [name for name in bundle.namelist() if photo.original.sha256[:12] in name or "/originals/" in name]
        contents = {bundle.read(name) for name in originals if not name.endswith("/")}
    assert corpus.photo(PHOTO).read_bytes() in contents


def test_health_reaches_the_bucket_and_names_it_when_it_cannot(bucket, settings):
    assert check_media().ok
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "evidence.storage.EvidenceS3Storage",
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "endpoint_url": "http://127.0.0.1:9"},
        },
    }
    result = check_media()
    assert not result.ok
    assert "bucket" in result.detail
