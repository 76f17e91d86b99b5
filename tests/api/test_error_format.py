"""Every error under /api/ is JSON in the one error format, including those Django answers itself (a body
too large, a path nothing matches, an uncaught exception); elsewhere Django's HTML pages stay."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings

from tests.api.test_endpoints import assert_error

pytestmark = pytest.mark.django_db
ELEVEN_MB = 11 * 1024 * 1024


def assert_json_error(response, status: int, code: str) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    assert_error(response, status, code)
    return response.json()["error"]


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_over_the_limit_is_a_json_413(api, team, settings, content_type):
    body = json.dumps({"name": "x" * ELEVEN_MB}) if "json" in content_type else "name=" + "x" * ELEVEN_MB
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api(team.root).generic("POST", "/api/v1/entities/", body, content_type=content_type)
    error = assert_json_error(response, 413, "request_too_large")
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in error["message"]


@pytest.fixture
def failing_stats(monkeypatch):
    def fail(case):
        raise RuntimeError("database password in /srv/attest/secret.conf")

    monkeypatch.setattr("cases.api.views.case_statistics", fail)


@override_settings(DEBUG=False)
def test_an_uncaught_exception_under_the_api_is_a_json_500_without_details(api, team, failing_stats, caplog):
    client = api(team.alice)
    client.raise_request_exception = False
    with caplog.at_level("ERROR", logger="django.request"):
        response = client.get(f"/api/v1/cases/{team.case.pk}/stats/")
    error = assert_json_error(response, 500, "server_error")
    body = response.content.decode()
    for detail in ("RuntimeError", "password", "/srv/", "Traceback", "stats"):
        assert detail not in body
    assert error["fields"] == {}
    assert "database password in /srv/attest/secret.conf" in caplog.text  # the detail is in the server log


@override_settings(DEBUG=False)
def test_an_uncaught_exception_elsewhere_is_still_an_html_page(client, monkeypatch):
    def fail(request):
        raise RuntimeError("boom")

    monkeypatch.setattr("config.views.run_checks", lambda: fail(None))
    client.raise_request_exception = False
    response = client.get("/healthz")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/v1/nonexistent/", "/api/nonexistent/", "/api/schema/nonexistent/"])
def test_an_unknown_api_path_is_a_json_404(api, team, path):
    assert_json_error(api(team.alice).get(path), 404, "not_found")


def test_an_unknown_page_elsewhere_is_an_html_404(client):
    response = client.get("/nonexistent/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_request_django_refuses_before_any_view_is_a_json_400_under_the_api(team):
    # A Host header outside ALLOWED_HOSTS: Django's own 400 (DisallowedHost), raised by its middleware.
    response = Client(raise_request_exception=False).get("/api/v1/cases/", HTTP_HOST="attacker.example")
    assert_json_error(response, 400, "bad_request")
    page = Client(raise_request_exception=False).get("/admin/", HTTP_HOST="attacker.example")
    assert (page.status_code, page["Content-Type"].startswith("text/html")) == (400, True)


def test_the_403_handler_answers_json_under_the_api_only(rf):
    from config import errors

    api_response = errors.permission_denied(rf.get("/api/v1/cases/"), PermissionDenied())
    assert api_response.status_code == 403
    assert json.loads(api_response.content)["error"]["code"] == "permission_denied"
    page = errors.permission_denied(rf.get("/admin/"), PermissionDenied())
    assert (page.status_code, page["Content-Type"].startswith("text/html")) == (403, True)


def test_a_refusal_in_the_admin_is_a_page_in_its_look_with_a_way_back(client, team):
    """Viewers who followed a link to a control of their role met Django's bare "403 Forbidden"."""
    from django.urls import reverse

    client.force_login(team.vera)
    response = client.post(reverse("admin:cases_case_integrity", args=[team.case.pk]))
    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="language-switcher"' in page  # the admin's frame
    assert "Your role does not allow this." in page
    assert f'href="{reverse("admin:index")}"' in page


def test_not_found_in_the_admin_is_a_page_in_its_look(client, team):
    from django.urls import reverse

    client.force_login(team.charlie)
    response = client.get(reverse("admin:cases_case_overview", args=[team.case.pk]))
    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="language-switcher"' in page
    assert "nothing you may see" in page
    assert team.case.reference not in page


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
REGISTRY = __import__("config.api.urls", fromlist=["router"]).router.registry
LISTS = [prefix for prefix, viewset, _basename in REGISTRY if hasattr(viewset, "list")]
DETAILS = [prefix for prefix, viewset, _basename in REGISTRY if hasattr(viewset, "retrieve")]


@pytest.mark.parametrize("prefix", LISTS)
def test_a_refusal_asked_for_as_a_web_page_is_still_json_on_every_list(prefix):
    """The browsable API answered a browser's 401 (and 404, 400, 405) with its HTML page."""
    assert_json_error(Client().get(f"/api/v1/{prefix}/", HTTP_ACCEPT=BROWSER_ACCEPT), 401, "not_authenticated")


@pytest.mark.parametrize("prefix", DETAILS)
def test_not_found_asked_for_as_a_web_page_is_still_json_on_every_detail(api, team, prefix):
    missing = api(team.alice).get(f"/api/v1/{prefix}/999999999/", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert_json_error(missing, 404, "not_found")


@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, "text/html", "*/*", "application/json"])
def test_every_kind_of_error_is_json_whatever_the_accept_header(api, team, accept):
    ivan = api(team.ivan)
    invalid = ivan.post("/api/v1/evidence-items/", {"case": team.case.pk}, format="json", HTTP_ACCEPT=accept)
    assert assert_json_error(invalid, 400, "invalid")["fields"]
    assert_json_error(ivan.delete("/api/v1/cases/", HTTP_ACCEPT=accept), 405, "method_not_allowed")
    assert_json_error(api(team.vera).post(f"/api/v1/cases/{team.case.pk}/verify/", HTTP_ACCEPT=accept), 403,
                      "permission_denied")  # fmt: skip
    for viewer in ("/api/schema/swagger-ui/", "/api/schema/redoc/"):  # pages only: JSON is not acceptable (406)
        refused = Client().get(viewer, HTTP_ACCEPT=accept)
        expected = (406, "not_acceptable") if accept == "application/json" else (401, "not_authenticated")
        assert_json_error(refused, *expected)


def test_a_page_that_is_no_error_still_opens_in_the_browsable_api(api, team):
    response = api(team.alice).get("/api/v1/cases/", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert (response.status_code, response["Content-Type"].startswith("text/html")) == (200, True)
