"""Cases, their teams and incidents, and reference data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases import references
from cases.choices import (
    ROLE_RANK,
    AccessAction,
    CaseStatus,
    DatePrecision,
    EntityKind,
    IncidentKind,
    Outcome,
    ReferenceAction,
    Role,
    WeaponCategory,
)
from cases.fields import latitude_field, latitude_range, longitude_field, longitude_range, names_field
from cases.permanence import AppendOnlyModel, AppendOnlyQuerySet


def reference_problem(value: str) -> str | None:
    """What is wrong with a case reference as typed, in the user's language, or None."""
    found = references.problem(references.normalise(value))
    if found is None:
        return None
    kind, details = found
    if kind == "length":
        return gettext("A case reference has 2 to %(most)d characters, not %(count)d.") % details
    if kind == "character":
        return (
            gettext(
                "Character %(position)d of the case reference is %(character)s. "
                "Use only capital letters A-Z, digits 0-9, '-', '/' and '.'."
            )
            % details
        )
    if kind == "separators":
        return (
            gettext(
                "Character %(position)d of the case reference is a second '.' or '/' in a row. "
                "Between two letters or digits there may be one."
            )
            % details
        )
    return gettext("A case reference starts and ends with a letter or a digit.")


def validate_case_reference(value: str) -> None:
    reason = reference_problem(value)
    if reason:
        raise ValidationError(reason)


# Every free-text field holds at most this many characters: room for any note, claim or description,
# and a bound on what one field costs a dossier build (a 1 MB description once outlived the web timeout).
TEXT_MAX_LENGTH = 20_000


def bounded_text(verbose_name, **options) -> models.TextField:
    """A free-text field of at most TEXT_MAX_LENGTH characters.

    max_length gives forms and DRF serializers their limit; the validator makes full_clean(), and so
    every service, refuse longer text too (Django does not enforce max_length on a TextField).
    """
    return models.TextField(
        verbose_name, max_length=TEXT_MAX_LENGTH, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)], **options
    )


def refuse_long_text(**values: str) -> None:
    """The same limit for free text that services take as arguments rather than as model fields
    (reasons, findings, transfer notes): a ValidationError naming each field that is too long."""
    errors = {}
    for name, value in values.items():
        try:
            MaxLengthValidator(TEXT_MAX_LENGTH)(value or "")
        except ValidationError as error:
            errors[name] = error
    if errors:
        raise ValidationError(errors)


# Up to this many cases, a user's cases are named in the query as a list of ids; beyond, by a subquery.
MEMBER_CASE_IDS_INLINE_LIMIT = 500


def _member_case_ids(user):
    """The ids of the user's cases: a list read now (one small query) or, for very many, a subquery.

    `case_id IN (3, 7)` lets the database walk an index such as (case_id, occurred_at) in order and
    stop after one page; with `case_id IN (SELECT …)` SQLite gives that up and sorts every row the
    user may see. The list is read when visible_to() is called, so build the queryset when it is
    needed (as views do per request), not ahead of a change of membership.
    """
    read_with_token = getattr(user, MEMBER_CASE_IDS_ATTRIBUTE, None)
    if read_with_token is not None and len(read_with_token) <= MEMBER_CASE_IDS_INLINE_LIMIT:
        return read_with_token
    roles = _roles_read_once(user)
    if roles is not None:
        return sorted(roles)
    members = CaseMembership.objects.filter(user=user).values_list("case_id", flat=True)
    ids = list(members.order_by("case_id")[: MEMBER_CASE_IDS_INLINE_LIMIT + 1])
    return ids if len(ids) <= MEMBER_CASE_IDS_INLINE_LIMIT else members.order_by()


# A read-only API request reads the user's case ids with its token (core.api.authentication) and
# leaves them on the user object of that request, which _member_case_ids() then uses. Nothing in a
# GET changes memberships, so they cannot go stale; other requests never have them.
MEMBER_CASE_IDS_ATTRIBUTE = "_member_case_ids_of_request"

# A write request that asks about the user's memberships twice (the photo upload: which items the form
# may name, then whether the role may add a photo) reads them once within memberships_read_once().
# The memo lives on that request's user object until the block ends, never into another request.
MEMBERSHIPS_ATTRIBUTE = "_memberships_of_request"
_NOT_READ_YET = object()


@contextmanager
def memberships_read_once(user) -> Iterator[None]:
    """Within the block, _member_case_ids() and Case.role_of() answer for `user` from one query,
    read at first use. Wrap only work that changes no membership."""
    if not getattr(user, "is_authenticated", False) or hasattr(user, MEMBERSHIPS_ATTRIBUTE):
        yield  # anonymous, or an enclosing block owns the memo
        return
    setattr(user, MEMBERSHIPS_ATTRIBUTE, _NOT_READ_YET)
    try:
        yield
    finally:
        delattr(user, MEMBERSHIPS_ATTRIBUTE)


