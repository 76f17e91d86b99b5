"""The custody ledger: appending events, signing checkpoints, verifying a case.

Appends serialise per case on the case row's lock, so concurrent writers never fork the
chain or reuse a sequence number. The hash encoding lives in evidence.lib.ledger.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

try:  # optional: faster parsing when verifying (evidence.lib.ledger uses it to encode)
    import orjson
except ImportError:
    orjson = None
from django.conf import settings
from django.db import models, router, transaction
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case
from evidence import filestore
from evidence.choices import EventType, SubjectType
from evidence.lib import ledger
from evidence.models import Checkpoint, CustodyEvent, StoredFile

# --- Snapshots: the payload's "full new state" of a subject ------------------------------


def json_value(value: Any) -> Any:
    """A model value as the ledger encodes it: no floats, times in UTC, decimals as strings."""
    if isinstance(value, dt.datetime):
        return ledger.format_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def snapshot(instance: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every concrete field of a row (foreign keys by id), ready for the ledger."""
    skipped = set(exclude)
    state = {}
    for model_field in instance._meta.concrete_fields:
        if model_field.name in skipped:
            continue
        state[model_field.attname] = json_value(getattr(instance, model_field.attname))
    return state


# --- Appending -------------------------------------------------------------------------


def lock_case(case: Case) -> Case:
    """Take the case's row lock for the rest of the transaction: the ledger's append lock."""
    return Case.objects.select_for_update().only("id", "reference").get(pk=case.pk)


def append_event(
    *,
    case: Case,
    event_type: str,
    subject_type: str,
    subject_id: int,
    subject_label: str,
    actor,
    payload: dict[str, Any],
    occurred_at: dt.datetime | None = None,
    corrects: CustodyEvent | None = None,
    after: CustodyEvent | None = None,
) -> CustodyEvent:
    """Append one event to the case's ledger. Call inside the transaction that makes the change.

    `after` is the event this same transaction appended last to the case's ledger: the case is
    locked already and that event is the head, so neither is read again. (Any other event makes
    the insert fail on the ledger's unique sequence, never a fork.)"""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("append_event must run inside the transaction of the change it records")
    if after is not None:
        if after.case_id != case.pk:
            raise ValueError("`after` must be an event of the same case")
        locked, sequence, prev_hash = after.case, after.sequence + 1, after.hash
    else:
        locked = lock_case(case)
        last = CustodyEvent.objects.filter(case=locked).order_by("-sequence").only("sequence", "hash").first()
        sequence = last.sequence + 1 if last else 1
        prev_hash = last.hash if last else ledger.GENESIS_HASH
    recorded_at = timezone.now()
    occurred_at = occurred_at or recorded_at
    if corrects is not None and corrects.case_id != locked.pk:
        raise ValueError("a correction must name an event of the same case")
    actor_id = actor.pk if actor is not None else None
    actor_name = actor.get_username() if actor is not None else ""
    payload_text = ledger.canonical_json(payload).decode("utf-8")
    record = ledger.event_record(
        case=locked.reference,
        seq=sequence,
        event_type=str(event_type),
        subject={"type": str(subject_type), "id": subject_id, "label": subject_label},
        actor=None if actor_id is None else {"id": actor_id, "name": actor_name},
        occurred_at=ledger.format_timestamp(occurred_at),
        recorded_at=ledger.format_timestamp(recorded_at),
        corrects=corrects.sequence if corrects is not None else None,
        payload=json.loads(payload_text),
        prev=prev_hash,
    )
    # Round through the encoding so the stored timestamps equal the hashed ones to the microsecond.
    return CustodyEvent.objects.create(
        case=locked,
        sequence=sequence,
        event_type=event_type,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_label=subject_label,
        actor_id=actor_id,
        actor_name=actor_name,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        corrects=corrects,
        payload=payload_text,
        prev_hash=prev_hash,
        hash=ledger.event_hash(record),
    )


