"""Trace requests through the API: drafted by analysts, sent by investigators, answered, followed by a right
of reply, closed; the letter downloaded like every other file; the overdue filter."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import AccessLog, ReferenceChange
from evidence.models import Component, TraceRequest
from evidence.services.components import record_component
from tests.api.test_endpoints import assert_error
from tests.factories import EvidenceItemFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/trace-requests/"
PDF = b"%PDF-1.4\n% a trace letter\n%%EOF\n"


@pytest.fixture(autouse=True)
def letters(monkeypatch):
    """Letters rendered to a small PDF, without the PDF engine."""
    monkeypatch.setattr("evidence.api.views.render_letter", lambda request, path: path.write_bytes(PDF))


@pytest.fixture
def component(team):
    item = EvidenceItemFactory(case=team.case, kind="component")
    return record_component(actor=team.alice, item=item, function="guidance", part_number="ADIS16470")


def draft(client, team, component, **extra):
    body = {"case": team.case.pk, "recipient_kind": "manufacturer", "recipient_name": "Analog Devices",
            "components": [component.pk], "context": "Debris of a strike on Kharkiv.", **extra}  # fmt: skip
    return client.post(URL, body, format="json")


def sent(api, team, component, *, days_ago=0, deadline_days=28) -> dict:
    client = api(team.alice)
    trace = draft(client, team, component, deadline_days=deadline_days).json()
    assert client.post(f"{URL}{trace['id']}/letter/").status_code == 200
    sent_on = (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()
    response = client.post(f"{URL}{trace['id']}/send/", {"sent_on": sent_on, "channel": "email"}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_an_analyst_drafts_a_viewer_reads_an_outsider_sees_nothing(api, team, component):
    response = draft(api(team.bob), team, component)
    assert response.status_code == 201, response.content
    trace = response.json()
    assert trace["status"] == "draft"
    assert trace["kind"] == "trace"
    assert trace["components"] == [component.pk]
    assert trace["deadline_days"] == 28
    assert trace["letter_url"] is None
    assert api(team.vera).get(f"{URL}{trace['id']}/").status_code == 200
    assert_error(draft(api(team.vera), team, component), 403, "permission_denied")
    assert_error(api(team.charlie).get(f"{URL}{trace['id']}/"), 404, "not_found")
    assert api(team.charlie).get(URL).json()["results"] == []
    assert_error(draft(api(team.charlie), team, component), 400, field="case")


def test_bad_input_is_a_400_naming_the_field(api, team, component):
    other_item = EvidenceItemFactory(case=team.other_case, kind="component")
    foreign = record_component(actor=team.charlie, item=other_item, function="power")
    # charlie's component is invisible to bob; root sees both cases, and still may not mix them
    assert_error(draft(api(team.bob), team, component, components=[foreign.pk]), 400, field="components")
    assert_error(draft(api(team.root), team, component, components=[foreign.pk]), 400, field="components")
    assert_error(draft(api(team.bob), team, component, components=[]), 400, field="components")
    assert_error(draft(api(team.bob), team, component, recipient_kind="friend"), 400, field="recipient_kind")
    assert_error(draft(api(team.bob), team, component, deadline_days=0), 400, field="deadline_days")
    assert not TraceRequest.objects.exists()


def test_the_letter_is_issued_then_downloaded_and_the_download_logged(api, team, component):
    trace = draft(api(team.bob), team, component).json()
    url = f"{URL}{trace['id']}/letter/"
    assert_error(api(team.vera).get(url), 404, "not_found")  # not issued yet
    assert_error(api(team.vera).post(url), 403)
    issued = api(team.bob).post(url)
    assert issued.status_code == 200, issued.content
    assert issued.json()["letter_sha256"]
    assert issued.json()["letter_url"].endswith(url)

    response = api(team.vera).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF
    logged = AccessLog.objects.filter(user=team.vera).latest("pk")
    assert logged.action == "download"
    assert logged.object_type == "tracerequest"
    assert logged.case_id == team.case.pk
    assert_error(api(team.charlie).get(url), 404)


def test_an_analyst_cannot_send_an_investigator_can(api, team, component):
    trace = draft(api(team.bob), team, component).json()
    api(team.bob).post(f"{URL}{trace['id']}/letter/")
    url = f"{URL}{trace['id']}/send/"
    body = {"sent_on": timezone.localdate().isoformat(), "channel": "email"}
    response = api(team.bob).post(url, body, format="json")
    assert response["Content-Type"].startswith("application/json")
    assert_error(response, 403, "permission_denied")
    assert_error(api(team.ivan).post(url, {**body, "channel": "pigeon"}, format="json"), 400, field="channel")
    assert_error(api(team.ivan).post(url, {"channel": "email"}, format="json"), 400, field="sent_on")
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    assert_error(api(team.ivan).post(url, {**body, "sent_on": future}, format="json"), 400, field="sent_on")
    response = api(team.ivan).post(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sent"
    assert response.json()["due_on"] == (timezone.localdate() + dt.timedelta(days=28)).isoformat()
    assert_error(api(team.ivan).post(url, body, format="json"), 400, field="status")  # sent once


def test_overdue_lists_requests_sent_and_past_their_due_day(api, team, component):
    late = sent(api, team, component, days_ago=40, deadline_days=28)
    on_time = sent(api, team, component, days_ago=2, deadline_days=28)
    still_draft = draft(api(team.bob), team, component).json()
    client = api(team.vera)

    def ids(**query):
        response = client.get(URL, query)
        assert response.status_code == 200, response.content
        return sorted(row["id"] for row in response.json()["results"])

    assert ids(overdue="true") == [late["id"]]
    assert ids(overdue="false") == sorted([on_time["id"], still_draft["id"]])
    assert ids(status="draft") == [still_draft["id"]]
    assert ids(case=team.case.pk, kind="trace") == sorted([late["id"], on_time["id"], still_draft["id"]])
    assert ids(case=team.other_case.pk) == []
    TraceRequest.objects.filter(pk=on_time["id"]).update(status="no_answer")
    assert ids(overdue="true") == sorted([late["id"], on_time["id"]])
    assert_error(client.get(URL, {"overdue": "yes"}), 400, field="overdue")
    assert_error(client.get(URL, {"status": "lost"}), 400, field="status")


def test_an_answer_with_its_file_names_the_distributor(api, team, component):
    trace = sent(api, team, component, days_ago=5)
    url = f"{URL}{trace['id']}/responses/"
    answer = SimpleUploadedFile("answer.pdf", b"%PDF-1.4 sold to Shenzhen Example Trading", "application/pdf")
    body = {"received_on": timezone.localdate().isoformat(), "summary": "Sold through a distributor.",
            "file": answer, "distributor_name": "Shenzhen Example Trading Co., Ltd.",
            "distributor_country": "China"}  # fmt: skip
    assert_error(api(team.bob).post(url, body, format="multipart"), 403)
    answer.seek(0)
    response = api(team.ivan).post(url, body, format="multipart")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["file_name"] == "answer.pdf"
    assert data["sha256"]
    assert data["names_distributor_name"]
    detail = api(team.vera).get(f"{URL}{trace['id']}/").json()
    assert detail["status"] == "answered"
    assert [row["id"] for row in detail["responses"]] == [data["id"]]
    assert Component.objects.get(pk=component.pk).distributor_id == data["names_distributor"]
    # The new entity is reference data every case shares: the trail records who added it, and how.
    added = ReferenceChange.objects.get(model="cases.entity", object_id=data["names_distributor"])
    assert (added.action, added.actor, added.via) == ("created", team.ivan, "trace response")
    assert added.after["name"] == "Shenzhen Example Trading Co., Ltd."
    assert added.after["sanctioned"] is False

    early = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    assert_error(api(team.ivan).post(url, {"received_on": early}, format="multipart"), 400, field="received_on")
    assert_error(api(team.ivan).post(url, {"summary": "x"}, format="multipart"), 400, field="received_on")


def test_a_draft_given_up_is_closed_unsent(api, team, component):
    trace = draft(api(team.bob), team, component).json()
    close = f"{URL}{trace['id']}/close/"
    assert_error(api(team.bob).post(close, {"reason": "not needed"}, format="json"), 403)
    response = api(team.ivan).post(close, {"reason": "not needed"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"
    assert response.json()["sent_on"] is None


def test_right_of_reply_then_close(api, team, component):
    trace = sent(api, team, component, days_ago=5)
    url = f"{URL}{trace['id']}/right-of-reply/"
    assert_error(api(team.bob).post(url, {}, format="json"), 400, field="draft_finding")
    response = api(team.bob).post(url, {"draft_finding": "The IMU was sold in 2022.", "deadline_days": 14})
    assert response.status_code == 201, response.content
    reply = response.json()
    assert reply["kind"] == "right_of_reply"
    assert reply["follows"] == trace["id"]
    assert reply["draft_finding"] == "The IMU was sold in 2022."
    assert api(team.vera).get(URL, {"kind": "right_of_reply"}).json()["count"] == 1

    close = f"{URL}{trace['id']}/close/"
    assert_error(api(team.ivan).post(close, {}, format="json"), 400, field="reason")
    assert_error(api(team.bob).post(close, {"reason": "answered enough"}, format="json"), 403)
    assert_error(api(team.charlie).post(close, {"reason": "answered enough"}, format="json"), 404)
    response = api(team.ivan).post(close, {"reason": "answered enough"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"
