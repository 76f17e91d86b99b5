"""Two verifiers, one page: tests/independent_verifier.py (written from docs/custody-format.md alone)
against the shipped evidence/export/verify.py, on the same packages.

Every test builds a package (with the builders of test_verify_script.py), runs both verifiers and
requires the same exit status and the same verdict word per case; it also pins the expected verdict
so that a test cannot pass by both being wrong the same way unnoticed. Where the two disagree and
the page does not settle it (or settles it against the shipped verifier), the test is marked
xfail(strict=True) with the disagreement as its reason: it fails the day the two start agreeing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.lib import ledger
from tests import independent_verifier as independent
from tests.evidence import test_verify_script
from tests.evidence.test_verify_script import (
    CASE,
    DOSSIER,
    ITEM,
    PHOTO,
    RFC8032_TEST1,
    build_chain,
    line_of,
    load_script,
    raw_public,
    rechained,
    resign,
    rewritten,
    sign,
    spec_blocks,
    write_package,
)
from tests.tsa import LoopbackTSA, openssl_available

# The fixtures of test_verify_script.py, used here under the same names.
key = test_verify_script.key
chain = test_verify_script.chain
package = test_verify_script.package

shipped_verify = load_script()
GENESIS = "0" * 64
WORD = re.compile(r"^(?P<case>[^:\s]+): (?P<verdict>BROKEN|INTACT BUT UNANCHORED|INTACT AND ANCHORED)\b", re.M)
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")  # \d matches these; [0-9] does not

BROKEN, UNANCHORED, ANCHORED = "BROKEN", "INTACT BUT UNANCHORED", "INTACT AND ANCHORED"


def shipped(bag: Path, heads=(), fingerprints=(), keys=(), tsa_certs=()) -> tuple[int, dict[str, str]]:
    argv = [str(bag)]
    flags = (("--head", heads), ("--key-fingerprint", fingerprints), ("--key", keys), ("--tsa-cert", tsa_certs))
    for flag, values in flags:
        for value in values:
            argv += [flag, str(value)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = shipped_verify.main(argv)
    return status, {match["case"]: match["verdict"] for match in WORD.finditer(out.getvalue())}


def both(bag: Path, heads=(), fingerprints=(), keys=(), tsa_certs=()) -> tuple[tuple, tuple]:
    mine = independent.verify(
        bag, list(heads), list(fingerprints), [Path(k) for k in keys], tsa_certs=[Path(c) for c in tsa_certs]
    )
    return shipped(bag, heads, fingerprints, keys, tsa_certs), mine


def agree(bag: Path, expected_status: int, heads=(), fingerprints=(), keys=(), case: str = CASE, tsa_certs=()) -> None:
    """Both give the same status and verdicts, and the status is the one the scenario expects."""
    theirs, mine = both(bag, heads, fingerprints, keys, tsa_certs)
    assert theirs == mine, f"shipped {theirs} != independent {mine}"
    assert theirs[0] == expected_status, theirs
    if expected_status != 3:
        verdict = {0: ANCHORED, 1: BROKEN, 2: UNANCHORED}[expected_status]
        assert theirs[1].get(case) == verdict, theirs


def fingerprint_of(private: Ed25519PrivateKey) -> str:
    return hashlib.sha256(raw_public(private)).hexdigest()


def pem_of(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def data_of(bag: Path) -> Path:
    return bag / "data"


def ledger_file(bag: Path) -> Path:
    return bag / "data" / "ledger" / f"{CASE}.jsonl"


def checkpoints_file(bag: Path) -> Path:
    return bag / "data" / "checkpoints" / f"{CASE}.json"


def edit_lines(bag: Path, change) -> None:
    lines = ledger_file(bag).read_bytes().splitlines(keepends=True)
    ledger_file(bag).write_bytes(b"".join(change(lines)))


def write_chain(bag: Path, private: Ed25519PrivateKey, entries: list[dict], sizes=(2, 4, 6)) -> None:
    """The ledger replaced by `entries` and its checkpoints re-signed with the package's own key."""
    ledger_file(bag).write_bytes(b"".join(line_of(entry) for entry in entries))
    signed = [sign(private, entries, size, f"2024-02-0{n}T00:00:00.000000Z") for n, size in enumerate(sizes, 1)]
    checkpoints_file(bag).write_text(json.dumps(signed, indent=2))


def edit_manifest(bag: Path, change) -> None:
    manifest = json.loads((data_of(bag) / "files.json").read_text())
    change(manifest)
    (data_of(bag) / "files.json").write_text(json.dumps(manifest))


def edit_checkpoints(bag: Path, change) -> None:
    checkpoints = json.loads(checkpoints_file(bag).read_text())
    change(checkpoints)
    checkpoints_file(bag).write_text(json.dumps(checkpoints))


def appended(entries: list[dict], event_type: str, payload: dict, subject_type: str = "photo") -> list[dict]:
    record = ledger.event_record(
        case=entries[0]["case"], seq=len(entries) + 1, event_type=event_type,
        subject={"type": subject_type, "id": 1, "label": "EX-0001"}, actor=None,
        occurred_at="2024-03-01T00:00:00.000000Z", recorded_at="2024-03-01T00:00:00.000000Z",
        corrects=None, payload=payload, prev=entries[-1]["hash"],
    )  # fmt: skip
    return [*entries, {**record, "hash": ledger.event_hash(record)}]


def rechained_with(entries: list[dict], at: int, changes: dict) -> list[dict]:
    """rechained() of test_verify_script.py, also for a change of `seq` itself (a keyword it cannot take)."""
    if "seq" not in changes:
        return rechained(entries, at, **changes)
    result, prev = [], GENESIS
    for index, entry in enumerate(entries, start=1):
        record = {name: entry[name] for name in ledger.EVENT_FIELDS} | {"prev": prev}
        if index == at:
            record.update(changes)
        prev = shipped_verify.event_hash(record)
        result.append({**record, "hash": prev})
    return result


# --- The intact package, with and without each anchor -------------------------------------------


def test_the_intact_package_without_anchors(package):
    agree(package, 2)


def test_the_intact_package_with_heads(package, chain):
    agree(package, 2, heads=[f"4:{chain[3]['hash']}"])  # the photo (5) and the dossier (6) come later
    agree(package, 0, heads=[f"6:{chain[5]['hash']}"])
    agree(package, 0, heads=[f"6:{chain[5]['hash'].upper()}"])
    agree(package, 0, heads=[f"2:{chain[1]['hash']}", f"6:{chain[5]['hash']}"])
    agree(package, 2, heads=[f"0:{GENESIS}"])


def test_the_intact_package_with_its_key_fingerprint(package, key):
    agree(package, 0, fingerprints=[fingerprint_of(key)])
    agree(package, 0, fingerprints=[fingerprint_of(key).upper()])
    agree(package, 0, heads=[f"4:{build_chain()[3]['hash']}"], fingerprints=[fingerprint_of(key)])


def test_the_intact_package_with_its_key(package, key, tmp_path):
    (tmp_path / "true.pem").write_bytes(pem_of(key))
    agree(package, 0, keys=[tmp_path / "true.pem"])
    agree(package, 0, keys=[tmp_path / "true.pem"], fingerprints=[fingerprint_of(key)])


def test_a_fingerprint_matching_no_key_of_the_package(package):
    agree(package, 1, fingerprints=[fingerprint_of(Ed25519PrivateKey.generate())])


def test_a_package_without_checkpoints_and_a_key_anchor(package, key):
    checkpoints_file(package).write_text("[]")
    agree(package, 2)
    agree(package, 2, fingerprints=[fingerprint_of(key)])  # the key signed nothing: no anchor held
    agree(package, 0, heads=[f"6:{build_chain()[5]['hash']}"])


# --- Section 14: the worked example, built from the page's own code blocks ----------------------

SPEC_HEAD = "2:e8f14aea9fa11122e582b1eef0027a12df6204346da3831097a94dc931560933"
SPEC_FINGERPRINT = "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"


@pytest.fixture
def worked_example(tmp_path) -> Path:
    data = tmp_path / "bag" / "data"
    for folder in ("ledger", "checkpoints", "public-keys"):
        (data / folder).mkdir(parents=True)
    (data / "ledger" / f"{CASE}.jsonl").write_bytes(spec_blocks("jsonl")[0].encode("utf-8"))
    (data / "checkpoints" / f"{CASE}.json").write_text(spec_blocks("json")[0])
    (pem,) = [block for block in spec_blocks("text") if "BEGIN PUBLIC KEY" in block]
    (data / "public-keys" / "rfc8032-test1.pem").write_text(pem)
    (data / "files.json").write_text("[]")
    return tmp_path / "bag"


