"""Cases and incidents join the custody ledger: each one's current state becomes one event.

Until now the ledger did not record cases or incidents, though a dossier's statistics come from the
incidents and a package's case.json carries both. For every case this appends, at the end of its
chain, a case.created event with the case's current state (unless the case has one already) and one
incident.created event per incident that has none, oldest incident first. The events are hashed
and chained exactly as evidence.custody.append_event does (evidence.lib.ledger, the format page's
sections 4 and 6), so verify_custody finds the ledgers intact. Appends only: on PostgreSQL the
ledger's trigger refuses updates and deletes, never inserts. Running it again appends nothing.
"""

import datetime as dt
import json
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

from evidence.lib import ledger

TIMESTAMPS = ("created_at", "updated_at")
REASON = "state when cases and incidents joined the custody ledger"


def json_value(value):
    """As evidence.custody.json_value: no floats, times in UTC, decimals as strings."""
    if isinstance(value, dt.datetime):
        return ledger.format_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def snapshot(instance):
    """As evidence.custody.snapshot without the row's timestamps (evidence.services.case_records)."""
    return {
        field.attname: json_value(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
        if field.name not in TIMESTAMPS
    }


def case_state(case):
    state = snapshot(case)
    state["legal_basis"] = sorted(case.legal_basis.values_list("pk", flat=True))
    state["entities"] = sorted(case.entities.values_list("pk", flat=True))
    return state


def incident_state(incident):
    state = snapshot(incident)
    state["entities"] = sorted(incident.entities.values_list("pk", flat=True))
    return state


class Chain:
    """One case's ledger as this migration extends it: appends at the head, hashed as append_event does."""

    def __init__(self, CustodyEvent, case):
        self.model, self.case = CustodyEvent, case
        last = CustodyEvent.objects.filter(case=case).order_by("-sequence").only("sequence", "hash").first()
        self.seq, self.hash = (last.sequence, last.hash) if last else (0, ledger.GENESIS_HASH)

    def append(self, *, event_type, subject_type, subject_id, subject_label, payload, occurred_at):
        seq = self.seq + 1
        recorded_at = timezone.now()
        occurred_at = occurred_at or recorded_at
        payload_text = ledger.canonical_json(payload).decode("utf-8")
        record = ledger.event_record(
            case=self.case.reference,
            seq=seq,
            event_type=event_type,
            subject={"type": subject_type, "id": subject_id, "label": subject_label},
            actor=None,
            occurred_at=ledger.format_timestamp(occurred_at),
            recorded_at=ledger.format_timestamp(recorded_at),
            corrects=None,
            payload=json.loads(payload_text),
            prev=self.hash,
        )
        digest = ledger.event_hash(record)
        self.model.objects.create(
            case=self.case,
            sequence=seq,
            event_type=event_type,
            subject_type=subject_type,
            subject_id=subject_id,
            subject_label=subject_label,
            actor_id=None,
            actor_name="",
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            corrects=None,
            payload=payload_text,
            prev_hash=self.hash,
            hash=digest,
        )
        self.seq, self.hash = seq, digest


def append_current_states(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Incident = apps.get_model("cases", "Incident")
    CustodyEvent = apps.get_model("evidence", "CustodyEvent")

    for case_id in Case.objects.order_by("pk").values_list("pk", flat=True):
        case = Case.objects.select_for_update().get(pk=case_id)  # the ledger's append lock
        chain = Chain(CustodyEvent, case)
        events = CustodyEvent.objects.filter(case=case)
        if not events.filter(event_type="case.created").exists():
            chain.append(
                event_type="case.created",
                subject_type="case",
                subject_id=case.pk,
                subject_label=case.reference,
                payload={"case": case_state(case), "reason": REASON},
                occurred_at=case.updated_at,
            )
        recorded = set(
            events.filter(event_type="incident.created", subject_type="incident").values_list("subject_id", flat=True)
        )
        for incident in Incident.objects.filter(case=case).order_by("created_at", "pk"):
            if incident.pk in recorded:
                continue
            chain.append(
                event_type="incident.created",
                subject_type="incident",
                subject_id=incident.pk,
                subject_label=f"incident {incident.pk}",
                payload={"incident": incident_state(incident), "reason": REASON},
                occurred_at=incident.updated_at,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_reference_changes"),
        ("evidence", "0014_case_and_incident_events"),
    ]

    # Reversing leaves the events: the ledger is append-only.
    operations = [migrations.RunPython(append_current_states, migrations.RunPython.noop)]
