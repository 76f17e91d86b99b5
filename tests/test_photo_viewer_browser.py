"""The photo viewer's and region editor's scripts in a real browser: zoom, outlines that link, the
full-resolution swap, and a region made with the keyboard and typed numbers (no mouse)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_browser import CHROMIUM, browser_page, shot  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (/usr/bin/chromium)"),
]


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(page).response
    return [
        f"{v['id']}: {v['help']}: {[node['target'] for node in v['nodes'][:5]]}"
        for v in response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sign_in(page, base, user):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base}])


def test_zoom_outlines_and_a_keyboard_region(live_server, browser_page, team, eager_tasks, tmp_path):  # noqa: F811
    from evidence import services
    from tests import corpus
    from tests.factories import EvidenceItemFactory, MarkingFactory

    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    photo = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Landscape_6.jpg")).photo
    photo.refresh_from_db()
    assert photo.status == "done"
    marking = MarkingFactory(item=item, photo=photo, region=(10, 10, 100, 80), actor=team.bob)
    page, base = browser_page, live_server.url
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda msg: errors.append(msg.text) if msg.type == "error" and "resource" not in msg.text else None
    )
    page.on("response", lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)

    sign_in(page, base, team.vera)
    page.goto(f"{base}/admin/evidence/photo/{photo.pk}/change/")
    outline = page.locator(f".attest-viewer a.attest-outline[href$='/marking/{marking.pk}/change/']")
    assert outline.count() == 1
    before = outline.bounding_box()
    page.click(".attest-viewer [data-zoom=in]")
    page.click(".attest-viewer [data-zoom=in]")
    assert page.inner_text(".attest-viewer-scale") == "156%"
    assert outline.bounding_box()["width"] > before["width"] * 1.5  # the outline scales with the photo
    page.focus(".attest-viewer-frame")
    page.keyboard.press("0")
    assert page.inner_text(".attest-viewer-scale") == "100%"
    page.hover(".attest-viewer-frame")
    page.mouse.wheel(0, -200)  # the wheel alone scrolls the page, not the photo
    assert page.inner_text(".attest-viewer-scale") == "100%"
    page.keyboard.down("Control")
    page.mouse.wheel(0, -200)
    page.keyboard.up("Control")
    assert page.inner_text(".attest-viewer-scale") == "125%"
    page.keyboard.press("0")
    page.click(".attest-viewer [data-full]")
    from evidence.lib.imaging import display_size

    upright_width = display_size((photo.width, photo.height), photo.orientation)[0]  # Landscape_6 is rotated
    image = page.locator(".attest-viewer-stage img")
    for _ in range(50):  # wait_for_function would need eval, which the CSP forbids
        if page.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) == upright_width:
            break
        page.wait_for_timeout(100)
    # The original at full resolution, upright as the preview, so the outlines still fit.
    assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) == upright_width
    shot(page, "viewer-full-resolution")
    outline.click()
    page.wait_for_url(f"**/marking/{marking.pk}/change/")
    assert page.locator(".attest-outline-current").count() == 1

    sign_in(page, base, team.bob)
    for url in (f"/admin/evidence/marking/{marking.pk}/change/", f"/admin/evidence/photo/{photo.pk}/compare/",
                f"/admin/evidence/photo/{photo.pk}/change/"):  # fmt: skip
        page.goto(base + url)
        seen = len(errors)
        assert not serious_violations(page), url
        # axe fetches stylesheets to read them and resolves forms.css's @import against the page: its 404s.
        del errors[seen:]
    page.focus("#region-stage")
    page.keyboard.press("ArrowRight")  # a region appears in the middle and moves: no mouse needed
    assert page.input_value("#region-x") != ""
    assert page.locator("#region-box").is_visible()
    page.fill("#region-x", "5")
    page.fill("#region-y", "6")
    page.fill("#region-width", "200")
    page.fill("#region-height", "100")
    page.fill("textarea[name=transcription]", "LOT 7")
    page.select_option("select[name=marking_type]", "lot")
    page.click("#region-editor input[type=submit]")
    page.wait_for_selector("text=Marking recorded")
    shot(page, "viewer-marking-typed")
    # Near-duplicates side by side: a photo and a smaller, recompressed copy of it.
    from PIL import Image

    with Image.open(corpus.photo("Landscape_1.jpg")) as image:
        image.resize((900, 600)).save(tmp_path / "copy.jpg", quality=70)
    first = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Landscape_1.jpg")).photo
    services.add_photo_from_path(actor=team.ivan, item=item, path=tmp_path / "copy.jpg")
    page.goto(f"{base}/admin/evidence/photo/{first.pk}/change/")
    page.click("text=Compare side by side")
    page.wait_for_load_state()  # the click returns once the page has committed, maybe before its body is read
    images = page.locator(".attest-compare img")
    # This photo, its copy and Landscape_6 (the same picture stored rotated: pHash is taken upright).
    assert images.count() == 3
    # The click returns once the page has committed, not once its previews have arrived: wait for each
    # to settle (loaded or failed), then require a decoded picture, so a broken preview still fails.
    page.wait_for_function("() => [...document.querySelectorAll('.attest-compare img')].every((img) => img.complete)")
    for index in range(3):
        assert page.evaluate("(img) => img.naturalWidth", images.nth(index).element_handle()) > 0
    assert "Hamming distance" in page.inner_text(".attest-compare")
    shot(page, "viewer-near-duplicates")
    assert not errors, errors
