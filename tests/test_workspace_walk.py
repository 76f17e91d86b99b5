"""The case workspace walked in a real browser, as a lead and as a viewer, on the demo case.

overview → map marker → incident → exhibit grid → photo viewer (zoom) → marking outline → marking →
near-duplicate compare → (lead) a dossier in Ukrainian followed to its download. The viewer walks the
same pages and finds no control that would change anything. Screenshots go to tests/artifacts/
(browser-walk-<persona>-<step>.png).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.test_browser import CHROMIUM, DEMO_PASSWORD, browser_page  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (/usr/bin/chromium)"),
]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# What would change the evidence: Django's save, add and delete controls, the marking region editor,
# the overview's edit link, admin actions and uploads. A dossier request changes nothing; any member may.
EDIT_CONTROLS = (
    "input[name=_save]", "input[name=_continue]", "a.addlink", "a.deletelink", "#region-editor",
    "select[name=action]", "a.changelink", "input[type=file]",
)  # fmt: skip


def edit_controls(page) -> list[str]:
    # Shown on the page itself, not in the navigation (its "Add" beside API tokens is for every user's own
    # tokens), nor hidden (Django's inline script adds a hidden "Add another" row to read-only inlines).
    return [selector for selector in EDIT_CONTROLS if page.locator(f"#content {selector} >> visible=true").count()]


def snap(page, persona: str, step: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"browser-walk-{persona}-{step}.png"), full_page=True)


@pytest.fixture
def demo_with_a_near_duplicate(settings, eager_tasks, tmp_path):
    """The demo, plus a smaller recompressed copy of one of its marked photos (a near-duplicate)."""
    from PIL import Image

    from cases.models import Case
    from evidence import filestore, services
    from evidence.models import Marking

    settings.DEBUG = True  # load_demo publishes its logins only on a development instance
    call_command("load_demo", stdout=io.StringIO())
    case = Case.objects.get(reference="PGO-2024-0101")
    marking = Marking.objects.filter(item__case=case, photo__isnull=False, withdrawn_at__isnull=True).first()
    photo = marking.photo
    with filestore.open_stored(photo.derivative_path("preview")) as source, Image.open(source) as image:
        image.resize((image.width // 2, image.height // 2)).save(tmp_path / "copy.jpg", quality=70)
    lead = case.lead
    services.add_photo_from_path(actor=lead, item=photo.item, path=tmp_path / "copy.jpg")
    return case, marking


@pytest.mark.parametrize("persona", ["prosecutor", "viewer"])
def test_the_workspace_walk(live_server, browser_page, demo_with_a_near_duplicate, persona):  # noqa: F811
    case, marking = demo_with_a_near_duplicate
    page, base = browser_page, live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    lead = persona == "prosecutor"
    controls: dict[str, list[str]] = {}

    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", persona)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#attest-dashboard")

    # The overview, its map drawn offline, a marker opening its incident.
    page.click(f"#attest-dashboard >> text={case.reference}")
    page.wait_for_selector("#attest-map .attest-marker-incident")
    overview_url = page.url
    controls["overview"] = edit_controls(page)
    snap(page, persona, "1-overview")
    page.locator("#attest-map .attest-marker-incident").first.click()
    page.click(".leaflet-popup a")
    page.wait_for_url("**/admin/cases/incident/*/change/")
    controls["incident"] = edit_controls(page)
    snap(page, persona, "2-incident")

    # The exhibit grid leads to the exhibit, whose photo opens in the viewer.
    page.goto(overview_url)
    page.click(f".attest-exhibit a[href$='/evidenceitem/{marking.item_id}/change/']")
    page.wait_for_url(f"**/evidenceitem/{marking.item_id}/change/")
    controls["exhibit"] = edit_controls(page)
    snap(page, persona, "3-exhibit")
    page.click(f"a[href$='/photo/{marking.photo_id}/change/']")
    page.wait_for_selector(".attest-viewer")
    page.click(".attest-viewer [data-zoom=in]")
    assert page.inner_text(".attest-viewer-scale") != "100%"
    controls["photo"] = edit_controls(page)
    snap(page, persona, "4-photo-zoomed")

    # The marking's outline links to the marking; the photo's near-duplicate sits beside it.
    page.click(f".attest-viewer a.attest-outline[href$='/marking/{marking.pk}/change/']")
    page.wait_for_url(f"**/marking/{marking.pk}/change/")
    assert page.locator(".attest-outline-current").count() == 1
    controls["marking"] = edit_controls(page)
    snap(page, persona, "5-marking")
    page.goto(f"{base}/admin/evidence/photo/{marking.photo_id}/change/")
    page.click("text=Compare side by side")
    assert page.locator(".attest-compare img").count() >= 2
    assert "Hamming distance" in page.inner_text(".attest-compare")
    controls["compare"] = edit_controls(page)
    snap(page, persona, "6-near-duplicates")

    # A dossier in Ukrainian, its progress followed by the page itself, then downloaded.
    page.goto(overview_url)
    page.select_option("#id_language", "uk")
    page.click(".attest-dossier-form button[type=submit]")
    page.wait_for_selector(".messagelist .success")
    ready = page.locator("tr.attest-export").first.locator(".attest-export-download")
    ready.wait_for(state="visible", timeout=120_000)
    snap(page, persona, "7-dossier")
    with page.expect_download() as download:
        ready.click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    if lead:
        # The lead can change the case, its exhibits, photos and markings.
        for name in ("overview", "exhibit", "photo", "marking"):
            assert controls[name], f"the lead sees no edit control on the {name} page"
    else:
        assert controls == {name: [] for name in controls}, controls
    assert not errors, errors
