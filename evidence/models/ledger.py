"""The custody ledger and its signed checkpoints."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseScopedQuerySet
from cases.permanence import AppendOnlyModel, AppendOnlyQuerySet
from evidence.choices import EventType, SubjectType
from evidence.lib import ledger


class CustodyEventQuerySet(AppendOnlyQuerySet, CaseScopedQuerySet):
    """Rows of a case's ledger or its checkpoints: seen by the case's team, never updated or deleted."""


class CustodyEvent(AppendOnlyModel):
    """One entry of a case's hash-chained custody ledger (format: docs/custody-format.md).

    Every field that the hash covers is stored as it was hashed, so the chain can be
    recomputed from these rows alone. On PostgreSQL a trigger also refuses UPDATE and DELETE.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="custody_events", verbose_name=_("case"))
    sequence = models.PositiveBigIntegerField(_("sequence number"), editable=False)
    event_type = models.CharField(_("event type"), max_length=32, choices=EventType.choices, editable=False)
    subject_type = models.CharField(_("subject type"), max_length=20, choices=SubjectType.choices, editable=False)
    subject_id = models.BigIntegerField(_("subject id"), editable=False)
    subject_label = models.CharField(_("subject"), max_length=120, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custody_events",
        verbose_name=_("actor"),
        editable=False,
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True, editable=False)
    occurred_at = models.DateTimeField(_("occurred at"), editable=False)
    recorded_at = models.DateTimeField(_("recorded at"), editable=False)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
        editable=False,
    )
    # The canonical JSON text exactly as hashed (not a JSON column: jsonb would reorder it).
    payload = models.TextField(_("payload"), editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = CustodyEventQuerySet.as_manager()
    refused_change = refused_delete = _("The custody ledger is append-only.")

    class Meta:
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        ordering = ["case", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="custody_unique_sequence_per_case"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="custody_sequence_from_one"),
        ]
        indexes = [
            models.Index(fields=["case", "subject_type", "subject_id"], name="custody_subject"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.get_event_type_display()} {self.subject_label}"

    @property
    def payload_data(self) -> dict:
        return json.loads(self.payload)

    def record(self, case_reference: str, corrects_sequence: int | None) -> dict:
        """The hashed fields, rebuilt from this row (see ledger.event_record)."""
        return ledger.event_record(
            case=case_reference,
            seq=self.sequence,
            event_type=self.event_type,
            subject={"type": self.subject_type, "id": self.subject_id, "label": self.subject_label},
            actor=None if self.actor_id is None else {"id": self.actor_id, "name": self.actor_name},
            occurred_at=ledger.format_timestamp(self.occurred_at),
            recorded_at=ledger.format_timestamp(self.recorded_at),
            corrects=corrects_sequence,
            payload=json.loads(self.payload),
            prev=self.prev_hash,
        )


class Checkpoint(AppendOnlyModel):
    """A signed statement of a ledger's head (size and hash) at a moment. Sizes never shrink."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="checkpoints", verbose_name=_("case"))
    size = models.PositiveBigIntegerField(_("size"), editable=False)
    head_hash = models.CharField(_("head hash"), max_length=64, editable=False)
    signed_at = models.DateTimeField(_("signed at"), editable=False)
    key_id = models.CharField(_("key"), max_length=16, editable=False)
    signature = models.CharField(_("signature"), max_length=200, editable=False)
    reason = models.CharField(_("reason"), max_length=40, editable=False)

    objects = CustodyEventQuerySet.as_manager()
    refused_change = _("Checkpoints are never changed.")
    refused_delete = _("Checkpoints are never deleted.")

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        ordering = ["case", "signed_at"]
        get_latest_by = "signed_at"

    def __str__(self) -> str:
        return gettext("%(case)s size %(size)s at %(signed_at)s") % {
            "case": self.case_id,
            "size": self.size,
            "signed_at": f"{self.signed_at:%Y-%m-%d %H:%M}",
        }

    def as_signed(self, case_reference: str) -> dict:
        return {
            "v": ledger.FORMAT_VERSION,
            "case": case_reference,
            "size": self.size,
            "head": self.head_hash,
            "signed_at": ledger.format_timestamp(self.signed_at),
            "key": self.key_id,
            "signature": self.signature,
        }


class TimestampQuerySet(CustodyEventQuerySet):
    case_lookup = "checkpoint__case_id"


class CheckpointTimestamp(AppendOnlyModel):
    """An RFC 3161 timestamp token over a checkpoint, from one TSA of ATTEST_TSA_URLS: written once.

    `reply` is the TSA's whole DER reply, shipped in packages as data/timestamps/<CASE>/<sha256>.tsr;
    its message imprint is the SHA-256 of the checkpoint's signed message (custody-format.md, 8a)."""

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="timestamps", verbose_name=_("checkpoint")
    )
    tsa_url = models.CharField(_("time-stamp authority"), max_length=500, editable=False)
    tsa_name = models.CharField(_("signed by"), max_length=500, editable=False)
    reply = models.BinaryField(_("timestamp reply"), editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True, editable=False)
    gen_time = models.DateTimeField(_("time stamped"), editable=False)
    obtained_at = models.DateTimeField(_("obtained at"), editable=False)

    objects = TimestampQuerySet.as_manager()
    refused_change = _("Trusted timestamps are never changed.")
    refused_delete = _("Trusted timestamps are never deleted.")

    class Meta:
        verbose_name = _("trusted timestamp")
        verbose_name_plural = _("trusted timestamps")
        ordering = ["checkpoint", "tsa_url"]
        get_latest_by = "obtained_at"
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "tsa_url"], name="one_timestamp_per_checkpoint_and_tsa")
        ]

    def __str__(self) -> str:
        return gettext("%(tsa)s at %(time)s") % {"tsa": self.tsa_name, "time": f"{self.gen_time:%Y-%m-%d %H:%M:%S}"}


class TimestampAuthorityStatus(models.Model):
    """How the last request to one TSA went: what /healthz and the case page report. Operational, not evidence."""

    url = models.CharField(_("time-stamp authority"), max_length=500, unique=True)
    last_success_at = models.DateTimeField(_("last success"), null=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("time-stamp authority status")
        verbose_name_plural = _("time-stamp authority statuses")

    def __str__(self) -> str:
        return self.url

    @property
    def failing(self) -> bool:
        """The last request failed (a success since clears it)."""
        if self.last_failure_at is None:
            return False
        return self.last_success_at is None or self.last_success_at < self.last_failure_at
