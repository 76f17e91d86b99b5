"""Rotating the ledger signing key keeps continuity: a key.rotated event, signed under the old key,
names the new one; verifiers anchored to either key follow it; a new key without one is reported."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from evidence import custody
from evidence.lib import ledger
from evidence.models import Checkpoint, CustodyEvent
from tests.factories import EvidenceItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_key(settings, tmp_path):
    """A signing key of this test's own: rotating must not touch the session's."""
    settings.ATTEST_SIGNING_KEY_PATH = tmp_path / "keys" / "ledger-signing-key.pem"
    custody.ensure_signing_key()
    return settings.ATTEST_SIGNING_KEY_PATH


def verify(bag: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(bag / "verify.py"), str(bag), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_rotation_records_the_hand_over_under_the_old_key(team, own_key):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    old = custody.key_fingerprint()
    out = io.StringIO()
    call_command("rotate_signing_key", stdout=out)
    new = custody.key_fingerprint()
    assert new != old
    assert f"{old} -> {new}" in out.getvalue()
    for case in (team.case, team.other_case):
        event = CustodyEvent.objects.get(case=case, event_type="key.rotated")
        assert event.payload_data == {"from": old, "to": new}
        covering = Checkpoint.objects.filter(case=case, size__gte=event.sequence).earliest("signed_at")
        assert covering.key_id == old[:16]  # the old key vouches for the new one
    assert (own_key.parent / "retired" / f"{old[:16]}.pem").is_file()
    assert own_key.stat().st_mode & 0o777 == 0o600
    out = io.StringIO()
    call_command("verify_custody", "--skip-files", stdout=out)  # the retired key still verifies
    assert out.getvalue().count(": intact") == 2


def test_a_package_after_rotation_is_anchored_by_either_key_and_a_stranger_key_is_reported(team, own_key, tmp_path):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    custody.sign_checkpoint(case=team.case, reason="before")
    old = custody.key_fingerprint()
    call_command("rotate_signing_key", stdout=io.StringIO())
    new = custody.key_fingerprint()
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    call_command("export_package", team.case.reference, "--output", str(tmp_path / "out"), "--as", "alice")
    [bag] = (tmp_path / "out").iterdir()
    assert len(list((bag / "data" / "public-keys").glob("*.pem"))) == 2
    for anchor in (old, new):
        result = verify(bag, "--key-fingerprint", anchor)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"key {old} signed up to event" in result.stdout
        assert f"key {new} signed up to event" in result.stdout

    # A key that appears without a hand-over: a stranger signs a checkpoint and ships his key.
    stranger = Ed25519PrivateKey.generate()
    raw = stranger.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    path = next((bag / "data" / "checkpoints").glob("*.json"))
    checkpoints = json.loads(path.read_text())
    last = max(checkpoints, key=lambda item: item["size"])
    checkpoints.append(ledger.sign_checkpoint(stranger, case=team.case.reference, size=last["size"],
                                              head=last["head"], signed_at="2099-01-01T00:00:00.000000Z"))  # fmt: skip
    path.write_text(json.dumps(checkpoints))
    (bag / "data" / "public-keys" / f"{ledger.key_id(raw)}.pem").write_bytes(
        stranger.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = verify(bag, "--key-fingerprint", old)
    assert result.returncode == 1
    assert "no key.rotated event under a trusted key's checkpoint names it" in result.stdout
    assert verify(bag).returncode == 2  # unanchored, every shipped key is taken as it is: nothing proved
    assert hashlib.sha256(raw).hexdigest() not in (old, new)


@pytest.mark.parametrize("how", ["create_signing_key", "rotate_signing_key"])
def test_a_private_key_is_never_readable_by_others_not_even_before_a_chmod(settings, tmp_path, monkeypatch, how):
    """With no chmod at all (a process killed right after writing), the key file is 0600 from its creation."""
    import os

    settings.ATTEST_SIGNING_KEY_PATH = tmp_path / "keys" / "ledger-signing-key.pem"
    if how == "rotate_signing_key":
        custody.ensure_signing_key()
    monkeypatch.setattr(Path, "chmod", lambda self, mode: None)
    previous = os.umask(0o022)
    try:
        call_command(how, stdout=io.StringIO())
    finally:
        os.umask(previous)
    assert settings.ATTEST_SIGNING_KEY_PATH.stat().st_mode & 0o777 == 0o600


def test_create_signing_key_never_replaces_a_key_and_prints_its_public_half(settings, tmp_path):
    settings.ATTEST_SIGNING_KEY_PATH = tmp_path / "keys" / "ledger-signing-key.pem"
    first, second = io.StringIO(), io.StringIO()
    call_command("create_signing_key", stdout=first)
    key = settings.ATTEST_SIGNING_KEY_PATH.read_bytes()
    call_command("create_signing_key", stdout=second)
    assert "created" in first.getvalue()
    assert "exists already" in second.getvalue()
    assert settings.ATTEST_SIGNING_KEY_PATH.read_bytes() == key
    assert "BEGIN PUBLIC KEY" in second.getvalue()
    assert "PRIVATE" not in first.getvalue() + second.getvalue()


def test_a_rotation_that_cannot_write_its_key_names_none_in_any_ledger(team, own_key, monkeypatch):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    before = own_key.read_bytes()

    def disk_full(path, key):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(custody, "_staged_private_key", disk_full)
    with pytest.raises(OSError, match="No space"):
        custody.rotate_signing_key()
    assert not CustodyEvent.objects.filter(event_type="key.rotated").exists()
    assert own_key.read_bytes() == before


def test_a_rotation_whose_hand_over_fails_keeps_the_old_key_and_leaves_no_file(team, own_key, monkeypatch):
    before = own_key.read_bytes()

    def fails(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(custody, "_hand_over", fails)
    with pytest.raises(RuntimeError):
        custody.rotate_signing_key()
    assert own_key.read_bytes() == before
    assert sorted(p.name for p in own_key.parent.iterdir() if p.is_file()) == [own_key.name]


def test_a_hand_over_failing_at_the_second_case_names_the_new_key_in_no_ledger(team, own_key, monkeypatch):
    """Each case was handed over in a transaction of its own: the first case's ledger named a new key
    that was never installed, and its later checkpoints, signed by the old one, would not verify."""
    before = own_key.read_bytes()
    signed = custody.sign_checkpoint

    def fails_on_the_second_case(*, case, **kwargs):
        if case.pk == max(team.case.pk, team.other_case.pk):
            raise RuntimeError("database gone")
        return signed(case=case, **kwargs)

    monkeypatch.setattr(custody, "sign_checkpoint", fails_on_the_second_case)
    with pytest.raises(RuntimeError):
        custody.rotate_signing_key()
    assert not CustodyEvent.objects.filter(event_type="key.rotated").exists()
    assert own_key.read_bytes() == before
    monkeypatch.undo()
    out = io.StringIO()
    call_command("verify_custody", "--skip-files", stdout=out)
    assert out.getvalue().count(": intact") == 2


def test_creating_the_key_leaves_one_whole_key_and_nothing_else(settings, tmp_path):
    settings.ATTEST_SIGNING_KEY_PATH = tmp_path / "keys" / "ledger-signing-key.pem"
    custody.ensure_signing_key()
    custody.ensure_signing_key()
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["ledger-signing-key.pem"]
    serialization.load_pem_private_key(settings.ATTEST_SIGNING_KEY_PATH.read_bytes(), password=None)
