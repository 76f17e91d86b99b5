"""A second, independent verifier of Attest evidence packages, written from docs/custody-format.md alone.

It does not import anything from the project (standard library, ``cryptography`` and, for section
8a, ``rfc3161-client``) and was written without reading evidence/export/verify.py or
evidence/lib/ledger.py. The test module tests/evidence/test_independent_verifier.py runs it side by
side with the shipped verifier.

``verify(bag_dir, heads, key_fingerprints, keys, tsa_certs=())`` returns the exit status (0 anchored,
1 broken, 2 unanchored, 3 usage error) and the verdict word of each case; ``verify_report`` also gives
the reason of each verdict. Trusted timestamps (section 8a) are checked with ``rfc3161-client``, imported
only when TSA certificates are given.

Readings chosen where the page is ambiguous or silent (section numbers are the page's):

1. Cases (section 11): every ``<CASE_REF>.jsonl`` under ``data/ledger/`` and ``<CASE_REF>.json`` under
   ``data/checkpoints/``; each needs both. ``_`` maps back to ``/``. A name outside ``A-Z 0-9 - / .``
   breaks the whole package (every case BROKEN). Other files under ``ledger/`` and ``checkpoints/``
   are not ledger or checkpoints files and are allowed. No such file at all, no ``data/`` or a
   BAG_DIR that is not a directory: usage error (3).
2. ``--head`` without a case prefix is a usage error when several cases are shipped; a prefix that
   names no shipped case is a usage error; a malformed head, a fingerprint that is not 64 hex
   digits (either case accepted, compared in lower case) and a ``--key`` file that is not an
   Ed25519 SPKI PEM public key are usage errors. SIZE is ASCII digits, leading zeros allowed.
3. A head that does not hold is BROKEN (section 15's negative vectors), not merely unanchored.
4. Trusted keys: ``--key`` keys (filtered by ``--key-fingerprint`` when both are given), else the
   package keys with a given fingerprint; then key continuity (section 8) to a fixed point: a
   trusted key at one end of a ``key.rotated`` event numbered s that signed a checkpoint of the
   case (signature valid, head on the chain) of size >= s makes the other end trusted. Key
   material for the other end may come from the package even under ``--key`` (the event names the
   full fingerprint). Keys trusted through continuity anchor like the anchor keys. With no key
   anchor, every package key is trusted and none anchors. Every file under ``data/public-keys/``
   (any name, not only ``*.pem``) must load as an Ed25519 PEM public key, else the package is
   BROKEN whatever keys are given. Several trusted keys may share a key id: any one verifying is
   enough. ``key.rotated`` payloads whose ``from``/``to`` are not 64 lowercase hex name no key.
5. A key anchor "held" when it signed at least one checkpoint of the case (even of size 0); a
   head anchor held when it holds (even ``0:genesis``, which anchors no event).
6. Checkpoint and files.json files are parsed like a ledger line (section 7): duplicate keys,
   floats, NaN/Infinity and integers beyond +-(2^53-1) are refused, even in members that are
   ignored; UTF-8 without BOM; whitespace and member order are free.
7. Checkpoint member types: ``v`` integer 1 (not true), ``case`` string, ``size`` integer >= 0 (not
   bool), ``head`` 64 lowercase hex, ``signed_at`` of section 3 form (form only; the date is not
   interpreted), ``key`` 16 lowercase hex, ``signature`` canonical base64 of 64 bytes. All shapes
   are checked before ordering; then rules 1-4 of section 8 are applied checkpoint by checkpoint in
   (signed_at, size) order.
8. files.json: a JSON list of objects each with ``path`` (string), ``sha256`` (string) and
   ``size`` (integer >= 0, not bool); other members are ignored. ``sha256`` must equal the
   recomputed lowercase hex digest (upper case there is a mismatch). A missing files.json is BROKEN.
9. A safe path: non-empty, no leading ``/``, no ``\\``, ``:`` or NUL, and every ``/``-separated
   component non-empty and neither ``.`` nor ``..`` (``photo..jpg`` is allowed). It must not name
   metadata: ``files.json``, ``case.json`` or anything under ``ledger/``, ``checkpoints/``,
   ``public-keys/``.
10. Binding (section 11): a file is bound when any ledger of the package that is intact (steps
    1-4) records its SHA-256. For anchoring, the files of a case are the listed files and case.json
    that its own ledger records, each at the first event that records it there.
11. "data/ holds nothing else": walk ``data/`` without following links; any symbolic link is
    BROKEN, any other non-regular file (pipe, device, socket) is BROKEN, under the metadata
    folders too; any regular file not allowed is BROKEN; empty directories are allowed.
    case.json is neither parsed nor required. Files outside ``data/`` are not checked.
12. Event records: types of section 4 are checked; payload contents are not (section 5: the chain
    never depends on them). ``event.corrected`` needs an integer ``corrects`` with
    1 <= corrects < seq; every other type needs ``corrects`` null.
13. Trusted timestamps, layout (sections 8a, 11): ``timestamps/`` is metadata like ``ledger/``: a
    files.json path under it is unsafe. Under ``data/timestamps/`` the only files allowed are
    ``<stem>/<64 lowercase hex>.tsr`` where ``<stem>`` is the file-name form of a shipped case; any
    other file (a stray name, a file directly in ``timestamps/``, deeper folders' files, a folder of
    a case not shipped) is BROKEN, with or without ``--tsa-cert``; folders alone are allowed. Check 1
    (the name is the SHA-256 of the bytes) is made always; an upper-case hex name is not a token name.
14. ``--tsa-cert`` files: PEM (every certificate in the file is a given root) or, when the file has
    no PEM marker, one DER certificate; a file that cannot be read or parsed is a usage error (3), and
    so is ``--tsa-cert`` without ``rfc3161-client``. A token passes check 3 when it verifies against
    any one given certificate taken as the only root (the library checks the signature, the chain at
    ``genTime`` and the critical ``timeStamping`` EKU of the signer).
15. Token checks run in the page's order 1-4, token by token in file-name order, and stop at the first
    that fails: a token that fails check 3 is set aside (not an anchor, no error) and is NOT put to
    check 4, since its time is only the word of an untrusted signer. Check 2: a response that does
    not parse, whose status is not granted (0), whose imprint algorithm is not SHA-256 or whose
    imprint matches no checkpoint of the case's checkpoints file is BROKEN. Check 4 compares
    ``genTime`` with the matched checkpoint's ``signed_at`` read as UTC: ``|genTime - signed_at| <=
    300 s`` holds (300 s exactly included); the token's accuracy is not taken into account.
16. A token anchor "held" when the token passed all four checks; it covers events 1 .. its
    checkpoint's size, like a head of that size, and combines with the other anchors for "the
    largest event an anchor covers". Tokens never count as a key anchor (they make no key trusted).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

GENESIS = "0" * 64
EVENT_PREFIX = b"attest-custody-event/v1\n"
CHECKPOINT_PREFIX = b"attest-checkpoint/v1\n"
MAX_INT = 2**53 - 1

BROKEN = "BROKEN"
UNANCHORED = "INTACT BUT UNANCHORED"
ANCHORED = "INTACT AND ANCHORED"

HEX64 = re.compile(r"[0-9a-f]{64}")
HEX16 = re.compile(r"[0-9a-f]{16}")
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
REFERENCE = re.compile(r"[A-Z0-9./-]+")
SIGNATURE = re.compile(r"[A-Za-z0-9+/]{86}==")
HEAD_ARG = re.compile(r"(?:(?P<case>[^:]+):)?(?P<size>[0-9]+):(?P<hash>[0-9A-Fa-f]{64})")
FINGERPRINT = re.compile(r"[0-9A-Fa-f]{64}")

EVENT_MEMBERS = {
    "v", "case", "seq", "type", "subject", "actor", "occurred_at", "recorded_at", "corrects", "payload", "prev",
}  # fmt: skip
CHECKPOINT_MEMBERS = {"v", "case", "size", "head", "signed_at", "key", "signature"}
METADATA_DIRS = ("ledger", "checkpoints", "public-keys", "timestamps")
TOKEN_NAME = re.compile(r"([0-9a-f]{64})\.tsr")
TIME_WINDOW_SECONDS = 300
METADATA_FILES = ("files.json", "case.json")


class Problem(Exception):
    """The first problem found in a case: where, and why."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


