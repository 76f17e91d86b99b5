"""Trace-request and right-of-reply letters: rendered from real objects in English and Ukrainian."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from evidence import services
from evidence.export.letters import letter_reference, render_letter
from evidence.export.pdf.labels import LETTER_LABELS
from evidence.models import Marking
from evidence.models.components import Component, DateCodeReading
from evidence.models.markings import Manufacturer
from evidence.models.tracing import TraceRequest, TraceResponse
from tests import corpus
from tests.factories import EvidenceItemFactory


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def traced(team, eager_tasks, django_capture_on_commit_callbacks):
    """A component with a marking on a processed photo and a date code, and a trace request about it."""
    board = EvidenceItemFactory(case=team.case, actor=team.ivan, title="Receiver board")
    with django_capture_on_commit_callbacks(execute=True):
        accepted = services.add_photo_from_path(actor=team.ivan, item=board, path=corpus.photo("Landscape_3.jpg"))
    photo = accepted.photo
    photo.refresh_from_db()
    maker = Manufacturer.objects.create(name="Analog Devices", legal_name="Analog Devices, Inc.", country="USA")
    component = Component.objects.create(
        item=board,
        designator="U3",
        function="guidance",
        manufacturer_as_marked="ADI",
        manufacturer=maker,
        part_number="ADXRS290BCEZ",
        lot_code="#2319 K7781",
        recorded_by=team.bob,
    )
    marking = Marking.objects.create(
        item=board,
        photo=photo,
        region_x=20,
        region_y=30,
        region_width=240,
        region_height=160,
        component=component,
        transcription="ADI ADXRS290 #2319",
        marking_type="part_number",
        manufacturer=maker,
        confidence="probable",
        transcribed_by=team.bob,
    )
    DateCodeReading.objects.create(
        component=component,
        marking=marking,
        raw_code="2319",
        rule="YYWW",
        earliest=date(2023, 5, 8),
        latest=date(2023, 5, 14),
        recorded_by=team.bob,
    )
    request = TraceRequest.objects.create(
        case=team.case,
        recipient_kind="manufacturer",
        recipient_name="Analog Devices, Inc., Trade Compliance",
        manufacturer=maker,
        language="en",
        context="The component was recovered from a missile that struck Kharkiv on 2 January 2024.",
        deadline_days=21,
        created_by=team.alice,
    )
    request.components.add(component)
    return {"request": request, "photo": photo, "component": component, "maker": maker}


@pytest.mark.django_db
def test_a_trace_letter_in_english(traced, tmp_path):
    request = traced["request"]
    out = tmp_path / "letter.pdf"
    render_letter(request, out)
    reader = PdfReader(out)
    text = pdf_text(out)
    flat = squeezed(text)
    assert "ADXRS290BCEZ" in flat
    assert "#2319K7781" in flat
    assert traced["photo"].original.sha256 in flat  # the full hash of the photograph the crop is cut from
    assert letter_reference(request) in flat
    assert f"{request.case.reference}/TR-{request.pk}" in flat
    assert squeezed(LETTER_LABELS["en"]["deadline_days"].format(days=21)) in flat
    assert squeezed(LETTER_LABELS["en"]["request_trace"])[:60] in flat
    assert "Kharkiv" in text
    assert "Analog Devices, Inc., Trade Compliance".replace(" ", "") in flat
    images = sum(len(page.images) for page in reader.pages)
    assert images == 1  # the marking's crop


@pytest.mark.django_db
def test_a_trace_letter_in_ukrainian_with_its_due_date(traced, tmp_path):
    request = traced["request"]
    TraceRequest.objects.filter(pk=request.pk).update(
        language="uk", status="sent", sent_on=date(2025, 3, 3), due_on=date(2025, 3, 24), channel="email"
    )
    request.refresh_from_db()
    out = tmp_path / "letter-uk.pdf"
    render_letter(request, out)
    flat = squeezed(pdf_text(out))
    assert squeezed(LETTER_LABELS["uk"]["title_trace"]) in flat
    assert squeezed(LETTER_LABELS["uk"]["deadline_due"].format(days=21, date="24 березня 2025")) in flat
    assert "ADXRS290BCEZ" in flat
    assert traced["photo"].original.sha256 in flat
    assert squeezed(LETTER_LABELS["en"]["title_trace"]) not in flat


@pytest.mark.django_db
def test_a_right_of_reply_letter_holds_the_draft_finding_and_the_earlier_answer(team, traced, tmp_path):
    first = traced["request"]
    TraceRequest.objects.filter(pk=first.pk).update(
        status="answered", sent_on=date(2025, 1, 6), due_on=date(2025, 1, 27), channel="email"
    )
    TraceResponse.objects.create(
        request=first,
        received_on=date(2025, 1, 20),
        summary="The lot was shipped to an authorised distributor in Hong Kong in August 2023.",
        recorded_by=team.bob,
    )
    reply = TraceRequest.objects.create(
        case=team.case,
        kind="right_of_reply",
        follows=first,
        recipient_kind="manufacturer",
        recipient_name="Analog Devices, Inc.",
        manufacturer=traced["maker"],
        draft_finding="Gyroscopes of lot K7781 reached the DPRK missile programme through a reseller.",
        deadline_days=14,
        created_by=team.alice,
    )
    reply.components.add(traced["component"])
    out = tmp_path / "reply.pdf"
    render_letter(reply, out)
    flat = squeezed(pdf_text(out))
    assert squeezed("Gyroscopes of lot K7781 reached the DPRK missile programme through a reseller.") in flat
    assert squeezed("shipped to an authorised distributor in Hong Kong") in flat
    assert squeezed(LETTER_LABELS["en"]["title_right_of_reply"]) in flat
    assert f"{team.case.reference}/RR-{reply.pk}" in flat
    assert squeezed(LETTER_LABELS["en"]["deadline_days"].format(days=14)) in flat
