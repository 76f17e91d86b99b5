"""Every admin page of every registered model, as every persona, generated from `admin.site`'s registry.

Six sections once answered 500 for every user because no test opened them. This crawl opens the list,
add, change, history and delete pages of each model, and every autocomplete field, so a model
registered later is covered without editing the test. No page may answer 5xx; a superuser reaches
every list and add page the model admin offers.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.routes import ADD_FORMS, CASE_OBJECT, ROW_MAKERS, is_case_scoped

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


@pytest.mark.parametrize(("model", "field_name"), list(_autocompletes()))
def test_a_type_ahead_for_a_nul_finds_nothing_rather_than_failing(client, team, model, field_name):
    """PostgreSQL refuses NUL in a LIKE pattern: the type-ahead was a 500 there."""
    client.force_login(team.root)
    query = {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field_name}
    response = client.get(reverse("admin:autocomplete"), {**query, "term": "\x00"})
    assert response.status_code == 200
    assert "results" in response.json()


@pytest.mark.parametrize("model", list(_models()))
def test_a_search_or_filter_with_a_nul_is_no_server_error(client, team, model):
    _row(model, team)
    client.force_login(team.root)
    queries = [{"q": "a\x00b"}, {"o": "\x00"}, {"p": "\x00"}, {"case__id__exact": "\x00"}, {"case": "abc"},
               {"case": "9" * 30}, {"case": "\u0661"}, {"case": "\u00b2"}, {"case": "\u2460"}]  # fmt: skip
    for query in queries:
        response = client.get(reverse(_name(model, "changelist")), query)
        assert response.status_code in (200, 302, 400), (query, response.status_code)


@pytest.mark.parametrize("model", list(_models()))
def test_no_add_page_shows_a_python_none(client, team, model):
    """The attribution add page read "Grade: None" for a grade computed once saved."""
    _row(model, team)
    client.force_login(team.root)
    response = client.get(reverse(_name(model, "add")))
    if response.status_code == 200:
        assert not re.search(r'class="readonly">\s*None\s*<', response.content.decode())


# --- Custom admin views, admin.site's own pages, actions, and add forms given another case's choices. ---

RANK = {"charlie": 0, "vera": 1, "bob": 2, "ivan": 3, "alice": 4, "root": 5}
ROLE_RANK = {"viewer": 1, "analyst": 2, "investigator": 3, "lead": 4, "superuser": 5}
STANDARD_PAGES = ("changelist", "add", "history", "delete", "change")

# Each custom view of a model admin: who may use it, and how a browser calls it. "view" and "change"
# take the model admin's own has_view_permission / has_change_permission for the object; a role names
# the least role on the object's case (the view checks it itself). A new view fails the test below
# until it has a rule here.
CUSTOM_VIEWS = {
    "cases_case_overview": ("view", "get"),
    "cases_case_dossier": ("view", "post"),
    "cases_case_integrity": ("investigator", "get"),
    "evidence_evidenceitem_transfer": ("change", "get"),
    "evidence_evidenceitem_upload": ("change", "post"),
    "evidence_evidencefile_download": ("view", "get"),
    "evidence_photo_mark": ("analyst", "post"),
    "evidence_photo_original": ("view", "get"),
    "evidence_photo_compare": ("view", "get"),
    "evidence_sanctions_report": ("view", "get"),  # on the marking admin, about a case
    "auth_user_password_change": ("change", "get"),
    "otp_totp_totpdevice_config": ("superuser", "get"),
    "otp_totp_totpdevice_qrcode": ("superuser", "get"),
}
# The object a custom view is about, when it is not a row of its own model admin.
VIEW_OBJECT = {"evidence_sanctions_report": lambda team: team.case}


def _custom_views():
    for model, model_admin in admin.site._registry.items():
        standard = {_name(model, page).removeprefix("admin:") for page in STANDARD_PAGES}
        for pattern in model_admin.get_urls():
            if pattern.name and pattern.name not in standard:
                yield pytest.param(model, pattern.name, id=pattern.name)


def _case_of(obj):
    from cases.models import Case

    if isinstance(obj, Case):
        return obj
    for path in ("case", "item"):
        obj_ = getattr(obj, path, None)
        if obj_ is not None:
            return obj_ if isinstance(obj_, Case) else obj_.case
    return None


def _may(rule: str, persona: str, user, request, model_admin, obj) -> bool:
    if rule == "view":
        return model_admin.has_view_permission(request, obj)
    if rule == "change":
        return model_admin.has_change_permission(request, obj)
    if rule == "superuser":
        return user.is_superuser
    case = _case_of(obj)
    return case is not None and case.user_has_role(user, rule)


def _visible(user, obj) -> bool:
    manager = type(obj)._default_manager
    if not is_case_scoped(type(obj)):
        return True
    return manager.visible_to(user).filter(pk=obj.pk).exists()


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("model", "url_name"), list(_custom_views()))
def test_every_custom_admin_view_answers_by_role(client, team, model, url_name, persona):
    assert url_name in CUSTOM_VIEWS, f"give the admin view {url_name} a rule in CUSTOM_VIEWS"
    rule, method = CUSTOM_VIEWS[url_name]
    obj = VIEW_OBJECT[url_name](team) if url_name in VIEW_OBJECT else _row(model, team)
    user = getattr(team, persona)
    client.force_login(user)
    pattern = next(p for p in admin.site._registry[model].get_urls() if p.name == url_name)
    kwargs = {name: obj.pk for name in pattern.pattern.converters}
    url = reverse(f"admin:{url_name}", kwargs=kwargs)
    response = getattr(client, method)(url)
    assert response.status_code < 500, (persona, url, response.status_code)
    request = response.wsgi_request
    model_admin = admin.site._registry[model]
    if not _visible(user, obj):
        wanted = (404,)  # an outsider learns nothing, not even that the object exists
    elif _may(rule, persona, user, request, model_admin, obj):
        wanted = (200, 302)
    else:
        wanted = (403,) if rule != "superuser" else (403, 404)
    assert response.status_code in wanted, (persona, url_name, response.status_code, wanted)


def _site_pages(team):
    from django.contrib.contenttypes.models import ContentType

    from cases.models import Case

    for name in ("index", "login", "password_change", "password_change_done", "jsi18n"):
        yield name, reverse(f"admin:{name}")
    for app_label in {model._meta.app_label for model in admin.site._registry}:
        yield "app_list", reverse("admin:app_list", args=[app_label])
    yield "view_on_site", reverse("admin:view_on_site", args=[ContentType.objects.get_for_model(Case).pk, team.case.pk])


def test_admin_sites_own_pages_cover_its_urls():
    """admin.site's own URLs, beside the model admins': the test below opens each (logout aside, which
    would end the session, and autocomplete, which the test above covers)."""
    covered = {"index", "login", "password_change", "password_change_done", "jsi18n", "app_list", "view_on_site",
               "logout", "autocomplete"}  # fmt: skip
    own = {pattern.name for pattern in admin.site.get_urls() if getattr(pattern, "name", None)}
    assert own <= covered, f"open these admin.site pages in test_admin_sites_own_pages: {own - covered}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_sites_own_pages(client, team, persona):
    client.force_login(getattr(team, persona))
    for name, url in _site_pages(team):
        response = client.get(url)
        assert response.status_code < 500, (persona, url, response.status_code)
        if name == "app_list":
            app_label = url.rstrip("/").rsplit("/", 1)[-1]
            offered = admin.site.get_app_list(response.wsgi_request, app_label)
            assert response.status_code == (200 if offered else 404), (persona, url)
        elif name == "view_on_site":
            assert response.status_code in (302, 404), (persona, url)  # a case has no public page
        elif name == "login":
            assert response.status_code == 302, (persona, url)  # signed in already: on to the admin
        else:
            assert response.status_code == 200, (persona, url)


def _actions():
    for model, model_admin in admin.site._registry.items():
        for _func, name, _description in model_admin._get_base_actions():
            yield pytest.param(model, name, id=f"{model.__name__}.{name}")


def _recorded() -> tuple[int, ...]:
    from cases.models import ReferenceChange
    from evidence.models import Attribution, CustodyEvent, Export, Source

    return (
        CustodyEvent.objects.count(),
        ReferenceChange.objects.count(),
        Export.objects.count(),
        Source.objects.filter(withdrawn_at__isnull=False).count(),
        Attribution.objects.filter(withdrawn_at__isnull=False).count(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("model", "action"), list(_actions()))
def test_every_action_as_every_persona(client, team, model, action, persona):
    """Each action posted on its list with one row selected: no 5xx; a list the persona may not open is a
    403; an action the list does not offer the persona does nothing (Django: "No action selected")."""
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    obj = _row(model, team)
    client.force_login(getattr(team, persona))
    model_admin = admin.site._registry[model]
    url = reverse(_name(model, "changelist"))
    request = client.get(url).wsgi_request
    may_open = model_admin.has_view_or_change_permission(request)
    offered = may_open and action in model_admin.get_actions(request)
    before = _recorded()
    response = client.post(url, {"action": action, ACTION_CHECKBOX_NAME: [obj.pk], "index": 0})
    assert response.status_code < 500, (persona, action, response.status_code)
    if not may_open:
        assert response.status_code == 403, (persona, action)
    else:
        assert response.status_code in (200, 302), (persona, action, response.status_code)
    if not offered:
        assert _recorded() == before, (persona, action)


def _with_inlines(client, url, data: dict) -> dict:
    """The post as the add page's form makes it: with the management form of each inline, left empty."""
    response = client.get(url)
    for inline in (response.context or {}).get("inline_admin_formsets", []) if response.status_code == 200 else []:
        data = {**data, f"{inline.formset.prefix}-TOTAL_FORMS": 0, f"{inline.formset.prefix}-INITIAL_FORMS": 0}
    return data


