"""Cases and incidents are ledger subjects: every write path appends one event with the full new state,
existing ledgers get their current state by a migration, and a package's case.json is what its ledger replays to."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json

import pytest
from django import forms
from django.apps import apps as global_apps
from django.core.management import call_command
from django.urls import reverse

from cases import services as case_services
from cases.models import Case, Incident
from evidence import custody
from evidence.choices import EventType, SubjectType
from evidence.lib import replay
from evidence.models import CustodyEvent
from evidence.services.case_records import case_state, incident_state
from tests.factories import CaseFactory, EntityFactory, EvidenceItemFactory, IncidentFactory, ProvisionFactory

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2024, 1, 2, 3, 10, tzinfo=dt.UTC)
INCIDENT = {
    "kind": "missile_strike", "occurred_at": WHEN, "place_name": "Kharkiv", "region": "Kharkiv",
    "outcome": "impact", "killed": 2, "wounded": 10, "identification_basis": ["debris", "trajectory"],
}  # fmt: skip
NEW_INCIDENT = {name: value for name, value in INCIDENT.items() if name != "occurred_at"}


def events(case, *types) -> list[CustodyEvent]:
    rows = CustodyEvent.objects.filter(case=case).order_by("sequence")
    return list(rows.filter(event_type__in=types) if types else rows)


def new_events(case, since: int) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(case=case, sequence__gt=since).order_by("sequence"))


def assert_intact(case) -> None:
    report = custody.verify_case(Case.objects.get(pk=case.pk), files=False)
    assert report.intact, report.problems


def assert_incident_event(event, incident, event_type) -> dict:
    incident.refresh_from_db()
    assert event.event_type == event_type
    assert (event.subject_type, event.subject_id, event.subject_label) == (
        SubjectType.INCIDENT,
        incident.pk,
        f"incident {incident.pk}",
    )
    state = event.payload_data["incident"]
    assert state == incident_state(incident)
    # The full state: every stored field but the row's own timestamps, the entities as ids.
    names = {field.attname for field in Incident._meta.concrete_fields} - {"created_at", "updated_at"}
    assert set(state) == names | {"entities"}
    return state


class TestServices:
    def test_creating_an_incident_appends_its_full_state(self, team):
        entity = EntityFactory()
        incident = case_services.create_incident(actor=team.bob, case=team.case, entities=[entity], **INCIDENT)
        [event] = events(team.case)
        state = assert_incident_event(event, incident, EventType.INCIDENT_CREATED)
        assert (state["killed"], state["wounded"]) == (2, 10)
        assert state["identification_basis"] == ["debris", "trajectory"]
        assert state["entities"] == [entity.pk]
        assert state["occurred_at"] == "2024-01-02T03:10:00.000000Z"
        assert event.actor == team.bob
        assert_intact(team.case)

    def test_a_change_of_casualties_appends_the_new_state_with_the_fields_changed(self, team):
        incident = case_services.create_incident(actor=team.bob, case=team.case, **INCIDENT)
        case_services.update_incident(actor=team.bob, incident=incident, killed=5, identification_basis=["debris"])
        [created, updated] = events(team.case)
        state = assert_incident_event(updated, incident, EventType.INCIDENT_UPDATED)
        assert (state["killed"], state["identification_basis"]) == (5, ["debris"])
        assert updated.payload_data["changed"] == ["identification_basis", "killed"]
        assert created.payload_data["incident"]["killed"] == 2  # the earlier state stays as it was
        assert_intact(team.case)

    def test_an_update_that_changes_nothing_appends_nothing(self, team):
        incident = case_services.create_incident(actor=team.bob, case=team.case, **INCIDENT)
        case_services.update_incident(actor=team.bob, incident=incident, killed=2)
        assert len(events(team.case)) == 1

    def test_an_instance_changed_before_the_service_still_records_the_change(self, team):
        """The admin's form changes the instance before save_model calls the service."""
        incident = case_services.create_incident(actor=team.bob, case=team.case, **INCIDENT)
        incident.wounded = 11
        case_services.update_incident(actor=team.bob, incident=incident, wounded=11)
        updated = events(team.case)[-1]
        assert updated.payload_data["changed"] == ["wounded"]
        assert updated.payload_data["incident"]["wounded"] == 11

    def test_opening_and_changing_a_case_appends_its_full_state_with_the_legal_basis(self, team):
        provisions = [ProvisionFactory(), ProvisionFactory()]
        case = case_services.create_case(actor=team.root, title="Shipment", legal_basis=provisions[::-1])
        [created] = events(case)
        assert created.event_type == EventType.CASE_CREATED
        assert (created.subject_type, created.subject_id, created.subject_label) == ("case", case.pk, case.reference)
        state = created.payload_data["case"]
        assert state == case_state(case)
        assert state["legal_basis"] == sorted(provision.pk for provision in provisions)
        assert (state["reference"], state["title"], state["status"]) == (case.reference, "Shipment", "open")
        case_services.update_case(actor=team.root, case=case, title="Rail shipment", legal_basis=provisions[:1])
        updated = events(case)[-1]
        assert updated.event_type == EventType.CASE_UPDATED
        assert updated.payload_data["changed"] == ["legal_basis", "title"]
        assert updated.payload_data["case"]["legal_basis"] == [provisions[0].pk]
        assert updated.payload_data["case"]["title"] == "Rail shipment"
        assert_intact(case)


