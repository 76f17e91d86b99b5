"""The custody ledger's encoding, hashing, signing and verification: pure functions.

docs/custody-format.md is the specification; this module is its reference implementation,
and the standalone verify.py shipped in evidence packages repeats it with the standard library.
Nothing here touches the database, so a third party can run exactly this code offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

try:  # optional: a faster encoder, used only for values where its bytes are the canonical form
    import orjson
except ImportError:
    orjson = None

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
EVENT_DOMAIN = b"attest-custody-event/v1\n"
CHECKPOINT_DOMAIN = b"attest-checkpoint/v1\n"
# JSON numbers beyond this lose precision in many parsers (IEEE 754 doubles).
MAX_SAFE_INTEGER = 2**53 - 1

EVENT_FIELDS = (
    "v",
    "case",
    "seq",
    "type",
    "subject",
    "actor",
    "occurred_at",
    "recorded_at",
    "corrects",
    "payload",
    "prev",
)
SUBJECT_FIELDS = ("type", "id", "label")
ACTOR_FIELDS = ("id", "name")
CHECKPOINT_FIELDS = ("v", "case", "size", "head", "signed_at", "key")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", re.ASCII)
KEY_ID = re.compile(r"[0-9a-f]{16}")
HASH_HEX = re.compile(r"[0-9a-f]{64}")
_ENTRY_NAMES = frozenset((*EVENT_FIELDS, "hash"))
_SUBJECT_NAMES, _ACTOR_NAMES = frozenset(SUBJECT_FIELDS), frozenset(ACTOR_FIELDS)
# dict first: a dict is told apart much faster than by the check against the Mapping ABC.
_OBJECT = (dict, Mapping)
_BESIDE_PAYLOAD = tuple(name for name in EVENT_FIELDS if name != "payload")


class LedgerFormatError(ValueError):
    """A value cannot be encoded canonically, or a record does not have the required shape."""


def _check_canonical_value(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise LedgerFormatError(f"{path}: a string with a lone surrogate") from None
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise LedgerFormatError(f"{path}: integer beyond ±(2^53-1)")
        return
    if isinstance(value, float):
        # Floats have more than one textual form; decimals travel as strings.
        raise LedgerFormatError(f"{path}: floats are not allowed, use a string")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise LedgerFormatError(f"{path}: object keys must be strings")
            _check_canonical_value(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_canonical_value(item, f"{path}[{index}]")
        return
    raise LedgerFormatError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """The one byte sequence for a JSON value: sorted keys, no spaces, UTF-8, no floats."""
    if orjson is not None and _plain(value):
        try:
            return orjson.dumps(value, option=ORJSON_CANONICAL)
        except TypeError:  # orjson.JSONEncodeError: the reference below says what is wrong
            pass
    _check_canonical_value(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# orjson's compact, key-sorted encoding equals json.dumps(sort_keys=True, separators=(",", ":"),
# ensure_ascii=False) for values made only of dict, list, str, int, bool and None (exact types, not
# subclasses): same escapes (\b \t \n \f \r \" \\, other controls as lower-case \u00XX, the rest
# literal UTF-8), keys sorted by code point. tests/evidence/test_verify_stream_encoder.py checks it on
# every vector of docs/custody-format.md and on generated values. It raises on what canonical_json
# refuses among those (integers beyond 53 bits, lone surrogates, non-string keys); floats, and types it
# would encode where json refuses (UUID, enums, dates), never reach it: _plain() sends them to json.
ORJSON_CANONICAL = 0 if orjson is None else orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
_PLAIN_SCALARS = frozenset((str, int, bool, type(None)))
_FRAGMENT = getattr(orjson, "Fragment", None)  # orjson 3.9.15 and later: text put into the output as is


def _plain(value: Any) -> bool:
    """Whether a value is made only of dict, list, str, int, bool and None (exact types; a
    CanonicalObject counts as a dict: orjson encodes dict subclasses as dicts)."""
    kind = type(value)
    if kind is dict or kind is CanonicalObject:
        items = value.values()
    elif kind is list:
        items = value
    else:
        return kind in _PLAIN_SCALARS
    for item in items:
        kind = type(item)
        if kind not in _PLAIN_SCALARS and not (
            (kind is dict or kind is list or kind is CanonicalObject) and _plain(item)
        ):
            return False
    return True


class CanonicalObject(dict):
    """A JSON object read from text that is its canonical encoding, with that text (UTF-8) in
    `text`: a record holding it as its payload is hashed without encoding the payload again.
    Made only by canonical_object(); equal to the plain dict of the same members."""

    __slots__ = ("text",)


def canonical_object(text: str) -> CanonicalObject | None:
    """The object `text` encodes when `text` is exactly its canonical encoding, else None.

    Parsed by orjson when installed, else json: for text that is the canonical encoding of a value
    both read that value, and canonical_json must give the text back byte for byte. orjson reads
    only dict, list, str, int, bool, None and float, so for a value without floats canonical_json is
    orjson.dumps(value, option=ORJSON_CANONICAL), which refuses what canonical_json refuses among
    them (integers beyond 53 bits). Anything else (not JSON, not an object, not canonical) is None."""
    try:
        value = orjson.loads(text) if orjson is not None else json.loads(text)
    except (ValueError, RecursionError):  # orjson.JSONDecodeError is a ValueError
        return None
    if type(value) is not dict:
        return None
    try:
        if orjson is None:
            encoded = canonical_json(value)
        elif _holds_float(value):
            return None
        else:
            encoded = orjson.dumps(value, option=ORJSON_CANONICAL)
    except (LedgerFormatError, TypeError):  # TypeError: orjson.JSONEncodeError
        return None
    if encoded != text.encode("utf-8", "surrogatepass"):
        return None
    found = CanonicalObject(value)
    found.text = encoded
    return found


def _holds_float(value: dict[str, Any] | list[Any]) -> bool:
    """Whether a parsed object or array holds a float anywhere."""
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is float or ((kind is dict or kind is list) and _holds_float(item)):
            return True
    return False


def format_timestamp(moment: datetime) -> str:
    """UTC, microseconds, trailing Z: 2024-01-02T05:40:00.000000Z."""
    if moment.tzinfo is None:
        raise LedgerFormatError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_record(
    *,
    case: str,
    seq: int,
    event_type: str,
    subject: Mapping[str, Any],
    actor: Mapping[str, Any] | None,
    occurred_at: str,
    recorded_at: str,
    corrects: int | None,
    payload: Mapping[str, Any],
    prev: str,
) -> dict[str, Any]:
    """The hashed fields of one event, in the shape the specification gives."""
    return {
        "v": FORMAT_VERSION,
        "case": case,
        "seq": seq,
        "type": event_type,
        "subject": {name: subject[name] for name in SUBJECT_FIELDS},
        "actor": None if actor is None else {name: actor[name] for name in ACTOR_FIELDS},
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "corrects": corrects,
        "payload": dict(payload),
        "prev": prev,
    }


def event_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(EVENT_DOMAIN + canonical_json(record)).hexdigest()


def ledger_line(record: Mapping[str, Any], hash_hex: str) -> bytes:
    """One line of the exported ledger (JSON Lines): the record plus its hash, canonical."""
    return canonical_json({**record, "hash": hash_hex})


# --- Checkpoints -------------------------------------------------------------------


def checkpoint_message(*, case: str, size: int, head: str, signed_at: str, key: str) -> bytes:
    body = {"v": FORMAT_VERSION, "case": case, "size": size, "head": head, "signed_at": signed_at, "key": key}
    return CHECKPOINT_DOMAIN + canonical_json(body)


def key_id(public_key_raw: bytes) -> str:
    """A short, stable name for an Ed25519 public key: the first 16 hex digits of its SHA-256."""
    return key_fingerprint(public_key_raw)[:16]


def key_fingerprint(public_key_raw: bytes) -> str:
    """An Ed25519 public key's fingerprint: the full SHA-256 of its 32 raw bytes (the dossier prints it)."""
    return hashlib.sha256(public_key_raw).hexdigest()


