"""Component markings: transcribed, corrected, verified by a second person, withdrawn; all in the ledger."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import Role
from cases.models import refuse_long_text
from cases.services import require_role
from evidence import custody
from evidence.choices import EventType, SubjectType
from evidence.models import EvidenceItem, Marking, Photo
from evidence.services.common import reject_unknown
from evidence.services.withdrawals import withdraw

MARKING_FIELDS = (
    "transcription", "marking_type", "confidence", "photo", "region", "manufacturer", "part_number",
    "interpreted_date", "interpreted_date_precision",
)  # fmt: skip


def marking_event(marking: Marking, event_type: str, actor, extra: dict | None = None):
    payload = {"marking": custody.snapshot(marking, exclude=("created_at", "updated_at"))}
    payload["marking"]["exhibit"] = marking.item.exhibit_number
    if marking.photo_id:
        payload["marking"]["photo_sha256"] = marking.photo.original.sha256
    payload.update(extra or {})
    return custody.append_event(
        case=marking.item.case,
        event_type=event_type,
        subject_type=SubjectType.MARKING,
        subject_id=marking.pk,
        subject_label=marking.label,
        actor=actor,
        payload=payload,
    )


def _apply(marking: Marking, fields: dict) -> None:
    region = fields.pop("region", ...)
    for name, value in fields.items():
        setattr(marking, name, value)
    if region is not ...:
        marking.region_x, marking.region_y, marking.region_width, marking.region_height = region or (None,) * 4
    _check_photo_and_region(marking)
    marking.full_clean(exclude=["item", "transcribed_by", "verified_by"])


def _check_photo_and_region(marking: Marking) -> None:
    if marking.photo_id is None:
        if marking.region_x is not None:
            raise ValidationError({"region": _("A region needs the photo it is drawn on.")})
        return
    photo: Photo = marking.photo
    if photo.item_id not in (marking.item_id, marking.item.parent_id):
        raise ValidationError({"photo": _("The photo shows neither this item nor the item it was taken from.")})
    if marking.region_x is None:
        return
    x, y, width, height = marking.region
    if width <= 0 or height <= 0 or x < 0 or y < 0 or x + width > photo.width or y + height > photo.height:
        raise ValidationError(
            {
                "region": _("The region must lie within the original's %(w)s by %(h)s pixels.")
                % {"w": photo.width, "h": photo.height}
            }
        )


@transaction.atomic
def record_marking(*, actor, item: EvidenceItem, **fields) -> Marking:
    """Record a marking as transcribed: an analyst's right."""
    require_role(case=item.case, actor=actor, role=Role.ANALYST)
    reject_unknown(fields, MARKING_FIELDS)
    if not str(fields.get("transcription", "")).strip():
        raise ValidationError({"transcription": _("Write the marking exactly as seen.")})
    marking = Marking(item=item, transcribed_by=actor)
    _apply(marking, dict(fields))
    marking.save()
    marking_event(marking, EventType.MARKING_RECORDED, actor)
    return marking


@transaction.atomic
def correct_marking(*, actor, marking: Marking, reason: str, **changes) -> Marking:
    """Change a marking's reading. A verified marking goes back to unverified: the change needs new eyes."""
    require_role(case=marking.item.case, actor=actor, role=Role.ANALYST)
    reject_unknown(changes, MARKING_FIELDS)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the marking is corrected.")})
    refuse_long_text(reason=reason)
    marking = Marking.objects.select_for_update().get(pk=marking.pk)
    if marking.withdrawn_at:
        raise ValidationError({"marking": _("A withdrawn marking cannot be corrected.")})
    before = custody.snapshot(marking, exclude=("created_at", "updated_at"))
    _apply(marking, dict(changes))
    after = custody.snapshot(marking, exclude=("created_at", "updated_at"))
    changed = sorted(name for name in after if after[name] != before[name])
    if not changed:
        return marking
    marking.verified_by, marking.verified_at = None, None
    marking.save()
    marking_event(marking, EventType.MARKING_CORRECTED, actor, {"changed": changed, "reason": reason})
    return marking


@transaction.atomic
def verify_marking(*, actor, marking: Marking) -> Marking:
    """The four-eyes rule: another member of the case, not the transcriber, confirms the reading."""
    require_role(case=marking.item.case, actor=actor, role=Role.ANALYST)
    marking = Marking.objects.select_for_update().get(pk=marking.pk)
    if marking.transcribed_by_id == actor.pk:
        raise PermissionDenied(_("The transcriber cannot verify their own marking; a second person must."))
    if marking.withdrawn_at:
        raise ValidationError({"marking": _("A withdrawn marking cannot be verified.")})
    if marking.verified_by_id:
        return marking
    marking.verified_by, marking.verified_at = actor, timezone.now()
    marking.save(update_fields=["verified_by", "verified_at", "updated_at"])
    marking_event(marking, EventType.MARKING_VERIFIED, actor)
    return marking


@transaction.atomic
def withdraw_marking(*, actor, marking: Marking, reason: str) -> Marking:
    return withdraw(
        actor=actor,
        case=marking.item.case,
        row=marking,
        rows=Marking.objects,
        reason=reason,
        say_why=_("Say why the marking is withdrawn."),
        record_event=marking_event,
        event_type=EventType.MARKING_WITHDRAWN,
    )
