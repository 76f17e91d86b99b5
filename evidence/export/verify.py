#!/usr/bin/env python3
"""Verify an Attest evidence package offline: custody ledgers, signed checkpoints, file fixity.

This is the standalone verifier of the specification "Attest custody ledger format, version 1"
(docs/custody-format.md in the Attest source). It re-implements that specification with the Python
standard library (3.9 or later) and the `cryptography` package for Ed25519, and imports nothing else.

    python verify.py BAG_DIR [--head SIZE:SHA256] [--key-fingerprint HEX] [--key PUBLIC_KEY.pem]
                             [--tsa-cert TSA_CERTIFICATE.pem]

BAG_DIR/data/ holds ledger/<CASE>.jsonl, checkpoints/<CASE>.json, public-keys/*.pem, files.json,
case.json and the evidence files. One line per case, and the exit status, give the verdict:

    CASE: BROKEN - <first problem>                       exit 1
    CASE: INTACT BUT UNANCHORED (...)                    exit 2  consistent with itself, but nothing
          from outside the package vouches for it: a rewritten, re-signed package would look the same
    CASE: INTACT AND ANCHORED (...; anchors: ...)        exit 0  naming each anchor that held

Anchors come from outside the package: a head printed in the dossier or a filing (--head), the
SHA-256 fingerprint of the signing key printed in the dossier (--key-fingerprint), or a public key
obtained independently (--key), or an RFC 3161 timestamp in the package that verifies against a
Time-Stamp Authority's certificate you obtained from the TSA (--tsa-cert; this needs the package
rfc3161-client: pip install rfc3161-client). A usage error exits 3.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key
except ImportError:  # main() refuses to run: signatures are never skipped
    Ed25519PublicKey = None
try:  # optional and faster: used only where its output is the canonical form byte for byte (_fast_line)
    import orjson
except ImportError:
    orjson = None
else:
    ORJSON_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
try:  # only --tsa-cert needs it (section 8a): RFC 3161 is ASN.1, parsed by a maintained library
    import cryptography.x509
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response
except ImportError:
    decode_timestamp_response = None

VERSION = 1
GENESIS = "0" * 64
EVENT_DOMAIN = b"attest-custody-event/v1\n"
CHECKPOINT_DOMAIN = b"attest-checkpoint/v1\n"
MAX_SAFE_INTEGER = 2**53 - 1
EVENT_FIELDS = ("v", "case", "seq", "type", "subject", "actor", "occurred_at", "recorded_at", "corrects")
EVENT_FIELDS += ("payload", "prev")
CHECKPOINT_FIELDS = ("v", "case", "size", "head", "signed_at", "key", "signature")
HEX64 = re.compile(r"[0-9a-f]{64}")
KEY_ID = re.compile(r"[0-9a-f]{16}")
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")  # ASCII digits only
REFERENCE = re.compile(r"[A-Z0-9./-]+")  # a case reference's alphabet (section 11)
ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')
SURROGATE = re.compile("[\ud800-\udfff]")
ENTRY_KEYS = frozenset((*EVENT_FIELDS, "hash"))
SUBJECT_KEYS, ACTOR_KEYS = frozenset(("type", "id", "label")), frozenset(("id", "name"))
CHUNK = 1024 * 1024
BROKEN, UNANCHORED, USAGE = 1, 2, 3
UNANCHORED_HINT = "give the head (--head) and the key fingerprint (--key-fingerprint) that the dossier prints"
# The metadata beside the evidence files in data/; everything else must be listed in files.json.
METADATA = ("files.json", "case.json")
METADATA_FOLDERS = ("ledger", "checkpoints", "public-keys", "timestamps")
TOKEN_NAME = re.compile(r"timestamps/[A-Z0-9._-]+/[0-9a-f]{64}\.tsr")
TIMESTAMP_WINDOW = 300  # seconds: a token's time must lie this close to its checkpoint's signed_at
SHA256_OID = "2.16.840.1.101.3.4.2.1"


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


# What _fast_entry uses without orjson: json's C scanner and encoder, without per-object hooks.
_PLAIN_DECODER = json.JSONDecoder(parse_float=_refuse_number, parse_constant=_refuse_number)
_PLAIN_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_json(data: bytes) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no floats, NaN or Infinity."""
    text = data.decode("utf-8")
    return json.loads(text, object_pairs_hook=_object, parse_float=_refuse_number, parse_constant=_refuse_number)


def parse_strict_json(data: bytes) -> Any:
    """As strictly as a ledger line (section 7): also no integer beyond +/-(2^53-1), no lone surrogate."""
    value = parse_json(data)
    canonical(value)  # raises ValueError on what a ledger line could not hold
    return value


