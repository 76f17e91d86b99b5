"""Manufacturers and the markings read off components."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.fields import names_field
from cases.models import CaseScopedQuerySet, Entity, TimestampedModel, bounded_text
from evidence.choices import Confidence, ManufacturePrecision, MarkingType
from evidence.models.base import UndeletableMixin, WithdrawableModel
from evidence.models.items import EvidenceItem
from evidence.models.photos import Photo


class Manufacturer(TimestampedModel):
    """A maker of components, with the other names it goes by; possibly a sanctioned entity."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    aliases = names_field(_("aliases"), max_length=200)
    legal_name = models.CharField(_("legal entity"), max_length=300, blank=True, help_text=_("the registered company"))
    country = models.CharField(_("headquarters country"), max_length=80, blank=True)
    entity = models.ForeignKey(
        Entity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="manufacturers",
        verbose_name=_("sanctions entity"),
    )
    may_be_named = models.BooleanField(
        _("may be named in a dossier"),
        default=True,
        help_text=_("its sharing terms; when not, dossiers call it by a letter (Manufacturer A)"),
    )
    named_from = models.DateField(
        _("may be named from"), null=True, blank=True, help_text=_("a date before which it is not named")
    )
    notes = bounded_text(_("notes"), blank=True)

    class Meta:
        verbose_name = _("manufacturer")
        verbose_name_plural = _("manufacturers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MarkingQuerySet(UndeletableMixin, CaseScopedQuerySet):
    case_lookup = "item__case_id"


class Marking(WithdrawableModel):
    """Text or a sign on a component, transcribed exactly as seen, optionally on a region of a photo.

    The region is a rectangle in the original's stored pixel coordinates, so it stays right
    whatever the photo's EXIF orientation; it is drawn on upright previews by converting.
    """

    item = models.ForeignKey(
        EvidenceItem, on_delete=models.PROTECT, related_name="markings", verbose_name=_("evidence item")
    )
    photo = models.ForeignKey(
        Photo, on_delete=models.PROTECT, null=True, blank=True, related_name="markings", verbose_name=_("photo")
    )
    region_x = models.PositiveIntegerField(_("region x"), null=True, blank=True)
    region_y = models.PositiveIntegerField(_("region y"), null=True, blank=True)
    region_width = models.PositiveIntegerField(_("region width"), null=True, blank=True)
    region_height = models.PositiveIntegerField(_("region height"), null=True, blank=True)
    component = models.ForeignKey(
        "evidence.Component",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="markings",
        verbose_name=_("component"),
    )
    transcription = bounded_text(_("transcription"), help_text=_("exactly as seen, in any script"))
    marking_type = models.CharField(_("marking type"), max_length=20, choices=MarkingType.choices)
    manufacturer = models.ForeignKey(
        "evidence.Manufacturer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="markings",
        verbose_name=_("manufacturer (interpreted)"),
    )
    part_number = models.CharField(_("part number (interpreted)"), max_length=120, blank=True, db_index=True)
    interpreted_date = models.DateField(_("date (interpreted)"), null=True, blank=True)
    interpreted_date_precision = models.CharField(
        _("precision of the date"), max_length=8, choices=ManufacturePrecision.choices, blank=True
    )
    confidence = models.CharField(_("confidence"), max_length=10, choices=Confidence.choices)
    transcribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="markings_transcribed",
        verbose_name=_("transcribed by"),
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="markings_verified",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    # Editable here alone, as first migrated (forms and the API list them read-only all the same).
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_reason = bounded_text(_("reason for withdrawal"), blank=True)

    objects = MarkingQuerySet.as_manager()

    class Meta:
        verbose_name = _("marking")
        verbose_name_plural = _("markings")
        ordering = ["item", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        region_x__isnull=True,
                        region_y__isnull=True,
                        region_width__isnull=True,
                        region_height__isnull=True,
                    )
                    | Q(
                        photo__isnull=False,
                        region_x__isnull=False,
                        region_y__isnull=False,
                        region_width__gt=0,
                        region_height__gt=0,
                    )
                ),
                name="marking_region_complete_and_on_a_photo",
            ),
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | ~Q(verified_by=models.F("transcribed_by")),
                name="marking_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(interpreted_date__isnull=True) | ~Q(interpreted_date_precision=""),
                name="marking_date_has_precision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.exhibit_number} {self.get_marking_type_display()}: {self.transcription[:40]}"

    @property
    def region(self) -> tuple[int, int, int, int] | None:
        if self.region_x is None:
            return None
        return (self.region_x, self.region_y, self.region_width, self.region_height)

    @property
    def region_box(self) -> dict | None:
        region = self.region
        return dict(zip(("x", "y", "width", "height"), region, strict=True)) if region else None

    @property
    def label(self) -> str:
        return f"{self.item.exhibit_number} marking {self.pk}"