class TestApi:
    url = "/api/v1/incidents/"

    def test_adding_and_correcting_an_incident_each_append_one_event(self, api, team):
        client = api(team.bob)
        response = client.post(self.url, {**NEW_INCIDENT, "occurred_at": "2024-01-02T05:10:00+02:00",
                                          "case": team.case.pk}, format="json")  # fmt: skip
        assert response.status_code == 201, response.json()
        incident = Incident.objects.get(pk=response.json()["id"])
        [created] = events(team.case)
        assert_incident_event(created, incident, EventType.INCIDENT_CREATED)
        response = client.patch(f"{self.url}{incident.pk}/", {"killed": 3}, format="json")
        assert response.status_code == 200, response.json()
        [_created, updated] = events(team.case)
        state = assert_incident_event(updated, incident, EventType.INCIDENT_UPDATED)
        assert state["killed"] == 3
        assert updated.payload_data["changed"] == ["killed"]
        assert_intact(team.case)

    def test_opening_and_changing_a_case_each_append_one_event(self, api, team):
        client = api(team.root)
        response = client.post("/api/v1/cases/", {"title": "Opened by API"}, format="json")
        assert response.status_code == 201, response.json()
        case = Case.objects.get(pk=response.json()["id"])
        assert [event.event_type for event in events(case)] == [EventType.CASE_CREATED]
        response = client.patch(f"/api/v1/cases/{case.pk}/", {"summary": "Now with a summary."}, format="json")
        assert response.status_code == 200, response.json()
        [_created, updated] = events(case)
        assert updated.event_type == EventType.CASE_UPDATED
        assert updated.payload_data["case"]["summary"] == "Now with a summary."
        assert_intact(case)


def _form_data(page) -> dict:
    """What the change page's forms post when nothing is touched (split date-times in their parts)."""
    data = {}

    def add(bound):
        value = bound.value()
        widget = bound.field.widget
        if isinstance(widget, forms.MultiWidget):
            for index, part in enumerate(widget.decompress(value)):
                if part is not None:
                    data[f"{bound.html_name}_{index}"] = part
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(v) for v in value]
        elif value is not None:
            data[bound.html_name] = value

    form = page.context["adminform"].form
    for name in form.fields:
        add(form[name])
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
        for inline_form in inline.formset.initial_forms:
            for name in inline_form.fields:
                add(inline_form[name])
    return data


