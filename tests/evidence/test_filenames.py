"""Download names (evidence.lib.filenames): whatever a file arrived as, it leaves as one harmless name."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence.lib.filenames import MAX_LENGTH, download_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Landscape_1.jpg", "Landscape_1.jpg"),
        ("уламок 3.JPG", "уламок 3.JPG"),
        ("../../etc/passwd", "_._etc_passwd"),
        ('x\\..\\"; y=.jpg', "x_.__; y=.jpg"),
        ("photo\u202egpj.exe", "photo_gpj.exe"),
        ("a\nb\r\x00c.png", "a_b__c.png"),
        ("..", "file"),
        ("", "file"),
        (" .hidden. ", "hidden"),
        (
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.pdf",
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.pdf",
        ),
        ("zero\u200bwidth\ufeff.jpg", "zero_width_.jpg"),
        ("lone\ud800.jpg", "lone_.jpg"),
    ],
)
def test_names(name, expected):
    assert download_name(name) == expected


def test_a_megabyte_name_is_shortened_and_keeps_its_extension():
    shortened = download_name("A" * 1_000_000 + ".jpeg")
    assert len(shortened) == MAX_LENGTH
    assert shortened.endswith("A.jpeg")


@given(st.text(max_size=400))
def test_any_name_becomes_one_harmless_component(name):
    safe = download_name(name)
    assert safe
    assert len(safe) <= MAX_LENGTH
    assert not set(safe) & set('/\\"')
    assert ".." not in safe
    assert not safe.startswith((".", " "))
    assert not any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp", "Cs"} for c in safe if c not in "\u200c\u200d")
    safe.encode("utf-8")  # a header can carry it (Django writes non-ASCII names as RFC 5987 UTF-8)
