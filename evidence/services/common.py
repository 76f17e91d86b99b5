"""Small helpers the evidence services share."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def reject_unknown(fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """A ValidationError naming every field a service does not take."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})


def apply_changes(instance, changes: dict[str, Any]) -> list[str]:
    """Set the changes on the instance; the names of those that differ, sorted (for the ledger)."""
    changed = sorted(name for name, value in changes.items() if getattr(instance, name) != value)
    for name in changed:
        setattr(instance, name, changes[name])
    return changed