def test_the_worked_example_package_verifies_as_the_spec_says(worked_example):
    text = (Path(__file__).resolve().parents[2] / "docs" / "custody-format.md").read_text("utf-8")
    assert re.search(r"`python verify.py BAG_DIR --head (\S+)`", text).group(1) == SPEC_HEAD
    agree(worked_example, 0, heads=[SPEC_HEAD])
    agree(worked_example, 2)
    agree(worked_example, 0, fingerprints=[SPEC_FINGERPRINT])
    agree(worked_example, 0, keys=[worked_example / "data" / "public-keys" / "rfc8032-test1.pem"])


@pytest.mark.parametrize("position", [0, 1, 57, 500, 1016, 1017, 2000, 2030])
def test_section_15_any_byte_of_the_worked_ledger_changed(worked_example, position):
    path = worked_example / "data" / "ledger" / f"{CASE}.jsonl"
    raw = bytearray(path.read_bytes())
    raw[position] ^= 0x01
    path.write_bytes(bytes(raw))
    agree(worked_example, 1, heads=[SPEC_HEAD])
    agree(worked_example, 1)


@pytest.mark.parametrize(
    "change",
    [
        lambda lines: [lines[0].replace(b",", b", ", 1), lines[1]],  # non-canonical
        lambda lines: [lines[1]],  # line 1 removed: event 2 where 1 was expected
        lambda lines: [lines[0]],  # line 2 removed: the checkpoint of size 2 no longer matches
        lambda lines: [lines[1], lines[0]],  # swapped
    ],
    ids=["space-after-comma", "line-1-removed", "line-2-removed", "swapped"],
)
def test_section_15_negative_ledger_checks(worked_example, change):
    path = worked_example / "data" / "ledger" / f"{CASE}.jsonl"
    path.write_bytes(b"".join(change(path.read_bytes().splitlines(keepends=True))))
    agree(worked_example, 1)


def test_section_15_signature_j_to_k(worked_example):
    path = worked_example / "data" / "checkpoints" / f"{CASE}.json"
    text = path.read_text()
    assert '"signature": "J' in text
    path.write_text(text.replace('"signature": "J', '"signature": "K'))
    agree(worked_example, 1)
    agree(worked_example, 1, heads=[SPEC_HEAD])


@pytest.mark.parametrize("head", ["2:" + "e" * 64, "3:" + SPEC_HEAD[2:], "1:" + SPEC_HEAD[2:], "0:" + "1" * 64])
def test_section_15_wrong_heads(worked_example, head):
    agree(worked_example, 1, heads=[head])


def test_section_14_checkpoint_of_the_empty_ledger(worked_example):
    data = worked_example / "data"
    (data / "ledger" / f"{CASE}.jsonl").write_bytes(b"")
    empty = {
        "v": 1, "case": CASE, "size": 0, "head": GENESIS, "signed_at": "2024-01-03T00:00:00.000000Z",
        "key": "21fe31dfa154a261",
        "signature": "U9Ezrmu6rjreVPi+LoZkGpRHoySOli/KxnR599umyTOKibDK0G6Ta5i0anBCWNCt8yA5+rpe+VVkYWnGXmjRBg==",
    }  # fmt: skip
    (data / "checkpoints" / f"{CASE}.json").write_text(json.dumps([empty]))
    agree(worked_example, 2)
    agree(worked_example, 0, heads=[f"0:{GENESIS}"])
    agree(worked_example, 0, fingerprints=[SPEC_FINGERPRINT])  # it signed size 0 and there are no files
    agree(worked_example, 1, heads=[SPEC_HEAD])
    empty["signature"] = "V" + empty["signature"][1:]
    (data / "checkpoints" / f"{CASE}.json").write_text(json.dumps([empty]))
    agree(worked_example, 1)


def test_the_rfc8032_key_of_the_page_is_the_one_of_the_worked_example():
    private = Ed25519PrivateKey.from_private_bytes(RFC8032_TEST1)
    assert fingerprint_of(private) == SPEC_FINGERPRINT


# --- Every tampering of test_verify_script.py -----------------------------------------------------


def test_one_byte_of_a_file_changed(package, key):
    (data_of(package) / "exports" / "dossier.pdf").write_bytes(b"%PDX")
    agree(package, 1)
    agree(package, 1, fingerprints=[fingerprint_of(key)])


def test_a_missing_file(package):
    (data_of(package) / "originals" / "photo-1.jpg").unlink()
    agree(package, 1)


def test_a_payload_edited_in_canonical_form(package):
    def change(lines):
        entry = json.loads(lines[1])
        entry["payload"]["transfer"]["to"] = "Somebody else"
        return [lines[0], ledger.canonical_json(entry) + b"\n", *lines[2:]]

    edit_lines(package, change)
    agree(package, 1)


@pytest.mark.parametrize("position", [0, 10, 100, 300, -2])
def test_a_changed_byte_in_a_ledger_line(package, position):
    def change(lines):
        line = bytearray(lines[2])
        line[position] = ord("Z") if line[position] != ord("Z") else ord("Y")
        return [*lines[:2], bytes(line), *lines[3:]]

    edit_lines(package, change)
    agree(package, 1)


@pytest.mark.parametrize(
    "change",
    [
        lambda lines: [lines[0], *lines[2:]],  # removed from the middle
        lambda lines: lines[1:],  # the first removed
        lambda lines: lines[:-1],  # the last removed under a checkpoint
        lambda lines: [lines[0], lines[2], lines[1], *lines[3:]],  # swapped
        lambda lines: [*lines, lines[-1]],  # repeated
        lambda lines: [lines[0], lines[1], b"\n", *lines[2:]],  # a blank line
        lambda lines: [lines[0].replace(b"\n", b"\r\n"), *lines[1:]],  # a carriage return
        lambda lines: [b"\xef\xbb\xbf" + lines[0], *lines[1:]],  # a byte-order mark
        lambda lines: [],  # emptied, under checkpoints
    ],
    ids=["middle", "first", "last", "swapped", "repeated", "blank", "crlf", "bom", "emptied"],
)
def test_events_removed_swapped_or_truncated(package, change):
    edit_lines(package, change)
    agree(package, 1)


def test_truncated_together_with_the_checkpoints_that_cover_it(package, key, chain):
    """Section 13: undetectable without an anchor; a published head of the larger size catches it."""
    write_chain(package, key, chain[:4], sizes=(2, 4))
    edit_manifest(package, lambda manifest: manifest.clear())
    for name in ("originals/photo-1.jpg", "exports/dossier.pdf"):
        (data_of(package) / name).unlink()
    agree(package, 2)
    agree(package, 0, fingerprints=[fingerprint_of(key)])
    agree(package, 1, heads=[f"6:{chain[5]['hash']}"])


def test_a_non_canonical_line(package):
    edit_lines(package, lambda lines: [lines[0], lines[1].replace(b",", b", ", 1), *lines[2:]])
    agree(package, 1)


@pytest.mark.parametrize(
    "line",
    [
        b'{"a":1.5}',
        b'{"a":1,"a":1}',
        b'{"a":9007199254740992}',
        b'{"a":"\\ud800"}',
        b'{"a":' + b"1" * 5000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":"\\u00e9"}',
        b'{"a":"\\u001F"}',
        b'{"a":NaN}',
        b'{"a":-0}',
        b'{"a":01}',
        b"\xff\xfe",
        b"\xed\xa0\x80",  # a surrogate written directly in UTF-8
        b"",
        b"[]",
        b"null",
    ],
)
def test_malformed_lines(package, line):
    edit_lines(package, lambda lines: [lines[0], line + b"\n", *lines[1:]])
    agree(package, 1)


def test_a_missing_final_newline(package):
    path = ledger_file(package)
    path.write_bytes(path.read_bytes()[:-1])
    agree(package, 1)


def test_a_checkpoint_signed_by_an_untrusted_key(package, chain, key):
    forged = sign(Ed25519PrivateKey.generate(), chain, 4, "2024-02-03T00:00:00.000000Z")
    edit_checkpoints(package, lambda checkpoints: checkpoints.append(forged))
    agree(package, 1)
    agree(package, 1, fingerprints=[fingerprint_of(key)])


