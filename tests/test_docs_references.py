"""Every test the README and docs/ name exists, so a reader who follows one finds it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# `tests/x.py`, `tests/x.py::test_y`, `tests/x.py::TestZ::test_y` (a parameter in [] is ignored)
NAMED = re.compile(r"`(tests/[\w/]+\.py)((?:::\w+)*)(?:\[[^\]`]*\])?`")


def named_tests() -> list[tuple[str, str, str]]:
    found = []
    for document in DOCUMENTS:
        for match in NAMED.finditer(document.read_text(encoding="utf-8")):
            found.append((document.name, match.group(1), match.group(2)))
    return found


def test_the_documents_name_tests():
    assert len(named_tests()) >= 20


@pytest.mark.parametrize(("document", "path", "names"), named_tests(), ids=lambda value: value or "-")
def test_a_named_test_exists(document, path, names):
    source = ROOT / path
    assert source.is_file(), f"{document} names {path}, which is not there"
    text = source.read_text(encoding="utf-8")
    for name in filter(None, names.split("::")):
        assert re.search(rf"^\s*(?:def|class) {name}\b", text, re.MULTILINE), f"{document} names {path}{names}"
