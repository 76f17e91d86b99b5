"""Conventions every endpoint keeps: errors, idempotent POST, ETag/If-Match, throttling, paging."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, Incident
from core.api.throttling import TokenRateThrottle
from core.models import IdempotencyRecord
from tests.api.test_endpoints import NEW_INCIDENT, assert_error
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


class TestIdempotency:
    url = "/api/v1/incidents/"

    def test_a_retry_with_the_same_key_and_body_replays_the_first_response(self, api, team):
        client = api(team.bob)
        body = {**NEW_INCIDENT, "case": team.case.pk}
        first = client.post(self.url, body, HTTP_IDEMPOTENCY_KEY="import-7")
        again = client.post(self.url, body, HTTP_IDEMPOTENCY_KEY="import-7")
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Incident.objects.count() == 1

    def test_the_same_key_with_another_body_is_a_conflict(self, api, team):
        client = api(team.bob)
        client.post(self.url, {**NEW_INCIDENT, "case": team.case.pk}, HTTP_IDEMPOTENCY_KEY="k")
        response = client.post(self.url, {**NEW_INCIDENT, "case": team.case.pk, "killed": 9}, HTTP_IDEMPOTENCY_KEY="k")
        assert_error(response, 409, "conflict")
        assert Incident.objects.count() == 1

    def test_keys_belong_to_their_user(self, api, team):
        body = {**NEW_INCIDENT, "case": team.case.pk}
        api(team.bob).post(self.url, body, HTTP_IDEMPOTENCY_KEY="shared")
        assert api(team.ivan).post(self.url, body, HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
        assert Incident.objects.count() == 2

    def test_a_failed_request_is_not_remembered(self, api, team):
        client = api(team.bob)
        bad = {**NEW_INCIDENT, "case": team.case.pk, "latitude": "95"}
        assert client.post(self.url, bad, HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 400
        assert not IdempotencyRecord.objects.exists()
        good = {**NEW_INCIDENT, "case": team.case.pk}
        assert client.post(self.url, good, HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 201

    def test_a_key_past_its_window_starts_anew(self, api, team, settings):
        settings.ATTEST_IDEMPOTENCY_HOURS = 24
        client = api(team.bob)
        client.post(self.url, {**NEW_INCIDENT, "case": team.case.pk}, HTTP_IDEMPOTENCY_KEY="nightly")
        IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
        again = client.post(
            self.url, {**NEW_INCIDENT, "case": team.case.pk, "killed": 9}, HTTP_IDEMPOTENCY_KEY="nightly"
        )
        assert again.status_code == 201
        assert "Idempotent-Replayed" not in again
        assert Incident.objects.count() == 2
        assert IdempotencyRecord.objects.get().response_body["killed"] == 9

    def test_a_key_within_its_window_still_replays(self, api, team, settings):
        settings.ATTEST_IDEMPOTENCY_HOURS = 24
        client = api(team.bob)
        body = {**NEW_INCIDENT, "case": team.case.pk}
        client.post(self.url, body, HTTP_IDEMPOTENCY_KEY="nightly")
        IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=23))
        assert client.post(self.url, body, HTTP_IDEMPOTENCY_KEY="nightly")["Idempotent-Replayed"] == "true"
        assert Incident.objects.count() == 1

    def test_beat_deletes_the_records_past_their_window_only(self, api, team, settings):
        from config.celery import app
        from core.tasks import expire_idempotency_records

        settings.ATTEST_IDEMPOTENCY_HOURS = 2
        client = api(team.bob)
        for key in ("old", "new"):
            client.post(self.url, {**NEW_INCIDENT, "case": team.case.pk}, HTTP_IDEMPOTENCY_KEY=key)
        IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=3))
        assert expire_idempotency_records.apply().get() == 1
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
        scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        assert "core.tasks.expire_idempotency_records" in scheduled
        assert "core.tasks.expire_idempotency_records" in app.tasks

    def test_without_a_key_each_post_creates(self, api, team):
        client = api(team.bob)
        for _ in range(2):
            client.post(self.url, {**NEW_INCIDENT, "case": team.case.pk})
        assert Incident.objects.count() == 2


class TestConcurrency:
    def test_detail_has_an_etag_and_if_none_match_gives_304(self, api, team):
        client = api(team.vera)
        url = f"/api/v1/cases/{team.case.pk}/"
        etag = client.get(url)["ETag"]
        assert etag.startswith('"')
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    def test_a_stale_if_match_gives_412_and_changes_nothing(self, api, team):
        incident = IncidentFactory(case=team.case, killed=1)
        url = f"/api/v1/incidents/{incident.pk}/"
        analyst, investigator = api(team.bob), api(team.ivan)
        seen_by_bob = analyst.get(url)["ETag"]
        seen_by_ivan = investigator.get(url)["ETag"]
        first = investigator.patch(url, {"killed": 2}, HTTP_IF_MATCH=seen_by_ivan)
        assert first.status_code == 200
        assert first["ETag"] != seen_by_ivan
        assert_error(analyst.patch(url, {"killed": 5}, HTTP_IF_MATCH=seen_by_bob), 412, "precondition_failed")
        assert Incident.objects.get(pk=incident.pk).killed == 2
        fresh = analyst.get(url)["ETag"]
        assert analyst.patch(url, {"killed": 5}, HTTP_IF_MATCH=fresh).status_code == 200


class TestErrorsAndPaging:
    def test_unknown_api_paths_answer_in_the_error_format(self, api, team):
        assert_error(api(team.bob).get("/api/v1/no-such-thing/"), 404, "not_found")
        assert_error(api(team.bob).get("/api/v1/cases/not-a-number/"), 404)

    def test_method_not_allowed_and_unsupported_media(self, api, team):
        assert_error(api(team.bob).put("/api/v1/cases/"), 405, "method_not_allowed")
        response = api(team.bob).post("/api/v1/incidents/", "x", content_type="application/xml")
        assert_error(response, 415, "unsupported_media_type")

    def test_page_size_is_capped(self, api, team):
        for _ in range(3):
            IncidentFactory(case=team.case)
        client = api(team.vera)
        page = client.get("/api/v1/incidents/", {"page_size": 2}).json()
        assert (page["count"], len(page["results"])) == (3, 2)
        assert page["next"]
        from core.api.pagination import PagePagination

        assert PagePagination.max_page_size == 100
        capped = client.get("/api/v1/weapon-systems/", {"page_size": 100000}).json()
        assert len(capped["results"]) <= 100

    def test_throttled_per_token_with_retry_after(self, api, team, monkeypatch):
        monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/min"})
        first_token, second_token = api(team.bob), api(team.bob)
        for _ in range(3):
            assert first_token.get("/api/v1/cases/").status_code == 200
        response = first_token.get("/api/v1/cases/")
        assert_error(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0
        assert second_token.get("/api/v1/cases/").status_code == 200


def test_no_case_is_created_by_a_refused_request(api, team):
    before = Case.objects.count()
    assert_error(api(team.bob).post("/api/v1/cases/", {"title": ""}), 403)
    assert Case.objects.count() == before
