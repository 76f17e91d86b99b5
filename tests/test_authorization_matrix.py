"""The authorization matrix, generated from the URL conf: every API and admin route about a case's objects,
for an outsider, each role and a superuser. A new route is covered without editing this test (creates
on the API's list routes are in test_authorization_creates.py).

For each request it checks the status, that nothing of another case leaks, and that the access
log recorded it (a view, a download, or a refusal naming the object).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib import admin
from django.urls import reverse

from cases.admin import VisibleCaseFilter
from cases.models import AccessLog
from config.api.urls import router
from evidence.models import EvidenceItem
from tests.routes import CASE_OBJECT, is_case_scoped

pytestmark = pytest.mark.django_db
PERSONAS = ("charlie", "vera", "bob", "ivan", "alice", "root")
MEMBERS = ("vera", "bob", "ivan", "alice", "root")
# Reads that need more than membership, or an object in a particular state. Everything else: members 200.
SPECIAL = {
    "evidenceitem-access-report": {"alice": 200, "root": 200, "default": 403},
    "export-download": {"default": 404},  # not built yet
    "source-archive": {"default": 404},  # no archived copy
    "accesslog-detail": {"alice": 200, "root": 200, "default": 404},  # leads only
}


def _api_reads():
    for pattern in router.urls:
        callback = pattern.callback
        actions = getattr(callback, "actions", {})
        if "get" not in actions or "pk" not in pattern.pattern.regex.pattern:
            continue
        model = callback.cls.queryset.model
        if is_case_scoped(model):
            yield pytest.param(pattern.name, model, id=pattern.name)


def _admin_pages():
    for model in admin.site._registry:
        if is_case_scoped(model):
            yield pytest.param(model, f"{model._meta.app_label}_{model._meta.model_name}_change", id=model.__name__)


def expected(name: str, persona: str) -> int:
    if persona == "charlie":
        return 404
    special = SPECIAL.get(name)
    if special:
        return special.get(persona, special["default"])
    return 200


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "model"), list(_api_reads()))
def test_api_reads(api, team, name, model, persona):
    obj = CASE_OBJECT[model](team)
    user = getattr(team, persona)
    before = AccessLog.objects.filter(user=user).count()
    response = api(user).get(reverse(name, kwargs={"pk": obj.pk}))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == expected(name, persona), (name, persona, body[:300])
    assert team.other_case.reference.encode() not in body
    if persona == "charlie":
        assert team.case.reference.encode() not in body
    rows = AccessLog.objects.filter(user=user).order_by("pk")[before:]
    assert rows, f"no access-log row for {persona} reading {name}"
    logged = rows[len(rows) - 1]
    if response.status_code in (403, 404) and name not in ("photo-preview", "photo-thumbnail"):
        assert logged.action == "denied" or response.status_code == 404
    assert logged.case_id in (team.case.pk, None)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("model", "url_name"), list(_admin_pages()))
def test_admin_pages(client, team, model, url_name, persona):
    obj = CASE_OBJECT[model](team)
    user = getattr(team, persona)
    client.force_login(user)
    before = AccessLog.objects.filter(user=user, action__in=["view", "denied"]).count()
    response = client.get(reverse(f"admin:{url_name}", args=[obj.pk]))
    leads_only = model.__name__ == "AccessLog"  # a case's access log is for its leads
    allowed = persona in (("alice", "root") if leads_only else MEMBERS)
    assert response.status_code == (200 if allowed else 404), (url_name, persona)
    assert team.other_case.reference.encode() not in response.content
    assert AccessLog.objects.filter(user=user, action__in=["view", "denied"]).count() == before + 1


# Writes on a case's objects: the least role that may do each. A new write route fails the test
# below until it is given a rule here, so no write escapes the matrix.
RANK = {"charlie": 0, "vera": 1, "bob": 2, "ivan": 3, "alice": 4, "root": 4}
ROLE_RANK = {"viewer": 1, "analyst": 2, "investigator": 3, "lead": 4}
WRITE_RULES = {
    "case-detail": "lead",
    "case-dossiers": "viewer",
    "case-verify": "investigator",  # appends to the ledger and re-hashes every file
    "casemembership-detail": "lead",
    "incident-detail": "analyst",
    "evidenceitem-detail": "investigator",
    "marking-detail": "analyst",
    "marking-verify": "analyst",
    "marking-withdraw": "analyst",
    "source-detail": "analyst",
    "source-withdraw": "analyst",
    "attribution-withdraw": "analyst",
    "component-detail": "analyst",  # correct_component
    "component-withdraw": "analyst",
    "datecodereading-verify": "analyst",
    "datecodereading-withdraw": "analyst",
    "tracerequest-letter": "analyst",  # issue_letter: analysts draft
    "tracerequest-right-of-reply": "analyst",
    "tracerequest-send": "investigator",  # investigators and leads send, record answers and close
    "tracerequest-responses": "investigator",
    "tracerequest-close": "investigator",
}
# The transcriber of the fixture's marking, and the reader of its date code, is the case lead: four
# eyes refuse their verification.
EXCEPTIONS = {("marking-verify", "alice"): 403, ("datecodereading-verify", "alice"): 403}
BODIES = {
    "marking-detail": {"reason": "matrix"},
    "source-detail": {"reason": "matrix"},
    "component-detail": {"reason": "matrix"},
    "tracerequest-send": {"sent_on": dt.date.today().isoformat(), "channel": "email"},
    "tracerequest-responses": {"received_on": dt.date.today().isoformat()},
    "tracerequest-right-of-reply": {"draft_finding": "matrix"},
    "tracerequest-close": {"reason": "matrix"},
}


def _sent(trace, team):
    from evidence.services import tracing

    tracing.send_trace_request(actor=team.root, request=trace, sent_on=dt.date.today(), channel="email")


# Writes that need the fixture's object further on than a draft with its letter: a request that was sent.
PREPARE = {"tracerequest-responses": _sent, "tracerequest-right-of-reply": _sent}


def _api_writes():
    seen = set()
    for pattern in router.urls:
        callback = pattern.callback
        if "pk" not in pattern.pattern.regex.pattern or getattr(callback.cls, "queryset", None) is None:
            continue
        model = callback.cls.queryset.model
        if not is_case_scoped(model):
            continue
        for method in getattr(callback, "actions", {}):
            if method in ("get", "head", "options") or (pattern.name, method) in seen:
                continue
            seen.add((pattern.name, method))
            yield pytest.param(pattern.name, model, method, id=f"{method.upper()} {pattern.name}")


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "model", "method"), list(_api_writes()))
def test_api_writes(api, team, name, model, method, persona):
    assert name in WRITE_RULES, f"give {name} a rule in WRITE_RULES"
    obj = CASE_OBJECT[model](team)
    if name in PREPARE:
        PREPARE[name](obj, team)
    url = reverse(name, kwargs={"pk": obj.pk})
    body = dict(BODIES.get(name, {}))
    if name.endswith("-withdraw"):
        body = {"reason": "matrix"}
    if method == "put":  # a full update sends the current representation back
        body = {**api(team.root).get(url).json(), **body}
    user = getattr(team, persona)
    before = AccessLog.objects.filter(user=user, action="denied").count()
    response = getattr(api(user), method)(url, body, format="json")
    if persona == "charlie":
        wanted = 404
    elif (name, persona) in EXCEPTIONS:
        wanted = EXCEPTIONS[(name, persona)]
    else:
        wanted = None if RANK[persona] >= ROLE_RANK[WRITE_RULES[name]] else 403
    if wanted is None:
        assert response.status_code < 300, (name, method, persona, response.content[:400])
    else:
        assert response.status_code == wanted, (name, method, persona, response.content[:400])
        assert AccessLog.objects.filter(user=user, action="denied").count() == before + 1
    assert team.other_case.reference.encode() not in response.content


def assert_sees_only_own_cases(team, persona: str, content: bytes) -> None:
    """Charlie's case is the other one; the team sees only theirs; the superuser sees both."""
    if persona == "root":
        return
    foreign = team.case if persona == "charlie" else team.other_case
    assert foreign.reference.encode() not in content


