"""Adapter to a DRF internal: how a field reads its value from a model instance.

A list page of 50 rows calls Field.get_attribute() once per field and row (1,200 calls on the
incident list). For a field that shows a model field's value as stored, DRF's steps come down to
`getattr(instance, attname)`; for a primary-key relation, to the foreign key's column. reader()
returns that getattr where it holds, and None elsewhere (DRF's way is used then): a list page's
ratio to a bare `.values()` view is about a tenth lower (bench/bench_api.py; docs/architecture.md).

It depends on the code of DRF's `fields.get_attribute`, `Field.get_attribute`,
`RelatedField.get_attribute` and `PrimaryKeyRelatedField.to_representation`:
tests/api/test_drf_adapter.py pins DRF's version and a hash of each, so an upgrade that changes
them fails there, naming what to re-check here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from operator import attrgetter

from rest_framework import relations
from rest_framework.fields import Field

WRITTEN_FOR = "3.18.3"
RELIES_ON = (
    "rest_framework.fields.get_attribute",
    "rest_framework.fields.Field.get_attribute",
    "rest_framework.relations.RelatedField.get_attribute",
    "rest_framework.relations.PrimaryKeyRelatedField.to_representation",
)


def reader(field, model) -> tuple[Callable, Callable] | None:
    """(read the value from an instance of `model`, turn it into the field's output), or None."""
    if model is None or field.source == "*" or len(field.source_attrs) != 1:
        return None
    model_field = _concrete_fields(model).get(field.source)
    if model_field is None:
        return None
    if type(field).get_attribute is Field.get_attribute and not model_field.is_relation:
        # A stored value is never callable nor missing on an instance read from the table.
        return attrgetter(model_field.attname), field.to_representation
    if _shows_the_foreign_key(field) and model_field.many_to_one:
        return attrgetter(model_field.attname), _same  # the column holds the pk DRF would show
    return None


@cache
def _concrete_fields(model) -> dict:
    return {model_field.name: model_field for model_field in model._meta.concrete_fields}


def _shows_the_foreign_key(field) -> bool:
    return (
        isinstance(field, relations.PrimaryKeyRelatedField)
        and field.pk_field is None
        and type(field).get_attribute is relations.RelatedField.get_attribute
        and type(field).to_representation is relations.PrimaryKeyRelatedField.to_representation
    )


def _same(value):
    return value
