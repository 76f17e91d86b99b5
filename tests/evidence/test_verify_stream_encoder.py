"""The fast canonical encoders equal the reference, byte for byte, where they are used.

orjson (when installed) and json's C encoder stand in for the reference encoders
(evidence.lib.ledger's checked json.dumps, verify.py's pure-Python _encode) only for values made of
dict, list, str, int within +/-(2^53-1), bool and None. Here each is compared with the references on
every vector of docs/custody-format.md and on generated values, and everything outside that domain
is shown to go to the reference.
"""

from __future__ import annotations

import enum
import json
import re
import uuid
from collections import OrderedDict
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.lib import ledger
from tests.evidence.test_verify_script import load_script

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "custody-format.md"
verify = load_script()


def reference(value) -> bytes:
    """Section 2's definition, for the values allowed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fast_encodings(value) -> dict[str, bytes]:
    return {
        "orjson": orjson.dumps(value, option=ledger.ORJSON_CANONICAL),
        "json C encoder (verify.py)": verify._PLAIN_ENCODER.encode(value).encode("utf-8"),
        "ledger.canonical_json": ledger.canonical_json(value),
    }


def assert_identical(value) -> None:
    expected = reference(value)
    assert verify._encode(value).encode("utf-8") == expected  # the two references agree
    for name, encoded in fast_encodings(value).items():
        assert encoded == expected, name


def spec_blocks(kind: str) -> list[str]:
    return [body for lang, body in re.findall(r"```(\w+)\n(.*?)```", SPEC.read_text("utf-8"), re.S) if lang == kind]


# --- The vectors of docs/custody-format.md ---------------------------------------------------------


def test_the_two_canonical_encoding_vectors_of_section_2():
    hex_blocks = [bytes.fromhex("".join(block.split())) for block in spec_blocks("text") if block[:2] == "7b"]
    first = {"Z": {}, "a": 'Ж\n"x"\u0001\u007f', "b": [1, True, None], "é": -5}
    second = {"😀": 1, "\uff61": 2, "b": "\u2028\t\u007f"}
    assert len(hex_blocks) == 2
    for value, expected in zip((first, second), hex_blocks, strict=True):
        assert reference(value) == expected
        assert_identical(value)


def test_every_canonical_line_of_the_worked_example():
    """The hashed bytes of both events, each exported line, and the signed checkpoint body: parsed
    and re-encoded by each fast encoder, each gives its bytes back."""
    texts = [block.strip() for block in spec_blocks("text") if block.startswith("{")]
    texts += spec_blocks("jsonl")[0].splitlines()
    assert len(texts) == 5  # event 1, event 2, the checkpoint message, the two exported lines
    for text in texts:
        expected = text.encode("utf-8")
        value = json.loads(text)
        assert reference(value) == expected
        assert_identical(value)
        assert orjson.loads(expected) == value
        assert verify._fast_entry(expected) == value
        if "hash" in value:  # an exported line: its record is the line without "hash"
            record = {name: value[name] for name in ledger.EVENT_FIELDS}
            assert verify._record_bytes(expected, value["hash"]) == ledger.canonical_json(record)


# --- Generated values --------------------------------------------------------------------------------

# Every code point but the surrogates, with the escaped ones and the non-ASCII corners weighed in.
CORNERS = '\x00\x01\x08\t\n\x0b\x0c\r\x1f "\\/\x7f\x80\x9f\xa0\xad\u2028\u2029\ufeff\uffff\U0001f600\U0010ffff'
strings = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(CORNERS), max_size=12)
integers = st.integers(-ledger.MAX_SAFE_INTEGER, ledger.MAX_SAFE_INTEGER) | st.sampled_from(
    [0, -1, 1, 2**31, -(2**31), 2**32, 2**53 - 1, -(2**53 - 1)]
)
values = st.recursive(
    st.none() | st.booleans() | integers | strings,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(strings, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_generated_values_encode_identically(value):
    assert_identical(value)
    encoded = reference(value)
    assert orjson.loads(encoded) == value == verify.parse_json(encoded)


def test_every_code_point_in_a_string_and_as_a_key():
    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert_identical(text)
    keys = {chr(c): c for c in range(0, 0x110000, 7) if not 0xD800 <= c <= 0xDFFF}  # sorting by code point
    assert_identical(keys)


# --- Outside the domain: the reference decides ------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


class Size(enum.IntEnum):
    BIG = 3


class Name(str):
    pass


@pytest.mark.parametrize(
    "value",
    [1.5, 1.0, float("nan"), float("inf"), 2**53, -(2**53), 2**64, "\ud800", {1: 2}, {"a": [0.5]}, uuid.UUID(int=1),
     Colour.RED, object()],
    ids=lambda value: type(value).__name__ if type(value) is object else repr(value),  # the same in every process
)  # fmt: skip
def test_what_the_reference_refuses_is_refused(value):
    with pytest.raises(ledger.LedgerFormatError):
        ledger.canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [(1, "a"), OrderedDict(b=1, a=2), Size.BIG, Name("x"), {"k": Name("v")}, {Name("k"): 1}, [True, False]],
    ids=repr,
)
def test_what_orjson_would_encode_differently_goes_to_the_reference(value):
    ledger._check_canonical_value(value, "$")  # the reference accepts it …
    assert ledger.canonical_json(value) == reference(value)  # … and so does canonical_json, identically


@pytest.mark.parametrize(
    "line",
    [
        b'{"a":1.5}', b'{"a":[1e3]}', b'{"a":[0,-0.0]}', b'{"a":1E2}', b'{"a":9007199254740992}',
        b'{"a":-9007199254740992}', b'{"a":123456789012345678901234567890}', b'{"a":-0}', b'{"a":1,"a":1}',
        b'{"a":"\\u0041"}', b'{"a": 1}', b'{"b":1,"a":2}', b'{"a":"\\ud800"}', b'{"a":"\\/"}', b'{"a":NaN}',
        b'{"a":"\xff"}', b'{"a":"\\u007f"}', b'[1]', b'1', b'"x"', b'{"a":1}\r', b"\xef\xbb\xbf{}",
    ],
    ids=repr,
)  # fmt: skip
def test_a_line_not_in_canonical_form_never_takes_the_fast_path(line, monkeypatch):
    assert verify._fast_entry(line) is None
    monkeypatch.setattr(verify, "orjson", None)  # the standard-library fast path
    assert verify._fast_entry(line) is None


def test_the_fast_path_reads_what_the_exact_path_reads(monkeypatch):
    lines = [reference(value) for value in ({}, {"a": [1, -2, None, True]}, {"é": {"x": "\u2028\x7f"}})]
    for line in lines:
        assert verify._fast_entry(line) == verify.parse_json(line)
        with monkeypatch.context() as patch:
            patch.setattr(verify, "orjson", None)
            assert verify._fast_entry(line) == verify.parse_json(line)


@settings(max_examples=200, deadline=None)
@given(name=strings, case=strings, label=strings, corrects=st.none() | integers)
def test_the_record_cut_from_a_line_is_its_canonical_encoding(name, case, label, corrects):
    """Even with names that hold what the "hash" member looks like."""
    record = ledger.event_record(
        case=case + ',"hash":"', seq=1, event_type="t", subject={"type": "s", "id": 1, "label": label},
        actor={"id": 2, "name": name + ',"hash":"' + "0" * 64 + '"'}, occurred_at="x", recorded_at="y",
        corrects=corrects, payload={"hash": "1" * 64, ',"hash":"': name}, prev="0" * 64,
    )  # fmt: skip
    digest = ledger.event_hash(record)
    line = ledger.ledger_line(record, digest)
    assert verify._record_bytes(line, digest) == ledger.canonical_json(record)
