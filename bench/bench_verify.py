"""Custody verification benchmark: verify.py and the database verifier against a minimal verifier.

    .venv/bin/python bench/bench_verify.py [--quick] [--events N]

A ledger of 100,000 events (about 1.2 KB each, like the worked example of docs/custody-format.md:
Cyrillic text, escaped quotes and line breaks, a photo recorded now and then, corrections) is built
with evidence.lib.ledger into a temporary evidence package, signed at its head. Then, in one run:

1. raw SHA-256: hashlib.sha256 over each line of the same file (no parsing): the ceiling;
2. minimal: the least a verifier must do, written here with the standard library only: parse each
   line with json, re-encode it canonically (json.dumps, sorted keys, no spaces, UTF-8), compare
   with the line, hash the record without "hash", compare with the recorded hash and the chain;
3. verify.py: the shipped standalone verifier, as the other side runs it (python verify.py BAG
   --head SIZE:SHA256, a subprocess: interpreter start, key loading, checkpoint check included);
   also with orjson hidden from it, the standard-library fallback every reader has;
4. the database verifier: evidence.custody.verify_case (what `manage.py verify_custody
   --skip-files` runs) on the same events, inserted as CustodyEvent rows with bulk_create into a
   throwaway SQLite database in a temporary folder.

Each is timed best of ROUNDS (cold-start noise and the 2 shared cores make single runs noisy), the
five taken in turn in every round, so that a slow spell of the machine falls on all of them.
Targets: verify.py and the database verifier each within TARGET_RATIO (1.5x) of the minimal
verifier's time and at least MIN_SHA_SHARE (10%) of raw SHA-256's throughput; verify.py's peak
memory (its process's peak RSS, measured in a fresh child per size) within FLAT_MB (20 MB) between
a ledger of 10,000 and one of 100,000 events.
For information: the same peaks without orjson, and the database verifier's peak Python heap
(tracemalloc) on a case of a tenth of the events and on the full case.
--quick (or ATTEST_BENCH_QUICK=1) is a smoke run on 5,000 events (memory: 500 against 5,000); there
verify.py's figures are dominated by the interpreter's start (about 0.15 s), so its SHA-256 share fails.
A missed target prints FAIL but exits 0: the figures are what matter. An error exits 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable
SCRIPT = ROOT / "evidence" / "export" / "verify.py"
CASE = "BENCH-0001"
TARGET_RATIO = 1.5
MIN_SHA_SHARE = 0.10
FLAT_MB = 20.0
ROUNDS = 3
GENESIS = "0" * 64
EVENT_DOMAIN = b"attest-custody-event/v1\n"
# Runs verify.py in this child and prints its peak resident set (Linux: /proc VmHWM) to stderr.
PEAK_WRAPPER = """
import runpy, sys
sys.argv = sys.argv[1:]
code = 0
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exc:
    code = exc.code
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(f"peak-kb {peak}", file=sys.stderr)
sys.exit(code)
"""
HIDE_ORJSON = "import sys; sys.modules['orjson'] = None\n"


def log(message: str = "") -> None:
    print(message, flush=True)


# --- the ledger ---------------------------------------------------------------------------------

PLACES = ["Харків, вул. Сумська", "Київ", "Одеса — порт", "Dnipro", 'Zaporizhzhia, "Motor Sich" yard']
CUSTODIANS = ["National Police, Kharkiv", "Forensic Lab, Kyiv", "SBU evidence store", "Prosecutor's office"]


def item_state(rng: random.Random, item_id: int) -> dict:
    return {
        "id": item_id,
        "case_id": 1,
        "exhibit_number": f"EX-{item_id:04d}",
        "kind": rng.choice(["physical_debris", "document", "photo_set", "sample"]),
        "title": rng.choice(["Rocket motor casing", "Fragment with markings 주체112", "Fuse\tassembly"]),
        "description": rng.choice(["", 'Burnt;\n"stamp" legible', "Серійний номер частково видно\u2028"]),
        "incident_id": rng.choice([None, rng.randrange(1, 10_000)]),
        "parent_id": None,
        "recovered_at": "2024-01-02T05:40:00.000000Z",
        "recovered_by": "State Emergency Service",
        "recovery_place": rng.choice(PLACES),
        "recovery_latitude": f"{rng.uniform(44, 52):.6f}",
        "recovery_longitude": f"{rng.uniform(22, 40):.6f}",
        "custodian": rng.choice(CUSTODIANS),
        "storage_location": rng.choice(["", "Shelf B-12", "Safe 3 / box 7"]),
        "seal_number": f"UA-{rng.randrange(10_000):04d}",
        "condition": rng.choice(["intact", 'Burnt;\n"stamp" legible', "corroded \x7f edge"]),
        "status": rng.choice(["in_custody", "transferred", "examined"]),
    }


def event_fields(rng: random.Random, seq: int) -> tuple[str, dict, int | None, dict | None, dict]:
    """(type, subject, corrects, actor, payload) of event `seq`, in a realistic mix."""
    actor = rng.choice(
        [
            {"id": 3, "name": "o.kovalenko"},
            {"id": 4, "name": "\u0456.\u043f\u0435\u0442\u0440\u0435\u043d\u043a\u043e"},
            None,
        ]
    )
    item_id = rng.randrange(1, 2_000)
    subject = {"type": "evidence_item", "id": item_id, "label": f"EX-{item_id:04d}"}
    roll = rng.random()
    if seq > 1 and roll < 0.02:
        payload = {"reason": "typo in the findings", "correction": {"findings": "주체111 \\ stamp"}}
        return (
            "event.corrected",
            {"type": "custody_event", "id": seq - 1, "label": f"#{seq - 1}"},
            seq - 1,
            actor,
            payload,
        )
    if roll < 0.04:
        photo = {"id": seq, "sha256": hashlib.sha256(seq.to_bytes(8, "big")).hexdigest(), "size": 2_000_000 + seq}
        return "photo.added", {"type": "photo", "id": seq, "label": f"photo {seq}"}, None, actor, {"photo": photo}
    state = item_state(rng, item_id)
    if roll < 0.4:
        return "item.created", subject, None, actor, {"item": state}
    if roll < 0.7:
        transfer = {"from": rng.choice(CUSTODIANS), "to": rng.choice(CUSTODIANS), "place": rng.choice(PLACES),
                    "purpose": "metallurgical analysis", "seal_intact": rng.random() < 0.9, "notes": ""}  # fmt: skip
        return "custody.transfer", subject, None, actor, {"item": state, "transfer": transfer}
    changed = sorted(rng.sample(sorted(state), 2))
    return "item.updated", subject, None, actor, {"item": state, "changed": changed, "reason": "re-examined"}


def ledger_records(events: int, case: str = CASE, seed: int = 21):
    """Yield (record, hash) of a valid chain of `events` events, built with evidence.lib.ledger."""
    from evidence.lib import ledger

    rng, prev = random.Random(seed), ledger.GENESIS_HASH
    for seq in range(1, events + 1):
        event_type, subject, corrects, actor, payload = event_fields(rng, seq)
        second = f"{seq % 60:02d}"
        record = ledger.event_record(
            case=case, seq=seq, event_type=event_type, subject=subject, actor=actor,
            occurred_at=f"2024-01-02T05:40:{second}.000000Z", recorded_at=f"2024-01-03T09:15:{second}.481903Z",
            corrects=corrects, payload=payload, prev=prev,
        )  # fmt: skip
        prev = ledger.event_hash(record)
        yield record, prev


def build_package(folder: Path, events: int, key) -> tuple[Path, str]:
    """An evidence package of one case with `events` events and one checkpoint at its head;
    returns (package, the head as SIZE:SHA256)."""
    from cryptography.hazmat.primitives import serialization

    from evidence.lib import ledger

    data = folder / "data"
    for name in ("ledger", "checkpoints", "public-keys"):
        (data / name).mkdir(parents=True)
    head = GENESIS
    with (data / "ledger" / f"{CASE}.jsonl").open("wb") as out:
        for record, head in ledger_records(events):
            out.write(ledger.ledger_line(record, head) + b"\n")
    checkpoint = ledger.sign_checkpoint(key, case=CASE, size=events, head=head, signed_at="2024-02-01T00:00:00.000000Z")
    (data / "checkpoints" / f"{CASE}.json").write_text(json.dumps([checkpoint]))
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (data / "public-keys" / "attest.pem").write_bytes(pem)
    (data / "files.json").write_text("[]")
    return folder, f"{events}:{head}"


# --- the baselines ------------------------------------------------------------------------------


def raw_sha256(path: Path) -> None:
    """SHA-256 over every line of the file: what hashing alone costs."""
    with path.open("rb") as handle:
        for line in handle:
            hashlib.sha256(EVENT_DOMAIN + line).digest()


def minimal_verifier(path: Path) -> str:
    """The least a verifier can do per line (standard library): parse, re-encode canonically and
    compare, hash the record without "hash", check the hash and the link. Returns the head."""
    prev, expected = GENESIS, 1
    with path.open("rb") as handle:
        for line in handle:
            line = line[:-1]
            entry = json.loads(line)
            if json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() != line:
                raise ValueError(f"line {expected}: not canonical")
            recorded = entry.pop("hash")
            if entry["seq"] != expected or entry["prev"] != prev:
                raise ValueError(f"line {expected}: chain broken")
            canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            if hashlib.sha256(EVENT_DOMAIN + canonical).hexdigest() != recorded:
                raise ValueError(f"line {expected}: hash differs")
            prev, expected = recorded, expected + 1
    return prev


def best_of(rounds: int, function, *args) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return min(times)


def run_verify_py(package: Path, head: str, *, hide_orjson: bool = False) -> tuple[float, float]:
    """python verify.py PACKAGE --head HEAD in a fresh child: (seconds, peak RSS in MB)."""
    code = (HIDE_ORJSON if hide_orjson else "") + PEAK_WRAPPER
    command = [sys.executable, "-c", code, str(SCRIPT), str(package), "--head", head]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or "INTACT AND ANCHORED" not in result.stdout:
        raise RuntimeError(f"verify.py did not find the package intact: {result.stdout}{result.stderr}")
    peak_kb = int(next(line for line in result.stderr.splitlines() if line.startswith("peak-kb")).split()[1])
    return elapsed, peak_kb / 1024


# --- the database verifier ----------------------------------------------------------------------


def configure_django(tmp: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DEBUG"] = "0"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(64)
    for name in ("CACHE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "ATTEST_BENCH_DATABASE_URL"):
        os.environ.pop(name, None)
    for name in ("MEDIA_ROOT", "VAR_DIR"):
        folder = tmp / name.lower()
        folder.mkdir()
        os.environ[name] = str(folder)
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def insert_events(events: int, reference: str = CASE):
    """The same chain as the package's, as CustodyEvent rows (bulk_create); returns the case."""
    from datetime import datetime

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from cases.models import Case
    from evidence.lib import ledger
    from evidence.models import CustodyEvent

    def moment(text: str) -> datetime:
        return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")

    with transaction.atomic():
        users = get_user_model()
        for pk in (3, 4):  # the actors of the events
            if not users.objects.filter(pk=pk).exists():
                users.objects.create_user(f"bench-{pk}", pk=pk, email=f"bench{pk}@attest.invalid")
        case = Case.objects.create(reference=reference, title="Custody verification (benchmark)")
        batch: list = []
        ids: dict[int, int] = {}
        for record, digest in ledger_records(events, reference):
            corrects = record["corrects"]
            if corrects is not None:  # the row it corrects must exist first: flush the batch
                for row in CustodyEvent.objects.bulk_create(batch):
                    ids[row.sequence] = row.pk
                batch = []
            actor = record["actor"]
            batch.append(
                CustodyEvent(
                    case=case,
                    sequence=record["seq"],
                    event_type=record["type"],
                    subject_type=record["subject"]["type"],
                    subject_id=record["subject"]["id"],
                    subject_label=record["subject"]["label"],
                    actor_id=None if actor is None else actor["id"],
                    actor_name="" if actor is None else actor["name"],
                    occurred_at=moment(record["occurred_at"]),
                    recorded_at=moment(record["recorded_at"]),
                    corrects_id=None if corrects is None else ids[corrects],
                    payload=ledger.canonical_json(record["payload"]).decode(),
                    prev_hash=record["prev"],
                    hash=digest,
                )
            )
            if len(batch) >= 2000:
                for row in CustodyEvent.objects.bulk_create(batch):
                    ids[row.sequence] = row.pk
                batch = []
        CustodyEvent.objects.bulk_create(batch)
    return case


