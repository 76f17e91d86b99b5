"""A package proves what was sent and what came back: trace letters (the real renderer) and answers ship
under letters/ and responses/, bound to the ledger by trace.letter and trace.answered; a replaced letter
or answer, with files.json and the BagIt manifests regenerated, is BROKEN."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from evidence import services
from evidence.export.letters import render_letter
from evidence.services import tracing
from tests.factories import EvidenceItemFactory, ManufacturerFactory
from tests.packages import anchors

pytestmark = pytest.mark.django_db


def verify(bag: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(bag / "verify.py"), str(bag), *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def answered(team):
    board = EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", title="Guidance board")
    maker = ManufacturerFactory(name="Kestrel Microsystems [test]", country="United Kingdom")
    part = services.record_component(actor=team.bob, item=board, function="power", manufacturer=maker,
                                     part_number="KM-4410", lot_code="L2312")  # fmt: skip
    request = tracing.draft_trace_request(actor=team.bob, case=team.case, recipient_kind="manufacturer",
                                          recipient_name="Kestrel Microsystems", components=[part])  # fmt: skip
    request = tracing.issue_letter(actor=team.bob, request=request, render=render_letter)
    sent = dt.date.today() - dt.timedelta(days=3)
    request = tracing.send_trace_request(actor=team.ivan, request=request, sent_on=sent, channel="email")
    answer = io.BytesIO(b"%PDF-1.4 answer of the manufacturer")
    tracing.record_response(actor=team.ivan, request=request, received_on=dt.date.today(), summary="Sold to X",
                            upload=answer, file_name="answer.pdf")  # fmt: skip
    request.refresh_from_db()
    return request


def test_letters_and_answers_ship_bound_to_the_ledger(team, answered, tmp_path):
    call_command("export_package", team.case.reference, "--output", str(tmp_path / "out"), "--as", "alice")
    [bag] = (tmp_path / "out").iterdir()
    data = bag / "data"
    [letter] = (data / "letters").iterdir()
    [answer] = (data / "responses").iterdir()
    assert letter.name == f"{answered.pk}-{answered.letter.sha256}.pdf"
    assert letter.read_bytes().startswith(b"%PDF")
    assert answer.name.endswith(".pdf")
    listed = {entry["path"] for entry in json.loads((data / "files.json").read_text())}
    assert {f"letters/{letter.name}", f"responses/{answer.name}"} <= listed
    case_record = json.loads((data / "case.json").read_text())
    assert [row["id"] for row in case_record["trace_requests"]] == [answered.pk]
    result = verify(bag, *anchors(team.case))
    assert result.returncode == 0, result.stdout + result.stderr

    # A forger swaps the letter for another and regenerates files.json and the BagIt manifests.
    forged = b"%PDF-1.4 a kinder letter than the one sent"
    digest = hashlib.sha256(forged).hexdigest()
    letter.unlink()
    (data / "letters" / f"{answered.pk}-{digest}.pdf").write_bytes(forged)
    manifest = json.loads((data / "files.json").read_text())
    for entry in manifest:
        if entry["path"].startswith("letters/"):
            entry.update(path=f"letters/{answered.pk}-{digest}.pdf", sha256=digest, size=len(forged))
    (data / "files.json").write_text(json.dumps(manifest))
    import bagit

    bagit.Bag(str(bag)).save(manifests=True)
    result = verify(bag, *anchors(team.case))
    assert result.returncode == 1, result.stdout
    assert f"the ledger records no file with SHA-256 {digest}" in result.stdout
