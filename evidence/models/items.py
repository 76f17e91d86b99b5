"""Evidence items: the exhibits of a case."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.fields import latitude_field, latitude_range, longitude_field, longitude_range
from cases.models import Case, Incident, TimestampedModel, bounded_text
from evidence.choices import ItemKind, ItemStatus, ManufacturePrecision
from evidence.models.base import UndeletableModel, UndeletableQuerySet


class EvidenceItem(UndeletableModel, TimestampedModel):
    """A physical or digital exhibit of a case, numbered EX-0001, EX-0002 … in the order recorded."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="items", verbose_name=_("case"))
    exhibit_number = models.CharField(_("exhibit number"), max_length=20, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ItemKind.choices)
    title = models.CharField(_("title"), max_length=300)
    description = bounded_text(_("description"), blank=True)
    incident = models.ForeignKey(
        Incident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("incident"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("taken from"),
        help_text=_("the item this one was taken out of, e.g. the debris a component came from"),
    )
    recovered_at = models.DateTimeField(_("recovered at"), null=True, blank=True)
    recovered_by = models.CharField(
        _("recovered by"),
        max_length=200,
        blank=True,
        help_text=_("free text: collectors are often not users"),
    )
    recovery_place = models.CharField(_("recovery place"), max_length=300, blank=True)
    recovery_latitude = latitude_field(_("recovery latitude"))
    recovery_longitude = longitude_field(_("recovery longitude"))
    custodian = models.CharField(_("current custodian"), max_length=200, blank=True)
    storage_location = models.CharField(_("storage location"), max_length=300, blank=True)
    seal_number = models.CharField(_("seal number"), max_length=100, blank=True)
    condition = bounded_text(_("condition"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ItemStatus.choices, default=ItemStatus.IN_CUSTODY)

    # What a component was identified as (items of kind "component").
    manufacturer = models.ForeignKey(
        "evidence.Manufacturer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="components",
        verbose_name=_("manufacturer"),
    )
    part_number = models.CharField(_("part number"), max_length=120, blank=True, db_index=True)
    country_of_origin = models.CharField(_("country of origin"), max_length=80, blank=True)
    manufactured_on = models.DateField(
        _("date of manufacture"), null=True, blank=True, help_text=_("the first day of the period it is known to")
    )
    manufactured_precision = models.CharField(
        _("precision of the date of manufacture"), max_length=8, choices=ManufacturePrecision.choices, blank=True
    )

    objects = UndeletableQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence item")
        verbose_name_plural = _("evidence items")
        ordering = ["case", "exhibit_number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "exhibit_number"], name="item_unique_exhibit_per_case"),
            models.CheckConstraint(
                condition=Q(manufactured_on__isnull=True) | ~Q(manufactured_precision=""),
                name="item_manufacture_date_has_precision",
            ),
            latitude_range("recovery_latitude", name="item_recovery_latitude_range"),
            longitude_range("recovery_longitude", name="item_recovery_longitude_range"),
        ]

    def __str__(self) -> str:
        return f"{self.exhibit_number} {self.title}"
