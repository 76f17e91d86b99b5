"""Roles shape what the admin shows: no Add or Change links and no actions a user cannot use; attributions
are withdrawn and a case's integrity checked from the admin (issue 17, section 1)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from cases.choices import Role
from evidence.models import Attribution, CustodyEvent, Source
from tests import factories
from tests.routes import is_case_scoped

pytestmark = pytest.mark.django_db


def _offered_actions(client, model) -> set[str]:
    response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    assert response.status_code == 200
    form = response.context["action_form"]
    return {name for name, _label in form.fields["action"].choices if name} if form else set()


def _post_action(client, model, action: str, *objects):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return client.post(url, {"action": action, ACTION_CHECKBOX_NAME: [obj.pk for obj in objects]}, follow=True)


def test_a_viewer_is_offered_no_add_or_change_on_the_home_page(client, team):
    client.force_login(team.vera)
    app_list = client.get(reverse("admin:index")).context["app_list"]
    models = {entry["model"]: entry["perms"] for app in app_list for entry in app["models"]}
    scoped = [model for model in models if is_case_scoped(model)]
    assert scoped
    for model in scoped:
        assert not models[model]["add"], model
        assert not models[model]["change"], model
        assert models[model]["view"], model


def test_a_lead_is_offered_change_where_leads_write(client, team):
    client.force_login(team.alice)
    app_list = client.get(reverse("admin:index")).context["app_list"]
    models = {entry["model"]: entry["perms"] for app in app_list for entry in app["models"]}
    from cases.models import Case, Incident
    from evidence.models import EvidenceItem

    for model in (Case, Incident, EvidenceItem, Source, Attribution):
        assert models[model]["change"], model


@pytest.mark.parametrize(
    ("model", "action", "least"),
    [
        (Source, "withdraw_selected", Role.ANALYST),
        (Attribution, "withdraw_selected", Role.ANALYST),
        ("evidence.Marking", "verify_selected", Role.ANALYST),
        ("cases.Case", "check_integrity", Role.INVESTIGATOR),
    ],
)
def test_actions_are_offered_by_role(client, team, model, action, least):
    from django.apps import apps

    from cases.choices import ROLE_RANK

    model = apps.get_model(model) if isinstance(model, str) else model
    roles = {"vera": Role.VIEWER, "bob": Role.ANALYST, "ivan": Role.INVESTIGATOR, "alice": Role.LEAD}
    for persona, role in roles.items():
        client.force_login(getattr(team, persona))
        offered = action in _offered_actions(client, model)
        assert offered == (ROLE_RANK[role] >= ROLE_RANK[least]), (persona, action)
    client.force_login(team.charlie)  # a lead of his own case only
    assert action in _offered_actions(client, model)


def test_an_action_not_offered_changes_nothing_and_is_no_bare_403(client, team):
    source = factories.SourceFactory(case=team.case)
    client.force_login(team.vera)
    response = _post_action(client, Source, "withdraw_selected", source)
    assert response.status_code == 200
    source.refresh_from_db()
    assert source.withdrawn_at is None


def test_one_refused_object_is_named_and_the_others_go_ahead(client, team):
    """bob analyses team.case but only views another case: its source is refused in a message."""
    elsewhere = factories.CaseFactory(lead=team.alice)
    factories.MembershipFactory(case=elsewhere, user=team.bob, role=Role.VIEWER)
    mine, theirs = factories.SourceFactory(case=team.case), factories.SourceFactory(case=elsewhere)
    client.force_login(team.bob)
    response = _post_action(client, Source, "withdraw_selected", mine, theirs)
    assert response.status_code == 200
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.withdrawn_at is not None
    assert theirs.withdrawn_at is None
    page = response.content.decode()
    assert "1 source(s) withdrawn." in page
    assert f"{theirs.title}: This needs the Analyst role on case {elsewhere.reference}." in page


def test_attributions_are_withdrawn_from_the_list(client, team):
    attribution = factories.AttributionFactory(case=team.case)
    client.force_login(team.bob)
    response = _post_action(client, Attribution, "withdraw_selected", attribution)
    assert response.status_code == 200
    attribution.refresh_from_db()
    assert attribution.withdrawn_at is not None
    assert "withdrawn in the admin by bob" in attribution.withdrawal_reason
    assert CustodyEvent.objects.filter(case=team.case, event_type="attribution.withdrawn").exists()
    assert "1 attribution(s) withdrawn." in response.content.decode()


def test_a_lead_checks_a_cases_integrity_from_the_case_list(client, team):
    factories.EvidenceItemFactory(case=team.case)
    client.force_login(team.alice)
    from cases.models import Case

    response = _post_action(client, Case, "check_integrity", team.case)
    assert response.status_code == 200
    check = CustodyEvent.objects.get(case=team.case, event_type="fixity.checked")
    assert check.payload_data["intact"]
    assert f"{team.case.reference}: intact" in response.content.decode()
    # The case page then shows the verdict instead of "not checked yet".
    page = client.get(reverse("admin:cases_case_change", args=[team.case.pk])).content.decode()
    assert "not checked yet" not in page


def test_the_integrity_check_refuses_a_case_where_the_user_only_views(client, team):
    elsewhere = factories.CaseFactory(lead=team.alice)
    factories.MembershipFactory(case=elsewhere, user=team.ivan, role=Role.VIEWER)
    client.force_login(team.ivan)
    from cases.models import Case

    response = _post_action(client, Case, "check_integrity", team.case, elsewhere)
    assert response.status_code == 200
    assert CustodyEvent.objects.filter(case=team.case, event_type="fixity.checked").exists()
    assert not CustodyEvent.objects.filter(case=elsewhere, event_type="fixity.checked").exists()
    refusal = f"{elsewhere.reference}: This needs the Investigator role on case {elsewhere.reference}."
    assert refusal in response.content.decode()


def test_every_action_names_a_permission_or_is_for_everyone_who_sees_the_list():
    """An action without permissions is offered to every persona: only those that each may use."""
    open_to_all = {"request_dossier", "request_package", "revoke"}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ("cases", "evidence"):
            continue  # third-party admins (axes) are for superusers only
        for func, name, _description in model_admin._get_base_actions():
            if name == "delete_selected":
                continue
            assert getattr(func, "allowed_permissions", ()) or name in open_to_all, (model_admin, name)


def test_a_lead_checks_the_integrity_from_the_case_page(client, team):
    """Both demo cases said "not checked yet": the case page links to the check, which asks first."""
    client.force_login(team.alice)
    case_url = reverse("admin:cases_case_change", args=[team.case.pk])
    check_url = reverse("admin:cases_case_integrity", args=[team.case.pk])
    assert check_url in client.get(case_url).content.decode()
    confirmation = client.get(check_url)
    assert confirmation.status_code == 200
    assert not CustodyEvent.objects.filter(case=team.case, event_type="fixity.checked").exists()  # asked first
    response = client.post(check_url, {"next": case_url}, follow=True)
    assert response.redirect_chain[-1][0] == case_url
    assert CustodyEvent.objects.filter(case=team.case, event_type="fixity.checked").exists()
    assert f"{team.case.reference}: intact" in response.content.decode()


@pytest.mark.parametrize(("persona", "status"), [("vera", 403), ("bob", 403), ("charlie", 404)])
def test_the_integrity_check_page_refuses_viewers_analysts_and_outsiders(client, team, persona, status):
    client.force_login(getattr(team, persona))
    case_url = reverse("admin:cases_case_change", args=[team.case.pk])
    check_url = reverse("admin:cases_case_integrity", args=[team.case.pk])
    if persona != "charlie":
        assert check_url not in client.get(case_url).content.decode()
    assert client.post(check_url).status_code == status
    assert not CustodyEvent.objects.filter(case=team.case, event_type="fixity.checked").exists()


def test_the_integrity_check_goes_back_only_to_this_site(client, team):
    client.force_login(team.alice)
    check_url = reverse("admin:cases_case_integrity", args=[team.case.pk])
    response = client.post(check_url, {"next": "https://elsewhere.example/"})
    assert response["Location"] == reverse("admin:cases_case_overview", args=[team.case.pk])


def test_the_integrity_check_page_leads_back_to_the_overview(client, team):
    client.force_login(team.alice)
    page = client.get(reverse("admin:cases_case_integrity", args=[team.case.pk])).content.decode()
    crumbs = page.split('<div class="breadcrumbs">')[1].split("</div>")[0]
    assert reverse("admin:cases_case_overview", args=[team.case.pk]) in crumbs
    assert f'name="next" value="{reverse("admin:cases_case_overview", args=[team.case.pk])}"' in page


def test_the_admins_integrity_checks_share_the_apis_budget_per_user(client, team, monkeypatch):
    """A check re-hashes every file of a case: the admin's page and action count with POST /verify/."""
    from cases.models import Case
    from core.api.throttling import FixityCheckThrottle

    monkeypatch.setitem(FixityCheckThrottle.THROTTLE_RATES, "fixity_check", "2/hour")
    client.force_login(team.alice)
    check_url = reverse("admin:cases_case_integrity", args=[team.case.pk])
    for _ in range(2):
        client.post(check_url)
    response = client.post(check_url, follow=True)
    assert "not checked" in response.content.decode()
    assert "try again in" in response.content.decode()
    response = _post_action(client, Case, "check_integrity", team.case)
    assert "not checked" in response.content.decode()
    assert CustodyEvent.objects.filter(case=team.case, event_type="fixity.checked").count() == 2
    client.force_login(team.ivan)  # another user's budget
    client.post(check_url)
    assert CustodyEvent.objects.filter(case=team.case, event_type="fixity.checked").count() == 3
