"""The main job, end to end in a real browser (Debian's Chromium driven by Playwright) on the admin.

Sign in, open the demo case, upload a photo to an exhibit, see its thumbnail, draw a marking region,
request a dossier, download it and check its SHA-256 against the one the page shows. Screenshots of
each step go to tests/artifacts/ (ignored by git). Skipped, with the reason, where Chromium is absent.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections

from tests import corpus

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEMO_PASSWORD = "attest-demo-dev"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (/usr/bin/chromium)"),
]


@pytest.fixture
def browser_page(monkeypatch):
    playwright_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; the test's own database calls are
    # still synchronous, so Django's guard against ORM use in async code does not apply.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # While the event loop runs, Django keeps this code's connections apart from the thread's
            # own (context-local storage), and nothing else would close them: the session would
            # outlive the test and keep PostgreSQL from dropping the test database.
            connections.close_all()


def shot(page, step: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"browser-{step}.png"), full_page=True)


def test_the_main_job_in_the_admin(live_server, browser_page, settings, eager_tasks):
    settings.DEBUG = True  # load_demo publishes its logins only on a development instance
    call_command("load_demo", stdout=io.StringIO())
    page, base = browser_page, live_server.url

    # 1. Sign in.
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "prosecutor")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#attest-dashboard")
    shot(page, "1-signed-in")

    # 2. Open the demo case from the dashboard: its overview, the map drawn with no internet.
    page.click("#attest-dashboard >> text=PGO-2024-0101")
    page.wait_for_selector("#attest-map .attest-marker-incident")
    overview_url = page.url
    thumbnail = page.locator(".attest-exhibit img").first
    thumbnail.wait_for()
    page.wait_for_function("(img) => img.complete", arg=thumbnail.element_handle())
    assert page.evaluate("(img) => img.naturalWidth", thumbnail.element_handle()) > 0  # the exhibit grid's thumbnail
    shot(page, "2-case")
    page.locator("#attest-map .attest-marker-incident").first.click()  # a marker opens its record
    page.click(".leaflet-popup a")
    page.wait_for_url("**/admin/cases/incident/*/change/")
    shot(page, "2-incident-from-the-map")
    page.goto(overview_url)

    # 3. Upload a photo to an exhibit.
    page.click(".attest-links >> text=exhibits")
    page.click("#result_list tbody tr:first-child th a")
    item_url = page.url
    photo = corpus.photo("Apple iPhone 4.jpg")
    page.set_input_files("input[name=photos]", str(photo))
    page.click("input[name=_continue]")  # Save uploads the photos chosen
    page.wait_for_load_state()
    shot(page, "3-uploaded")
    page.wait_for_selector(".messagelist .success")
    shot(page, "3-uploaded")

    # 4. See its thumbnail once it is processed.
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    for _ in range(30):
        page.goto(item_url)
        thumbnail = page.locator("a[title='Apple iPhone 4.jpg'] img")
        if thumbnail.count():
            break
        page.wait_for_timeout(500)
    assert thumbnail.count() == 1, "the thumbnail never appeared"
    assert page.evaluate("(img) => img.naturalWidth", thumbnail.element_handle()) > 0
    shot(page, "4-thumbnail")

    # 5. Draw a marking region on the photo.
    page.click("a[title='Apple iPhone 4.jpg']")
    page.wait_for_selector("#region-stage img")
    assert sha in page.content()
    page.locator("#region-stage img").scroll_into_view_if_needed()
    stage = page.locator("#region-stage img").bounding_box()
    page.mouse.move(stage["x"] + 60, stage["y"] + 40)
    page.mouse.down()
    page.mouse.move(stage["x"] + 220, stage["y"] + 120, steps=8)
    page.mouse.up()
    page.fill("textarea[name=transcription]", "주체112")
    page.select_option("select[name=marking_type]", "date_code")
    assert int(page.input_value("#region-width")) > 0, "drawing filled no region"
    page.click("#region-editor input[type=submit]")
    page.wait_for_selector("text=Marking recorded")
    assert page.locator(".attest-outlined").count() == 1
    shot(page, "5-marking")

    # 6. Request a dossier, wait for it, download it.
    page.goto(f"{base}/admin/cases/case/")
    page.check("#result_list input.action-select")
    page.select_option("select[name=action]", "request_dossier")
    page.click("button[name=index]")
    page.click("text=Follow it")
    for _ in range(120):
        if page.locator("text=download").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    shot(page, "6-dossier-ready")
    shown = re.search(r"[0-9a-f]{64}", page.locator(".field-sha256").inner_text()).group()
    with page.expect_download() as download_info:
        page.click(".field-download a")
    downloaded = Path(download_info.value.path())

    # 7. Its SHA-256 is the one the page shows.
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == shown
    assert downloaded.read_bytes().startswith(b"%PDF")

    # 8. From the overview, a dossier in Ukrainian: its progress follows by itself, then it downloads.
    page.goto(overview_url)
    page.select_option("#id_language", "uk")
    page.click(".attest-dossier-form button[type=submit]")
    page.wait_for_selector(".messagelist .success")
    ready = page.locator("tr.attest-export").first.locator(".attest-export-download")
    ready.wait_for(state="visible", timeout=60_000)  # no reload: the page's script polled the API
    shot(page, "8-overview-dossier")
    with page.expect_download() as download_info:
        ready.click()
    assert Path(download_info.value.path()).read_bytes().startswith(b"%PDF")

    # 9. A viewer sees the same overview without edit controls.
    page.context.clear_cookies()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "viewer")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#attest-dashboard")
    page.goto(overview_url)
    page.wait_for_selector("#attest-map .attest-marker-incident")
    assert page.locator("text=Edit the case").count() == 0
    shot(page, "9-viewer-overview")