def sign_checkpoint(private_key, *, case: str, size: int, head: str, signed_at: str) -> dict[str, Any]:
    """A checkpoint of a ledger head, signed with an Ed25519 private key (cryptography)."""
    from cryptography.hazmat.primitives import serialization

    raw_public = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = key_id(raw_public)
    message = checkpoint_message(case=case, size=size, head=head, signed_at=signed_at, key=kid)
    return {
        "v": FORMAT_VERSION,
        "case": case,
        "size": size,
        "head": head,
        "signed_at": signed_at,
        "key": kid,
        "signature": base64.b64encode(private_key.sign(message)).decode("ascii"),
    }


def checkpoint_signature_ok(checkpoint: Mapping[str, Any], public_keys: Mapping[str, bytes]) -> str | None:
    """None when the signature verifies under a trusted key, else the reason it does not."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if type(checkpoint.get("v")) is not int or checkpoint.get("v") != FORMAT_VERSION:
        return f"checkpoint format version {checkpoint.get('v')!r} is not {FORMAT_VERSION}"
    unknown = sorted(set(checkpoint) - {*CHECKPOINT_FIELDS, "signature"})
    if unknown:
        return f"unknown field(s) {', '.join(unknown)}"
    if not (isinstance(checkpoint.get("key"), str) and KEY_ID.fullmatch(checkpoint["key"])):
        return "key is not 16 lowercase hex digits"
    signature = checkpoint.get("signature")
    if not (isinstance(signature, str) and _canonical_base64(signature, 64)):
        return "signature is not the canonical base64 of 64 bytes (88 characters, = padded)"
    key = checkpoint.get("key")
    raw = public_keys.get(key) if isinstance(key, str) else None
    if raw is None:
        return f"signed with key {checkpoint.get('key')!r}, which is not a trusted key"
    try:
        message = checkpoint_message(**{name: checkpoint[name] for name in CHECKPOINT_FIELDS[1:]})
        signature = base64.b64decode(checkpoint["signature"], validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, message)
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return "the checkpoint signature does not verify"
    return None


def _canonical_base64(text: str, length: int) -> bool:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error is a ValueError
        return False
    return len(raw) == length and base64.b64encode(raw).decode("ascii") == text


# --- Verification ------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong: where (an event's sequence number, a checkpoint, a file) and why."""

    where: str
    reason: str
    seq: int | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    case: str
    size: int
    head: str
    problem: Problem | None

    @property
    def intact(self) -> bool:
        return self.problem is None