def _api_lists():
    for prefix, viewset, _basename in router.registry:
        if hasattr(viewset, "list") and is_case_scoped(viewset.queryset.model):
            yield pytest.param(prefix, viewset.queryset.model, id=prefix)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("prefix", "model"), list(_api_lists()))
def test_api_lists_show_each_persona_only_their_cases(api, team, prefix, model, persona):
    CASE_OBJECT[model](team)
    user = getattr(team, persona)
    response = api(user).get(f"/api/v1/{prefix}/", {"page_size": 100})
    assert response.status_code == 200
    assert_sees_only_own_cases(team, persona, response.content)
    assert AccessLog.objects.filter(user=user, action="list").exists()


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model", [model for model in admin.site._registry if is_case_scoped(model)],
                         ids=lambda model: model.__name__)  # fmt: skip
def test_admin_lists_show_each_persona_only_their_cases(client, team, model, persona):
    CASE_OBJECT[model](team)
    user = getattr(team, persona)
    client.force_login(user)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client.get(url)
    assert response.status_code in (200, 403), (url, persona)
    assert_sees_only_own_cases(team, persona, response.content)
    if response.status_code == 200:
        listed = AccessLog.objects.filter(user=user, action="list", object_type=model._meta.model_name)
        assert listed.exists(), f"no access-log row for {persona} listing {url}"
        filters = admin.site._registry[model].list_filter
        if any(isinstance(f, type) and issubclass(f, VisibleCaseFilter) for f in filters):
            filtered = client.get(url, {"case": team.case.pk})
            assert filtered.status_code == 200
            logged_case = listed.order_by("pk").last().case_id
            assert logged_case == (None if persona == "charlie" else team.case.pk)


