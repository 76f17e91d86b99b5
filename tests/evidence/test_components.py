"""Components and date-code readings: rights, four eyes, the ledger, bad input leaving nothing behind, the counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import Http404

from evidence import selectors, services
from evidence.models import Component, CustodyEvent, DateCodeReading, Marking
from tests.factories import EvidenceItemFactory, ManufacturerFactory, MarkingFactory

pytestmark = pytest.mark.django_db

RECOVERED = dt.date(2024, 6, 1)


@pytest.fixture
def board(team):
    debris = EvidenceItemFactory(case=team.case, actor=team.ivan, title="Guidance section")
    return EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", parent=debris, title="Board")


def history(subject_type: str, subject_id: int) -> list[tuple[str, dict]]:
    events = CustodyEvent.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("sequence")
    return [(event.event_type, event.payload_data) for event in events]


def event_count(case) -> int:
    return CustodyEvent.objects.filter(case=case).count()


def intact(case) -> str:
    import io

    out = io.StringIO()
    call_command("verify_custody", case.reference, stdout=out)
    return out.getvalue()


class TestComponents:
    def test_an_analyst_records_a_component_with_its_markings(self, team, board):
        maker = ManufacturerFactory(name="Analog Devices", country="United States")
        on_board = MarkingFactory(item=board, actor=team.bob, transcription="AD7541AKN", marking_type="part_number")
        on_parent = MarkingFactory(item=board.parent, actor=team.bob, transcription="2312", marking_type="date_code")
        component = services.record_component(
            actor=team.bob,
            item=board,
            function="processing",
            designator="U7",
            manufacturer_as_marked="ANALOG DEVICES",
            manufacturer=maker,
            part_number="AD7541AKN",
            lot_code="L123",
            markings=[on_board, on_parent],
        )
        assert set(Marking.objects.filter(component=component).values_list("pk", flat=True)) == {
            on_board.pk,
            on_parent.pk,
        }
        [(kind, payload)] = history("component", component.pk)
        assert kind == "component.recorded"
        assert payload["component"]["part_number"] == "AD7541AKN"
        assert payload["component"]["manufacturer_id"] == maker.pk
        assert payload["component"]["exhibit"] == board.exhibit_number
        assert payload["markings"] == sorted([on_board.pk, on_parent.pk])
        # The markings' own histories are unchanged: the component's event records the attachment.
        assert [kind for kind, _ in history("marking", on_board.pk)] == ["marking.recorded"]

    def test_corrected_attached_and_withdrawn_are_events_with_the_full_state(self, team, board):
        component = services.record_component(actor=team.bob, item=board, function="power", part_number="LM317")
        corrected = services.correct_component(
            actor=team.alice, component=component, reason="misread", part_number="LM337", designator="U2"
        )
        assert corrected.part_number == "LM337"
        assert services.correct_component(actor=team.bob, component=component, reason="no-op", part_number="LM337")
        marking = MarkingFactory(item=board, actor=team.bob)
        services.attach_markings(actor=team.bob, component=component, markings=[marking])
        services.withdraw_component(actor=team.bob, component=component, reason="duplicate of U3")
        events = history("component", component.pk)
        assert [kind for kind, _ in events] == [
            "component.recorded",
            "component.corrected",
            "component.corrected",
            "component.withdrawn",
        ]
        assert events[1][1]["changed"] == ["designator", "part_number"]
        assert events[1][1]["reason"] == "misread"
        assert events[1][1]["component"]["part_number"] == "LM337"
        assert events[2][1]["changed"] == ["markings"]
        assert events[2][1]["markings"] == [marking.pk]
        assert events[3][1]["reason"] == "duplicate of U3"
        assert events[3][1]["component"]["withdrawn_at"]
        assert Component.objects.filter(pk=component.pk).exists()  # never deleted
        with pytest.raises(ValidationError) as caught:
            services.correct_component(actor=team.bob, component=component, reason="late", part_number="X")
        assert "component" in caught.value.message_dict

    def test_roles(self, team, board):
        with pytest.raises(PermissionDenied):
            services.record_component(actor=team.vera, item=board, function="power")
        with pytest.raises(Http404):
            services.record_component(actor=team.charlie, item=board, function="power")
        assert not Component.objects.exists()

    def test_markings_of_another_exhibit_are_refused_and_nothing_is_left(self, team, board):
        elsewhere = EvidenceItemFactory(case=team.case, actor=team.ivan, title="Another fragment")
        foreign = MarkingFactory(item=elsewhere, actor=team.bob)
        before = event_count(team.case)
        with pytest.raises(ValidationError) as caught:
            services.record_component(actor=team.bob, item=board, function="sensor", markings=[foreign])
        assert "markings" in caught.value.message_dict
        assert not Component.objects.exists()
        assert Marking.objects.get(pk=foreign.pk).component is None
        assert event_count(team.case) == before

    def test_an_unknown_function_names_the_field(self, team, board):
        with pytest.raises(ValidationError) as caught:
            services.record_component(actor=team.bob, item=board, function="warp drive")
        assert "function" in caught.value.message_dict
        with pytest.raises(ValidationError) as caught:
            services.correct_component(
                actor=team.bob,
                component=services.record_component(actor=team.bob, item=board, function="other"),
                reason="x",
                item=board,
            )
        assert "item" in caught.value.message_dict


@pytest.fixture
def component(team, board):
    return services.record_component(actor=team.bob, item=board, function="processing", part_number="STM32F405")


class TestReadings:
    def test_an_ambiguous_code_keeps_every_window(self, team, component):
        reading = services.record_reading(actor=team.bob, component=component, raw_code=" 2312 ", not_after=RECOVERED)
        assert reading.raw_code == "2312"
        assert reading.rule == ""  # two rules read it
        assert {(w["rule"], w["version"]) for w in reading.windows} == {("YYWW", "1"), ("YYMM", "1")}
        assert reading.earliest == dt.date(2023, 3, 20)
        assert reading.latest == dt.date(2023, 12, 31)
        [(kind, payload)] = history("date_reading", reading.pk)
        assert kind == "reading.recorded"
        assert payload["reading"]["windows"] == reading.windows
        assert payload["reading"]["earliest"] == "2023-03-20"
        assert payload["reading"]["component_id"] == component.pk

    def test_a_named_rule_reads_alone(self, team, component):
        reading = services.record_reading(
            actor=team.bob, component=component, raw_code="2312", rule="YYMM/1", not_after=RECOVERED
        )
        assert reading.rule == "YYMM/1"
        assert reading.windows == [{"rule": "YYMM", "version": "1", "earliest": "2023-12-01", "latest": "2023-12-31"}]
        jedec = services.record_reading(
            actor=team.bob, component=component, raw_code="2312", rule="JEDEC", not_after=RECOVERED
        )
        assert jedec.rule == "JEDEC/1"
        assert (jedec.earliest, jedec.latest) == (dt.date(2023, 3, 20), dt.date(2023, 3, 26))

    @pytest.mark.parametrize(
        ("arguments", "field"),
        [
            ({"raw_code": ""}, "raw_code"),
            ({"raw_code": "   "}, "raw_code"),
            ({"raw_code": "no date here"}, "raw_code"),
            ({"raw_code": "2312", "rule": "NOPE"}, "rule"),
            ({"raw_code": "2312", "rule": "YYWW/9"}, "rule"),
            ({"raw_code": "2312A", "rule": "YYMM"}, "rule"),
        ],
    )
    def test_bad_input_names_the_field_and_leaves_nothing(self, team, component, arguments, field):
        before = event_count(team.case)
        with pytest.raises(ValidationError) as caught:
            services.record_reading(actor=team.bob, component=component, not_after=RECOVERED, **arguments)
        assert field in caught.value.message_dict
        assert not DateCodeReading.objects.exists()
        assert event_count(team.case) == before

    def test_four_eyes(self, team, component):
        reading = services.record_reading(actor=team.bob, component=component, raw_code="2312A", not_after=RECOVERED)
        with pytest.raises(PermissionDenied, match="second person"):
            services.verify_reading(actor=team.bob, reading=reading)
        with pytest.raises(PermissionDenied):
            services.verify_reading(actor=team.vera, reading=reading)
        assert DateCodeReading.objects.get(pk=reading.pk).verified_by is None
        verified = services.verify_reading(actor=team.alice, reading=reading)
        assert verified.verified_by == team.alice
        services.verify_reading(actor=team.ivan, reading=reading)  # already verified: no second event
        services.withdraw_reading(actor=team.bob, reading=reading, reason="the code was a lot number")
        events = history("date_reading", reading.pk)
        assert [kind for kind, _ in events] == ["reading.recorded", "reading.verified", "reading.withdrawn"]
        assert events[1][1]["reading"]["verified_by_id"] == team.alice.pk
        assert events[2][1]["reason"] == "the code was a lot number"
        assert not DateCodeReading.objects.counted().exists()
        with pytest.raises(ValidationError):
            services.verify_reading(actor=team.ivan, reading=reading)

    def test_a_withdrawn_component_takes_no_reading(self, team, component):
        services.withdraw_component(actor=team.bob, component=component, reason="error")
        with pytest.raises(ValidationError) as caught:
            services.record_reading(actor=team.bob, component=component, raw_code="2312", not_after=RECOVERED)
        assert "component" in caught.value.message_dict

    def test_the_ledger_stays_intact(self, team, component):
        reading = services.record_reading(actor=team.bob, component=component, raw_code="2312", not_after=RECOVERED)
        services.verify_reading(actor=team.alice, reading=reading)
        assert "intact" in intact(team.case)


class TestSelectors:
    def test_component_counts_of_a_small_case(self, team, board):
        us = ManufacturerFactory(name="Texas Instruments", country="United States")
        ch = ManufacturerFactory(name="u-blox", country="Switzerland")
        one = services.record_component(actor=team.bob, item=board, function="power", manufacturer=us)
        two = services.record_component(actor=team.bob, item=board, function="power", manufacturer=us)
        services.record_component(actor=team.bob, item=board, function="guidance", manufacturer=ch)
        services.record_component(actor=team.bob, item=board, function="passive")  # no manufacturer
        gone = services.record_component(actor=team.bob, item=board, function="passive", manufacturer=ch)
        services.withdraw_component(actor=team.bob, component=gone, reason="double count")
        counted = services.record_reading(actor=team.bob, component=one, raw_code="2312A", not_after=RECOVERED)
        services.verify_reading(actor=team.alice, reading=counted)
        services.record_reading(actor=team.bob, component=two, raw_code="2312A", not_after=RECOVERED)  # unverified
        counts = selectors.component_counts(team.case)
        assert counts["total"] == 4
        assert counts["by_country"] == {"United States": 2, "Switzerland": 1, "unknown": 1}
        assert counts["by_manufacturer"] == {"Texas Instruments": 2, "u-blox": 1, "unknown": 1}
        assert counts["with_readable_code"] == 1
        assert counts["share_with_code"] == 0.25
        table = list(selectors.component_table(team.case))
        assert len(table) == 4
        assert gone not in table
        assert selectors.component_counts(team.other_case) == {
            "total": 0,
            "by_country": {},
            "by_manufacturer": {},
            "with_readable_code": 0,
            "share_with_code": None,
        }

    def test_seen_in_other_cases(self, team, board):
        from tests.factories import MembershipFactory

        mine = services.record_component(
            actor=team.bob, item=board, function="processing", part_number="AD-7541 A", lot_code="L1"
        )
        theirs_item = EvidenceItemFactory(case=team.other_case, actor=team.charlie)
        same = services.record_component(
            actor=team.charlie, item=theirs_item, function="processing", part_number="ad7541a", lot_code="L1"
        )
        services.record_component(
            actor=team.charlie, item=theirs_item, function="processing", part_number="AD7541A", lot_code="L2"
        )
        no_lot = services.record_component(
            actor=team.charlie, item=theirs_item, function="other", part_number="AD7541A"
        )
        assert selectors.seen_in_other_cases(mine, viewer=team.bob) == []  # bob cannot see the other case
        MembershipFactory(case=team.other_case, user=team.bob, role="viewer")
        assert {c.pk for c in selectors.seen_in_other_cases(mine, viewer=team.bob)} == {same.pk, no_lot.pk}


def test_assembly_inference_counts_only_verified_readings(team, board):
    older = services.record_component(actor=team.bob, item=board, function="power")
    newer = services.record_component(actor=team.bob, item=board, function="power")
    services.record_component(actor=team.bob, item=board, function="passive")  # no code
    verified = services.record_reading(actor=team.bob, component=older, raw_code="2312A", not_after=RECOVERED)
    services.verify_reading(actor=team.alice, reading=verified)
    services.record_reading(actor=team.bob, component=newer, raw_code="2402A", not_after=RECOVERED)  # unverified
    inference = selectors.assembly_inference(team.case)
    assert inference.not_before == dt.date(2023, 3, 20)
    assert inference.readings_counted == 1
    assert inference.components_total == 3
    assert [reading.component_id for reading in inference.resting_on] == [str(older.pk)]
    assert selectors.assembly_inference(team.case, item=board.parent or board).components_total == 3
    other = EvidenceItemFactory(case=team.case, actor=team.ivan, title="Another fragment")
    assert selectors.assembly_inference(team.case, item=other).not_before is None
