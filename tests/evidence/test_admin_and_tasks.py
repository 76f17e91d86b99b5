"""The evidence admin (items, timeline, transfers, read-only ledger) and the periodic ledger tasks."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from evidence import custody, tasks
from evidence.models import Checkpoint, CustodyEvent, EvidenceItem
from tests.evidence.test_custody import as_database_attacker
from tests.factories import EvidenceItemFactory

pytestmark = pytest.mark.django_db


class TestItemAdmin:
    def test_an_investigator_adds_an_item_through_the_service(self, client, team):
        client.force_login(team.ivan)
        response = client.post(
            reverse("admin:evidence_evidenceitem_add"),
            {"case": team.case.pk, "kind": "physical_debris", "title": "Tail fin", "custodian": "Police"},
        )
        assert response.status_code == 302, response.content
        item = EvidenceItem.objects.get()
        assert item.exhibit_number == "EX-0001"
        assert CustodyEvent.objects.get().event_type == "item.created"

    def test_the_item_page_shows_its_custody_timeline(self, client, team):
        item = EvidenceItemFactory(case=team.case, custodian="Police")
        custody_event = CustodyEvent.objects.get()
        client.force_login(team.vera)
        page = client.get(reverse("admin:evidence_evidenceitem_change", args=[item.pk])).content.decode()
        assert "Item created" in page
        assert custody_event.hash[:12] in page

    def test_a_transfer_recorded_through_the_form(self, client, team):
        item = EvidenceItemFactory(case=team.case, custodian="Police")
        client.force_login(team.ivan)
        url = reverse("admin:evidence_evidenceitem_transfer", args=[item.pk])
        assert client.get(url).status_code == 200
        response = client.post(
            url,
            {
                "to_custodian": "Kyiv laboratory",
                "occurred_at": "2024-01-05 10:00",
                "seal_intact": "on",
                "status": "in_laboratory",
                "purpose": "metallurgy",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        item.refresh_from_db()
        assert (item.custodian, item.status) == ("Kyiv laboratory", "in_laboratory")
        page = client.get(reverse("admin:evidence_evidenceitem_change", args=[item.pk])).content.decode()
        assert "Police → Kyiv laboratory" in page

    def test_a_viewer_may_not_open_the_transfer_form(self, client, team):
        item = EvidenceItemFactory(case=team.case)
        client.force_login(team.vera)
        assert client.get(reverse("admin:evidence_evidenceitem_transfer", args=[item.pk])).status_code == 403

    def test_the_ledger_is_read_only_even_for_superusers(self, client, team):
        EvidenceItemFactory(case=team.case)
        event = CustodyEvent.objects.get()
        client.force_login(team.root)
        change_url = reverse("admin:evidence_custodyevent_change", args=[event.pk])
        page = client.get(change_url)
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
        assert b"View custody event" in page.content
        assert client.get(reverse("admin:evidence_custodyevent_add")).status_code == 403
        assert client.post(reverse("admin:evidence_custodyevent_delete", args=[event.pk])).status_code == 403
        client.post(change_url, {"payload": "{}"})
        assert CustodyEvent.objects.get().payload == event.payload


class TestPeriodicTasks:
    def test_beat_runs_checkpoints_and_the_daily_fixity_check(self):
        tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        assert {"evidence.tasks.sign_checkpoints", "evidence.tasks.verify_all_cases"} <= tasks_scheduled

    def test_checkpoints_are_signed_only_for_ledgers_that_grew(self, team):
        EvidenceItemFactory(case=team.case)
        assert tasks.sign_checkpoints() == 1
        assert tasks.sign_checkpoints() == 0
        EvidenceItemFactory(case=team.case)
        assert tasks.sign_checkpoints() == 1
        assert list(Checkpoint.objects.filter(case=team.case).values_list("size", flat=True)) == [1, 2]

    def test_a_tampered_ledger_is_not_signed_and_shows_broken_on_the_case_page(self, client, team):
        EvidenceItemFactory(case=team.case)
        EvidenceItemFactory(case=team.case)
        with as_database_attacker() as cursor:
            cursor.execute("UPDATE evidence_custodyevent SET payload = '{\"item\":{}}' WHERE sequence = 1")
        assert tasks.sign_checkpoints() == 0
        verdicts = tasks.verify_all_cases()
        assert verdicts == {team.case.reference: False, team.other_case.reference: True}
        fixity = CustodyEvent.objects.filter(case=team.case).order_by("sequence").last()
        assert fixity.event_type == "fixity.checked"
        assert fixity.payload_data["problems"][0]["where"] == "event 1"
        client.force_login(team.alice)
        page = client.get(reverse("admin:cases_case_change", args=[team.case.pk])).content.decode()
        assert "BROKEN" in page
        assert "event 1: its content does not match its hash" in page

    def test_an_intact_case_is_checked_and_signed(self, team):
        EvidenceItemFactory(case=team.case)
        report = tasks.verify_case(team.case.pk)
        assert report["intact"] is True
        checkpoint = Checkpoint.objects.get(case=team.case)
        assert checkpoint.size == 2  # the item and the fixity event itself
        assert custody.verify_case(team.case).intact
