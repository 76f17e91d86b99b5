"""Small helpers the evidence services share."""

from __future__ import annotations

from collections.abc import Mapping
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


def message_for_users(exc: BaseException, *, generic: str, vetted: Mapping[type[BaseException], str | None]) -> str:
    """What a failure stored on a row for users to read (a photo's or an export's `error`) says.

    Only errors of a `vetted` kind pass: with their own message when it maps to None (written for
    people, like PhotoRejected's), else with the message it maps to. Anything else gives `generic`:
    exception text names temporary files, server paths, hosts and library internals. The caller
    logs the exception itself, so the detail stays in the server log.
    """
    for kind, message in vetted.items():
        if isinstance(exc, kind):
            return str(exc) if message is None else message
    return generic