# Every other admin page about one object (or one case), found from each model admin's URLs: the
# least role that may open it with GET, or None when no one may (delete, POST-only views). A new
# page fails the test below until it is given a rule here.
ADMIN_PAGE_RULES = {
    "history": "viewer",
    "delete": None,  # evidence is never deleted
    "cases_casemembership_delete": "lead",  # a lead takes someone off the team
    "evidence_evidenceitem_transfer": "investigator",
    "evidence_evidenceitem_upload": None,  # POST only
    "evidence_photo_mark": None,  # POST only
    "evidence_photo_original": "viewer",  # the original shown inline, logged as a view
    "evidence_photo_compare": "viewer",  # near-duplicates side by side
    "evidence_evidencefile_download": "viewer",  # a kept file, as an attachment
    "evidence_sanctions_report": "viewer",
    "cases_case_overview": "viewer",  # the case's landing page, for its whole team
    "cases_case_dossier": None,  # POST only (any member may ask for a dossier)
    "cases_case_integrity": "investigator",  # the fixity check's confirmation page; it re-hashes every file
}

# Admin pages that send a file as an attachment: logged as downloads, not views.
ADMIN_DOWNLOADS = {"evidence_evidencefile_download"}


def _admin_object_pages():
    for model, model_admin in admin.site._registry.items():
        if not is_case_scoped(model):
            continue
        for pattern in model_admin.get_urls():
            route = str(getattr(pattern, "pattern", ""))
            if pattern.name is None or pattern.name.endswith("_change"):
                continue  # the change page has its own test above; the unnamed one redirects to it
            if "<path:object_id>" in route or "<int:case_id>" in route:
                yield pytest.param(model, pattern.name, route, id=pattern.name)


def _admin_page_rule(url_name: str):
    for key in (url_name, url_name.rsplit("_", 1)[-1]):
        if key in ADMIN_PAGE_RULES:
            return ADMIN_PAGE_RULES[key]
    raise AssertionError(f"give the admin page {url_name} a rule in ADMIN_PAGE_RULES")


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("model", "url_name", "route"), list(_admin_object_pages()))
def test_admin_object_pages(client, team, model, url_name, route, persona):
    rule = _admin_page_rule(url_name)
    user = getattr(team, persona)
    if "case_id" in route:
        url = reverse(f"admin:{url_name}", kwargs={"case_id": team.case.pk})
    else:
        url = reverse(f"admin:{url_name}", args=[CASE_OBJECT[model](team).pk])
    client.force_login(user)
    before = AccessLog.objects.filter(user=user).count()
    response = client.get(url)
    leads_only = model.__name__ == "AccessLog"
    if persona == "charlie" or (leads_only and persona not in ("alice", "root")):
        wanted = 404
    elif rule is not None and RANK[persona] >= ROLE_RANK[rule]:
        wanted = 200
    else:
        wanted = 403
    assert response.status_code == wanted, (url_name, persona, response.status_code)
    body = b"".join(response.streaming_content) if response.streaming else response.content  # a file, inline
    assert team.other_case.reference.encode() not in body
    if persona == "charlie":
        assert team.case.reference.encode() not in body
    logged = AccessLog.objects.filter(user=user).order_by("pk")[before:]
    assert logged, f"no access-log row for {persona} opening {url_name}"
    row = logged[len(logged) - 1]
    served = "download" if url_name in ADMIN_DOWNLOADS else "view"
    assert row.action == (served if wanted == 200 else "denied"), (url_name, persona, row.action)
    assert row.case_id in (team.case.pk, None)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model", [model for model in admin.site._registry if is_case_scoped(model)],
                         ids=lambda model: model.__name__)  # fmt: skip
def test_admin_add_pages_offer_only_the_personas_cases(client, team, model, persona):
    CASE_OBJECT[model](team)
    client.force_login(getattr(team, persona))
    response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add"))
    assert response.status_code in (200, 403), persona
    assert_sees_only_own_cases(team, persona, response.content)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_admin_view_on_site_redirect_tells_nothing(client, team, persona):
    from django.contrib.contenttypes.models import ContentType

    item = CASE_OBJECT[EvidenceItem](team)
    content_type = ContentType.objects.get_for_model(EvidenceItem)
    client.force_login(getattr(team, persona))
    existing = client.get(f"/admin/r/{content_type.pk}/{item.pk}/")
    missing = client.get(f"/admin/r/{content_type.pk}/{item.pk + 10_000}/")
    assert existing.status_code == missing.status_code == 404
    # The same page but for what the language switcher carries: a CSRF token masked afresh for each
    # response, and the path asked for, to come back to.
    pattern = rb'name="(csrfmiddlewaretoken|next)" (type="hidden" )?value="[^"]+"'
    unmasked = [re.sub(pattern, b"", r.content) for r in (existing, missing)]
    assert unmasked[0] == unmasked[1]


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_admin_index_shows_only_the_personas_cases(client, team, persona):
    client.force_login(getattr(team, persona))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert_sees_only_own_cases(team, persona, response.content)
    if persona != "charlie":
        assert team.case.reference.encode() in response.content
