"""Write-once, content-addressed storage of evidence files, on local disk or in an S3-compatible bucket.

Readers that need a file on disk go through `local_file()` or `fetch()`.
See docs/modules.md#evidencefilestorepy.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, TemporaryFileUploadHandler
from django.db import IntegrityError, transaction

from evidence.choices import FileKind
from evidence.models import StoredFile

CHUNK_SIZE = 1024 * 1024
KIND_FOLDERS = {
    FileKind.ORIGINAL: "originals",
    FileKind.SOURCE_ARCHIVE: "sources",
    FileKind.EXPORT: "exports",
    FileKind.KEPT: "files",
    FileKind.LETTER: "letters",
    FileKind.RESPONSE: "responses",
}


class FileTooLarge(ValueError):
    pass


class StoreDamaged(RuntimeError):
    """A file under its content address no longer has that content."""


@dataclass(frozen=True)
class HashedTempFile:
    """Bytes already on disk in a temporary file, with their SHA-256 and size."""

    path: Path
    sha256: str
    size: int
    # Its bytes on their way to the disk (flush_soon), or None: storing it flushes them itself.
    flushing: Future | None = field(default=None, compare=False)


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def incoming_dir() -> Path:
    folder = media_root() / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def content_path(kind: str, sha256: str) -> str:
    return f"{KIND_FOLDERS[kind]}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def absolute(path: str) -> Path:
    return media_root() / path


def object_storage() -> Storage | None:
    """The bucket evidence files are kept in, or None when they are on this machine's disk."""
    storage = storages["default"]
    return None if isinstance(storage, FileSystemStorage) else storage


def open_stored(relative: str) -> BinaryIO:
    """A stored file, open for reading (FileNotFoundError if it is missing)."""
    remote = object_storage()
    return absolute(relative).open("rb") if remote is None else remote.open(relative, "rb")


def stored_size(relative: str) -> int:
    remote = object_storage()
    return absolute(relative).stat().st_size if remote is None else remote.size(relative)


def hash_stored(relative: str) -> tuple[str, int]:
    """SHA-256 and size of a stored file, wherever it is kept (the fixity check)."""
    with open_stored(relative) as handle:
        return hash_stream(handle)


@contextmanager
def local_file(relative: str) -> Iterator[Path]:
    """A stored file as a path on this machine: the file itself, or a download removed on exit."""
    remote = object_storage()
    if remote is None:
        yield absolute(relative)
        return
    handle, name = tempfile.mkstemp(dir=incoming_dir(), prefix="fetch-")
    os.close(handle)
    path = Path(name)
    try:
        _download(remote, relative, path)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _download(remote: Storage, relative: str, target: Path) -> None:
    with target.open("wb") as out, remote.open(relative, "rb") as source:
        shutil.copyfileobj(source, out, CHUNK_SIZE)


def fetch(relative: str, folder: Path) -> Path:
    """A stored file as a path on this machine, for a build in `folder` (an export's workdir).

    On disk, the file itself; from a bucket, a copy downloaded into `folder` once (removed with
    it). A missing file gives a path that does not exist, as on disk.
    """
    remote = object_storage()
    if remote is None:
        return absolute(relative)
    target = folder / "fetched" / relative
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        _download(remote, relative, partial)
    except FileNotFoundError:
        partial.unlink(missing_ok=True)
        return target
    partial.rename(target)
    return target