def _fast_entry(line: bytes) -> dict[str, Any] | None:
    """The object a ledger line holds when the line is already in canonical form, else None (the
    exact path, parse_json and canonical, then decides and says why).

    The line is parsed without the exact path's hooks (by orjson when installed, else by json) and
    re-encoded: by orjson, compact and key-sorted, or by json.dumps(sort_keys=True, separators=(",",
    ":"), ensure_ascii=False). For a value holding no float and no integer beyond +/-(2^53-1), each
    gives the canonical form byte for byte (section 2; the Attest tests check both against canonical()
    on the specification's vectors and on generated values). So when the re-encoding is the line,
    the line is the canonical encoding of that value, and parse_json would read the same value from
    it: spaces, other escapes, duplicate keys, -0, lone surrogates all make the re-encoding differ
    or fail."""
    try:
        if orjson is not None:
            entry = orjson.loads(line)
            encoded = orjson.dumps(entry, option=ORJSON_CANONICAL) if type(entry) is dict else None
        else:
            entry = _PLAIN_DECODER.decode(line.decode("utf-8"))
            encoded = _PLAIN_ENCODER.encode(entry).encode("utf-8") if type(entry) is dict else None
    except (ValueError, TypeError, RecursionError):  # orjson's errors are ValueError and TypeError
        return None
    if encoded != line:
        return None
    # orjson already refused integers beyond 53 bits (OPT_STRICT_INTEGER); json did not.
    return None if (_holds_float(entry) if orjson is not None else _unusual_number(entry)) else entry


def _holds_float(value: dict[str, Any] | list[Any]) -> bool:
    """Whether a parsed object or array holds a float anywhere."""
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is float or ((kind is dict or kind is list) and _holds_float(item)):
            return True
    return False


def _unusual_number(value: dict[str, Any] | list[Any]) -> bool:
    """Whether a parsed object or array holds a float, or an integer beyond +/-(2^53-1), anywhere."""
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return True
        elif kind is float or ((kind is dict or kind is list) and _unusual_number(item)):
            return True
    return False


def _record_bytes(line: bytes, digest: str) -> bytes | None:
    """canonical() of the record of a canonical line whose shape check_event verified: the line
    without its "hash" member. Members of a canonical object are joined by commas, "hash" is not the
    first, and its first occurrence is the top-level one: before it come only "actor" (null or id and
    name), "case" and "corrects", and no string of canonical JSON holds `,"` (a quote in it is \\")."""
    member = b',"hash":"' + digest.encode("ascii") + b'"'
    start = line.find(member[:9])
    if line[start : start + len(member)] != member:  # cannot happen for such a line: then encode it
        return None
    return line[:start] + line[start + len(member) :]


def event_hash(record: dict[str, Any]) -> str:
    """SHA-256 of the event domain prefix and the canonical record without its "hash"."""
    return hashlib.sha256(EVENT_DOMAIN + canonical({name: record[name] for name in EVENT_FIELDS})).hexdigest()


def key_id(public_key_raw: bytes) -> str:
    return fingerprint(public_key_raw)[:16]


def fingerprint(public_key_raw: bytes) -> str:
    """A key's full fingerprint: the SHA-256 of its 32 raw bytes, as the dossier prints it."""
    return hashlib.sha256(public_key_raw).hexdigest()


# --- The ledger ------------------------------------------------------------------------------


class ChainHashes:
    """{seq: hash} of a verified ledger, keeping only the events asked for (checkpoints, published
    heads) and the last one, so that memory does not grow with the ledger (keep=None keeps all)."""

    def __init__(self, keep: set[int] | frozenset[int] | None = None) -> None:
        self.keep, self.size, self.kept = keep, 0, {}

    def add(self, seq: int, digest: str) -> None:
        self.size = seq
        self.last = digest
        if self.keep is None or seq in self.keep:
            self.kept[seq] = digest

    def __len__(self) -> int:
        return self.size

    def __contains__(self, seq: object) -> bool:
        return type(seq) is int and 1 <= seq <= self.size

    def __getitem__(self, seq: int) -> str:
        if seq == self.size and seq:
            return self.last
        return self.kept[seq]  # a KeyError here means `keep` missed a size that is looked up


