"""Tests generated from the router and the admin registry, so that a new route is covered unedited."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.api.urls import router
from tests.routes import CASE_OBJECT, ROW_MAKERS, is_case_scoped

pytestmark = pytest.mark.django_db

LIST_ROUTES = [(prefix, viewset) for prefix, viewset, _basename in router.registry if hasattr(viewset, "list")]
DETAIL_PATTERNS = [pattern for pattern in router.urls if "pk" in pattern.pattern.regex.pattern]


def model_of(viewset):
    return viewset.queryset.model


@pytest.mark.parametrize(("prefix", "viewset"), LIST_ROUTES, ids=[prefix for prefix, _ in LIST_ROUTES])
def test_list_queries_do_not_grow_with_page_size(api, team, prefix, viewset):
    model = model_of(viewset)
    assert model in ROW_MAKERS, f"add a row maker for {model.__name__} to tests/routes.py"
    for _ in range(3):
        ROW_MAKERS[model](team)
    client = api(team.alice)
    client.get(f"/api/v1/{prefix}/")  # the token's first use is recorded once; keep that write out
    counts = []
    for page_size in (1, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/{prefix}/", {"page_size": page_size})
        assert response.status_code == 200, response.content
        total = response.json().get("count", model._default_manager.count())  # cursor pages: no count
        assert len(response.json()["results"]) == (1 if page_size == 1 else total)
        counts.append(len(queries))
    assert counts[0] == counts[1], f"/api/v1/{prefix}/ runs {counts[0]} queries for 1 row, {counts[1]} for 100"


@pytest.mark.parametrize(("prefix", "viewset"), LIST_ROUTES, ids=[prefix for prefix, _ in LIST_ROUTES])
def test_every_list_filters_with_the_projects_filterset(rf, team, prefix, viewset):
    """Ids for foreign keys, date-times turned to UTC: a list naming only `filterset_fields` gets them too."""
    from rest_framework.request import Request

    from core.api.filters import FilterSet

    view = viewset(action="list", request=Request(rf.get(f"/api/v1/{prefix}/")), format_kwarg=None)
    view.request.user = team.alice
    for backend_class in view.filter_backends:
        if hasattr(backend_class, "get_filterset_class"):
            filterset_class = backend_class().get_filterset_class(view, view.get_queryset())
            assert filterset_class is not None, f"/api/v1/{prefix}/ has no filters"
            assert issubclass(filterset_class, FilterSet), f"/api/v1/{prefix}/ filters with {filterset_class}"
            break
    else:
        raise AssertionError(f"/api/v1/{prefix}/ has no django-filter backend")


def _owned_by_someone(model) -> bool:
    """Rows of a case, or of a user; reference data is readable by every user."""
    return is_case_scoped(model) or model.__name__ == "ApiToken"


def _api_detail_cases():
    for pattern in DETAIL_PATTERNS:
        actions = getattr(pattern.callback, "actions", {})
        model = pattern.callback.cls.queryset.model
        if not _owned_by_someone(model):
            continue
        for method in actions:
            yield pytest.param(pattern, model, method, id=f"{method.upper()} {pattern.name}")


@pytest.mark.parametrize(("pattern", "model", "method"), list(_api_detail_cases()))
def test_an_outsider_gets_404_on_every_api_detail_route(api, team, pattern, model, method):
    if is_case_scoped(model):
        assert model in CASE_OBJECT, f"add {model.__name__} to CASE_OBJECT in tests/routes.py"
        obj = CASE_OBJECT[model](team)
    else:
        obj = ROW_MAKERS[model](team)  # a token of alice's
    url = reverse(pattern.name, kwargs={"pk": obj.pk})
    response = getattr(api(team.charlie), method)(url, {}, format="json")
    assert response.status_code == 404, f"{method.upper()} {url}: {response.status_code}"
    assert response.json()["error"]["code"] == "not_found"
    assert obj.__class__.objects.filter(pk=obj.pk).exists()


def _admin_object_urls():
    for model, model_admin in admin.site._registry.items():
        if not is_case_scoped(model):
            continue
        for pattern in model_admin.urls:
            if pattern.name and "object_id" in str(pattern.pattern):
                yield pytest.param(model, pattern.name, id=pattern.name)


@pytest.mark.parametrize(("model", "url_name"), list(_admin_object_urls()))
def test_an_outsider_gets_404_on_every_admin_page_of_another_case(client, team, model, url_name):
    assert model in CASE_OBJECT, f"add {model.__name__} to CASE_OBJECT in tests/routes.py"
    obj = CASE_OBJECT[model](team)
    client.force_login(team.charlie)
    url = reverse(f"admin:{url_name}", args=[obj.pk])
    assert client.get(url).status_code == 404, url
    assert client.post(url, {}).status_code == 404, url


@pytest.mark.parametrize(
    "model",
    [model for model in admin.site._registry if is_case_scoped(model)],
    ids=lambda model: model.__name__,
)
def test_admin_lists_show_an_outsider_nothing_of_another_case(client, team, model):
    CASE_OBJECT[model](team)
    client.force_login(team.charlie)
    response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    assert response.status_code == 200
    assert team.case.reference.encode() not in response.content
    assert team.alice.username.encode() not in response.content


def _routes_for_options():
    """Every route of the router, with ids filled in: a member's own case for detail and action routes."""
    for pattern in router.urls:
        regex = pattern.pattern.regex.pattern
        if "format" in regex or regex in ("^$",):
            continue
        yield pattern.name


@pytest.mark.parametrize("name", sorted({name for name in _routes_for_options() if name}))
def test_options_describes_every_route_without_an_error(api, team, name):
    """OPTIONS (DRF's metadata) asks the view for its serializer: a viewset without one answered 500."""
    try:
        url = reverse(name, args=[team.case.pk])
    except Exception:  # a route with no id, or with another kind of argument
        url = reverse(name)
    response = api(team.alice).options(url)
    assert response.status_code < 500, response.content
