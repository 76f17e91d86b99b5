"""Global reference data: who may change it, and the record of every change.

Entities (and their `sanctioned` flag), manufacturers, weapon systems, sanctions regimes and provisions
are shared by every case, and every case's sanctions report rests on them. Reading them is for every
user; creating, changing or deleting them needs the cases.edit_reference_data permission (the group
"Reference data editors" has it; superusers have every permission). Each change is written, in the
same transaction, to the append-only ReferenceChange trail with the row before and after.
"""

from __future__ import annotations

import json

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils.translation import gettext as _

from cases.choices import EntityKind, ReferenceAction
from cases.models import Entity, ReferenceChange

PERMISSION = "cases.edit_reference_data"
EDITORS_GROUP = "Reference data editors"
# The models whose rows are reference data, as app_label.model_name.
MODELS = ("cases.weaponsystem", "cases.sanctionsregime", "cases.sanctionsprovision", "cases.entity",
          "evidence.manufacturer")  # fmt: skip


def reference_models() -> list[type[models.Model]]:
    return [apps.get_model(label) for label in MODELS]


def editors_group():
    """The group "Reference data editors", holding the permission. Migration 0005 makes it; this makes it
    again where it is gone (a flushed database keeps permissions, which post_migrate recreates, not groups)."""
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name=EDITORS_GROUP)
    app_label, codename = PERMISSION.split(".")
    group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


def may_edit(user) -> bool:
    """Whether the user may create, change or delete reference data."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(PERMISSION))


def require_editor(actor) -> None:
    """actor None is an operator's command (import_sdn), which the shell already trusts."""
    if actor is not None and not may_edit(actor):
        raise PermissionDenied(_("Changing reference data needs the permission of a reference data editor."))


def _check_model(model: type[models.Model]) -> None:
    if model._meta.label_lower not in MODELS:
        raise ValueError(f"{model._meta.label} is not reference data")


def state(instance: models.Model) -> dict:
    """The row's stored values as JSON (foreign keys by id), as the trail keeps them; the trail has its own
    times, so the row's created_at and updated_at are left out."""
    values = {
        field.attname: field.value_from_object(instance)
        for field in instance._meta.concrete_fields
        if not (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
    }
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def _record(*, actor, via: str, action: str, instance: models.Model, before: dict | None, after: dict | None):
    changed = sorted(
        name for name in set(before or {}) | set(after or {}) if (before or {}).get(name) != (after or {}).get(name)
    )
    return ReferenceChange.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        via=via[:20],
        action=action,
        model=instance._meta.label_lower,
        object_id=instance.pk,
        object_label=str(instance)[:300],
        before=before,
        after=after,
        changed=changed,
    )


@transaction.atomic
def create_reference(*, actor, model: type[models.Model], via: str, **fields) -> models.Model:
    """Create one row of reference data: an editor's right. Recorded with its values."""
    _check_model(model)
    require_editor(actor)
    return _create(actor=actor, model=model, via=via, fields=fields)


def _create(*, actor, model: type[models.Model], via: str, fields: dict) -> models.Model:
    unknown = set(fields) - {field.name for field in model._meta.concrete_fields}
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    instance = model(**fields)
    instance.full_clean()
    instance.save()
    _record(actor=actor, via=via, action=ReferenceAction.CREATED, instance=instance, before=None, after=state(instance))
    return instance


@transaction.atomic
def add_named_organisation(*, actor, via: str, name: str, remarks: str) -> models.Model:
    """An organisation that case work names, such as a trace response's distributor: added by whoever
    may record that work (the caller checks the case role), never as sanctioned, and recorded as any
    other change, so the trail holds every entity however it arrived."""
    return _create(
        actor=actor, model=Entity, via=via,
        fields={"kind": EntityKind.ORGANISATION, "name": name, "sanctioned": False, "remarks": remarks},
    )  # fmt: skip


@transaction.atomic
def update_reference(*, actor, instance: models.Model, via: str, **changes) -> models.Model:
    """Change one row of reference data: an editor's right. Recorded with its values before and after;
    a change that changes nothing records nothing."""
    model = type(instance)
    _check_model(model)
    require_editor(actor)
    editable = {field.name for field in model._meta.concrete_fields if not field.primary_key}
    unknown = set(changes) - editable
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    current = model._default_manager.select_for_update().get(pk=instance.pk)
    before = state(current)
    for name, value in changes.items():
        setattr(current, name, value)
    current.full_clean()
    current.save()
    after = state(current)
    if after != before:
        _record(actor=actor, via=via, action=ReferenceAction.CHANGED, instance=current, before=before, after=after)
    return current


def uses(instance: models.Model) -> list[str]:
    """What refers to the row, counted by kind ("cases: 2"): a case's entities or legal basis, a
    component's maker, another row of reference data. Deleting the row would change them unrecorded (a
    many-to-many link is simply removed), so a row in use is not deleted. Counted, never named: an
    editor need not be on those cases."""
    found = []
    for relation in instance._meta.related_objects:
        model = relation.related_model
        count = model._base_manager.filter(**{relation.field.name: instance}).count()
        if count:
            found.append(f"{model._meta.verbose_name_plural}: {count}")
    return found


@transaction.atomic
def delete_reference(*, actor, instance: models.Model, via: str) -> None:
    """Delete one row of reference data that nothing refers to: an editor's right."""
    model = type(instance)
    _check_model(model)
    require_editor(actor)
    current = model._default_manager.select_for_update().get(pk=instance.pk)
    in_use = uses(current)
    if in_use:
        raise ValidationError(
            _("%(row)s is in use and cannot be deleted: %(uses)s.") % {"row": current, "uses": "; ".join(in_use)}
        )
    _record(actor=actor, via=via, action=ReferenceAction.DELETED, instance=current, before=state(current), after=None)
    current.delete()
