"""The real camera files in shared/data/photos (see its SOURCES.md), with the manifest's expectations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

PHOTOS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "photos"
MISSING = f"photo corpus not found at {PHOTOS} (the shared/ folder beside the repo root)"
# Pillow without pillow-heif could not open these, but they are sound HEICs.
HEICS = {"IMG_1034.heic", "Issue 487.heic"}


def manifest() -> list[dict[str, Any]]:
    path = PHOTOS / "manifest.json"
    return json.loads(path.read_text())["files"] if path.is_file() else []


def is_valid(entry: dict[str, Any]) -> bool:
    return entry.get("pil_thumbnail", "").startswith("ok") or entry["file"] in HEICS


def params(entries: list[dict[str, Any]]) -> list[Any]:
    if not entries:
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING), id="no-corpus")]
    return [pytest.param(entry, id=entry["file"]) for entry in entries]


def path_of(entry: dict[str, Any]) -> Path:
    return PHOTOS / entry["source_dir"] / entry["file"]


def photo(name: str) -> Path:
    matches = sorted(PHOTOS.glob(f"*/{name}")) if PHOTOS.is_dir() else []
    if not matches:
        pytest.skip(MISSING)
    return matches[0]


VALID = [entry for entry in manifest() if is_valid(entry)]
INVALID = [entry for entry in manifest() if not is_valid(entry)]


def manifest_entry(name: str) -> dict[str, Any]:
    for entry in manifest():
        if entry["file"] == name:
            return entry
    pytest.skip(MISSING)
