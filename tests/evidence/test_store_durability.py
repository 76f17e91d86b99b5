"""An original is on disk before the row that names it commits; once processed, its pages leave the cache."""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

import pytest
from PIL import Image

from evidence import filestore, services
from evidence.models import StoredFile
from tests import corpus
from tests.factories import EvidenceItemFactory

pytestmark = pytest.mark.django_db


def new_photo(folder: Path, name: str = "new.jpg") -> Path:
    """A JPEG no other test stored: its bytes are not in the store yet (stores outlive tests)."""
    path = folder / name
    Image.frombytes("RGB", (64, 48), secrets.token_bytes(64 * 48 * 3)).save(path, quality=90)
    return path


def path_of(descriptor: int) -> Path:
    return Path(os.readlink(f"/proc/self/fd/{descriptor}"))


@pytest.fixture
def syscalls(monkeypatch):
    """fdatasync, fsync and posix_fadvise as they are called: (name, path, args, stored files then).

    The stored files are counted on the test's own thread only (None on another): a background
    thread's connection would see none of the test's transaction, and would stay open after it."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to name a descriptor's file")
    seen = []

    def spy(name, real):
        def call(descriptor, *args):
            path = path_of(descriptor)
            here = threading.current_thread() is threading.main_thread()
            seen.append((name, path, args, StoredFile.objects.count() if here else None))
            return real(descriptor, *args)

        monkeypatch.setattr(os, name, call)

    for name in ("fdatasync", "fsync", "posix_fadvise"):
        if hasattr(os, name):
            spy(name, getattr(os, name))
    return seen


def test_an_original_reaches_the_disk_before_it_is_linked_in_and_its_row_written(team, syscalls, eager_tasks, tmp_path):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    before = StoredFile.objects.count()
    source = new_photo(tmp_path)
    photo = services.add_photo_from_path(actor=team.ivan, item=item, path=source).photo
    target = filestore.absolute(photo.original.path)
    flushed = [path for name, path, _args, _rows in syscalls if name == "fdatasync"]
    # The temporary file, once (in the background: the link waits for it, tested below).
    assert len(flushed) == 1
    assert flushed[0].parent == filestore.incoming_dir()
    # Then the directory the link was made in, once the link was there, still before the row.
    directories = [(path, rows) for name, path, _args, rows in syscalls if name == "fsync"]
    assert directories == [(target.parent, before)]
    assert target.read_bytes() == source.read_bytes()


def test_once_processed_the_originals_pages_are_released(
    team, syscalls, eager_tasks, django_capture_on_commit_callbacks
):
    if not hasattr(os, "posix_fadvise"):
        pytest.skip("this platform has no posix_fadvise")
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    with django_capture_on_commit_callbacks(execute=True):
        photo = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Landscape_6.jpg")).photo
    photo.refresh_from_db()
    assert photo.status == "done", photo.error
    advice = [(path, args) for name, path, args, _rows in syscalls if name == "posix_fadvise"]
    assert advice == [(filestore.absolute(photo.original.path), (0, 0, os.POSIX_FADV_DONTNEED))]
    # Released, not removed: the original is intact and still verifies.
    assert filestore.hash_stored(photo.original.path)[0] == photo.original.sha256


def test_releasing_is_nothing_for_a_bucket_or_a_missing_file(syscalls, monkeypatch):
    filestore.release_cached("originals/00/00/not-there")
    monkeypatch.setattr(filestore, "object_storage", lambda: object())
    filestore.release_cached("originals/00/00/anything")
    assert not [call for call in syscalls if call[0] == "posix_fadvise"]


def test_a_flush_that_fails_stores_nothing_and_one_that_cannot_be_done_is_no_failure(team, tmp_path, monkeypatch):
    import errno

    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    source = new_photo(tmp_path)
    sha256 = filestore.hash_file(source)[0]

    def failing(code):
        def call(descriptor):
            raise OSError(code, os.strerror(code))

        return call

    monkeypatch.setattr(os, "fdatasync", failing(errno.EIO), raising=False)
    with pytest.raises(OSError, match="Input/output error"):
        services.add_photo_from_path(actor=team.ivan, item=item, path=source)
    assert not StoredFile.objects.filter(sha256=sha256).exists()
    assert not filestore.absolute(filestore.content_path("original", sha256)).exists()
    # A filesystem that cannot sync at all (EINVAL): the photo is stored all the same.
    monkeypatch.setattr(os, "fdatasync", failing(errno.EINVAL), raising=False)
    monkeypatch.setattr(os, "fsync", failing(errno.EINVAL))
    photo = services.add_photo_from_path(actor=team.ivan, item=item, path=source).photo
    assert photo.original.sha256 == sha256
    assert filestore.absolute(photo.original.path).read_bytes() == source.read_bytes()


@pytest.fixture
def timeline(monkeypatch):
    """fdatasync (slowed down), link and the vetting, as they start and end, with their threads."""
    import time

    events = []

    def note(what, **details):
        events.append({"what": what, "at": time.monotonic(), "thread": threading.get_ident(), **details})

    real_fdatasync, real_link = os.fdatasync, os.link

    def fdatasync(descriptor):
        note("flush started", path=path_of(descriptor))
        time.sleep(0.3)  # a slow disk: the vetting must not wait for it
        real_fdatasync(descriptor)
        note("flush ended")

    def link(source, target, *args, **kwargs):
        note("link")
        return real_link(source, target, *args, **kwargs)

    real_vet = services.photos.vet_and_derive

    def vet_and_derive(path):
        note("vetting started")
        return real_vet(path)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    monkeypatch.setattr(os, "link", link)
    monkeypatch.setattr(services.photos, "vet_and_derive", vet_and_derive)
    return events


def test_an_uploads_bytes_go_to_disk_while_it_is_vetted_and_are_there_before_the_link(
    api, team, timeline, eager_tasks, tmp_path
):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    with new_photo(tmp_path).open("rb") as handle:
        response = api(team.ivan).post("/api/v1/photos/", {"item": item.pk, "file": handle}, format="multipart")
    assert response.status_code == 201, response.content
    at = {event["what"]: event for event in timeline}
    assert list(at) == ["flush started", "vetting started", "flush ended", "link"] or list(at) == [
        "vetting started",
        "flush started",
        "flush ended",
        "link",
    ], [event["what"] for event in timeline]
    assert at["flush started"]["path"].parent == filestore.incoming_dir()
    assert at["flush started"]["thread"] != threading.get_ident()  # not the request's thread
    assert at["vetting started"]["at"] < at["flush ended"]["at"]  # the two overlapped
    assert at["link"]["at"] >= at["flush ended"]["at"]  # and the link waited for the bytes


def test_a_background_flush_that_fails_is_done_again_before_the_link(team, monkeypatch, eager_tasks, tmp_path):
    real_fdatasync, real_link = os.fdatasync, os.link
    calls = []

    def fdatasync(descriptor):
        calls.append(("fdatasync", threading.get_ident(), path_of(descriptor)))
        if len(calls) == 1:
            raise OSError(5, "Input/output error")
        return real_fdatasync(descriptor)

    def link(source, target, *args, **kwargs):
        calls.append(("link", threading.get_ident(), Path(source)))
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    monkeypatch.setattr(os, "link", link)
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    photo = services.add_photo_from_path(actor=team.ivan, item=item, path=new_photo(tmp_path)).photo
    here = threading.get_ident()
    temporary = calls[0][2]
    assert [(name, thread == here, path) for name, thread, path in calls] == [
        ("fdatasync", False, temporary),  # in the background: failed
        ("fdatasync", True, temporary),  # again, before the link
        ("link", True, temporary),
    ]
    assert filestore.absolute(photo.original.path).exists()


def test_uploads_on_two_threads_at_once_share_one_flush_thread(monkeypatch, tmp_path):
    # The threaded development server receives uploads on several threads: one flusher for all of them.
    made = []

    class SlowToMake(filestore.ThreadPoolExecutor):
        def __init__(self, *args, **kwargs):
            made.append(self)
            threading.Event().wait(0.05)  # widens the window in which a second thread could make another
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(filestore, "ThreadPoolExecutor", SlowToMake)
    monkeypatch.setattr(filestore, "_flusher", None)
    paths = [tmp_path / f"upload-{n}" for n in range(4)]
    for path in paths:
        path.write_bytes(b"bytes")
    start = threading.Barrier(len(paths))
    futures = []

    def upload(path):
        start.wait()
        futures.append(filestore.flush_soon(path))

    threads = [threading.Thread(target=upload, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert [future.result() for future in futures] == [None] * len(paths)
    made[0].shutdown()
