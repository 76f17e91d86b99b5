"""An original is on disk before the row that names it commits; once processed, its pages leave the cache."""

from __future__ import annotations

import os
import secrets
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
    """fdatasync, fsync and posix_fadvise as they are called: (name, path, what was true then)."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to name a descriptor's file")
    seen = []

    def spy(name, real):
        def call(descriptor, *args):
            path = path_of(descriptor)
            seen.append((name, path, args, StoredFile.objects.count()))
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
    flushed = [(path, rows) for name, path, _args, rows in syscalls if name == "fdatasync"]
    # The temporary file, before the content address held it and before its row existed.
    assert len(flushed) == 1
    assert flushed[0][0].parent == filestore.incoming_dir()
    assert flushed[0][1] == before
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
