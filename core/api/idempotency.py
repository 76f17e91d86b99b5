"""Request fingerprints for Idempotency-Key and ETags for representations: pure functions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile


def _canonical(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        # evidence.filestore.HashingUploadHandler hashed the bytes as they arrived: no second read.
        sha256 = getattr(value, "sha256", None)
        if sha256 is None:
            digest = hashlib.sha256()
            for chunk in value.chunks():
                digest.update(chunk)
            value.seek(0)
            sha256 = digest.hexdigest()
        return {"file": value.name, "size": value.size, "sha256": sha256}
    if hasattr(value, "getlist"):  # QueryDict: keep every value of repeated keys
        return {key: [_canonical(item) for item in value.getlist(key)] for key in sorted(value.keys())}
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def fingerprint_json(value: Any) -> bytes:
    """The bytes a fingerprint or ETag hashes (not the ledger's canonical form: see evidence.lib.ledger)."""
    return json.dumps(
        _canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def request_fingerprint(method: str, path: str, data: Any) -> str:
    """The same method, path and body give the same fingerprint, whatever the multipart boundary."""
    return hashlib.sha256(method.upper().encode() + b" " + path.encode() + b"\n" + fingerprint_json(data)).hexdigest()


def etag_for(representation: Any) -> str:
    return '"' + hashlib.sha256(fingerprint_json(representation)).hexdigest()[:40] + '"'


def parse_etags(header: str) -> set[str]:
    """The entity tags of an If-Match / If-None-Match header; weak tags compare by their value."""
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}
