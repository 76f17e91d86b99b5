#!/usr/bin/env python3
"""Verify an Attest evidence package offline: custody ledgers, signed checkpoints, file fixity.

This is the standalone verifier of the specification "Attest custody ledger format, version 1"
(docs/custody-format.md in the Attest source). It re-implements that specification with the Python
standard library (3.9 or later) and the `cryptography` package for Ed25519, and imports nothing else.

    python verify.py BAG_DIR [--head SIZE:SHA256] [--key PUBLIC_KEY.pem]

BAG_DIR/data/ holds ledger/<CASE>.jsonl, checkpoints/<CASE>.json, public-keys/*.pem and files.json.
Prints one line per case, "CASE: intact (…)" or "CASE: BROKEN - <first problem>".
Exit status: 0 when everything is intact, 1 when anything is broken, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key
except ImportError:  # main() refuses to run: signatures are never skipped
    Ed25519PublicKey = None

VERSION = 1
GENESIS = "0" * 64
EVENT_DOMAIN = b"attest-custody-event/v1\n"
CHECKPOINT_DOMAIN = b"attest-checkpoint/v1\n"
MAX_SAFE_INTEGER = 2**53 - 1
EVENT_FIELDS = ("v", "case", "seq", "type", "subject", "actor", "occurred_at", "recorded_at", "corrects")
EVENT_FIELDS += ("payload", "prev")
CHECKPOINT_FIELDS = ("v", "case", "size", "head", "signed_at", "key", "signature")
HEX64 = re.compile(r"[0-9a-f]{64}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')
SURROGATE = re.compile("[\ud800-\udfff]")
CHUNK = 1024 * 1024


class Broken(Exception):
    """The first problem found: where (an event, a line, a checkpoint, a file) and why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")


class UsageError(Exception):
    pass


# --- Canonical JSON (specification: "Canonical JSON") --------------------------------------


def canonical(value: Any) -> bytes:
    """The one byte sequence of a JSON value: sorted keys, no whitespace, UTF-8, no floats."""
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError("an integer beyond +/-(2^53-1)")
        return str(int(value))
    if isinstance(value, str):
        if SURROGATE.search(value):
            raise ValueError("a string with a lone surrogate")
        return '"' + NEEDS_ESCAPE.sub(_escape, value) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise ValueError("an object key that is not a string")
        return "{" + ",".join(f"{_encode(key)}:{_encode(value[key])}" for key in sorted(value)) + "}"
    raise ValueError(f"a {type(value).__name__}: floats are not allowed (decimals travel as strings)")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _refuse_number(text: str) -> NoReturn:
    raise ValueError(f"the number {text} is not an integer (decimals travel as strings)")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def parse_json(data: bytes) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no floats, NaN or Infinity."""
    text = data.decode("utf-8")
    return json.loads(text, object_pairs_hook=_object, parse_float=_refuse_number, parse_constant=_refuse_number)


def event_hash(record: dict[str, Any]) -> str:
    """SHA-256 of the event domain prefix and the canonical record without its "hash"."""
    return hashlib.sha256(EVENT_DOMAIN + canonical({name: record[name] for name in EVENT_FIELDS})).hexdigest()


def key_id(public_key_raw: bytes) -> str:
    return hashlib.sha256(public_key_raw).hexdigest()[:16]


# --- The ledger ------------------------------------------------------------------------------


def verify_ledger(path: Path, case: str) -> dict[int, str]:
    """Check every line of one case's ledger in order; return {seq: hash} when all are intact."""
    *lines, rest = path.read_bytes().split(b"\n")
    hashes: dict[int, str] = {}
    prev = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            entry = parse_json(line)
            encoded = canonical(entry)
        except (ValueError, RecursionError) as exc:
            raise Broken(f"line {number}", f"not valid ledger JSON ({exc})") from None
        if encoded != line:
            raise Broken(f"line {number}", "not in canonical form")
        prev = check_event(entry, number, prev, case)
        hashes[number] = prev
    if rest:
        raise Broken(f"line {len(lines) + 1}", "not terminated by a newline")
    return hashes


