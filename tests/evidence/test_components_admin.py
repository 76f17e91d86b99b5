"""The admin of components, date-code readings and trace requests, by role; the case overview's components
panel and trace requests due; a component recorded from a marking's page."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from evidence import services
from evidence.models import Component, CustodyEvent, DateCodeReading, TraceRequest
from evidence.services import tracing
from tests.factories import EntityFactory, EvidenceItemFactory, ManufacturerFactory, MarkingFactory

pytestmark = pytest.mark.django_db

MEMBERS = ("alice", "ivan", "bob", "vera")
PDF = b"%PDF-1.4\n% a letter for the tests\n%%EOF\n"


def fake_render(request, path):
    path.write_bytes(PDF + str(request.pk).encode())


def url(model: str, page: str, *args) -> str:
    return reverse(f"admin:evidence_{model}_{page}", args=args)


@pytest.fixture
def board(team):
    return EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", title="Board")


@pytest.fixture
def maker():
    return ManufacturerFactory(name="Texas Instruments", country="United States")


@pytest.fixture
def component(team, board, maker):
    return services.record_component(
        actor=team.bob, item=board, function="processing", designator="U7", manufacturer=maker,
        manufacturer_as_marked="TI", part_number="TMS320F28335", lot_code="L42",
    )  # fmt: skip


@pytest.fixture
def reading(team, component):
    return services.record_reading(actor=team.bob, component=component, raw_code="2312", rule="YYWW")


@pytest.fixture
def trace(team, component):
    return tracing.draft_trace_request(
        actor=team.bob, case=team.case, recipient_kind="manufacturer", recipient_name="Texas Instruments",
        components=[component],
    )  # fmt: skip


def sent(team, trace, days_ago: int = 0):
    tracing.issue_letter(actor=team.bob, request=trace, render=fake_render)
    trace.refresh_from_db()
    return tracing.send_trace_request(
        actor=team.ivan, request=trace, sent_on=timezone.localdate() - dt.timedelta(days=days_ago), channel="email"
    )


# --- Pages by role ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", MEMBERS)
def test_members_open_the_lists_and_pages(client, team, component, reading, trace, persona):
    client.force_login(getattr(team, persona))
    for model, obj in (("component", component), ("datecodereading", reading), ("tracerequest", trace)):
        listed = client.get(url(model, "changelist"), {"case": team.case.pk})
        assert listed.status_code == 200, (persona, model)
        assert url(model, "change", obj.pk) in listed.content.decode(), (persona, model)
        page = client.get(url(model, "change", obj.pk))
        assert page.status_code == 200, (persona, model)


def test_an_outsider_sees_nothing(client, team, component, reading, trace):
    client.force_login(team.charlie)
    for model, obj in (("component", component), ("datecodereading", reading), ("tracerequest", trace)):
        listed = client.get(url(model, "changelist"))
        assert listed.status_code == 200
        assert url(model, "change", obj.pk) not in listed.content.decode()
        assert client.get(url(model, "change", obj.pk)).status_code == 404
    assert client.get(url("tracerequest", "change", trace.pk), {"download": "letter"}).status_code == 404
    response = client.post(url("tracerequest", "change", trace.pk), {"_trace_action": "issue"})
    assert response.status_code == 404
    assert TraceRequest.objects.get(pk=trace.pk).letter_id is None


def test_a_viewer_is_offered_no_add_and_no_step(client, team, component, trace):
    client.force_login(team.vera)
    assert client.get(url("component", "add")).status_code == 403
    assert client.get(url("tracerequest", "add")).status_code == 403
    page = client.get(url("tracerequest", "change", trace.pk)).content.decode()
    assert 'name="_trace_action"' not in page
    assert client.post(url("tracerequest", "change", trace.pk), {"_trace_action": "issue"}).status_code == 403


# --- Components and readings ----------------------------------------------------------------------------


def test_the_component_list_filters_and_searches(client, team, component, maker):
    other = services.record_component(actor=team.bob, item=component.item, function="power", part_number="LM2596")
    client.force_login(team.alice)
    for query in ({"function__exact": "processing"}, {"manufacturer__country": "United States"},
                  {"manufacturer__id__exact": maker.pk}, {"q": "TMS320"}, {"q": "L42"}):  # fmt: skip
        page = client.get(url("component", "changelist"), {"case": team.case.pk, **query}).content.decode()
        assert url("component", "change", component.pk) in page, query
        assert url("component", "change", other.pk) not in page, query


def test_an_analyst_records_and_corrects_a_component_with_a_reason(client, team, board):
    marking = MarkingFactory(item=board, actor=team.bob, transcription="LM2596", marking_type="part_number")
    elsewhere = MarkingFactory(item=EvidenceItemFactory(case=team.case), actor=team.bob, transcription="X")
    client.force_login(team.bob)
    offered = client.get(url("component", "add"), {"item": board.pk}).context["adminform"].form.fields["markings"]
    assert list(offered.queryset) == [marking]  # the chooser offers the exhibit's markings only, not `elsewhere`
    assert elsewhere.pk
    response = client.post(url("component", "add"), {"item": board.pk, "function": "power", "part_number": "LM2596",
                                                     "markings": [marking.pk]})  # fmt: skip
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    component = Component.objects.get(part_number="LM2596")
    assert list(component.markings.all()) == [marking]
    assert CustodyEvent.objects.filter(event_type="component.recorded", subject_id=component.pk).exists()
    change = url("component", "change", component.pk)
    refused = client.post(change, {"function": "power", "part_number": "LM2596S", "lot_code": ""})
    assert refused.status_code == 200
    assert "reason" in refused.context["adminform"].form.errors
    component.refresh_from_db()
    assert component.part_number == "LM2596"
    saved = client.post(change, {"function": "power", "part_number": "LM2596S", "reason": "misread the suffix"})
    assert saved.status_code == 302
    component.refresh_from_db()
    assert component.part_number == "LM2596S"
    event = CustodyEvent.objects.get(event_type="component.corrected", subject_id=component.pk)
    assert event.payload_data["reason"] == "misread the suffix"


def test_a_viewer_cannot_post_a_component(client, team, board):
    client.force_login(team.vera)
    response = client.post(url("component", "add"), {"item": board.pk, "function": "power"})
    assert response.status_code == 403
    assert not Component.objects.exists()


def test_readings_are_verified_by_a_second_person_and_withdrawn(client, team, reading):
    changelist = url("datecodereading", "changelist")
    client.force_login(team.bob)  # who read it may not verify it
    response = client.post(changelist, {"action": "verify_selected", ACTION_CHECKBOX_NAME: [reading.pk]}, follow=True)
    assert response.status_code == 200
    reading.refresh_from_db()
    assert reading.verified_by is None
    client.force_login(team.ivan)
    response = client.post(changelist, {"action": "verify_selected", ACTION_CHECKBOX_NAME: [reading.pk]}, follow=True)
    assert "1 reading(s) verified." in response.content.decode()
    reading.refresh_from_db()
    assert reading.verified_by == team.ivan
    client.force_login(team.vera)
    client.post(changelist, {"action": "withdraw_selected", ACTION_CHECKBOX_NAME: [reading.pk]})
    reading.refresh_from_db()
    assert reading.withdrawn_at is None
    client.force_login(team.bob)
    client.post(changelist, {"action": "withdraw_selected", ACTION_CHECKBOX_NAME: [reading.pk]})
    reading.refresh_from_db()
    assert reading.withdrawn_at is not None


def test_a_reading_is_recorded_from_the_component_page(client, team, component):
    client.force_login(team.bob)
    page = client.get(url("component", "change", component.pk)).content.decode()
    add = url("datecodereading", "add") + f"?component={component.pk}"
    assert add.replace("&", "&amp;") in page
    response = client.post(add, {"component": component.pk, "raw_code": "2312", "rule": "YYWW"})
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert DateCodeReading.objects.get(component=component).raw_code == "2312"


def test_the_component_page_shows_the_same_part_in_other_cases(client, team, component):
    theirs = services.record_component(
        actor=team.charlie, item=EvidenceItemFactory(case=team.other_case, actor=team.charlie), function="processing",
        part_number="TMS 320-F28335",
    )  # fmt: skip
    client.force_login(team.charlie)
    page = client.get(url("component", "change", theirs.pk)).content.decode()
    assert url("component", "change", component.pk) not in page  # charlie does not see team.case
    from cases.choices import Role
    from tests.factories import MembershipFactory

    MembershipFactory(case=team.other_case, user=team.alice, role=Role.VIEWER)
    client.force_login(team.alice)
    page = client.get(url("component", "change", component.pk)).content.decode()
    assert url("component", "change", theirs.pk) in page


def test_a_component_is_recorded_from_a_markings_page(client, team, board, maker):
    marking = MarkingFactory(item=board, actor=team.bob, transcription="TMS320F28335", marking_type="part_number",
                             part_number="TMS320F28335", manufacturer=maker)  # fmt: skip
    client.force_login(team.vera)
    assert (
        "Record a component from this marking" not in client.get(url("marking", "change", marking.pk)).content.decode()
    )
    client.force_login(team.bob)
    page = client.get(url("marking", "change", marking.pk)).content.decode()
    assert "Record a component from this marking" in page
    link = page.split('class="button attest-record-component" href="')[1].split('"')[0].replace("&amp;", "&")
    query = parse_qs(urlparse(link).query)
    assert query == {"item": [str(board.pk)], "markings": [str(marking.pk)], "part_number": ["TMS320F28335"],
                     "manufacturer": [str(maker.pk)]}  # fmt: skip
    form = client.get(link).context["adminform"].form
    assert form.initial["item"] == str(board.pk)
    assert form.initial["part_number"] == "TMS320F28335"
    assert form.initial["manufacturer"] == str(maker.pk)
    assert form.initial["markings"] == [str(marking.pk)]
    response = client.post(link, {"item": board.pk, "function": "processing", "part_number": "TMS320F28335",
                                  "manufacturer": maker.pk, "markings": [marking.pk]})  # fmt: skip
    assert response.status_code == 302
    marking.refresh_from_db()
    assert marking.component is not None
    page = client.get(url("marking", "change", marking.pk)).content.decode()
    assert url("component", "change", marking.component_id) in page
    assert "Record a component from this marking" not in page


def test_the_exhibit_page_lists_its_components(client, team, component):
    client.force_login(team.vera)
    page = client.get(url("evidenceitem", "change", component.item_id)).content.decode()
    assert url("component", "change", component.pk) in page


# --- Trace requests -----------------------------------------------------------------------------------------


def test_an_analyst_drafts_and_issues_but_may_not_send(client, team, component, monkeypatch):
    monkeypatch.setattr("evidence.admin.tracing.render_letter", fake_render)
    client.force_login(team.bob)
    response = client.post(url("tracerequest", "add"), {"case": team.case.pk, "recipient_kind": "manufacturer",
                                                        "recipient_name": "Texas Instruments",
                                                        "components": [component.pk], "language": "en",
                                                        "deadline_days": 28})  # fmt: skip
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    trace = TraceRequest.objects.get()
    assert trace.created_by == team.bob
    change = url("tracerequest", "change", trace.pk)
    page = client.get(change).content.decode()
    assert 'id="trace-step-issue"' in page
    assert 'id="trace-step-send"' not in page
    client.post(change, {"_trace_action": "issue"})
    trace.refresh_from_db()
    assert trace.letter_id is not None
    page = client.get(change).content.decode()
    assert f"{change}?download=letter" in page
    assert 'id="trace-step-send"' not in page  # an investigator's step
    download = client.get(change, {"download": "letter"})
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    refused = client.post(change, {"_trace_action": "send", "send-sent_on": timezone.localdate().isoformat(),
                                   "send-channel": "email"})  # fmt: skip
    assert refused.status_code == 403
    trace.refresh_from_db()
    assert trace.status == "draft"


def test_an_investigator_sends_records_an_answer_and_closes(client, team, trace):
    tracing.issue_letter(actor=team.bob, request=trace, render=fake_render)
    sanctioned = EntityFactory(name="Shenzhen Trading Co", sanctioned=True)
    client.force_login(team.ivan)
    change = url("tracerequest", "change", trace.pk)
    assert 'id="trace-step-send"' in client.get(change).content.decode()
    today = timezone.localdate()
    response = client.post(change, {"_trace_action": "send", "send-sent_on": today.isoformat(),
                                    "send-channel": "email"}, follow=True)  # fmt: skip
    assert response.status_code == 200
    trace.refresh_from_db()
    assert (trace.status, trace.sent_on, trace.channel) == ("sent", today, "email")
    answer = SimpleUploadedFile("answer.pdf", PDF, "application/pdf")
    response = client.post(change, {"_trace_action": "response", "response-received_on": today.isoformat(),
                                    "response-summary": "Sold through a distributor.", "response-upload": answer,
                                    "response-distributor_name": "Shenzhen Trading Co., Ltd.",
                                    "response-distributor_country": "China"}, follow=True)  # fmt: skip
    page = response.content.decode()
    assert "Matches a sanctions list:" in page
    assert sanctioned.name in page
    trace.refresh_from_db()
    assert trace.status == "answered"
    response_file = trace.responses.get()
    download = client.get(change, {"download": f"response-{response_file.pk}"})
    assert download.status_code == 200
    reply = client.post(change, {"_trace_action": "reply", "reply-draft_finding": "The part reached the weapon."})
    assert reply.status_code == 302
    assert TraceRequest.objects.filter(follows=trace, kind="right_of_reply").exists()
    client.post(change, {"_trace_action": "close", "close-reason": "answered in full"})
    trace.refresh_from_db()
    assert trace.status == "closed"


def test_a_refused_step_is_a_message_not_a_500(client, team, trace):
    client.force_login(team.ivan)
    change = url("tracerequest", "change", trace.pk)
    response = client.post(change, {"_trace_action": "send", "send-sent_on": timezone.localdate().isoformat(),
                                    "send-channel": "email"}, follow=True)  # fmt: skip
    assert response.status_code == 200
    assert "Issue the letter before sending it." in response.content.decode()
    response = client.post(change, {"_trace_action": "close"}, follow=True)
    assert response.status_code == 200
    trace.refresh_from_db()
    assert trace.status == "draft"


def test_overdue_requests_are_highlighted_in_the_list(client, team, trace):
    sent(team, trace, days_ago=40)
    client.force_login(team.vera)
    page = client.get(url("tracerequest", "changelist")).content.decode()
    assert 'class="attest-overdue"' in page
    overdue = client.get(url("tracerequest", "changelist"), {"due": "overdue"}).content.decode()
    assert url("tracerequest", "change", trace.pk) in overdue
    week = client.get(url("tracerequest", "changelist"), {"due": "week"}).content.decode()
    assert url("tracerequest", "change", trace.pk) not in week


# --- The case overview and the home page -------------------------------------------------------------------


def test_the_overview_shows_the_components_panel_and_the_requests_due(client, team, component, reading, trace):
    services.verify_reading(actor=team.ivan, reading=reading)
    services.record_component(actor=team.bob, item=component.item, function="power", part_number="LM2596")
    sent(team, trace, days_ago=25)  # due in 3 days
    client.force_login(team.vera)
    page = client.get(reverse("admin:cases_case_overview", args=[team.case.pk])).content.decode()
    panel = page.split('id="case-components-title"')[1].split("</section>")[0]
    assert "United States" in panel
    assert "Texas Instruments" in panel
    assert f"{url('component', 'changelist')}?case={team.case.pk}" in panel
    assert "1 of 2" in panel  # components with a readable date code
    assert "2023" in panel  # the earliest-assembly statement: not before a day of 2023
    assert "2312" in panel  # the reading it rests on
    assert "stock" in panel  # the caveat
    assert 'class="attest-histogram"' in panel
    due = page.split('id="case-trace-due-title"')[1].split("</section>")[0]
    assert url("tracerequest", "change", trace.pk) in due


def test_the_home_page_lists_the_requests_due_across_the_users_cases(client, team, trace):
    sent(team, trace, days_ago=25)
    client.force_login(team.vera)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="attest-trace-due"' in page
    assert url("tracerequest", "change", trace.pk) in page
    client.force_login(team.charlie)
    page = client.get(reverse("admin:index")).content.decode()
    assert url("tracerequest", "change", trace.pk) not in page


def test_a_trace_request_is_drafted_from_the_component_list(client, team, component):
    client.force_login(team.bob)
    response = client.post(
        url("component", "changelist"), {"action": "draft_trace_request", ACTION_CHECKBOX_NAME: [component.pk]}
    )
    assert response.status_code == 302
    form = client.get(response["Location"]).context["adminform"].form
    assert form.initial["case"] == str(team.case.pk)
    assert form.initial["components"] == [str(component.pk)]
    assert list(form.fields["components"].queryset) == [component]
    assert not TraceRequest.objects.exists()  # the form is only opened