def database_heap_peak(case, events: int) -> float:
    """The peak of Python's heap (tracemalloc, MB) while the database verifier checks the case."""
    import tracemalloc

    tracemalloc.start()
    try:
        verify_database(case, events)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def verify_database(case, events: int) -> None:
    from evidence import custody

    report = custody.verify_case(case, files=False)
    if not report.intact or report.size != events:
        raise RuntimeError(f"the database verifier did not find the ledger intact: {report.as_dict()}")


# --- the run ------------------------------------------------------------------------------------


def rate(events: int, size: int, seconds: float) -> str:
    return f"{seconds:7.3f} s  {events / seconds:9,.0f} events/s  {size / seconds / 1e6:7.1f} MB/s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("ATTEST_BENCH_QUICK") == "1")
    parser.add_argument("--events", type=int, help="ledger size (default 100,000; 5,000 with --quick)")
    args = parser.parse_args()
    events = args.events or (5_000 if args.quick else 100_000)
    small = max(1, events // 10)
    rounds = 1 if args.quick else ROUNDS
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        import orjson  # noqa: F401

        encoder = "orjson installed"
    except ImportError:
        encoder = "orjson not installed: standard library only"
    tmp = Path(tempfile.mkdtemp(prefix="attest-bench-verify-"))
    failures = []
    try:
        key = Ed25519PrivateKey.generate()
        started = time.perf_counter()
        package, head = build_package(tmp / "bag", events, key)
        ledger_file = package / "data" / "ledger" / f"{CASE}.jsonl"
        size = ledger_file.stat().st_size
        built = time.perf_counter() - started
        log(f"ledger: {events:,} events, {size / 1e6:.1f} MB, built in {built:.1f} s ({encoder})")
        log(f"best of {rounds} round(s); the machine's cores may be shared: figures are noisy")

        configure_django(tmp)
        started = time.perf_counter()
        case = insert_events(events)
        log(f"database: {events:,} CustodyEvent rows in SQLite, inserted in {time.perf_counter() - started:.1f} s")

        sides = {
            "raw SHA-256": lambda: raw_sha256(ledger_file),
            "minimal verifier": lambda: minimal_verifier(ledger_file),
            "verify.py": lambda: run_verify_py(package, head),
            "verify.py, no orjson": lambda: run_verify_py(package, head, hide_orjson=True),
            "database verifier": lambda: verify_database(case, events),
        }
        best = {name: float("inf") for name in sides}
        for _round in range(rounds):  # every side in each round: a slow spell of the machine falls on all
            for name, side in sides.items():
                best[name] = min(best[name], best_of(1, side))
        sha, minimal, script, fallback, database = best.values()
        log(f"  raw SHA-256            {rate(events, size, sha)}")
        log(f"  minimal verifier       {rate(events, size, minimal)}")
        log(f"  verify.py              {rate(events, size, script)}  ({script / minimal:.2f}x minimal)")
        log(f"  verify.py, no orjson   {rate(events, size, fallback)}  ({fallback / minimal:.2f}x minimal)")
        log(f"  database verifier      {rate(events, size, database)}  ({database / minimal:.2f}x minimal)")

        for name, seconds in (("verify.py", script), ("database verifier", database)):
            ratio, share = seconds / minimal, sha / seconds
            if ratio > TARGET_RATIO:
                failures.append(f"{name} took {ratio:.2f}x the minimal verifier's time (target {TARGET_RATIO}x)")
            if share < MIN_SHA_SHARE:
                failures.append(f"{name} ran at {share:.1%} of raw SHA-256 (target {MIN_SHA_SHARE:.0%})")

        small_case = insert_events(small, f"{CASE}-SMALL")
        heap_small, heap_large = database_heap_peak(small_case, small), database_heap_peak(case, events)
        heaps = f"{heap_small:.1f} MB at {small:,} events, {heap_large:.1f} MB at {events:,}"
        log(f"  database verifier peak Python heap: {heaps}")

        small_package, small_head = build_package(tmp / "small", small, key)
        for hide_orjson in (False, True):
            peak_small = run_verify_py(small_package, small_head, hide_orjson=hide_orjson)[1]
            peak_large = run_verify_py(package, head, hide_orjson=hide_orjson)[1]
            name = "verify.py, no orjson" if hide_orjson else "verify.py"
            log(f"{name} peak RSS: {peak_small:.1f} MB at {small:,} events, {peak_large:.1f} MB at {events:,}")
            if not hide_orjson and peak_large - peak_small > FLAT_MB:
                failures.append(f"verify.py's peak memory grew {peak_large - peak_small:.1f} MB (target {FLAT_MB:.0f})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for failure in failures:
        log(f"FAIL {failure}")
    if not failures:
        log("ok: every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