def _shape_problem(entry: Mapping[str, Any]) -> str | None:
    if entry.keys() != _ENTRY_NAMES:
        missing = [name for name in (*EVENT_FIELDS, "hash") if name not in entry]
        if missing:
            return f"missing field(s) {', '.join(missing)}"
        return f"unknown field(s) {', '.join(sorted(set(entry) - _ENTRY_NAMES))}"
    version, seq = entry["v"], entry["seq"]
    if type(version) is not int or version != FORMAT_VERSION:  # true == 1 in Python, not in JSON
        return f"format version {version!r} is not {FORMAT_VERSION}"
    if type(seq) is not int and (not isinstance(seq, int) or isinstance(seq, bool)):
        return "seq is not an integer"
    subject = entry["subject"]
    if not isinstance(subject, _OBJECT) or subject.keys() != _SUBJECT_NAMES:
        return "subject must hold exactly type, id and label"
    actor = entry["actor"]
    if actor is not None and (not isinstance(actor, _OBJECT) or actor.keys() != _ACTOR_NAMES):
        return "actor must be null or hold exactly id and name"
    payload = entry["payload"]
    if not isinstance(payload, _OBJECT):
        return "payload is not an object"
    for name in ("prev", "hash"):
        value = entry[name]
        if not (isinstance(value, str) and HASH_HEX.fullmatch(value)):
            return f"{name} is not 64 lowercase hex digits"
    return _field_type_problem(entry)


def _field_type_problem(entry: Mapping[str, Any]) -> str | None:
    """The member types of the format page's section 4 (verify.py words them the same)."""
    subject, actor, corrects, seq = entry["subject"], entry["actor"], entry["corrects"], entry["seq"]
    if seq < 1:
        return "seq is not an integer of at least 1"
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


