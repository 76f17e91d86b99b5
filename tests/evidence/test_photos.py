"""Photos end to end on the embedded default: vetting, write-once originals, the pipeline, serving."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from evidence import custody, filestore, selectors, services
from evidence.choices import PhotoErrorCode, PhotoStatus
from evidence.models import CustodyEvent, Photo, StoredFile
from tests import corpus
from tests.evidence.test_custody import verify
from tests.factories import EvidenceItemFactory, PhotoFactory, celery_eager

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(team):
    return EvidenceItemFactory(case=team.case, actor=team.ivan)


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks, eager_tasks):
    """Tasks run in-process when the transaction that queued them commits, as on the embedded default."""

    def add(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            accepted = services.add_photo_from_path(**kwargs)
        accepted.photo.refresh_from_db()
        return accepted

    return add


def stored_files_on_disk(media_root: Path) -> list[Path]:
    return [path for path in (media_root / "originals").rglob("*") if path.is_file()] if media_root.exists() else []


@pytest.mark.parametrize("entry", corpus.params(corpus.VALID))
def test_every_valid_corpus_photo_is_accepted_with_its_exif(team, item, run_tasks, entry):
    accepted = run_tasks(actor=team.ivan, item=item, path=corpus.path_of(entry))
    photo = accepted.photo
    assert photo.status == PhotoStatus.DONE, photo.error
    assert photo.original.sha256 == entry["sha256"]
    assert photo.original.size == entry["bytes"]
    assert (photo.camera_make or "") == (entry.get("make") or "").strip()
    expected = entry.get("gps_latlon")
    if expected and expected != [0.0, 0.0] and entry["file"] != "Issue 487.heic":
        assert float(photo.gps_latitude) == pytest.approx(expected[0], abs=1e-3)
        assert float(photo.gps_longitude) == pytest.approx(expected[1], abs=1e-3)
    else:
        assert photo.gps_latitude is None
    for kind, limit in (("preview", 1600), ("thumbnail", 400)):
        with Image.open(filestore.absolute(photo.derivative_path(kind))) as derivative:
            assert max(derivative.size) <= limit
            assert not derivative.getexif()
    types = list(CustodyEvent.objects.filter(subject_type="photo").values_list("event_type", flat=True))
    assert types == ["photo.added", "photo.processed"]


@pytest.mark.parametrize("entry", corpus.params(corpus.INVALID))
def test_every_malformed_corpus_file_is_refused_and_leaves_nothing(team, item, media_root, entry):
    before = stored_files_on_disk(media_root)
    with pytest.raises(ValidationError) as refused:
        services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.path_of(entry))
    assert "file" in refused.value.message_dict
    assert not Photo.objects.exists()
    assert not StoredFile.objects.exists()
    assert stored_files_on_disk(media_root) == before
    assert CustodyEvent.objects.count() == 1  # the item's own creation only


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"<!doctype html><html><script>alert(1)</script></html>", "not a photo"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b"%PDF-1.7\n1 0 obj", "not a photo"),
    ],
)
def test_non_images_are_refused_whatever_their_name(team, item, tmp_path, content, reason):
    path = tmp_path / "debris.jpg"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=reason):
        services.add_photo_from_path(actor=team.ivan, item=item, path=path)
    assert not Photo.objects.exists()


def test_a_png_with_html_appended_is_refused(team, item, tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "grey").save(buffer, "PNG")
    path = tmp_path / "polyglot.png"
    path.write_bytes(buffer.getvalue() + b"<html><script>alert(document.cookie)</script></html>")
    with pytest.raises(ValidationError, match="refused"):
        services.add_photo_from_path(actor=team.ivan, item=item, path=path)
    assert not StoredFile.objects.exists()


def test_the_same_bytes_on_the_same_item_are_a_duplicate(team, item, run_tasks):
    path = corpus.photo("Landscape_1.jpg")
    first = run_tasks(actor=team.ivan, item=item, path=path)
    again = run_tasks(actor=team.ivan, item=item, path=path)
    assert again.duplicate
    assert again.photo.pk == first.photo.pk
    assert Photo.objects.count() == 1
    other = EvidenceItemFactory(case=team.case, actor=team.ivan)
    elsewhere = run_tasks(actor=team.ivan, item=other, path=path)
    assert not elsewhere.duplicate
    assert StoredFile.objects.count() == 1  # one write-once original serves both


def test_originals_are_content_addressed_read_only_and_unchanged(team, item, run_tasks):
    path = corpus.photo("Apple iPhone 4.jpg")
    photo = run_tasks(actor=team.ivan, item=item, path=path).photo
    stored = filestore.absolute(photo.original.path)
    sha = photo.original.sha256
    assert photo.original.path == f"originals/{sha[:2]}/{sha[2:4]}/{sha}"
    assert stored.read_bytes() == path.read_bytes()  # EXIF and GPS kept in the original
    assert stored.stat().st_mode & 0o222 == 0


def test_capture_time_from_exif_with_offset_else_as_stated(team, item, run_tasks):
    from datetime import UTC, datetime

    stated = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
    with_exif = run_tasks(actor=team.ivan, item=item, path=corpus.photo("Apple iPhone 4.jpg"), captured_at=stated)
    assert with_exif.photo.captured_at_source == "exif"
    assert with_exif.photo.exif_taken_at.startswith("2011-01-13T14:33:39")
    without = run_tasks(actor=team.ivan, item=item, path=corpus.photo("Landscape_3.jpg"), captured_at=stated)
    assert (without.photo.captured_at, without.photo.captured_at_source) == (stated, "stated")


def test_only_investigators_add_photos(team, item):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.add_photo_from_path(actor=team.bob, item=item, path=corpus.photo("Landscape_1.jpg"))


def test_near_duplicates_are_found_among_visible_photos_only(team, item, run_tasks, tmp_path):
    original = corpus.photo("Landscape_1.jpg")
    with Image.open(original) as image:
        image.resize((900, 600)).save(tmp_path / "recompressed.jpg", quality=70)
    first = run_tasks(actor=team.ivan, item=item, path=original).photo
    copy = run_tasks(actor=team.ivan, item=item, path=tmp_path / "recompressed.jpg").photo
    unrelated = run_tasks(actor=team.ivan, item=item, path=corpus.photo("Apple iPhone 4.jpg")).photo
    foreign_item = EvidenceItemFactory(case=team.other_case)
    run_tasks(actor=team.charlie, item=foreign_item, path=tmp_path / "recompressed.jpg")
    found = selectors.near_duplicates(photo=first, viewer=team.vera)
    assert [photo.pk for photo, _distance in found] == [copy.pk]
    assert unrelated.pk not in [photo.pk for photo, _ in found]
    assert len(selectors.near_duplicates(photo=first, viewer=team.root)) == 2


def test_an_original_with_replaced_bytes_is_named_by_verify_custody(team, item):
    photo = PhotoFactory(item=item, width=400, height=300)
    stored = filestore.absolute(photo.original.path)
    stored.chmod(0o644)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    code, out = verify(team.case)
    assert code == 1
    assert f"file {photo.original.path}: its SHA-256 is" in out
    assert not custody.verify_case(team.case).intact


def test_processing_twice_changes_nothing(team, item, run_tasks):
    photo = run_tasks(actor=team.ivan, item=item, path=corpus.photo("Landscape_6.jpg")).photo
    events = CustodyEvent.objects.count()
    services.process_photo(photo_id=photo.pk)
    assert CustodyEvent.objects.count() == events


def test_a_file_that_cannot_be_processed_is_marked_failed(team, item, django_capture_on_commit_callbacks, eager_tasks):
    with django_capture_on_commit_callbacks(execute=False):
        photo = PhotoFactory(item=item, width=400, height=300, processed=False)
    path = filestore.absolute(photo.original.path)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:600])  # damaged on disk after it was accepted
    from evidence.tasks import process_photo

    assert process_photo.delay(photo.pk).get() == PhotoStatus.FAILED
    photo.refresh_from_db()
    assert photo.status == PhotoStatus.FAILED
    assert photo.error


class TestSweeperAndCommands:
    def test_stuck_photos_are_requeued_and_given_up_after_max_attempts(self, team, item, settings, eager_tasks):
        from datetime import timedelta

        from django.utils import timezone

        with celery_eager(False):  # accepted for a worker that never comes
            stuck = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Landscape_4.jpg"))
            hopeless = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Landscape_5.jpg"))
        stuck, hopeless = stuck.photo, hopeless.photo
        old = timezone.now() - timedelta(hours=1)
        Photo.objects.filter(pk=stuck.pk).update(status_changed_at=old, status=PhotoStatus.PROCESSING, attempts=1)
        Photo.objects.filter(pk=hopeless.pk).update(status_changed_at=old, attempts=settings.ATTEST_PHOTO_MAX_ATTEMPTS)
        from evidence.tasks import sweep_photos

        assert sweep_photos() == {"requeued": 1, "failed": 1}
        hopeless.refresh_from_db()
        assert hopeless.status == PhotoStatus.FAILED
        assert "Gave up after" in hopeless.error

    def test_ingest_photos_reports_accepted_duplicates_and_refused(self, team, item, tmp_path, capsys, eager_tasks):
        folder = tmp_path / "batch"
        folder.mkdir()
        for name in ("Landscape_1.jpg", "Landscape_1.jpg", "truncated_jpeg.jpg"):
            source = corpus.photo(name)
            (folder / f"{len(list(folder.iterdir()))}-{name}").write_bytes(source.read_bytes())
        with pytest.raises(SystemExit) as exited:
            call_command("ingest_photos", team.case.reference, item.exhibit_number, str(folder), "--as", "ivan")
        assert exited.value.code == 1
        out = capsys.readouterr().out
        assert "1 accepted, 1 duplicates, 1 refused" in out
        assert "truncated_jpeg.jpg: refused:" in out
        assert Photo.objects.count() == 1

    def test_ingest_photos_writes_a_file_name_as_one_harmless_line(self, team, item, tmp_path, capsys, eager_tasks):
        """A file name with a newline forged an "accepted" line; escapes and a bidi override reached the terminal."""
        folder = tmp_path / "batch"
        folder.mkdir()
        name = "a\x1b[2J\x1b]0;owned\x07\u202egpj.exe\nEX-0009: accepted"
        (folder / name).write_bytes(b"not a photo")
        with pytest.raises(SystemExit):
            call_command("ingest_photos", team.case.reference, item.exhibit_number, str(folder), "--as", "ivan")
        captured = capsys.readouterr()
        for stream in (captured.out, captured.err):
            assert not any(character in stream for character in "\x1b\x07\u202e")
            assert not any(line.startswith("EX-0009") for line in stream.splitlines())
        assert "\\u001b[2J" in captured.err
        assert "\\u000aEX-0009: accepted: refused" in captured.err

    def test_ingest_photos_names_a_wrong_exhibit_in_one_line(self, team, item):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="no exhibit EX-0099 in case"):
            call_command("ingest_photos", team.case.reference, "EX-0099", "/nonexistent", "--as", "ivan")

    def test_reprocess_failed_photos(self, team, item, eager_tasks, django_capture_on_commit_callbacks):
        photo = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Landscape_7.jpg")).photo
        Photo.objects.filter(pk=photo.pk).update(status=PhotoStatus.FAILED, error="disk was full")
        with django_capture_on_commit_callbacks(execute=True):
            call_command("reprocess_photos", "--failed")
        photo.refresh_from_db()
        assert photo.status == PhotoStatus.DONE
        assert photo.attempts == 1


def test_gps_is_decimal_degrees_with_altitude(team, item, run_tasks):
    photo = run_tasks(actor=team.ivan, item=item, path=corpus.photo("Apple iPhone 5.jpg")).photo
    assert photo.gps_longitude < 0  # West
    assert photo.gps_altitude is not None
    assert isinstance(photo.gps_latitude, Decimal)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_byte_changed_in_a_stored_file_is_detected(team, item, data):
    photo = Photo.objects.filter(item=item).first() or PhotoFactory(item=item, width=120, height=90)
    path = filestore.absolute(photo.original.path)
    original = path.read_bytes()
    position = data.draw(st.integers(0, len(original) - 1), label="byte")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != original[position]), label="value")
    changed = bytearray(original)
    changed[position] = value
    path.chmod(0o644)
    try:
        path.write_bytes(bytes(changed))
        problem = custody.check_file(photo.original)
        assert problem is not None
        assert "SHA-256" in problem.reason
    finally:
        path.write_bytes(original)
        path.chmod(0o444)


def test_refusals_are_logged(team, item, tmp_path, caplog):
    path = tmp_path / "evil.jpg"
    path.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    with caplog.at_level("WARNING", logger="evidence.services.photos"), pytest.raises(ValidationError):
        services.add_photo_from_path(actor=team.ivan, item=item, path=path)
    assert any("photo refused (unsupported_format)" in record.getMessage() for record in caplog.records)


@pytest.fixture(scope="module")
def hundred_megapixels(tmp_path_factory) -> Path:
    """10,000 x 10,000 of one grey: 100 Mpx, above Pillow's own default limit (89.5 Mpx), in about 1 MB."""
    path = tmp_path_factory.mktemp("big") / "100mpx.jpg"
    Image.new("L", (10_000, 10_000), 128).save(path, "JPEG", quality=50)
    return path


