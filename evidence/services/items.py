"""Evidence items: recording, describing, handing over and examining exhibits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cases.choices import Role
from cases.models import Case, refuse_long_text
from cases.services import require_role
from evidence import custody
from evidence.choices import EventType, ItemKind, ItemStatus, SubjectType
from evidence.models import CustodyEvent, EvidenceItem
from evidence.services.common import apply_changes, reject_unknown

ITEM_FIELDS = (
    "kind", "title", "description", "incident", "parent", "recovered_at", "recovered_by", "recovery_place",
    "recovery_latitude", "recovery_longitude", "custodian", "storage_location", "seal_number", "condition",
    "status", "manufacturer", "part_number", "country_of_origin", "manufactured_on", "manufactured_precision",
)  # fmt: skip
COMPONENT_FIELDS = ("manufacturer", "part_number", "country_of_origin", "manufactured_on", "manufactured_precision")
# Custody changes go through transfer_custody, so the ledger says who handed what to whom.
UPDATABLE_ITEM_FIELDS = tuple(name for name in ITEM_FIELDS if name not in ("custodian", "status"))


def _check_links(item: EvidenceItem) -> None:
    errors = {}
    if item.kind != ItemKind.COMPONENT:
        for name in COMPONENT_FIELDS:
            if getattr(item, name) not in (None, ""):
                errors[name] = _("Only a component records what it was identified as.")
    if item.incident_id and item.incident.case_id != item.case_id:
        errors["incident"] = _("The incident belongs to another case.")
    if item.parent_id:
        if item.parent.case_id != item.case_id:
            errors["parent"] = _("The parent item belongs to another case.")
        elif item.pk and _is_descendant(item.parent, item):
            errors["parent"] = _("An item cannot be taken out of itself or of its own parts.")
    if errors:
        raise ValidationError(errors)


def _is_descendant(candidate: EvidenceItem, ancestor: EvidenceItem) -> bool:
    node = candidate
    while node is not None:
        if node.pk == ancestor.pk:
            return True
        node = node.parent
    return False


def next_exhibit_number(case: Case) -> str:
    """EX-0001, EX-0002 …; called under the case lock. Items are never deleted, so never reused."""
    numbers = [
        int(number.removeprefix("EX-"))
        for number in EvidenceItem.objects.filter(case=case).values_list("exhibit_number", flat=True)
        if number.startswith("EX-") and number[3:].isdigit()
    ]
    return f"EX-{max(numbers, default=0) + 1:04d}"


def item_event(
    *, item: EvidenceItem, event_type: str, actor, extra: dict | None = None, occurred_at=None, corrects=None
) -> CustodyEvent:
    payload = {"item": custody.snapshot(item, exclude=("created_at", "updated_at"))}
    if extra:
        payload.update(extra)
    return custody.append_event(
        case=item.case,
        event_type=event_type,
        subject_type=SubjectType.EVIDENCE_ITEM,
        subject_id=item.pk,
        subject_label=item.exhibit_number,
        actor=actor,
        payload=payload,
        occurred_at=occurred_at,
        corrects=corrects,
    )


@transaction.atomic
def create_item(*, actor, case: Case, **fields) -> EvidenceItem:
    """Record a new exhibit: an investigator's right. Its number is the next in the case."""
    require_role(case=case, actor=actor, role=Role.INVESTIGATOR)
    reject_unknown(fields, ITEM_FIELDS)
    custody.lock_case(case)
    item = EvidenceItem(case=case, **fields)
    item.exhibit_number = next_exhibit_number(case)
    item.full_clean(exclude=["exhibit_number"])
    _check_links(item)
    item.save()
    item_event(item=item, event_type=EventType.ITEM_CREATED, actor=actor, occurred_at=item.recovered_at)
    return item


@transaction.atomic
def update_item(*, actor, item: EvidenceItem, reason: str = "", **changes) -> EvidenceItem:
    """Change an exhibit's description: the new state goes to the ledger with the fields changed."""
    require_role(case=item.case, actor=actor, role=Role.INVESTIGATOR)
    reject_unknown(changes, UPDATABLE_ITEM_FIELDS)
    refuse_long_text(reason=reason)
    item = EvidenceItem.objects.select_for_update().get(pk=item.pk)
    changed = apply_changes(item, changes)
    if not changed:
        return item
    item.full_clean()
    _check_links(item)
    item.save()
    item_event(
        item=item,
        event_type=EventType.ITEM_UPDATED,
        actor=actor,
        extra={"changed": changed, "reason": reason},
    )
    return item


