"""Components and trace requests walked in a real browser, as the demo's lead, on the demo case.

A marking on a demo exhibit → "Record a component from this marking" (the add form pre-filled) → the component →
the component list's action drafts a trace request → the letter issued, marked sent, an answer recorded with an
uploaded file naming a distributor → the case overview's components panel and earliest-assembly statement → a
dossier requested from the overview, downloaded, and read with pypdf: its component table holds the new part,
and the manufacturer whose terms forbid naming it is not named. Fails on any JavaScript error or 5xx response.

Screenshots go to tests/artifacts/: browser-component-recorded.png, browser-trace-request.png,
browser-components-overview.png. Nothing here can rasterise a PDF page (no pdfium, poppler, MuPDF or
Ghostscript), so the text of the dossier page holding the component table is saved instead, as
browser-dossier-components.txt and browser-dossier-components.png (the page, rendered with pypdfium2).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from tests.test_browser import ARTIFACTS, CHROMIUM, DEMO_PASSWORD, browser_page, shot  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (/usr/bin/chromium)"),
]

PART_NUMBER = "VME-5R0-2B"  # not in the demo: the part this test records
DISTRIBUTOR = "Northgate Components Trading Pte Ltd [test]"
DISTRIBUTOR_COUNTRY = "Singapore [test]"


@pytest.fixture
def demo_with_a_loose_marking(settings, eager_tasks):
    """The demo, plus a part-number marking on one of its exhibits' photos that is on no component yet
    (every marking the demo records already rests on one)."""
    from cases.models import Case
    from evidence import services
    from evidence.models import EvidenceItem, Manufacturer, Photo

    settings.DEBUG = True  # load_demo publishes its logins only on a development instance
    call_command("load_demo", stdout=io.StringIO())
    case = Case.objects.get(reference="PGO-2024-0101")
    photo = Photo.objects.get(item__case=case, original_name="EX-converter.jpg")
    item = EvidenceItem.objects.get(pk=photo.item_id)
    vellmar = Manufacturer.objects.get(name="Vellmar Elektronik [demo]")
    analyst = case.memberships.get(user__username="analyst").user
    marking = services.record_marking(
        actor=analyst, item=item, photo=photo, region=(120, 1100, 520, 140), transcription=PART_NUMBER,
        marking_type="part_number", confidence="probable", part_number=PART_NUMBER, manufacturer=vellmar,
    )  # fmt: skip
    restricted = Manufacturer.objects.get(may_be_named=False)
    return case, marking, vellmar, restricted


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#attest-dashboard")


def no_error_message(page) -> None:
    errors = page.locator(".messagelist .error, .errornote:not(.attest-overdue), .errorlist")
    assert not errors.count(), errors.all_inner_texts()


def squeezed(text: str) -> str:
    """Without whitespace: a table cell may wrap a part number or a name anywhere."""
    return re.sub(r"\s+", "", text)


def page_texts(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [pdf_page.extract_text() or "" for pdf_page in PdfReader(io.BytesIO(pdf)).pages]


def component_table_page(pages: list[str], needle: str) -> int:
    """The first page holding the component table's heading and `needle`."""
    for number, text in enumerate(pages):
        if "Componenttable" in squeezed(text) and squeezed(needle) in squeezed(text):
            return number
    raise AssertionError(f"no page of the dossier holds the component table with {needle}")


def rasterise(pdf: bytes, page_number: int, out: Path) -> bool:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    document[page_number].render(scale=2).to_pil().save(out)
    return True


