"""Markings, sources and attributions in the admin: region editor, four eyes, report, inlines."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from evidence.models import CustodyEvent, Marking, Source
from tests.factories import (
    AttributionFactory,
    EvidenceItemFactory,
    IncidentFactory,
    ManufacturerFactory,
    MarkingFactory,
    PhotoFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def processed_photo(team, eager_tasks, django_capture_on_commit_callbacks):
    debris = EvidenceItemFactory(case=team.case, actor=team.ivan)
    with django_capture_on_commit_callbacks(execute=True):
        photo = PhotoFactory(item=debris, width=800, height=600)
    photo.refresh_from_db()
    return photo


def test_the_region_editor_records_a_marking_in_original_pixels(client, team, processed_photo):
    component = EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", parent=processed_photo.item)
    client.force_login(team.bob)
    page = client.get(reverse("admin:evidence_photo_change", args=[processed_photo.pk])).content.decode()
    assert 'id="region-stage"' in page
    assert "evidence/region-editor.js" in page
    response = client.post(
        reverse("admin:evidence_photo_mark", args=[processed_photo.pk]),
        {"item": component.pk, "transcription": "주체112", "marking_type": "date_code", "confidence": "probable",
         "x": 100, "y": 50, "width": 200, "height": 100},
    )  # fmt: skip
    marking = Marking.objects.get()
    assert response.url == reverse("admin:evidence_marking_change", args=[marking.pk])
    # The preview is 800x600 here (smaller than 1600), so preview pixels are original pixels.
    assert marking.region == (100, 50, 200, 100)
    assert (marking.item, marking.photo, marking.transcribed_by) == (component, processed_photo, team.bob)
    marking_page = client.get(response.url).content.decode()
    # Outlined in percent of the fitted preview (12.5% = 100 of 800 px), not at 1,600 px and clipped.
    assert "left:12.500%;top:8.333%;width:25.000%;height:16.667%" in marking_page
    assert "Juche 112" in marking_page or "2023" in marking_page


def test_a_viewer_gets_no_region_editor(client, team, processed_photo):
    client.force_login(team.vera)
    page = client.get(reverse("admin:evidence_photo_change", args=[processed_photo.pk])).content.decode()
    assert 'id="region-stage"' not in page
    url = reverse("admin:evidence_photo_mark", args=[processed_photo.pk])
    assert client.post(url, {"transcription": "x"}).status_code == 403


def test_the_verify_action_keeps_four_eyes(client, team):
    component = EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component")
    own = MarkingFactory(item=component, actor=team.bob)
    other = MarkingFactory(item=component, actor=team.alice)
    client.force_login(team.bob)
    response = client.post(
        reverse("admin:evidence_marking_changelist"),
        {"action": "verify_selected", "_selected_action": [own.pk, other.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "second person" in page
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.verified_by is None
    assert other.verified_by == team.bob


def test_a_source_added_in_the_admin_with_its_archived_copy(client, team):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(team.bob)
    response = client.post(
        reverse("admin:evidence_source_add"),
        {"case": team.case.pk, "kind": "news_report", "title": "Reuters: debris analysis", "reliability": "C",
         "archive": SimpleUploadedFile("article.html", b"<html>archived page</html>")},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    source = Source.objects.get()
    assert source.archived_copy.size == len(b"<html>archived page</html>")
    assert CustodyEvent.objects.filter(event_type="source.added").count() == 1
    listing = client.get(reverse("admin:evidence_source_changelist")).content.decode()
    assert "Reuters: debris analysis" in listing


def test_incident_and_item_pages_show_attributions_and_contradictions(client, team):
    incident = IncidentFactory(case=team.case)
    supports = SourceFactory(case=team.case, reliability="A", actor=team.bob)
    denies = SourceFactory(case=team.case, reliability="E", actor=team.bob)
    AttributionFactory(case=team.case, source=supports, subject_type="incident", subject=incident, credibility=1,
                       actor=team.bob)  # fmt: skip
    client.force_login(team.vera)
    url = reverse("admin:cases_incident_change", args=[incident.pk])
    page = client.get(url).content.decode()
    assert "A1" in page
    assert "contradict" not in page
    AttributionFactory(case=team.case, source=denies, subject_type="incident", subject=incident, credibility=5,
                       stance="contradicts", actor=team.bob)  # fmt: skip
    page = client.get(url).content.decode()
    assert "E5" in page
    assert "the sources contradict each other" in page


def test_the_sanctions_report_page_and_csv(client, team):
    maker = ManufacturerFactory(name="Texas Instruments", country="United States")
    EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", manufacturer=maker,
                        country_of_origin="United States", manufactured_on=dt.date(2023, 5, 1),
                        manufactured_precision="month", part_number="TPS7A")  # fmt: skip
    client.force_login(team.vera)
    url = reverse("admin:evidence_sanctions_report", args=[team.case.pk])
    page = client.get(url, {"after": "2022-12-22"}).content.decode()
    assert "attest-made-after" in page
    assert "TPS7A" in page
    assert b"TPS7A" in client.get(url, {"export": "csv"}).content
    client.force_login(team.charlie)
    assert client.get(url).status_code == 404
    case_page_links = reverse("admin:evidence_sanctions_report", args=[team.case.pk])
    client.force_login(team.alice)
    assert case_page_links in client.get(reverse("admin:cases_case_change", args=[team.case.pk])).content.decode()
