"""Asking for a dossier through the API, following its progress and downloading it."""

from __future__ import annotations

import hashlib

import pytest

from evidence.models import Export
from tests.api.test_endpoints import assert_error
from tests.factories import EvidenceItemFactory, ExportFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/exports/"


def test_anonymous_and_outsider(api, team):
    assert_error(api().post(URL, {"case": team.case.pk, "kind": "dossier"}), 401)
    assert_error(api(team.charlie).post(URL, {"case": team.case.pk, "kind": "dossier"}), 400, field="case")
    export = ExportFactory(case=team.case)
    assert_error(api(team.charlie).get(f"{URL}{export.pk}/"), 404)
    assert_error(api(team.charlie).get(f"{URL}{export.pk}/download/"), 404)
    assert not Export.objects.exclude(pk=export.pk).exists()


def test_a_viewer_asks_polls_and_downloads_with_the_recorded_hash(
    api, team, eager_tasks, django_capture_on_commit_callbacks
):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    client = api(team.vera)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"case": team.case.pk, "kind": "dossier", "language": "uk"})
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    polled = client.get(response.json()["url"]).json()
    assert (polled["status"], polled["progress"], polled["stage"]) == ("done", 100, "done")
    assert polled["ledger_head"].startswith("1:")  # the head when the build began: the item's creation
    download = client.get(polled["download_url"])
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == polled["sha256"]


def test_a_file_that_is_not_ready_is_a_clear_404(api, team):
    export = ExportFactory(case=team.case)
    response = api(team.vera).get(f"{URL}{export.pk}/download/")
    assert_error(response, 404)
    assert "not ready" in response.json()["error"]["message"]


def test_bad_options_name_their_field(api, team):
    response = api(team.vera).post(URL, {"case": team.case.pk, "kind": "video", "language": "fr"})
    assert_error(response, 400, field="kind")
    assert "language" in response.json()["error"]["fields"]
    assert not Export.objects.exists()


def test_the_case_dossiers_route(api, team, eager_tasks, django_capture_on_commit_callbacks):
    url = f"/api/v1/cases/{team.case.pk}/dossiers/"
    assert_error(api(team.charlie).post(url, {"language": "en"}), 404)
    client = api(team.vera)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"language": "uk", "include_photos": False})
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "dossier"
    assert response["Location"] == response.json()["url"]
    listed = client.get(url).json()
    assert [row["status"] for row in listed] == ["done"]
    assert listed[0]["language"] == "uk"