def describe_event(event: CustodyEvent) -> str:
    """One line about what an event records, for timelines in the admin and the dossier."""
    payload = event.payload_data
    if "transfer" in payload:
        transfer = payload["transfer"]
        seal = _("seal intact") if transfer.get("seal_intact") else _("SEAL BROKEN")
        route = f"{transfer.get('from') or '?'} → {transfer.get('to')}"
        return f"{route} ({seal}) {transfer.get('purpose', '')}".strip()
    if "examination" in payload:
        return f"{payload['examination'].get('examiner')}: {payload['examination'].get('findings')}"
    if "changed" in payload:
        return ", ".join(payload["changed"])
    if "reason" in payload:
        return str(payload["reason"])
    return ""


def head(case: Case) -> tuple[int, str]:
    last = CustodyEvent.objects.filter(case=case).order_by("-sequence").only("sequence", "hash").first()
    return (last.sequence, last.hash) if last else (0, ledger.GENESIS_HASH)


# --- Keys and checkpoints -----------------------------------------------------------------


def signing_key_path() -> Path:
    return Path(settings.ATTEST_SIGNING_KEY_PATH)


def _staged_private_key(path: Path, key) -> Path:
    """`key` in PEM, written whole and synced to a new file beside `path`; returns that file.

    open() makes it 0600, so the key is never readable by others, not even between its creation and
    a chmod that a killed process would never reach. The caller links or renames it into place, so
    `path` never holds half a key."""
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    staged = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    return staged


def ensure_signing_key(path: Path | None = None) -> Path:
    """Create an Ed25519 key at `path` if none is there (development); never replace one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = path or signing_key_path()
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = _staged_private_key(path, Ed25519PrivateKey.generate())
    try:
        with contextlib.suppress(FileExistsError):  # of two processes starting at once, the first key stays
            os.link(staged, path)
            filestore.sync_folder(path.parent)
    finally:
        staged.unlink()
    return path


class SigningKeyMissing(RuntimeError):
    pass


def load_private_key():
    from cryptography.hazmat.primitives import serialization

    path = signing_key_path()
    if not path.exists():
        raise SigningKeyMissing(
            f"no ledger signing key at {path} (ATTEST_SIGNING_KEY_PATH); "
            "create one with: python manage.py create_signing_key"
        )
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_key_raw(private_key=None) -> bytes:
    from cryptography.hazmat.primitives import serialization

    private_key = private_key or load_private_key()
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_fingerprint(private_key=None) -> str:
    """The signing key's full fingerprint (verify.py --key-fingerprint)."""
    return ledger.key_fingerprint(public_key_raw(private_key))