class UsageError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Section 2: canonical JSON, written out from the page's table rather than with json.dumps.

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise ValueError("lone surrogate")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _text(value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        if not -MAX_INT <= value <= MAX_INT:
            raise ValueError("integer out of range")
        return str(value)
    if type(value) is str:
        return _string(value)
    if type(value) is list:
        return "[" + ",".join(_text(element) for element in value) + "]"
    if type(value) is dict:
        for name in value:
            if type(name) is not str:
                raise ValueError("object key is not a string")
        # Python compares str by code point, which is the order section 2 asks for.
        return "{" + ",".join(_string(name) + ":" + _text(value[name]) for name in sorted(value)) + "}"
    raise ValueError(f"not a canonical JSON value: {type(value).__name__}")


def canonical(value) -> bytes:
    return _text(value).encode("utf-8")


# Strict parsing (section 7): no duplicate keys, floats, NaN/Infinity or out-of-range integers.


def _pairs(pairs):
    result = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate key {name!r}")
        result[name] = value
    return result


def _no_constant(name):
    raise ValueError(f"{name} is not allowed")


def _no_float(text):
    raise ValueError(f"number {text} is not an integer")


def _integer(text):
    number = int(text)
    if not -MAX_INT <= number <= MAX_INT:
        raise ValueError("integer out of range")
    return number


def parse_strict(text: str, allow_floats: bool = False):
    return json.loads(
        text,
        object_pairs_hook=_pairs,
        parse_constant=_no_constant,
        parse_float=float if allow_floats else _no_float,
        parse_int=_integer if not allow_floats else int,
    )


def _regular(path: Path) -> bool:
    """A regular file, not a symbolic link, pipe, device or folder (section 11)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _load_json_file(path: Path):
    """Section 11: the checkpoints file and files.json are parsed as strictly as a ledger line."""
    if not _regular(path):
        raise ValueError("not a regular file")
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raise ValueError("byte-order mark")
    return parse_strict(raw.decode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Sections 4, 6, 7: the event record, its hash and the chain.


def _is_int(value) -> bool:
    return type(value) is int


def event_hash(record: dict) -> str:
    return hashlib.sha256(EVENT_PREFIX + canonical(record)).hexdigest()


def _check_shape(entry, where: str) -> None:
    if type(entry) is not dict:
        raise Problem(where, "not a JSON object")
    if set(entry) != EVENT_MEMBERS | {"hash"}:
        raise Problem(where, f"members are {sorted(entry)}, not the eleven fields plus hash")
    if not (_is_int(entry["v"]) and entry["v"] == 1):
        raise Problem(where, "v is not the integer 1")
    if type(entry["case"]) is not str:
        raise Problem(where, "case is not a string")
    if not (_is_int(entry["seq"]) and entry["seq"] >= 1):
        raise Problem(where, "seq is not an integer >= 1")
    if not (type(entry["type"]) is str and entry["type"]):
        raise Problem(where, "type is not a non-empty string")
    subject = entry["subject"]
    if type(subject) is not dict or set(subject) != {"type", "id", "label"}:
        raise Problem(where, "subject does not have exactly type, id, label")
    if type(subject["type"]) is not str or not _is_int(subject["id"]) or type(subject["label"]) is not str:
        raise Problem(where, "subject members have the wrong types")
    actor = entry["actor"]
    if actor is not None:
        if type(actor) is not dict or set(actor) != {"id", "name"}:
            raise Problem(where, "actor is neither null nor exactly id, name")
        if not _is_int(actor["id"]) or type(actor["name"]) is not str:
            raise Problem(where, "actor members have the wrong types")
    for name in ("occurred_at", "recorded_at"):
        if type(entry[name]) is not str or not TIMESTAMP.fullmatch(entry[name]):
            raise Problem(where, f"{name} is not a timestamp of section 3")
    corrects = entry["corrects"]
    if entry["type"] == "event.corrected":
        if not (_is_int(corrects) and 1 <= corrects < entry["seq"]):
            raise Problem(where, "corrects does not name an earlier event")
    elif corrects is not None:
        raise Problem(where, "corrects is not null")
    if type(entry["payload"]) is not dict:
        raise Problem(where, "payload is not an object")
    for name in ("prev", "hash"):
        if type(entry[name]) is not str or not HEX64.fullmatch(entry[name]):
            raise Problem(where, f"{name} is not 64 lowercase hex digits")


def read_ledger(path: Path, case: str) -> tuple[list[str], list[dict]]:
    """Steps 1-4 of section 12: the hashes (index i-1 for event i) and the records."""
    where = f"ledger {path.name}"
    if not _regular(path):
        raise Problem(where, "missing, or not a regular file")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise Problem(where, f"cannot be read ({error.__class__.__name__})") from None
    parts = raw.split(b"\n")
    if parts[-1] != b"":
        raise Problem(where, "the last line does not end with a line feed")
    lines = parts[:-1]
    hashes, entries = [], []
    previous = GENESIS
    for number, line in enumerate(lines, start=1):
        at = f"event {number}"
        try:
            text = line.decode("utf-8")
            entry = parse_strict(text)
            again = canonical(entry)
        except (UnicodeError, ValueError, RecursionError) as error:
            raise Problem(at, f"not canonical JSON ({error})") from None
        if again != line:
            raise Problem(at, "the line is not in canonical form")
        _check_shape(entry, at)
        if entry["case"] != case:
            raise Problem(at, f"case is {entry['case']!r}, not {case!r}")
        if entry["seq"] != number:
            raise Problem(at, f"seq is {entry['seq']}, expected {number}")
        if entry["prev"] != previous:
            raise Problem(at, "prev is not the hash of the previous event")
        record = {name: value for name, value in entry.items() if name != "hash"}
        if event_hash(record) != entry["hash"]:
            raise Problem(at, "hash does not match the recomputed hash")
        previous = entry["hash"]
        hashes.append(previous)
        entries.append(entry)
    return hashes, entries


def _head_at(hashes: list[str], size: int) -> str | None:
    if size == 0:
        return GENESIS
    if 1 <= size <= len(hashes):
        return hashes[size - 1]
    return None


# ---------------------------------------------------------------------------------------------
# Section 10: which SHA-256s the ledger records, and at which event first.


def _sha(value) -> str | None:
    return value if type(value) is str and HEX64.fullmatch(value) else None


def recorded_files(entries: list[dict]) -> dict[str, int]:
    recorded: dict[str, int] = {}
    for entry in entries:
        payload, kind, found = entry["payload"], entry["type"], []
        if kind == "photo.added" and type(payload.get("photo")) is dict:
            found.append(_sha(payload["photo"].get("sha256")))
        elif kind == "file.kept" and type(payload.get("file")) is dict:
            found.append(_sha(payload["file"].get("sha256")))
        elif kind in ("source.added", "source.updated") and type(payload.get("source")) is dict:
            found.append(_sha(payload["source"].get("archived_sha256")))
        elif kind == "trace.letter" and type(payload.get("letter")) is dict:
            found.append(_sha(payload["letter"].get("sha256")))
        elif kind == "trace.answered" and type(payload.get("response")) is dict:
            found.append(_sha(payload["response"].get("sha256")))
        elif kind == "package.sealed" and type(payload.get("files")) is list:
            found.extend(_sha(item.get("sha256")) for item in payload["files"] if type(item) is dict)
        for sha in found:
            if sha is not None and sha not in recorded:
                recorded[sha] = entry["seq"]
    return recorded


# ---------------------------------------------------------------------------------------------
# Section 8: keys and checkpoints.


def _crypto():
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return InvalidSignature, serialization, Ed25519PublicKey


def load_public_key(path: Path):
    """(key object, fingerprint) of an Ed25519 SPKI PEM; ValueError otherwise."""
    _, serialization, ed25519_public_key = _crypto()
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)  # a --key file may be reached through a link
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.__class__.__name__}") from None
    if not regular:
        raise ValueError(f"{path.name} is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.__class__.__name__}") from None
    if b"-----BEGIN PUBLIC KEY-----" not in data:
        raise ValueError(f"{path.name} is not an SPKI PEM public key")
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, ed25519_public_key):
        raise ValueError(f"{path.name} is not an Ed25519 public key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, hashlib.sha256(raw).hexdigest()


def _checkpoint_shape(checkpoint, where: str) -> None:
    if type(checkpoint) is not dict:
        raise Problem(where, "not a JSON object")
    if set(checkpoint) != CHECKPOINT_MEMBERS:
        raise Problem(where, f"members are {sorted(checkpoint)}, not exactly the seven of section 8")
    if not (_is_int(checkpoint["v"]) and checkpoint["v"] == 1):
        raise Problem(where, "v is not the integer 1")
    if type(checkpoint["case"]) is not str:
        raise Problem(where, "case is not a string")
    if not (_is_int(checkpoint["size"]) and 0 <= checkpoint["size"] <= MAX_INT):
        raise Problem(where, "size is not an integer >= 0")
    if type(checkpoint["head"]) is not str or not HEX64.fullmatch(checkpoint["head"]):
        raise Problem(where, "head is not 64 lowercase hex digits")
    if type(checkpoint["signed_at"]) is not str or not TIMESTAMP.fullmatch(checkpoint["signed_at"]):
        raise Problem(where, "signed_at is not a timestamp of section 3")
    if type(checkpoint["key"]) is not str or not HEX16.fullmatch(checkpoint["key"]):
        raise Problem(where, "key is not 16 lowercase hex digits")
    signature = checkpoint["signature"]
    if type(signature) is not str or not SIGNATURE.fullmatch(signature):
        raise Problem(where, "signature is not 88 characters of padded standard base64")
    decoded = base64.b64decode(signature, validate=True)
    if len(decoded) != 64 or base64.b64encode(decoded).decode("ascii") != signature:
        raise Problem(where, "signature is not the canonical base64 of 64 bytes")


def read_checkpoints(path: Path) -> list[dict]:
    """The checkpoints file of a case, every checkpoint of the shape section 8 gives it."""
    where = f"checkpoints {path.name}"
    if not _regular(path):
        raise Problem(where, "missing or not a regular file (an empty list [] is required when there are none)")
    try:
        checkpoints = _load_json_file(path)
    except (OSError, UnicodeError, ValueError, RecursionError) as error:
        raise Problem(where, f"not JSON ({error})") from None
    if type(checkpoints) is not list:
        raise Problem(where, "not a JSON list")
    for index, checkpoint in enumerate(checkpoints, start=1):
        _checkpoint_shape(checkpoint, f"checkpoint {index}")
    return checkpoints


def _message(checkpoint: dict) -> bytes:
    return CHECKPOINT_PREFIX + canonical({name: value for name, value in checkpoint.items() if name != "signature"})


def _signed_by(checkpoint: dict, fingerprint: str, keys: dict[str, object]) -> bool:
    """Whether the key with this fingerprint (its material in `keys`) signed the checkpoint."""
    invalid_signature, _, _ = _crypto()
    if fingerprint not in keys or checkpoint["key"] != fingerprint[:16]:
        return False
    try:
        keys[fingerprint].verify(base64.b64decode(checkpoint["signature"]), _message(checkpoint))
    except invalid_signature:
        return False
    return True


def rotations(entries: list[dict]) -> list[tuple[int, str, str]]:
    """Section 8, key continuity: (seq, from, to) of each key.rotated event naming two fingerprints."""
    found = []
    for entry in entries:
        payload = entry["payload"]
        if entry["type"] == "key.rotated" and _sha(payload.get("from")) and _sha(payload.get("to")):
            found.append((entry["seq"], payload["from"], payload["to"]))
    return found


def extend_trust(
    trusted: set[str], pool: dict[str, object], checkpoints: list[dict], case: str, hashes: list[str], entries
) -> set[str]:
    """Section 8, key continuity: trust follows key.rotated events, in either direction, to a fixed point.

    A trusted key at one end of a key.rotated event numbered s that signed a checkpoint of this case
    (signature valid, head on the chain) of size >= s makes the key at the other end trusted.
    """
    trusted = set(trusted)
    valid = [c for c in checkpoints if c["case"] == case and _head_at(hashes, c["size"]) == c["head"]]
    changed = True
    while changed:
        changed = False
        for seq, old, new in rotations(entries):
            for this, other in ((old, new), (new, old)):
                if (
                    this in trusted
                    and other not in trusted
                    and any(c["size"] >= seq and _signed_by(c, this, pool) for c in valid)
                ):
                    trusted.add(other)
                    changed = True
    return trusted


def check_checkpoints(
    checkpoints: list[dict], case: str, hashes: list[str], trusted: set[str], pool: dict[str, object]
) -> list[tuple[dict, str]]:
    """Section 8 against an intact ledger; returns (checkpoint, fingerprint of its signer) in checking order."""
    ordered = sorted(checkpoints, key=lambda c: (c["signed_at"], c["size"]))
    largest, result = 0, []
    for checkpoint in ordered:
        at = f"checkpoint size {checkpoint['size']} signed {checkpoint['signed_at']}"
        if checkpoint["case"] != case:
            raise Problem(at, f"names case {checkpoint['case']!r}")
        candidates = sorted(f for f in trusted if f in pool and f[:16] == checkpoint["key"])
        if not candidates:
            raise Problem(at, f"key {checkpoint['key']} is not a trusted key")
        signer = next((f for f in candidates if _signed_by(checkpoint, f, pool)), None)
        if signer is None:
            raise Problem(at, "signature does not verify")
        if checkpoint["size"] < largest:
            raise Problem(at, f"size {checkpoint['size']} is smaller than an earlier checkpoint's {largest}")
        largest = checkpoint["size"]
        head = _head_at(hashes, checkpoint["size"])
        if head is None:
            raise Problem(at, f"the ledger has only {len(hashes)} events")
        if head != checkpoint["head"]:
            raise Problem(at, "head does not match the ledger")
        result.append((checkpoint, signer))
    return result


# ---------------------------------------------------------------------------------------------
# Section 8a: trusted timestamps.


def _tsp():
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    return decode_timestamp_response, VerifierBuilder, VerificationError


def load_tsa_certificates(path: Path) -> list:
    """The certificates of a --tsa-cert file, PEM (all of them) or DER (reading 14); ValueError otherwise."""
    from cryptography import x509

    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.__class__.__name__}") from None
    if b"-----BEGIN" in raw:
        certificates = x509.load_pem_x509_certificates(raw)
    else:
        certificates = [x509.load_der_x509_certificate(raw)]
    if not certificates:
        raise ValueError(f"{path} holds no certificate")
    return certificates


def _signed_at(text: str):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def token_files(data: Path, stem: str) -> list[tuple[Path, bytes]]:
    """Check 1 of section 8a, always: every token of the case is named by the SHA-256 of its bytes."""
    folder = data / "timestamps" / stem
    if not os.path.lexists(folder):
        return []
    if folder.is_symlink() or not folder.is_dir():
        raise Problem(f"timestamps/{stem}", "not a folder")
    tokens = []
    for path in sorted(folder.iterdir()):
        where = f"timestamps/{stem}/{path.name}"
        if not _regular(path):
            raise Problem(where, "not a regular file")
        match = TOKEN_NAME.fullmatch(path.name)
        if not match:
            raise Problem(where, "not named <sha256>.tsr")
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != match[1]:
            raise Problem(where, "its name is not the SHA-256 of its bytes")
        tokens.append((path, raw))
    return tokens


def check_tokens(tokens, checkpoints: list[dict], roots: list) -> list[tuple[dict, str]]:
    """Checks 2-4 of section 8a; returns (checkpoint, description) of every token that anchors."""
    decode, verifier_builder, verification_error = _tsp()
    by_imprint = {hashlib.sha256(_message(c)).digest(): c for c in checkpoints}
    anchors = []
    for path, raw in tokens:
        where = f"timestamps/{path.parent.name}/{path.name}"
        try:
            response = decode(raw)
            status = response.status
            info = response.tst_info
            algorithm = info.message_imprint.hash_algorithm.dotted_string
            imprint = info.message_imprint.message
            gen_time = info.gen_time
        except Exception as error:  # any failure to parse is a token that is not a TimeStampResp
            raise Problem(where, f"not a DER TimeStampResp ({error})") from None
        if status != 0:
            raise Problem(where, f"status {status}, not granted (0)")
        if algorithm != "2.16.840.1.101.3.4.2.1":
            raise Problem(where, f"imprint algorithm {algorithm} is not SHA-256")
        checkpoint = by_imprint.get(imprint)
        if checkpoint is None:
            raise Problem(where, "its imprint is the hash of none of the case's checkpoints (a token for other data)")
        trusted = False
        for root in roots:
            try:
                trusted = verifier_builder().add_root_certificate(root).build().verify(response, imprint) is True
            except (verification_error, ValueError):
                trusted = False
            if trusted:
                break
        if not trusted:
            continue  # check 3: perhaps another TSA's token; no anchor and no error (reading 15)
        if gen_time.tzinfo is None:
            gen_time = gen_time.replace(tzinfo=UTC)
        try:
            signed_at = _signed_at(checkpoint["signed_at"])
        except ValueError:
            raise Problem(where, f"its checkpoint's signed_at {checkpoint['signed_at']} is no real time") from None
        offset = abs((gen_time - signed_at).total_seconds())
        if offset > TIME_WINDOW_SECONDS:
            raise Problem(
                where,
                f"genTime {gen_time.isoformat()} is {offset:.0f} s from the checkpoint's signed_at "
                f"{checkpoint['signed_at']} (at most {TIME_WINDOW_SECONDS} s)",
            )
        name = info.name.value.rfc4514_string() if hasattr(info.name, "value") else "TSA"
        anchors.append((checkpoint, f"timestamp {name} {gen_time.isoformat()} (checkpoint {checkpoint['size']})"))
    return anchors


# ---------------------------------------------------------------------------------------------
# Sections 10 and 11: the files of the package.


def _safe_path(path) -> bool:
    if type(path) is not str or not path or any(char in path for char in "\\:\x00") or path.startswith("/"):
        return False
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return False
    return not (path in METADATA_FILES or parts[0] in METADATA_DIRS)


def check_package_files(data: Path, stems=()) -> tuple[list[dict], bool]:
    """Fixity, path rules and "nothing else" (step 9), except binding. Returns entries and case.json presence.

    `stems` are the file-name forms of the shipped cases: the only folders under timestamps/ (reading 13).
    """
    if data.is_symlink():
        raise Problem("data/", "is a symbolic link")
    listing = data / "files.json"
    if listing.is_symlink() or not listing.is_file():
        raise Problem("files.json", "missing")
    try:
        entries = _load_json_file(listing)
    except (OSError, UnicodeError, ValueError, RecursionError) as error:
        raise Problem("files.json", f"not JSON ({error})") from None
    if type(entries) is not list:
        raise Problem("files.json", "not a JSON list")
    seen = set()
    for index, entry in enumerate(entries, start=1):
        at = f"files.json entry {index}"
        if type(entry) is not dict or not {"path", "sha256", "size"} <= set(entry):
            raise Problem(at, "not an object with path, sha256 and size")
        path, sha, size = entry["path"], entry["sha256"], entry["size"]
        if type(sha) is not str or not (_is_int(size) and size >= 0):
            raise Problem(at, "sha256 is not a string or size not an integer >= 0")
        if not _safe_path(path):
            raise Problem(at, f"unsafe path {path!r}")
        if path in seen:
            raise Problem(at, f"{path} is listed twice")
        seen.add(path)
        file = data / path
        # No component may be a symbolic link.
        current = data
        for part in path.split("/"):
            current = current / part
            if current.is_symlink():
                raise Problem(path, "is a symbolic link")
        try:
            mode = os.lstat(file).st_mode
        except OSError:
            raise Problem(path, "missing") from None
        if not stat.S_ISREG(mode):
            raise Problem(path, "not a regular file")
        content = file.read_bytes()
        if hashlib.sha256(content).hexdigest() != sha or len(content) != size:
            raise Problem(path, "SHA-256 or size differs from files.json")
    for directory, subdirectories, files in os.walk(data, followlinks=False):
        base = Path(directory)
        for name in sorted(subdirectories + files):
            full = base / name
            relative = full.relative_to(data).as_posix()
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                raise Problem(relative, "is a symbolic link")
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise Problem(relative, "not a regular file (a pipe, device or socket)")
            parts = relative.split("/")
            if parts[0] == "timestamps":
                if len(parts) != 3 or parts[1] not in stems or not TOKEN_NAME.fullmatch(parts[2]):
                    raise Problem(relative, "is not a token timestamps/<CASE_REF>/<sha256>.tsr of a shipped case")
                continue
            if relative in METADATA_FILES or parts[0] in METADATA_DIRS or relative in seen:
                continue
            raise Problem(relative, "is not listed in files.json")
    case_json = data / "case.json"
    present = os.path.lexists(case_json)
    if present and not _regular(case_json):
        raise Problem("case.json", "not a regular file")
    return entries, present


# ---------------------------------------------------------------------------------------------
# Section 11 and 12: the whole package.


def _parse_heads(heads) -> list[tuple[str | None, int, str]]:
    parsed = []
    for head in heads:
        match = HEAD_ARG.fullmatch(str(head))
        if not match:
            raise UsageError(f"--head {head!r} is not SIZE:SHA256 or CASE:SIZE:SHA256")
        parsed.append((match["case"], int(match["size"]), match["hash"].lower()))
    return parsed


def _case_of(stem: str) -> str:
    return stem.replace("_", "/")


def _package_keys(data: Path) -> tuple[dict[str, object], Problem | None]:
    """Every file under data/public-keys/ MUST be an Ed25519 SPKI PEM public key (section 11)."""
    pool: dict[str, object] = {}
    folder = data / "public-keys"
    if not folder.is_dir() or folder.is_symlink():
        return pool, None
    for directory, subdirectories, files in os.walk(folder, followlinks=False):
        subdirectories.sort()
        for name in sorted(files):
            path = Path(directory) / name
            relative = path.relative_to(data).as_posix()
            if not _regular(path):
                return pool, Problem(relative, "not a regular file")
            try:
                key, fingerprint = load_public_key(path)
            except Exception as error:  # any failure to load a shipped key is a broken package
                return pool, Problem(relative, f"not an Ed25519 public key in PEM ({error})")
            pool[fingerprint] = key
    return pool, None


def verify_report(
    bag_dir, heads=(), key_fingerprints=(), keys=(), *, tsa_certs=()
) -> tuple[int, dict[str, tuple[str, str]]]:
    """Exit status and, per case, (verdict, reason)."""
    try:
        _crypto()
    except ImportError:
        return 3, {}
    bag = Path(bag_dir)
    data = bag / "data"
    if not bag.is_dir() or not data.is_dir():
        return 3, {}
    try:
        parsed_heads = _parse_heads(heads)
        fingerprints = []
        for fingerprint in key_fingerprints:
            if not FINGERPRINT.fullmatch(str(fingerprint)):
                raise UsageError(f"--key-fingerprint {fingerprint!r} is not 64 hex digits")
            fingerprints.append(str(fingerprint).lower())
        given_keys = []
        for path in keys:
            try:
                given_keys.append(load_public_key(Path(path)))
            except (ValueError, TypeError) as error:
                raise UsageError(str(error)) from None
        roots = []
        if tsa_certs:
            try:
                _tsp()
            except ImportError:
                raise UsageError("--tsa-cert needs the rfc3161-client package") from None
        for path in tsa_certs:
            try:
                roots.extend(load_tsa_certificates(Path(path)))
            except (ValueError, TypeError) as error:
                raise UsageError(str(error)) from None
    except UsageError:
        return 3, {}

    # Section 11, how cases are enumerated: data/ledger/<CASE_REF>.jsonl or data/checkpoints/<CASE_REF>.json.
    stems: set[str] = set()
    for folder, suffix in (("ledger", ".jsonl"), ("checkpoints", ".json")):
        if (data / folder).is_dir():
            stems.update(f.name[: -len(suffix)] for f in (data / folder).iterdir() if f.name.endswith(suffix))
    if not stems:
        return 3, {}  # not a package
    cases = {_case_of(stem): stem for stem in sorted(stems)}
    for case, _, _ in parsed_heads:
        if case is None and len(cases) > 1:
            return 3, {}
        if case is not None and case not in cases:
            return 3, {}

    # Problems of the whole package: a name outside the reference alphabet, a damaged shipped key.
    package_problem = None
    for case, stem in cases.items():
        if not REFERENCE.fullmatch(case):
            package_problem = Problem(stem, "does not map back to a case reference (A-Z 0-9 - / .)")
            break
    pool, key_problem = _package_keys(data)
    package_problem = package_problem or key_problem

    # Trusted keys, by fingerprint (section 11, anchors); pool: every key whose material is at hand.
    anchors: dict[str, str] = {}
    for key, fingerprint in given_keys:
        pool[fingerprint] = key
        if not fingerprints or fingerprint in fingerprints:
            anchors[fingerprint] = f"key {fingerprint}"
    if not given_keys:
        anchors = {fingerprint: f"key-fingerprint {fingerprint}" for fingerprint in fingerprints}
    anchored_by_keys = bool(given_keys or fingerprints)

    try:
        package = check_package_files(data, set(cases.values()))
    except Problem as problem:
        package = problem

    # Steps 1-4 of every ledger first: a file is bound when any (intact) ledger of the package records it.
    ledgers: dict[str, tuple[list[str], list[dict]] | Problem] = {}
    for case, stem in cases.items():
        try:
            ledgers[case] = read_ledger(data / "ledger" / f"{stem}.jsonl", case)
        except Problem as problem:
            ledgers[case] = problem
    recorded_anywhere: set[str] = set()
    for read in ledgers.values():
        if not isinstance(read, Problem):
            recorded_anywhere.update(recorded_files(read[1]))

    results: dict[str, tuple[str, str]] = {}
    for case, stem in cases.items():
        try:
            read = ledgers[case]
            if isinstance(read, Problem):
                raise read
            if package_problem is not None:
                raise package_problem
            results[case] = _verify_case(
                case, stem, read, data, parsed_heads, anchors, anchored_by_keys, pool, package, recorded_anywhere, roots
            )
        except Problem as problem:
            results[case] = (BROKEN, f"{problem.where}: {problem.reason}")
    verdicts = [verdict for verdict, _ in results.values()]
    status = 1 if BROKEN in verdicts else 2 if UNANCHORED in verdicts else 0
    return status, results


def _verify_case(case, stem, read, data, heads, anchors, anchored_by_keys, pool, package, recorded_anywhere, roots):
    hashes, entries = read
    checkpoints = read_checkpoints(data / "checkpoints" / f"{stem}.json")
    # Without a key anchor every key of the package is trusted and none vouches for anything.
    trusted = extend_trust(set(anchors), pool, checkpoints, case, hashes, entries) if anchored_by_keys else set(pool)
    signed = check_checkpoints(checkpoints, case, hashes, trusted, pool)
    covered, held = -1, []
    # Step 7, section 8a: names always; given TSA certificates, each token's imprint, chain and time.
    tokens = token_files(data, stem)
    if roots:
        for checkpoint, description in check_tokens(tokens, checkpoints, roots):
            covered = max(covered, checkpoint["size"])
            held.append(description)
    for head_case, size, sha in heads:
        if head_case not in (None, case):
            continue
        actual = _head_at(hashes, size)
        if actual is None:
            raise Problem(f"head {size}:{sha}", f"the ledger has only {len(hashes)} events")
        if actual != sha:
            raise Problem(f"head {size}:{sha}", "event hash differs: the ledger was rewritten")
        covered = max(covered, size)
        held.append(f"head {size}:{sha}")
    if anchored_by_keys:
        for fingerprint in sorted(trusted):
            sizes = [checkpoint["size"] for checkpoint, signer in signed if signer == fingerprint]
            if sizes:
                covered = max(covered, max(sizes))
                how = anchors.get(fingerprint, f"key {fingerprint} by key.rotated")
                held.append(f"{how} (checkpoint {max(sizes)})")
    if isinstance(package, Problem):
        raise package
    entries_of_files, has_case_json = package
    files = [(entry["path"], entry["sha256"]) for entry in entries_of_files]
    if has_case_json:
        files.append(("case.json", hashlib.sha256((data / "case.json").read_bytes()).hexdigest()))
    for path, sha in files:
        if sha not in recorded_anywhere:
            raise Problem(path, "no event of any ledger of the package records its SHA-256")
    summary = f"{len(hashes)} events, head {hashes[-1] if hashes else GENESIS}, {len(signed)} checkpoints"
    if tokens:
        summary += f", {len(tokens)} timestamps"
    summary += f", {len(entries_of_files)} files"
    if not held:
        return UNANCHORED, f"{summary}: no anchor; give --head, --key-fingerprint, --key or --tsa-cert"
    # The files of the case: those its own ledger records (section 11, verdicts).
    recorded = recorded_files(entries)
    late = [path for path, sha in files if sha in recorded and recorded[sha] > covered]
    if late:
        return UNANCHORED, f"{summary}: {', '.join(late)} recorded after event {covered}, the last anchored"
    return ANCHORED, f"{summary}; anchors: {', '.join(held)}"


def verify(bag_dir: Path, heads=(), key_fingerprints=(), keys=(), *, tsa_certs=()) -> tuple[int, dict[str, str]]:
    status, results = verify_report(bag_dir, heads, key_fingerprints, keys, tsa_certs=tsa_certs)
    return status, {case: verdict for case, (verdict, _) in results.items()}


if __name__ == "__main__":  # pragma: no cover - a convenience for people, the tests call verify()
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("bag_dir", type=Path)
    parser.add_argument("--head", action="append", default=[])
    parser.add_argument("--key-fingerprint", action="append", default=[])
    parser.add_argument("--key", action="append", default=[], type=Path)
    parser.add_argument("--tsa-cert", action="append", default=[], type=Path)
    arguments = parser.parse_args()
    code, report = verify_report(
        arguments.bag_dir, arguments.head, arguments.key_fingerprint, arguments.key, tsa_certs=arguments.tsa_cert
    )
    for name, (verdict, reason) in report.items():
        print(f"{name}: {verdict} - {reason}" if verdict == BROKEN else f"{name}: {verdict} ({reason})")
    sys.exit(code)
