"""Photo upload, polling and permission-checked downloads through the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence import filestore
from evidence.models import Photo, StoredFile
from tests import corpus
from tests.api.test_endpoints import assert_error
from tests.factories import EvidenceItemFactory, PhotoFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/photos/"


def upload(name="Landscape_1.jpg", content=None, filename=None):
    data = content if content is not None else corpus.photo(name).read_bytes()
    return SimpleUploadedFile(filename or name, data, content_type="image/jpeg")


@pytest.fixture
def item(team):
    return EvidenceItemFactory(case=team.case, actor=team.ivan)


class TestUpload:
    def test_anonymous_is_refused(self, api, item):
        assert_error(api().post(URL, {"item": item.pk, "file": upload()}, format="multipart"), 401)

    def test_an_outsider_cannot_name_the_item(self, api, team, item):
        response = api(team.charlie).post(URL, {"item": item.pk, "file": upload()}, format="multipart")
        assert_error(response, 400, field="item")
        assert not StoredFile.objects.exists()

    def test_a_viewer_may_not_upload(self, api, team, item):
        response = api(team.vera).post(URL, {"item": item.pk, "file": upload()}, format="multipart")
        assert_error(response, 403)
        assert not Photo.objects.exists()

    def test_an_investigator_uploads_gets_the_hash_and_a_url_to_poll(
        self, api, team, item, eager_tasks, django_capture_on_commit_callbacks
    ):
        client = api(team.ivan)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                URL, {"item": item.pk, "file": upload(), "photographer": "Sgt. K."}, format="multipart"
            )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["sha256"] == corpus.manifest_entry("Landscape_1.jpg")["sha256"]
        assert body["status"] == "done"  # tasks run in this process: processed within the upload
        assert response["Location"] == body["url"]
        polled = client.get(body["url"]).json()
        assert polled["status"] == "done"
        assert polled["thumbnail_url"].endswith(f"/photos/{body['id']}/thumbnail/")

    def test_the_same_bytes_again_answer_with_the_first_photo(self, api, team, item):
        client = api(team.ivan)
        first = client.post(URL, {"item": item.pk, "file": upload()}, format="multipart").json()
        again = client.post(URL, {"item": item.pk, "file": upload(filename="copy.jpg")}, format="multipart")
        assert again.status_code == 200
        assert again["Duplicate-Of"] == str(first["id"])
        assert Photo.objects.count() == 1

    @pytest.mark.parametrize(
        ("content", "filename"),
        [
            (b"<html><body>not a photo</body></html>", "debris.jpg"),
            (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "debris.png"),
            (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3", "report.jpg"),
            (b"", "empty.jpg"),
        ],
    )
    def test_refusals_name_the_file_field_and_leave_nothing(self, api, team, item, media_root, content, filename):
        # The media root is shared by the session (and by a real worker), so compare with what was there before.
        incoming = media_root / "incoming"
        before = set(incoming.iterdir()) if incoming.exists() else set()
        response = api(team.ivan).post(
            URL, {"item": item.pk, "file": upload(content=content, filename=filename)}, format="multipart"
        )
        assert_error(response, 400, field="file")
        assert not Photo.objects.exists()
        assert not StoredFile.objects.exists()
        after = set(incoming.iterdir()) if incoming.exists() else set()
        assert after <= before

    def test_a_truncated_corpus_jpeg_is_refused(self, api, team, item):
        response = api(team.ivan).post(URL, {"item": item.pk, "file": upload("truncated_jpeg.jpg")}, format="multipart")
        assert_error(response, 400, field="file")
        assert "truncated" in response.json()["error"]["message"].lower()

    @pytest.mark.parametrize(
        "content",
        [
            pytest.param(b"\xff\xd8\xff\xe0" + b"\0" * 200, id="jpeg-magic-then-zeros"),
            pytest.param(b"\xff\xd8\xff\xdb\x00\x43" + b"not a picture " * 20, id="jpeg-magic-then-text"),
        ],
    )
    def test_a_damaged_jpeg_is_refused_without_server_details(self, api, team, item, media_root, content):
        # Pillow's own words named the upload's temporary file, or were a bare KeyError 'MPO'.
        response = api(team.ivan).post(
            URL, {"item": item.pk, "file": upload(content=content, filename="debris.jpg")}, format="multipart"
        )
        assert_error(response, 400, field="file")
        body = response.content.decode()
        for leak in ("MPO", "BufferedReader", "incoming", ".upload", str(media_root), "cannot identify"):
            assert leak not in body

    def test_files_over_the_limit_are_refused_as_they_stream(self, api, team, item, settings):
        settings.ATTEST_MAX_UPLOAD_BYTES = 10_000
        response = api(team.ivan).post(URL, {"item": item.pk, "file": upload()}, format="multipart")
        assert_error(response, 400, field="file")
        assert "larger than the limit" in response.json()["error"]["message"]
        assert not StoredFile.objects.exists()

    def test_a_file_name_is_never_a_path(self, api, team, item, media_root):
        response = api(team.ivan).post(
            URL, {"item": item.pk, "file": upload(filename="../../etc/passwd.jpg")}, format="multipart"
        )
        assert response.status_code == 201, response.content
        assert Photo.objects.get().original_name == "passwd.jpg"
        assert not (media_root.parent / "etc").exists()


class TestDownloads:
    @pytest.fixture
    def photo(self, team, eager_tasks, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            photo = PhotoFactory(item=EvidenceItemFactory(case=team.case))
        photo.refresh_from_db()
        return photo

    @pytest.mark.parametrize("kind", ["original", "preview", "thumbnail"])
    def test_members_download_with_safe_headers(self, api, team, photo, kind):
        response = api(team.vera).get(f"{URL}{photo.pk}/{kind}/")
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        body = b"".join(response.streaming_content)
        if kind == "original":
            assert body == filestore.absolute(photo.original.path).read_bytes()

    def test_the_download_name_is_one_harmless_component_whatever_the_file_arrived_as(self, api, team, photo):
        Photo.objects.filter(pk=photo.pk).update(original_name='..\\..\\x\u202egpj.exe"; y=..jpg')
        header = api(team.vera).get(f"{URL}{photo.pk}/original/")["Content-Disposition"]
        assert (
            header
            == f'attachment; filename="{photo.item.exhibit_number}-{photo.original.sha256[:12]}-._._x_gpj.exe_; y=.jpg"'
        )

    @pytest.mark.parametrize("kind", ["original", "preview", "thumbnail", "exif", "near-duplicates"])
    def test_an_outsider_gets_404(self, api, team, photo, kind):
        assert_error(api(team.charlie).get(f"{URL}{photo.pk}/{kind}/"), 404)

    def test_production_hands_the_transfer_to_nginx(self, api, team, photo, settings):
        settings.ATTEST_X_ACCEL_REDIRECT_PREFIX = "/protected/"
        response = api(team.vera).get(f"{URL}{photo.pk}/original/")
        assert response["X-Accel-Redirect"] == f"/protected/{photo.original.path}"
        assert response.content == b""

    def test_the_media_folder_is_not_served(self, client, team, photo):
        client.force_login(team.root)
        assert client.get(f"/media/{photo.original.path}").status_code == 404
        assert client.get(f"/{photo.original.path}").status_code == 404
