"""Trace requests: rights, the letter as a stored file, deadlines on a frozen clock, answers with their hash,
distributor screening, right of reply, the task and beat entry, and the ledger staying intact."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from cases.models import Entity
from evidence import filestore, selectors, services
from evidence.models import CustodyEvent, StoredFile, TraceRequest, TraceResponse
from evidence.services import tracing
from tests.factories import EntityFactory, EvidenceItemFactory, ManufacturerFactory

pytestmark = pytest.mark.django_db

SENT = dt.date(2025, 3, 3)


def render(request, path):
    """A small real PDF, as the letter renderer would write."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), invariant=1)
    pdf.drawString(72, 720, f"Trace request {request.pk} to {request.recipient_name}")
    pdf.drawString(72, 700, f"Components: {sorted(request.components.values_list('pk', flat=True))}")
    pdf.drawString(72, 680, f"Draft finding: {request.draft_finding}")
    pdf.save()


def history(request) -> list[tuple[str, dict]]:
    events = CustodyEvent.objects.filter(subject_type="trace_request", subject_id=request.pk).order_by("sequence")
    return [(event.event_type, event.payload_data) for event in events]


@pytest.fixture
def parts(team):
    board = EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", title="Guidance board")
    maker = ManufacturerFactory(name="Analog Devices", country="United States")
    return [
        services.record_component(
            actor=team.bob, item=board, function="processing", manufacturer=maker, part_number=f"AD7541{n}"
        )
        for n in "AB"
    ]


def draft(team, parts, **overrides):
    arguments = {
        "actor": team.bob,
        "case": team.case,
        "recipient_kind": "manufacturer",
        "recipient_name": "Analog Devices, Inc.",
        "components": parts,
        "context": "Debris recovered in Kharkiv.",
    }
    return tracing.draft_trace_request(**{**arguments, **overrides})


def intact(case) -> bool:
    out = io.StringIO()
    call_command("verify_custody", case.reference, stdout=out)
    return "intact" in out.getvalue()


class TestDrafting:
    def test_an_analyst_drafts_with_the_default_deadline(self, team, parts):
        request = draft(team, parts)
        assert request.status == "draft"
        assert request.deadline_days == settings.ATTEST_TRACE_DEADLINE_DAYS == 28
        [(kind, payload)] = history(request)
        assert kind == "trace.created"
        assert payload["trace"]["components"] == sorted(part.pk for part in parts)
        assert payload["trace"]["recipient_name"] == "Analog Devices, Inc."
        assert payload["trace"]["status"] == "draft"

    def test_a_viewer_is_refused(self, team, parts):
        with pytest.raises(PermissionDenied):
            draft(team, parts, actor=team.vera)
        assert not TraceRequest.objects.exists()

    def test_components_of_another_case_or_withdrawn_are_refused_and_nothing_is_left(self, team, parts):
        theirs = services.record_component(
            actor=team.charlie, item=EvidenceItemFactory(case=team.other_case, actor=team.charlie), function="other"
        )
        services.withdraw_component(actor=team.bob, component=parts[1], reason="duplicate")
        before = CustodyEvent.objects.count()
        for components in ([parts[0], theirs], [parts[1]], []):
            with pytest.raises(ValidationError) as caught:
                draft(team, components)
            assert "components" in caught.value.message_dict
        with pytest.raises(ValidationError) as caught:
            draft(team, [parts[0]], recipient_kind="oracle")
        assert "recipient_kind" in caught.value.message_dict
        assert not TraceRequest.objects.exists()
        assert CustodyEvent.objects.count() == before

    def test_an_analyst_issues_a_letter_but_cannot_send(self, team, parts):
        request = tracing.issue_letter(actor=team.bob, request=draft(team, parts), render=render)
        with pytest.raises(PermissionDenied):
            tracing.send_trace_request(actor=team.bob, request=request, sent_on=SENT, channel="email")
        assert TraceRequest.objects.get(pk=request.pk).status == "draft"

    def test_sending_needs_a_letter(self, team, parts):
        request = draft(team, parts)
        with pytest.raises(ValidationError) as caught:
            tracing.send_trace_request(actor=team.ivan, request=request, sent_on=SENT, channel="email")
        assert "letter" in caught.value.message_dict

    def test_a_reissued_draft_letter_replaces_the_letter_and_both_stay(self, team, parts):
        request = tracing.issue_letter(actor=team.bob, request=draft(team, parts), render=render)
        first = request.letter
        assert first.kind == "letter"
        with filestore.open_stored(first.path) as handle:
            data = handle.read()
        assert data.startswith(b"%PDF-")
        assert hashlib.sha256(data).hexdigest() == first.sha256

        def other(request, path):
            render(request, path)
            path.write_bytes(path.read_bytes() + b"\n% second issue\n")

        request = tracing.issue_letter(actor=team.bob, request=request, render=other)
        assert request.letter.sha256 != first.sha256
        assert StoredFile.objects.filter(pk=first.pk).exists()
        letters = [payload["letter"] for kind, payload in history(request) if kind == "trace.letter"]
        assert [letter["sha256"] for letter in letters] == [first.sha256, request.letter.sha256]
        assert letters[0]["size"] == first.size

    def test_a_renderer_that_writes_no_pdf_leaves_nothing(self, team, parts):
        request = draft(team, parts)
        before = CustodyEvent.objects.count()
        with pytest.raises(ValidationError) as caught:
            tracing.issue_letter(actor=team.bob, request=request, render=lambda request, path: path.write_text("hi"))
        assert "letter" in caught.value.message_dict
        assert TraceRequest.objects.get(pk=request.pk).letter is None
        assert CustodyEvent.objects.count() == before


