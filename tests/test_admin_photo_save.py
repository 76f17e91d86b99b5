"""Nothing chosen on the exhibit page is dropped: Save uploads the photos chosen, on the add page too, and
a form shown again with errors says the photos were not uploaded (issue 17, section 1)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evidence.models import EvidenceItem, Photo
from tests import corpus, factories

pytestmark = pytest.mark.django_db


def _photo(name: str = "Landscape_1.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, corpus.photo(name).read_bytes(), content_type="application/octet-stream")


def _item_form(client, url, item) -> dict:
    """The item's form as the page sends it, the management forms of its inlines included."""
    data = {"kind": item.kind, "title": item.title, "description": item.description}
    for inline in client.get(url).context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
    return data


def test_save_on_the_exhibit_page_uploads_the_photos_chosen(client, team):
    item = factories.EvidenceItemFactory(case=team.case, actor=team.ivan)
    client.force_login(team.ivan)
    url = reverse("admin:evidence_evidenceitem_change", args=[item.pk])
    page = client.get(url).content.decode()
    assert 'enctype="multipart/form-data"' in page  # the chooser is part of the item's form
    assert 'form="photo-upload-form"' not in page
    response = client.post(url, {**_item_form(client, url, item), "photos": [_photo()], "photographer": "I. Petrenko",
                                 "_continue": "1"}, follow=True)  # fmt: skip
    page = response.content.decode()
    assert "1 photo(s) accepted and queued for processing" in page
    photo = Photo.objects.get(item=item)
    assert photo.original_name == "Landscape_1.jpg"
    assert photo.photographer == "I. Petrenko"


def test_photos_are_added_on_the_add_page(client, team):
    client.force_login(team.ivan)
    url = reverse("admin:evidence_evidenceitem_add")
    assert 'id="photo-upload"' in client.get(url, {"case": team.case.pk}).content.decode()
    data = {"case": team.case.pk, "kind": "physical_debris", "title": "Nozzle", "photos": [_photo()]}
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    item = EvidenceItem.objects.get(title="Nozzle")
    assert Photo.objects.filter(item=item).count() == 1


def test_a_refused_photo_is_named_and_the_item_is_saved(client, team):
    item = factories.EvidenceItemFactory(case=team.case, actor=team.ivan)
    client.force_login(team.ivan)
    url = reverse("admin:evidence_evidenceitem_change", args=[item.pk])
    broken = SimpleUploadedFile("notes.jpg", b"not an image at all", content_type="image/jpeg")
    response = client.post(url, {**_item_form(client, url, item), "title": "Renamed", "photos": [broken]}, follow=True)
    page = response.content.decode()
    assert "notes.jpg: " in page
    item.refresh_from_db()
    assert item.title == "Renamed"
    assert not Photo.objects.filter(item=item).exists()


def test_a_form_with_errors_says_the_photos_were_not_uploaded(client, team):
    client.force_login(team.ivan)
    url = reverse("admin:evidence_evidenceitem_add")
    response = client.post(url, {"case": team.case.pk, "kind": "physical_debris", "title": "", "photos": [_photo()]})
    assert response.status_code == 200
    assert "The photos chosen were not uploaded: correct the form, then choose them again." in response.content.decode()
    assert not Photo.objects.exists()


def test_a_viewer_has_no_photo_chooser(client, team):
    item = factories.EvidenceItemFactory(case=team.case, actor=team.ivan)
    client.force_login(team.vera)
    page = client.get(reverse("admin:evidence_evidenceitem_change", args=[item.pk])).content.decode()
    assert 'name="photos"' not in page
