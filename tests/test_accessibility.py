"""Accessibility: axe-core on the admin pages people work in, in English and Ukrainian.

axe-core comes inside the axe-playwright-python package (axe.min.js, MPL-2.0) and is injected into
each page by Playwright, so the check runs offline: the browser is Debian's Chromium (the fixture of
tests/test_browser.py) and every request that does not go to the live server is refused.

Signed in as the demo's lead, then as its viewer: the home page, the page the dashboard's case link
opens, the case's edit form (the page that had 459 unnamed controls), a photo page with its marking
form, a marking's form and the list pages of incidents and exhibits. No serious or critical
violation is allowed.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.test_browser import CHROMIUM, DEMO_PASSWORD, browser_page, shot  # noqa: F401 - browser_page is a fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (/usr/bin/chromium)"),
]

SERIOUS = {"serious", "critical"}


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core"
    return [
        f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])}x): {violation['help']}: "
        + "; ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


def sign_in(page, base: str, username: str) -> str:
    """Sign in and open the demo case from the dashboard; returns the URL its link opened."""
    page.context.clear_cookies()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#attest-dashboard")
    page.click("#attest-dashboard >> text=PGO-2024-0101")
    page.wait_for_load_state()
    return page.url  # whatever the dashboard's case link opens (the overview, or the form before it)


def test_the_admin_has_no_serious_accessibility_violations(live_server, browser_page, settings, eager_tasks):  # noqa: F811
    from cases.models import Case
    from evidence.models import Marking, Photo

    settings.DEBUG = True  # load_demo publishes its logins only on a development instance
    call_command("load_demo", stdout=io.StringIO())
    page, base = browser_page, live_server.url
    # Offline: nothing but the live server answers (axe is injected from the package, not fetched).
    page.context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())

    case = Case.objects.get(reference="PGO-2024-0101")
    photo = Photo.objects.filter(item__case=case, preview_width__isnull=False).order_by("pk").first()
    marking = Marking.objects.filter(item__case=case).order_by("pk").first()
    found = {}
    # The lead sees every form; the viewer the same pages read-only, in both languages.
    for username in ("prosecutor", "viewer"):
        case_link = sign_in(page, base, username)
        pages = {
            "home": f"{base}/admin/",
            "case": case_link,
            "case-form": f"{base}/admin/cases/case/{case.pk}/change/",
            "photo": f"{base}/admin/evidence/photo/{photo.pk}/change/",
            "marking": f"{base}/admin/evidence/marking/{marking.pk}/change/",
            "incidents": f"{base}/admin/cases/incident/",
            "exhibits": f"{base}/admin/evidence/evidenceitem/",
        }
        for language in ("en", "uk"):
            page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
            for name, url in pages.items():
                response = page.goto(url)
                page.wait_for_load_state("load")
                assert response.status == 200, f"{username} {name}: {response.status}"
                assert page.get_attribute("html", "lang") == language
                if (username, language, name) == ("prosecutor", "uk", "case-form"):
                    # The legal-basis picker (filter_horizontal), drawn by Django's script from our catalogue.
                    picker = page.inner_text(".selector")
                    assert "Доступно: правова підстава" in picker
                    assert "Available" not in picker
                    assert "Choose" not in page.inner_html(".selector")  # titles and names included
                violations = serious_violations(page)
                if violations:
                    shot(page, f"axe-{username}-{language}-{name}")
                    found[f"{username} {language} {name} ({url})"] = violations
    assert not found, "\n".join(f"{where}:\n  " + "\n  ".join(lines) for where, lines in found.items())


def test_the_case_form_names_every_control_of_its_inline_rows(admin_client, team):
    """The cause of the 459: each inline row's controls are named after their column and row."""
    from django.urls import reverse

    page = admin_client.get(reverse("admin:cases_case_change", args=[team.case.pk])).content.decode()
    assert 'aria-label="Role (' in page
    assert 'aria-label="Delete ' in page
    page = admin_client.get(
        reverse("admin:cases_case_change", args=[team.case.pk]), HTTP_ACCEPT_LANGUAGE="uk"
    ).content.decode()
    assert 'aria-label="Видалити ' in page


def test_yes_no_icons_say_so_in_the_readers_language(client, team):
    """A boolean status (withdrawn, archived…) is an icon: its text alternative is not English in uk."""
    from django.urls import reverse

    from tests.factories import SourceFactory

    SourceFactory(case=team.case)
    client.force_login(team.alice)
    page = client.get(reverse("admin:evidence_source_changelist"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert 'alt="Ні"' in page  # noqa: RUF001 - Ukrainian "No"
    assert 'alt="False"' not in page
    page = client.get(reverse("admin:evidence_source_changelist"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'alt="No"' in page


def test_the_home_pages_hidden_column_headers_are_ukrainian(client, team):
    from django.urls import reverse

    client.force_login(team.alice)
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Назва моделі" in page
    assert "Model name" not in page


def test_the_search_icon_is_named_in_the_readers_language(client, team):
    from django.urls import reverse

    client.force_login(team.alice)
    page = client.get(reverse("admin:cases_case_changelist"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert 'alt="Пошук"' in page  # Django's own template wrote alt="Search" in every language
    assert 'alt="Search"' not in page
