"""A nesting limit for JSON that clients send: the API's parser and the admin's JSON form fields.

Python's json module recurses once per level: about 1,000 levels raise RecursionError (a 500),
and fewer can still exhaust the stack of code that walks the result later (serializers, the
ledger's canonical encoding). No record of Attest nests anywhere near MAX_DEPTH.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext_lazy as _

MAX_DEPTH = 32
# A JSON string (its escapes included) or a bracket; brackets inside strings do not nest anything.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")


def nested_deeper_than(data: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text opens more than `limit` arrays or objects inside one another.

    Reads the text once without parsing it. Invalid JSON may be counted loosely: the parser refuses
    it anyway.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if data.count(b"[") + data.count(b"{") <= limit:  # the common case, at C speed
        return False
    depth = 0
    for match in _TOKEN.finditer(data):
        token = match.group()
        if token[0] in _OPENING:
            depth += 1
            if depth > limit:
                return True
        elif token[0] != ord('"'):
            depth -= 1
    return False


TOO_DEEP = _("The JSON is nested more than %(limit)s levels deep.")


class JSONFormField(forms.JSONField):
    """Django's JSON form field, refusing deeply nested input as invalid rather than failing with a 500."""

    def to_python(self, value):
        if isinstance(value, str | bytes) and nested_deeper_than(value):
            raise ValidationError(TOO_DEEP, code="too_deep", params={"limit": MAX_DEPTH})
        return super().to_python(value)

    def bound_data(self, data, initial):
        # The refused form is shown again with what was typed: as text, not parsed a second time.
        if not self.disabled and isinstance(data, str) and nested_deeper_than(data):
            return InvalidJSONInput(data)
        return super().bound_data(data, initial)