def verify_ledger(
    path: Path,
    case: str,
    recorded: dict[str, tuple[str, int]] | None = None,
    rotations: list[tuple[int, str, str]] | None = None,
    keep: set[int] | frozenset[int] | None = None,
) -> ChainHashes:
    """Check every line of one case's ledger in order, reading it line by line; return its hashes
    ({seq: hash} of the sizes in `keep`, and of the last event) when all are intact.

    `recorded`, when given, collects the SHA-256 of every file the events record (section 10), with
    the case and number of the first event that records it; `rotations` the key.rotated events as
    (seq, from fingerprint, to fingerprint)."""
    hashes = ChainHashes(keep)
    prev = GENESIS
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw[-1:] != b"\n":  # only the last part of a file can lack it
                raise Broken(f"line {number}", "not terminated by a newline")
            line = raw[:-1]
            entry = _fast_entry(line)
            if entry is not None:
                prev = check_event(entry, number, prev, case, line)
            else:
                try:
                    entry = parse_json(line)
                    encoded = canonical(entry)
                except (ValueError, RecursionError) as exc:
                    raise Broken(f"line {number}", f"not valid ledger JSON ({exc})") from None
                if encoded != line:
                    raise Broken(f"line {number}", "not in canonical form")
                prev = check_event(entry, number, prev, case)
            hashes.add(number, prev)
            if recorded is not None and entry["type"] in RECORDING_TYPES:
                for sha256 in recorded_files(entry):
                    recorded.setdefault(sha256, (case, number))
            if rotations is not None and entry["type"] == "key.rotated":
                old, new = entry["payload"].get("from"), entry["payload"].get("to")
                if isinstance(old, str) and isinstance(new, str) and HEX64.fullmatch(old) and HEX64.fullmatch(new):
                    rotations.append((number, old, new))
    return hashes


# The payload fields that record a file's SHA-256 (section 10): event type -> (state key, field).
FILE_HASH_FIELDS = {
    "photo.added": ("photo", "sha256"),
    "file.kept": ("file", "sha256"),
    "source.added": ("source", "archived_sha256"),
    "source.updated": ("source", "archived_sha256"),
    "trace.letter": ("letter", "sha256"),
    "trace.answered": ("response", "sha256"),
}


RECORDING_TYPES = frozenset((*FILE_HASH_FIELDS, "package.sealed"))


def recorded_files(entry: dict[str, Any]) -> list[str]:
    """The SHA-256 of each file an event records: a photo, a kept file, a source's archived copy, or
    the files a package.sealed event lists."""
    payload = entry["payload"]
    if entry["type"] == "package.sealed":
        files = payload.get("files")
        return [item["sha256"] for item in files if isinstance(item, dict) and isinstance(item.get("sha256"), str)] \
            if isinstance(files, list) else []  # fmt: skip
    key, field = FILE_HASH_FIELDS.get(entry["type"], (None, None))
    state = payload.get(key) if key else None
    value = state.get(field) if isinstance(state, dict) else None
    return [value] if isinstance(value, str) and HEX64.fullmatch(value) else []


def check_event(entry: Any, expected: int, prev: str, case: str, line: bytes | None = None) -> str:
    """One event against its predecessor; returns its hash. `line`: the canonical line it was read
    from, when _fast_entry accepted it (the record's bytes are then cut from it, not encoded again)."""
    if not isinstance(entry, dict):
        raise Broken(f"line {expected}", "not a JSON object")
    seq = entry.get("seq")
    where = f"event {seq}" if type(seq) is int else f"line {expected}"
    if entry.keys() != ENTRY_KEYS:  # the usual case costs one comparison
        missing = [name for name in (*EVENT_FIELDS, "hash") if name not in entry]
        if missing:
            raise Broken(where, f"missing field(s) {', '.join(missing)}")
        raise Broken(where, f"unknown field(s) {', '.join(sorted(set(entry) - ENTRY_KEYS))}")
    if type(entry["v"]) is not int or entry["v"] != VERSION:
        raise Broken(where, f"format version {entry['v']!r} is not {VERSION}")
    if type(seq) is not int or seq < 1:
        raise Broken(where, "seq is not an integer of at least 1")
    subject, actor = entry["subject"], entry["actor"]
    if not isinstance(subject, dict) or subject.keys() != SUBJECT_KEYS:
        raise Broken(where, "subject must hold exactly type, id and label")
    if actor is not None and (not isinstance(actor, dict) or actor.keys() != ACTOR_KEYS):
        raise Broken(where, "actor must be null or hold exactly id and name")
    if not isinstance(entry["payload"], dict):
        raise Broken(where, "payload is not an object")
    reason = field_type_problem(entry)
    if reason:
        raise Broken(where, reason)
    # `prev` equal to the previous hash (or the genesis) is 64 lowercase hex digits already.
    if entry["prev"] != prev and not (isinstance(entry["prev"], str) and HEX64.fullmatch(entry["prev"])):
        raise Broken(where, "prev is not 64 lowercase hex digits")
    if not (isinstance(entry["hash"], str) and HEX64.fullmatch(entry["hash"])):
        raise Broken(where, "hash is not 64 lowercase hex digits")
    if entry["case"] != case:
        raise Broken(where, f"belongs to case {entry['case']!r}, not {case!r}")
    if seq != expected:
        raise Broken(where, f"sequence number {seq} where {expected} was expected (events missing or out of order)")
    if entry["prev"] != prev:
        raise Broken(where, "its link to the previous event is broken (prev hash differs)")
    record = None if line is None else _record_bytes(line, entry["hash"])
    digest = event_hash(entry) if record is None else hashlib.sha256(EVENT_DOMAIN + record).hexdigest()
    if digest != entry["hash"]:
        raise Broken(where, "its content does not match its hash (the event was altered)")
    return entry["hash"]


