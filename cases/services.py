"""Business logic of cases: every write goes through a function here."""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import references
from cases.choices import ROLE_RANK, CaseStatus, Role
from cases.models import Case, CaseMembership, Incident, reference_problem
from core.models import ApiToken, hash_token

CASE_FIELDS = {"title", "summary", "status", "opened_on", "closed_on", "lead"}
# In the order forms show them.
INCIDENT_FIELDS = (
    "kind", "occurred_at", "occurred_precision", "place_name", "region", "country", "latitude", "longitude",
    "weapon_system", "launch_site", "launch_latitude", "launch_longitude", "outcome", "killed", "wounded",
    "damage", "identification_basis", "description",
)  # fmt: skip


def require_role(*, case: Case, actor, role: str) -> str:
    """The actor's role on the case if it reaches `role`. Outsiders get 404, members without it 403."""
    actual = case.role_of(actor)
    if actual is None:
        raise Http404(_("No such case."))
    if ROLE_RANK[actual] < ROLE_RANK[role]:
        raise PermissionDenied(
            _("This needs the %(role)s role on case %(case)s.") % {"role": Role(role).label, "case": case.reference}
        )
    return actual


def next_case_reference(year: int, prefix: str | None = None) -> str:
    prefix = prefix or settings.ATTEST_CASE_REFERENCE_PREFIX
    pattern = re.compile(rf"^{re.escape(prefix)}-{year}-(\d+)$")
    numbers = [
        int(match.group(1))
        for reference in Case.objects.filter(reference__startswith=f"{prefix}-{year}-").values_list(
            "reference", flat=True
        )
        if (match := pattern.match(reference))
    ]
    return f"{prefix}-{year}-{max(numbers, default=0) + 1:04d}"


# The custody ledger's side of cases and incidents (lock, record_case, record_incident, …). The
# evidence app keeps the ledger and installs it when it starts (evidence.apps): cases does not import
# evidence, and a write without a ledger fails rather than go unrecorded.
_ledger = None


def use_ledger(ledger) -> None:
    global _ledger  # set once, at start-up
    _ledger = ledger


def _records():
    if _ledger is None:
        raise ImproperlyConfigured("No custody ledger is installed: the evidence app must be in INSTALLED_APPS.")
    return _ledger


def _validate(instance) -> None:
    instance.full_clean(exclude=["reference"] if isinstance(instance, Case) else None)


@transaction.atomic
def create_case(
    *,
    actor,
    title: str,
    summary: str = "",
    reference: str | None = None,
    status: str = CaseStatus.OPEN,
    opened_on: date | None = None,
    closed_on: date | None = None,
    legal_basis=(),
    entities=(),
    lead=None,
) -> Case:
    """Open a case. The actor needs the cases.add_case permission and becomes its lead."""
    if not actor.has_perm("cases.add_case"):
        raise PermissionDenied(_("Opening a case needs the permission to add cases."))
    opened_on = opened_on or timezone.localdate()
    if reference:
        reason = reference_problem(reference)
        if reason:
            raise ValidationError({"reference": reason})
        reference = references.normalise(reference)
    case = Case(
        title=title,
        summary=summary,
        status=status,
        opened_on=opened_on,
        closed_on=closed_on,
        lead=lead or actor,
        reference=reference or "",
    )
    _validate(case)
    for _attempt in range(5):
        if not reference:
            case.reference = next_case_reference(opened_on.year)
        try:
            with transaction.atomic():
                case.save()
            break
        except IntegrityError:
            if reference:
                raise ValidationError({"reference": _("A case with this reference exists already.")}) from None
    else:
        raise ValidationError({"reference": _("Could not allocate a case reference; try again.")})
    case.legal_basis.set(legal_basis)
    case.entities.set(entities)
    CaseMembership.objects.create(case=case, user=case.lead, role=Role.LEAD)
    if case.lead != actor:
        CaseMembership.objects.get_or_create(case=case, user=actor, defaults={"role": Role.LEAD})
    _records().record_case(case=case, actor=actor)
    return case


@transaction.atomic
def update_case(*, actor, case: Case, legal_basis=None, entities=None, **changes) -> Case:
    """Change a case's details or status: the lead's right. The new state goes to the ledger."""
    require_role(case=case, actor=actor, role=Role.LEAD)
    unknown = set(changes) - CASE_FIELDS
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    records = _records()
    records.lock(case)
    # From the row, not the instance: a form may have changed the instance already.
    before = records.case_state(Case.objects.get(pk=case.pk))
    for name, value in changes.items():
        setattr(case, name, value)
    if case.status in (CaseStatus.CLOSED, CaseStatus.ARCHIVED) and case.closed_on is None:
        case.closed_on = timezone.localdate()
    _validate(case)
    case.save()
    if legal_basis is not None:
        case.legal_basis.set(legal_basis)
    if entities is not None:
        case.entities.set(entities)
    if case.lead_id:
        CaseMembership.objects.update_or_create(case=case, user=case.lead, defaults={"role": Role.LEAD})
    records.record_case(case=case, actor=actor, before=before)
    return case