def check_event(entry: Any, expected: int, prev: str, case: str) -> str:
    """One event against its predecessor; returns its hash."""
    if not isinstance(entry, dict):
        raise Broken(f"line {expected}", "not a JSON object")
    seq = entry.get("seq")
    where = f"event {seq}" if type(seq) is int else f"line {expected}"
    missing = [name for name in (*EVENT_FIELDS, "hash") if name not in entry]
    if missing:
        raise Broken(where, f"missing field(s) {', '.join(missing)}")
    unknown = sorted(set(entry) - {*EVENT_FIELDS, "hash"})
    if unknown:
        raise Broken(where, f"unknown field(s) {', '.join(unknown)}")
    if type(entry["v"]) is not int or entry["v"] != VERSION:
        raise Broken(where, f"format version {entry['v']!r} is not {VERSION}")
    if type(seq) is not int:
        raise Broken(where, "seq is not an integer")
    subject, actor = entry["subject"], entry["actor"]
    if not isinstance(subject, dict) or set(subject) != {"type", "id", "label"}:
        raise Broken(where, "subject must hold exactly type, id and label")
    if actor is not None and (not isinstance(actor, dict) or set(actor) != {"id", "name"}):
        raise Broken(where, "actor must be null or hold exactly id and name")
    if not isinstance(entry["payload"], dict):
        raise Broken(where, "payload is not an object")
    for name in ("prev", "hash"):
        if not (isinstance(entry[name], str) and HEX64.fullmatch(entry[name])):
            raise Broken(where, f"{name} is not 64 lowercase hex digits")
    if entry["case"] != case:
        raise Broken(where, f"belongs to case {entry['case']!r}, not {case!r}")
    if seq != expected:
        raise Broken(where, f"sequence number {seq} where {expected} was expected (events missing or out of order)")
    if entry["prev"] != prev:
        raise Broken(where, "its link to the previous event is broken (prev hash differs)")
    if event_hash(entry) != entry["hash"]:
        raise Broken(where, "its content does not match its hash (the event was altered)")
    return entry["hash"]


def head_problem(size: int, head: str, hashes: dict[int, str]) -> str | None:
    """None when the chain still holds `head` as its event number `size`."""
    if size == 0:
        return None if head == GENESIS else "size 0 must have the genesis head"
    if size not in hashes:
        return f"the ledger has {len(hashes)} events, fewer than {size} (events were removed)"
    if hashes[size] != head:
        return f"event {size} no longer has hash {head} (the chain was rewritten)"
    return None


# --- Checkpoints -----------------------------------------------------------------------------


