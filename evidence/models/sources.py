"""Sources with Admiralty grades, and the attributions of claims to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseScopedQuerySet, Entity, Incident, bounded_text
from evidence.choices import AttributionSubject, Credibility, Reliability, SourceKind, Stance
from evidence.models.base import UndeletableMixin, WithdrawableModel
from evidence.models.files import StoredFile
from evidence.models.items import EvidenceItem
from evidence.models.markings import Marking


class SourceQuerySet(UndeletableMixin, CaseScopedQuerySet):
    pass


class Source(WithdrawableModel):
    """A document a claim rests on: a UN panel report, a government statement, a news report …"""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="sources", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=24, choices=SourceKind.choices)
    title = models.CharField(_("title"), max_length=500)
    publisher = models.CharField(_("publisher"), max_length=300, blank=True)
    author = models.CharField(_("author"), max_length=300, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    url = models.URLField(_("URL"), max_length=1000, blank=True)
    document_reference = models.CharField(
        _("document reference"), max_length=200, blank=True, help_text=_("e.g. a UN document symbol")
    )
    reliability = models.CharField(_("source reliability"), max_length=1, choices=Reliability.choices)
    archived_copy = models.ForeignKey(
        StoredFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sources",
        verbose_name=_("archived copy"),
        editable=False,
    )
    archived_copy_name = models.CharField(_("archived copy file name"), max_length=255, blank=True, editable=False)
    notes = bounded_text(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sources_recorded",
        verbose_name=_("recorded by"),
        editable=False,
    )

    objects = SourceQuerySet.as_manager()

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["case", "-published_on", "pk"]

    def __str__(self) -> str:
        return f"[{self.reliability}] {self.title}"

    @property
    def label(self) -> str:
        return f"source {self.pk}: {self.title[:60]}"


# The subject types and the foreign key each one fills; "case" needs none (the case itself).
SUBJECT_FIELDS = {
    AttributionSubject.INCIDENT: "incident",
    AttributionSubject.EVIDENCE_ITEM: "item",
    AttributionSubject.MARKING: "marking",
    AttributionSubject.ENTITY: "entity",
}


def one_subject_only() -> Q:
    """Exactly the foreign key of the subject type is filled, and no other."""
    no_subject = {f"{field}__isnull": True for field in SUBJECT_FIELDS.values()}
    condition = Q(subject_type=AttributionSubject.CASE, **no_subject)
    for subject_type, filled in SUBJECT_FIELDS.items():
        nulls = {f"{field}__isnull": field != filled for field in SUBJECT_FIELDS.values()}
        condition |= Q(subject_type=subject_type, **nulls)
    return condition


class AttributionQuerySet(UndeletableMixin, CaseScopedQuerySet):
    def active(self):
        return self.filter(withdrawn_at__isnull=True)


class Attribution(WithdrawableModel):
    """A claim about a subject of the case, attributed to a source with an Admiralty grade (e.g. B2)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attributions", verbose_name=_("case"))
    claim = bounded_text(_("claim"))
    subject_type = models.CharField(_("subject type"), max_length=20, choices=AttributionSubject.choices)
    incident = models.ForeignKey(
        Incident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attributions",
        verbose_name=_("incident"),
    )
    item = models.ForeignKey(
        EvidenceItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attributions",
        verbose_name=_("evidence item"),
    )
    marking = models.ForeignKey(
        Marking, on_delete=models.PROTECT, null=True, blank=True, related_name="attributions", verbose_name=_("marking")
    )
    entity = models.ForeignKey(
        Entity, on_delete=models.PROTECT, null=True, blank=True, related_name="attributions", verbose_name=_("entity")
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="attributions", verbose_name=_("source"))
    page = models.CharField(_("page"), max_length=40, blank=True)
    paragraph = models.CharField(_("paragraph"), max_length=40, blank=True)
    quote = bounded_text(_("quote"), blank=True)
    credibility = models.PositiveSmallIntegerField(_("credibility"), choices=Credibility.choices)
    stance = models.CharField(_("stance"), max_length=12, choices=Stance.choices, default=Stance.SUPPORTS)
    analyst = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="attributions",
        verbose_name=_("analyst"),
        editable=False,
    )

    objects = AttributionQuerySet.as_manager()

    class Meta:
        verbose_name = _("attribution")
        verbose_name_plural = _("attributions")
        ordering = ["case", "pk"]
        constraints = [
            models.CheckConstraint(condition=one_subject_only(), name="attribution_one_subject"),
            models.CheckConstraint(
                condition=Q(credibility__gte=1, credibility__lte=6), name="attribution_credibility_1_6"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grade} {self.claim[:60]}"

    @property
    def grade(self) -> str:
        """The combined Admiralty grade: the source's reliability and this claim's credibility, e.g. B2."""
        return f"{self.source.reliability}{self.credibility}"

    grade.fget.short_description = _("grade")  # the admin's label for the column and the read-only field

    @property
    def subject(self):
        return {
            AttributionSubject.CASE: self.case,
            AttributionSubject.INCIDENT: self.incident,
            AttributionSubject.EVIDENCE_ITEM: self.item,
            AttributionSubject.MARKING: self.marking,
            AttributionSubject.ENTITY: self.entity,
        }[self.subject_type]

    @property
    def label(self) -> str:
        return f"attribution {self.pk} ({self.subject_type})"
