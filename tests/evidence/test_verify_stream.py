"""Verification that streams: verify.py and the database verifier read the ledger piece by piece,
and their fast paths reach the verdict, and the words, of the exact path.

verify.py has three ways through a line: orjson (when installed), json's C codec, and the exact
path (parse_json and canonical(), which also words every refusal). Each tampered package here is
verified all three ways and must get the same output.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db.models.signals import pre_init

from evidence import custody, services
from evidence.lib import ledger
from evidence.models import CustodyEvent
from tests.evidence.test_custody import WHEN, as_database_attacker, ledger_of_five  # noqa: F401 (a fixture)
from tests.evidence.test_custody import verify as verify_custody
from tests.evidence.test_verify_script import CASE, build_chain, ledger_path, run, write_package
from tests.evidence.test_verify_script import verify as script
from tests.factories import EvidenceItemFactory

SCRIPT = Path(script.__file__)


def verdicts(package: Path, monkeypatch) -> dict[str, tuple[int, str]]:
    """main()'s status and output by each way through a line."""
    found = {"orjson": run(package)}
    with monkeypatch.context() as patch:
        patch.setattr(script, "orjson", None)
        found["json"] = run(package)
        patch.setattr(script, "_fast_entry", lambda line: None)
        found["exact"] = run(package)
    return found


def rewrite_line(package: Path, number: int, change) -> None:
    """Replace line `number` by change(its record's canonical text), with a hash recomputed over
    exactly those bytes, as someone who knows the format but not the rules would."""
    lines = ledger_path(package).read_bytes().splitlines(keepends=True)
    entry = json.loads(lines[number - 1])
    record = ledger.canonical_json({name: entry[name] for name in ledger.EVENT_FIELDS}).decode()
    text = change(record)
    digest = hashlib.sha256(ledger.EVENT_DOMAIN + text.encode()).hexdigest()
    cut = text.index(',"occurred_at":')
    lines[number - 1] = f'{text[:cut]},"hash":"{digest}"{text[cut:]}\n'.encode()
    ledger_path(package).write_bytes(b"".join(lines))


def upper_case_hash(package: Path) -> None:
    data = ledger_path(package).read_bytes()
    start = data.index(b'"hash":"') + 8
    ledger_path(package).write_bytes(data[:start] + data[start : start + 64].upper() + data[start + 64 :])


TAMPERING = {
    "a byte changed": lambda p: ledger_path(p).write_bytes(ledger_path(p).read_bytes().replace(b"ivan", b"ivAn", 1)),
    "a space after a comma": lambda p: ledger_path(p).write_bytes(ledger_path(p).read_bytes().replace(b",", b", ", 1)),
    "the last line unterminated": lambda p: ledger_path(p).write_bytes(ledger_path(p).read_bytes()[:-1]),
    "a float, hashed": lambda p: rewrite_line(p, 6, lambda t: t.replace('"size":4', '"size":4.0')),
    "an exponent, hashed": lambda p: rewrite_line(p, 6, lambda t: t.replace('"size":4', '"size":4e0')),
    "seq as a float, hashed": lambda p: rewrite_line(p, 6, lambda t: t.replace('"seq":6', '"seq":6.0')),
    "an integer beyond 2^53, hashed": lambda p: rewrite_line(p, 6, lambda t: t.replace('"size":4', f'"size":{2**53}')),
    "-0, hashed": lambda p: rewrite_line(p, 6, lambda t: t.replace('"size":4', '"size":-0')),
    "a key twice, hashed": lambda p: rewrite_line(p, 6, lambda t: t.replace('"size":4', '"size":4,"size":4')),
    "an escape not canonical, hashed": lambda p: rewrite_line(p, 6, lambda t: t.replace("exports", "\\u0065xports")),
    "a lone surrogate, hashed": lambda p: rewrite_line(p, 6, lambda t: t.replace("exports", "\\ud800xports")),
    "NaN, hashed": lambda p: rewrite_line(p, 6, lambda t: t.replace('"size":4', '"size":NaN')),
    "the hash in upper case": lambda p: upper_case_hash(p),
}  # fmt: skip


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_every_way_through_a_line_gives_the_same_verdict(tmp_path, monkeypatch, tampering):
    package = write_package(tmp_path / "bag", Ed25519PrivateKey.generate(), build_chain())
    TAMPERING[tampering](package)
    found = verdicts(package, monkeypatch)
    assert found["orjson"] == found["json"] == found["exact"]
    status, output = found["exact"]
    assert status == 1, output
    assert output.startswith(f"{CASE}: BROKEN - "), output