@contextmanager
def hashed_copy(source: BinaryIO | Iterable[bytes], *, max_bytes: int | None = None) -> Iterator[HashedTempFile]:
    """Stream `source` to a temporary file under MEDIA_ROOT, hashing on the way; removed on exit."""
    max_bytes = settings.ATTEST_MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    chunks = iter(lambda: source.read(CHUNK_SIZE), b"") if hasattr(source, "read") else iter(source)
    digest, size = hashlib.sha256(), 0
    handle, name = tempfile.mkstemp(dir=incoming_dir(), prefix="copy-")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(f"the file is larger than the limit of {max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
        yield HashedTempFile(path, digest.hexdigest(), size, flushing=flush_soon(path))
    finally:
        path.unlink(missing_ok=True)


def hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file on this machine, read in chunks."""
    with path.open("rb") as handle:
        return hash_stream(handle)


def hash_stream(handle: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def store(temp: HashedTempFile, *, kind: str) -> tuple[StoredFile, bool]:
    """Keep the bytes of `temp` for good. Returns the stored file and whether it is new.

    The file is never written over an existing one. If the service raises,
    `files_removed_on_failure` removes it again so no file outlives its row.
    """
    existing = StoredFile.objects.filter(sha256=temp.sha256).first()
    if existing is not None:
        return existing, False
    relative = content_path(kind, temp.sha256)
    remote = object_storage()
    file_created = _put_local(temp, relative) if remote is None else _put_remote(remote, temp, relative)
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(sha256=temp.sha256, size=temp.size, path=relative, kind=kind)
    except IntegrityError:
        # A concurrent writer stored the same bytes and committed first.
        return StoredFile.objects.get(sha256=temp.sha256), False
    if file_created:
        _created_in_this_transaction().append(relative)
    return stored, True


def _damaged(relative: str) -> StoreDamaged:
    return StoreDamaged(f"the stored copy at {relative} does not match its SHA-256; run verify_custody")


def _put_local(temp: HashedTempFile, relative: str) -> bool:
    """Link the file into place on disk; False if the same name was there already."""
    target = absolute(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        # Same name means same bytes, unless someone altered the store: never build on a damaged copy.
        if hash_file(target)[0] != temp.sha256:
            raise _damaged(relative)
        return False
    try:
        _place(temp.path, target, temp.flushing)
    except FileExistsError:
        return False  # another writer stored the same bytes first: they are the same bytes
    return True


def _put_remote(remote: Storage, temp: HashedTempFile, relative: str) -> bool:
    """Upload the file unless the bucket has that name; False if it had (and the bytes match)."""
    with temp.path.open("rb") as content:
        if remote.save_once(relative, content):
            return True
    if hash_stored(relative)[0] != temp.sha256:
        raise _damaged(relative)
    return False


def _place(source: Path, target: Path, flushing: Future | None = None) -> None:
    """Put a file at `target` without ever replacing one there; read-only afterwards.

    Its bytes reach the disk before it is linked in (`flushing` done, or flushed here), and the
    link before this returns: the row that names it commits after, so a crash cannot leave a
    record of evidence whose bytes were never written."""
    if not _flushed(flushing):
        _flush(source)
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # Another filesystem: copy to a temporary name beside the target, then link it in place.
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        shutil.copyfile(source, partial)
        try:
            _flush(partial)
            os.link(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    target.chmod(0o444)
    sync_folder(target.parent)  # the directory entry


_flusher: ThreadPoolExecutor | None = None
_flusher_lock = threading.Lock()  # the threaded development server may upload on two threads at once


def flush_soon(path: Path) -> Future | None:
    """Start writing a new file's bytes to disk on a background thread, so that an upload's bytes reach
    the disk while it is vetted and storing it need not wait for them (None: kept in a bucket)."""
    global _flusher
    if object_storage() is not None:
        return None
    with _flusher_lock:
        if _flusher is None:
            _flusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attest-flush")
        return _flusher.submit(_flush, path)


def _forget_flusher() -> None:
    global _flusher
    _flusher = None  # a forked child has none of its parent's threads


os.register_at_fork(after_in_child=_forget_flusher)


def _flushed(flushing: Future | None) -> bool:
    if flushing is None:
        return False
    try:
        flushing.result()
    except OSError:
        return False  # flushed again in this thread, where the error is raised
    return True


def sync_folder(path: Path) -> None:
    """Make the entries of folder `path` durable: a file linked or renamed into it survives a crash."""
    _flush(path, data_only=False)


def _flush(path: Path, *, data_only: bool = True) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        # macOS has no fdatasync. EINVAL: a filesystem that cannot sync (nothing more can be done).
        (getattr(os, "fdatasync", os.fsync) if data_only else os.fsync)(descriptor)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
    finally:
        os.close(descriptor)


def release_cached(relative: str) -> None:
    """Let the kernel drop a stored file's pages from its cache (POSIX_FADV_DONTNEED), once processed.

    An original is read again only to verify or export it. Cached, it pushes out pages that are
    read (previews, thumbnails, the database), and each new upload takes fresh memory for its own
    pages instead of reusing these. The file was flushed when stored, so its pages are clean."""
    if object_storage() is not None or not hasattr(os, "posix_fadvise"):
        return
    try:
        descriptor = os.open(absolute(relative), os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(descriptor)


def write_derivative(relative: str, data: bytes) -> None:
    """Derivatives are rebuilt at will: written to a temporary name, then moved over the old one."""
    remote = object_storage()
    if remote is not None:
        remote.save(relative, ContentFile(data))  # replaces the object (derivatives are not evidence)
        return
    target = absolute(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, target)


def _created_in_this_transaction() -> list[str]:
    from django.db import connection

    created = getattr(connection, "_attest_new_files", None)
    if created is None:
        created = connection._attest_new_files = []
    return created


@contextmanager
def files_removed_on_failure() -> Iterator[None]:
    """Around a service: files it stored are removed again if it raises, so nothing half-stored stays."""
    created = _created_in_this_transaction()
    mark = len(created)
    try:
        yield
    except BaseException:
        remote = object_storage()
        for relative in created[mark:]:
            if remote is None:
                absolute(relative).unlink(missing_ok=True)
            else:
                remote.delete(relative)
        del created[mark:]
        raise
    else:
        del created[mark:]


class IncomingFile(TemporaryUploadedFile):
    """An upload's temporary file, under MEDIA_ROOT so that storing it is a link, not a copy."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        file = tempfile.NamedTemporaryFile(suffix=".upload", dir=incoming_dir())  # noqa: SIM115
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Uploads stream to a temporary file under MEDIA_ROOT and are hashed chunk by chunk as they
    arrive: one pass over the bytes, memory flat whatever the size. Files over the limit are
    dropped as they stream and named in `request.upload_too_large`."""

    # Django's 64 KiB pieces cost a photo of 4 MB some 60 rounds of the parser's Python; 1 MiB, four.
    chunk_size = CHUNK_SIZE

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        FileUploadHandler.new_file(
            self, field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        self.file = IncomingFile(self.file_name, self.content_type, 0, self.charset, self.content_type_extra)
        self._digest, self._size = hashlib.sha256(), 0

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > settings.ATTEST_MAX_UPLOAD_BYTES:
            self.request.upload_too_large = self.field_name
            self.file.close()
            raise SkipFile()
        self._digest.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self._digest.hexdigest()
        # (super() seeked to 0, which emptied Python's buffer into the file.)
        uploaded.flushing = flush_soon(Path(uploaded.temporary_file_path()))
        return uploaded


def from_upload(uploaded) -> HashedTempFile:
    """The HashedTempFile of a file received by HashingUploadHandler (no second read)."""
    sha256 = getattr(uploaded, "sha256", None)
    if sha256 is None or not hasattr(uploaded, "temporary_file_path"):
        raise TypeError("the upload did not go through HashingUploadHandler")
    path = Path(uploaded.temporary_file_path())
    return HashedTempFile(path, sha256, uploaded.size, flushing=getattr(uploaded, "flushing", None))