def field_type_problem(entry: dict[str, Any]) -> str | None:
    """The member types of section 4 that the shape checks above leave open."""
    subject, actor, corrects, seq = entry["subject"], entry["actor"], entry["corrects"], entry["seq"]
    if not isinstance(entry["case"], str) or not isinstance(entry["type"], str) or not entry["type"]:
        return "case and type must be strings (type not empty)"
    if not (isinstance(subject["type"], str) and type(subject["id"]) is int and isinstance(subject["label"], str)):
        return "subject's type and label must be strings and its id an integer"
    if actor is not None and not (type(actor["id"]) is int and isinstance(actor["name"], str)):
        return "actor's id must be an integer and its name a string"
    for name in ("occurred_at", "recorded_at"):
        if not (isinstance(entry[name], str) and TIMESTAMP.fullmatch(entry[name])):
            return f"{name} is not a timestamp like 2024-01-02T05:40:00.000000Z"
    if entry["type"] == "event.corrected":
        if type(corrects) is not int or not 1 <= corrects < seq:
            return "an event.corrected must name an earlier event of the ledger in corrects"
    elif corrects is not None:
        return "corrects must be null except in an event.corrected"
    return None


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


def verify_checkpoints(
    path: Path,
    case: str,
    hashes: dict[int, str],
    keys: dict[str, Any],
    candidates: dict[str, Any] | None = None,
    rotations: list[tuple[int, str, str]] = (),
    raw: bytes | None = None,
) -> tuple[list[dict[str, Any]], dict[str, tuple[int, Any]]]:
    """Every checkpoint: well-formed, signed by a trusted key, never shrinking, on the chain.

    A key of `candidates` (the package's own keys) becomes trusted when a key.rotated event that a
    trusted key's checkpoint already covers names its fingerprint (section 8, key continuity).
    `raw` is the file's content when already read. Returns the checkpoints and, for each key id that
    signed, the largest size it signed and the key."""
    name = f"data/checkpoints/{file_stem(case)}.json"
    if raw is None and not path.is_file():
        raise Broken(name, "missing (a case without checkpoints ships an empty list)")
    try:
        checkpoints = parse_strict_json(path.read_bytes() if raw is None else raw)
    except (ValueError, RecursionError) as exc:
        raise Broken(name, f"not valid JSON ({exc})") from None
    if not isinstance(checkpoints, list):
        raise Broken(name, "not a JSON list")
    for number, checkpoint in enumerate(checkpoints, start=1):
        reason = checkpoint_shape_problem(checkpoint)
        if reason:
            raise Broken(f"{name} entry #{number}", reason)
    largest = 0
    trusted = with_rotations(checkpoints, hashes, keys, candidates, rotations) if candidates else dict(keys)
    signers: dict[str, tuple[int, Any]] = {}
    for checkpoint in sorted(checkpoints, key=lambda item: (item["signed_at"], item["size"])):  # section 8
        size = checkpoint["size"]
        where = f"checkpoint of size {size} signed {checkpoint['signed_at']}"
        if checkpoint["case"] != case:
            raise Broken(where, f"belongs to case {checkpoint['case']!r}")
        public_key = trusted.get(checkpoint["key"])
        if public_key is None:
            raise Broken(where, f"signed with key {checkpoint['key']!r}, which is not a trusted key" + (
                " (no key.rotated event under a trusted key's checkpoint names it)" if candidates else ""))  # fmt: skip
        if not signature_holds(checkpoint, public_key):
            raise Broken(where, "the checkpoint signature does not verify")
        if size < largest:
            raise Broken(where, f"the ledger shrank: an earlier checkpoint had size {largest}")
        largest = size
        reason = head_problem(size, checkpoint["head"], hashes)
        if reason:
            raise Broken(where, reason)
        signers[checkpoint["key"]] = (max(size, signers.get(checkpoint["key"], (0, None))[0]), public_key)
    return checkpoints, signers


