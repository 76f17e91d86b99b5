"""Components of exhibits (one physical part each) and the date codes read off them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import CaseScopedQuerySet, Entity, bounded_text
from evidence.choices import ComponentFunction
from evidence.models.base import UndeletableMixin, WithdrawableModel
from evidence.models.items import EvidenceItem
from evidence.models.markings import Manufacturer, Marking


class ComponentQuerySet(UndeletableMixin, CaseScopedQuerySet):
    case_lookup = "item__case_id"

    def current(self):
        return self.filter(withdrawn_at__isnull=True)


class Component(WithdrawableModel):
    """One physical component on a debris fragment or sub-assembly: a row of the component table.

    What it is comes from its markings (transcribed on photo regions); the manufacturer as marked
    is kept as read, and linked to a Manufacturer with its legal entity and headquarters country."""

    item = models.ForeignKey(
        EvidenceItem, on_delete=models.PROTECT, related_name="components", verbose_name=_("evidence item")
    )
    designator = models.CharField(
        _("designator"), max_length=60, blank=True, help_text=_("as on the board or in the examination notes, e.g. U7")
    )
    function = models.CharField(_("function"), max_length=20, choices=ComponentFunction.choices)
    manufacturer_as_marked = models.CharField(_("manufacturer as marked"), max_length=200, blank=True)
    manufacturer = models.ForeignKey(
        Manufacturer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="marked_components",
        verbose_name=_("manufacturer"),
    )
    part_number = models.CharField(_("part number"), max_length=120, blank=True, db_index=True)
    lot_code = models.CharField(_("lot or trace code"), max_length=120, blank=True, db_index=True)
    distributor = models.ForeignKey(
        Entity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="components_distributed",
        verbose_name=_("distributor"),
        help_text=_("as a trace response named it"),
    )
    notes = bounded_text(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="components_recorded",
        verbose_name=_("recorded by"),
        editable=False,
    )

    objects = ComponentQuerySet.as_manager()

    class Meta:
        verbose_name = _("component")
        verbose_name_plural = _("components")
        ordering = ["item", "pk"]

    def __str__(self) -> str:
        what = self.part_number or self.manufacturer_as_marked or self.get_function_display()
        return f"{self.item.exhibit_number} {self.designator or f'#{self.pk}'}: {what}"

    @property
    def label(self) -> str:
        return f"{self.item.exhibit_number} component {self.pk}"


class ReadingQuerySet(UndeletableMixin, CaseScopedQuerySet):
    case_lookup = "component__item__case_id"

    def counted(self):
        """What the earliest-assembly inference rests on: verified and not withdrawn."""
        return self.filter(verified_by__isnull=False, withdrawn_at__isnull=True)


class DateCodeReading(WithdrawableModel):
    """A date code read off a component: the code as read, the rule(s) that read it and the production
    window(s) they give. An ambiguous code keeps every window its rules allow (`windows`); `earliest`
    is the earliest day of any of them, so an inference resting on it holds whichever is right."""

    component = models.ForeignKey(
        Component, on_delete=models.PROTECT, related_name="readings", verbose_name=_("component")
    )
    marking = models.ForeignKey(
        Marking,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="readings",
        verbose_name=_("marking"),
        help_text=_("the date-code marking it was read from"),
    )
    raw_code = models.CharField(_("code as read"), max_length=60)
    rule = models.CharField(
        _("rule"), max_length=80, blank=True, help_text=_("name and version; blank when several rules apply")
    )
    windows = models.JSONField(_("production windows"), default=list, editable=False)
    earliest = models.DateField(_("earliest day of production"))
    latest = models.DateField(_("latest day of production"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="readings_recorded",
        verbose_name=_("recorded by"),
        editable=False,
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="readings_verified",
        verbose_name=_("verified by"),
        editable=False,
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, editable=False)

    objects = ReadingQuerySet.as_manager()

    class Meta:
        verbose_name = _("date-code reading")
        verbose_name_plural = _("date-code readings")
        ordering = ["component", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | ~Q(verified_by=models.F("recorded_by")),
                name="reading_four_eyes",
            ),
            models.CheckConstraint(condition=Q(earliest__lte=models.F("latest")), name="reading_window_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.raw_code}: {self.earliest:%Y-%m-%d} to {self.latest:%Y-%m-%d}"