def test_only_keys_given_with_key_are_trusted(package, tmp_path):
    other = tmp_path / "other.pem"
    other.write_bytes(pem_of(Ed25519PrivateKey.generate()))
    agree(package, 1, keys=[other])
    agree(package, 0, keys=[data_of(package) / "public-keys" / "attest.pem"])
    agree(package, 0, keys=[other, data_of(package) / "public-keys" / "attest.pem"])


def test_a_checkpoint_altered_after_signing(package, chain):
    edit_checkpoints(package, lambda checkpoints: checkpoints[0].update(size=3, head=chain[2]["hash"]))
    agree(package, 1)


def test_checkpoints_never_shrink(package, key, chain):
    later = sign(key, chain, 3, "2024-02-05T00:00:00.000000Z")
    edit_checkpoints(package, lambda checkpoints: checkpoints.append(later))
    agree(package, 1)


def test_missing_checkpoints_are_not_an_empty_list(package):
    checkpoints_file(package).unlink()
    agree(package, 1)


@pytest.mark.parametrize("content", ["{}", "null", "[1]", '[{"v":1}]', "", "[", '[] "x"'])
def test_a_checkpoints_file_that_is_not_a_list_of_checkpoints(package, content):
    checkpoints_file(package).write_text(content)
    agree(package, 1)


@pytest.mark.parametrize("head", ["3:{event2}", "7:{event2}", "0:{event2}", "6:{genesis}", "5:{event6}"])
def test_a_wrong_published_head(package, chain, head):
    text = head.format(event2=chain[1]["hash"], genesis=GENESIS, event6=chain[5]["hash"])
    agree(package, 1, heads=[text])


@pytest.mark.parametrize(
    ("heads", "fingerprints"),
    [
        (["2:abc"], []),
        (["x:" + "0" * 64], []),
        (["OTHER:0:" + "0" * 64], []),
        (["2"], []),
        ([":" + "0" * 64], []),
        (["-1:" + "0" * 64], []),
        (["2:" + "g" * 64], []),
        ([], ["abc"]),
        ([], ["g" * 64]),
    ],
)
def test_usage_errors(package, heads, fingerprints):
    agree(package, 3, heads=heads, fingerprints=fingerprints)


def test_a_key_file_that_is_not_a_key_is_a_usage_error(package, tmp_path):
    (tmp_path / "garbage.pem").write_text("not a key")
    agree(package, 3, keys=[tmp_path / "garbage.pem"])
    agree(package, 3, keys=[tmp_path / "absent.pem"])


def test_a_folder_that_is_not_a_package(tmp_path):
    agree(tmp_path, 3)
    agree(tmp_path / "absent", 3)


def test_a_case_prefixed_head(package, chain):
    agree(package, 0, heads=[f"{CASE}:6:{chain[5]['hash']}"])
    agree(package, 1, heads=[f"{CASE}:6:{chain[4]['hash']}"])


# --- Forgeries: rewritten and re-signed history, files swapped ------------------------------------


def test_a_rewritten_resigned_history(package, chain, key, tmp_path):
    forged = rewritten(chain, 3, {"item": ITEM, "examination": {"findings": "nothing found"}})
    resign(package, forged, Ed25519PrivateKey.generate())
    agree(package, 2)  # alone, a consistent forgery looks like the original
    agree(package, 1, heads=[f"4:{chain[3]['hash']}"])
    agree(package, 1, fingerprints=[fingerprint_of(key)])
    (tmp_path / "true.pem").write_bytes(pem_of(key))
    agree(package, 1, keys=[tmp_path / "true.pem"])


def test_a_rewritten_history_resigned_with_the_stolen_key(package, chain, key):
    """Section 13: a stolen key defeats checkpoints; a published head still catches the rewrite."""
    forged = rewritten(chain, 3, {"item": ITEM, "examination": {"findings": "nothing found"}})
    write_chain(package, key, forged)
    agree(package, 2)
    agree(package, 0, fingerprints=[fingerprint_of(key)])
    agree(package, 1, heads=[f"4:{chain[3]['hash']}"], fingerprints=[fingerprint_of(key)])
    agree(package, 2, heads=[f"2:{chain[1]['hash']}"])  # the rewrite is after the head


def test_a_photo_replaced_with_files_json_updated(package, chain, key):
    altered = b"\xff\xd8 altered photo"
    (data_of(package) / "originals" / "photo-1.jpg").write_bytes(altered)
    edit_manifest(package, lambda m: m[0].update(sha256=hashlib.sha256(altered).hexdigest(), size=len(altered)))
    agree(package, 1)
    agree(package, 1, heads=[f"6:{chain[5]['hash']}"], fingerprints=[fingerprint_of(key)])


def test_a_photo_replaced_and_recorded_by_an_appended_event(package, chain, key):
    altered = b"\xff\xd8 altered photo"
    sha = hashlib.sha256(altered).hexdigest()
    (data_of(package) / "originals" / "photo-1.jpg").write_bytes(altered)
    edit_manifest(package, lambda m: m[0].update(sha256=sha, size=len(altered)))
    longer = appended(chain, "photo.added", {"photo": {"sha256": sha}})
    ledger_file(package).write_bytes(b"".join(line_of(entry) for entry in longer))
    agree(package, 2)
    agree(package, 2, heads=[f"6:{chain[5]['hash']}"])
    agree(package, 2, fingerprints=[fingerprint_of(key)])
    agree(package, 0, heads=[f"7:{longer[6]['hash']}"])  # whoever published head 7 vouches for it


@pytest.mark.parametrize(
    ("event_type", "payload", "status"),
    [
        ("file.kept", {"file": {"sha256": "{sha}"}}, 0),
        ("source.added", {"source": {"archived_sha256": "{sha}"}}, 0),
        ("source.updated", {"source": {"archived_sha256": "{sha}"}}, 0),
        ("package.sealed", {"files": [{"path": "x"}, "junk", {"sha256": "{sha}"}]}, 0),
        ("photo.processed", {"photo": {"sha256": "{sha}"}}, 1),  # not a recording field
        ("photo.added", {"photo": {"sha256": "{SHA}"}}, 1),  # upper case records nothing
        ("photo.added", {"photo": "{sha}"}, 1),
        ("package.sealed", {"files": {"sha256": "{sha}"}}, 1),
        ("file.kept", {"file": {"archived_sha256": "{sha}"}}, 1),
    ],
)
def test_each_field_that_records_a_file(package, chain, key, event_type, payload, status):
    extra = b"another file"
    sha = hashlib.sha256(extra).hexdigest()
    (data_of(package) / "originals" / "extra.bin").write_bytes(extra)
    edit_manifest(package, lambda m: m.append({"path": "originals/extra.bin", "sha256": sha, "size": len(extra)}))
    text = json.dumps(payload).replace("{sha}", sha).replace("{SHA}", sha.upper())
    longer = appended(chain, event_type, json.loads(text))
    write_chain(package, key, longer, sizes=(2, 4, 7))
    agree(package, status, fingerprints=[fingerprint_of(key)])


def test_an_edited_case_json(package):
    (data_of(package) / "case.json").write_text('{"incidents": [{"killed": 999}]}')
    agree(package, 1)


def test_a_case_json_the_ledger_records(package, chain):
    """Its bytes equal the dossier's, which event 6 records: bound, and anchored only up to 6."""
    (data_of(package) / "case.json").write_bytes(DOSSIER)
    agree(package, 2)
    agree(package, 0, heads=[f"6:{chain[5]['hash']}"])
    agree(package, 2, heads=[f"5:{chain[4]['hash']}"])


def test_an_unlisted_extra_file(package):
    (data_of(package) / "originals" / "extra.jpg").write_bytes(b"\xff\xd8")
    agree(package, 1)


@pytest.mark.parametrize("where", ["extra.bin", "exports/deep/er/extra.bin", "case.json.bak", "files.json~"])
def test_unlisted_files_anywhere_in_data(package, where):
    path = data_of(package) / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    agree(package, 1)


def test_anything_under_the_metadata_folders_is_allowed(package):
    (data_of(package) / "ledger" / "README.txt").write_text("notes")  # not a ledger file: not <CASE_REF>.jsonl
    (data_of(package) / "checkpoints" / "README.txt").write_text("notes")
    (data_of(package) / "empty-folder").mkdir()
    agree(package, 2)


def test_a_file_under_public_keys_that_is_not_a_key(package):
    (data_of(package) / "public-keys" / "notes.txt").write_text("notes")
    theirs, mine = both(package)
    assert theirs == mine