def verify_checkpoints(path: Path, case: str, hashes: dict[int, str], keys: dict[str, Any]) -> int:
    """Every checkpoint: well-formed, signed by a trusted key, never shrinking, on the chain."""
    name = f"data/checkpoints/{file_stem(case)}.json"
    if not path.is_file():
        raise Broken(name, "missing (a case without checkpoints ships an empty list)")
    try:
        checkpoints = parse_json(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise Broken(name, f"not valid JSON ({exc})") from None
    if not isinstance(checkpoints, list):
        raise Broken(name, "not a JSON list")
    for number, checkpoint in enumerate(checkpoints, start=1):
        reason = checkpoint_shape_problem(checkpoint)
        if reason:
            raise Broken(f"{name} entry #{number}", reason)
    largest = 0
    for checkpoint in sorted(checkpoints, key=lambda item: item["signed_at"]):
        size = checkpoint["size"]
        where = f"checkpoint of size {size} signed {checkpoint['signed_at']}"
        if checkpoint["case"] != case:
            raise Broken(where, f"belongs to case {checkpoint['case']!r}")
        public_key = keys.get(checkpoint["key"])
        if public_key is None:
            raise Broken(where, f"signed with key {checkpoint['key']!r}, which is not a trusted key")
        message = CHECKPOINT_DOMAIN + canonical({field: checkpoint[field] for field in CHECKPOINT_FIELDS[:-1]})
        try:
            public_key.verify(base64.b64decode(checkpoint["signature"], validate=True), message)
        except (binascii.Error, ValueError, InvalidSignature):
            raise Broken(where, "the checkpoint signature does not verify") from None
        if size < largest:
            raise Broken(where, f"the ledger shrank: an earlier checkpoint had size {largest}")
        largest = size
        reason = head_problem(size, checkpoint["head"], hashes)
        if reason:
            raise Broken(where, reason)
    return len(checkpoints)


def checkpoint_shape_problem(checkpoint: Any) -> str | None:
    if not isinstance(checkpoint, dict):
        return "not a JSON object"
    missing = [name for name in CHECKPOINT_FIELDS if name not in checkpoint]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    if type(checkpoint["v"]) is not int or checkpoint["v"] != VERSION:
        return f"format version {checkpoint['v']!r} is not {VERSION}"
    if type(checkpoint["size"]) is not int or not 0 <= checkpoint["size"] <= MAX_SAFE_INTEGER:
        return "size is not a non-negative integer"
    if not isinstance(checkpoint["head"], str) or not HEX64.fullmatch(checkpoint["head"]):
        return "head is not 64 lowercase hex digits"
    if not isinstance(checkpoint["signed_at"], str) or not TIMESTAMP.fullmatch(checkpoint["signed_at"]):
        return "signed_at is not a timestamp like 2024-01-02T05:40:00.000000Z"
    if not all(isinstance(checkpoint[name], str) for name in ("case", "key", "signature")):
        return "case, key and signature must be strings"
    return None


def load_keys(paths: list[Path]) -> dict[str, Any]:
    """Trusted Ed25519 public keys (SPKI PEM) by key id."""
    keys = {}
    for path in paths:
        try:
            public_key = load_pem_public_key(path.read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            raise UsageError(f"{path}: not a readable PEM public key ({exc})") from None
        if not isinstance(public_key, Ed25519PublicKey):
            raise UsageError(f"{path}: not an Ed25519 public key")
        keys[key_id(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))] = public_key
    return keys


# --- Files -----------------------------------------------------------------------------------


def verify_files(data: Path) -> int:
    """Recompute the SHA-256 and size of every file that data/files.json lists."""
    try:
        manifest = parse_json((data / "files.json").read_bytes())
    except OSError:
        raise Broken("data/files.json", "missing or unreadable") from None
    except (ValueError, RecursionError) as exc:
        raise Broken("data/files.json", f"not valid JSON ({exc})") from None
    if not isinstance(manifest, list):
        raise Broken("data/files.json", "not a JSON list")
    for number, entry in enumerate(manifest, start=1):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and isinstance(entry.get("sha256"), str)
            and HEX64.fullmatch(entry["sha256"])
            and type(entry.get("size")) is int
        ):
            raise Broken(f"data/files.json entry #{number}", "needs path, sha256 (lowercase hex) and size")
        relative = entry["path"]
        parts = re.split(r"[/\\]", relative)
        if relative.startswith(("/", "\\")) or ":" in relative or any(p in ("", ".", "..") for p in parts):
            raise Broken(f"file {relative}", "the path must be relative and stay inside data/")
        path = data.joinpath(*parts)
        if not path.is_file():
            raise Broken(f"file {relative}", "the file is missing")
        digest, size = hashlib.sha256(), 0
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        if digest.hexdigest() != entry["sha256"]:
            raise Broken(f"file {relative}", f"its SHA-256 is {digest.hexdigest()}, not the recorded {entry['sha256']}")
        if size != entry["size"]:
            raise Broken(f"file {relative}", f"its size is {size} bytes, not the recorded {entry['size']}")
    return len(manifest)