def checkpoint_sizes(raw: bytes | None) -> set[int]:
    """The sizes a checkpoints file names, read leniently: verify_checkpoints judges the file."""
    try:
        checkpoints = parse_strict_json(raw) if raw is not None else []
    except (ValueError, RecursionError):
        return set()
    if not isinstance(checkpoints, list):
        return set()
    return {item["size"] for item in checkpoints if isinstance(item, dict) and type(item.get("size")) is int}


def signature_holds(checkpoint: dict[str, Any], public_key: Any) -> bool:
    message = CHECKPOINT_DOMAIN + canonical({field: checkpoint[field] for field in CHECKPOINT_FIELDS[:-1]})
    try:
        public_key.verify(base64.b64decode(checkpoint["signature"], validate=True), message)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def with_rotations(checkpoints: list[dict[str, Any]], hashes: dict[int, str], keys: dict[str, Any],
                   candidates: dict[str, Any], rotations: list[tuple[int, str, str]]) -> dict[str, Any]:  # fmt: skip
    """The trusted keys and the package's keys a key.rotated event links to them (section 8): when a
    trusted key signed a checkpoint that covers an event handing over from or to another key, that
    key is trusted too, forwards (old to new) and backwards (new to old)."""
    signed: dict[str, int] = {}  # candidate key id -> the largest size it validly signed on this chain
    for checkpoint in checkpoints:
        key = candidates.get(checkpoint["key"]) or keys.get(checkpoint["key"])
        on_chain = not head_problem(checkpoint["size"], checkpoint["head"], hashes)
        if key is not None and on_chain and signature_holds(checkpoint, key):
            signed[checkpoint["key"]] = max(checkpoint["size"], signed.get(checkpoint["key"], 0))
    trusted = dict(keys)
    by_fingerprint = {fingerprint(raw_key(key)): (kid, key) for kid, key in {**candidates, **keys}.items()}
    grew = True
    while grew:
        grew = False
        for seq, old, new in rotations:
            for known, other in ((old, new), (new, old)):
                kid, key = by_fingerprint.get(known, (None, None))
                if kid in trusted and signed.get(kid, 0) >= seq and other in by_fingerprint:
                    other_kid, other_key = by_fingerprint[other]
                    if other_kid not in trusted:
                        trusted[other_kid], grew = other_key, True
    return trusted


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
    unknown = sorted(set(checkpoint) - set(CHECKPOINT_FIELDS))
    if unknown:
        return f"unknown field(s) {', '.join(unknown)}"
    if not KEY_ID.fullmatch(checkpoint["key"]):
        return "key is not 16 lowercase hex digits"
    if not canonical_base64(checkpoint["signature"], 64):
        return "signature is not the canonical base64 of 64 bytes (88 characters, = padded)"
    return None