def verify_chain(entries: Iterable[Mapping[str, Any]], *, case: str) -> ChainReport:
    """Recompute every hash and link of one case's ledger, in order; report the first break.

    `entries` are event records with their "hash" (as parsed from the exported lines, or as
    built from database rows). Sequence numbers must run 1, 2, 3 … with no gap.
    """
    expected_seq, prev = 1, GENESIS_HASH
    for index, entry in enumerate(entries):
        if _plainly_intact(entry, expected_seq, prev, case):
            expected_seq, prev = expected_seq + 1, entry["hash"]
            continue
        if isinstance(entry, _OBJECT):
            seq, shape = entry.get("seq"), _shape_problem(entry)
        else:
            seq, shape = None, "not an object"
        if shape:
            return ChainReport(case, expected_seq - 1, prev, Problem(_where(seq, index), shape, expected_seq))
        if entry["case"] != case:
            return ChainReport(
                case, expected_seq - 1, prev, Problem(_where(seq, index), "belongs to another case", seq)
            )
        if seq != expected_seq:
            reason = f"sequence number {seq} where {expected_seq} was expected (events missing or out of order)"
            return ChainReport(case, expected_seq - 1, prev, Problem(_where(seq, index), reason, expected_seq))
        if entry["prev"] != prev:
            return ChainReport(
                case,
                expected_seq - 1,
                prev,
                Problem(_where(seq, index), "its link to the previous event is broken (prev hash differs)", seq),
            )
        try:
            recomputed = _entry_hash(entry)
        except LedgerFormatError as exc:
            return ChainReport(case, expected_seq - 1, prev, Problem(_where(seq, index), f"not encodable: {exc}", seq))
        if recomputed != entry["hash"]:
            return ChainReport(
                case,
                expected_seq - 1,
                prev,
                Problem(_where(seq, index), "its content does not match its hash (the event was altered)", seq),
            )
        expected_seq, prev = seq + 1, entry["hash"]
    return ChainReport(case, expected_seq - 1, prev, None)


def _plainly_intact(entry: Any, expected_seq: int, prev: str, case: str) -> bool:
    """Whether an entry is the next intact link, checked the short way: a dict whose members have
    exactly their JSON types and whose payload is a CanonicalObject (what the database verifier
    builds). True only where verify_chain's checks would all pass; anything else answers False and
    goes through them, so verdicts and their words never depend on this path.

    prev and hash need no pattern: prev must equal the expected link (the genesis hash or a hash
    already recomputed) and hash the SHA-256 recomputed here, both 64 lowercase hex digits."""
    if type(entry) is not dict or _FRAGMENT is None or entry.keys() != _ENTRY_NAMES:
        return False
    seq, version, event_type, corrects = entry["seq"], entry["v"], entry["type"], entry["corrects"]
    subject, actor, payload = entry["subject"], entry["actor"], entry["payload"]
    occurred_at, recorded_at = entry["occurred_at"], entry["recorded_at"]
    if not (
        type(payload) is CanonicalObject
        and type(seq) is int and seq == expected_seq
        and type(version) is int and version == FORMAT_VERSION
        and type(entry["case"]) is str and entry["case"] == case
        and type(entry["prev"]) is str and entry["prev"] == prev
        and type(event_type) is str and event_type
        and type(subject) is dict and subject.keys() == _SUBJECT_NAMES and type(subject["type"]) is str
        and type(subject["id"]) is int and type(subject["label"]) is str
        and (actor is None or (type(actor) is dict and actor.keys() == _ACTOR_NAMES
                               and type(actor["id"]) is int and type(actor["name"]) is str))
        and type(occurred_at) is str and TIMESTAMP.fullmatch(occurred_at)
        and type(recorded_at) is str and TIMESTAMP.fullmatch(recorded_at)
        and (type(corrects) is int and 1 <= corrects < seq if event_type == "event.corrected" else corrects is None)
    ):  # fmt: skip
        return False
    record = entry.copy()
    digest = record.pop("hash")
    record["payload"] = _FRAGMENT(payload.text)
    try:  # orjson refuses integers beyond 53 bits and lone surrogates: the long way words why
        return hashlib.sha256(EVENT_DOMAIN + orjson.dumps(record, option=ORJSON_CANONICAL)).hexdigest() == digest
    except TypeError:  # orjson.JSONEncodeError
        return False


