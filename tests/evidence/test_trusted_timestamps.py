"""Trusted timestamps (RFC 3161) of checkpoints, against a real TSA on loopback (tests/tsa.py).

Covered: a valid token, a token for other data, a token from an untrusted TSA, a TSA that is down
(work goes on, the failure is shown, a retry signs anew and keeps the token), a token whose time is
not the checkpoint's, and verify.py's verdicts with and without --tsa-cert.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.utils import timezone
from rfc3161_client import decode_timestamp_response

from evidence import custody, timestamps
from evidence.lib import ledger
from evidence.lib import timestamps as stamps
from evidence.models import Checkpoint, CheckpointTimestamp, TimestampAuthorityStatus
from tests.factories import EvidenceItemFactory
from tests.packages import anchors
from tests.tsa import LoopbackTSA, openssl_available

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not openssl_available(), reason="needs the openssl command (openssl ts -reply)"),
]


@pytest.fixture
def tsa(tmp_path, settings):
    with LoopbackTSA(tmp_path / "tsa") as authority:
        settings.ATTEST_TSA_URLS = [authority.url]
        settings.ATTEST_TSA_TIMEOUT = 5
        yield authority


@pytest.fixture
def other_tsa(tmp_path):
    with LoopbackTSA(tmp_path / "other-tsa", name="Someone Else's TSA") as authority:
        yield authority


def verify(bag: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(bag / "verify.py"), str(bag), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def package(case, tmp_path: Path, name: str = "out") -> Path:
    call_command("export_package", case.reference, "--output", str(tmp_path / name), "--as", "alice")
    [bag] = (tmp_path / name).iterdir()
    return bag


def query(tsa: LoopbackTSA, signed: dict) -> tuple[object, bytes]:
    request = stamps.build_request(signed)
    return request, timestamps.post_request(tsa.url, request.as_bytes(), timeout=5)


# --- The checkpoint's hash: what a token's imprint must be ---------------------------------------


def test_a_tokens_imprint_is_the_sha256_of_the_checkpoints_signed_message():
    signed = {"v": 1, "case": "PGO-2024-0001", "size": 2, "head": "ab" * 32, "signed_at": "2024-01-02T05:40:00.000000Z",
              "key": "0123456789abcdef", "signature": "ignored"}  # fmt: skip
    message = b'attest-checkpoint/v1\n{"case":"PGO-2024-0001","head":"' + b"ab" * 32
    message += b'","key":"0123456789abcdef","signed_at":"2024-01-02T05:40:00.000000Z","size":2,"v":1}'
    assert stamps.checkpoint_message(signed) == message
    assert stamps.checkpoint_digest(signed) == hashlib.sha256(message).digest()


@pytest.mark.parametrize(
    ("offset", "problem"),
    [(timedelta(0), None), (timedelta(minutes=4), None), (timedelta(minutes=-4), None),
     (timedelta(minutes=6), "after"), (timedelta(minutes=-6), "before")],
)  # fmt: skip
def test_a_tokens_time_must_be_the_checkpoints_own(offset, problem):
    claimed = "2026-01-02T05:40:00.000000Z"
    moment = datetime(2026, 1, 2, 5, 40, tzinfo=UTC) + offset
    found = stamps.time_problem(moment, claimed)
    assert (found is None) if problem is None else (problem in found)


# --- Obtaining tokens ----------------------------------------------------------------------------


def test_a_checkpoint_is_timestamped_by_the_configured_tsa(team, tsa):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    checkpoint = custody.sign_checkpoint(case=team.case, reason="test")
    [token] = timestamps.stamp(checkpoint)
    assert token.tsa_url == tsa.url
    assert token.tsa_name == "Attest Test TSA"
    assert token.sha256 == hashlib.sha256(bytes(token.reply)).hexdigest()
    assert abs(token.gen_time - checkpoint.signed_at) < timedelta(seconds=5)
    reply = decode_timestamp_response(bytes(token.reply))
    assert reply.tst_info.message_imprint.message == stamps.checkpoint_digest(checkpoint.as_signed(team.case.reference))
    assert timestamps.stamp(checkpoint) == []  # one token per checkpoint and TSA
    assert tsa.requests == 1
    summary = timestamps.summary(team.case)
    assert summary.last_size == checkpoint.size
    assert summary.last_tsa == "Attest Test TSA"
    assert summary.failing == []
    assert summary.waiting == 0


def test_a_token_is_never_changed_or_deleted(team, tsa):
    [token] = timestamps.stamp(custody.sign_checkpoint(case=team.case, reason="test"))
    with pytest.raises(Exception, match="never changed"):
        token.save()
    with pytest.raises(Exception, match="never deleted"):
        token.delete()
    with pytest.raises(Exception, match="never deleted"):  # the queryset speaks the model's words
        CheckpointTimestamp.objects.all().delete()


def test_a_reply_for_other_data_is_refused(team, tsa):
    checkpoint = custody.sign_checkpoint(case=team.case, reason="test").as_signed(team.case.reference)
    other = {**checkpoint, "size": checkpoint["size"] + 1}
    request, reply = query(tsa, other)
    with pytest.raises(stamps.TimestampRefused, match="covers other data"):
        stamps.accept_reply(reply, request=request, signed=checkpoint)
    _request, reply_to_another = query(tsa, checkpoint)
    with pytest.raises(stamps.TimestampRefused, match="answers another request"):
        stamps.accept_reply(reply_to_another, request=request, signed=checkpoint)
    with pytest.raises(stamps.TimestampRefused, match="not an RFC 3161"):
        stamps.accept_reply(b"<html>proxy error</html>", request=request, signed=checkpoint)


def test_a_reply_long_after_the_checkpoints_time_is_refused(team, tsa):
    """A token vouches for its own time only: one for a checkpoint signed an hour ago is no use."""
    signed = ledger.sign_checkpoint(custody.load_private_key(), case=team.case.reference, size=0,
                                    head=ledger.GENESIS_HASH,
                                    signed_at=ledger.format_timestamp(timezone.now() - timedelta(hours=1)))  # fmt: skip
    request, reply = query(tsa, signed)
    with pytest.raises(stamps.TimestampRefused, match="after the checkpoint's claimed"):
        stamps.accept_reply(reply, request=request, signed=signed)


def test_a_tsa_that_is_down_never_blocks_work_and_is_retried(client, team, tsa):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    tsa.stop()
    checkpoint = custody.sign_checkpoint(case=team.case, reason="test")
    assert timestamps.stamp(checkpoint) == []  # no exception: the work goes on
    status = TimestampAuthorityStatus.objects.get(url=tsa.url)
    assert status.failing
    assert "unreachable" in status.last_error
    assert timestamps.timestamp_waiting() == 0  # still down: no checkpoint is kept without a token
    assert Checkpoint.objects.filter(case=team.case).count() == 1

    health = client.get("/healthz").json()
    assert health["timestamps"]["failing"][0]["tsa"] == "127.0.0.1"
    assert health["timestamps"]["waiting"] >= 1
    assert health["timestamps"]["last_obtained"] is None
    assert tsa.url not in json.dumps(health)  # /healthz is public: the host only

    tsa.start()
    assert timestamps.timestamp_waiting() >= 1
    retried = Checkpoint.objects.filter(case=team.case).latest("signed_at")
    assert retried.reason == "trusted timestamp"
    assert retried.size == checkpoint.size
    assert retried.timestamps.count() == 1
    assert timestamps.waiting_cases(team.case) == []
    health = client.get("/healthz").json()["timestamps"]
    assert health["failing"] == []
    assert health["last_obtained"] is not None
    assert timestamps.timestamp_waiting() == 0  # nothing waits: nothing more is signed


def test_the_case_page_says_when_the_last_timestamp_was_obtained(client, team, tsa):
    client.force_login(team.alice)
    url = f"/admin/cases/case/{team.case.pk}/overview/"
    assert "none obtained yet" in client.get(url).content.decode()
    tsa.stop()
    timestamps.stamp(custody.sign_checkpoint(case=team.case, reason="test"))
    page = client.get(url).content.decode()
    assert "127.0.0.1 has failed since" in page
    assert "the newest checkpoint waits for one" in page
    tsa.start()
    timestamps.timestamp_waiting()
    page = client.get(url).content.decode()
    assert "last obtained" in page
    assert "from Attest Test TSA" in page
    assert "has failed" not in page


def test_without_tsas_nothing_is_asked_and_the_page_says_so(client, team, settings):
    settings.ATTEST_TSA_URLS = []
    assert timestamps.stamp(custody.sign_checkpoint(case=team.case, reason="test")) == []
    assert timestamps.waiting_cases() == []
    assert timestamps.timestamp_waiting() == 0
    client.force_login(team.alice)
    page = client.get(f"/admin/cases/case/{team.case.pk}/overview/").content.decode()
    assert "no time-stamp authority is configured" in page


# --- In the package, and verify.py ---------------------------------------------------------------


def test_a_package_ships_its_tokens_and_verify_checks_them_against_the_tsa_certificate(team, tsa, other_tsa, tmp_path):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    bag = package(team.case, tmp_path)
    tokens = sorted((bag / "data" / "timestamps").rglob("*.tsr"))
    assert len(tokens) == 2  # the export's checkpoint and the sealing one
    assert all(path.name == f"{hashlib.sha256(path.read_bytes()).hexdigest()}.tsr" for path in tokens)

    result = verify(bag, "--tsa-cert", str(tsa.ca_cert))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INTACT AND ANCHORED" in result.stdout
    assert "timestamp by CN=Attest Test TSA at " in result.stdout

    result = verify(bag)
    assert result.returncode == 2, result.stdout
    assert "2 timestamps (not checked: no --tsa-cert)" in result.stdout

    result = verify(bag, "--tsa-cert", str(other_tsa.ca_cert))  # tokens of a TSA the reader does not trust
    assert result.returncode == 2, result.stdout
    assert "timestamp by" not in result.stdout

    assert verify(bag, *anchors(team.case), "--tsa-cert", str(tsa.ca_cert)).returncode == 0


def test_verify_refuses_a_token_for_other_data_a_misnamed_token_and_stray_files(team, tsa, tmp_path):
    bag = package(team.case, tmp_path)
    folder = next((bag / "data" / "timestamps").iterdir())
    signed = json.loads(next((bag / "data" / "checkpoints").glob("*.json")).read_text())[-1]
    _request, foreign = query(tsa, {**signed, "size": signed["size"] + 7})
    path = folder / f"{hashlib.sha256(foreign).hexdigest()}.tsr"
    path.write_bytes(foreign)
    result = verify(bag, "--tsa-cert", str(tsa.ca_cert))
    assert result.returncode == 1, result.stdout
    assert "none of this case's checkpoints" in result.stdout, result.stdout
    path.unlink()

    token = next(folder.iterdir())
    renamed = token.with_name("0" * 64 + ".tsr")
    token.rename(renamed)
    result = verify(bag)
    assert result.returncode == 1, result.stdout
    assert "the SHA-256 of its bytes" in result.stdout, result.stdout
    renamed.rename(token)

    (folder.parent / "PGO-1999-0001").mkdir()
    (folder.parent / "PGO-1999-0001" / token.name).write_bytes(token.read_bytes())
    result = verify(bag)
    assert result.returncode == 1, result.stdout
    assert "data/timestamps/ holds only" in result.stdout, result.stdout


def test_a_forger_cannot_borrow_a_trusted_time_for_a_rewritten_history(team, tsa, tmp_path):
    """Rewritten and re-signed with his own key, a package has no token of the trusted TSA for its
    checkpoints; one obtained now for a checkpoint claiming the original time is refused."""
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    bag = package(team.case, tmp_path)
    forger = Ed25519PrivateKey.generate()
    raw = forger.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    data = bag / "data"
    path = next((data / "checkpoints").glob("*.json"))
    original = json.loads(path.read_text())
    backdated = ledger.format_timestamp(timezone.now() - timedelta(hours=2))
    forged = [ledger.sign_checkpoint(forger, case=c["case"], size=c["size"], head=c["head"], signed_at=backdated)
              for c in original]  # fmt: skip
    path.write_text(json.dumps(forged))
    for key in (data / "public-keys").iterdir():
        key.unlink()
    (data / "public-keys" / f"{ledger.key_id(raw)}.pem").write_bytes(
        forger.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    folder = next((data / "timestamps").iterdir())
    for token in folder.iterdir():
        token.unlink()
    assert verify(bag, "--tsa-cert", str(tsa.ca_cert)).returncode == 2  # no token: nothing vouches

    _request, fresh = query(tsa, forged[-1])  # a real token of the trusted TSA, but of today
    (folder / f"{hashlib.sha256(fresh).hexdigest()}.tsr").write_bytes(fresh)
    result = verify(bag, "--tsa-cert", str(tsa.ca_cert))
    assert result.returncode == 1, result.stdout
    assert "after the checkpoint's claimed time" in result.stdout


def test_verify_explains_a_bad_tsa_certificate_as_a_usage_error(team, tsa, tmp_path):
    bag = package(team.case, tmp_path)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    result = verify(bag, "--tsa-cert", str(junk))
    assert result.returncode == 3
    assert "not a readable X.509 certificate" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_periodic_checkpoint_is_timestamped(team, tsa):
    from evidence.tasks import sign_checkpoints

    EvidenceItemFactory(case=team.case, actor=team.ivan)
    assert sign_checkpoints() >= 1
    latest = Checkpoint.objects.filter(case=team.case).latest("signed_at")
    assert latest.reason == "periodic"
    assert latest.timestamps.count() == 1
    out = io.StringIO()
    call_command("verify_custody", "--skip-files", stdout=out)
    assert ": intact" in out.getvalue()


def test_verify_runs_without_rfc3161_client_and_asks_for_it_only_with_tsa_cert(team, tsa, tmp_path):
    bag = package(team.case, tmp_path)
    blocked = (
        "import runpy, sys; sys.modules['rfc3161_client'] = None; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    command = [sys.executable, "-c", blocked, str(bag / "verify.py"), str(bag)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "timestamps (not checked: no --tsa-cert)" in result.stdout, result.stderr
    result = subprocess.run([*command, "--tsa-cert", str(tsa.ca_cert)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 3
    assert "--tsa-cert needs the 'rfc3161-client' package: pip install rfc3161-client" in result.stderr