class TestLifecycle:
    def test_trace_no_answer_right_of_reply_answered(self, team, parts):
        sanctioned = EntityFactory(
            name="Shenzhen Bright Trading Co., Ltd.", list_name="OFAC SDN", list_id="12345", aliases=["Bright HK"]
        )
        EntityFactory(name="Unrelated Trading", list_name="EU", list_id="EU-1")

        request = tracing.issue_letter(actor=team.bob, request=draft(team, parts), render=render)
        request = tracing.send_trace_request(actor=team.ivan, request=request, sent_on=SENT, channel="email")
        assert request.due_on == SENT + dt.timedelta(days=28)
        kind, payload = history(request)[-1]
        assert kind == "trace.updated"
        assert payload["changed"] == ["channel", "due_on", "sent_on", "status"]
        assert payload["trace"]["status"] == "sent"
        assert payload["trace"]["due_on"] == "2025-03-31"

        # Before the deadline (on the due day itself) nothing happens.
        assert tracing.mark_overdue(today=dt.date(2025, 3, 31)) == 0
        assert TraceRequest.objects.get(pk=request.pk).status == "sent"
        assert list(selectors.trace_requests_due(viewer=team.vera, today=dt.date(2025, 3, 25))) == [request]
        assert list(selectors.trace_requests_due(viewer=team.vera, today=dt.date(2025, 3, 1))) == []
        assert list(selectors.trace_requests_due(viewer=team.charlie, today=dt.date(2025, 3, 25))) == []

        # The day after, it has no answer; again the same day changes nothing.
        assert tracing.mark_overdue(today=dt.date(2025, 4, 1)) == 1
        assert tracing.mark_overdue(today=dt.date(2025, 4, 1)) == 0
        request.refresh_from_db()
        assert (request.status, request.overdue_since) == ("no_answer", dt.date(2025, 4, 1))
        overdue = [e for e in CustodyEvent.objects.filter(subject_id=request.pk, subject_type="trace_request")][-1]
        assert overdue.actor_id is None
        assert overdue.payload_data["changed"] == ["status"]
        assert overdue.payload_data["reason"] == "no answer by the deadline"
        assert overdue.payload_data["trace"]["overdue_since"] == "2025-04-01"
        assert list(selectors.trace_requests_due(case=team.case, today=dt.date(2025, 6, 1))) == [request]

        # A right of reply follows: same recipient and components, the missing answer as context.
        with pytest.raises(ValidationError) as caught:
            tracing.draft_right_of_reply(actor=team.bob, request=request, draft_finding="  ")
        assert "draft_finding" in caught.value.message_dict
        reply = tracing.draft_right_of_reply(
            actor=team.bob,
            request=request,
            draft_finding="Components made by the addressee were found in a Hwasong-11.",
            deadline_days=14,
        )
        assert (reply.kind, reply.follows, reply.recipient_name) == ("right_of_reply", request, request.recipient_name)
        assert set(reply.components.all()) == set(parts)
        assert "No answer was received by 2025-03-31" in reply.context
        [(kind, payload)] = history(reply)
        assert kind == "trace.created"
        assert payload["trace"]["follows_id"] == request.pk
        assert payload["trace"]["draft_finding"].startswith("Components made")

        reply = tracing.issue_letter(actor=team.bob, request=reply, render=render)
        reply = tracing.send_trace_request(actor=team.alice, request=reply, sent_on=dt.date(2025, 4, 7), channel="post")
        assert reply.due_on == dt.date(2025, 4, 21)
        assert tracing.mark_overdue(today=dt.date(2025, 4, 21)) == 0

        # The answer names a distributor on a sanctions list (other case, other suffix).
        answer = b"%PDF-1.4 answer from the manufacturer naming its distributor"
        upload = io.BytesIO(answer)
        upload.name = "C:\\mail\\reply.pdf"
        response = tracing.record_response(
            actor=team.ivan,
            request=reply,
            received_on=dt.date(2025, 4, 15),
            summary="Sold through a distributor in Shenzhen.",
            upload=upload,
            distributor_name="SHENZHEN BRIGHT TRADING LIMITED",
            distributor_country="China",
        )
        reply.refresh_from_db()
        assert reply.status == "answered"
        assert response.file_name == "reply.pdf"
        assert response.file.kind == "response"
        assert response.file.sha256 == hashlib.sha256(answer).hexdigest()
        assert response.screening == [
            {"entity": sanctioned.pk, "name": sanctioned.name, "list": "OFAC SDN", "list_id": "12345"}
        ]
        distributor = response.names_distributor
        assert distributor.kind == "organisation"
        assert not distributor.sanctioned
        assert {part.distributor_id for part in type(parts[0]).objects.filter(pk__in=[p.pk for p in parts])} == {
            distributor.pk
        }
        kind, payload = history(reply)[-1]
        assert kind == "trace.answered"
        assert payload["response"]["sha256"] == hashlib.sha256(answer).hexdigest()
        assert payload["response"]["size"] == len(answer)
        assert payload["response"]["file_name"] == "reply.pdf"
        assert payload["response"]["distributor"] == distributor.pk
        assert payload["response"]["screening"] == response.screening
        assert payload["response"]["received_on"] == "2025-04-15"
        assert payload["trace"]["status"] == "answered"
        component_events = CustodyEvent.objects.filter(subject_type="component", subject_id=parts[0].pk)
        assert component_events.last().payload_data["changed"] == ["distributor"]

        # Nothing is due any more once both are settled; the answered reply is past its deadline harmlessly.
        assert tracing.mark_overdue(today=dt.date(2025, 5, 1)) == 0
        tracing.close_trace_request(actor=team.ivan, request=request, reason="answered through the right of reply")
        assert TraceRequest.objects.get(pk=request.pk).status == "closed"
        assert history(request)[-1][1]["reason"] == "answered through the right of reply"
        assert list(selectors.trace_requests_due(case=team.case, today=dt.date(2025, 6, 1))) == []
        assert intact(team.case)

    def test_a_distributor_not_on_a_list_is_not_flagged_and_is_reused(self, team, parts):
        EntityFactory(name="Shenzhen Bright Trading Co., Ltd.", list_name="OFAC SDN", list_id="12345")
        request = tracing.issue_letter(actor=team.bob, request=draft(team, parts), render=render)
        request = tracing.send_trace_request(actor=team.ivan, request=request, sent_on=SENT, channel="email")
        first = tracing.record_response(
            actor=team.ivan, request=request, received_on=SENT, distributor_name="Bright Components GmbH"
        )
        again = tracing.record_response(
            actor=team.ivan, request=request, received_on=SENT, distributor_name="bright components"
        )
        assert first.screening == again.screening == []
        assert first.names_distributor == again.names_distributor
        assert Entity.objects.filter(sanctioned=False).count() == 1
        assert history(request)[-1][1]["response"]["sha256"] is None  # no file with this answer

    def test_answers_need_an_investigator_a_sent_request_and_a_non_empty_file(self, team, parts):
        request = tracing.issue_letter(actor=team.bob, request=draft(team, parts), render=render)
        with pytest.raises(ValidationError) as caught:
            tracing.record_response(actor=team.ivan, request=request, received_on=SENT)
        assert "status" in caught.value.message_dict
        request = tracing.send_trace_request(actor=team.ivan, request=request, sent_on=SENT, channel="email")
        with pytest.raises(PermissionDenied):
            tracing.record_response(actor=team.bob, request=request, received_on=SENT)
        before = CustodyEvent.objects.count()
        with pytest.raises(ValidationError) as caught:
            tracing.record_response(
                actor=team.ivan, request=request, received_on=SENT, upload=io.BytesIO(b""), distributor_name="X Ltd"
            )
        assert "upload" in caught.value.message_dict
        assert not TraceResponse.objects.exists()
        assert not Entity.objects.filter(name="X Ltd").exists()
        assert CustodyEvent.objects.count() == before
        assert TraceRequest.objects.get(pk=request.pk).status == "sent"