def test_a_photo_under_the_configured_pixel_limit_is_accepted_whatever_pillows_default(
    team, item, run_tasks, hundred_megapixels
):
    photo = run_tasks(actor=team.ivan, item=item, path=hundred_megapixels).photo
    assert (photo.width, photo.height) == (10_000, 10_000)
    assert photo.status == PhotoStatus.DONE, photo.error


def test_a_photo_over_the_configured_pixel_limit_is_refused(team, item, hundred_megapixels, settings):
    settings.ATTEST_MAX_IMAGE_PIXELS = 99_999_999  # read when the photo is vetted
    with pytest.raises(ValidationError) as refused:
        services.add_photo_from_path(actor=team.ivan, item=item, path=hundred_megapixels)
    assert refused.value.error_dict["file"][0].code == "too_many_pixels"
    assert "than the 99999999 allowed" in refused.value.message_dict["file"][0]
    assert Image.MAX_IMAGE_PIXELS == 99_999_999  # Pillow's limit follows the setting
    assert not Photo.objects.exists()


def test_a_multi_picture_jpeg_is_processed(team, item, run_tasks, tmp_path):
    path = tmp_path / "stereo.jpg"
    Image.new("RGB", (640, 480), "red").save(path, "MPO", save_all=True, append_images=[Image.new("RGB", (640, 480))])
    photo = run_tasks(actor=team.ivan, item=item, path=path).photo
    assert (photo.format, photo.status) == ("jpeg", PhotoStatus.DONE), photo.error


