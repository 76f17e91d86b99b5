"""Probes that used to leave no row a lead can see: wrong TOTP codes, refused API tokens, ?case= of another team."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import AccessLog
from cases.services import create_api_token, revoke_api_token
from core.models import ApiToken
from tests.api.test_endpoints import assert_error
from tests.factories import PASSWORD, EvidenceItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def last(**filters) -> AccessLog:
    return AccessLog.objects.filter(**filters).latest("pk")


def lead_sees(api, lead, case, **filters) -> list[dict]:
    """The rows of the case's access log that its lead reads through the API."""
    rows = api(lead).get("/api/v1/access-logs/", {"case": case.pk, "page_size": 100}).json()["results"]
    return [row for row in rows if all(row[key] == value for key, value in filters.items())]


def test_a_refused_totp_code_after_the_right_password_is_logged(two_factor_urls):
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = UserFactory(username="olena", is_staff=True)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    right = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    wrong = f"{(right + 500_000) % 1_000_000:06d}"
    form = {"username": "olena", "password": PASSWORD, "otp_device": device.persistent_id}
    client = Client()
    refused = client.post(reverse("admin:login"), {**form, "otp_token": wrong}, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session
    row = last(action="totp_failed")
    assert (row.user, row.username, row.ip, row.path) == (user, "olena", "203.0.113.7", "/admin/login/")
    # Tries while django-otp throttles the device are refused unchecked, and logged too.
    client.post(reverse("admin:login"), {**form, "otp_token": wrong})
    assert AccessLog.objects.filter(action="totp_failed", user=user).count() == 2
    # A wrong password is a failed sign-in as before, not a refused code; the right code signs in unlogged.
    client.post(reverse("admin:login"), {**form, "password": "not it", "otp_token": wrong})
    device.refresh_from_db()
    device.throttle_reset()
    client.post(reverse("admin:login"), {**form, "otp_token": f"{right:06d}"})
    assert "_auth_user_id" in client.session
    assert AccessLog.objects.filter(action="totp_failed").count() == 2


def test_a_revoked_token_is_logged_on_the_case_it_was_after(api, team):
    item = EvidenceItemFactory(case=team.case)
    token, raw = create_api_token(actor=team.vera, name="laptop")
    revoke_api_token(actor=team.vera, token=token)
    response = Client().get(f"/api/v1/evidence-items/{item.pk}/", HTTP_AUTHORIZATION=f"Token {raw}")
    assert response.status_code == 401
    row = last(action="token_refused")
    # The row names the token's owner as its user, as a refused TOTP code names the account: whose key was tried.
    assert (row.username, row.user, row.status_code) == ("vera", team.vera, 401)
    assert (row.object_type, row.object_id, row.case) == ("evidenceitem", str(item.pk), team.case)
    assert lead_sees(api, team.alice, team.case, action="token_refused", username="vera")


def test_an_expired_token_on_a_list_of_a_named_case_is_logged_on_that_case(api, team):
    token, raw = create_api_token(actor=team.bob, name="script")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    response = Client().get("/api/v1/photos/", {"case": team.case.pk}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    row = last(action="token_refused")
    assert (row.username, row.case, row.object_type) == ("bob", team.case, "case")
    assert lead_sees(api, team.alice, team.case, action="token_refused", username="bob")


def test_unknown_and_malformed_tokens_are_logged_for_superusers(api, team):
    for header in ("Token att_not-a-token", "Token two words"):
        response = Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=header, REMOTE_ADDR="198.51.100.4")
        assert response.status_code == 401
        row = last(action="token_refused")
        assert (row.username, row.case, row.ip, row.path) == ("", None, "198.51.100.4", "/api/v1/cases/")
    rows = api(team.root).get("/api/v1/access-logs/", {"action": "token_refused"}).json()["results"]
    assert len(rows) == 2


def test_a_token_of_an_inactive_user_names_the_token_when_no_case_is_named(team):
    token, raw = create_api_token(actor=team.ivan, name="old")
    type(team.ivan).objects.filter(pk=team.ivan.pk).update(is_active=False)
    assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401
    row = last(action="token_refused")
    assert (row.username, row.object_type, row.object_id) == ("ivan", "apitoken", str(token.pk))


def test_a_list_filtered_to_another_teams_case_is_a_refusal_its_lead_sees(api, team):
    EvidenceItemFactory(case=team.case)
    response = api(team.charlie).get("/api/v1/evidence-items/", {"case": team.case.pk})
    assert response.status_code == 200
    assert response.json()["results"] == []  # as for a case that does not exist: nothing tells them apart
    row = last(user=team.charlie)
    assert (row.action, row.case, row.object_type, row.status_code) == ("denied", team.case, "case", 200)
    assert lead_sees(api, team.alice, team.case, action="denied", user="charlie")
    # The team's own lists stay "list" rows; a case id that names no case is not a refusal of anyone's.
    api(team.vera).get("/api/v1/evidence-items/", {"case": team.case.pk})
    assert last(user=team.vera).action == "list"
    api(team.charlie).get("/api/v1/evidence-items/", {"case": 999_999})
    assert (last(user=team.charlie).action, last(user=team.charlie).case) == ("list", None)


@pytest.mark.parametrize(
    ("method", "extra", "status"),
    [("head", {}, 200), ("get", {"page": 2}, 404), ("get", {"page_size": "abc"}, 400)],
    ids=["head", "a-page-past-the-end", "a-bad-page-size"],
)
def test_a_probe_of_another_teams_case_is_a_refusal_whatever_the_list_answers(api, team, method, extra, status):
    response = getattr(api(team.charlie), method)("/api/v1/evidence-items/", {"case": team.case.pk, **extra})
    assert response.status_code == status
    row = last(user=team.charlie)
    assert (row.action, row.case, row.method, row.status_code) == ("denied", team.case, method.upper(), status)
    api(team.vera).get("/api/v1/evidence-items/", {"case": team.case.pk, "page_size": "abc"})
    assert not AccessLog.objects.filter(user=team.vera, action="denied").exists()  # her case: no probe
    rows = AccessLog.objects.count()
    assert api(None).get("/api/v1/evidence-items/", {"case": team.case.pk}).status_code == 401
    assert AccessLog.objects.count() == rows  # anonymous requests write no row: nothing throttles them


@pytest.mark.parametrize(
    "parameter",
    ["case", "case__id__exact", "case__exact", "case_id", "case__pk", "case__in", "case_id__in", "case__gte"],
)
def test_an_admin_list_filtered_to_another_teams_case_is_a_refusal(client, team, parameter):
    EvidenceItemFactory(case=team.case)
    client.force_login(team.charlie)
    url = reverse("admin:evidence_evidenceitem_changelist")
    response = client.get(url, {parameter: team.case.pk})
    # The visible-case filter shows an empty list; the admin refuses every other lookup on the case field.
    assert response.status_code == (200 if parameter == "case" else 400)
    row = last(user=team.charlie)
    assert (row.action, row.case) == ("denied", team.case)
    # His own case named first does not hide the probe.
    client.get(url, {"case": team.other_case.pk, parameter if parameter != "case" else "case__exact": team.case.pk})
    assert (last(user=team.charlie).action, last(user=team.charlie).case) == ("denied", team.case)
    client.force_login(team.vera)
    client.get(url, {parameter: team.case.pk})
    assert not AccessLog.objects.filter(user=team.vera, action="denied").exists()


@pytest.mark.parametrize("value", ["\u00b2", "1\u00b2", "\u2460", "\u0661", "9" * 30, "-1", "1,2"])
def test_a_case_id_that_is_no_id_is_a_400_and_no_server_error(api, client, team, value):
    """ "²" is a digit to Python's isdigit() and not to the database: a 500 in the API's list and the admin's."""
    assert api(team.vera).get("/api/v1/evidence-items/", {"case": value}).status_code == 400
    client.force_login(team.vera)
    assert client.get(reverse("admin:evidence_evidenceitem_changelist"), {"case": value}).status_code == 302  # ?e=1


@pytest.mark.parametrize("value", ["\u00b2", "9" * 30])
def test_a_case_id_that_is_no_id_on_an_add_page_or_in_a_body_is_no_server_error(api, client, team, value):
    client.force_login(team.alice)
    assert client.get(reverse("admin:evidence_evidenceitem_add"), {"case": value}).status_code == 200
    response = api(team.alice).post("/api/v1/incidents/", {"case": value, "kind": "strike"}, format="json")
    assert_error(response, 400, field="case")


def test_a_list_refused_outright_is_still_logged_as_a_refusal(client, team):
    """The admin's access log is for leads: the 403 others get is a refusal on the log, as before."""
    client.force_login(team.vera)
    assert client.get(reverse("admin:cases_accesslog_changelist")).status_code == 403
    row = last(user=team.vera)
    assert (row.action, row.status_code, row.object_type) == ("denied", 403, "accesslog")


def test_a_parameter_the_api_does_not_take_names_no_case(api, team):
    """The API ignores ?case_id= (its filter is ?case=): the list is the user's own, logged as a list."""
    response = api(team.vera).get("/api/v1/evidence-items/", {"case_id": team.other_case.pk})
    assert response.status_code == 200
    assert last(user=team.vera).action == "list"


def wrong_code_for(user, **extra):
    """A sign-in with the right password and a wrong TOTP code; the device is made here."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    right = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    form = {"username": user.username, "password": PASSWORD, "otp_device": device.persistent_id}
    form["otp_token"] = f"{(right + 500_000) % 1_000_000:06d}"
    return Client().post(reverse("admin:login"), {**form, **extra})


def lead_reads(lead, **filters) -> list[dict]:
    """The access log as `lead` reads it through the API, with a token issued as after a 2FA sign-in."""
    from rest_framework.test import APIClient

    _token, raw = create_api_token(actor=lead, name="reader", two_factor_verified=True)
    reader = APIClient(HTTP_AUTHORIZATION=f"Token {raw}")
    return reader.get("/api/v1/access-logs/", {"page_size": 100, **filters}).json()["results"]


def test_a_wrong_code_is_on_the_log_of_the_case_the_sign_in_was_to_open(team, two_factor_urls):
    overview = f"/admin/cases/case/{team.case.pk}/overview/"
    assert wrong_code_for(team.vera, next=overview).status_code == 200
    row = last(action="totp_failed")
    assert (row.user, row.case) == (team.vera, team.case)
    assert [row["user"] for row in lead_reads(team.alice, case=team.case.pk, action="totp_failed")] == ["vera"]
    # A page about something under a case names that case too; a page about none names none.
    item = EvidenceItemFactory(case=team.case)
    wrong_code_for(team.bob, next=f"/admin/evidence/evidenceitem/{item.pk}/change/")
    assert last(action="totp_failed", user=team.bob).case == team.case
    for page in ("/admin/", "https://elsewhere.example/admin/cases/case/1/", "/admin/cases/case/999999/change/"):
        wrong_code_for(UserFactory(), next=page)
        assert last(action="totp_failed").case is None, page
    # A case the user is not on is not named: whoever signs in types `next`, and could pick any case.
    wrong_code_for(UserFactory(), next=f"/admin/cases/case/{team.case.pk}/overview/")
    assert last(action="totp_failed").case is None


def test_a_refusal_about_a_members_account_is_for_the_leads_of_their_cases_only(team, two_factor_urls):
    wrong_code_for(team.ivan)  # no `next`: no case named
    assert last(action="totp_failed").case is None
    token, raw = create_api_token(actor=team.bob, name="laptop", two_factor_verified=True)
    revoke_api_token(actor=team.bob, token=token)
    Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {raw}")
    assert (last(action="token_refused").user, last(action="token_refused").case) == (team.bob, None)

    seen = {(row["action"], row["user"]) for row in lead_reads(team.alice)}
    assert {("totp_failed", "ivan"), ("token_refused", "bob")} <= seen
    # The lead of another team sees neither, nor does a member who leads nothing.
    assert not {row["action"] for row in lead_reads(team.charlie)} & {"totp_failed", "token_refused"}
    assert lead_reads(team.vera) == []
    # Sign-in failures of strangers stay with superusers.
    wrong_code_for(UserFactory(username="stranger"))
    assert ("totp_failed", "stranger") not in {(row["action"], row["user"]) for row in lead_reads(team.alice)}
    assert ("totp_failed", "stranger") in {(row["action"], row["user"]) for row in lead_reads(team.root)}


def test_a_token_guesser_is_slowed_and_stops_writing_rows_past_a_budget_per_address(api, team, monkeypatch):
    from core.api.throttling import RefusedTokenThrottle

    monkeypatch.setitem(RefusedTokenThrottle.THROTTLE_RATES, "refused_token", "3/min")
    guesser = Client(REMOTE_ADDR="198.51.100.9")
    answers = [guesser.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token att_guess{n}") for n in range(6)]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429, 429, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    assert answers[-1].json()["error"]["code"] == "throttled"
    assert AccessLog.objects.filter(action="token_refused", ip="198.51.100.9").count() == 3
    # Only refusals count: a real token from that address works, and another address has its own budget.
    _token, raw = create_api_token(actor=team.alice, name="laptop")
    assert guesser.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200
    other = Client(REMOTE_ADDR="198.51.100.10").get("/api/v1/cases/", HTTP_AUTHORIZATION="Token att_guess")
    assert other.status_code == 401
    # A real token that was revoked is refused and recorded whatever the budget: it may have been stolen.
    token, stolen = create_api_token(actor=team.bob, name="stolen")
    revoke_api_token(actor=team.bob, token=token)
    assert guesser.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {stolen}").status_code == 401
    assert last(action="token_refused", ip="198.51.100.9").user == team.bob


def test_an_ipv6_guesser_cannot_escape_the_budget_by_changing_address(team, monkeypatch):
    from core.api.throttling import RefusedTokenThrottle
    from core.net import client_network

    assert client_network("2001:db8:1:2:aaaa::1") == client_network("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_network("::ffff:198.51.100.9") == "198.51.100.9"
    assert client_network("198.51.100.9") == "198.51.100.9"
    monkeypatch.setitem(RefusedTokenThrottle.THROTTLE_RATES, "refused_token", "2/min")
    statuses = [
        Client(REMOTE_ADDR=f"2001:db8:1:2::{n}").get("/api/v1/cases/", HTTP_AUTHORIZATION="Token att_x").status_code
        for n in range(1, 5)
    ]
    assert statuses == [401, 401, 429, 429]


def test_a_refusal_naming_another_case_still_reaches_the_owners_leads(team, two_factor_urls):
    token, raw = create_api_token(actor=team.bob, name="laptop", two_factor_verified=True)
    revoke_api_token(actor=team.bob, token=token)
    Client().get(f"/api/v1/cases/{team.other_case.pk}/", HTTP_AUTHORIZATION=f"Token {raw}")
    assert last(action="token_refused").case == team.other_case  # the case probed
    assert ("token_refused", "bob") in {(row["action"], row["user"]) for row in lead_reads(team.alice)}
    assert ("token_refused", "bob") in {(row["action"], row["user"]) for row in lead_reads(team.charlie)}


def test_a_lead_cannot_read_refusals_from_before_someone_joined_their_case(team, two_factor_urls):
    from cases.choices import Role
    from tests.factories import MembershipFactory

    wrong_code_for(team.ivan)
    MembershipFactory(case=team.other_case, user=team.ivan, role=Role.VIEWER)  # charlie adds ivan
    assert ("totp_failed", "ivan") not in {(row["action"], row["user"]) for row in lead_reads(team.charlie)}
    wrong_code_for(team.ivan)
    rows = [row for row in lead_reads(team.charlie) if (row["action"], row["user"]) == ("totp_failed", "ivan")]
    assert len(rows) == 1