def test_an_intact_package_is_read_the_same_every_way(tmp_path, monkeypatch):
    chain = build_chain()
    package = write_package(tmp_path / "bag", Ed25519PrivateKey.generate(), chain)
    found = verdicts(package, monkeypatch)
    assert found["orjson"] == found["json"] == found["exact"]
    assert found["exact"][0] == 2
    assert f"6 events, head {chain[-1]['hash']}" in found["exact"][1]


def test_only_the_hashes_that_checkpoints_and_heads_name_are_kept(tmp_path):
    package = write_package(tmp_path / "bag", Ed25519PrivateKey.generate(), build_chain())
    hashes = script.verify_ledger(ledger_path(package), CASE, keep={2, 4})
    assert len(hashes) == 6
    assert (1 in hashes, 6 in hashes, 0 in hashes, 7 in hashes) == (True, True, False, False)
    assert sorted(hashes.kept) == [2, 4]
    assert hashes[6] == build_chain()[-1]["hash"]


# --- Memory does not grow with the ledger -------------------------------------------------------------

PEAK = """
import runpy, sys
{hide}
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exc:
    code = exc.code
with open("/proc/self/status") as status:
    print(next(line.split()[1] for line in status if line.startswith("VmHWM:")), file=sys.stderr)
sys.exit(code)
"""


def big_package(folder: Path, events: int, key) -> Path:
    """A package of `events` events of about 1.2 KB each (as real ones), built with the ledger lib."""
    data = folder / "data"
    for name in ("ledger", "checkpoints", "public-keys"):
        (data / name).mkdir(parents=True)
    prev = ledger.GENESIS_HASH
    text = 'Серійний номер частково видно;\n"stamp" legible ' * 12
    with (data / "ledger" / f"{CASE}.jsonl").open("wb") as out:
        for seq in range(1, events + 1):
            record = ledger.event_record(
                case=CASE, seq=seq, event_type="item.updated", subject={"type": "evidence_item", "id": 7,
                "label": "EX-0001"}, actor={"id": 3, "name": "ivan"}, occurred_at="2024-01-02T05:40:00.000000Z",
                recorded_at="2024-01-02T05:40:00.000000Z", corrects=None,
                payload={"item": {"id": 7, "description": text, "n": seq}}, prev=prev,
            )  # fmt: skip
            prev = ledger.event_hash(record)
            out.write(ledger.ledger_line(record, prev) + b"\n")
    checkpoint = ledger.sign_checkpoint(key, case=CASE, size=events, head=prev, signed_at="2024-02-01T00:00:00.000000Z")
    (data / "checkpoints" / f"{CASE}.json").write_text(json.dumps([checkpoint]))
    (data / "files.json").write_text("[]")
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (data / "public-keys" / "attest.pem").write_bytes(pem)
    return folder