def _roles_read_once(user) -> dict[int, str] | None:
    """The user's role by case id within memberships_read_once(); None outside it, or for very many cases."""
    memo = getattr(user, MEMBERSHIPS_ATTRIBUTE, None)
    if memo is _NOT_READ_YET:
        rows = CaseMembership.objects.filter(user=user).order_by("case_id").values_list("case_id", "role")
        read = list(rows[: MEMBER_CASE_IDS_INLINE_LIMIT + 1])
        memo = dict(read) if len(read) <= MEMBER_CASE_IDS_INLINE_LIMIT else False  # False: ask case by case
        setattr(user, MEMBERSHIPS_ATTRIBUTE, memo)
    return memo if isinstance(memo, dict) else None


class JoinedIds(models.Aggregate):
    """The ids of a group as one comma-separated string (GROUP_CONCAT; STRING_AGG on PostgreSQL)."""

    function = "GROUP_CONCAT"
    output_field = models.TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, function="STRING_AGG", template="%(function)s((%(expressions)s)::text, ',')"
        )


def member_case_ids_column():
    """A subquery giving the case ids of the row's user_id, for .annotate() on a model with a user."""
    return models.Subquery(
        CaseMembership.objects.filter(user_id=models.OuterRef("user_id"))
        .order_by()
        .values("user_id")
        .annotate(ids=JoinedIds("case_id"))
        .values("ids")
    )


def parse_joined_ids(text: str | None) -> list[int]:
    return sorted(int(part) for part in text.split(",")) if text else []


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseQuerySet:
        """The one rule of visibility: members see their cases, superusers see all.

        Cases are few, and no index orders them: a subquery costs no extra round trip.
        """
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(pk__in=CaseMembership.objects.filter(user=user).values("case_id"))


class CaseScopedQuerySet(models.QuerySet):
    """For every model under a case: visible exactly when its case is."""

    case_lookup = "case_id"

    def visible_to(self, user):
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(**{f"{self.case_lookup}__in": _member_case_ids(user)})


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class WeaponSystem(models.Model):
    """A weapon type, with the other names it goes by (Hwasong-11 is also KN-23)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    aliases = names_field(_("aliases"), max_length=120)
    category = models.CharField(_("category"), max_length=32, choices=WeaponCategory.choices)
    country_of_origin = models.CharField(_("country of origin"), max_length=80, blank=True)
    notes = bounded_text(_("notes"), blank=True)

    class Meta:
        verbose_name = _("weapon system")
        verbose_name_plural = _("weapon systems")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SanctionsRegime(models.Model):
    """A body of sanctions, e.g. the UN Security Council measures on the DPRK."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    authority = models.CharField(_("authority"), max_length=200)
    established_on = models.DateField(_("established on"), null=True, blank=True)
    description = bounded_text(_("description"), blank=True)

    class Meta:
        verbose_name = _("sanctions regime")
        verbose_name_plural = _("sanctions regimes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SanctionsProvision(models.Model):
    """One provision, e.g. UNSC resolution 1718 (2006), paragraph 8(a)."""

    regime = models.ForeignKey(
        SanctionsRegime, on_delete=models.PROTECT, related_name="provisions", verbose_name=_("regime")
    )
    instrument = models.CharField(_("instrument"), max_length=200, help_text=_("e.g. Resolution 1718 (2006)"))
    paragraph = models.CharField(_("paragraph"), max_length=40, blank=True)
    text = bounded_text(_("text"))
    adopted_on = models.DateField(_("adopted on"))
    authority = models.CharField(_("authority"), max_length=200)

    class Meta:
        verbose_name = _("sanctions provision")
        verbose_name_plural = _("sanctions provisions")
        ordering = ["adopted_on", "instrument", "paragraph"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "paragraph"], name="provision_unique_paragraph"),
        ]

    def __str__(self) -> str:
        if not self.paragraph:
            return self.instrument
        return gettext("%(instrument)s, para. %(paragraph)s") % {
            "instrument": self.instrument,
            "paragraph": self.paragraph,
        }

    @property
    def citation(self) -> str:
        """The provision as records cite it: always in English, whatever the reader's language.

        Evidence packages hash it into their records, so it must not follow the active language.
        """
        return f"{self.instrument}, para. {self.paragraph}" if self.paragraph else self.instrument


