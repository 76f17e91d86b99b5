"""Freed photo-sized buffers are reused, not faulted in again (core.allocator)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from core import allocator

ROOT = Path(__file__).resolve().parents[2]
glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's")

# A fresh process decodes a 24 MP and a 12 MP JPEG at preview scale and resizes them, as the photo
# pipeline does, six times over, and counts the page faults of the last four rounds. Pillow keeps
# pixels in blocks of up to 16 MB, which glibc's own thresholds map and unmap photo after photo.
FAULTS = """
import io, json, resource, sys
from core import allocator
kept = allocator.keep_freed_memory() if sys.argv[1] == "tuned" else None
from PIL import Image

def jpeg(width, height):
    out = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()

photos = [jpeg(6000, 4000), jpeg(4000, 3000)]

def one_round():
    for data in photos:
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (1600, 1200))
            im.load()
            im.resize((1600, im.height * 1600 // im.width), Image.Resampling.LANCZOS).resize((400, 300))

for _ in range(2):
    one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    one_round()
print(json.dumps({"kept": kept, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def run(mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", FAULTS, mode], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


@glibc_only
def test_a_freed_buffer_is_reused_without_faulting_its_pages_in_again() -> None:
    untuned, tuned = run("untuned"), run("tuned")
    photo_pages = 12_000_000 // 4096  # one 12 MP decode at half scale
    assert untuned["faults"] >= 4 * photo_pages  # glibc's own thresholds: pages faulted in round after round
    assert tuned["kept"] is True
    assert tuned["faults"] < photo_pages // 10, tuned


@glibc_only
def test_the_project_sets_the_thresholds_when_django_starts(monkeypatch) -> None:
    from django.apps import apps

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(True) or True)
    apps.get_app_config("core").ready()
    assert calls == [True]


def test_without_mallopt_nothing_is_changed(monkeypatch) -> None:
    class NoMallopt:
        def __init__(self, name):
            pass

    monkeypatch.setattr(allocator.ctypes, "CDLL", NoMallopt)
    assert allocator.keep_freed_memory() is False