def test_a_symlink(package):
    (data_of(package) / "originals" / "link.jpg").symlink_to(data_of(package) / "originals" / "photo-1.jpg")
    agree(package, 1)


def test_a_listed_file_that_is_a_symlink(package, tmp_path):
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(PHOTO)
    target = data_of(package) / "originals" / "photo-1.jpg"
    target.unlink()
    target.symlink_to(outside)
    agree(package, 1)


def test_a_symlinked_folder(package, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (data_of(package) / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    agree(package, 1)


def test_a_symlinked_ledger(package, tmp_path):
    moved = tmp_path / "moved.jsonl"
    moved.write_bytes(ledger_file(package).read_bytes())
    ledger_file(package).unlink()
    ledger_file(package).symlink_to(moved)
    agree(package, 1)


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m.append(dict(m[0])),  # listed twice
        lambda m: m[0].update(path="originals\\photo-1.jpg"),
        lambda m: m[0].update(path="ledger/PGO-2024-0001.jsonl"),
        lambda m: m[0].update(path="checkpoints/PGO-2024-0001.json"),
        lambda m: m[0].update(path="public-keys/attest.pem"),
        lambda m: m[0].update(path="files.json"),
        lambda m: m[0].update(path="case.json"),
        lambda m: m[0].update(path="/originals/photo-1.jpg"),
        lambda m: m[0].update(path="originals/../originals/photo-1.jpg"),
        lambda m: m[0].update(path="./originals/photo-1.jpg"),
        lambda m: m[0].update(path="originals//photo-1.jpg"),
        lambda m: m[0].update(path="originals/photo-1.jpg/"),
        lambda m: m[0].update(path=""),
        lambda m: m[0].update(path="originals"),  # a folder
        lambda m: m[0].update(path=7),
        lambda m: m[0].update(sha256=m[0]["sha256"].upper()),
        lambda m: m[0].update(sha256="0" * 64),
        lambda m: m[0].update(size=m[0]["size"] + 1),
        lambda m: m[0].update(size=-1),
        lambda m: m[0].update(size=True),
        lambda m: m[0].update(size=str(m[0]["size"])),
        lambda m: m[0].pop("size"),
        lambda m: m[0].pop("sha256"),
        lambda m: m[0].pop("path"),
        lambda m: m.append("originals/photo-1.jpg"),
        lambda m: m.pop(0),  # the photo no longer listed: an unlisted file
    ],
)
def test_files_json_entries_are_strict(package, change):
    edit_manifest(package, change)
    agree(package, 1)


@pytest.mark.parametrize("content", ["{}", "null", "", "[", '[{"path": "a", "path": "b"}]', "\ufeff[]"])
def test_a_files_json_that_is_not_a_list_of_entries(package, content):
    (data_of(package) / "files.json").write_text(content, encoding="utf-8")
    agree(package, 1)


def test_a_missing_files_json(package):
    (data_of(package) / "files.json").unlink()
    agree(package, 1)


def test_files_json_is_plain_json(package):
    manifest = json.loads((data_of(package) / "files.json").read_text())
    (data_of(package) / "files.json").write_text(json.dumps(list(reversed(manifest)), indent=4, ensure_ascii=True))
    agree(package, 2)
    edit_manifest(package, lambda m: m[0].update(note="the original"))
    agree(package, 2)


# --- Section 4: each member type -------------------------------------------------------------


@pytest.mark.parametrize(
    ("seq", "changes"),
    [
        (1, {"case": 7}),
        (1, {"case": "PGO-2024-0002"}),
        (1, {"type": ""}),
        (1, {"type": 5}),
        (1, {"v": True}),
        (1, {"v": 2}),
        (1, {"seq": True}),
        (1, {"seq": 0}),
        (2, {"seq": 3}),
        (1, {"subject": {"type": "evidence_item", "id": "7", "label": "EX-0001"}}),
        (1, {"subject": {"type": "evidence_item", "id": True, "label": "EX-0001"}}),
        (1, {"subject": {"type": 1, "id": 7, "label": "EX-0001"}}),
        (1, {"subject": {"type": "evidence_item", "id": 7, "label": None}}),
        (1, {"subject": {"type": "evidence_item", "id": 7}}),
        (1, {"subject": {"type": "evidence_item", "id": 7, "label": "EX-0001", "x": 1}}),
        (1, {"subject": None}),
        (1, {"actor": {"id": "3", "name": "ivan"}}),
        (1, {"actor": {"id": 3, "name": None}}),
        (1, {"actor": {"id": 3}}),
        (1, {"actor": {"id": 3, "name": "ivan", "role": "x"}}),
        (1, {"actor": "ivan"}),
        (1, {"occurred_at": "2024-01-01T05:40:00Z"}),
        (1, {"occurred_at": "2024-01-01T05:40:00.000000z"}),
        (1, {"occurred_at": None}),
        (2, {"recorded_at": "2024-01-02 09:00:00.123456Z"}),
        (2, {"recorded_at": "2024-01-02T09:00:00.123456+00:00"}),
        (4, {"corrects": 4}),
        (4, {"corrects": 9}),
        (4, {"corrects": 0}),
        (4, {"corrects": None}),
        (4, {"corrects": True}),
        (4, {"corrects": "3"}),
        (2, {"corrects": 1}),
        (1, {"payload": []}),
        (1, {"payload": None}),
        (2, {"prev": "A" * 64}),
        (1, {"prev": "0" * 63}),
        (1, {"note": "x"}),
    ],
)
def test_every_member_has_the_type_section_4_gives_it(package, chain, key, seq, changes):
    """Every hash recomputed and the checkpoints re-signed: only the rule of section 4 breaks."""
    write_chain(package, key, rechained_with(chain, seq, changes))
    agree(package, 1)
    agree(package, 1, fingerprints=[fingerprint_of(key)])


@pytest.mark.parametrize(
    ("seq", "changes"),
    [
        (1, {"actor": None}),
        (1, {"subject": {"type": "a subject of the future", "id": -3, "label": ""}}),
        (1, {"occurred_at": "9999-99-99T99:99:99.999999Z"}),  # the form only: not interpreted
        (1, {"payload": {}}),
        (4, {"corrects": 1}),
        (1, {"type": "some.future.type"}),
        (1, {"actor": {"id": -(2**53) + 1, "name": "\u2028\x00\U0001f600"}}),
    ],
)
def test_what_section_4_allows(package, chain, key, seq, changes):
    write_chain(package, key, rechained_with(chain, seq, changes))
    agree(package, 2)
    agree(package, 0, fingerprints=[fingerprint_of(key)])


def test_an_upper_case_hash(package, chain, key):
    entries = [dict(entry) for entry in chain]
    entries[-1]["hash"] = entries[-1]["hash"].upper()
    ledger_file(package).write_bytes(b"".join(line_of(entry) for entry in entries))
    agree(package, 1)


def test_a_timestamp_with_non_ascii_digits(package, chain, key):
    timestamp = "2024-01-01T05:40:00.000000Z"
    write_chain(package, key, rechained(chain, 1, occurred_at=timestamp[:4].translate(ARABIC_DIGITS) + timestamp[4:]))
    theirs, mine = both(package)
    assert theirs == mine


# --- Section 8: each checkpoint member rule ----------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        lambda cp: cp.update(note="hi"),
        lambda cp: cp.pop("signed_at"),
        lambda cp: cp.pop("signature"),
        lambda cp: cp.update(key=cp["key"].upper()),
        lambda cp: cp.update(key=cp["key"][:15]),
        lambda cp: cp.update(key=7),
        lambda cp: cp.update(signature=cp["signature"].rstrip("=")),
        lambda cp: cp.update(signature=" " + cp["signature"]),
        lambda cp: cp.update(signature=cp["signature"] + "\n"),
        lambda cp: cp.update(signature="-_" + cp["signature"][2:]),  # URL-safe base64 (always a change)
        lambda cp: cp.update(signature=cp["signature"][:85] + chr(ord(cp["signature"][85]) ^ 1) + "=="),
        lambda cp: cp.update(signature=base64_of(bytes(64))),
        lambda cp: cp.update(signature=base64_of(bytes(63))),
        lambda cp: cp.update(v=True),
        lambda cp: cp.update(v=2),
        lambda cp: cp.update(v="1"),
        lambda cp: cp.update(size=-1),
        lambda cp: cp.update(size=True),
        lambda cp: cp.update(size=2.0),
        lambda cp: cp.update(size=2**53),
        lambda cp: cp.update(head=cp["head"].upper()),
        lambda cp: cp.update(head=None),
        lambda cp: cp.update(signed_at="2024-02-01T00:00:00Z"),
        lambda cp: cp.update(signed_at=None),
        lambda cp: cp.update(case=None),
        lambda cp: cp.update(case="PGO-2024-0002"),
    ],
)
def test_checkpoints_hold_exactly_the_members_of_section_8(package, change):
    edit_checkpoints(package, lambda checkpoints: change(checkpoints[0]))
    agree(package, 1)