class Entity(TimestampedModel):
    """A sanctioned or suspected person, organisation, vessel or aircraft."""

    kind = models.CharField(_("kind"), max_length=20, choices=EntityKind.choices)
    name = models.CharField(_("name"), max_length=350)
    aliases = names_field(_("aliases"), max_length=350)
    identifiers = models.JSONField(
        _("identifiers"), default=list, blank=True, help_text=_('e.g. [{"type": "IMO", "value": "8712362"}]')
    )
    programs = names_field(_("sanctions programmes"), max_length=40)
    sanctioned = models.BooleanField(_("sanctioned"), default=False)
    list_name = models.CharField(_("list"), max_length=40, blank=True, help_text=_("e.g. OFAC SDN"))
    list_id = models.CharField(_("identifier on the list"), max_length=40, blank=True)
    may_be_named = models.BooleanField(
        _("may be named in a dossier"),
        default=True,
        help_text=_("its sharing terms; when not, dossiers call it by a letter (Manufacturer A)"),
    )
    named_from = models.DateField(
        _("may be named from"), null=True, blank=True, help_text=_("a date before which it is not named")
    )
    remarks = bounded_text(_("remarks"), blank=True)

    class Meta:
        verbose_name = _("entity")
        verbose_name_plural = _("entities")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["list_name", "list_id"], condition=~Q(list_id=""), name="entity_unique_list_id"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Case(TimestampedModel):
    """The unit of work and of access: everything under a case is visible only to its team."""

    reference = models.CharField(
        _("reference"), max_length=references.MAX_LENGTH, unique=True, validators=[validate_case_reference]
    )
    title = models.CharField(_("title"), max_length=300)
    summary = bounded_text(_("summary"), blank=True)
    status = models.CharField(_("status"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_on = models.DateField(_("opened on"), default=timezone.localdate)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    legal_basis = models.ManyToManyField(
        SanctionsProvision, blank=True, related_name="cases", verbose_name=_("legal basis")
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_cases",
        verbose_name=_("lead"),
    )
    entities = models.ManyToManyField(Entity, blank=True, related_name="cases", verbose_name=_("entities"))

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="case_closed_after_opened",
            ),
            # References are stored in capitals; this keeps any other writer from adding a case twin.
            models.UniqueConstraint(Upper("reference"), name="case_reference_unique_ignoring_case"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    @property
    def file_stem(self) -> str:
        """The reference as a download's file name; a reference older than the policy falls back to the id."""
        try:
            return references.file_stem(self.reference)
        except ValueError:
            return f"case-{self.pk}"

    def role_of(self, user) -> str | None:
        """The user's role on this case; superusers act as leads; None for outsiders."""
        if not (user and user.is_authenticated and user.is_active):
            return None
        if user.is_superuser:
            return Role.LEAD
        roles = _roles_read_once(user)
        if roles is not None:
            return roles.get(self.pk)
        membership = self.memberships.filter(user=user).only("role").first()
        return membership.role if membership else None

    def user_has_role(self, user, role: str) -> bool:
        actual = self.role_of(user)
        return actual is not None and ROLE_RANK[actual] >= ROLE_RANK[role]


class CaseMembership(TimestampedModel):
    """A user on a case's team, with one role."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("case"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="case_memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)

    objects = CaseScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("case membership")
        verbose_name_plural = _("case memberships")
        ordering = ["case", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="membership_unique_user_per_case"),
        ]

    def __str__(self) -> str:
        return gettext("%(user)s (%(role)s) on %(case)s") % {
            "user": self.user,
            "role": self.get_role_display(),
            "case": self.case.reference,
        }


class Incident(TimestampedModel):
    """A dated event of a case: a strike, a launch, a failure in flight, a shipment …"""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=24, choices=IncidentKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    occurred_precision = models.CharField(
        _("precision of the date"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.EXACT
    )
    place_name = models.CharField(_("place"), max_length=200, blank=True)
    region = models.CharField(_("region (oblast)"), max_length=120, blank=True, db_index=True)
    country = models.CharField(_("country"), max_length=80, blank=True, default="Ukraine")
    latitude = latitude_field(_("latitude"))
    longitude = longitude_field(_("longitude"))
    weapon_system = models.ForeignKey(
        WeaponSystem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("weapon system"),
    )
    launch_site = models.CharField(_("launch site"), max_length=200, blank=True)
    launch_latitude = latitude_field(_("launch site latitude"))
    launch_longitude = longitude_field(_("launch site longitude"))
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, default=Outcome.UNKNOWN)
    killed = models.PositiveIntegerField(_("killed"), default=0)
    wounded = models.PositiveIntegerField(_("wounded"), default=0)
    damage = bounded_text(_("damage"), blank=True)
    identification_basis = models.JSONField(
        _("identification basis"), default=list, blank=True, help_text=_("any of the identification bases")
    )
    description = bounded_text(_("description"), blank=True)
    entities = models.ManyToManyField(Entity, blank=True, related_name="incidents", verbose_name=_("entities"))

    objects = CaseScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["case", "occurred_at"], name="incident_case_occurred")]
        constraints = [
            latitude_range("latitude", name="incident_latitude_range"),
            longitude_range("longitude", name="incident_longitude_range"),
            latitude_range("launch_latitude", name="incident_launch_latitude_range"),
            longitude_range("launch_longitude", name="incident_launch_longitude_range"),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.occurred_at).date().isoformat()
        return f"{self.get_kind_display()}, {self.place_name or self.region or '?'}, {when}"


class ReferenceHistoryIsPermanent(ValidationError):
    """Raised on any attempt to change or delete a recorded change of reference data."""


class ReferenceChangeQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ReferenceHistoryIsPermanent(_("The history of reference data is append-only."))

    def delete(self):
        raise ReferenceHistoryIsPermanent(_("The history of reference data is append-only."))


class ReferenceChange(models.Model):
    """One change to global reference data (entities, manufacturers, weapon systems, sanctions regimes and
    provisions): who, when, and the row before and after. Every case's sanctions report rests on this data.

    Append-only: written by cases.reference_data in the transaction of the change; never updated or deleted
    (on PostgreSQL a trigger refuses it too).
    """

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reference_changes",
        verbose_name=_("by"),
        help_text=_("empty: a command run by an operator"),
    )
    actor_name = models.CharField(_("user name"), max_length=150, blank=True)
    via = models.CharField(
        _("through"), max_length=20, help_text=_("where the change came from: api, admin, import_sdn, demo …")
    )
    action = models.CharField(_("action"), max_length=10, choices=ReferenceAction.choices)
    model = models.CharField(_("model"), max_length=60, help_text=_("e.g. cases.entity"))
    object_id = models.PositiveBigIntegerField(_("object id"))
    object_label = models.CharField(_("object"), max_length=300)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    changed = models.JSONField(_("fields changed"), default=list, blank=True)

    objects = ReferenceChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("reference data change")
        verbose_name_plural = _("reference data changes")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["model", "object_id"], name="reference_change_object")]
        default_permissions = ("view",)  # rows are added by the service only, never changed or deleted
        permissions = [("edit_reference_data", _("Can create and change reference data"))]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_action_display()} {self.model} {self.object_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ReferenceHistoryIsPermanent(_("The history of reference data is append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ReferenceHistoryIsPermanent(_("The history of reference data is append-only."))


ACCOUNT_REFUSALS = (AccessAction.TOTP_FAILED, AccessAction.TOKEN_REFUSED)


class AccessLogQuerySet(AppendOnlyQuerySet, CaseScopedQuerySet):
    def readable_by(self, user):
        """A case's log is for its leads (and superusers), not for everyone on the team.

        A refusal about a member's account (a wrong TOTP code after the right password, a revoked or
        expired token), whichever case it names, is also for the leads of every case that member was
        on when it happened: someone may hold their password or token. Not before they joined, so a
        lead cannot add anyone to read their history."""
        if user.is_superuser:
            return self
        led = CaseMembership.objects.filter(user=user, role=Role.LEAD).values("case")
        member_then = CaseMembership.objects.filter(user=OuterRef("user"), case__in=led, created_at__lte=OuterRef("at"))
        return self.filter(Q(case__in=led) | Q(action__in=ACCOUNT_REFUSALS) & Exists(member_then))

    def visible_to(self, user):
        """Who may see a row is who may read it: visibility by case alone would hide a member's refusals."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self.readable_by(user)


class AccessLog(AppendOnlyModel):
    """One access to something under a case (or a sign-in): by whom, from where, when, with what result."""

    refused_change = refused_delete = _("The access log is append-only.")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_log",
        verbose_name=_("user"),
    )
    username = models.CharField(_("user name"), max_length=150, blank=True, help_text=_("as typed, for sign-ins"))
    action = models.CharField(_("action"), max_length=16, choices=AccessAction.choices)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="access_log", verbose_name=_("case")
    )
    method = models.CharField(_("method"), max_length=8, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        db_table = "evidence_accesslog"  # made by the evidence app, where the model began
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["case", "at"], name="access_case_at"),
            models.Index(fields=["object_type", "object_id"], name="access_object"),
        ]

    def __str__(self) -> str:
        who = self.username or self.user_id
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.get_action_display()} {self.object_label}"