# --- Command line ----------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (usage: python verify.py BAG_DIR [--head SIZE:SHA256] [--key PEM])")


def parse_heads(texts: list[str], cases: list[str]) -> dict[str, list[tuple[int, str]]]:
    """SIZE:SHA256 (or CASE:SIZE:SHA256 when the package holds several cases), by case."""
    heads: dict[str, list[tuple[int, str]]] = {case: [] for case in cases}
    for text in texts:
        fields = text.strip().split(":")
        if len(fields) not in (2, 3):
            raise UsageError(f"--head {text!r} is not SIZE:SHA256")
        size, head = fields[-2], fields[-1].lower()
        if not (re.fullmatch(r"[0-9]+", size) and HEX64.fullmatch(head)):
            raise UsageError(f"--head {text!r} is not SIZE:SHA256 (a decimal size, 64 hex digits)")
        if len(fields) == 2 and len(cases) > 1:
            raise UsageError(f"--head {text!r}: the package holds several cases, write CASE:SIZE:SHA256")
        target = fields[0] if len(fields) == 3 else cases[0]
        if target not in heads:
            raise UsageError(f"--head {text!r}: the package holds no case {target!r}")
        heads[target].append((int(size), head))
    return heads


def file_stem(case: str) -> str:
    """A reference's file name in the package: `/` is written `_` (section 11)."""
    return case.replace("/", "_")


def verify_case(data: Path, case: str, keys: dict[str, Any], heads: list[tuple[int, str]]) -> str:
    ledger = data / "ledger" / f"{file_stem(case)}.jsonl"
    if not ledger.is_file():
        raise Broken(f"data/ledger/{ledger.name}", "missing, though the package has checkpoints for the case")
    hashes = verify_ledger(ledger, case)
    checkpoints = verify_checkpoints(data / "checkpoints" / f"{file_stem(case)}.json", case, hashes, keys)
    for size, head in heads:
        reason = head_problem(size, head, hashes)
        if reason:
            raise Broken(f"published head {size}:{head}", reason)
    size = len(hashes)
    return f"{size} events, head {hashes[size] if size else GENESIS}, {checkpoints} checkpoints"


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="verify.py", description="Verify an Attest evidence package offline.")
    parser.add_argument("bag", metavar="BAG_DIR", help="the package folder (holding data/)")
    parser.add_argument("--head", action="append", default=[], metavar="SIZE:SHA256", help="a published head")
    parser.add_argument(
        "--key", action="append", default=[], type=Path, metavar="PEM",
        help="trust only these Ed25519 public keys instead of data/public-keys/*.pem",
    )  # fmt: skip
    try:
        args = parser.parse_args(argv)
        if Ed25519PublicKey is None:
            raise UsageError("the 'cryptography' package is needed to check signatures: pip install cryptography")
        data = Path(args.bag) / "data"
        names = [*(data / "ledger").glob("*.jsonl"), *(data / "checkpoints").glob("*.json")]
        cases = sorted({path.stem.replace("_", "/") for path in names})
        if not cases:
            raise UsageError(f"{data / 'ledger'} holds no <CASE>.jsonl: is {args.bag} an evidence package?")
        heads = parse_heads(args.head, cases)
        keys = load_keys(args.key or sorted((data / "public-keys").glob("*.pem")))
    except UsageError as exc:
        print(f"verify.py: {exc}", file=sys.stderr)
        return 2
    try:
        files: int | Broken = verify_files(data)
    except Broken as problem:
        files = problem
    intact = True
    for case in cases:
        try:
            summary = verify_case(data, case, keys, heads[case])
            if isinstance(files, Broken):
                raise files
        except Broken as problem:
            print(f"{case}: BROKEN - {problem}")
            intact = False
        else:
            print(f"{case}: intact ({summary}, {files} files)")
    return 0 if intact else 1


if __name__ == "__main__":
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(errors="backslashreplace")  # any console can show any message
    sys.exit(main())