def _where(seq: Any, index: int) -> str:
    return f"event {seq}" if isinstance(seq, int) else f"entry #{index + 1}"


def _entry_hash(entry: Mapping[str, Any]) -> str:
    """event_hash of the entry's record. A CanonicalObject payload is not encoded again: orjson puts
    its text (a Fragment) where its encoding goes, once the other members are known to be plain."""
    payload = entry["payload"]
    if type(payload) is CanonicalObject and _FRAGMENT is not None:
        if type(entry) is dict:  # its keys are the record's and "hash" (_shape_problem)
            record = entry.copy()
            del record["hash"]
        else:
            record = {name: entry[name] for name in _BESIDE_PAYLOAD}
        record["payload"] = None  # checked apart from the others: canonical_object() checked it
        if _plain(record):
            record["payload"] = _FRAGMENT(payload.text)
            try:
                return hashlib.sha256(EVENT_DOMAIN + orjson.dumps(record, option=ORJSON_CANONICAL)).hexdigest()
            except TypeError:  # orjson.JSONEncodeError: the reference below words the refusal
                pass
    return event_hash({name: entry[name] for name in EVENT_FIELDS})


def verify_checkpoints(
    checkpoints: Sequence[Mapping[str, Any]],
    hashes_by_seq: Mapping[int, str],
    *,
    case: str,
    public_keys: Mapping[str, bytes],
) -> Problem | None:
    """Each checkpoint must verify under a trusted key, never shrink, and name a head the chain holds."""
    largest = 0
    for checkpoint in sorted(checkpoints, key=lambda item: (str(item.get("signed_at", "")), item.get("size", 0))):
        where = f"checkpoint of size {checkpoint.get('size')} signed {checkpoint.get('signed_at')}"
        if checkpoint.get("case") != case:
            return Problem(where, "belongs to another case")
        size = checkpoint.get("size")
        if type(size) is not int or size < 0 or not isinstance(checkpoint.get("head"), str):
            return Problem(where, "size must be a whole number and head a hash")
        reason = checkpoint_signature_ok(checkpoint, public_keys)
        if reason:
            return Problem(where, reason)
        if size < largest:
            return Problem(where, f"the ledger shrank: an earlier checkpoint had size {largest}")
        largest = size
        problem = head_problem(size, checkpoint["head"], hashes_by_seq)
        if problem:
            return Problem(where, problem, size)
    return None


def head_problem(size: int, head: str, hashes_by_seq: Mapping[int, str]) -> str | None:
    """None when the chain still holds `head` as its event number `size` (a published head)."""
    if size == 0:
        return None if head == GENESIS_HASH else "size 0 must have the genesis head"
    if size not in hashes_by_seq:
        return f"the ledger has {len(hashes_by_seq)} events but a head of size {size} was published"
    if hashes_by_seq[size] != head:
        return f"event {size} no longer has the published hash (the chain was rewritten)"
    return None


def parse_head(text: str) -> tuple[int, str]:
    """SIZE:SHA256 as printed in a dossier, e.g. 42:9f86d0…"""
    match = re.fullmatch(r"([0-9]+):([0-9a-fA-F]{64})", text.strip(), flags=re.ASCII)
    if match is None:
        raise LedgerFormatError(f"{text!r} is not SIZE:SHA256")
    return int(match.group(1)), match.group(2).lower()


def parse_ledger_lines(lines: Iterable[bytes]) -> list[dict[str, Any]]:
    """Parse exported ledger lines, refusing any that is not in canonical form."""
    entries = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip(b"\n")
        if not raw.endswith(b"\n"):
            raise LedgerFormatError(f"line {number}: does not end with a newline")
        try:
            entry = json.loads(line.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, absurd numbers or nesting
            raise LedgerFormatError(f"line {number}: not JSON ({exc})") from None
        try:
            canonical = canonical_json(entry)
        except LedgerFormatError as exc:
            raise LedgerFormatError(f"line {number}: {exc}") from None
        if canonical != line:
            raise LedgerFormatError(f"line {number}: not in canonical form")
        entries.append(entry)
    return entries
