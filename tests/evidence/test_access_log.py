"""The access log: every view, download, export, refusal and sign-in, readable by the case's leads."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from cases.models import AccessLog
from evidence.models import EvidenceIsPermanent
from tests.factories import PASSWORD, EvidenceItemFactory, PhotoFactory

pytestmark = pytest.mark.django_db


def last(**filters) -> AccessLog:
    return AccessLog.objects.filter(**filters).latest("pk")


def test_api_views_and_downloads_are_logged_with_case_ip_and_agent(api, team):
    photo = PhotoFactory(item=EvidenceItemFactory(case=team.case))
    client = api(team.vera)
    client.get(f"/api/v1/photos/{photo.pk}/", HTTP_USER_AGENT="analyst-script/1.0", REMOTE_ADDR="10.9.8.7")
    row = last(action="view")
    assert (row.user, row.object_type, row.object_id, row.case) == (team.vera, "photo", str(photo.pk), team.case)
    assert (row.user_agent, row.ip, row.status_code) == ("analyst-script/1.0", "10.9.8.7", 200)
    b"".join(client.get(f"/api/v1/photos/{photo.pk}/original/").streaming_content)
    assert last(action="download").object_id == str(photo.pk)


def test_an_outsider_is_refused_and_the_refusal_names_the_probed_case(api, team):
    item = EvidenceItemFactory(case=team.case)
    api(team.charlie).get(f"/api/v1/evidence-items/{item.pk}/")
    row = last(action="denied")
    assert (row.user, row.status_code, row.object_type, row.case) == (team.charlie, 404, "evidenceitem", team.case)


def test_a_refused_write_is_logged(api, team):
    item = EvidenceItemFactory(case=team.case)
    api(team.vera).patch(f"/api/v1/evidence-items/{item.pk}/", {"title": "x"})
    assert last(action="denied").status_code == 403


def test_lists_and_admin_pages_are_logged(api, client, team):
    item = EvidenceItemFactory(case=team.case)
    api(team.vera).get("/api/v1/evidence-items/", {"case": team.case.pk})
    row = last(action="list")
    assert (row.object_type, row.case) == ("evidenceitem", team.case)
    client.force_login(team.vera)
    client.get(reverse("admin:evidence_evidenceitem_change", args=[item.pk]))
    assert last(action="view").path.startswith("/admin/evidence/evidenceitem/")


def test_sign_ins_and_failed_sign_ins(client, team):
    client.post(reverse("admin:login"), {"username": "vera", "password": "wrong"})
    assert last(action="sign_in_failed").username == "vera"
    client.post(reverse("admin:login"), {"username": "vera", "password": PASSWORD})
    assert last(action="sign_in").user == team.vera


def test_export_requests_are_logged(api, team):
    api(team.vera).post("/api/v1/exports/", {"case": team.case.pk, "kind": "dossier"})
    assert last(action="export").case == team.case


def test_the_log_is_append_only(team):
    AccessLog.objects.create(action="view", case=team.case)
    row = AccessLog.objects.latest("pk")
    with pytest.raises(EvidenceIsPermanent):
        row.save()
    with pytest.raises(EvidenceIsPermanent):
        AccessLog.objects.all().delete()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM evidence_accesslog")


def test_only_leads_read_their_case_log(api, team):
    item = EvidenceItemFactory(case=team.case)
    api(team.vera).get(f"/api/v1/evidence-items/{item.pk}/")
    lead_rows = api(team.alice).get("/api/v1/access-logs/", {"case": team.case.pk}).json()["results"]
    assert any(row["object_id"] == str(item.pk) and row["user"] == "vera" for row in lead_rows)
    assert api(team.vera).get("/api/v1/access-logs/").json()["results"] == []
    assert api(team.charlie).get("/api/v1/access-logs/", {"case": team.case.pk}).json()["results"] == []


def test_the_per_exhibit_report_is_csv_for_leads(api, team):
    item = EvidenceItemFactory(case=team.case)
    photo = PhotoFactory(item=item)
    api(team.vera).get(f"/api/v1/photos/{photo.pk}/")
    api(team.bob).get(f"/api/v1/evidence-items/{item.pk}/")
    response = api(team.alice).get(f"/api/v1/evidence-items/{item.pk}/access-report/")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {(row["user"], row["object"]) for row in rows} >= {("vera", "photo"), ("bob", "evidenceitem")}
    assert api(team.vera).get(f"/api/v1/evidence-items/{item.pk}/access-report/").status_code == 403
