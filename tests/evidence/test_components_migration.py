"""Migration evidence 0019: markings recorded before components existed attach to components, in the ledger.

Run for real with Django's MigrationExecutor: the database goes back to 0018, items and markings are
made with the historical models, and migrating forward to 0019 must group them into components, append
one component.recorded event per component at the head of an intact chain, and find nothing to do again.
"""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps as global_apps
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from evidence import custody
from evidence.models import Component, CustodyEvent, Marking
from tests.factories import CaseFactory, UserFactory

BEFORE = ("evidence", "0018_components_and_trace_requests")
AFTER = ("evidence", "0019_components_from_markings")


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.fixture
def at_0018(transactional_db):
    apps = migrate([BEFORE])
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _item(apps, case, number, kind, **fields):
    EvidenceItem = apps.get_model("evidence", "EvidenceItem")
    return EvidenceItem.objects.create(case_id=case.pk, exhibit_number=number, kind=kind, title=number, **fields)


def _marking(apps, item, user, text, marking_type, **fields):
    Marking = apps.get_model("evidence", "Marking")
    return Marking.objects.create(
        item=item, transcription=text, marking_type=marking_type, confidence="confirmed", transcribed_by_id=user.pk,
        **fields,
    )  # fmt: skip


def test_markings_attach_to_components_and_the_ledger_records_each(at_0018):
    apps = at_0018
    analyst, other_analyst = UserFactory(username="ana"), UserFactory(username="oleh")
    case = CaseFactory(reference="PGO-2024-0019")
    with transaction.atomic():  # a ledger with a head already: the migration must extend it
        custody.append_event(
            case=case, event_type="case.created", subject_type="case", subject_id=case.pk,
            subject_label=case.reference, actor=None, payload={"case": {"reference": case.reference}},
        )  # fmt: skip
    Manufacturer = apps.get_model("evidence", "Manufacturer")
    arden = Manufacturer.objects.create(name="Arden Semiconductor [test]")
    vellmar = Manufacturer.objects.create(name="Vellmar Elektronik [test]")

    # A component exhibit: one part, whatever its markings say.
    chip = _item(apps, case, "EX-001", "component", manufacturer_id=arden.pk, part_number="ARD7405QF")
    chip_marks = [
        _marking(apps, chip, analyst, "ARD7405QF", "part_number", manufacturer_id=arden.pk, part_number="ARD7405QF"),
        _marking(apps, chip, other_analyst, "2312", "date_code"),
        _marking(apps, chip, analyst, "ARDEN", "manufacturer", manufacturer_id=arden.pk),
    ]
    # A debris fragment: one component per (manufacturer, part number), the rest to one "other" component.
    debris = _item(apps, case, "EX-002", "physical_debris")
    converter = _marking(
        apps, debris, other_analyst, "VME-3R3-1A", "part_number", manufacturer_id=vellmar.pk, part_number="VME-3R3-1A"
    )
    vellmar_logo = _marking(apps, debris, analyst, "VME", "manufacturer", manufacturer_id=vellmar.pk)
    ic = _marking(apps, debris, analyst, "ARD12", "part_number", manufacturer_id=arden.pk, part_number="ARD12")
    stencil = _marking(apps, debris, analyst, "11-17", "other")
    stamp = _marking(apps, debris, analyst, "OTK", "inspection_stamp")
    # An item whose markings are attached already is left alone.
    done = _item(apps, case, "EX-003", "physical_debris")
    existing = apps.get_model("evidence", "Component").objects.create(
        item=done, function="sensor", recorded_by_id=analyst.pk
    )
    _marking(apps, done, analyst, "LM35", "part_number", component=existing)
    head_before = custody.head(case)

    migrate([AFTER])

    components = {c.pk: c for c in Component.objects.filter(item__case=case).exclude(pk=existing.pk)}
    assert len(components) == 4
    marks = {m.pk: m for m in Marking.objects.filter(item__case=case)}
    assert all(mark.component_id for mark in marks.values())
    (chip_component,) = (c for c in components.values() if c.item.exhibit_number == "EX-001")
    assert (chip_component.manufacturer_id, chip_component.part_number) == (arden.pk, "ARD7405QF")
    assert chip_component.manufacturer_as_marked == "ARDEN"
    assert {m.pk for m in chip_component.markings.all()} == {m.pk for m in chip_marks}
    assert chip_component.recorded_by == analyst  # who transcribed its first marking
    by_marking = {mark: marks[mark.pk].component for mark in (converter, vellmar_logo, ic, stencil, stamp)}
    assert by_marking[converter] == by_marking[vellmar_logo]  # a maker's name joins that maker's part
    assert (by_marking[converter].manufacturer_id, by_marking[converter].part_number) == (vellmar.pk, "VME-3R3-1A")
    assert by_marking[converter].manufacturer_as_marked == "VME"
    assert by_marking[ic] not in (by_marking[converter], by_marking[stencil])
    assert by_marking[stencil] == by_marking[stamp]
    assert (by_marking[stencil].function, by_marking[stencil].manufacturer_id) == ("other", None)

    events = list(CustodyEvent.objects.filter(case=case, sequence__gt=head_before[0]).order_by("sequence"))
    assert [event.event_type for event in events] == ["component.recorded"] * 4
    assert events[0].prev_hash == head_before[1]
    for event in events:
        payload = event.payload_data
        component = components[event.subject_id]
        assert event.actor_id is None
        assert event.subject_type == "component"
        assert event.subject_label == f"{component.item.exhibit_number} component {component.pk}"
        assert payload["component"]["exhibit"] == component.item.exhibit_number
        assert payload["component"]["id"] == component.pk
        assert payload["component"]["part_number"] == component.part_number
        assert payload["markings"] == sorted(m.pk for m in component.markings.all())
        assert "migration" in payload["reason"]
    assert custody.verify_case(case, files=False).intact
    out = io.StringIO()
    call_command("verify_custody", "--skip-files", stdout=out)
    assert "PGO-2024-0019" in out.getvalue()

    # Again: nothing left to attach, nothing appended.
    head_after = custody.head(case)
    migration = importlib.import_module("evidence.migrations.0019_components_from_markings")
    with transaction.atomic():
        migration.components_from_markings(global_apps, None)
    assert custody.head(case) == head_after
    assert Component.objects.filter(item__case=case).count() == 5


def test_a_database_without_markings_gets_no_components(at_0018):
    case = CaseFactory(reference="PGO-2024-0020")
    _item(at_0018, case, "EX-001", "physical_debris")
    migrate([AFTER])
    assert not Component.objects.exists()
    assert not CustodyEvent.objects.filter(case=case).exists()
