"""Photos in the admin: multi-file upload on the item page, thumbnails, preview, EXIF, near-duplicates."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evidence.models import Photo
from tests import corpus
from tests.factories import EvidenceItemFactory

pytestmark = pytest.mark.django_db


def as_upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, corpus.photo(name).read_bytes(), content_type="application/octet-stream")


@pytest.fixture
def item(team):
    return EvidenceItemFactory(case=team.case, actor=team.ivan)


def test_several_photos_at_once_from_the_item_page(client, team, item, eager_tasks, django_capture_on_commit_callbacks):
    client.force_login(team.ivan)
    item_url = reverse("admin:evidence_evidenceitem_change", args=[item.pk])
    assert b'id="photo-upload"' in client.get(item_url).content
    files = [as_upload("Apple iPhone 4.jpg"), as_upload("Landscape_6.jpg"), as_upload("truncated_jpeg.jpg")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:evidence_evidenceitem_upload", args=[item.pk]), {"photos": files}, follow=True
        )
    page = response.content.decode()
    assert "2 photo(s) accepted" in page
    assert "truncated_jpeg.jpg: the image data is incomplete" in page.lower()
    assert Photo.objects.filter(item=item, status="done").count() == 2
    photo = Photo.objects.get(original_name="Apple iPhone 4.jpg")
    assert reverse("photo-thumbnail", args=[photo.pk]) in client.get(item_url).content.decode()


def test_a_viewer_cannot_upload_and_sees_no_form(client, team, item):
    client.force_login(team.vera)
    page = client.get(reverse("admin:evidence_evidenceitem_change", args=[item.pk])).content
    assert b'id="photo-upload"' not in page
    url = reverse("admin:evidence_evidenceitem_upload", args=[item.pk])
    assert client.post(url, {"photos": [as_upload("Landscape_1.jpg")]}).status_code == 403
    assert not Photo.objects.exists()


def test_the_photo_page_shows_preview_exif_and_near_duplicates(
    client, team, item, tmp_path, eager_tasks, django_capture_on_commit_callbacks
):
    from PIL import Image

    from evidence import services

    with Image.open(corpus.photo("Landscape_1.jpg")) as image:
        image.resize((900, 600)).save(tmp_path / "copy.jpg", quality=70)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Landscape_1.jpg")).photo
        copy = services.add_photo_from_path(actor=team.ivan, item=item, path=tmp_path / "copy.jpg").photo
        gps = services.add_photo_from_path(actor=team.ivan, item=item, path=corpus.photo("Apple iPhone 4.jpg")).photo
    client.force_login(team.vera)
    page = client.get(reverse("admin:evidence_photo_change", args=[first.pk])).content.decode()
    assert reverse("photo-preview", args=[first.pk]) in page
    assert reverse("admin:evidence_photo_change", args=[copy.pk]) in page  # linked near-duplicate
    assert first.original.sha256 in page
    gps_page = client.get(reverse("admin:evidence_photo_change", args=[gps.pk])).content.decode()
    assert "GPSLatitude" in gps_page
    assert "iPhone 4" in gps_page
    listing = client.get(reverse("admin:evidence_photo_changelist")).content.decode()
    assert reverse("photo-thumbnail", args=[gps.pk]) in listing