@transaction.atomic
def set_membership(*, actor, case: Case, user, role: str) -> CaseMembership:
    """Add a user to the team or change their role: the lead's right."""
    require_role(case=case, actor=actor, role=Role.LEAD)
    if role not in ROLE_RANK:
        raise ValidationError({"role": _("Unknown role.")})
    membership, _created = CaseMembership.objects.select_for_update().get_or_create(
        case=case, user=user, defaults={"role": role}
    )
    if membership.role != role:
        if membership.role == Role.LEAD:
            _keep_a_lead(case, leaving=membership)
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def remove_membership(*, actor, membership: CaseMembership) -> None:
    require_role(case=membership.case, actor=actor, role=Role.LEAD)
    if membership.role == Role.LEAD:
        _keep_a_lead(membership.case, leaving=membership)
    membership.delete()


def _keep_a_lead(case: Case, *, leaving: CaseMembership) -> None:
    others = CaseMembership.objects.filter(case=case, role=Role.LEAD).exclude(pk=leaving.pk)
    if not others.exists():
        raise ValidationError({"role": _("A case must keep at least one lead.")})


def _check_identification_basis(value) -> None:
    from cases.choices import IdentificationBasis

    if not isinstance(value, list) or any(item not in IdentificationBasis.values for item in value):
        raise ValidationError({"identification_basis": _("A list of: %s.") % ", ".join(IdentificationBasis.values)})


@transaction.atomic
def create_incident(*, actor, case: Case, entities=(), **fields) -> Incident:
    """Record an incident of a case: an analyst's right. Its state goes to the ledger."""
    require_role(case=case, actor=actor, role=Role.ANALYST)
    unknown = set(fields) - set(INCIDENT_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    incident = Incident(case=case, **fields)
    _check_identification_basis(incident.identification_basis)
    incident.full_clean()
    incident.save()
    incident.entities.set(entities)
    _records().record_incident(incident=incident, actor=actor)
    return incident


@transaction.atomic
def update_incident(*, actor, incident: Incident, entities=None, **changes) -> Incident:
    """Change an incident (casualties, identification basis …): the new state goes to the ledger."""
    require_role(case=incident.case, actor=actor, role=Role.ANALYST)
    unknown = set(changes) - set(INCIDENT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    records = _records()
    records.lock(incident.case)
    # From the row, not the instance: a form may have changed the instance already.
    before = records.incident_state(Incident.objects.get(pk=incident.pk))
    for name, value in changes.items():
        setattr(incident, name, value)
    _check_identification_basis(incident.identification_basis)
    incident.full_clean()
    incident.save()
    if entities is not None:
        incident.entities.set(entities)
    records.record_incident(incident=incident, actor=actor, before=before)
    return incident


@transaction.atomic
def create_api_token(*, actor, name: str, expires_at=None, two_factor_verified: bool = False) -> tuple[ApiToken, str]:
    """A new token for the actor; the raw value is returned here and never again.

    Where two-factor sign-in is enforced, a token (which bypasses it) is issued only to a session
    that confirmed a TOTP code.
    """
    if settings.ATTEST_REQUIRE_2FA and not two_factor_verified:
        raise PermissionDenied(_("API tokens are issued only after a two-factor sign-in."))
    import secrets

    raw = "att_" + secrets.token_urlsafe(32)
    now = timezone.now()
    expires_at = expires_at or now + settings.ATTEST_API_TOKEN_LIFETIME
    if expires_at <= now:
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    if expires_at > now + settings.ATTEST_API_TOKEN_MAX_LIFETIME:
        raise ValidationError(
            {
                "expires_at": _("Tokens may live at most %(days)s days.")
                % {"days": settings.ATTEST_API_TOKEN_MAX_LIFETIME.days}
            }
        )
    token = ApiToken.objects.create(
        user=actor, name=name, prefix=raw[:12], key_hash=hash_token(raw), expires_at=expires_at
    )
    return token, raw


@transaction.atomic
def revoke_api_token(*, actor, token: ApiToken) -> ApiToken:
    if token.user_id != actor.pk and not actor.is_superuser:
        raise Http404(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def import_sdn(*, actor, text: str, list_name: str = "OFAC SDN") -> dict:
    """Create or update entities from SDN.CSV text. Idempotent: keyed on the list's ent_num.

    Each change goes through cases.reference_data, so the trail records it (actor None: the operator's command).
    """
    from cases.models import Entity
    from cases.reference_data import create_reference, update_reference
    from cases.sdn import SdnError, parse_sdn

    counts = {"created": 0, "updated": 0, "unchanged": 0}
    errors: list[SdnError] = []
    for item in parse_sdn(text):
        if isinstance(item, SdnError):
            errors.append(item)
            continue
        values = {
            "name": item.name,
            "kind": item.kind,
            "aliases": item.aliases,
            "identifiers": item.identifiers,
            "programs": item.programs,
            "remarks": item.remarks,
            "sanctioned": True,
        }
        entity = Entity.objects.filter(list_name=list_name, list_id=item.list_id).first()
        try:
            if entity is None:
                create_reference(
                    actor=actor, model=Entity, via="import_sdn", list_name=list_name, list_id=item.list_id, **values
                )
                counts["created"] += 1
            elif any(getattr(entity, name) != value for name, value in values.items()):
                update_reference(actor=actor, instance=entity, via="import_sdn", **values)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        except ValidationError as error:  # e.g. a name longer than the field: that row is refused, not the file
            errors.append(SdnError(item.line, "; ".join(error.messages)))
    return {**counts, "rejected": len(errors), "errors": errors}
