"""Every free-text field takes at most TEXT_MAX_LENGTH characters: refused by the model (so by every
service), by the API with a JSON 400 naming the field, and by the admin's forms."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from cases.models import TEXT_MAX_LENGTH, Case
from evidence import services
from evidence.models import CustodyEvent, EvidenceItem
from tests.api.test_endpoints import assert_error
from tests.factories import AttributionFactory, EvidenceItemFactory, IncidentFactory, MarkingFactory, SourceFactory

pytestmark = pytest.mark.django_db

TOO_LONG = "x" * (TEXT_MAX_LENGTH + 1)
LONGEST = "x" * TEXT_MAX_LENGTH
# Written by the system, never typed by a user: bounded where they are written.
SYSTEM_TEXT = {"evidence.Export.error", "evidence.Photo.error", "evidence.CustodyEvent.payload"}


def _text_fields():
    for app in ("cases", "evidence"):
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                if isinstance(field, models.TextField):
                    name = f"{model._meta.label}.{field.name}"
                    if name not in SYSTEM_TEXT:
                        yield pytest.param(field, id=name)


@pytest.mark.parametrize("field", list(_text_fields()))
def test_every_free_text_field_has_the_limit_and_the_model_enforces_it(field):
    assert field.max_length == TEXT_MAX_LENGTH
    field.clean(LONGEST, None)
    with pytest.raises(ValidationError):
        field.clean(TOO_LONG, None)


def _item(team):
    return EvidenceItemFactory(case=team.case, actor=team.ivan)


# (method, url(team), body(team), the field named in the error)
API_WRITES = {
    "item description": (
        "post",
        lambda team: "/api/v1/evidence-items/",
        lambda team: {"case": team.case.pk, "kind": "physical_debris", "title": "Fin", "description": TOO_LONG},
        "description",
    ),
    "item condition": (
        "patch",
        lambda team: f"/api/v1/evidence-items/{_item(team).pk}/",
        lambda team: {"condition": TOO_LONG},
        "condition",
    ),
    "case summary": (
        "patch",
        lambda team: f"/api/v1/cases/{team.case.pk}/",
        lambda team: {"summary": TOO_LONG},
        "summary",
    ),
    "incident description": (
        "patch",
        lambda team: f"/api/v1/incidents/{IncidentFactory(case=team.case).pk}/",
        lambda team: {"description": TOO_LONG},
        "description",
    ),
    "attribution claim": (
        "post",
        lambda team: "/api/v1/attributions/",
        lambda team: {
            "case": team.case.pk,
            "claim": TOO_LONG,
            "subject_type": "case",
            "source": SourceFactory(case=team.case).pk,
            "credibility": 2,
        },
        "claim",
    ),
    "transfer notes": (
        "post",
        lambda team: "/api/v1/custody-events/",
        lambda team: {
            "item": _item(team).pk,
            "to_custodian": "Kyiv laboratory",
            "occurred_at": "2024-01-05T10:00:00Z",
            "notes": TOO_LONG,
        },
        "notes",
    ),
    "withdrawal reason": (
        "post",
        lambda team: f"/api/v1/sources/{SourceFactory(case=team.case).pk}/withdraw/",
        lambda team: {"reason": TOO_LONG},
        "reason",
    ),
}


@pytest.mark.parametrize("name", list(API_WRITES))
def test_the_api_answers_400_naming_the_field(api, team, name):
    method, url, body, field = API_WRITES[name]
    url, body = url(team), body(team)
    events = CustodyEvent.objects.count()
    response = getattr(api(team.alice), method)(url, body, format="json")
    assert_error(response, 400, code="invalid", field=field)
    assert str(TEXT_MAX_LENGTH) in " ".join(response.json()["error"]["fields"][field])
    assert CustodyEvent.objects.count() == events  # nothing was recorded


def test_the_longest_text_is_accepted(api, team):
    body = {"case": team.case.pk, "kind": "physical_debris", "title": "Fin", "description": LONGEST}
    response = api(team.ivan).post("/api/v1/evidence-items/", body, format="json")
    assert response.status_code == 201, response.content[:300]
    assert len(EvidenceItem.objects.get().description) == TEXT_MAX_LENGTH


def test_the_admin_form_refuses_it_and_saves_nothing(client, team):
    client.force_login(team.ivan)
    body = {"case": team.case.pk, "kind": "physical_debris", "title": "Tail fin", "description": TOO_LONG}
    response = client.post(reverse("admin:evidence_evidenceitem_add"), body)
    assert response.status_code == 200  # the form again, with its error
    assert "description" in response.context["adminform"].form.errors
    assert not EvidenceItem.objects.exists()


def test_the_admin_case_form_refuses_a_long_summary(client, team):
    client.force_login(team.alice)
    form_class = client.get(reverse("admin:cases_case_change", args=[team.case.pk])).context["adminform"].form
    form = type(form_class)(data={"title": "t", "summary": TOO_LONG, "status": "open", "opened_on": "2024-01-01"})
    assert not form.is_valid()
    assert "summary" in form.errors
    assert Case.objects.get(pk=team.case.pk).summary != TOO_LONG


SERVICE_CALLS = {
    "record_examination": lambda team: services.record_examination(
        actor=team.ivan, item=_item(team), occurred_at="2024-01-05T10:00:00Z", examiner="lab", findings=TOO_LONG
    ),
    "transfer_custody": lambda team: services.transfer_custody(
        actor=team.ivan, item=_item(team), to_custodian="lab", occurred_at="2024-01-05T10:00:00Z", purpose=TOO_LONG
    ),
    "withdraw_marking": lambda team: services.withdraw_marking(
        actor=team.bob,
        marking=MarkingFactory(item=EvidenceItemFactory(case=team.case, kind="component")),
        reason=TOO_LONG,
    ),
    "withdraw_attribution": lambda team: services.withdraw_attribution(
        actor=team.bob, attribution=AttributionFactory(case=team.case), reason=TOO_LONG
    ),
    "update_item": lambda team: services.update_item(actor=team.ivan, item=_item(team), title="New", reason=TOO_LONG),
}


@pytest.mark.parametrize("name", list(SERVICE_CALLS))
def test_services_refuse_long_text_given_as_arguments(team, name):
    with pytest.raises(ValidationError) as refused:
        SERVICE_CALLS[name](team)
    assert set(refused.value.message_dict) & {"reason", "findings", "purpose"}