def test_an_unexpected_processing_failure_stores_a_generic_message_and_logs_the_detail(
    team, item, django_capture_on_commit_callbacks, eager_tasks, caplog
):
    with django_capture_on_commit_callbacks(execute=False):
        photo = PhotoFactory(item=item, width=400, height=300, processed=False)
    stored = filestore.absolute(photo.original.path)
    stored.unlink()  # gone from disk after it was accepted: the error names the server path
    from evidence.tasks import process_photo

    with caplog.at_level("ERROR", logger="evidence.tasks"):
        assert process_photo.delay(photo.pk).get() == PhotoStatus.FAILED
    photo.refresh_from_db()
    assert (photo.error_code, photo.error) == (PhotoErrorCode.NOT_PROCESSED, str(PhotoErrorCode.NOT_PROCESSED.label))
    assert str(stored) in caplog.text  # the detail is in the server log


def test_a_failure_is_stored_as_a_code_and_shown_in_the_readers_language(item, django_capture_on_commit_callbacks):
    from django.utils import translation

    from evidence.admin.common import shown_error
    from evidence.services.failures import failure

    with django_capture_on_commit_callbacks(execute=False):
        photo = PhotoFactory(item=item, width=400, height=300, processed=False)
    services.photos.mark_failed(photo_id=photo.pk, error=failure(PhotoErrorCode.GAVE_UP, n=5))
    photo.refresh_from_db()
    assert (photo.error_code, photo.error_params, photo.error) == ("gave_up", {"n": 5}, "Gave up after 5 attempts.")
    with translation.override("uk"):
        assert shown_error(photo) == "Обробку припинено; кількість спроб: 5."
    with translation.override("en"):
        assert shown_error(photo) == "Gave up after 5 attempts."
    # A refusal's own words (and any row without a code) are shown as stored.
    Photo.objects.filter(pk=photo.pk).update(error="The file is empty.", error_code="", error_params={})
    photo.refresh_from_db()
    with translation.override("uk"):
        assert shown_error(photo) == "The file is empty."


def test_the_migration_derives_codes_from_the_english_text_of_older_rows():
    import importlib

    migration = importlib.import_module("evidence.migrations.0020_photo_export_error_codes")
    exports = migration._patterns(migration.EXPORT_MESSAGES)
    stalled = "No sign of progress for 30 minutes (at stage exhibits 3/12): the build was queued again."
    assert migration._code_of(stalled, exports) == ("stalled_requeued", {"minutes": 30, "stage": "exhibits 3/12"})
    photos = migration._patterns(migration.PHOTO_MESSAGES)
    assert migration._code_of("Gave up after 3 attempts.", photos) == ("gave_up", {"n": 3})
    assert migration._code_of("The file is empty.", photos) is None