def base64_of(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode("ascii")


def test_a_checkpoint_of_another_case_properly_signed(package, key, chain):
    other = ledger.sign_checkpoint(key, case="PGO-2024-0002", size=2, head=chain[1]["hash"],
                                   signed_at="2024-02-04T00:00:00.000000Z")  # fmt: skip
    edit_checkpoints(package, lambda checkpoints: checkpoints.append(other))
    agree(package, 1)


def test_a_checkpoint_of_size_0_must_have_the_genesis_head(package, key, chain):
    bad = ledger.sign_checkpoint(key, case=CASE, size=0, head=chain[0]["hash"], signed_at="2024-01-01T00:00:00.000000Z")
    good = ledger.sign_checkpoint(key, case=CASE, size=0, head=GENESIS, signed_at="2024-01-01T00:00:00.000000Z")
    edit_checkpoints(package, lambda checkpoints: checkpoints.append(good))
    agree(package, 2)
    edit_checkpoints(package, lambda checkpoints: checkpoints.append(bad))
    agree(package, 1)


def test_a_checkpoint_beyond_the_ledger(package, key, chain):
    longer = appended(chain, "item.examined", {"x": 1}, "evidence_item")
    edit_checkpoints(
        package, lambda checkpoints: checkpoints.append(sign(key, longer, 7, "2024-02-09T00:00:00.000000Z"))
    )
    agree(package, 1)


def test_checkpoints_with_equal_times_are_taken_smallest_size_first(package, key, chain):
    same_time = "2024-02-04T00:00:00.000000Z"
    checkpoints_file(package).write_text(json.dumps([sign(key, chain, 6, same_time), sign(key, chain, 5, same_time)]))
    agree(package, 2)
    agree(package, 0, fingerprints=[fingerprint_of(key)])
    checkpoints_file(package).write_text(json.dumps([sign(key, chain, 5, same_time), sign(key, chain, 6, same_time)]))
    agree(package, 2)
    checkpoints_file(package).write_text(json.dumps([sign(key, chain, 6, same_time), sign(key, chain, 6, same_time)]))
    agree(package, 2)


def test_checkpoints_are_ordered_by_signed_at_not_by_their_place_in_the_file(package, key, chain):
    checkpoints = [
        sign(key, chain, 6, "2024-02-03T00:00:00.000000Z"),
        sign(key, chain, 2, "2024-02-01T00:00:00.000000Z"),
    ]
    checkpoints_file(package).write_text(json.dumps(checkpoints))
    agree(package, 2)
    checkpoints = [
        sign(key, chain, 6, "2024-02-01T00:00:00.000000Z"),
        sign(key, chain, 2, "2024-02-03T00:00:00.000000Z"),
    ]
    checkpoints_file(package).write_text(json.dumps(checkpoints))
    agree(package, 1)  # signed later with a smaller size: the ledger shrank


def test_a_checkpoint_time_with_non_ascii_digits(package, key, chain):
    odd = "2024".translate(ARABIC_DIGITS) + "-02-09T00:00:00.000000Z"
    edit_checkpoints(package, lambda checkpoints: checkpoints.append(sign(key, chain, 6, odd)))
    theirs, mine = both(package)
    assert theirs == mine


def test_keys_are_checked_with_the_full_key(package, key, chain):
    """Another key shipped under the same file name pattern: the key id alone never makes a key trusted."""
    impostor = Ed25519PrivateKey.generate()
    (data_of(package) / "public-keys" / "impostor.pem").write_bytes(pem_of(impostor))
    agree(package, 2)
    agree(package, 0, fingerprints=[fingerprint_of(key)])
    agree(package, 1, fingerprints=[fingerprint_of(impostor)])


# --- Hypothesis: random bytes of the ledger and of the checkpoints file -------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, key) -> tuple[Path, bytes, bytes]:
    bag = write_package(tmp_path_factory.mktemp("flip") / "bag", key, build_chain())
    return bag, ledger_file(bag).read_bytes(), checkpoints_file(bag).read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_flipped_bytes_of_the_ledger_and_checkpoints_are_judged_alike(pristine, key, data):
    bag, original_ledger, original_checkpoints = pristine
    target = data.draw(st.sampled_from(["ledger", "checkpoints"]), label="target")
    original = original_ledger if target == "ledger" else original_checkpoints
    path = ledger_file(bag) if target == "ledger" else checkpoints_file(bag)
    flips = data.draw(st.lists(st.integers(0, len(original) - 1), min_size=1, max_size=3), label="positions")
    changed = bytearray(original)
    for position in flips:
        changed[position] = data.draw(st.integers(0, 255), label="value")
    anchors = data.draw(st.sampled_from(["none", "fingerprint", "head"]), label="anchor")
    try:
        path.write_bytes(bytes(changed))
        fingerprints = [fingerprint_of(key)] if anchors == "fingerprint" else []
        heads = [f"6:{build_chain()[5]['hash']}"] if anchors == "head" else []
        theirs, mine = both(bag, heads=heads, fingerprints=fingerprints)
    finally:
        path.write_bytes(original)
    assert theirs == mine, (target, flips, bytes(changed) != original)
    if bytes(changed) != original and target == "ledger":
        assert theirs[0] == 1


# --- Multi-case packages (section 11: "normally one") ------------------------------------------

OTHER = "PGO/2024.7"


def add_case(bag: Path, private: Ed25519PrivateKey, case: str, events: int) -> list[dict]:
    entries = build_chain(case)[:events]
    stem = case.replace("/", "_")
    (data_of(bag) / "ledger" / f"{stem}.jsonl").write_bytes(b"".join(line_of(entry) for entry in entries))
    signed = [
        ledger.sign_checkpoint(private, case=case, size=len(entries), head=entries[-1]["hash"],
                               signed_at="2024-02-03T00:00:00.000000Z"),
    ]  # fmt: skip
    (data_of(bag) / "checkpoints" / f"{stem}.json").write_text(json.dumps(signed))
    return entries


def test_two_cases_that_each_record_every_file(package, key, chain):
    other = add_case(package, key, OTHER, 6)
    agree(package, 2)
    agree(package, 2, case=OTHER)
    agree(package, 3, heads=[f"6:{chain[5]['hash']}"])  # which case? a usage error
    heads = [f"{CASE}:6:{chain[5]['hash']}", f"{OTHER}:6:{other[5]['hash']}"]
    agree(package, 0, heads=heads)
    agree(package, 0, heads=heads, case=OTHER)
    agree(package, 2, heads=heads[:1], case=OTHER)
    agree(package, 0, fingerprints=[fingerprint_of(key)], case=OTHER)
    agree(package, 1, heads=[f"{OTHER}:6:{chain[5]['hash']}"], case=OTHER)


def test_one_broken_case_of_two(package, key):
    add_case(package, key, OTHER, 6)
    path = data_of(package) / "ledger" / f"{OTHER.replace('/', '_')}.jsonl"
    path.write_bytes(path.read_bytes().replace(b"ivan", b"ivam", 1))
    agree(package, 1, case=OTHER)
    theirs, mine = both(package)
    assert theirs == mine
    assert theirs[1] == {CASE: UNANCHORED, OTHER: BROKEN}


def test_a_case_whose_ledger_records_none_of_the_files(package, key, chain):
    """Section 11: 'A file is bound when any ledger of the package records its SHA-256'."""
    other = add_case(package, key, OTHER, 4)
    agree(package, 2)
    agree(package, 2, case=OTHER)
    heads = [f"{CASE}:6:{chain[5]['hash']}", f"{OTHER}:4:{other[3]['hash']}"]
    agree(package, 0, heads=heads)  # the files of OTHER are those its own ledger records: none
    agree(package, 0, heads=heads, case=OTHER)
    theirs, mine = both(package, heads=[f"{CASE}:4:{chain[3]['hash']}", heads[1]])
    assert theirs == mine
    assert theirs == (2, {CASE: UNANCHORED, OTHER: ANCHORED})  # CASE records its photo and dossier after 4


def test_a_file_no_ledger_of_two_records(package, key):
    add_case(package, key, OTHER, 4)
    extra = b"recorded by nobody"
    (data_of(package) / "originals" / "extra.bin").write_bytes(extra)
    entry = {"path": "originals/extra.bin", "sha256": hashlib.sha256(extra).hexdigest(), "size": len(extra)}
    edit_manifest(package, lambda m: m.append(entry))
    agree(package, 1)
    agree(package, 1, case=OTHER)


# --- Where the page is silent or the two read it differently (reported) -------------------------


def test_a_checkpoints_file_without_a_ledger(package):
    """Section 11: a case is shipped when either file is there, and each case needs both."""
    (data_of(package) / "checkpoints" / "OTHER.json").write_text("[]")
    agree(package, 1, case="OTHER")
    theirs, _ = both(package)
    assert theirs[1][CASE] == UNANCHORED


def test_a_package_without_any_ledger(package):
    """Section 11: 'A folder with no data/ledger/*.jsonl and no data/checkpoints/*.json is not a package'."""
    ledger_file(package).unlink()
    checkpoints_file(package).unlink()
    agree(package, 3)
    (data_of(package) / "ledger").rmdir()
    agree(package, 3)


def test_a_ledger_without_a_checkpoints_file_is_still_a_package(package):
    checkpoints_file(package).unlink()
    agree(package, 1)


@pytest.mark.parametrize("name", ["a:b.jpg", "c:"])
def test_a_path_with_a_colon(package, name):
    """Section 11: a path MUST NOT contain ':'."""
    (data_of(package) / "originals" / "photo-1.jpg").rename(data_of(package) / "originals" / name)
    edit_manifest(package, lambda m: m[0].update(path=f"originals/{name}"))
    agree(package, 1)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"note": 1.5}, id="1.5"),
        pytest.param({"note": 2**53}, id="2^53"),
        pytest.param({"note": float("nan")}, id="nan"),
        pytest.param({"note": 1e3}, id="1e3"),
    ],
)
def test_a_float_or_a_large_integer_in_files_json(package, extra):
    """Section 11: files.json is 'parsed as strictly as a ledger line', even in members it ignores."""
    edit_manifest(package, lambda m: m[0].update(extra))
    agree(package, 1)