def public_key_pem(private_key=None) -> bytes:
    from cryptography.hazmat.primitives import serialization

    private_key = private_key or load_private_key()
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_pem_of(raw: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def retired_keys_dir() -> Path:
    """Where rotate_signing_key keeps the public halves of keys it retired (they still verify)."""
    return signing_key_path().parent / "retired"


def trusted_public_keys() -> dict[str, bytes]:
    """The signing key's public half, the keys it replaced (retired_keys_dir), and the keys listed in
    ATTEST_TRUSTED_PUBLIC_KEYS."""
    from cryptography.hazmat.primitives import serialization

    keys = {}
    if signing_key_path().exists():
        raw = public_key_raw()
        keys[ledger.key_id(raw)] = raw
    for extra in [*sorted(retired_keys_dir().glob("*.pem")), *settings.ATTEST_TRUSTED_PUBLIC_KEYS]:
        public = serialization.load_pem_public_key(Path(extra).read_bytes())
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        keys[ledger.key_id(raw)] = raw
    return keys


@transaction.atomic
def sign_checkpoint(*, case: Case, reason: str) -> Checkpoint:
    """Sign the case's current ledger head. Runs under the append lock, so the head cannot move."""
    checkpoint = prepare_checkpoint(case=case, reason=reason)
    checkpoint.save()
    return checkpoint


@transaction.atomic
def prepare_checkpoint(*, case: Case, reason: str) -> Checkpoint:
    """A checkpoint of the case's current head, signed under the append lock but not yet saved: the
    timestamp retry saves it only with a token (evidence/timestamps.py). Its signed_at is taken under
    the lock, so checkpoints ordered by time never shrink, whenever each is saved."""
    locked = lock_case(case)
    size, head_hash = head(locked)
    latest = Checkpoint.objects.filter(case=locked).order_by("-size").first()
    if latest is not None and latest.size > size:
        raise ValueError(f"the ledger of {locked.reference} is shorter than its last checkpoint")
    signed_at = timezone.now()
    signed = ledger.sign_checkpoint(
        load_private_key(),
        case=locked.reference,
        size=size,
        head=head_hash,
        signed_at=ledger.format_timestamp(signed_at),
    )
    return Checkpoint(
        case=locked,
        size=size,
        head_hash=head_hash,
        signed_at=signed_at,
        key_id=signed["key"],
        signature=signed["signature"],
        reason=reason,
    )


def rotate_signing_key(*, actor=None) -> tuple[str, str]:
    """Replace the signing key, keeping continuity: every case's ledger records a key.rotated event
    naming the old and new fingerprints, and a checkpoint signed by the OLD key covers it, so a
    verifier anchored to the old key follows the hand-over (docs/custody-format.md, section 8).
    The old public key is kept in retired_keys_dir(). Returns (old, new) fingerprints."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    old_key, new_key = load_private_key(), Ed25519PrivateKey.generate()
    old, new = key_fingerprint(old_key), key_fingerprint(new_key)
    retired = retired_keys_dir()
    retired.mkdir(parents=True, exist_ok=True)
    (retired / f"{old[:16]}.pem").write_bytes(public_key_pem(old_key))
    path = signing_key_path()
    # The new key is on disk before any ledger names it: a full disk stops the rotation here.
    staged = _staged_private_key(path, new_key)
    try:
        _hand_over(old=old, new=new, actor=actor)
    except BaseException:
        staged.unlink()
        raise
    os.replace(staged, path)  # atomic: a process reading the key gets the old one or the new one
    filestore.sync_folder(path.parent)
    return old, new


@transaction.atomic
def _hand_over(*, old: str, new: str, actor) -> None:
    """Every case's key.rotated event, each under a checkpoint the old key signs: all or none, or a
    failure part-way left ledgers telling of a hand-over to a key that was never installed."""
    for case in Case.objects.order_by("pk"):  # locked in id order, as every writer locks one case
        locked = lock_case(case)
        append_event(
            case=locked, event_type=EventType.KEY_ROTATED, subject_type=SubjectType.CASE, subject_id=locked.pk,
            subject_label=locked.reference, actor=actor, payload={"from": old, "to": new},
        )  # fmt: skip
        sign_checkpoint(case=locked, reason="signing key rotated")  # still the old key


# --- Verification --------------------------------------------------------------------------


@dataclass
class CaseReport:
    """The verdict on one case: intact, or the first broken event, checkpoint or file."""

    case: str
    size: int = 0
    head: str = ledger.GENESIS_HASH
    checkpoints: int = 0
    files: int = 0
    problems: list[ledger.Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "intact": self.intact,
            "size": self.size,
            "head": self.head,
            "checkpoints_checked": self.checkpoints,
            "files_checked": self.files,
            "problems": [
                {"where": problem.where, "reason": problem.reason, "seq": problem.seq} for problem in self.problems
            ],
        }


# What a record is rebuilt from (see CustodyEvent.record), read as tuples: no model instance per event.
# The corrected event's sequence comes by a join, trusted only when that event is of the same case.
# The two times are read as the database's text (Cast), not converted to datetimes row by row.
ROW_FIELDS = (
    "pk", "sequence", "event_type", "subject_type", "subject_id", "subject_label", "actor_id", "actor_name",
    Cast("occurred_at", models.TextField()), Cast("recorded_at", models.TextField()),
    "corrects__sequence", "corrects__case_id", "payload", "prev_hash", "hash",
)  # fmt: skip
ROWS_PER_BATCH = 2000
# A time as the database gives it as text: SQLite the stored text (naive, in the database's zone, as
# Django writes it), PostgreSQL timestamptz::text in the ISO style (the session's offset, the
# fraction's trailing zeros dropped). Any other spelling is read through Django's conversion.
STORED_TIME = r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(\+00)?"
# A row's two times, joined by a line break (which neither spelling holds): one match for both.
_STORED_TIMES = re.compile(f"{STORED_TIME}\n{STORED_TIME}", re.ASCII)


def _ledger_times(occurred: Any, recorded: Any, offsets: tuple[str | None, ...]) -> tuple[str, str] | None:
    """ledger.format_timestamp of the two times Django reads the texts as, when both are valid times
    in a spelling of STORED_TIME with one of the `offsets` that mean UTC (None: no offset); else None."""
    if type(occurred) is not str or type(recorded) is not str:
        return None
    match = _STORED_TIMES.fullmatch(f"{occurred}\n{recorded}")
    if match is None:
        return None
    day, time, fraction, offset, other_day, other_time, other_fraction, other_offset = match.groups()
    if offset not in offsets or other_offset not in offsets:
        return None
    try:  # real dates and times (no 30 February, no second 60)
        dt.datetime.fromisoformat(occurred[:19])
        dt.datetime.fromisoformat(recorded[:19])
    except ValueError:
        return None
    return (
        f"{day}T{time}.{(fraction or '').ljust(6, '0')}Z",
        f"{other_day}T{other_time}.{(other_fraction or '').ljust(6, '0')}Z",
    )


def ledger_entries(case: Case) -> Iterable[dict[str, Any]]:
    """The case's events as hashed records with their hash, straight from the rows, read in batches
    (memory does not grow with the ledger).

    A row whose times have a spelling of STORED_TIME and whose payload is canonical text is rebuilt
    directly (its payload a ledger.CanonicalObject, hashed as stored); any other row as before, its
    times converted by Django, so its verdict and words stay the same."""
    events = CustodyEvent.objects.filter(case=case)
    # With USE_TZ off Django reads naive times (which the ledger refuses); with it on, naive stored
    # times are UTC when the database has no TIME_ZONE of its own.
    own_zone = settings.DATABASES[router.db_for_read(CustodyEvent)].get("TIME_ZONE")
    offsets = () if not settings.USE_TZ else ("+00",) if own_zone is not None else ("+00", None)
    rows = events.order_by("sequence", "pk").values_list(*ROW_FIELDS).iterator(chunk_size=ROWS_PER_BATCH)
    reference, case_pk, version = case.reference, case.pk, ledger.FORMAT_VERSION
    for (pk, seq, event_type, subject_type, subject_id, label, actor_id, actor_name, occurred_text,
         recorded_text, corrects, corrects_case, payload, prev, digest) in rows:  # fmt: skip
        times = _ledger_times(occurred_text, recorded_text, offsets)
        body = ledger.canonical_object(payload) if type(payload) is str else None
        if times is not None and body is not None:
            occurred_at, recorded_at = times
            yield {
                "v": version,
                "case": reference,
                "seq": seq,
                "type": event_type,
                "subject": {"type": subject_type, "id": subject_id, "label": label},
                "actor": None if actor_id is None else {"id": actor_id, "name": actor_name},
                "occurred_at": occurred_at,
                "recorded_at": recorded_at,
                "corrects": corrects if corrects_case == case_pk else None,
                "payload": body,
                "prev": prev,
                "hash": digest,
            }
            continue
        # Rare (a row written outside Django, or tampered with): the row's times as Django reads them.
        occurred, recorded = CustodyEvent.objects.filter(pk=pk).values_list("occurred_at", "recorded_at").get()
        try:
            record = ledger.event_record(
                case=reference,
                seq=seq,
                event_type=event_type,
                subject={"type": subject_type, "id": subject_id, "label": label},
                actor=None if actor_id is None else {"id": actor_id, "name": actor_name},
                occurred_at=ledger.format_timestamp(occurred),
                recorded_at=ledger.format_timestamp(recorded),
                corrects=corrects if corrects_case == case_pk else None,
                payload=_parse_payload(payload),
                prev=prev,
            )
        except (ValueError, ledger.LedgerFormatError) as exc:
            record = {"seq": seq, "unreadable": str(exc)}
        record["hash"] = digest
        # A payload column that is not canonical text was edited outside the encoder.
        if "payload" in record and not _canonical_text(record["payload"], payload):
            record["payload"] = {"non_canonical_payload": payload}
        yield record


def _parse_payload(text: str) -> Any:
    """json.loads, by orjson when it can: for a canonical payload both give the same value, and one
    that is not canonical is caught by _canonical_text either way."""
    if orjson is not None:
        try:
            return orjson.loads(text)
        except ValueError:  # orjson.JSONDecodeError; json may still read it (NaN, huge numbers)
            pass
    return json.loads(text)


def _canonical_text(value: Any, text: str) -> bool:
    try:
        return ledger.canonical_json(value) == text.encode("utf-8", "surrogatepass")
    except ledger.LedgerFormatError:  # a float or an integer out of range: not what the encoder wrote
        return False


# Reverse relations from a stored file to the rows that use it, with each one's path to the case.
FILE_RELATIONS = {
    "photos": "item__case", "kept_files": "item__case", "sources": "case", "exports": "case",
    "trace_letters": "case", "trace_responses": "request__case",
}  # fmt: skip


def case_files(case: Case) -> models.QuerySet[StoredFile]:
    """Every stored file that belongs to the case: photo originals, files kept, archived sources, exports."""
    condition = models.Q(pk__in=[])
    for relation, case_path in FILE_RELATIONS.items():
        condition |= models.Q(**{f"{relation}__{case_path}": case})
    return StoredFile.objects.filter(condition).distinct().order_by("pk")


def check_file(stored: StoredFile) -> ledger.Problem | None:
    where = f"file {stored.path}"
    try:
        digest, size = filestore.hash_stored(stored.path)
    except FileNotFoundError:
        return ledger.Problem(where, "the file is missing")
    if digest != stored.sha256:
        return ledger.Problem(where, f"its SHA-256 is {digest}, not the recorded {stored.sha256}")
    if size != stored.size:
        return ledger.Problem(where, f"its size is {size}, not the recorded {stored.size}")
    return None


class VerifiedPrefix:
    """{seq: hash} of a verified prefix of `size` events, of which only some hashes are kept: what
    ledger.head_problem asks of it (len, `in`, and the hashes of the kept sizes)."""

    def __init__(self, size: int, kept: dict[int, str]) -> None:
        self.size, self.kept = size, kept

    def __len__(self) -> int:
        return self.size

    def __contains__(self, seq: object) -> bool:
        return type(seq) is int and 1 <= seq <= self.size

    def __getitem__(self, seq: int) -> str:
        return self.kept[seq]


def verify_case(case: Case, *, published_heads: Iterable[tuple[int, str]] = (), files: bool = True) -> CaseReport:
    """Recompute the chain, check every checkpoint and published head, re-hash every file."""
    report = CaseReport(case=case.reference)
    heads = list(published_heads)
    checkpoints = [item.as_signed(case.reference) for item in Checkpoint.objects.filter(case=case)]
    # Only the hashes that checkpoints and published heads name are kept, so memory stays flat.
    wanted = {size for size, _hash in heads} | {item["size"] for item in checkpoints}
    hashes: dict[int, str] = {}

    def entries():
        for entry in ledger_entries(case):
            if entry.get("seq") in wanted and isinstance(entry["seq"], int):
                hashes.setdefault(entry["seq"], entry["hash"])
            yield entry

    chain = ledger.verify_chain(entries(), case=case.reference)
    report.size, report.head = chain.size, chain.head
    if chain.problem:
        report.problems.append(chain.problem)
    # Heads and checkpoints are judged against the verified prefix only.
    intact_hashes = VerifiedPrefix(chain.size, {seq: digest for seq, digest in hashes.items() if seq <= chain.size})
    report.checkpoints = len(checkpoints)
    if checkpoints:
        problem = ledger.verify_checkpoints(
            checkpoints, intact_hashes, case=case.reference, public_keys=trusted_public_keys()
        )
        if problem:
            report.problems.append(problem)
    for size, head_hash in heads:
        reason = ledger.head_problem(size, head_hash, intact_hashes)
        if reason:
            report.problems.append(ledger.Problem(f"published head {size}:{head_hash[:12]}…", reason, size))
    if files:
        for stored in case_files(case).iterator():
            report.files += 1
            problem = check_file(stored)
            if problem:
                report.problems.append(problem)
    return report
