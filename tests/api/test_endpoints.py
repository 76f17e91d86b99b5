"""One class per endpoint: anonymous, no permission (outsider or too low a role), permitted."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import reference_data
from cases.models import Case, CaseMembership, Incident, ReferenceChange, WeaponSystem
from core.models import ApiToken, hash_token
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

NEW_INCIDENT = {
    "kind": "missile_strike",
    "occurred_at": "2024-01-02T05:10:00+02:00",
    "place_name": "Kharkiv",
    "region": "Kharkiv",
    "latitude": "49.993500",
    "longitude": "36.230400",
    "outcome": "impact",
    "killed": 2,
    "wounded": 10,
    "identification_basis": ["debris", "trajectory"],
}


def assert_error(response, status, code=None, field=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    if code:
        assert error["code"] == code
    if field:
        assert field in error["fields"], error
        assert field in error["message"]


class TestCases:
    url = "/api/v1/cases/"

    def test_anonymous_is_refused(self, api, team):
        assert_error(api().get(self.url), 401, "not_authenticated")

    def test_outsider_sees_neither_list_entry_nor_detail(self, api, team):
        client = api(team.charlie)
        references = [row["reference"] for row in client.get(self.url).json()["results"]]
        assert references == [team.other_case.reference]
        assert_error(client.get(f"{self.url}{team.case.pk}/"), 404, "not_found")
        assert_error(client.patch(f"{self.url}{team.case.pk}/", {"title": "x"}), 404)
        assert_error(client.get(f"{self.url}{team.case.pk}/stats/"), 404)

    def test_viewer_reads_but_cannot_change(self, api, team):
        client = api(team.vera)
        response = client.get(f"{self.url}{team.case.pk}/")
        assert response.status_code == 200
        assert response.json()["my_role"] == "viewer"
        assert_error(client.patch(f"{self.url}{team.case.pk}/", {"status": "referred"}), 403, "permission_denied")

    def test_lead_changes_status(self, api, team):
        response = api(team.alice).patch(f"{self.url}{team.case.pk}/", {"status": "referred"})
        assert response.status_code == 200, response.json()
        assert Case.objects.get(pk=team.case.pk).status == "referred"

    def test_reference_cannot_be_changed(self, api, team):
        # Refused by name, not ignored: the client learns its change did not happen.
        response = api(team.alice).patch(f"{self.url}{team.case.pk}/", {"reference": "PGO-1999-9999"})
        assert_error(response, 400, field="reference")
        assert Case.objects.get(pk=team.case.pk).reference == "PGO-2024-0001"
        same = api(team.alice).patch(f"{self.url}{team.case.pk}/", {"reference": "PGO-2024-0001", "title": "T"})
        assert same.status_code == 200

    def test_opening_needs_permission_and_generates_a_reference(self, api, team):
        assert_error(api(team.bob).post(self.url, {"title": "Rockets"}), 403)
        team.bob.user_permissions.add(Permission.objects.get(codename="add_case"))
        response = api(team.bob).post(self.url, {"title": "Rockets", "opened_on": "2024-02-01"})
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["reference"] == "PGO-2024-0003"
        assert body["my_role"] == "lead"

    def test_superuser_sees_every_case(self, api, team):
        assert api(team.root).get(self.url).json()["count"] == 2

    def test_filters_search_and_ordering(self, api, team):
        IncidentFactory(case=team.case, region="Poltava")
        client = api(team.root)
        assert client.get(self.url, {"region": "poltava"}).json()["count"] == 1
        assert client.get(self.url, {"status": "closed"}).json()["count"] == 0
        assert client.get(self.url, {"q": "0002"}).json()["results"][0]["reference"] == "PGO-2024-0002"
        ordered = client.get(self.url, {"ordering": "reference"}).json()["results"]
        assert [row["reference"] for row in ordered] == ["PGO-2024-0001", "PGO-2024-0002"]
        assert_error(client.get(self.url, {"status": "nonsense"}), 400, field="status")

    def test_statistics(self, api, team):
        IncidentFactory(case=team.case, killed=3, wounded=4)
        IncidentFactory(case=team.case, kind="failure_in_flight", outcome="failed_in_flight", killed=0, wounded=0)
        stats = api(team.vera).get(f"{self.url}{team.case.pk}/stats/").json()
        assert (stats["launches"], stats["killed"], stats["wounded"]) == (2, 3, 4)
        assert stats["failed_in_flight_share"] == 0.5


class TestIncidents:
    url = "/api/v1/incidents/"

    def test_anonymous_is_refused(self, api, team):
        assert_error(api().get(self.url), 401)

    def test_outsider_cannot_read_or_add(self, api, team):
        incident = IncidentFactory(case=team.case)
        client = api(team.charlie)
        assert client.get(self.url).json()["count"] == 0
        assert_error(client.get(f"{self.url}{incident.pk}/"), 404)
        # The case is not even acknowledged to exist.
        assert_error(client.post(self.url, {**NEW_INCIDENT, "case": team.case.pk}), 400, field="case")
        assert Incident.objects.count() == 1

    def test_viewer_cannot_add(self, api, team):
        assert_error(api(team.vera).post(self.url, {**NEW_INCIDENT, "case": team.case.pk}), 403)
        assert not Incident.objects.exists()

    def test_analyst_adds_and_corrects(self, api, team):
        client = api(team.bob)
        response = client.post(self.url, {**NEW_INCIDENT, "case": team.case.pk})
        assert response.status_code == 201, response.json()
        created = response.json()
        assert created["identification_basis"] == ["debris", "trajectory"]
        moved = client.patch(f"{self.url}{created['id']}/", {"killed": 3, "case": team.other_case.pk})
        assert_error(moved, 400, field="case")  # the case of an incident stays, and the client is told
        response = client.patch(f"{self.url}{created['id']}/", {"killed": 3, "case": team.case.pk})
        assert response.status_code == 200
        incident = Incident.objects.get()
        assert (incident.killed, incident.case) == (3, team.case)

    def test_bad_values_name_their_fields_and_store_nothing(self, api, team):
        client = api(team.bob)
        bad = {**NEW_INCIDENT, "case": team.case.pk, "latitude": "91", "identification_basis": ["hunch"]}
        assert_error(client.post(self.url, bad), 400, "invalid", field="latitude")
        assert "identification_basis" in client.post(self.url, bad).json()["error"]["fields"]
        assert_error(client.post(self.url, {**NEW_INCIDENT, "case": team.case.pk, "kind": "?"}), 400, field="kind")
        assert not Incident.objects.exists()

    def test_no_delete(self, api, team):
        incident = IncidentFactory(case=team.case)
        assert_error(api(team.alice).delete(f"{self.url}{incident.pk}/"), 405)
        assert Incident.objects.filter(pk=incident.pk).exists()

    def test_filters(self, api, team):
        IncidentFactory(case=team.case, place_name="Kyiv", region="Kyiv", kind="missile_strike")
        IncidentFactory(case=team.case, place_name="Kharkiv", region="Kharkiv", kind="failure_in_flight")
        client = api(team.vera)
        assert client.get(self.url, {"region": "kyiv"}).json()["count"] == 1
        assert client.get(self.url, {"kind": "failure_in_flight"}).json()["count"] == 1
        assert (
            client.get(self.url, {"case": team.case.pk, "occurred_after": "2023-12-31T00:00:00Z"}).json()["count"] == 2
        )
        assert client.get(self.url, {"q": "kharkiv"}).json()["count"] == 1


class TestCaseMemberships:
    url = "/api/v1/case-memberships/"

    def test_anonymous_is_refused(self, api, team):
        assert_error(api().get(self.url), 401)

    def test_outsider_sees_no_member_of_the_case(self, api, team):
        rows = api(team.charlie).get(self.url, {"case": team.case.pk}).json()
        assert rows["count"] == 0

    def test_analyst_cannot_add_members(self, api, team):
        payload = {"case": team.case.pk, "user": "charlie", "role": "viewer"}
        assert_error(api(team.bob).post(self.url, payload), 403)

    def test_lead_adds_changes_and_removes(self, api, team):
        client = api(team.alice)
        response = client.post(self.url, {"case": team.case.pk, "user": "charlie", "role": "viewer"})
        assert response.status_code == 201, response.json()
        membership = response.json()["id"]
        assert client.patch(f"{self.url}{membership}/", {"role": "analyst"}).json()["role"] == "analyst"
        assert client.delete(f"{self.url}{membership}/").status_code == 204
        assert team.case.role_of(team.charlie) is None

    def test_last_lead_cannot_leave(self, api, team):
        lead = CaseMembership.objects.get(case=team.case, user=team.alice)
        assert_error(api(team.alice).delete(f"{self.url}{lead.pk}/"), 400, field="role")


@pytest.mark.parametrize("url", ["/api/v1/weapon-systems/", "/api/v1/sanctions-provisions/", "/api/v1/entities/"])
class TestReferenceData:
    def test_anonymous_is_refused(self, api, team, url):
        assert_error(api().get(url), 401)

    def test_any_user_reads(self, api, team, url):
        assert api(team.charlie).get(url).status_code == 200

    def test_only_reference_data_editors_write_and_nobody_deletes(self, api, team, url):
        team.vera.is_staff = False
        team.vera.save()
        assert_error(api(team.vera).post(url, {}), 403)
        assert_error(api(team.alice).post(url, {}), 403)  # staff and a case lead, but not an editor
        first = api(team.root).get(url).json()["results"]
        if first:
            assert_error(api(team.root).delete(f"{url}{first[0]['id']}/"), 405)


class TestWeaponSystems:
    url = "/api/v1/weapon-systems/"

    def test_seeded_with_aliases_and_searchable(self, api, team):
        found = api(team.vera).get(self.url, {"q": "KN-23"}).json()["results"]
        assert [row["name"] for row in found] == ["Hwasong-11"]

    def test_reference_data_editors_edit(self, api, team):
        weapon = WeaponSystem.objects.get(name="Hwasong-11")
        assert_error(api(team.alice).patch(f"{self.url}{weapon.pk}/", {"notes": "Also seen in 2024."}), 403)
        team.alice.groups.add(reference_data.editors_group())
        response = api(team.alice).patch(f"{self.url}{weapon.pk}/", {"notes": "Also seen in 2024."})
        assert response.status_code == 200
        assert ReferenceChange.objects.get(object_id=weapon.pk).changed == ["notes"]


class TestTokens:
    url = "/api/v1/tokens/"

    def test_anonymous_is_refused(self, api, team):
        assert_error(api().get(self.url), 401)

    def test_created_shown_once_stored_hashed_and_usable(self, api, team):
        response = api(team.bob).post(self.url, {"name": "ingest script"})
        assert response.status_code == 201
        raw = response.json()["token"]
        stored = ApiToken.objects.get(pk=response.json()["id"])
        assert stored.key_hash == hash_token(raw)
        assert raw not in str(ApiToken.objects.filter(pk=stored.pk).values().get())
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        listed = client.get(self.url).json()["results"]
        assert all("token" not in row for row in listed)
        assert {row["name"] for row in listed} == {"test", "ingest script"}
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert client.get("/api/v1/cases/").status_code == 200

    def test_revoked_and_expired_tokens_are_refused(self, api, team):
        client = api(team.bob)
        raw = client.post(self.url, {"name": "short-lived"}).json()["token"]
        token = ApiToken.objects.get(key_hash=hash_token(raw))
        assert client.delete(f"{self.url}{token.pk}/").status_code == 204
        token.refresh_from_db()
        assert token.revoked_at is not None  # kept, for the record
        other = api()
        other.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        assert_error(other.get("/api/v1/cases/"), 401, "authentication_failed")
        ApiToken.objects.filter(user=team.bob).update(revoked_at=None, expires_at=timezone.now() - timedelta(1))
        assert_error(other.get("/api/v1/cases/"), 401)

    def test_a_read_with_a_token_reads_token_user_and_case_ids_in_one_query(self, api, team):
        raw = api(team.bob).post(self.url, {"name": "one query"}).json()["token"]
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/incidents/").status_code == 200
        sql = [query["sql"] for query in queries.captured_queries]
        lookups = [text for text in sql if '"cases_apitoken"' in text and text.lstrip().startswith("SELECT")]
        assert len(lookups) == 1, sql
        assert '"auth_user"' in lookups[0]
        assert '"cases_casemembership"' in lookups[0]
        # The case ids came with the token: visibility reads no membership on its own.
        assert not [text for text in sql if text not in lookups and 'FROM "cases_casemembership"' in text]

    def test_a_write_with_a_token_does_not_read_case_ids_with_it(self, api, team):
        raw = api(team.bob).post(self.url, {"name": "write"}).json()["token"]
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        with CaptureQueriesContext(connection) as queries:
            client.post(self.url, {"name": "another"})
        lookups = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].lstrip().startswith("SELECT") and '"cases_apitoken"' in q["sql"]
        ]
        assert lookups
        assert '"cases_casemembership"' not in lookups[0]

    def test_a_token_revoked_meanwhile_is_refused_at_once(self, api, team):
        raw = api(team.bob).post(self.url, {"name": "revoked"}).json()["token"]
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        assert client.get("/api/v1/cases/").status_code == 200
        ApiToken.objects.filter(key_hash=hash_token(raw)).update(revoked_at=timezone.now())
        assert_error(client.get("/api/v1/cases/"), 401, "authentication_failed")

    def test_others_tokens_are_invisible(self, api, team):
        token = ApiToken.objects.create(
            user=team.alice,
            name="x",
            prefix="att_x",
            key_hash="0" * 64,
            expires_at=timezone.now() + timedelta(1),
        )
        assert_error(api(team.charlie).delete(f"{self.url}{token.pk}/"), 404)

    def test_expiry_must_lie_ahead(self, api, team):
        response = api(team.bob).post(self.url, {"name": "old", "expires_at": "2020-01-01T00:00:00Z"})
        assert_error(response, 400, field="expires_at")

    def test_session_authentication_serves_the_browsable_api(self, client, team):
        client.force_login(team.bob)
        response = client.get("/api/v1/cases/", HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert b"PGO-2024-0001" in response.content
