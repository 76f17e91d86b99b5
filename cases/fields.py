"""Field definitions more than one model repeats: coordinates in decimal degrees (WGS 84)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

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
