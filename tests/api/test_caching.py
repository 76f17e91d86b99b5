"""No API response is stored by a browser or proxy, and the schema is for signed-in users only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import EvidenceItemFactory, PhotoFactory

pytestmark = pytest.mark.django_db


def assert_not_stored(response) -> None:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, (response.status_code, response.get("Cache-Control"))


def test_every_kind_of_api_response_says_no_store(api, team):
    photo = PhotoFactory(item=EvidenceItemFactory(case=team.case))
    lead = api(team.alice)
    detail = lead.get(f"/api/v1/photos/{photo.pk}/")
    incident = {"case": team.case.pk, "kind": "launch", "occurred_at": "2024-01-02T03:04:05Z"}
    responses = {
        "list": lead.get("/api/v1/evidence-items/", {"case": team.case.pk}),
        "detail": detail,
        "not modified": lead.get(f"/api/v1/photos/{photo.pk}/", HTTP_IF_NONE_MATCH=detail["ETag"]),
        "created": lead.post("/api/v1/incidents/", incident),
        "invalid": lead.post("/api/v1/incidents/", {"case": team.case.pk}),
        "csv": lead.get(f"/api/v1/evidence-items/{photo.item_id}/access-report/"),
        "file": lead.get(f"/api/v1/photos/{photo.pk}/original/"),
        "outsider's 404": api(team.charlie).get(f"/api/v1/photos/{photo.pk}/"),
        "forbidden": api(team.vera).patch(f"/api/v1/evidence-items/{photo.item_id}/", {"title": "x"}),
        "no such route": lead.get("/api/v1/no-such-thing/"),
        "anonymous": Client().get("/api/v1/cases/"),
        "bad token": Client().get("/api/v1/cases/", HTTP_AUTHORIZATION="Token att_nonsense"),
        "schema": lead.get("/api/schema/"),
    }
    expected = {"list": 200, "detail": 200, "not modified": 304, "created": 201, "invalid": 400, "csv": 200,
                "file": 200, "outsider's 404": 404, "forbidden": 403, "no such route": 404, "anonymous": 401,
                "bad token": 401, "schema": 200}  # fmt: skip
    assert {name: response.status_code for name, response in responses.items()} == expected
    for response in responses.values():
        assert_not_stored(response)


def test_the_admin_csv_report_is_not_stored_either(client, team):
    client.force_login(team.vera)
    response = client.get(reverse("admin:evidence_sanctions_report", args=[team.case.pk]), {"export": "csv"})
    assert response.status_code == 200
    assert_not_stored(response)


@pytest.mark.parametrize("name", ["schema", "swagger-ui", "redoc"])
def test_the_schema_and_its_viewers_need_a_signed_in_user(name, api, team):
    url = reverse(name)
    anonymous = Client().get(url)
    assert anonymous.status_code == 401
    assert b"/api/v1/" not in anonymous.content  # nothing of the API is described
    assert_not_stored(anonymous)
    signed_in = Client()
    signed_in.force_login(team.vera)
    assert signed_in.get(url).status_code == 200
    assert api(team.vera).get(url).status_code == 200  # a token will do, e.g. for a client generator