def test_strict_json_in_the_checkpoints_file(package):
    edit_checkpoints(package, lambda checkpoints: checkpoints[0].update(size=float(checkpoints[0]["size"])))
    agree(package, 1)
    text = checkpoints_file(package).read_text().replace('"v": 1', '"v": 1, "v": 1', 1)
    checkpoints_file(package).write_text(text)
    agree(package, 1)


@pytest.mark.parametrize("with_key", [False, True], ids=["package-keys", "with---key"])
def test_a_damaged_key_in_the_package(package, key, tmp_path, with_key):
    """Section 11: a damaged shipped key breaks the package 'whatever keys the verifier is given'."""
    (data_of(package) / "public-keys" / "broken.pem").write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n")
    (tmp_path / "true.pem").write_bytes(pem_of(key))
    agree(package, 1, keys=[tmp_path / "true.pem"] if with_key else [])
    agree(package, 1, fingerprints=[fingerprint_of(key)])


def test_a_non_ed25519_key_in_the_package(package, key):
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (data_of(package) / "public-keys" / "p256.pem").write_bytes(pem)
    agree(package, 1)
    agree(package, 1, fingerprints=[fingerprint_of(key)])


def test_key_and_fingerprint_together(package, key, tmp_path):
    """Section 11: 'Given with --key-fingerprint, only the --key keys with that fingerprint are trusted.'"""
    (tmp_path / "other.pem").write_bytes(pem_of(Ed25519PrivateKey.generate()))
    (tmp_path / "true.pem").write_bytes(pem_of(key))
    agree(package, 1, fingerprints=[fingerprint_of(key)], keys=[tmp_path / "other.pem"])
    agree(package, 0, fingerprints=[fingerprint_of(key)], keys=[tmp_path / "true.pem"])
    agree(package, 0, fingerprints=[fingerprint_of(key)], keys=[tmp_path / "other.pem", tmp_path / "true.pem"])
    other_fingerprint = hashlib.sha256(
        serialization.load_pem_public_key((tmp_path / "other.pem").read_bytes()).public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    ).hexdigest()
    agree(package, 1, fingerprints=[other_fingerprint], keys=[tmp_path / "true.pem"])


@pytest.mark.parametrize("form", ["colons", "spaces"])
def test_lenient_argument_forms_are_the_verifiers_choice(package, key, chain, form):
    """Section 11 lets a verifier accept a fingerprint with ':' or spaces around an argument, read as the
    canonical form, or refuse them: the shipped one accepts (anchored, 0), the independent one refuses (3)."""
    if form == "colons":
        hexed = fingerprint_of(key)
        theirs, mine = both(package, fingerprints=[":".join(hexed[i : i + 2] for i in range(0, 64, 2))])
    else:
        theirs, mine = both(package, heads=[f" 6:{chain[5]['hash']} "])
    assert theirs[0] == 0
    assert mine[0] == 3


def test_a_reference_outside_the_alphabet(package, key):
    ledger_file(package).unlink()
    checkpoints_file(package).unlink()
    add_case(package, key, "pgo-1", 6)
    theirs, mine = both(package)
    assert theirs == mine


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.timeout(60)
@pytest.mark.parametrize("where", ["originals/pipe", "ledger/pipe", "checkpoints/pipe"])
def test_a_named_pipe_in_data(package, where):
    """Section 11: 'every file is a regular file (no symbolic links, pipes or devices)', under ledger/ too."""
    os.mkfifo(data_of(package) / where)
    agree(package, 1)


def key_rotation_package(package: Path, old: Ed25519PrivateKey, chain: list[dict]) -> Ed25519PrivateKey:
    new = Ed25519PrivateKey.generate()
    longer = appended(chain, "key.rotated", {"from": fingerprint_of(old), "to": fingerprint_of(new)}, "case")
    ledger_file(package).write_bytes(b"".join(line_of(entry) for entry in longer))
    checkpoints = [
        sign(old, longer, 7, "2024-02-04T00:00:00.000000Z"),
        sign(new, longer, 7, "2024-02-05T00:00:00.000000Z"),
    ]
    checkpoints_file(package).write_text(json.dumps(checkpoints))
    (data_of(package) / "public-keys" / "new.pem").write_bytes(pem_of(new))
    return new


def test_a_second_package_key_without_anchors(package, key, chain):
    key_rotation_package(package, key, chain)
    agree(package, 2)


def test_a_key_rotation_under_a_fingerprint_anchor(package, key, chain, tmp_path):
    """Section 8, key continuity: either key anchors, and trust follows the hand-over both ways."""
    new = key_rotation_package(package, key, chain)
    agree(package, 0, fingerprints=[fingerprint_of(key)])
    agree(package, 0, fingerprints=[fingerprint_of(new)])
    (tmp_path / "old.pem").write_bytes(pem_of(key))
    (tmp_path / "new.pem").write_bytes(pem_of(new))
    agree(package, 0, keys=[tmp_path / "old.pem"])  # the new key's material comes from the package
    agree(package, 0, keys=[tmp_path / "new.pem"])


def test_a_rotation_the_old_key_never_signed_over(package, key, chain):
    """The old key's last checkpoint is before the key.rotated event: only the new key vouches for it."""
    new = Ed25519PrivateKey.generate()
    longer = appended(chain, "key.rotated", {"from": fingerprint_of(key), "to": fingerprint_of(new)}, "case")
    ledger_file(package).write_bytes(b"".join(line_of(entry) for entry in longer))
    checkpoints = [
        sign(key, longer, 6, "2024-02-04T00:00:00.000000Z"),
        sign(new, longer, 7, "2024-02-05T00:00:00.000000Z"),
    ]
    checkpoints_file(package).write_text(json.dumps(checkpoints))
    (data_of(package) / "public-keys" / "new.pem").write_bytes(pem_of(new))
    agree(package, 2)
    agree(package, 1, fingerprints=[fingerprint_of(key)])  # a new key that appears without a hand-over
    agree(package, 0, fingerprints=[fingerprint_of(new)])  # the other direction: new signed size 7 >= 7


