"""Write-once, content-addressed storage of evidence files.

A file is hashed while it streams to a temporary file (one pass, flat memory), then moved
to `<kind>/ab/cd/<sha256>` under MEDIA_ROOT. An existing path is never written again: the
same bytes map to the same path, so a second copy is simply not stored.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import IntegrityError, transaction

from evidence.choices import FileKind
from evidence.models import StoredFile

CHUNK_SIZE = 1024 * 1024
KIND_FOLDERS = {
    FileKind.ORIGINAL: "originals",
    FileKind.SOURCE_ARCHIVE: "sources",
    FileKind.EXPORT: "exports",
}


class FileTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class HashedTempFile:
    """Bytes already on disk in a temporary file, with their SHA-256 and size."""

    path: Path
    sha256: str
    size: int


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


@contextmanager
def hashed_copy(
    source: BinaryIO | Iterable[bytes], *, max_bytes: int | None = None
) -> Iterator[HashedTempFile]:
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
        yield HashedTempFile(path, digest.hexdigest(), size)
    finally:
        path.unlink(missing_ok=True)


def hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a stored file, read in chunks (the fixity check)."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def store(temp: HashedTempFile, *, kind: str) -> tuple[StoredFile, bool]:
    """Keep the bytes of `temp` for good. Returns the stored file and whether it is new.

    The temporary file is linked into place (never copied over an existing file). If the
    surrounding transaction fails, call `discard_if_new` so no file outlives its row.
    """
    existing = StoredFile.objects.filter(sha256=temp.sha256).first()
    if existing is not None:
        return existing, False
    relative = content_path(kind, temp.sha256)
    target = absolute(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    file_created = False
    if not target.exists():
        try:
            os.link(temp.path, target)  # fails rather than overwrite if another writer got there first
            file_created = True
        except FileExistsError:
            pass
        else:
            target.chmod(0o444)
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(sha256=temp.sha256, size=temp.size, path=relative, kind=kind)
    except IntegrityError:
        # A concurrent writer stored the same bytes and committed first.
        return StoredFile.objects.get(sha256=temp.sha256), False
    if file_created:
        _created_in_this_transaction().append(target)
    return stored, True


def _created_in_this_transaction() -> list[Path]:
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
        for path in created[mark:]:
            path.unlink(missing_ok=True)
        del created[mark:]
        raise
    else:
        del created[mark:]


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Uploads stream to a temporary file and are hashed chunk by chunk as they arrive."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._digest = hashlib.sha256()

    def receive_data_chunk(self, raw_data, start):
        self._digest.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self._digest.hexdigest()
        return uploaded
