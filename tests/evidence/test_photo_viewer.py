"""The photo viewer: outlines of every marking for every role, linked both ways; the original inline and
logged; near-duplicates side by side; recording a marking without losing what was typed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from cases.models import AccessLog
from evidence import selectors, services
from evidence.models import Marking
from tests import corpus
from tests.factories import EvidenceItemFactory, MarkingFactory, PhotoFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(team, eager_tasks, django_capture_on_commit_callbacks):
    debris = EvidenceItemFactory(case=team.case, actor=team.ivan)
    with django_capture_on_commit_callbacks(execute=True):
        photo = PhotoFactory(item=debris, width=800, height=600)
    photo.refresh_from_db()
    return photo


@pytest.fixture
def marking(team, photo):
    component = EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", parent=photo.item)
    return MarkingFactory(item=component, photo=photo, region=(100, 50, 200, 100), actor=team.bob)


@pytest.mark.parametrize("persona", ["vera", "bob", "ivan", "alice", "root"])
def test_every_role_sees_every_outline_linking_to_its_marking(client, team, photo, marking, persona):
    client.force_login(getattr(team, persona))
    page = client.get(reverse("admin:evidence_photo_change", args=[photo.pk])).content.decode()
    marking_url = reverse("admin:evidence_marking_change", args=[marking.pk])
    assert 'class="attest-viewer-frame"' in page
    assert f'<a class="attest-outline" href="{marking_url}"' in page
    assert "left:12.500%;top:8.333%;width:25.000%;height:16.667%" in page
    assert "evidence/photo-viewer.js" in page
    back = client.get(marking_url).content.decode()
    assert reverse("admin:evidence_photo_change", args=[photo.pk]) in back  # and back to the photo
    assert "attest-outline attest-outline-current" in back


def test_outlines_keep_a_decimal_point_in_ukrainian(client, team, photo, marking):
    client.force_login(team.vera)
    with translation.override("uk"):
        page = client.get(reverse("admin:evidence_photo_change", args=[photo.pk]), HTTP_ACCEPT_LANGUAGE="uk")
    assert "left:12.500%" in page.content.decode()  # CSS refuses "12,500%"
    assert "Повна роздільність" in page.content.decode()  # the viewer's controls, in Ukrainian


def test_a_withdrawn_marking_is_listed_but_not_outlined(client, team, photo, marking):
    services.withdraw_marking(actor=team.bob, marking=marking, reason="misread")
    client.force_login(team.vera)
    page = client.get(reverse("admin:evidence_photo_change", args=[photo.pk])).content.decode()
    assert 'class="attest-outline"' not in page
    assert reverse("admin:evidence_marking_change", args=[marking.pk]) in page
    assert "(withdrawn)" in page


def test_the_exhibit_page_links_to_its_markings_and_photos(client, team, photo, marking):
    client.force_login(team.vera)
    page = client.get(reverse("admin:evidence_evidenceitem_change", args=[marking.item.pk])).content.decode()
    assert reverse("admin:evidence_marking_change", args=[marking.pk]) in page
    assert reverse("admin:evidence_photo_change", args=[photo.pk]) in page
    debris = client.get(reverse("admin:evidence_evidenceitem_change", args=[photo.item.pk])).content.decode()
    assert reverse("admin:evidence_photo_change", args=[photo.pk]) in debris


def test_the_original_opens_inline_after_the_access_check_and_is_logged(
    client, team, eager_tasks, django_capture_on_commit_callbacks
):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    path = corpus.photo("Apple iPhone 4.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        photo = services.add_photo_from_path(actor=team.ivan, item=item, path=path).photo
    url = reverse("admin:evidence_photo_original", args=[photo.pk])
    client.force_login(team.vera)
    page = client.get(reverse("admin:evidence_photo_change", args=[photo.pk])).content.decode()
    assert f'data-full="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == path.read_bytes()  # byte for byte, never re-encoded
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    logged = AccessLog.objects.filter(user=team.vera).latest("pk")
    assert (logged.action, logged.object_type, logged.object_id) == ("view", "photo", str(photo.pk))
    client.force_login(team.charlie)
    assert client.get(url).status_code == 404
    assert AccessLog.objects.filter(user=team.charlie).latest("pk").action == "denied"


def test_near_duplicates_side_by_side_with_their_distance(
    client, team, tmp_path, eager_tasks, django_capture_on_commit_callbacks
):
    from PIL import Image

    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    with Image.open(corpus.photo("Landscape_1.jpg")) as image:
        image.resize((900, 600)).save(tmp_path / "copy.jpg", quality=70)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Landscape_1.jpg")).photo
        copy = services.add_photo_from_path(actor=team.ivan, item=item, path=tmp_path / "copy.jpg").photo
    first.refresh_from_db()
    [(other, distance)] = selectors.near_duplicates(photo=first, viewer=team.vera)
    assert other == copy
    client.force_login(team.vera)
    url = reverse("admin:evidence_photo_compare", args=[first.pk])
    assert url in client.get(reverse("admin:evidence_photo_change", args=[first.pk])).content.decode()
    page = client.get(url).content.decode()
    assert reverse("photo-preview", args=[first.pk]) in page
    assert reverse("photo-preview", args=[copy.pk]) in page
    assert f"Hamming distance: {distance} bit" in page
    assert AccessLog.objects.filter(user=team.vera).latest("pk").action == "view"


def test_a_marking_without_a_region_keeps_the_transcription_and_asks_for_one(client, team, photo):
    component = EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", parent=photo.item)
    client.force_login(team.bob)
    response = client.post(
        reverse("admin:evidence_photo_mark", args=[photo.pk]),
        {"item": component.pk, "transcription": "주체112 AD7541", "marking_type": "date_code",
         "confidence": "probable", "x": "", "y": "", "width": "", "height": ""},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert not Marking.objects.exists()
    assert "주체112 AD7541" in page  # what was typed is still in the form
    assert "Draw the region of the marking over the photo, or type its four numbers." in page
    # Shown once only: the next visit starts a fresh form.
    again = client.get(reverse("admin:evidence_photo_change", args=[photo.pk])).content.decode()
    assert "주체112 AD7541" not in again


def test_the_region_can_be_typed_as_numbers(client, team, photo):
    client.force_login(team.bob)
    page = client.get(reverse("admin:evidence_photo_change", args=[photo.pk])).content.decode()
    for name in ("x", "y", "width", "height"):
        assert f'type="number" name="{name}"' in page
    assert 'id="region-stage" class="attest-region-stage" tabindex="0"' in page  # keyboard reaches the region


def test_a_region_outside_the_photo_is_refused_and_kept(client, team, photo):
    client.force_login(team.bob)
    response = client.post(
        reverse("admin:evidence_photo_mark", args=[photo.pk]),
        {"item": photo.item.pk, "transcription": "LOT 7", "marking_type": "lot", "confidence": "probable",
         "x": 700, "y": 500, "width": 5000, "height": 100},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert not Marking.objects.exists()
    assert "LOT 7" in page
    assert "The region must lie within the preview&#x27;s 800 by 600 pixels." in page


def test_sources_attributions_and_subjects_link_both_ways(client, team, marking):
    from tests.factories import AttributionFactory, SourceFactory

    source = SourceFactory(case=team.case, actor=team.bob)
    about_item = AttributionFactory(case=team.case, source=source, subject_type="evidence_item",
                                    subject=marking.item, actor=team.bob)  # fmt: skip
    about_marking = AttributionFactory(case=team.case, source=source, subject_type="marking", subject=marking,
                                       actor=team.bob)  # fmt: skip
    client.force_login(team.vera)
    source_page = client.get(reverse("admin:evidence_source_change", args=[source.pk])).content.decode()
    for attribution in (about_item, about_marking):
        assert reverse("admin:evidence_attribution_change", args=[attribution.pk]) in source_page
    assert reverse("admin:evidence_evidenceitem_change", args=[marking.item.pk]) in source_page  # its subject
    assert reverse("admin:evidence_marking_change", args=[marking.pk]) in source_page
    attribution_page = client.get(reverse("admin:evidence_attribution_change", args=[about_item.pk])).content.decode()
    assert reverse("admin:evidence_source_change", args=[source.pk]) in attribution_page
    assert reverse("admin:evidence_evidenceitem_change", args=[marking.item.pk]) in attribution_page
    item_page = client.get(reverse("admin:evidence_evidenceitem_change", args=[marking.item.pk])).content.decode()
    assert reverse("admin:evidence_attribution_change", args=[about_item.pk]) in item_page
    marking_page = client.get(reverse("admin:evidence_marking_change", args=[marking.pk])).content.decode()
    assert reverse("admin:evidence_attribution_change", args=[about_marking.pk]) in marking_page
    assert reverse("admin:evidence_source_change", args=[source.pk]) in marking_page


def test_an_entity_page_links_to_attributions_of_the_readers_cases_only(client, team):
    from tests.factories import AttributionFactory, EntityFactory

    entity = EntityFactory()
    about = AttributionFactory(case=team.case, subject_type="entity", subject=entity, actor=team.bob)
    url = reverse("admin:cases_entity_change", args=[entity.pk])
    client.force_login(team.vera)
    assert reverse("admin:evidence_attribution_change", args=[about.pk]) in client.get(url).content.decode()
    client.force_login(team.charlie)  # staff, on another case: sees the entity, not the attribution
    page = client.get(url)
    assert page.status_code == 200
    assert reverse("admin:evidence_attribution_change", args=[about.pk]) not in page.content.decode()
    assert about.claim not in page.content.decode()
