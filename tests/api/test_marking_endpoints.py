"""Markings, sources, attributions and the sanctions report through the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence.models import CustodyEvent, Marking, Source
from tests.api.test_endpoints import assert_error
from tests.factories import (
    AttributionFactory,
    EvidenceItemFactory,
    IncidentFactory,
    ManufacturerFactory,
    MarkingFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def component(team):
    return EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component")


class TestMarkings:
    url = "/api/v1/markings/"

    def new(self, item, **extra):
        return {"item": item.pk, "transcription": "AD7541AKN 2312", "marking_type": "part_number",
                "confidence": "probable", **extra}  # fmt: skip

    def test_anonymous_and_outsider(self, api, team, component):
        assert_error(api().get(self.url), 401)
        marking = MarkingFactory(item=component)
        client = api(team.charlie)
        assert client.get(self.url).json()["results"] == []
        assert_error(client.get(f"{self.url}{marking.pk}/"), 404)
        assert_error(client.post(self.url, self.new(component)), 400, field="item")

    def test_a_viewer_reads_but_cannot_record(self, api, team, component):
        assert_error(api(team.vera).post(self.url, self.new(component)), 403)
        assert not Marking.objects.exists()

    def test_record_correct_verify_and_withdraw(self, api, team, component):
        bob, alice = api(team.bob), api(team.alice)
        created = bob.post(self.url, self.new(component, transcription="주체112", marking_type="date_code"))
        assert created.status_code == 201, created.content
        marking = created.json()
        assert marking["transcribed_by"] == "bob"
        assert marking["date_readings"][0]["start"] == "2023-01-01"
        assert_error(bob.post(f"{self.url}{marking['id']}/verify/"), 403)
        verified = alice.post(f"{self.url}{marking['id']}/verify/")
        assert verified.json()["verified_by"] == "alice"
        corrected = bob.patch(f"{self.url}{marking['id']}/", {"transcription": "주체113", "reason": "re-read"})
        assert corrected.status_code == 200, corrected.content
        assert corrected.json()["verified_by"] is None
        assert_error(bob.post(f"{self.url}{marking['id']}/withdraw/", {}), 400, field="reason")
        withdrawn = bob.post(f"{self.url}{marking['id']}/withdraw/", {"reason": "duplicate"})
        assert withdrawn.json()["withdrawal_reason"] == "duplicate"
        kinds = list(CustodyEvent.objects.filter(subject_type="marking").values_list("event_type", flat=True))
        assert kinds == ["marking.recorded", "marking.verified", "marking.corrected", "marking.withdrawn"]

    def test_a_region_needs_a_photo_and_must_fit_it(self, api, team, component):
        from tests.factories import PhotoFactory

        photo = PhotoFactory(item=component, width=200, height=100)
        bob = api(team.bob)
        assert_error(bob.post(self.url, self.new(component, region={"x": 0, "y": 0, "width": 5, "height": 5})),
                     400, field="region")  # fmt: skip
        too_big = self.new(component, photo=photo.pk, region={"x": 150, "y": 0, "width": 100, "height": 5})
        assert_error(bob.post(self.url, too_big), 400, field="region")
        fits = self.new(component, photo=photo.pk, region={"x": 150, "y": 10, "width": 50, "height": 20})
        response = bob.post(self.url, fits)
        assert response.status_code == 201, response.content
        assert response.json()["region"] == {"x": 150, "y": 10, "width": 50, "height": 20}

    def test_filters_by_type_manufacturer_and_country(self, api, team, component):
        maker = ManufacturerFactory(name="Analog Devices", country="United States")
        MarkingFactory(item=component, manufacturer=maker, marking_type="manufacturer", transcription="ANALOG")
        MarkingFactory(item=component, marking_type="lot", transcription="LOT 7")
        client = api(team.vera)
        assert [m["transcription"] for m in client.get(self.url, {"marking_type": "lot"}).json()["results"]] == [
            "LOT 7"
        ]
        by_country = client.get(self.url, {"country": "united states"}).json()["results"]
        assert [m["transcription"] for m in by_country] == ["ANALOG"]
        assert len(client.get(self.url, {"manufacturer": maker.pk}).json()["results"]) == 1


class TestSourcesAndAttributions:
    def test_a_source_with_an_archived_copy_by_multipart(self, api, team):
        upload = SimpleUploadedFile("S-2024-215.pdf", b"%PDF-1.7 panel report", content_type="application/pdf")
        response = api(team.bob).post(
            "/api/v1/sources/",
            {"case": team.case.pk, "kind": "un_report", "title": "Panel of Experts report", "reliability": "B",
             "archive": upload},
            format="multipart",
        )  # fmt: skip
        assert response.status_code == 201, response.content
        body = response.json()
        assert len(body["archived_sha256"]) == 64
        download = api(team.vera).get(f"/api/v1/sources/{body['id']}/archive/")
        assert b"".join(download.streaming_content) == b"%PDF-1.7 panel report"
        assert download["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert_error(api(team.charlie).get(f"/api/v1/sources/{body['id']}/archive/"), 404)

    def test_bad_reliability_names_the_field_and_stores_nothing(self, api, team):
        response = api(team.bob).post("/api/v1/sources/", {"case": team.case.pk, "kind": "un_report", "title": "x",
                                                           "reliability": "Z"})  # fmt: skip
        assert_error(response, 400, field="reliability")
        assert not Source.objects.exists()

    def test_attributions_are_graded_and_subjects_flag_contradictions(self, api, team, component):
        source = SourceFactory(case=team.case, reliability="B", actor=team.bob)
        response = api(team.bob).post(
            "/api/v1/attributions/",
            {"case": team.case.pk, "claim": "A Hwasong-11 component", "subject_type": "evidence_item",
             "item": component.pk, "source": source.pk, "credibility": 2, "page": "33", "paragraph": "81"},
        )  # fmt: skip
        assert response.status_code == 201, response.content
        assert response.json()["grade"] == "B2"
        against = SourceFactory(case=team.case, reliability="D", actor=team.bob)
        AttributionFactory(case=team.case, source=against, subject_type="evidence_item", subject=component,
                           stance="contradicts", credibility=4, actor=team.bob)  # fmt: skip
        summary = api(team.vera).get(f"/api/v1/evidence-items/{component.pk}/attributions/").json()
        assert summary["contradicted"] is True
        assert [row["grade"] for row in summary["attributions"]] == ["B2", "D4"]

    def test_attributions_are_withdrawn_not_edited(self, api, team):
        attribution = AttributionFactory(case=team.case, actor=team.bob)
        client = api(team.bob)
        assert client.patch(f"/api/v1/attributions/{attribution.pk}/", {"claim": "x"}).status_code == 405
        assert client.delete(f"/api/v1/attributions/{attribution.pk}/").status_code == 405
        response = client.post(f"/api/v1/attributions/{attribution.pk}/withdraw/", {"reason": "superseded"})
        assert response.json()["withdrawn_at"] is not None


class TestSanctionsReport:
    def test_report_json_and_csv_with_a_date(self, api, team):
        import datetime as dt

        maker = ManufacturerFactory(name="Texas Instruments", country="United States")
        EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", manufacturer=maker,
                            country_of_origin="United States", manufactured_on=dt.date(2023, 5, 1),
                            manufactured_precision="month", part_number="TPS7A")  # fmt: skip
        client = api(team.vera)
        url = f"/api/v1/sanctions-reports/{team.case.pk}/"
        report = client.get(url, {"after": "2022-12-22"}).json()
        assert report["by_country"][0] == {"key": "United States", "count": 1, "latest_manufacture": "2023-05-01",
                                           "made_after": 1, "exhibits": ["EX-0001"]}  # fmt: skip
        csv_response = client.get(url, {"after": "2022-12-22", "export": "csv"})
        assert csv_response["Content-Type"].startswith("text/csv")
        assert b"TPS7A" in csv_response.content
        assert_error(client.get(url, {"after": "yesterday"}), 400, field="after")
        assert_error(api(team.charlie).get(url), 404)

    @pytest.mark.parametrize(("name", "value"), [("after", ""), ("export", ""), ("export", "xlsx")])
    def test_a_parameter_named_without_a_value_it_allows_is_a_400(self, api, team, name, value):
        # Read as "no date" or "JSON", these were 200s to requests the schema does not allow.
        assert_error(api(team.vera).get(f"/api/v1/sanctions-reports/{team.case.pk}/", {name: value}), 400, field=name)

    def test_incident_attributions_are_filterable(self, api, team):
        incident = IncidentFactory(case=team.case)
        AttributionFactory(case=team.case, subject_type="incident", subject=incident, actor=team.bob)
        rows = api(team.vera).get("/api/v1/attributions/", {"incident": incident.pk}).json()["results"]
        assert [row["incident"] for row in rows] == [incident.pk]