@transaction.atomic
def transfer_custody(
    *,
    actor,
    item: EvidenceItem,
    to_custodian: str,
    occurred_at: dt.datetime,
    place: str = "",
    purpose: str = "",
    seal_intact: bool = True,
    seal_number: str | None = None,
    storage_location: str | None = None,
    status: str = ItemStatus.TRANSFERRED,
    notes: str = "",
) -> CustodyEvent:
    """Hand an exhibit to a new custodian: an investigator's right."""
    require_role(case=item.case, actor=actor, role=Role.INVESTIGATOR)
    item = EvidenceItem.objects.select_for_update().get(pk=item.pk)
    if not to_custodian.strip():
        raise ValidationError({"to_custodian": _("Name who receives the item.")})
    if status not in ItemStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    refuse_long_text(place=place, purpose=purpose, notes=notes)
    if item.status == ItemStatus.DESTROYED:
        raise ValidationError({"status": _("A destroyed item cannot change hands.")})
    from_custodian = item.custodian
    item.custodian = to_custodian.strip()
    item.status = status
    if seal_number is not None:
        item.seal_number = seal_number
    if storage_location is not None:
        item.storage_location = storage_location
    item.full_clean()
    item.save()
    transfer = {
        "from": from_custodian,
        "to": item.custodian,
        "place": place,
        "purpose": purpose,
        "seal_intact": bool(seal_intact),
        "notes": notes,
    }
    return item_event(
        item=item,
        event_type=EventType.CUSTODY_TRANSFER,
        actor=actor,
        extra={"transfer": transfer},
        occurred_at=occurred_at,
    )


@transaction.atomic
def record_examination(
    *, actor, item: EvidenceItem, occurred_at: dt.datetime, examiner: str, place: str = "", findings: str
) -> CustodyEvent:
    """Record that an exhibit was examined, by whom and with what findings."""
    require_role(case=item.case, actor=actor, role=Role.INVESTIGATOR)
    if not findings.strip():
        raise ValidationError({"findings": _("Describe what the examination found.")})
    refuse_long_text(examiner=examiner, place=place, findings=findings)
    examination = {"examiner": examiner, "place": place, "findings": findings}
    return item_event(
        item=item,
        event_type=EventType.EXAMINATION,
        actor=actor,
        extra={"examination": examination},
        occurred_at=occurred_at,
    )


@transaction.atomic
def correct_event(*, actor, event: CustodyEvent, reason: str, correction: dict[str, Any]) -> CustodyEvent:
    """A correction is a new event naming the one it corrects; the original stays as it was."""
    require_role(case=event.case, actor=actor, role=Role.INVESTIGATOR)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the event is corrected.")})
    if not isinstance(correction, dict) or not correction:
        raise ValidationError({"correction": _("Give the corrected values as an object.")})
    refuse_long_text(reason=reason)
    return custody.append_event(
        case=event.case,
        event_type=EventType.CORRECTION,
        subject_type=SubjectType.EVENT,
        subject_id=event.pk,
        subject_label=f"#{event.sequence}",
        actor=actor,
        payload={"reason": reason, "correction": custody.json_value(correction)},
        corrects=event,
    )


def check_fixity(*, actor, case: Case) -> custody.CaseReport:
    """Verify a case on request and record the outcome: an investigator's right.

    It appends to the ledger and re-hashes every file of the case, so viewers and analysts may not
    set it off (the daily check and verify_custody cover them). The role is checked before any file
    is read; the verification runs outside a transaction, the record in one of its own.
    """
    require_role(case=case, actor=actor, role=Role.INVESTIGATOR)
    report = custody.verify_case(case)
    record_fixity_check(case=case, report=report, actor=actor)
    return report


@transaction.atomic
def record_fixity_check(*, case: Case, report: custody.CaseReport, actor=None) -> CustodyEvent:
    """Write the outcome of a verification into the ledger itself."""
    return custody.append_event(
        case=case,
        event_type=EventType.FIXITY_CHECK,
        subject_type=SubjectType.CASE,
        subject_id=case.pk,
        subject_label=case.reference,
        actor=actor,
        payload=custody.json_value(report.as_dict()),
    )
