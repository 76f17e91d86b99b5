"""What a failed photo or export stores for users: a stable code with its parameters, shown in the reader's
language (the code's label is the message), and the English text the API returns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils import translation


def failure(code: models.TextChoices, **params) -> dict[str, Any]:
    """The fields a failure is stored in: error_code, error_params and the English error."""
    with translation.override(None):
        text = str(code.label) % params
    return {"error": text, "error_code": code.value, "error_params": params}


def failure_for_users(
    exc: BaseException, *, generic: models.TextChoices, vetted: Mapping[type[BaseException], models.TextChoices | None]
) -> dict[str, Any]:
    """What a failure stored on a row for users to read says, as failure() gives it.

    Only errors of a `vetted` kind pass: with their own message and no code when they map to None (written
    for people, like PhotoRejected's), else with the code they map to. Anything else gives `generic`:
    exception text names temporary files, server paths, hosts and library internals. The caller
    logs the exception itself, so the detail stays in the server log.
    """
    for kind, code in vetted.items():
        if isinstance(exc, kind):
            return failure(code) if code is not None else {"error": str(exc), "error_code": "", "error_params": {}}
    return failure(generic)
