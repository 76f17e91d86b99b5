"""Components of exhibits and the date codes read off them: recorded, corrected, verified by a second
person, withdrawn; every step in the ledger. Nothing is deleted: a correction or withdrawal is a new event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import Role
from cases.models import refuse_long_text
from cases.services import require_role
from evidence import custody
from evidence.choices import EventType, SubjectType
from evidence.lib import daterules
from evidence.models import Component, DateCodeReading, EvidenceItem, Marking
from evidence.services.common import apply_changes, reject_unknown
from evidence.services.withdrawals import withdraw

COMPONENT_FIELDS = (
    "designator", "function", "manufacturer_as_marked", "manufacturer", "part_number", "lot_code", "notes",
)  # fmt: skip
UNCHECKED = ["item", "recorded_by", "distributor"]


def _state(instance, **extra) -> dict:
    return {**custody.snapshot(instance, exclude=("created_at", "updated_at")), **extra}


def _marking_ids(component: Component) -> list[int]:
    return sorted(Marking.objects.filter(component=component).values_list("pk", flat=True))


def component_event(component: Component, event_type: str, actor, extra: dict | None = None):
    """A component's event: its full state, its exhibit and the markings attached to it."""
    payload = {
        "component": _state(component, exhibit=component.item.exhibit_number),
        "markings": _marking_ids(component),
        **(extra or {}),
    }
    return custody.append_event(
        case=component.item.case,
        event_type=event_type,
        subject_type=SubjectType.COMPONENT,
        subject_id=component.pk,
        subject_label=component.label,
        actor=actor,
        payload=payload,
    )


def reading_event(reading: DateCodeReading, event_type: str, actor, extra: dict | None = None):
    component = reading.component
    payload = {"reading": _state(reading, exhibit=component.item.exhibit_number), **(extra or {})}
    return custody.append_event(
        case=component.item.case,
        event_type=event_type,
        subject_type=SubjectType.READING,
        subject_id=reading.pk,
        subject_label=f"{component.label} reading {reading.pk}",
        actor=actor,
        payload=payload,
    )


