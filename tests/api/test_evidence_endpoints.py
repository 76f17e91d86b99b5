"""Evidence items, the custody ledger and verification through the API: one class per endpoint."""

import pytest

from evidence import custody
from evidence.models import CustodyEvent, EvidenceItem
from tests.api.test_endpoints import assert_error
from tests.factories import EvidenceItemFactory, IncidentFactory

pytestmark = pytest.mark.django_db


class TestEvidenceItems:
    url = "/api/v1/evidence-items/"

    def new_item(self, team, **extra):
        return {"case": team.case.pk, "kind": "physical_debris", "title": "Nozzle fragment", **extra}

    def test_anonymous_is_refused(self, api, team):
        assert_error(api().get(self.url), 401)

    def test_outsider_sees_nothing_and_cannot_add(self, api, team):
        item = EvidenceItemFactory(case=team.case)
        client = api(team.charlie)
        assert client.get(self.url).json()["results"] == []
        assert_error(client.get(f"{self.url}{item.pk}/"), 404)
        assert_error(client.post(self.url, self.new_item(team)), 400, field="case")
        assert EvidenceItem.objects.count() == 1

    @pytest.mark.parametrize("persona", ["vera", "bob"])
    def test_viewers_and_analysts_read_but_do_not_record_evidence(self, api, team, persona):
        item = EvidenceItemFactory(case=team.case)
        client = api(getattr(team, persona))
        assert client.get(f"{self.url}{item.pk}/").json()["exhibit_number"] == "EX-0001"
        assert_error(client.post(self.url, self.new_item(team)), 403)
        assert_error(client.patch(f"{self.url}{item.pk}/", {"title": "x"}), 403)
        assert CustodyEvent.objects.count() == 1

    def test_investigator_records_and_updates_with_custody_events(self, api, team):
        incident = IncidentFactory(case=team.case)
        client = api(team.ivan)
        response = client.post(self.url, self.new_item(team, incident=incident.pk, custodian="Police"))
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["exhibit_number"], body["status"], body["custodian"]) == (
            "EX-0001",
            "in_custody",
            "Police",
        )
        etag = client.get(f"{self.url}{body['id']}/")["ETag"]
        response = client.patch(f"{self.url}{body['id']}/", {"condition": "bent"}, HTTP_IF_MATCH=etag)
        assert response.status_code == 200, response.content
        types = list(CustodyEvent.objects.order_by("sequence").values_list("event_type", flat=True))
        assert types == ["item.created", "item.updated"]

    def test_custodian_changes_only_by_transfer(self, api, team):
        item = EvidenceItemFactory(case=team.case, custodian="Police")
        api(team.ivan).patch(f"{self.url}{item.pk}/", {"custodian": "Someone else"})
        item.refresh_from_db()
        assert item.custodian == "Police"

    def test_bad_values_name_their_fields_and_store_nothing(self, api, team):
        response = api(team.ivan).post(self.url, self.new_item(team, kind="rock", recovery_latitude="123"))
        assert_error(response, 400, "invalid", field="kind")
        assert "recovery_latitude" in response.json()["error"]["fields"]
        assert not EvidenceItem.objects.exists()
        assert not CustodyEvent.objects.exists()

    def test_an_incident_of_another_case_is_refused(self, api, team):
        foreign = IncidentFactory(case=team.other_case)
        response = api(team.ivan).post(self.url, self.new_item(team, incident=foreign.pk))
        assert_error(response, 400, field="incident")

    def test_no_delete(self, api, team):
        item = EvidenceItemFactory(case=team.case)
        assert api(team.alice).delete(f"{self.url}{item.pk}/").status_code == 405
        assert EvidenceItem.objects.filter(pk=item.pk).exists()

    def test_filters(self, api, team):
        EvidenceItemFactory(case=team.case, kind="component", title="Gyroscope")
        EvidenceItemFactory(case=team.case, title="Casing")
        client = api(team.vera)
        kinds = [row["kind"] for row in client.get(self.url, {"kind": "component"}).json()["results"]]
        assert kinds == ["component"]
        assert [row["title"] for row in client.get(self.url, {"q": "gyro"}).json()["results"]] == ["Gyroscope"]


