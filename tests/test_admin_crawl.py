"""Every admin page of every registered model, as every persona, generated from `admin.site`'s registry.

Six sections once answered 500 for every user because no test opened them. This crawl opens the list,
add, change, history and delete pages of each model, and every autocomplete field, so a model
registered later is covered without editing the test. No page may answer 5xx; a superuser reaches
every list and add page the model admin offers.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.routes import CASE_OBJECT, ROW_MAKERS

pytestmark = pytest.mark.django_db
PERSONAS = ("root", "alice", "ivan", "bob", "vera", "charlie")


def _third_party_rows():
    from axes.models import AccessAttempt, AccessFailureLog
    from axes.models import AccessLog as AxesAccessLog
    from django.contrib.auth.models import Group, User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cases.models import SanctionsProvision, SanctionsRegime
    from evidence.models import Checkpoint

    def attempt(model):
        return lambda team: model.objects.create(username="mallory", ip_address="192.0.2.1", user_agent="x")

    return {
        Group: lambda team: Group.objects.create(name="crawl"),
        User: lambda team: team.bob,
        TOTPDevice: lambda team: TOTPDevice.objects.create(user=team.alice, name="phone"),
        AccessAttempt: lambda team: AccessAttempt.objects.create(
            username="mallory", ip_address="192.0.2.1", user_agent="x", failures_since_start=1
        ),
        AxesAccessLog: attempt(AxesAccessLog),
        AccessFailureLog: attempt(AccessFailureLog),
        SanctionsRegime: lambda team: SanctionsProvision.objects.first().regime,
        Checkpoint: CASE_OBJECT[Checkpoint],
    }


def _row(model, team):
    makers = {**_third_party_rows(), **ROW_MAKERS}
    assert model in makers, f"give {model.__name__} a row maker in tests/routes.py"
    return makers[model](team)


def _models():
    for model in admin.site._registry:
        yield pytest.param(model, id=f"{model._meta.app_label}.{model.__name__}")


def _name(model, page: str) -> str:
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"


def _pages(model, obj):
    yield "changelist", reverse(_name(model, "changelist"))
    yield "add", reverse(_name(model, "add"))
    for page in ("change", "history", "delete"):
        yield page, reverse(_name(model, page), args=[obj.pk])


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model", list(_models()))
def test_no_admin_page_answers_a_server_error(client, team, model, persona):
    obj = _row(model, team)
    client.force_login(getattr(team, persona))
    model_admin = admin.site._registry[model]
    for page, url in _pages(model, obj):
        response = client.get(url)
        assert response.status_code < 500, (persona, page, url, response.status_code)
        assert response.status_code in (200, 302, 403, 404), (persona, page, url, response.status_code)
        if persona == "root" and page == "changelist":
            assert response.status_code == 200, (page, url)
        if persona == "root" and page == "add":
            request = response.wsgi_request
            offered = model_admin.has_add_permission(request)
            assert response.status_code == (200 if offered else 403), (page, url)


def _autocompletes():
    for model, model_admin in admin.site._registry.items():
        fields = list(model_admin.autocomplete_fields)
        for inline in model_admin.inlines:
            fields += [(inline.model, name) for name in inline.autocomplete_fields]
        for field in fields:
            source, name = field if isinstance(field, tuple) else (model, field)
            yield pytest.param(source, name, id=f"{source.__name__}.{name}")


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("model", "field_name"), list(_autocompletes()))
def test_every_autocomplete_field_answers(client, team, model, field_name, persona):
    """The entity type-ahead on the case, incident and attribution forms was a 500 for everyone."""
    _row(model._meta.get_field(field_name).related_model, team)
    client.force_login(getattr(team, persona))
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field_name},
    )
    assert response.status_code in (200, 403), (persona, response.status_code)
    if persona == "root":
        assert response.status_code == 200
        assert "results" in response.json()
