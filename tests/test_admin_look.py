"""Small things seen using the admin: where "/" leads, how lists name a case, how messages and the
dashboard, object tools and sanctions report are laid out (issue 17, section 1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db
STYLESHEET = settings.BASE_DIR / "evidence" / "static" / "evidence" / "attest-admin.css"


def test_the_root_and_view_site_lead_to_the_admin_home(client, team):
    """Both were 404s: there is no public site."""
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    client.force_login(team.alice)
    page = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin:index")}">View site' in page


def test_lists_name_the_case_by_reference_with_the_title_on_hover(client, team):
    factories.IncidentFactory(case=team.case)
    factories.EvidenceItemFactory(case=team.case)
    client.force_login(team.alice)
    for name in ("cases_incident", "evidence_evidenceitem", "evidence_custodyevent", "cases_casemembership"):
        page = client.get(reverse(f"admin:{name}_changelist")).content.decode()
        assert f'<span class="attest-case" title="{team.case.title}">{team.case.reference}</span>' in page, name
        assert f"{team.case.reference}: {team.case.title}" not in page, name


def test_messages_keep_a_file_name_as_written(client, team):
    """A refused upload's message began "Truncated_jpeg.jpg": Django's capfirst on every message."""
    item = factories.EvidenceItemFactory(case=team.case)
    client.force_login(team.ivan)
    broken = SimpleUploadedFile("truncated_jpeg.jpg", b"\xff\xd8\xff\xe0 not the rest of a jpeg", "image/jpeg")
    response = client.post(reverse("admin:evidence_evidenceitem_upload", args=[item.pk]), {"photos": [broken]},
                           follow=True)  # fmt: skip
    page = response.content.decode()
    assert "truncated_jpeg.jpg: " in page
    assert "Truncated_jpeg.jpg" not in page


def test_admin_pages_carry_the_stylesheet_that_fixes_the_layout(client, team):
    client.force_login(team.alice)
    page = client.get(reverse("admin:index")).content.decode()
    assert "evidence/attest-admin.css" in page
    assert 'id="attest-dashboard"' in page
    css = STYLESHEET.read_text()
    # Django's dashboard gives every header width:100% and breaks words anywhere: one letter a line.
    assert "#attest-dashboard table th { width: auto; word-break: normal;" in css
    # The object tools no longer float up over a long title.
    assert "#content .object-tools { float: none; margin-top: 0;" in css
    # The dashboard takes the width beside the recent actions, not Django's fixed 600 px.
    assert ".dashboard #content { width: auto; }" in css
    assert ".attest-case { white-space: nowrap; }" in css  # a reference is not broken at its hyphens
    # Highlights take the admin's colour variables, which dark mode redefines.
    assert (
        "tr.attest-made-after, tr.attest-made-after td { background: var(--message-error-bg); color: var(--body-fg); }"
        in css
    )


def test_the_sanctions_reports_highlights_have_no_fixed_light_background(client, team):
    """A fixed #fde8e8 kept dark mode's light text: unreadable. Rows take a class the stylesheet colours."""
    factories.EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component",
                                  manufacturer=factories.ManufacturerFactory(), country_of_origin="United States",
                                  manufactured_on=dt.date(2031, 1, 1), manufactured_precision="month")  # fmt: skip
    client.force_login(team.alice)
    page = client.get(reverse("admin:evidence_sanctions_report", args=[team.case.pk]), {"after": "2030-01-01"})
    html = page.content.decode()
    assert 'class="attest-made-after"' in html
    assert "#fde8e8" not in html