def test_normalised_names():
    assert tracing.normalise_name("Shenzhen Bright Trading Co., Ltd.") == "shenzhen bright trading"
    assert tracing.normalise_name("  SHENZHEN   BRIGHT TRADING LIMITED ") == "shenzhen bright trading"
    assert tracing.normalise_name("\uff21\uff23\uff2d\uff25 Corp.") == "acme"
    assert tracing.normalise_name("OOO Romashka") == "romashka"
    assert tracing.normalise_name("Co") == "co"


def test_the_task_and_its_beat_entry(team, parts, monkeypatch):
    from evidence.tasks import mark_overdue_trace_requests

    request = tracing.issue_letter(actor=team.bob, request=draft(team, parts), render=render)
    tracing.send_trace_request(actor=team.ivan, request=request, sent_on=SENT, channel="email")
    assert mark_overdue_trace_requests() == 1  # today is long after 2025-03-31
    assert TraceRequest.objects.get(pk=request.pk).status == "no_answer"
    entry = settings.CELERY_BEAT_SCHEDULE["mark-overdue-trace-requests"]
    assert entry["task"] == "evidence.tasks.mark_overdue_trace_requests"
    assert entry["schedule"].hour == {settings.ATTEST_FIXITY_CHECK_HOUR}
    assert entry["schedule"].minute == {30}


def test_a_draft_given_up_is_closed_unsent_and_recorded(team, parts):
    request = draft(team, parts)
    closed = tracing.close_trace_request(actor=team.ivan, request=request, reason="Another office asked first.")
    closed.refresh_from_db()
    assert closed.status == "closed"
    assert closed.sent_on is None
    assert history(closed)[-1][0] == "trace.updated"
    assert history(closed)[-1][1]["reason"] == "Another office asked first."
