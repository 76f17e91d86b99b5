"""Sign-in hardening and deployment settings: check --deploy, CSP, lockout, two-factor admin."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.urls import reverse

from cases.models import AccessLog
from tests.factories import PASSWORD, UserFactory
from tests.test_settings import REAL_KEY, SETTINGS_VARIABLES, run_python

PRODUCTION = {"DEBUG": "0", "SECRET_KEY": REAL_KEY, "ALLOWED_HOSTS": "attest.example"}


def test_check_deploy_passes_under_the_production_settings():
    import os

    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **PRODUCTION)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, cwd=__import__("tests.processes").processes.PROJECT_DIR, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_turns_on_hsts_secure_cookies_redirects_and_two_factor():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.ATTEST_REQUIRE_2FA)"
    )
    result = run_python(code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "True", "True", "True", "True"]


@pytest.mark.django_db
def test_every_response_has_a_content_security_policy_and_the_admin_still_loads(client, team):
    client.force_login(team.alice)
    for url in (reverse("admin:index"), reverse("admin:cases_case_change", args=[team.case.pk]), "/api/v1/cases/"):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
    page = client.get(reverse("admin:cases_case_change", args=[team.case.pk])).content.decode()
    assert "<script>" not in page  # no inline script for the policy to block


@pytest.mark.django_db
def test_swagger_ui_works_without_inline_script(client, team):
    client.force_login(team.alice)
    page = client.get(reverse("swagger-ui")).content.decode()
    assert "<script>" not in page.replace("<script src", "")


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_out_and_are_logged(client):
    UserFactory(username="dmytro")
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "dmytro", "password": "not the password"})
    locked = client.post(reverse("admin:login"), {"username": "dmytro", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessLog.objects.filter(action="sign_in_failed", username="dmytro").count() >= 5


@pytest.mark.django_db
def test_with_two_factor_enforced_the_admin_wants_a_totp_code(settings):
    import importlib

    from django.contrib import admin
    from django.urls import clear_url_caches
    from django_otp.admin import OTPAdminSite

    import config.urls

    previous = admin.site.__class__
    settings.ATTEST_REQUIRE_2FA = True
    try:
        importlib.reload(config.urls)
        clear_url_caches()
        assert isinstance(admin.site, OTPAdminSite)
        from django.test import Client

        client = Client()
        user = UserFactory(username="olena", is_staff=True)
        client.force_login(user)
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302  # signed in, but not verified with a code: back to the login
        login_page = client.get(response.url).content.decode()
        assert "otp_token" in login_page
    finally:
        admin.site.__class__ = previous
        settings.ATTEST_REQUIRE_2FA = False
        importlib.reload(config.urls)
        clear_url_caches()


@pytest.mark.django_db
def test_tokens_are_issued_only_after_a_two_factor_sign_in_when_enforced(settings, team, api):
    from django.core.exceptions import PermissionDenied
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cases.services import create_api_token

    settings.ATTEST_REQUIRE_2FA = True
    with pytest.raises(PermissionDenied, match="two-factor"):
        create_api_token(actor=team.alice, name="integration")
    _token, raw = create_api_token(actor=team.alice, name="integration", two_factor_verified=True)
    assert raw.startswith("att_")
    # Through the API: a token-authenticated client has not confirmed a code, so it cannot mint more.
    settings.ATTEST_REQUIRE_2FA = False
    client = api(team.alice)
    settings.ATTEST_REQUIRE_2FA = True
    response = client.post("/api/v1/tokens/", {"name": "another"})
    assert response.status_code == 403
    assert "two-factor" in response.json()["error"]["message"]
    # A session that confirmed a TOTP code may.
    from django.test import Client
    from django_otp import login as otp_login

    device = TOTPDevice.objects.create(user=team.alice, name="phone", confirmed=True)
    session = Client()
    session.force_login(team.alice)
    request = type("R", (), {"session": session.session, "user": team.alice})()
    otp_login(request, device)
    request.session.save()
    session.cookies["sessionid"] = request.session.session_key
    created = session.post("/api/v1/tokens/", {"name": "from a verified session"}, content_type="application/json")
    assert created.status_code == 201, created.content


def _login_urls(resolver=None, prefix=""):
    """Every URL of the URL conf that signs a user in: by name, or by being a LoginView."""
    from django.contrib.auth.views import LoginView
    from django.urls import URLPattern, URLResolver, get_resolver

    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from _login_urls(pattern, route)
        elif isinstance(pattern, URLPattern) and "<" not in route and "(" not in route:
            view_class = getattr(pattern.callback, "view_class", None)
            is_login_view = isinstance(view_class, type) and issubclass(view_class, LoginView)
            if is_login_view or "login" in (pattern.name or "") or pattern.callback.__name__ == "login":
                yield "/" + route


@pytest.mark.django_db
def test_no_login_url_opens_the_api_with_a_password_alone(settings, team, two_factor_urls):
    """/api-auth/login/ once signed in with a password only, and the session then read and wrote the API."""
    from django.test import Client

    urls = sorted(set(_login_urls()))
    assert "/admin/login/" in urls, urls
    assert "/api-auth/login/" in urls, urls
    case_url = f"/api/v1/cases/{team.case.pk}/"
    for url in urls:
        client = Client()
        client.get(url)
        client.post(url, {"username": "alice", "password": PASSWORD}, follow=True)
        for api_url in ("/api/v1/cases/", case_url):
            response = client.get(api_url, HTTP_ACCEPT="application/json")
            assert response.status_code in (401, 403), (url, api_url, response.status_code)
        refused = client.patch(case_url, {"title": "changed"}, content_type="application/json")
        assert refused.status_code in (401, 403), (url, refused.status_code)
    team.case.refresh_from_db()
    assert team.case.title != "changed"


@pytest.mark.django_db
def test_a_session_that_confirmed_its_totp_code_reaches_the_api(team, two_factor_urls):
    """The control for the test above: the refusal is about the missing code, not about sessions."""
    from django.test import Client
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    session = Client()
    session.force_login(team.alice)
    assert session.get("/api/v1/cases/").status_code in (401, 403)
    device = TOTPDevice.objects.create(user=team.alice, name="phone", confirmed=True)
    request = type("R", (), {"session": session.session, "user": team.alice})()
    otp_login(request, device)
    request.session.save()
    session.cookies["sessionid"] = request.session.session_key
    assert session.get("/api/v1/cases/").status_code == 200


@pytest.mark.django_db
def test_without_two_factor_every_login_url_signs_in(settings, team):
    """Development (2FA off): the same login URLs do sign in, so the refusals above are about the code."""
    from django.test import Client

    settings.ATTEST_REQUIRE_2FA = False
    for url in sorted(set(_login_urls())):
        client = Client()
        client.post(url, {"username": "alice", "password": PASSWORD}, follow=True)
        if "_auth_user_id" in client.session:
            assert client.get("/api/v1/cases/").status_code == 200, url
    signed_in = Client()
    signed_in.post("/admin/login/", {"username": "alice", "password": PASSWORD})
    assert "_auth_user_id" in signed_in.session
    browsable = Client().get("/api-auth/login/?next=/api/v1/cases/")
    assert browsable.status_code == 302
    assert browsable.url.startswith("/admin/login/?next=")
    assert Client().get("/api-auth/login/?next=https://evil.example/").url.endswith("next=%2Fapi%2Fv1%2F")