def _checked_markings(item: EvidenceItem, markings: Iterable[Marking], *, component: Component | None = None):
    """The markings, locked, if each is a standing marking of the item (or of the item it was taken from)
    and not already on another component."""
    ids = sorted({marking.pk for marking in markings})
    if not ids:
        return []
    found = list(Marking.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(found) != len(ids):
        raise ValidationError({"markings": _("A marking named does not exist.")})
    for marking in found:
        if marking.item_id not in (item.pk, item.parent_id):
            raise ValidationError(
                {"markings": _("Marking %(id)s is of another exhibit.") % {"id": marking.pk}}, code="other_item"
            )
        if marking.withdrawn_at:
            raise ValidationError({"markings": _("Marking %(id)s was withdrawn.") % {"id": marking.pk}})
        if marking.component_id and (component is None or marking.component_id != component.pk):
            raise ValidationError(
                {"markings": _("Marking %(id)s is already on another component.") % {"id": marking.pk}}
            )
    return found


def _attach(component: Component, markings: list[Marking]) -> list[int]:
    """Set `component` on the markings. The component's own event records which markings it has (its
    "markings" list), so this needs no marking event of its own: a marking's reading is unchanged."""
    attached = [marking.pk for marking in markings if marking.component_id != component.pk]
    if attached:
        Marking.objects.filter(pk__in=attached).update(component=component, updated_at=timezone.now())
    return attached


@transaction.atomic
def record_component(
    *,
    actor,
    item: EvidenceItem,
    function: str,
    designator: str = "",
    manufacturer_as_marked: str = "",
    manufacturer=None,
    part_number: str = "",
    lot_code: str = "",
    notes: str = "",
    markings: Iterable[Marking] = (),
) -> Component:
    """Record one physical component of an exhibit, with the markings read off it: an analyst's right."""
    require_role(case=item.case, actor=actor, role=Role.ANALYST)
    component = Component(
        item=item,
        recorded_by=actor,
        function=function,
        designator=designator,
        manufacturer_as_marked=manufacturer_as_marked,
        manufacturer=manufacturer,
        part_number=part_number,
        lot_code=lot_code,
        notes=notes,
    )
    component.full_clean(exclude=UNCHECKED)
    found = _checked_markings(item, markings)
    component.save()
    _attach(component, found)
    component_event(component, EventType.COMPONENT_RECORDED, actor)
    return component


def _locked_current(component: Component) -> Component:
    component = Component.objects.select_for_update().select_related("item__case").get(pk=component.pk)
    if component.withdrawn_at:
        raise ValidationError({"component": _("A withdrawn component cannot be changed.")})
    return component


@transaction.atomic
def correct_component(*, actor, component: Component, reason: str, **changes) -> Component:
    """Change what was recorded of a component; the event names the fields changed and why."""
    require_role(case=component.item.case, actor=actor, role=Role.ANALYST)
    reject_unknown(changes, COMPONENT_FIELDS)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the component is corrected.")})
    refuse_long_text(reason=reason)
    component = _locked_current(component)
    changed = apply_changes(component, changes)
    if not changed:
        return component
    component.full_clean(exclude=UNCHECKED)
    component.save()
    component_event(component, EventType.COMPONENT_CORRECTED, actor, {"changed": changed, "reason": reason})
    return component


@transaction.atomic
def attach_markings(*, actor, component: Component, markings: Iterable[Marking]) -> Component:
    """Attach more markings to a component (a component.corrected event naming "markings")."""
    require_role(case=component.item.case, actor=actor, role=Role.ANALYST)
    component = _locked_current(component)
    found = _checked_markings(component.item, markings, component=component)
    if not found:
        raise ValidationError({"markings": _("Name the markings to attach.")})
    if not _attach(component, found):
        return component
    component.save(update_fields=["updated_at"])
    component_event(component, EventType.COMPONENT_CORRECTED, actor, {"changed": ["markings"]})
    return component


@transaction.atomic
def withdraw_component(*, actor, component: Component, reason: str) -> Component:
    """Withdraw a component recorded in error; it stays on record, with its markings and readings."""
    return withdraw(
        actor=actor,
        case=component.item.case,
        row=component,
        rows=Component.objects.select_related("item__case"),
        reason=reason,
        say_why=_("Say why the component is withdrawn."),
        record_event=component_event,
        event_type=EventType.COMPONENT_WITHDRAWN,
    )


# --- Date-code readings -------------------------------------------------------------------------------------


def _rule_named(text: str) -> daterules.Rule:
    name, _slash, version = text.strip().partition("/")
    try:
        return daterules.rule_by_name(name.strip(), version.strip() or None)
    except KeyError:
        raise ValidationError({"rule": _("There is no date-code rule %(rule)s.") % {"rule": text}}) from None


def _not_after(component: Component) -> dt.date:
    """A part cannot have been made after its exhibit was recovered (or, failing that, today)."""
    recovered = component.item.recovered_at
    return timezone.localdate(recovered) if recovered else timezone.localdate()


@transaction.atomic
def record_reading(
    *,
    actor,
    component: Component,
    raw_code: str,
    marking: Marking | None = None,
    rule: str = "",
    not_after: dt.date | None = None,
) -> DateCodeReading:
    """Read a date code off a component: every production window the rules allow is kept, none is picked.

    With `rule` ("NAME" or "NAME/VERSION") only that rule reads it. An analyst's right.
    """
    require_role(case=component.item.case, actor=actor, role=Role.ANALYST)
    component = _locked_current(component)
    code = (raw_code or "").strip()
    if not code:
        raise ValidationError({"raw_code": _("Write the code exactly as read.")})
    if marking is not None:
        marking = Marking.objects.get(pk=marking.pk)
        own = marking.component_id == component.pk
        if not own and marking.item_id not in (component.item_id, component.item.parent_id):
            raise ValidationError({"marking": _("The marking is of another exhibit.")})
        if marking.withdrawn_at:
            raise ValidationError({"marking": _("The marking was withdrawn.")})
    limit = not_after or _not_after(component)
    if rule.strip():
        chosen = _rule_named(rule)
        windows = daterules.read_code(code, rules=[chosen], not_after=limit)
        if not windows:
            raise ValidationError(
                {"rule": _("The rule %(rule)s does not read this code.") % {"rule": f"{chosen.name}/{chosen.version}"}}
            )
    else:
        windows = daterules.read_code(code, not_after=limit)
        if not windows:
            raise ValidationError({"raw_code": _("No rule reads this code as a date; no reading is recorded.")})
    rules = sorted({(window.rule, window.version) for window in windows})
    reading = DateCodeReading(
        component=component,
        marking=marking,
        raw_code=code,
        rule=f"{rules[0][0]}/{rules[0][1]}" if len(rules) == 1 else "",
        windows=[
            {
                "rule": window.rule,
                "version": window.version,
                "earliest": window.earliest.isoformat(),
                "latest": window.latest.isoformat(),
            }
            for window in windows
        ],
        earliest=min(window.earliest for window in windows),
        latest=max(window.latest for window in windows),
        recorded_by=actor,
    )
    reading.full_clean(exclude=["component", "marking", "recorded_by", "verified_by"])
    reading.save()
    reading_event(reading, EventType.READING_RECORDED, actor)
    return reading


def _locked_reading(reading: DateCodeReading) -> DateCodeReading:
    return DateCodeReading.objects.select_for_update().select_related("component__item__case").get(pk=reading.pk)


@transaction.atomic
def verify_reading(*, actor, reading: DateCodeReading) -> DateCodeReading:
    """The four-eyes rule: another analyst of the case, not the one who read it, confirms the reading."""
    require_role(case=reading.component.item.case, actor=actor, role=Role.ANALYST)
    reading = _locked_reading(reading)
    if reading.recorded_by_id == actor.pk:
        raise PermissionDenied(_("Whoever read the code cannot verify the reading; a second person must."))
    if reading.withdrawn_at:
        raise ValidationError({"reading": _("A withdrawn reading cannot be verified.")})
    if reading.verified_by_id:
        return reading
    reading.verified_by, reading.verified_at = actor, timezone.now()
    reading.save(update_fields=["verified_by", "verified_at", "updated_at"])
    reading_event(reading, EventType.READING_VERIFIED, actor)
    return reading


@transaction.atomic
def withdraw_reading(*, actor, reading: DateCodeReading, reason: str) -> DateCodeReading:
    return withdraw(
        actor=actor,
        case=reading.component.item.case,
        row=reading,
        rows=DateCodeReading.objects.select_related("component__item__case"),
        reason=reason,
        say_why=_("Say why the reading is withdrawn."),
        record_event=reading_event,
        event_type=EventType.READING_WITHDRAWN,
    )