def test_a_new_key_without_a_hand_over(package, key, chain):
    stranger = Ed25519PrivateKey.generate()
    edit_checkpoints(package, lambda c: c.append(sign(stranger, chain, 6, "2024-02-04T00:00:00.000000Z")))
    (data_of(package) / "public-keys" / "stranger.pem").write_bytes(pem_of(stranger))
    agree(package, 2)  # no key anchor: every key of the package is trusted, none anchors
    agree(package, 1, fingerprints=[fingerprint_of(key)])
    agree(package, 1, fingerprints=[fingerprint_of(stranger)])
    agree(package, 0, fingerprints=[fingerprint_of(key), fingerprint_of(stranger)])


@pytest.mark.parametrize("how", ["upper-case", "missing-to", "other-case-type"])
def test_a_key_rotated_event_that_names_no_key(package, key, chain, how):
    new = Ed25519PrivateKey.generate()
    payload = {"from": fingerprint_of(key), "to": fingerprint_of(new)}
    event_type = "key.rotated"
    if how == "upper-case":
        payload["to"] = payload["to"].upper()
    elif how == "missing-to":
        del payload["to"]
    else:
        event_type = "key.rotate"
    longer = appended(chain, event_type, payload, "case")
    ledger_file(package).write_bytes(b"".join(line_of(entry) for entry in longer))
    checkpoints = [
        sign(key, longer, 7, "2024-02-04T00:00:00.000000Z"),
        sign(new, longer, 7, "2024-02-05T00:00:00.000000Z"),
    ]
    checkpoints_file(package).write_text(json.dumps(checkpoints))
    (data_of(package) / "public-keys" / "new.pem").write_bytes(pem_of(new))
    agree(package, 1, fingerprints=[fingerprint_of(key)])


def test_a_file_recorded_after_the_rotation_is_anchored_by_the_new_key(package, key, chain):
    new = Ed25519PrivateKey.generate()
    extra = b"a photo taken after the rotation"
    sha = hashlib.sha256(extra).hexdigest()
    longer = appended(chain, "key.rotated", {"from": fingerprint_of(key), "to": fingerprint_of(new)}, "case")
    longer = appended(longer, "photo.added", {"photo": {"sha256": sha}})
    ledger_file(package).write_bytes(b"".join(line_of(entry) for entry in longer))
    checkpoints = [
        sign(key, longer, 7, "2024-02-04T00:00:00.000000Z"),
        sign(new, longer, 8, "2024-02-05T00:00:00.000000Z"),
    ]
    checkpoints_file(package).write_text(json.dumps(checkpoints))
    (data_of(package) / "public-keys" / "new.pem").write_bytes(pem_of(new))
    (data_of(package) / "originals" / "late.jpg").write_bytes(extra)
    edit_manifest(package, lambda m: m.append({"path": "originals/late.jpg", "sha256": sha, "size": len(extra)}))
    agree(package, 0, fingerprints=[fingerprint_of(key)])
    agree(package, 2, heads=[f"7:{longer[6]['hash']}"])
    agree(package, 0, fingerprints=[fingerprint_of(new)])


def test_two_rotations_in_a_row(package, key, chain):
    second, third = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    longer = appended(chain, "key.rotated", {"from": fingerprint_of(key), "to": fingerprint_of(second)}, "case")
    longer = appended(longer, "key.rotated", {"from": fingerprint_of(second), "to": fingerprint_of(third)}, "case")
    ledger_file(package).write_bytes(b"".join(line_of(entry) for entry in longer))
    checkpoints = [
        sign(key, longer, 7, "2024-02-04T00:00:00.000000Z"),
        sign(second, longer, 8, "2024-02-05T00:00:00.000000Z"),
        sign(third, longer, 8, "2024-02-06T00:00:00.000000Z"),
    ]
    checkpoints_file(package).write_text(json.dumps(checkpoints))
    (data_of(package) / "public-keys" / "second.pem").write_bytes(pem_of(second))
    (data_of(package) / "public-keys" / "third.pem").write_bytes(pem_of(third))
    agree(package, 0, fingerprints=[fingerprint_of(key)])
    agree(package, 0, fingerprints=[fingerprint_of(third)])  # back along both hand-overs


# --- Section 8a: trusted timestamps, with tokens of a real TSA on loopback --------------------------

needs_openssl = pytest.mark.skipif(not openssl_available(), reason="needs openssl with the ts command")
CHECKPOINT_PREFIX = b"attest-checkpoint/v1\n"


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    with LoopbackTSA(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


@pytest.fixture(scope="module")
def other_tsa(tmp_path_factory):
    with LoopbackTSA(tmp_path_factory.mktemp("other-tsa"), name="Other TSA") as authority:
        yield authority


def now_text(offset: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) + offset).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signed_now(bag: Path, private: Ed25519PrivateKey, entries: list[dict], offset=timedelta(0), sizes=(2, 4, 6)):
    """The checkpoints re-signed at `offset` from now (a second apart, in size order); returns them."""
    signed = [
        sign(private, entries, size, now_text(offset - timedelta(seconds=len(sizes) - n)))
        for n, size in enumerate(sizes)
    ]
    checkpoints_file(bag).write_text(json.dumps(signed, indent=2))
    return signed


def checkpoint_message(checkpoint: dict) -> bytes:
    """Section 8: the domain prefix and the canonical checkpoint without its signature."""
    return CHECKPOINT_PREFIX + ledger.canonical_json({k: v for k, v in checkpoint.items() if k != "signature"})


def token_for(authority: LoopbackTSA, message: bytes, algorithm=None) -> bytes:
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    query = TimestampRequestBuilder().data(message).hash_algorithm(algorithm or HashAlgorithm.SHA256).build()
    return authority.reply(query.as_bytes())


def put_token(bag: Path, der: bytes, case_stem: str = CASE, name: str | None = None) -> Path:
    folder = data_of(bag) / "timestamps" / case_stem
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{hashlib.sha256(der).hexdigest()}.tsr")
    path.write_bytes(der)
    return path


def stamped(bag: Path, private, entries, authority, offset=timedelta(0), which=-1) -> dict:
    """Checkpoints signed `offset` from now and a token of `authority` for checkpoint `which`."""
    checkpoint = signed_now(bag, private, entries, offset)[which]
    put_token(bag, token_for(authority, checkpoint_message(checkpoint)))
    return checkpoint


@needs_openssl
def test_a_valid_token_anchors_up_to_its_checkpoint(package, key, chain, tsa):
    stamped(package, key, chain, tsa)
    agree(package, 0, tsa_certs=[tsa.ca_cert])
    agree(package, 2)  # tokens without --tsa-cert are counted, not anchors
    agree(package, 0, tsa_certs=[tsa.ca_cert], heads=[f"4:{chain[3]['hash']}"])


@needs_openssl
def test_a_token_of_a_checkpoint_before_the_files_were_recorded(package, key, chain, tsa):
    """Section 11: the photo (5) and the dossier (6) are recorded after the token's checkpoint of size 4."""
    stamped(package, key, chain, tsa, which=1)
    agree(package, 2, tsa_certs=[tsa.ca_cert])
    agree(package, 0, tsa_certs=[tsa.ca_cert], heads=[f"6:{chain[5]['hash']}"])


@needs_openssl
def test_tokens_of_every_checkpoint(package, key, chain, tsa):
    for checkpoint in signed_now(package, key, chain):
        put_token(package, token_for(tsa, checkpoint_message(checkpoint)))
    agree(package, 0, tsa_certs=[tsa.ca_cert])
    agree(package, 0, tsa_certs=[tsa.ca_cert, tsa.ca_cert])


@needs_openssl
def test_the_ca_of_another_tsa(package, key, chain, tsa, other_tsa):
    stamped(package, key, chain, tsa)
    agree(package, 2, tsa_certs=[other_tsa.ca_cert])
    agree(package, 0, tsa_certs=[other_tsa.ca_cert, tsa.ca_cert])


@needs_openssl
def test_the_tsa_certificate_instead_of_its_root(package, key, chain, tsa):
    """Section 8a: 'a TSA certificate alone is not accepted as a root by common libraries'."""
    stamped(package, key, chain, tsa)
    agree(package, 2, tsa_certs=[tsa.tsa_cert])


@needs_openssl
def test_the_root_certificate_in_der(package, key, chain, tsa, tmp_path):
    import ssl

    stamped(package, key, chain, tsa)
    (tmp_path / "ca.der").write_bytes(ssl.PEM_cert_to_DER_cert(tsa.ca_cert.read_text()))
    agree(package, 0, tsa_certs=[tmp_path / "ca.der"])


