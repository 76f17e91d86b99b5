"""Photo ingest: vetting at reduced scale refuses what a full decode refuses, and the embedded
default makes the derivatives from the vetting decode.

Vetting decodes JPEGs at 1/8 scale (inspect_image) or, where the task runs in this process, at
the preview's scale with the derivatives made from those pixels (vet_and_derive). Both must
refuse every file a full-size decode refuses, for the same reason: checked on the malformed
files of the photo corpus (shared/data/photos) and on damaged copies of real camera files.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from evidence import filestore, services
from evidence.choices import PhotoStatus
from evidence.lib.exif import read_metadata
from evidence.lib.imaging import inspect_image, make_derivatives, vet_and_derive
from evidence.lib.sniff import PhotoRejected
from evidence.models import Photo, StoredFile
from tests import corpus
from tests.factories import EvidenceItemFactory

MAX_PIXELS = 100_000_000

# What vetting answered for each malformed corpus file before it decoded at reduced scale
# (inspect_image with a full decode, at the commit before this file was added).
REFUSED_BEFORE = {
    "decompression_bomb.gif": (
        "unsupported_format",
        "GIF files are not accepted; upload a JPEG, PNG, TIFF, WebP or HEIC photo.",
    ),
    "truncated_jpeg.jpg": ("truncated", "The image data is incomplete: the file is truncated."),
    "User Comment Encoding.jpg": ("truncated", "The image data is incomplete: the file is truncated."),
    "NegativeArraySizeException.HeifReader.processBoxes.heif": (
        "corrupt",
        "The image could not be read: it is damaged or not really the format its header names.",
    ),
}

# Real camera JPEGs to damage: rotated (orientation 6 and 8, by cameras and by a tool), colour and grey.
CAMERA_FILES = [
    "Landscape_6.jpg",
    "Landscape_8.jpg",
    "Canon PowerShot A85.jpg",  # a real camera's orientation 8
    "Samsung GT-I9000 (Galaxy S).jpg",  # a real phone's orientation 6
    "hopper_bad_exif.jpg",  # grey (mode L)
]


def refusal(call) -> tuple[str, str] | None:
    """(code, message) of the PhotoRejected `call` raises, or None when it accepts the file."""
    try:
        call()
    except PhotoRejected as rejected:
        return rejected.code, rejected.message
    return None


def full(path: Path) -> tuple[str, str] | None:
    return refusal(lambda: inspect_image(path, max_pixels=MAX_PIXELS, full_decode=True))


def reduced(path: Path) -> tuple[str, str] | None:
    return refusal(lambda: inspect_image(path, max_pixels=MAX_PIXELS))


def derived(path: Path, preview_px: int = 1600) -> tuple[str, str] | None:
    return refusal(lambda: vet_and_derive(path, max_pixels=MAX_PIXELS, preview_px=preview_px, thumb_px=100))


# --- the malformed files of the corpus ----------------------------------------------------------


def test_the_corpus_malformed_files_are_those_named_here() -> None:
    if not corpus.INVALID:
        pytest.skip(corpus.MISSING)
    assert {entry["file"] for entry in corpus.INVALID} == set(REFUSED_BEFORE)


@pytest.mark.parametrize("entry", corpus.params(corpus.INVALID))
def test_every_malformed_corpus_file_is_refused_for_the_reason_a_full_decode_gives(entry) -> None:
    path = corpus.path_of(entry)
    expected = REFUSED_BEFORE[entry["file"]]
    assert full(path) == expected
    assert reduced(path) == expected
    assert derived(path) == expected


@pytest.fixture
def item(team):
    return EvidenceItemFactory(case=team.case, actor=team.ivan)


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["eager_tasks", "worker_elsewhere"])
@pytest.mark.parametrize("entry", corpus.params(corpus.INVALID))
def test_uploads_of_malformed_corpus_files_are_refused_with_the_same_reason(
    request, team, item, django_capture_on_commit_callbacks, mode, entry
) -> None:
    request.getfixturevalue(mode)
    assert services.photos.processed_in_this_process() == (mode == "eager_tasks")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as refused:
        services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.path_of(entry))
    [error] = refused.value.error_dict["file"]
    assert (error.code, error.message) == REFUSED_BEFORE[entry["file"]]
    assert not Photo.objects.exists()
    assert not StoredFile.objects.exists()


# --- damaged copies of real camera files ----------------------------------------------------------


def re_encoded(path: Path, **options) -> bytes:
    out = io.BytesIO()
    with Image.open(path) as im:
        im.save(out, "JPEG", exif=im.info.get("exif", b""), **options)
    return out.getvalue()


def damaged_copies(data: bytes, seed: int, count: int) -> list[bytes]:
    """Copies of a JPEG cut short, with bytes overwritten, with a marker written into the scan
    data, and with a stretch cut out: the damage a failing card, a broken transfer or a tool does."""
    rng = random.Random(seed)
    copies = []
    for _ in range(count):
        copies.append(data[: rng.randrange(2, len(data))])
        flipped = bytearray(data)
        for _ in range(rng.choice((1, 3, 10))):
            flipped[rng.randrange(2, len(data))] = rng.randrange(256)
        copies.append(bytes(flipped))
        marked = bytearray(data)
        at = rng.randrange(2, len(data) - 2)
        marked[at : at + 2] = bytes((0xFF, rng.randrange(0xC0, 0xFF)))
        copies.append(bytes(marked))
        start = rng.randrange(2, len(data))
        copies.append(data[:start] + data[min(len(data), start + rng.randrange(1, 5000)) :])
    return copies


@pytest.fixture(scope="module")
def camera_sources() -> dict[str, bytes]:
    sources = {name: corpus.photo(name).read_bytes() for name in CAMERA_FILES}
    # Progressive and CMYK JPEGs go through other decoder paths (all scans before any row; 4 channels).
    sources["progressive"] = re_encoded(corpus.photo("Landscape_6.jpg"), progressive=True, quality=90)
    with Image.open(corpus.photo("Canon PowerShot A85.jpg")) as im:
        out = io.BytesIO()
        im.convert("CMYK").save(out, "JPEG", quality=90)
    sources["cmyk"] = out.getvalue()
    return sources


def test_damaged_camera_jpegs_are_refused_by_reduced_decodes_as_by_a_full_decode(camera_sources, tmp_path) -> None:
    outcomes: dict[str | None, int] = {}
    differences = []
    path = tmp_path / "damaged.jpg"
    for n, (name, data) in enumerate(camera_sources.items()):
        for k, copy in enumerate(damaged_copies(data, seed=n, count=6)):
            path.write_bytes(copy)
            expected = full(path)
            outcomes[expected and expected[0]] = outcomes.get(expected and expected[0], 0) + 1
            # Previews of 900 and 450 px make libjpeg decode the 1800 px originals at 1/2 and 1/4 scale.
            got = {"1/8 scale": reduced(path), "1/2 scale": derived(path, 900), "1/4 scale": derived(path, 450)}
            if any(reason != expected for reason in got.values()):
                differences.append(f"{name} copy {k}: full decode {expected}, {got}")
    assert not differences, "\n".join(differences)
    # The copies exercise both refusals the decoder gives, and some damage it tolerates.
    assert min(outcomes.get(outcome, 0) for outcome in ("truncated", "corrupt", None)) >= 20, outcomes


@pytest.mark.parametrize("name", ["Landscape_6.jpg", "Canon PowerShot A85.jpg", "Issue 487.heic", "Apple iPhone 5.jpg"])
def test_vet_and_derive_gives_what_inspect_image_and_make_derivatives_give(name) -> None:
    path = corpus.photo(name)
    info, derivatives, metadata = vet_and_derive(path, max_pixels=MAX_PIXELS)
    assert (
        info
        == inspect_image(path, max_pixels=MAX_PIXELS)
        == inspect_image(path, max_pixels=MAX_PIXELS, full_decode=True)
    )
    assert derivatives == make_derivatives(path, max_pixels=MAX_PIXELS)
    assert metadata == read_metadata(path)


def test_vet_and_derive_reads_the_metadata_read_metadata_reads_on_every_accepted_corpus_photo() -> None:
    # The EXIF of the vetting's own opening, after its decode, against a separate opening of the file.
    compared, differences = 0, []
    for entry in corpus.VALID:
        path = corpus.path_of(entry)
        try:
            _info, _derivatives, metadata = vet_and_derive(path, max_pixels=MAX_PIXELS)
        except PhotoRejected:
            continue  # refused before any metadata is kept (tested above)
        compared += 1
        if metadata != read_metadata(path):
            differences.append(entry["file"])
    assert not differences, differences
    assert compared >= 30, compared


# --- the embedded default: one decode per upload ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["Landscape_6.jpg", "Landscape_8.jpg", "Samsung GT-I9000 (Galaxy S).jpg", "Issue 487.heic"]
)
def test_in_process_the_upload_processes_the_photo_from_the_vetting_decode(
    team, item, django_capture_on_commit_callbacks, eager_tasks, monkeypatch, name
) -> None:
    path = corpus.photo(name)

    def opened_again(*args, **kwargs):
        raise AssertionError("the original was opened again after vetting")

    monkeypatch.setattr(services.photos, "make_derivatives", opened_again)
    monkeypatch.setattr(services.photos, "read_metadata", opened_again)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        accepted = services.add_photo_from_path(actor=team.ivan, item=item, path=path)
    assert not callbacks  # nothing queued: done within the upload's transaction
    assert accepted.current
    photo = Photo.objects.get(pk=accepted.photo.pk)
    assert photo.status == PhotoStatus.DONE, photo.error
    assert photo.attempts == 1
    expected = make_derivatives(path, max_pixels=MAX_PIXELS)  # what a worker makes from the original
    assert filestore.absolute(photo.derivative_path("preview")).read_bytes() == expected.preview_jpeg
    assert filestore.absolute(photo.derivative_path("thumbnail")).read_bytes() == expected.thumb_jpeg
    assert (photo.preview_width, photo.preview_height) == (expected.preview_width, expected.preview_height)
    assert (photo.phash, photo.dhash) == (expected.phash, expected.dhash)
    metadata = read_metadata(path)
    assert (photo.orientation, photo.exif, photo.camera_model) == (
        metadata.orientation,
        json.loads(json.dumps(metadata.tags)),
        (metadata.model or "")[:120],
    )
    assert filestore.hash_file(filestore.absolute(photo.original.path))[0] == corpus.manifest_entry(name)["sha256"]
    ledger = team.case.custody_events.filter(subject_type="photo", subject_id=photo.pk)
    events = list(ledger.values_list("event_type", "actor_id"))
    assert events == [("photo.added", team.ivan.pk), ("photo.processed", None)]


@pytest.mark.django_db
def test_in_process_a_derivative_the_disk_refuses_leaves_the_photo_to_the_task(
    team, item, django_capture_on_commit_callbacks, eager_tasks, monkeypatch
) -> None:
    def disk_full(relative, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(services.photos.filestore, "write_derivative", disk_full)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        accepted = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Landscape_6.jpg"))
    assert len(callbacks) == 1  # the task, queued at the commit, ran here and failed as a worker's would
    assert not accepted.current
    photo = Photo.objects.get(pk=accepted.photo.pk)
    assert (photo.status, photo.attempts, photo.error_code) == (PhotoStatus.FAILED, 1, "not_processed")
    assert filestore.absolute(photo.original.path).exists()  # the original is kept: evidence is never lost
    ledger = team.case.custody_events.filter(subject_type="photo", subject_id=photo.pk)
    events = list(ledger.values_list("event_type", flat=True))
    assert events == ["photo.added"]


@pytest.mark.django_db
def test_with_a_worker_elsewhere_the_task_decodes_the_stored_original(
    team, item, django_capture_on_commit_callbacks, worker_elsewhere
) -> None:
    path = corpus.photo("Landscape_8.jpg")
    with django_capture_on_commit_callbacks(execute=False) as queued:  # the broker's part is not under test
        photo = services.add_photo_from_path(actor=team.ivan, item=item, path=path).photo
    assert len(queued) == 1
    photo = services.process_photo(photo_id=photo.pk)  # what the worker's task calls, by id
    assert photo.status == PhotoStatus.DONE, photo.error
    expected = make_derivatives(path, max_pixels=MAX_PIXELS)
    assert filestore.absolute(photo.derivative_path("preview")).read_bytes() == expected.preview_jpeg
    assert (photo.orientation, photo.preview_width, photo.preview_height) == (
        8,
        1600,
        1067,
    )  # stored portrait, shown landscape
    assert photo.phash == expected.phash
