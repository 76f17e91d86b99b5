"""Field definitions more than one model repeats: coordinates in decimal degrees (WGS 84), lists of names."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext

LATITUDE_VALIDATORS = [MinValueValidator(-90), MaxValueValidator(90)]
LONGITUDE_VALIDATORS = [MinValueValidator(-180), MaxValueValidator(180)]


def _degrees(verbose_name, validators, options) -> models.DecimalField:
    """Six decimals (about 0.1 m), optional: a place is often not known that closely, or at all."""
    options.setdefault("validators", validators)
    return models.DecimalField(verbose_name, max_digits=9, decimal_places=6, null=True, blank=True, **options)


def latitude_field(verbose_name, **options) -> models.DecimalField:
    """An optional latitude, -90 to 90 (pair it with latitude_range() in the model's constraints)."""
    return _degrees(verbose_name, LATITUDE_VALIDATORS, options)


def longitude_field(verbose_name, **options) -> models.DecimalField:
    """An optional longitude, -180 to 180 (pair it with longitude_range() in the model's constraints)."""
    return _degrees(verbose_name, LONGITUDE_VALIDATORS, options)


def _within(field: str, bound: int, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": -bound, f"{field}__lte": bound}),
        name=name,
    )


def latitude_range(field: str, *, name: str) -> models.CheckConstraint:
    """The database's own check of a latitude field: empty or -90 to 90."""
    return _within(field, 90, name)


def longitude_range(field: str, *, name: str) -> models.CheckConstraint:
    """The database's own check of a longitude field: empty or -180 to 180."""
    return _within(field, 180, name)


# Room for the longest alias lists of sanctions lists (a few dozen names), and a bound on what one row holds.
MAX_NAMES = 200


@deconstructible
class NamesValidator:
    """A list of names: each a non-blank string of at most `max_length` characters (a form or an API
    client could store 5 or "Acme", which dossiers then read letter by letter)."""

    def __init__(self, max_length: int):
        self.max_length = max_length

    def __call__(self, value) -> None:
        if not isinstance(value, list):
            raise ValidationError(gettext('Give a list of names, e.g. ["KN-23"].'), code="not_a_list")
        if len(value) > MAX_NAMES:
            raise ValidationError(gettext("Give at most %(most)d names.") % {"most": MAX_NAMES}, code="too_many")
        for name in value:
            if not isinstance(name, str) or not name.strip():
                raise ValidationError(gettext("Every name is a text that is not blank."), code="not_a_name")
            if len(name) > self.max_length:
                raise ValidationError(
                    gettext("A name has at most %(most)d characters.") % {"most": self.max_length}, code="too_long"
                )

    def __eq__(self, other) -> bool:
        return isinstance(other, NamesValidator) and other.max_length == self.max_length


def as_names(value, *, max_length: int | None = None) -> list[str]:
    """A stored value read as a list of names, as NamesValidator wants it: a bare string is one name;
    what is not text, or blank, is left out; at most MAX_NAMES, each cut to `max_length`."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [name[:max_length] for name in value if isinstance(name, str) and name.strip()][:MAX_NAMES]


def names_field(verbose_name, *, max_length: int, **options) -> models.JSONField:
    """Other names (aliases, programmes): a JSON list of strings, empty by default."""
    return models.JSONField(verbose_name, default=list, blank=True, validators=[NamesValidator(max_length)], **options)