@needs_openssl
def test_a_tsa_cert_that_is_no_certificate_is_a_usage_error(package, key, chain, tsa, tmp_path):
    stamped(package, key, chain, tsa)
    (tmp_path / "junk.pem").write_bytes(b"not a certificate")
    agree(package, 3, tsa_certs=[tmp_path / "junk.pem"])
    agree(package, 3, tsa_certs=[tmp_path / "missing.pem"])


@needs_openssl
def test_a_token_for_other_data(package, key, chain, tsa):
    signed_now(package, key, chain)
    put_token(package, token_for(tsa, b"some other data"))
    agree(package, 1, tsa_certs=[tsa.ca_cert])
    agree(package, 2)  # without --tsa-cert only names are checked


@needs_openssl
def test_a_token_for_a_checkpoint_that_is_not_shipped(package, key, chain, tsa):
    signed_now(package, key, chain)
    forged = sign(key, chain, 5, now_text())
    put_token(package, token_for(tsa, checkpoint_message(forged)))
    agree(package, 1, tsa_certs=[tsa.ca_cert])


@needs_openssl
def test_a_token_over_sha512(package, key, chain, tsa):
    """Section 8a: the imprint's hash algorithm MUST be SHA-256."""
    from rfc3161_client import HashAlgorithm

    checkpoint = signed_now(package, key, chain)[-1]
    put_token(package, token_for(tsa, checkpoint_message(checkpoint), HashAlgorithm.SHA512))
    agree(package, 1, tsa_certs=[tsa.ca_cert])


@needs_openssl
@pytest.mark.parametrize("with_cert", [True, False], ids=["with---tsa-cert", "without"])
def test_a_misnamed_token(package, key, chain, tsa, with_cert):
    checkpoint = signed_now(package, key, chain)[-1]
    der = token_for(tsa, checkpoint_message(checkpoint))
    put_token(package, der, name=f"{hashlib.sha256(der + b'x').hexdigest()}.tsr")
    agree(package, 1, tsa_certs=[tsa.ca_cert] if with_cert else [])


@needs_openssl
def test_a_token_named_in_upper_case_hex(package, key, chain, tsa):
    checkpoint = signed_now(package, key, chain)[-1]
    der = token_for(tsa, checkpoint_message(checkpoint))
    put_token(package, der, name=f"{hashlib.sha256(der).hexdigest().upper()}.tsr")
    agree(package, 1, tsa_certs=[tsa.ca_cert])
    agree(package, 1)


@needs_openssl
@pytest.mark.parametrize("with_cert", [True, False], ids=["with---tsa-cert", "without"])
def test_a_token_in_the_folder_of_a_case_not_shipped(package, key, chain, tsa, with_cert):
    checkpoint = signed_now(package, key, chain)[-1]
    put_token(package, token_for(tsa, checkpoint_message(checkpoint)), case_stem="PGO-2024-0002")
    agree(package, 1, tsa_certs=[tsa.ca_cert] if with_cert else [])


@needs_openssl
@pytest.mark.parametrize("where", [f"timestamps/{CASE}/notes.txt", "timestamps/README", f"timestamps/{CASE}/sub/x.tsr"])
def test_a_stray_file_under_timestamps(package, key, chain, tsa, where):
    stamped(package, key, chain, tsa)
    path = data_of(package) / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"stray")
    agree(package, 1, tsa_certs=[tsa.ca_cert])
    agree(package, 1)


@needs_openssl
@pytest.mark.parametrize(
    ("minutes", "expected"), [(-10, 1), (10, 1), (-4, 0), (4, 0)], ids=["10-before", "10-after", "4-before", "4-after"]
)
def test_the_300_second_window(package, key, chain, tsa, minutes, expected):
    """Section 8a, check 4: genTime within 300 s either side of signed_at, else broken."""
    stamped(package, key, chain, tsa, offset=timedelta(minutes=minutes))
    agree(package, expected, tsa_certs=[tsa.ca_cert])
    agree(package, 2)  # without --tsa-cert the time is not checked


@needs_openssl
def test_a_backdated_token_of_another_tsa(package, key, chain, other_tsa, tsa):
    """A token that fails check 3 (another TSA's) and would fail check 4: see the module's report."""
    stamped(package, key, chain, other_tsa, offset=timedelta(minutes=-10))
    agree(package, 2, tsa_certs=[tsa.ca_cert])


@needs_openssl
@pytest.mark.parametrize(("with_cert", "expected"), [(True, 1), (False, 2)], ids=["with---tsa-cert", "without"])
def test_garbage_named_by_its_hash(package, key, chain, with_cert, expected, tsa):
    signed_now(package, key, chain)
    put_token(package, b"this is not a TimeStampResp")
    agree(package, expected, tsa_certs=[tsa.ca_cert] if with_cert else [])


@needs_openssl
@pytest.mark.parametrize("with_cert", [True, False], ids=["with---tsa-cert", "without"])
def test_a_symlinked_token(package, key, chain, tsa, tmp_path, with_cert):
    checkpoint = signed_now(package, key, chain)[-1]
    der = token_for(tsa, checkpoint_message(checkpoint))
    (tmp_path / "elsewhere.tsr").write_bytes(der)
    folder = data_of(package) / "timestamps" / CASE
    folder.mkdir(parents=True)
    (folder / f"{hashlib.sha256(der).hexdigest()}.tsr").symlink_to(tmp_path / "elsewhere.tsr")
    agree(package, 1, tsa_certs=[tsa.ca_cert] if with_cert else [])


@needs_openssl
def test_a_token_listed_in_files_json(package, key, chain, tsa):
    """A files.json path under timestamps/ names metadata (independent reading 13)."""
    stamped(package, key, chain, tsa)
    (path,) = (data_of(package) / "timestamps" / CASE).iterdir()
    relative = path.relative_to(data_of(package)).as_posix()
    raw = path.read_bytes()
    edit_manifest(
        package, lambda m: m.append({"path": relative, "sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)})
    )
    theirs, mine = both(package, tsa_certs=[tsa.ca_cert])
    assert theirs == mine


@needs_openssl
def test_a_token_of_another_tsa_for_other_data(package, key, chain, tsa, other_tsa):
    """Check 2 (the imprint) comes before check 3 (the chain): untrusted or not, it covers no checkpoint."""
    signed_now(package, key, chain)
    put_token(package, token_for(other_tsa, b"some other data"))
    agree(package, 1, tsa_certs=[tsa.ca_cert])


@needs_openssl
def test_a_token_of_the_other_case_in_this_cases_folder(package, key, chain, tsa):
    """Section 8a: the imprint must equal the hash of one of *the case's* checkpoints."""
    stamped(package, key, chain, tsa)
    add_case(package, key, OTHER, 6)
    other_stem = OTHER.replace("/", "_")
    (other_checkpoint,) = json.loads((data_of(package) / "checkpoints" / f"{other_stem}.json").read_text())
    put_token(package, token_for(tsa, checkpoint_message(other_checkpoint)))
    agree(package, 1, tsa_certs=[tsa.ca_cert])
    theirs, mine = both(package, heads=[f"{OTHER}:6:{build_chain(OTHER)[5]['hash']}"], tsa_certs=[tsa.ca_cert])
    assert theirs == mine
    assert theirs[1] == {CASE: BROKEN, OTHER: ANCHORED}


@needs_openssl
def test_a_token_of_the_other_case_in_its_own_folder(package, key, chain, tsa):
    stamped(package, key, chain, tsa)
    other_entries = add_case(package, key, OTHER, 6)
    other_stem = OTHER.replace("/", "_")
    other = ledger.sign_checkpoint(key, case=OTHER, size=6, head=other_entries[5]["hash"], signed_at=now_text())
    (data_of(package) / "checkpoints" / f"{other_stem}.json").write_text(json.dumps([other]))
    put_token(package, token_for(tsa, checkpoint_message(other)), case_stem=other_stem)
    theirs, mine = both(package, tsa_certs=[tsa.ca_cert])
    assert theirs == mine
    assert theirs[1] == {CASE: ANCHORED, OTHER: ANCHORED}


@needs_openssl
def test_an_empty_timestamps_folder(package, key, chain):
    signed_now(package, key, chain)
    (data_of(package) / "timestamps" / CASE).mkdir(parents=True)
    agree(package, 2)


@needs_openssl
def test_a_file_in_place_of_the_timestamps_folder(package, key, chain):
    signed_now(package, key, chain)
    (data_of(package) / "timestamps").mkdir()
    (data_of(package) / "timestamps" / CASE).write_bytes(b"")
    assert independent.verify(package)[0] == 1
    agree(package, 1)