def canonical_base64(text: str, length: int) -> bool:
    """Standard base64 with padding, exactly as it encodes `length` bytes: one text per signature."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == length and base64.b64encode(raw).decode("ascii") == text


# --- Trusted timestamps (section 8a) -----------------------------------------------------------


def verify_timestamps(
    folder: Path, checkpoints: list[dict[str, Any]], tsa_certs: list[Any]
) -> tuple[int, list[tuple[int, str]]]:
    """The tokens of data/timestamps/<CASE>/: each named by its SHA-256. With TSA certificates, each
    is read: it must cover one of the case's checkpoints; one that chains to a given certificate and
    lies within TIMESTAMP_WINDOW of its checkpoint's time anchors that checkpoint. Returns how many
    tokens there are and, for each that held, (checkpoint size, description)."""
    if not (folder.exists() or folder.is_symlink()):
        return 0, []
    if folder.is_symlink() or not folder.is_dir():
        raise Broken(f"data/timestamps/{folder.name}", "not a folder of tokens")
    paths = sorted(folder.iterdir())
    by_imprint = {
        hashlib.sha256(CHECKPOINT_DOMAIN + canonical({f: c[f] for f in CHECKPOINT_FIELDS[:-1]})).digest(): c
        for c in checkpoints
    }
    held = []
    for path in paths:
        where = f"data/timestamps/{folder.name}/{path.name}"
        if path.is_symlink() or not path.is_file():
            raise Broken(where, "not a regular file")
        raw = path.read_bytes()
        if path.name != f"{hashlib.sha256(raw).hexdigest()}.tsr":
            raise Broken(where, "a token's name must be the SHA-256 of its bytes, then .tsr")
        if not tsa_certs:
            continue
        try:
            reply = decode_timestamp_response(raw)
            imprint = reply.tst_info.message_imprint
        except ValueError:
            raise Broken(where, "not an RFC 3161 timestamp reply") from None
        if imprint.hash_algorithm.dotted_string != SHA256_OID:
            raise Broken(where, "its message imprint is not SHA-256")
        checkpoint = by_imprint.get(imprint.message)
        if checkpoint is None:
            raise Broken(where, "it timestamps data that is none of this case's checkpoints")
        trusted = None
        for cert in tsa_certs:
            try:
                VerifierBuilder().add_root_certificate(cert).build().verify(reply, imprint.message)
            except (VerificationError, ValueError):
                continue
            trusted = cert
            break
        if trusted is None:
            continue  # another TSA's, or no TSA's: not an anchor, and no proof of tampering either
        stamped = reply.tst_info.gen_time
        stamped_text = stamped.strftime("%Y-%m-%dT%H:%M:%SZ")
        utc = timezone.utc  # noqa: UP017 (verify.py runs on Python 3.9, which has no datetime.UTC)
        claimed = datetime.strptime(checkpoint["signed_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=utc)
        offset = ((stamped if stamped.tzinfo else stamped.replace(tzinfo=utc)) - claimed).total_seconds()
        if offset > TIMESTAMP_WINDOW:
            raise Broken(where, f"the TSA's time {stamped_text} is after the checkpoint's claimed time "
                                f"{checkpoint['signed_at']}: it does not vouch for that time")  # fmt: skip
        if offset < -TIMESTAMP_WINDOW:
            raise Broken(where, f"the TSA's time {stamped_text} is before the checkpoint's claimed time "
                                f"{checkpoint['signed_at']}")  # fmt: skip
        name = signer_subject(reply) or trusted.subject.rfc4514_string()
        held.append((checkpoint["size"], f"timestamp by {name} at {stamped_text} of events 1-{checkpoint['size']}"))
    return len(paths), held


def signer_subject(reply: Any) -> str | None:
    """The subject of the certificate that signed a token (carried in the token)."""
    signer = next(iter(reply.signed_data.signer_infos))
    for der in reply.signed_data.certificates:
        cert = cryptography.x509.load_der_x509_certificate(der)
        if cert.issuer == signer.issuer and cert.serial_number == signer.serial_number:
            return cert.subject.rfc4514_string()
    return None


def load_tsa_certs(paths: list[Path]) -> list[Any]:
    """The certificates of the TSAs the reader trusts (PEM or DER), obtained from the TSA, not the package."""
    if paths and decode_timestamp_response is None:
        raise UsageError("--tsa-cert needs the 'rfc3161-client' package: pip install rfc3161-client")
    certs = []
    for path in paths:
        try:
            raw = path.read_bytes()
            x509 = cryptography.x509
            certs.append(
                (x509.load_pem_x509_certificate if b"-----BEGIN" in raw else x509.load_der_x509_certificate)(raw)
            )
        except (OSError, ValueError) as exc:
            raise UsageError(f"--tsa-cert {path}: not a readable X.509 certificate ({exc})") from None
    return certs


def load_keys(paths: list[Path], error: type[Exception] = UsageError) -> dict[str, Any]:
    """Ed25519 public keys (SPKI PEM) by key id. A bad key given on the command line is a usage
    error; one shipped in the package makes the package broken (error=Broken)."""
    keys = {}
    for path in paths:
        try:
            public_key = load_pem_public_key(path.read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            problem = f"not a readable PEM public key ({exc})"
        else:
            problem = None if isinstance(public_key, Ed25519PublicKey) else "not an Ed25519 public key"
        if problem:
            raise (
                Broken(f"data/public-keys/{path.name}", problem)
                if error is Broken
                else UsageError(f"{path}: {problem}")
            )
        keys[key_id(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))] = public_key
    return keys


# --- Files -----------------------------------------------------------------------------------


def verify_files(
    data: Path, recorded: dict[str, tuple[str, int]] | None = None, stems: frozenset[str] | set[str] = frozenset()
) -> dict[str, str]:
    """Recompute the SHA-256 and size of every file that data/files.json lists, and check that the
    ledger records that SHA-256 (when `recorded` is given) and that data/ holds nothing unlisted.

    Returns {path: sha256} of the evidence files and of case.json when shipped."""
    try:
        manifest = parse_strict_json((data / "files.json").read_bytes())
    except OSError:
        raise Broken("data/files.json", "missing or unreadable") from None
    except (ValueError, RecursionError) as exc:
        raise Broken("data/files.json", f"not valid JSON ({exc})") from None
    if not isinstance(manifest, list):
        raise Broken("data/files.json", "not a JSON list")
    listed: dict[str, str] = {}
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
        parts = relative.split("/")
        if "\\" in relative or relative.startswith("/") or ":" in relative or any(p in ("", ".", "..") for p in parts):
            raise Broken(f"file {relative}", "the path must be relative, use / and stay inside data/")
        if relative in listed:
            raise Broken(f"file {relative}", "listed twice in data/files.json")
        if parts[0] in METADATA_FOLDERS or relative in METADATA:
            raise Broken(f"file {relative}", "a package's own metadata is not an evidence file")
        listed[relative] = entry["sha256"]
        path = data.joinpath(*parts)
        if path.is_symlink() or not path.is_file():
            raise Broken(f"file {relative}", "the file is missing" if not path.is_symlink() else "a symbolic link")
        if recorded is not None and entry["sha256"] not in recorded:
            raise Broken(f"file {relative}", f"the ledger records no file with SHA-256 {entry['sha256']}")
        digest, size = hashlib.sha256(), 0
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        if digest.hexdigest() != entry["sha256"]:
            raise Broken(f"file {relative}", f"its SHA-256 is {digest.hexdigest()}, not the recorded {entry['sha256']}")
        if size != entry["size"]:
            raise Broken(f"file {relative}", f"its size is {size} bytes, not the recorded {entry['size']}")
    if recorded is not None:
        case_record = check_case_record(data, recorded)
        for path in sorted(data.rglob("*")):
            relative = path.relative_to(data).as_posix()
            if path.is_symlink():
                raise Broken(f"file {relative}", "a symbolic link")
            if not (path.is_file() or path.is_dir()):
                raise Broken(f"file {relative}", "not a regular file")
            if path.is_file() and relative not in listed and relative not in METADATA \
                    and relative.split("/")[0] not in METADATA_FOLDERS:  # fmt: skip
                raise Broken(f"file {relative}", "not listed in data/files.json")
            if (
                path.is_file()
                and relative.startswith("timestamps/")
                and not (TOKEN_NAME.fullmatch(relative) and relative.split("/")[1] in stems)
            ):
                raise Broken(f"file {relative}", "data/timestamps/ holds only <CASE_REF>/<sha256>.tsr of its cases")
        if case_record:
            return {**listed, "case.json": case_record}
    return listed


def check_case_record(data: Path, recorded: dict[str, tuple[str, int]]) -> str | None:
    """data/case.json, when shipped, must be the one a package.sealed event recorded; its SHA-256."""
    path = data / "case.json"
    if not path.is_file():
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest not in recorded:
        raise Broken("file case.json", f"the ledger records no file with SHA-256 {digest} (the record was changed)")
    return digest


# --- Command line ----------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(
            f"{message} (usage: python verify.py BAG_DIR [--head SIZE:SHA256] [--key-fingerprint HEX] [--key PEM]"
            " [--tsa-cert PEM])"
        )


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


def verify_case(data: Path, case: str, keys: dict[str, Any], heads: list[tuple[int, str]],
                recorded: dict[str, tuple[str, int]], candidates: dict[str, Any] | None = None,
                tsa_certs: list[Any] = (),
                ) -> tuple[str, int, dict[str, tuple[int, Any]], list[tuple[int, str]]]:  # fmt: skip
    """The case's ledger, checkpoints, timestamps and published heads; returns a summary, the size,
    the signers and the timestamps that held."""
    ledger = data / "ledger" / f"{file_stem(case)}.jsonl"
    if not ledger.is_file():
        raise Broken(f"data/ledger/{ledger.name}", "missing, though the package has checkpoints for the case")
    rotations: list[tuple[int, str, str]] = []
    checkpoints_path = data / "checkpoints" / f"{file_stem(case)}.json"
    raw = checkpoints_path.read_bytes() if checkpoints_path.is_file() else None
    # Only the hashes of the sizes that checkpoints and published heads name are kept.
    keep = {size for size, _head in heads} | checkpoint_sizes(raw)
    hashes = verify_ledger(ledger, case, recorded, rotations, keep)
    checkpoints, signers = verify_checkpoints(checkpoints_path, case, hashes, keys, candidates, rotations, raw)
    tokens, stamps = verify_timestamps(data / "timestamps" / file_stem(case), checkpoints, tsa_certs)
    for size, head in heads:
        reason = head_problem(size, head, hashes)
        if reason:
            raise Broken(f"published head {size}:{head}", reason)
    size = len(hashes)
    summary = f"{size} events, head {hashes[size] if size else GENESIS}, {len(checkpoints)} checkpoints"
    if tokens:
        summary += f", {tokens} timestamps" + ("" if tsa_certs else " (not checked: no --tsa-cert)")
    return summary, size, signers, stamps


def parse_fingerprints(texts: list[str]) -> set[str]:
    found = set()
    for text in texts:
        value = text.strip().lower().replace(":", "")
        if not HEX64.fullmatch(value):
            raise UsageError(
                f"--key-fingerprint {text!r} is not 64 hex digits (the key's SHA-256, as the dossier prints it)"
            )
        found.add(value)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="verify.py", description="Verify an Attest evidence package offline.")
    parser.add_argument("bag", metavar="BAG_DIR", help="the package folder (holding data/)")
    parser.add_argument("--head", action="append", default=[], metavar="SIZE:SHA256", help="a published head")
    parser.add_argument(
        "--key-fingerprint", action="append", default=[], metavar="HEX",
        help="trust only the package's key with this SHA-256 fingerprint (printed in the dossier)",
    )  # fmt: skip
    parser.add_argument(
        "--key", action="append", default=[], type=Path, metavar="PEM",
        help="trust only these Ed25519 public keys instead of data/public-keys/*.pem",
    )  # fmt: skip
    parser.add_argument(
        "--tsa-cert", action="append", default=[], type=Path, metavar="PEM",
        help="the certificate of a Time-Stamp Authority you trust (from the TSA, not the package)",
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
        wanted = parse_fingerprints(args.key_fingerprint)
        given = load_keys(args.key)
        tsa_certs = load_tsa_certs(args.tsa_cert)
    except UsageError as exc:
        print(f"verify.py: {exc}", file=sys.stderr)
        return USAGE
    try:
        # Every file there must be a key (section 11), whatever its name: not only *.pem.
        shipped: dict[str, Any] | Broken = load_keys(
            sorted(path for path in (data / "public-keys").glob("*") if not path.is_dir()), Broken
        )
    except Broken as problem:
        shipped = problem
    keys = given or (shipped if isinstance(shipped, dict) else {})
    if wanted:  # only the keys (--key's, else the package's) whose full fingerprint was given from outside
        keys = {kid: key for kid, key in keys.items() if fingerprint(raw_key(key)) in wanted}
    key_anchored = bool(args.key or wanted)
    recorded: dict[str, tuple[str, int]] = {}
    results: dict[str, tuple[str, int, dict[str, int]] | Broken] = {}
    for case in cases:
        try:
            if isinstance(shipped, Broken):
                raise shipped
            if not REFERENCE.fullmatch(case):
                raise Broken(f"data/ledger/{file_stem(case)}.jsonl", "not a case reference (A-Z, 0-9, '-', '.', '/')")
            # Anchored to a key, the package's other keys are trusted only through a key.rotated event.
            results[case] = verify_case(
                data, case, keys, heads[case], recorded, shipped if key_anchored else None, tsa_certs
            )
        except Broken as problem:
            results[case] = problem
    try:
        files: dict[str, str] | Broken = verify_files(data, recorded, {file_stem(case) for case in cases})
    except Broken as problem:
        files = problem
    status = 0
    for case in cases:
        result = results[case]
        if isinstance(result, Broken) or isinstance(files, Broken):
            print(f"{case}: BROKEN - {result if isinstance(result, Broken) else files}")
            status = BROKEN
            continue
        summary, _size, signers, stamps = result
        anchors = [f"head {size}:{head}" for size, head in heads[case]]
        covered = max((size for size, _head in heads[case]), default=0)
        if key_anchored:
            for _kid, (upto, key) in sorted(signers.items(), key=lambda item: item[1][0]):
                anchors.append(f"key {fingerprint(raw_key(key))} signed up to event {upto}")
                covered = max(covered, upto)
        for upto, text in sorted(stamps):
            anchors.append(text)
            covered = max(covered, upto)
        count = sum(1 for path in files if path != "case.json")
        # A file counts as anchored only if an anchored part of the ledger records it: an event
        # appended later could vouch for a replaced file.
        loose = sorted(path for path, sha in files.items() if recorded[sha][0] == case and recorded[sha][1] > covered)
        if anchors and not loose:
            print(f"{case}: INTACT AND ANCHORED ({summary}, {count} files; anchors: {'; '.join(anchors)})")
            continue
        why = "nothing from outside the package vouches for it"
        if anchors:
            why = (f"the anchors ({'; '.join(anchors)}) cover the ledger up to event {covered}, and it records "
                   f"{', '.join(loose[:3])}{' and more' if len(loose) > 3 else ''} only after that")  # fmt: skip
        print(f"{case}: INTACT BUT UNANCHORED ({summary}, {count} files): {why}; {UNANCHORED_HINT}")
        status = status or UNANCHORED
    return status


def raw_key(public_key: Any) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


if __name__ == "__main__":
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(errors="backslashreplace")  # any console can show any message
    sys.exit(main())