def _add_forms():
    for model in admin.site._registry:
        if model in ADD_FORMS:
            yield pytest.param(model, id=f"{model._meta.app_label}.{model.__name__}")


def test_every_add_form_linking_to_a_case_has_a_cross_case_post(rf, team):
    """Add forms with a choice of a case's objects (a case, an incident, a source …) are posted with another
    case's; a model registered later with such a form needs an entry in tests/routes.py's ADD_FORMS."""
    request = rf.get("/")
    request.user = team.root
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_add_permission(request):
            continue
        form = model_admin.get_form(request, None)
        linked = [
            name for name, field in form.base_fields.items()
            if hasattr(field, "queryset") and is_case_scoped(field.queryset.model)
        ]  # fmt: skip
        assert not linked or model in ADD_FORMS, f"give {model.__name__} an add form in ADD_FORMS ({linked})"


@pytest.mark.parametrize("model", list(_add_forms()))
def test_the_add_forms_data_is_valid(client, team, model):
    """The control for the test below: the same post without another case's choice is saved."""
    valid, _crossed = ADD_FORMS[model](team)
    client.force_login(team.root)
    before = model._default_manager.count()
    url = reverse(_name(model, "add"))
    response = client.post(url, _with_inlines(client, url, valid))
    errors = response.context["adminform"].form.errors if response.status_code == 200 else None
    assert response.status_code == 302, errors
    assert model._default_manager.count() == before + 1


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model", list(_add_forms()))
def test_an_add_form_given_another_cases_choice_answers_with_a_form_error(client, team, model, persona):
    valid, crossed = ADD_FORMS[model](team)
    user = getattr(team, persona)
    client.force_login(user)
    model_admin = admin.site._registry[model]
    url = reverse(_name(model, "add"))
    may_add = model_admin.has_add_permission(client.get(url).wsgi_request)
    before = model._default_manager.count()
    if persona == "charlie":
        posts = {"everything": valid}  # the whole form is about a case he is not on
    else:
        # A superuser may add to any case: moving the whole form to another case is no cross-case pick.
        posts = {
            name: {**valid, name: pk} for name, pk in crossed.items() if not (user.is_superuser and name == "case")
        }
    for name, data in posts.items():
        response = client.post(url, _with_inlines(client, url, data))
        assert response.status_code < 500, (persona, name, response.status_code)
        if not may_add:
            assert response.status_code == 403, (persona, name)
            continue
        assert response.status_code == 200, (persona, name, response.status_code)
        errors = response.context["adminform"].form.errors
        assert errors, (persona, name)
        if not user.is_superuser and name != "everything":
            assert name in errors, (persona, name, errors)  # another case's object is not even offered
    assert model._default_manager.count() == before
