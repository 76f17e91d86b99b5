"""Existing markings attach to components: the component table starts from what was transcribed.

Markings used to hang off their exhibit only; now each marking belongs to one Component (one
physical part). For every evidence item with markings not yet attached to a component:

- an item of kind "component" is one part: one Component carrying the item's manufacturer and
  part number, with all those markings;
- any other item (a debris fragment, say) gets one Component per distinct (manufacturer, part
  number) among its markings; a marking naming only a manufacturer joins that manufacturer's
  single group with a part number, if there is exactly one; markings naming neither go to one
  component of function "other".

The manufacturer as marked is the transcription of a "manufacturer" marking of the group, if any.
A component is recorded by whoever transcribed its first marking (the column cannot be empty);
the ledger event has no actor. Every component created is one component.recorded event at the head
of its case's chain, with the component's full state (its exhibit number included), the ids of the
markings attached and a reason naming this migration, hashed and chained exactly as
evidence.custody.append_event does (as 0015_ledger_cases_and_incidents does), so verify_custody
finds the ledgers intact. Historical models only. Running it again finds nothing to attach.
Reversing does nothing: the ledger is append-only, and its events would outlive the rows.
"""

import datetime as dt
import json
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

from evidence.lib import ledger

TIMESTAMPS = ("created_at", "updated_at")
REASON = "made by migration evidence 0019 from the markings already transcribed on the exhibit"
NOTES = "Made by a data migration from the exhibit's markings when components were introduced; check and correct."


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
    """As evidence.custody.snapshot, without the row's timestamps."""
    return {
        field.attname: json_value(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
        if field.name not in TIMESTAMPS
    }


class Chain:
    """One case's ledger as this migration extends it: appends at the head, hashed as append_event does."""

    def __init__(self, CustodyEvent, case):
        self.model, self.case = CustodyEvent, case
        last = CustodyEvent.objects.filter(case=case).order_by("-sequence").only("sequence", "hash").first()
        self.seq, self.hash = (last.sequence, last.hash) if last else (0, ledger.GENESIS_HASH)

    def append(self, *, event_type, subject_type, subject_id, subject_label, payload):
        seq = self.seq + 1
        recorded_at = occurred_at = timezone.now()
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


def groups_of(item, markings):
    """The components to make of an item's unattached markings: (manufacturer_id, part_number, markings)."""
    if item.kind == "component":
        return [(item.manufacturer_id, item.part_number, list(markings))]
    keyed, maker_only, other = {}, [], []
    for marking in markings:
        if marking.part_number:
            keyed.setdefault((marking.manufacturer_id, marking.part_number), []).append(marking)
        elif marking.manufacturer_id:
            maker_only.append(marking)
        else:
            other.append(marking)
    for marking in maker_only:
        same_maker = [key for key in keyed if key[0] == marking.manufacturer_id]
        if len(same_maker) == 1:
            keyed[same_maker[0]].append(marking)
        else:
            keyed.setdefault((marking.manufacturer_id, ""), []).append(marking)
    groups = [(maker, part, found) for (maker, part), found in keyed.items()]
    if other:
        groups.append((None, "", other))
    return groups


def components_from_markings(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    EvidenceItem = apps.get_model("evidence", "EvidenceItem")
    Marking = apps.get_model("evidence", "Marking")
    Component = apps.get_model("evidence", "Component")
    CustodyEvent = apps.get_model("evidence", "CustodyEvent")

    case_ids = (
        EvidenceItem.objects.filter(markings__component__isnull=True)
        .order_by("case_id")
        .values_list("case_id", flat=True)
        .distinct()
    )
    for case_id in list(case_ids):
        case = Case.objects.select_for_update().get(pk=case_id)  # the ledger's append lock
        chain = Chain(CustodyEvent, case)
        items = EvidenceItem.objects.filter(case=case, markings__component__isnull=True).distinct().order_by("pk")
        for item in items:
            markings = Marking.objects.filter(item=item, component__isnull=True).order_by("pk")
            for manufacturer_id, part_number, found in groups_of(item, markings):
                as_marked = next((m.transcription for m in found if m.marking_type == "manufacturer"), "")
                component = Component.objects.create(
                    item=item,
                    function="other",
                    manufacturer_as_marked=as_marked.strip()[:200],
                    manufacturer_id=manufacturer_id,
                    part_number=part_number,
                    notes=NOTES,
                    recorded_by_id=found[0].transcribed_by_id,
                )
                ids = [marking.pk for marking in found]
                Marking.objects.filter(pk__in=ids).update(component=component)
                state = snapshot(component)
                state["exhibit"] = item.exhibit_number
                label = f"{item.exhibit_number} component {component.pk}"
                chain.append(
                    event_type="component.recorded",
                    subject_type="component",
                    subject_id=component.pk,
                    subject_label=label,
                    payload={"component": state, "markings": sorted(ids), "reason": REASON},
                )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_components_and_trace_requests"),
        ("evidence", "0018_components_and_trace_requests"),
    ]

    operations = [migrations.RunPython(components_from_markings, migrations.RunPython.noop)]
