"""Trace requests to manufacturers, distributors and States, their answers, and right-of-reply letters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseScopedQuerySet, Entity, TimestampedModel, bounded_text
from evidence.choices import DossierLanguage, RecipientKind, TraceChannel, TraceKind, TraceStatus
from evidence.models.base import UndeletableMixin, UndeletableModel
from evidence.models.components import Component
from evidence.models.files import StoredFile
from evidence.models.markings import Manufacturer


class TraceRequestQuerySet(UndeletableMixin, CaseScopedQuerySet):
    def open(self):
        return self.filter(status=TraceStatus.SENT)


class TraceRequest(UndeletableModel, TimestampedModel):
    """A letter asking who made or sold components (or, as a right of reply, for an answer to a draft
    finding), with its deadline and status. Its letter is a stored file; every step is a custody event."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="trace_requests", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=20, choices=TraceKind.choices, default=TraceKind.TRACE)
    follows = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("follows"),
        help_text=_("the trace request a right-of-reply letter follows"),
    )
    recipient_kind = models.CharField(_("recipient is a"), max_length=20, choices=RecipientKind.choices)
    recipient_name = models.CharField(_("recipient"), max_length=300)
    manufacturer = models.ForeignKey(
        Manufacturer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trace_requests",
        verbose_name=_("manufacturer"),
    )
    entity = models.ForeignKey(
        Entity, on_delete=models.PROTECT, null=True, blank=True, related_name="trace_requests", verbose_name=_("entity")
    )
    components = models.ManyToManyField(Component, related_name="trace_requests", verbose_name=_("components"))
    language = models.CharField(
        _("language of the letter"), max_length=2, choices=DossierLanguage.choices, default=DossierLanguage.ENGLISH
    )
    context = bounded_text(_("context given"), blank=True, help_text=_("what the letter says of the case"))
    draft_finding = bounded_text(_("draft finding"), blank=True, help_text=_("for a right-of-reply letter"))
    letter = models.ForeignKey(
        StoredFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trace_letters",
        verbose_name=_("letter (PDF)"),
        editable=False,
    )
    status = models.CharField(
        _("status"), max_length=12, choices=TraceStatus.choices, default=TraceStatus.DRAFT, editable=False
    )
    sent_on = models.DateField(_("sent on"), null=True, blank=True, editable=False)
    channel = models.CharField(_("channel"), max_length=12, choices=TraceChannel.choices, blank=True, editable=False)
    deadline_days = models.PositiveSmallIntegerField(_("days to answer"), default=28)
    due_on = models.DateField(_("answer due on"), null=True, blank=True, editable=False)
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="trace_requests_created",
        verbose_name=_("drafted by"),
        editable=False,
    )

    objects = TraceRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("trace request")
        verbose_name_plural = _("trace requests")
        ordering = ["case", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=TraceKind.TRACE, follows__isnull=True) | Q(kind=TraceKind.RIGHT_OF_REPLY),
                name="trace_only_a_reply_follows",
            ),
            models.CheckConstraint(
                # A draft may be closed unsent (abandoned); anything else was sent.
                condition=Q(status__in=[TraceStatus.DRAFT, TraceStatus.CLOSED])
                | Q(sent_on__isnull=False, due_on__isnull=False),
                name="trace_sent_has_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}: {self.recipient_name}"

    @property
    def label(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"


class TraceResponseQuerySet(UndeletableMixin, CaseScopedQuerySet):
    case_lookup = "request__case_id"


class TraceResponse(UndeletableModel):
    """An answer to a trace request, kept write-once with its hash; it may name a distributor."""

    request = models.ForeignKey(
        TraceRequest, on_delete=models.PROTECT, related_name="responses", verbose_name=_("trace request")
    )
    received_on = models.DateField(_("received on"))
    file = models.ForeignKey(
        StoredFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trace_responses",
        verbose_name=_("file"),
        editable=False,
    )
    file_name = models.CharField(_("file name"), max_length=255, blank=True, editable=False)
    summary = bounded_text(_("summary"), blank=True)
    names_distributor = models.ForeignKey(
        Entity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="named_in_responses",
        verbose_name=_("names distributor"),
    )
    screening = models.JSONField(
        _("sanctions-list matches"),
        default=list,
        editable=False,
        help_text=_("entities of the imported sanctions lists whose name or alias matches the distributor's"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="trace_responses_recorded",
        verbose_name=_("recorded by"),
        editable=False,
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = TraceResponseQuerySet.as_manager()

    class Meta:
        verbose_name = _("trace response")
        verbose_name_plural = _("trace responses")
        ordering = ["request", "pk"]

    def __str__(self) -> str:
        return f"{self.request} — {self.received_on:%Y-%m-%d}"
