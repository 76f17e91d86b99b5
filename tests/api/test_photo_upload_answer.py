"""The upload's answer comes from the photo the request already holds: it must equal a read of the row."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from cases.choices import Role
from cases.models import CaseMembership
from core.api.idempotency import fingerprint_json, request_fingerprint
from core.models import IdempotencyRecord
from evidence.api.serializers import PhotoUploadSerializer
from evidence.models import Photo
from tests import corpus
from tests.api.test_endpoints import assert_error
from tests.factories import EvidenceItemFactory

URL = "/api/v1/photos/"
GPS_PHOTO = "Apple iPhone 4.jpg"  # EXIF time and GPS: the processing sets decimals and a capture time


def upload(name=GPS_PHOTO, content=None):
    data = content if content is not None else corpus.photo(name).read_bytes()
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def form(item, **extra):
    return {"item": item.pk, "file": upload(), "photographer": "Sgt. K.", "notes": "north side", **extra}


@pytest.mark.django_db(transaction=True)
def test_a_photo_processed_within_the_upload_answers_as_a_read_of_it_does(api, team, eager_tasks):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    client = api(team.ivan)
    response = client.post(URL, form(item), format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "done"
    assert body["gps_latitude"] is not None
    assert body["captured_at_source"] == "exif"
    assert body == client.get(body["url"]).json()


@pytest.mark.django_db(transaction=True)
def test_a_photo_whose_processing_failed_in_the_upload_answers_as_failed(api, team, eager_tasks, monkeypatch):
    from evidence.services import photos

    def disk_full(relative, data):
        raise OSError(28, "No space left on device")

    # The upload cannot keep the derivatives it made; the task, run here at the commit, fails the same way.
    monkeypatch.setattr(photos.filestore, "write_derivative", disk_full)
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    client = api(team.ivan)
    response = client.post(URL, form(item), format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "failed"
    assert body["attempts"] == 1
    assert body == client.get(body["url"]).json()


@pytest.mark.django_db
def test_a_photo_queued_for_a_worker_answers_as_a_read_of_it_does(
    api, team, worker_elsewhere, django_capture_on_commit_callbacks
):
    # The test's transaction holds the commit back, so nothing reaches a broker.
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    client = api(team.ivan)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(URL, form(item, captured_at="2024-03-01T10:15:30.123456+03:00"), format="multipart")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "pending"
        assert body["captured_at_source"] == "stated"
        assert body == client.get(body["url"]).json()


@pytest.mark.django_db
def test_the_upload_reads_the_memberships_once(api, team):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    client = api(team.ivan)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, form(item), format="multipart")
    assert response.status_code == 201, response.content
    # Once for the item field's visibility and add_photo's role check both (it was three queries).
    assert len([q for q in queries if '"cases_casemembership"' in q["sql"]]) == 1


@pytest.mark.django_db
def test_a_role_changed_between_two_uploads_is_honoured(api, team):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    client = api(team.ivan)
    assert client.post(URL, form(item), format="multipart").status_code == 201
    CaseMembership.objects.filter(case=team.case, user=team.ivan).update(role=Role.VIEWER)
    other = upload(content=corpus.photo("Landscape_1.jpg").read_bytes())
    assert_error(client.post(URL, {"item": item.pk, "file": other}, format="multipart"), 403)
    CaseMembership.objects.filter(case=team.case, user=team.ivan).delete()
    assert_error(client.post(URL, {"item": item.pk, "file": other}, format="multipart"), 400, field="item")


@pytest.mark.django_db
class TestIdempotentUpload:
    def test_a_retry_with_the_same_key_and_bytes_replays_the_first_answer(self, api, team):
        item = EvidenceItemFactory(case=team.case, actor=team.ivan)
        client = api(team.ivan)
        first = client.post(URL, form(item), format="multipart", HTTP_IDEMPOTENCY_KEY="photo-1")
        again = client.post(URL, form(item), format="multipart", HTTP_IDEMPOTENCY_KEY="photo-1")
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Photo.objects.count() == 1

    def test_the_same_key_with_other_bytes_is_a_conflict(self, api, team):
        item = EvidenceItemFactory(case=team.case, actor=team.ivan)
        client = api(team.ivan)
        client.post(URL, form(item), format="multipart", HTTP_IDEMPOTENCY_KEY="photo-2")
        data = bytearray(corpus.photo(GPS_PHOTO).read_bytes())
        data[-3] ^= 0xFF  # same name and size, other bytes
        other = {**form(item), "file": upload(content=bytes(data))}
        assert_error(client.post(URL, other, format="multipart", HTTP_IDEMPOTENCY_KEY="photo-2"), 409, "conflict")
        assert Photo.objects.count() == 1

    def test_the_fingerprint_names_the_bytes_hash_as_read_from_the_file(self, api, team):
        item = EvidenceItemFactory(case=team.case, actor=team.ivan)
        api(team.ivan).post(URL, form(item), format="multipart", HTTP_IDEMPOTENCY_KEY="photo-3")
        data = corpus.photo(GPS_PHOTO).read_bytes()
        # The same body as a file read again (no hash handed over) gives the stored fingerprint.
        body = {"item": [str(item.pk)], "photographer": ["Sgt. K."], "notes": ["north side"]}
        query = QueryDict(mutable=True)
        for key, values in body.items():
            query.setlist(key, values)
        query.setlist("file", [SimpleUploadedFile(GPS_PHOTO, data, content_type="image/jpeg")])
        assert not hasattr(query["file"], "sha256")
        assert IdempotencyRecord.objects.get().fingerprint == request_fingerprint("POST", URL, query)


def test_a_hash_handed_over_by_the_upload_handler_is_used_without_reading_the_file():
    class Unreadable(SimpleUploadedFile):
        def chunks(self, chunk_size=None):
            raise AssertionError("the file was read again")

    data = b"\xff\xd8 not read twice"
    handed = Unreadable("a.jpg", data, content_type="image/jpeg")
    handed.sha256 = hashlib.sha256(data).hexdigest()
    read = SimpleUploadedFile("a.jpg", data, content_type="image/jpeg")
    assert fingerprint_json({"file": handed}) == fingerprint_json({"file": read})


@pytest.mark.django_db
def test_the_item_field_reads_the_case_with_the_item(team, django_assert_num_queries):
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    upload_form = PhotoUploadSerializer(context={"request": SimpleNamespace(user=team.ivan)})
    chosen = upload_form.fields["item"].to_internal_value(item.pk)
    with django_assert_num_queries(0):
        assert chosen.case.reference == team.case.reference  # add_photo's role check needs the case
