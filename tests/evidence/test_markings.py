"""Markings, components, sources and attributions: rights, four eyes, regions, ledger, the sanctions question."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image, ImageOps

from cases.models import Entity
from evidence import custody, filestore, selectors, services
from evidence.export.reports import sanctions_report_csv
from evidence.models import Attribution, CustodyEvent, Marking
from evidence.selectors import region_from_preview, region_on_preview
from tests import corpus
from tests.factories import (
    AttributionFactory,
    EvidenceItemFactory,
    IncidentFactory,
    ManufacturerFactory,
    MarkingFactory,
    MembershipFactory,
    SourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def component(team):
    debris = EvidenceItemFactory(case=team.case, actor=team.ivan, title="Guidance section")
    return EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", parent=debris, title="DAC chip")


def history(subject_type: str, subject_id: int) -> list[tuple[str, dict]]:
    events = CustodyEvent.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("sequence")
    return [(event.event_type, event.payload_data) for event in events]


class TestMarkings:
    def test_an_analyst_records_a_marking_in_any_script(self, team, component):
        for text in ("AD7541AKN 2312", "ЗАВОД № 3", "주체112.3"):
            marking = services.record_marking(
                actor=team.bob, item=component, transcription=text, marking_type="other", confidence="probable"
            )
            assert Marking.objects.get(pk=marking.pk).transcription == text
        [(kind, payload)] = history("marking", marking.pk)
        assert kind == "marking.recorded"
        assert payload["marking"]["transcription"] == "주체112.3"

    def test_a_viewer_cannot_record_and_an_outsider_gets_not_found(self, team, component):
        from django.http import Http404

        with pytest.raises(PermissionDenied):
            services.record_marking(
                actor=team.vera, item=component, transcription="X", marking_type="other", confidence="possible"
            )
        with pytest.raises(Http404):
            services.record_marking(
                actor=team.charlie, item=component, transcription="X", marking_type="other", confidence="possible"
            )

    def test_four_eyes_the_transcriber_cannot_verify(self, team, component):
        marking = MarkingFactory(item=component, actor=team.bob)
        with pytest.raises(PermissionDenied, match="second person"):
            services.verify_marking(actor=team.bob, marking=marking)
        assert Marking.objects.get(pk=marking.pk).verified_by is None
        verified = services.verify_marking(actor=team.alice, marking=marking)
        assert verified.verified_by == team.alice
        assert [kind for kind, _ in history("marking", marking.pk)] == ["marking.recorded", "marking.verified"]

    def test_four_eyes_holds_in_the_database_too(self, team, component):
        from django.db import IntegrityError, transaction

        marking = MarkingFactory(item=component, actor=team.bob)
        with pytest.raises(IntegrityError), transaction.atomic():
            Marking.objects.filter(pk=marking.pk).update(verified_by=team.bob)

    def test_a_viewer_cannot_verify(self, team, component):
        marking = MarkingFactory(item=component, actor=team.bob)
        with pytest.raises(PermissionDenied):
            services.verify_marking(actor=team.vera, marking=marking)

    def test_a_correction_is_a_new_event_and_needs_new_eyes(self, team, component):
        marking = MarkingFactory(item=component, actor=team.bob, transcription="AD7541AKN 2312")
        services.verify_marking(actor=team.alice, marking=marking)
        corrected = services.correct_marking(
            actor=team.bob, marking=marking, reason="misread 8 as 3", transcription="AD7541AKN 2812"
        )
        assert corrected.verified_by is None
        kinds = [kind for kind, _ in history("marking", marking.pk)]
        assert kinds == ["marking.recorded", "marking.verified", "marking.corrected"]
        payload = history("marking", marking.pk)[-1][1]
        assert payload["changed"] == ["transcription"]
        assert payload["marking"]["transcription"] == "AD7541AKN 2812"
        with pytest.raises(ValidationError):
            services.correct_marking(actor=team.bob, marking=marking, reason="", transcription="x")

    def test_withdrawal_keeps_the_marking_and_records_why(self, team, component):
        marking = MarkingFactory(item=component, actor=team.bob)
        services.withdraw_marking(actor=team.alice, marking=marking, reason="duplicate of marking 1")
        marking.refresh_from_db()
        assert marking.withdrawn_at is not None
        assert history("marking", marking.pk)[-1][1]["reason"] == "duplicate of marking 1"
        with pytest.raises(Exception, match="never deleted"):
            marking.delete()

    def test_date_codes_come_with_every_reading(self, team, component):
        marking = MarkingFactory(item=component, transcription="주체112", marking_type="date_code")
        [reading] = selectors.date_readings(marking)
        assert (reading.start, reading.precision) == (dt.date(2023, 1, 1), "year")
        code = MarkingFactory(item=component, transcription="2312", marking_type="date_code")
        assert {reading.format for reading in selectors.date_readings(code)} >= {"YYWW"}

    def test_the_photo_must_show_the_item_or_what_it_came_from(self, team, component):
        from tests.factories import PhotoFactory

        of_debris = PhotoFactory(item=component.parent, width=200, height=100)
        unrelated = PhotoFactory(item=EvidenceItemFactory(case=team.case), width=200, height=100)
        services.record_marking(
            actor=team.bob,
            item=component,
            transcription="LOT 7",
            marking_type="lot",
            confidence="confirmed",
            photo=of_debris,
            region=(10, 10, 50, 20),
        )
        with pytest.raises(ValidationError) as error:
            services.record_marking(
                actor=team.bob, item=component, transcription="x", marking_type="lot", confidence="possible",
                photo=unrelated, region=(0, 0, 5, 5),
            )  # fmt: skip
        assert "photo" in error.value.message_dict
        with pytest.raises(ValidationError) as error:
            services.record_marking(
                actor=team.bob, item=component, transcription="x", marking_type="lot", confidence="possible",
                photo=of_debris, region=(150, 50, 100, 20),
            )  # fmt: skip
        assert "region" in error.value.message_dict


LANDSCAPES = [f"Landscape_{number}.jpg" for number in range(1, 9)]


@pytest.mark.parametrize("name", LANDSCAPES)
def test_a_region_drawn_on_the_upright_preview_is_the_same_spot_for_every_orientation(
    team, component, name, eager_tasks, django_capture_on_commit_callbacks
):
    """The eight files are one picture stored in eight orientations: the same upright rectangle,
    drawn on each preview, must crop the same pixels out of each original."""
    with django_capture_on_commit_callbacks(execute=True):
        photo = services.add_photo_from_path(actor=team.ivan, item=component, path=corpus.photo(name)).photo
    photo.refresh_from_db()
    assert (photo.preview_width, photo.preview_height) == (1600, 1067)  # upright, whatever the storage
    drawn = (400, 300, 320, 200)
    marking = services.record_marking(
        actor=team.bob,
        item=component,
        transcription="stamp",
        marking_type="inspection_stamp",
        confidence="possible",
        photo=photo,
        region=region_from_preview(photo=photo, rect=drawn),
    )
    assert region_on_preview(marking) == pytest.approx(drawn, abs=1)
    with Image.open(filestore.absolute(photo.original.path)) as original:
        x, y, width, height = marking.region
        crop = original.crop((x, y, x + width, y + height))
        exif = crop.getexif()
        exif[0x0112] = photo.orientation or 1
        crop = ImageOps.exif_transpose(crop)  # Pillow's own idea of upright, independent of ours
    with Image.open(corpus.photo("Landscape_1.jpg")) as reference:
        scale = 1800 / 1600
        left, top = round(drawn[0] * scale), round(drawn[1] * scale)
        expected = reference.crop((left, top, left + crop.width, top + crop.height))
    assert crop.size == expected.size
    difference = sum(
        abs(a - b) for a, b in zip(crop.convert("L").tobytes(), expected.convert("L").tobytes(), strict=True)
    )
    assert difference / (crop.width * crop.height) < 12


class TestSourcesAndAttributions:
    def test_a_source_with_an_archived_copy_is_stored_write_once(self, team, tmp_path):
        copy = tmp_path / "S_2024_215.pdf"
        copy.write_bytes(b"%PDF-1.7 the panel's report")
        source = services.add_source_from_path(
            actor=team.bob, case=team.case, path=copy, kind="un_report", title="Panel of Experts report",
            reliability="A", document_reference="S/2024/215",
        )  # fmt: skip
        assert source.archived_copy.path.startswith("sources/")
        assert filestore.absolute(source.archived_copy.path).read_bytes() == copy.read_bytes()
        [(_kind, payload)] = history("source", source.pk)
        assert payload["source"]["archived_sha256"] == source.archived_copy.sha256
        assert custody.verify_case(team.case).files == 1

    def test_an_attribution_is_graded_and_contradictions_are_flagged(self, team):
        incident = IncidentFactory(case=team.case)
        un = SourceFactory(case=team.case, reliability="B", actor=team.bob)
        denial = SourceFactory(case=team.case, reliability="E", kind="government_statement", actor=team.bob)
        supports = AttributionFactory(
            case=team.case, source=un, subject_type="incident", subject=incident, credibility=2, actor=team.bob
        )
        assert supports.grade == "B2"
        assert not selectors.attributions_of(incident, viewer=team.vera).contradicted
        AttributionFactory(
            case=team.case, source=denial, subject_type="incident", subject=incident, credibility=5,
            stance="contradicts", claim="The strike was a Ukrainian air-defence missile.", actor=team.bob,
        )  # fmt: skip
        found = selectors.attributions_of(incident, viewer=team.vera)
        assert found.contradicted
        assert [attribution.grade for attribution in found.attributions] == ["B2", "E5"]
        assert selectors.attributions_of(incident, viewer=team.charlie).attributions == []

    def test_subjects_of_another_case_or_withdrawn_sources_are_refused(self, team):
        source = SourceFactory(case=team.case, actor=team.bob)
        foreign = IncidentFactory(case=team.other_case)
        with pytest.raises(ValidationError) as error:
            services.add_attribution(
                actor=team.bob, case=team.case, subject_type="incident", subject=foreign, source=source,
                claim="x", credibility=3,
            )  # fmt: skip
        assert "subject" in error.value.message_dict
        services.withdraw_source(actor=team.bob, source=source, reason="fabricated")
        with pytest.raises(ValidationError) as error:
            services.add_attribution(
                actor=team.bob, case=team.case, subject_type="case", source=source, claim="x", credibility=3
            )
        assert "source" in error.value.message_dict

    def test_every_change_is_in_the_ledger_with_its_full_state(self, team):
        entity = Entity.objects.create(kind="organisation", name="Korea Mining Development Trading Corporation")
        source = SourceFactory(case=team.case, actor=team.bob)
        services.update_source(actor=team.bob, source=source, reason="typo", title="Panel report (corrected)")
        attribution = AttributionFactory(
            case=team.case, source=source, subject_type="entity", subject=entity, actor=team.bob
        )
        services.withdraw_attribution(actor=team.alice, attribution=attribution, reason="superseded")
        services.withdraw_source(actor=team.alice, source=source, reason="retracted")
        assert [kind for kind, _ in history("source", source.pk)] == [
            "source.added", "source.updated", "source.withdrawn",
        ]  # fmt: skip
        assert [kind for kind, _ in history("attribution", attribution.pk)] == [
            "attribution.added", "attribution.withdrawn",
        ]  # fmt: skip
        last = history("attribution", attribution.pk)[-1][1]["attribution"]
        assert (last["entity_id"], last["grade"], last["withdrawal_reason"]) == (entity.pk, "B2", "superseded")
        assert Attribution.objects.filter(pk=attribution.pk).exists()
        assert custody.verify_case(team.case).intact


class TestSanctionsQuestion:
    """A hand-checked set: three components, two countries, one made after the adoption date."""

    @pytest.fixture
    def report_case(self, team):
        us = ManufacturerFactory(name="Analog Devices", country="United States")
        jp = ManufacturerFactory(name="Murata", country="Japan")
        debris = EvidenceItemFactory(case=team.case, actor=team.ivan)

        def component(maker, made, precision, part):
            return EvidenceItemFactory(
                case=team.case, actor=team.ivan, kind="component", parent=debris, manufacturer=maker,
                country_of_origin=maker.country, manufactured_on=made, manufactured_precision=precision,
                part_number=part,
            )  # fmt: skip

        component(us, dt.date(2021, 3, 1), "month", "AD7541AKN")
        component(us, dt.date(2023, 3, 13), "week", "ADXRS646")
        component(jp, dt.date(2020, 1, 1), "year", "GRM188")
        return team.case

    def test_grouped_by_country_and_maker_with_latest_date_and_made_after(self, report_case):
        report = selectors.sanctions_report(report_case, after=dt.date(2022, 12, 22))
        assert report["components"] == 3
        us, jp = report["by_country"]
        assert (us["key"], us["count"], us["latest_manufacture"], us["made_after"]) == (
            "United States", 2, dt.date(2023, 3, 13), 1,
        )  # fmt: skip
        assert (jp["key"], jp["count"], jp["made_after"]) == ("Japan", 1, 0)
        assert [group["key"] for group in report["by_manufacturer"]] == ["Analog Devices", "Murata"]
        flagged = [row["part_number"] for row in report["rows"] if row["made_after"]]
        assert flagged == ["ADXRS646"]

    def test_a_csv_export_has_a_row_per_component(self, report_case):
        import csv
        import io

        text = sanctions_report_csv(selectors.sanctions_report(report_case, after=dt.date(2022, 12, 22)))
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [row["part_number"] for row in rows] == ["AD7541AKN", "ADXRS646", "GRM188"]
        assert [row["made_after"] for row in rows] == ["False", "True", "False"]

    def test_the_same_part_number_in_other_visible_cases(self, team, report_case):
        mine = EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", part_number="AD-7541 AKN")
        other = EvidenceItemFactory(case=team.other_case, kind="component", part_number="ad7541akn")
        hidden_case = MembershipFactory(user=UserFactory(username="dora"), role="lead").case
        EvidenceItemFactory(case=hidden_case, kind="component", part_number="AD7541AKN")
        assert selectors.seen_elsewhere(mine, viewer=team.alice) == []  # alice is not on charlie's case
        MembershipFactory(case=team.other_case, user=team.alice, role="viewer")
        found = selectors.seen_elsewhere(mine, viewer=team.alice)
        assert [(row["item"], row["match"]) for row in found] == [(other.pk, "part number")]