def test_a_component_traced_to_the_dossier(live_server, browser_page, demo_with_a_loose_marking):  # noqa: F811
    from django.urls import reverse
    from django.utils import timezone

    case, marking, vellmar, restricted = demo_with_a_loose_marking
    page, base = browser_page, live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    today = timezone.localdate().isoformat()
    sign_in(page, base, "prosecutor")

    # 1. The marking's page offers to record a component from it; the add form comes pre-filled.
    page.goto(f"{base}{reverse('admin:evidence_marking_change', args=[marking.pk])}")
    page.click("a.attest-record-component")
    page.wait_for_url("**/admin/evidence/component/add/**")
    assert page.input_value("#id_item") == str(marking.item_id)
    assert page.input_value("#id_part_number") == PART_NUMBER
    assert page.input_value("#id_manufacturer") == str(vellmar.pk)
    assert page.eval_on_selector("#id_markings", "s => [...s.selectedOptions].map(o => o.value)") == [str(marking.pk)]
    page.fill("#id_designator", "PS2")
    page.select_option("#id_function", "power")
    page.fill("#id_manufacturer_as_marked", "VME")
    page.click("input[name=_continue]")
    page.wait_for_url("**/admin/evidence/component/*/change/**")
    page.wait_for_selector(".messagelist .success")
    no_error_message(page)
    assert page.input_value("#id_part_number") == PART_NUMBER
    assert page.input_value("#id_function") == "power"
    assert PART_NUMBER in page.inner_text(".field-marking_list")
    component_url = page.url
    shot(page, "component-recorded")

    # 2. From the component list, its action drafts a trace request about it: case and component chosen.
    page.goto(f"{base}{reverse('admin:evidence_component_changelist')}?q={PART_NUMBER}")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1, rows.all_inner_texts()
    rows.first.locator("input.action-select").check()
    page.select_option("select[name=action]", "draft_trace_request")
    page.click("button[name=index]")
    page.wait_for_url("**/admin/evidence/tracerequest/add/**")
    assert page.input_value("#id_case") == str(case.pk)
    chosen = page.eval_on_selector("#id_components", "s => [...s.selectedOptions].map(o => o.textContent)")
    assert len(chosen) == 1, chosen
    assert "PS2" in chosen[0], chosen
    page.select_option("#id_recipient_kind", "manufacturer")
    page.fill("#id_recipient_name", "Vellmar Elektronik GmbH, Export Compliance [demo]")
    page.select_option("#id_manufacturer", str(vellmar.pk))
    page.select_option("#id_language", "en")
    page.fill("#id_context", "Test: a power-converter part was recovered from missile debris. To whom was it sold?")
    page.fill("#id_deadline_days", "21")
    page.click("input[name=_continue]")
    page.wait_for_url("**/admin/evidence/tracerequest/*/change/**")
    no_error_message(page)
    trace_path = urlsplit(page.url).path  # the add form's query may follow it

    # The letter issued, the request marked sent (date and channel), an answer with its file recorded.
    page.click("#trace-step-issue button[type=submit]")
    page.wait_for_selector("#trace-step-send")
    no_error_message(page)
    assert page.locator(".field-letter_link a").count() == 1  # the letter can be downloaded
    page.fill("#id_send-sent_on", today)
    page.select_option("#id_send-channel", "email")
    page.click("#trace-step-send button[type=submit]")
    page.wait_for_selector("#trace-step-response")
    no_error_message(page)
    assert "Sent" in page.inner_text(".field-status")
    page.fill("#id_response-received_on", today)
    answer = f"Test answer. Part {PART_NUMBER}, date code 2236: shipped in 2023 to {DISTRIBUTOR}.\n".encode()
    page.set_input_files(
        "#id_response-upload", files=[{"name": "vellmar-answer.txt", "mimeType": "text/plain", "buffer": answer}]
    )
    page.fill("#id_response-summary", "The maker names the distributor it shipped the lot to.")
    page.fill("#id_response-distributor_name", DISTRIBUTOR)
    page.fill("#id_response-distributor_country", DISTRIBUTOR_COUNTRY)
    page.click("#trace-step-response button[type=submit]")
    page.wait_for_selector("table.attest-trace-responses")
    no_error_message(page)
    assert urlsplit(page.url).path == trace_path
    assert "Answered" in page.inner_text(".field-status")
    responses = page.inner_text("table.attest-trace-responses")
    assert DISTRIBUTOR in responses, responses
    assert "vellmar-answer.txt" in responses, responses
    shot(page, "trace-request")
    page.goto(component_url)  # the component now shows the distributor the answer named
    assert DISTRIBUTOR in page.inner_text(".field-distributor")

    # 3. The case overview: the components panel and the earliest-assembly statement.
    page.goto(f"{base}{reverse('admin:cases_case_overview', args=[case.pk])}")
    panel = page.locator("section.attest-components")
    panel.wait_for()
    assert "components recorded" in panel.inner_text()
    assert "Vellmar Elektronik [demo]" in panel.locator("table.attest-by-manufacturer").inner_text()
    assert re.search(r"Assembled no earlier than \d{1,2} \w+ \d{4}\.", panel.locator(".attest-assembly").inner_text())
    assert panel.locator(".attest-assembly-readings li").count() >= 1
    assert page.locator("section.attest-trace-due").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "browser-components-overview.png"))  # the page is 11,000 px tall

    # 4. A dossier from the overview, followed to its download: the component table holds the new part and
    # the distributor its answer named; the manufacturer that may not be named is not.
    page.select_option("#id_language", "en")
    page.click(".attest-dossier-form button[type=submit]")
    page.wait_for_selector(".messagelist .success")
    ready = page.locator("tr.attest-export").first.locator(".attest-export-download")
    ready.wait_for(state="visible", timeout=120_000)
    with page.expect_download() as download:
        ready.click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = page_texts(pdf)
    page_number = component_table_page(pages, PART_NUMBER)
    everything = "\n".join(pages)
    assert "Earliest assembly" in everything
    assert squeezed(DISTRIBUTOR) in squeezed(everything)
    for name in (restricted.name, restricted.legal_name, "Kestrel"):
        assert squeezed(name).casefold() not in squeezed(everything).casefold(), f"the dossier names {name}"
    ARTIFACTS.mkdir(exist_ok=True)
    text = f"[dossier page {page_number + 1} of {len(pages)}]\n{pages[page_number]}"
    (ARTIFACTS / "browser-dossier-components.txt").write_text(text, encoding="utf-8")
    rasterise(pdf, page_number, ARTIFACTS / "browser-dossier-components.png")
    assert not errors, errors