def peak_kb(package: Path, *, hide_orjson: bool) -> int:
    code = PEAK.format(hide="sys.modules['orjson'] = None" if hide_orjson else "")
    result = subprocess.run(
        [sys.executable, "-c", code, str(SCRIPT), str(package)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr  # intact, unanchored
    return int(result.stderr.split()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from /proc (Linux)")
def test_verify_py_memory_does_not_grow_with_the_ledger(tmp_path):
    """The peak RSS of verify.py on 20,000 events (24 MB) is within a few MB of that on 2,000: it
    reads line by line and keeps no hash per event. Reading the file whole would add 24 MB at least."""
    key = Ed25519PrivateKey.generate()
    small, large = big_package(tmp_path / "small", 2_000, key), big_package(tmp_path / "large", 20_000, key)
    assert ledger_path(large).stat().st_size > 20_000_000
    for hide_orjson in (False, True):
        growth = peak_kb(large, hide_orjson=hide_orjson) - peak_kb(small, hide_orjson=hide_orjson)
        assert growth < 6_000, f"peak RSS grew {growth} KB from 2,000 to 20,000 events"


# --- The database verifier ----------------------------------------------------------------------------


def test_the_database_verifier_builds_no_model_instance_per_event(ledger_of_five):  # noqa: F811 (the fixture)
    built = []

    def count(sender, **kwargs):
        built.append(sender)

    pre_init.connect(count, sender=CustodyEvent)
    try:
        report = custody.verify_case(ledger_of_five, files=False)
    finally:
        pre_init.disconnect(count, sender=CustodyEvent)
    assert report.intact
    assert report.size == 5
    assert built == []


def test_a_float_in_a_payload_column_is_reported_not_a_crash(ledger_of_five):  # noqa: F811 (the fixture)
    with as_database_attacker() as cursor:
        cursor.execute("UPDATE evidence_custodyevent SET payload = '{\"x\":1.5}' WHERE sequence = 4")
    code, out = verify_custody(ledger_of_five)
    assert code == 1
    assert "event 4: its content does not match its hash" in out


def test_the_database_entries_are_the_records_the_rows_hold(ledger_of_five):  # noqa: F811 (the fixture)
    rows = CustodyEvent.objects.filter(case=ledger_of_five).order_by("sequence")
    expected = [{**row.record(ledger_of_five.reference, None), "hash": row.hash} for row in rows]
    assert list(custody.ledger_entries(ledger_of_five)) == expected


def test_a_correction_is_read_with_the_sequence_it_names_within_its_own_case(team):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    transfer = services.transfer_custody(actor=team.ivan, item=item, to_custodian="Lab", occurred_at=WHEN)
    fix = services.correct_event(actor=team.ivan, event=transfer, reason="typo", correction={"notes": "x"})
    rows = CustodyEvent.objects.filter(case=team.case).order_by("sequence")
    sequences = {row.pk: row.sequence for row in rows}
    expected = [{**row.record(team.case.reference, sequences.get(row.corrects_id)), "hash": row.hash} for row in rows]
    assert list(custody.ledger_entries(team.case)) == expected
    assert expected[-1]["corrects"] == transfer.sequence
    assert custody.verify_case(team.case, files=False).intact
    # Pointed at the other case's event of the same number, the correction no longer names one of its own.
    while CustodyEvent.objects.filter(case=team.other_case).count() < transfer.sequence:
        EvidenceItemFactory(case=team.other_case, actor=team.charlie)
    elsewhere = CustodyEvent.objects.get(case=team.other_case, sequence=transfer.sequence)
    with as_database_attacker() as cursor:
        cursor.execute("UPDATE evidence_custodyevent SET corrects_id = %s WHERE id = %s", [elsewhere.pk, fix.pk])
    report = custody.verify_case(team.case, files=False)
    assert [str(problem) for problem in report.problems] == [
        f"event {fix.sequence}: an event.corrected must name an earlier event of the ledger in corrects"
    ]


def test_a_time_spelled_otherwise_in_its_column_is_read_as_django_reads_it(ledger_of_five):  # noqa: F811
    """The database verifier reads the two times as the database's text; a spelling it does not know
    (here written outside Django, in another zone) is read through Django's conversion instead, so the
    same instant still verifies and another one is still caught."""
    event = CustodyEvent.objects.get(case=ledger_of_five, sequence=3)
    kyiv = event.occurred_at.astimezone(ZoneInfo("Europe/Kyiv"))
    with as_database_attacker() as cursor:
        cursor.execute("UPDATE evidence_custodyevent SET occurred_at = %s WHERE id = %s", [kyiv.isoformat(), event.pk])
    rows = CustodyEvent.objects.filter(case=ledger_of_five).order_by("sequence")
    expected = [{**row.record(ledger_of_five.reference, None), "hash": row.hash} for row in rows]
    assert list(custody.ledger_entries(ledger_of_five)) == expected
    assert custody.verify_case(ledger_of_five, files=False).intact
    later = (kyiv + timedelta(microseconds=1)).isoformat()
    with as_database_attacker() as cursor:
        cursor.execute("UPDATE evidence_custodyevent SET occurred_at = %s WHERE id = %s", [later, event.pk])
    report = custody.verify_case(ledger_of_five, files=False)
    assert str(report.problems[0]) == "event 3: its content does not match its hash (the event was altered)"