class TestCustodyEvents:
    url = "/api/v1/custody-events/"

    def transfer(self, item, **extra):
        return {
            "item": item.pk,
            "to_custodian": "Kyiv laboratory",
            "occurred_at": "2024-01-05T10:00:00Z",
            **extra,
        }

    def test_anonymous_is_refused(self, api, team):
        assert_error(api().get(self.url), 401)

    def test_outsider_sees_no_event_and_cannot_transfer(self, api, team):
        item = EvidenceItemFactory(case=team.case)
        client = api(team.charlie)
        assert client.get(self.url).json()["results"] == []
        event = CustodyEvent.objects.get()
        assert_error(client.get(f"{self.url}{event.pk}/"), 404)
        assert_error(client.post(self.url, self.transfer(item)), 400, field="item")

    def test_read_only_apart_from_transfers(self, api, team):
        EvidenceItemFactory(case=team.case)
        event = CustodyEvent.objects.get()
        client = api(team.alice)
        assert client.patch(f"{self.url}{event.pk}/", {"payload": {}}).status_code == 405
        assert client.delete(f"{self.url}{event.pk}/").status_code == 405

    def test_a_viewer_cannot_transfer(self, api, team):
        item = EvidenceItemFactory(case=team.case)
        assert_error(api(team.vera).post(self.url, self.transfer(item)), 403)

    def test_an_investigator_records_a_transfer(self, api, team):
        item = EvidenceItemFactory(case=team.case, custodian="Police")
        response = api(team.ivan).post(self.url, self.transfer(item, seal_intact=False, purpose="analysis"))
        assert response.status_code == 201, response.content
        event = response.json()
        assert (event["sequence"], event["event_type"], event["subject_label"]) == (
            2,
            "custody.transfer",
            "EX-0001",
        )
        assert event["payload"]["transfer"]["from"] == "Police"
        assert event["payload"]["transfer"]["seal_intact"] is False
        item.refresh_from_db()
        assert (item.custodian, item.status) == ("Kyiv laboratory", "transferred")

    def test_a_transfer_needs_a_recipient(self, api, team):
        item = EvidenceItemFactory(case=team.case)
        assert_error(api(team.ivan).post(self.url, self.transfer(item, to_custodian="  ")), 400, field="to_custodian")
        assert CustodyEvent.objects.count() == 1

    def test_filtered_by_case_and_item_in_sequence_with_cursor_pages(self, api, team):
        first = EvidenceItemFactory(case=team.case)
        second = EvidenceItemFactory(case=team.case)
        for _ in range(3):
            api(team.ivan).post(self.url, self.transfer(first))
        EvidenceItemFactory(case=team.other_case)
        client = api(team.root)
        page = client.get(self.url, {"case": team.case.pk, "page_size": 2}).json()
        assert [row["sequence"] for row in page["results"]] == [1, 2]
        page = client.get(page["next"]).json()
        assert [row["sequence"] for row in page["results"]] == [3, 4]
        about_first = client.get(self.url, {"item": first.pk}).json()["results"]
        assert {row["subject_id"] for row in about_first} == {first.pk}
        assert len(about_first) == 4
        assert second.pk not in {row["subject_id"] for row in about_first}


class TestVerify:
    def url(self, case):
        return f"/api/v1/cases/{case.pk}/verify/"

    def test_anonymous_and_outsider(self, api, team):
        assert_error(api().post(self.url(team.case)), 401)
        assert_error(api(team.charlie).post(self.url(team.case)), 404)

    def test_viewers_and_analysts_may_not_set_it_off(self, api, team):
        for member in (team.vera, team.bob):
            assert_error(api(member).post(self.url(team.case)), 403, "permission_denied")
        assert not CustodyEvent.objects.filter(event_type="fixity.checked").exists()

    def test_it_is_rate_limited_per_user(self, api, team, monkeypatch):
        from core.api.throttling import FixityCheckThrottle

        monkeypatch.setitem(FixityCheckThrottle.THROTTLE_RATES, "fixity_check", "2/hour")
        ivan, alice = api(team.ivan), api(team.alice)
        assert [ivan.post(self.url(team.case)).status_code for _ in range(2)] == [200, 200]
        refused = ivan.post(self.url(team.case))
        assert_error(refused, 429, "throttled")
        assert int(refused["Retry-After"]) > 0
        assert alice.post(self.url(team.case)).status_code == 200  # another user's budget
        assert CustodyEvent.objects.filter(event_type="fixity.checked").count() == 3

    def test_a_member_gets_the_report_and_the_check_is_recorded(self, api, team):
        EvidenceItemFactory(case=team.case)
        custody.sign_checkpoint(case=team.case, reason="test")
        response = api(team.ivan).post(self.url(team.case))
        assert response.status_code == 200, response.content
        report = response.json()
        assert report["intact"] is True
        assert (report["size"], report["checkpoints_checked"], report["problems"]) == (1, 1, [])
        fixity = CustodyEvent.objects.order_by("sequence").last()
        assert fixity.event_type == "fixity.checked"
        assert fixity.payload_data["intact"] is True