class TestAdmin:
    def test_adding_an_incident_appends_one_event(self, client, team):
        client.force_login(team.bob)
        data = {"case": team.case.pk, "kind": "missile_strike", "occurred_at_0": "2024-01-02",
                "occurred_at_1": "05:00:00", "occurred_precision": "exact", "outcome": "impact", "killed": 4,
                "wounded": 1, "identification_basis": ["debris"]}  # fmt: skip
        response = client.post(reverse("admin:cases_incident_add"), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        incident = Incident.objects.get(case=team.case)
        [event] = events(team.case)
        state = assert_incident_event(event, incident, EventType.INCIDENT_CREATED)
        assert (state["killed"], state["wounded"], state["identification_basis"]) == (4, 1, ["debris"])

    def test_changing_an_incident_appends_one_event_with_the_new_casualties(self, client, team):
        incident = case_services.create_incident(actor=team.bob, case=team.case, **INCIDENT)
        client.force_login(team.bob)
        url = reverse("admin:cases_incident_change", args=[incident.pk])
        data = _form_data(client.get(url))
        data["killed"] = 7
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        [_created, updated] = events(team.case)
        state = assert_incident_event(updated, incident, EventType.INCIDENT_UPDATED)
        assert state["killed"] == 7
        assert updated.payload_data["changed"] == ["killed"]

    def test_the_case_page_records_the_case_and_its_incident_inline(self, client, team):
        incident = case_services.create_incident(actor=team.bob, case=team.case, **INCIDENT)
        client.force_login(team.alice)
        url = reverse("admin:cases_case_change", args=[team.case.pk])
        data = _form_data(client.get(url))
        data["title"] = "Retitled"
        [prefix] = [key.removesuffix("-TOTAL_FORMS") for key in data if key.startswith("incidents") and
                    key.endswith("-TOTAL_FORMS")]  # fmt: skip
        data[f"{prefix}-0-wounded"] = 12
        data[f"{prefix}-0-id"] = incident.pk
        data[f"{prefix}-0-case"] = team.case.pk
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        [_created, case_updated, incident_updated] = events(team.case)
        assert case_updated.event_type == EventType.CASE_UPDATED
        assert case_updated.payload_data["case"]["title"] == "Retitled"
        assert case_updated.payload_data["changed"] == ["title"]
        state = assert_incident_event(incident_updated, incident, EventType.INCIDENT_UPDATED)
        assert state["wounded"] == 12
        assert_intact(team.case)

    def test_opening_a_case_appends_case_created(self, client, team):
        client.force_login(team.root)
        url = reverse("admin:cases_case_add")
        data = {"title": "Opened in the admin", "status": "open", "opened_on": "2024-03-01", "lead": team.alice.pk}
        page = client.get(url)
        for inline in page.context["inline_admin_formsets"]:
            data.update({f"{inline.formset.prefix}-TOTAL_FORMS": 0, f"{inline.formset.prefix}-INITIAL_FORMS": 0})
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        case = Case.objects.get(title="Opened in the admin")
        [event] = events(case)
        assert event.event_type == EventType.CASE_CREATED
        assert event.payload_data["case"] == case_state(case)


def test_the_demo_records_every_incident_and_both_cases(eager_tasks, django_capture_on_commit_callbacks, settings):
    settings.DEBUG = True
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    for case in Case.objects.all():
        [created] = events(case, EventType.CASE_CREATED)
        assert created.sequence == 1
        recorded = replay.replay(json.loads(line) for line in _ledger_lines(case))
        assert recorded.case == case_state(case)
        incidents = {incident.pk: incident_state(incident) for incident in Incident.objects.filter(case=case)}
        assert incidents
        assert recorded.incidents == incidents
        assert len(events(case, EventType.INCIDENT_CREATED)) == len(incidents)
        assert_intact(case)


def _ledger_lines(case) -> list[str]:
    from evidence.lib import ledger

    return [
        ledger.ledger_line({name: entry[name] for name in ledger.EVENT_FIELDS}, entry["hash"]).decode()
        for entry in custody.ledger_entries(case)
    ]


class TestMigration:
    migration = importlib.import_module("evidence.migrations.0015_ledger_cases_and_incidents")

    def test_existing_cases_and_incidents_get_their_current_state_at_the_head_of_an_intact_ledger(self, team):
        # Rows written before the ledger knew them: the factories go around the services.
        provision = ProvisionFactory()
        team.case.legal_basis.set([provision])
        first = IncidentFactory(case=team.case, killed=3, identification_basis=["debris"])
        second = IncidentFactory(case=team.case, killed=0, wounded=6)
        EvidenceItemFactory(case=team.case, incident=first)  # an existing event: item.created
        custody.sign_checkpoint(case=team.case, reason="test")
        before = len(events(team.case))
        assert before == 1
        # A case opened through the services has case.created already; its factory-made incident has none.
        opened = case_services.create_case(actor=team.root, title="Opened")
        late = IncidentFactory(case=opened)
        bare = CaseFactory(reference="PGO-2024-0009")

        self.migration.append_current_states(global_apps, None)

        added = new_events(team.case, before)
        assert [(event.event_type, event.subject_id) for event in added] == [
            ("case.created", team.case.pk),
            ("incident.created", first.pk),
            ("incident.created", second.pk),
        ]
        assert [event.sequence for event in added] == [2, 3, 4]
        assert all(event.actor_id is None and event.payload_data["reason"] for event in added)
        case = Case.objects.get(pk=team.case.pk)
        assert added[0].payload_data["case"] == case_state(case)
        assert added[0].payload_data["case"]["legal_basis"] == [provision.pk]
        assert added[1].payload_data["incident"] == incident_state(first)
        assert added[1].payload_data["incident"]["killed"] == 3
        assert added[2].payload_data["incident"] == incident_state(second)
        assert [(e.event_type, e.subject_id) for e in events(opened)] == [
            ("case.created", opened.pk),
            ("incident.created", late.pk),
        ]
        assert [e.event_type for e in events(bare)] == ["case.created"]
        for each in (team.case, opened, bare, team.other_case):
            assert_intact(each)
        out = io.StringIO()
        call_command("verify_custody", stdout=out)
        assert "BROKEN" not in out.getvalue().upper()

        # Once is enough: a second run appends nothing.
        size = CustodyEvent.objects.count()
        self.migration.append_current_states(global_apps, None)
        assert CustodyEvent.objects.count() == size

    def test_the_replayed_state_of_a_migrated_ledger_is_the_database_state(self, team):
        IncidentFactory(case=team.case, killed=8)
        self.migration.append_current_states(global_apps, None)
        case = Case.objects.get(pk=team.case.pk)
        recorded = replay.replay(json.loads(line) for line in _ledger_lines(case))
        assert recorded.case == case_state(case)
        assert recorded.incidents == {i.pk: incident_state(i) for i in Incident.objects.filter(case=case)}


class TestPackageReplay:
    def test_case_json_is_what_the_packages_ledger_replays_to(self, team, eager_tasks, tmp_path):
        provision = ProvisionFactory()
        case = case_services.create_case(actor=team.root, title="Replayed", legal_basis=[provision])
        case_services.set_membership(actor=team.root, case=case, user=team.bob, role="analyst")
        case_services.set_membership(actor=team.root, case=case, user=team.vera, role="viewer")
        strike = case_services.create_incident(actor=team.bob, case=case, **INCIDENT)
        launch = case_services.create_incident(
            actor=team.bob, case=case, **{**INCIDENT, "kind": "failure_in_flight", "killed": 0, "wounded": 0}
        )
        case_services.update_incident(actor=team.bob, incident=strike, killed=4, wounded=12)
        case_services.update_incident(actor=team.bob, incident=launch, identification_basis=["launch_site"])
        case_services.update_case(actor=team.root, case=case, summary="Two launches.")
        EvidenceItemFactory(case=case, actor=team.root, incident=strike)

        call_command("export_package", case.reference, "--output", str(tmp_path / "bag"), "--as", "vera")
        [root] = (tmp_path / "bag").iterdir()
        record = json.loads((root / "data" / "case.json").read_text(encoding="utf-8"))
        [ledger_file] = (root / "data" / "ledger").glob("*.jsonl")
        recorded = replay.replay(replay.read_ledger(ledger_file.read_text(encoding="utf-8")))

        compared = _compare(recorded.case, record["case"])
        assert {"reference", "title", "status", "summary", "opened_on", "closed_on", "lead_id"} <= compared
        assert recorded.case["summary"] == "Two launches."
        assert recorded.case["legal_basis"] == [provision.pk]
        assert {row["id"] for row in record["incidents"]} == set(recorded.incidents) == {strike.pk, launch.pk}
        for row in record["incidents"]:
            compared = _compare(recorded.incidents[row["id"]], row)
            assert {"killed", "wounded", "identification_basis", "kind", "occurred_at", "outcome"} <= compared
        assert recorded.incidents[strike.pk]["killed"] == 4
        assert recorded.incidents[launch.pk]["identification_basis"] == ["launch_site"]


def _compare(replayed: dict, stored: dict) -> set[str]:
    """Every field both have is equal; returns the fields compared."""
    common = set(replayed) & set(stored)
    assert {name: replayed[name] for name in common} == {name: stored[name] for name in common}
    return common


def test_replay_takes_the_latest_state_of_each_subject_and_ignores_other_events():
    lines = [
        {"seq": 2, "type": "incident.updated", "subject": {"type": "incident", "id": 7}, "payload": {
            "incident": {"id": 7, "killed": 3}, "changed": ["killed"]}},
        {"seq": 1, "type": "incident.created", "subject": {"type": "incident", "id": 7}, "payload": {
            "incident": {"id": 7, "killed": 1}}},
        {"seq": 3, "type": "item.created", "subject": {"type": "evidence_item", "id": 1}, "payload": {"item": {}}},
        {"seq": 4, "type": "event.corrected", "subject": {"type": "custody_event", "id": 2}, "corrects": 2,
         "payload": {"reason": "typo", "correction": {"killed": 30}}},
    ]  # fmt: skip
    state = replay.replay(lines)
    assert state.case is None
    assert state.incidents == {7: {"id": 7, "killed": 3}}
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    assert replay.replay(replay.read_ledger(text)) == state
