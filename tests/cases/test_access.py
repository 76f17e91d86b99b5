"""Role rights, enforced by the services that every adapter calls."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from cases import services
from cases.choices import CaseStatus, Role
from cases.models import Case, CaseMembership, Incident
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

INCIDENT = {
    "kind": "missile_strike",
    "occurred_at": datetime(2024, 1, 2, 5, 0, tzinfo=UTC),
    "region": "Kharkiv",
}


def test_visibility_members_see_their_case_outsiders_nothing_superusers_all(team):
    assert list(Case.objects.visible_to(team.vera)) == [team.case]
    assert list(Case.objects.visible_to(team.charlie)) == [team.other_case]
    assert set(Case.objects.visible_to(team.root)) == {team.case, team.other_case}
    incident = IncidentFactory(case=team.case)
    assert list(Incident.objects.visible_to(team.bob)) == [incident]
    assert not Incident.objects.visible_to(team.charlie).exists()


def test_inactive_and_anonymous_users_see_nothing(team):
    from django.contrib.auth.models import AnonymousUser

    team.alice.is_active = False
    assert not Case.objects.visible_to(team.alice).exists()
    assert not Case.objects.visible_to(AnonymousUser()).exists()


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("vera", False), ("bob", True), ("ivan", True), ("alice", True), ("root", True)],
)
def test_incidents_need_the_analyst_role(team, persona, allowed):
    actor = getattr(team, persona)
    if allowed:
        incident = services.create_incident(actor=actor, case=team.case, **INCIDENT)
        assert incident.case == team.case
    else:
        with pytest.raises(PermissionDenied):
            services.create_incident(actor=actor, case=team.case, **INCIDENT)
        assert not Incident.objects.exists()


def test_outsiders_get_not_found_rather_than_forbidden(team):
    with pytest.raises(Http404):
        services.create_incident(actor=team.charlie, case=team.case, **INCIDENT)
    with pytest.raises(Http404):
        services.update_case(actor=team.charlie, case=team.case, title="mine now")


@pytest.mark.parametrize(("persona", "allowed"), [("ivan", False), ("bob", False), ("alice", True)])
def test_only_the_lead_manages_status_and_team(team, persona, allowed):
    actor = getattr(team, persona)
    newcomer = UserFactory(username="nadia")
    if allowed:
        services.update_case(actor=actor, case=team.case, status=CaseStatus.REFERRED)
        services.set_membership(actor=actor, case=team.case, user=newcomer, role=Role.ANALYST)
        assert team.case.role_of(newcomer) == Role.ANALYST
    else:
        with pytest.raises(PermissionDenied):
            services.update_case(actor=actor, case=team.case, status=CaseStatus.REFERRED)
        with pytest.raises(PermissionDenied):
            services.set_membership(actor=actor, case=team.case, user=newcomer, role=Role.ANALYST)
        assert team.case.role_of(newcomer) is None


def test_a_case_keeps_at_least_one_lead(team):
    membership = CaseMembership.objects.get(case=team.case, user=team.alice)
    with pytest.raises(ValidationError):
        services.remove_membership(actor=team.alice, membership=membership)
    with pytest.raises(ValidationError):
        services.set_membership(actor=team.alice, case=team.case, user=team.alice, role=Role.VIEWER)
    services.set_membership(actor=team.alice, case=team.case, user=team.bob, role=Role.LEAD)
    services.remove_membership(actor=team.bob, membership=membership)
    assert team.case.role_of(team.alice) is None


def test_closing_a_case_records_the_closing_date(team):
    services.update_case(actor=team.alice, case=team.case, status=CaseStatus.CLOSED)
    team.case.refresh_from_db()
    assert team.case.closed_on is not None


def test_opening_a_case_needs_the_permission_and_makes_the_opener_lead(team):
    with pytest.raises(PermissionDenied):
        services.create_case(actor=team.bob, title="Rockets")
    team.bob.user_permissions.add(Permission.objects.get(codename="add_case"))
    bob = type(team.bob).objects.get(pk=team.bob.pk)  # fresh permission cache
    case = services.create_case(actor=bob, title="Rockets", opened_on=datetime(2024, 3, 1).date())
    assert case.reference == "PGO-2024-0003"  # after the team's 0001 and 0002
    assert case.role_of(bob) == Role.LEAD
    second = services.create_case(actor=bob, title="Shipments", opened_on=datetime(2024, 5, 1).date())
    assert second.reference == "PGO-2024-0004"


def test_a_given_reference_must_be_unique(team):
    with pytest.raises(ValidationError) as raised:
        services.create_case(actor=team.root, title="Copy", reference=team.case.reference)
    assert "reference" in raised.value.message_dict


def test_coordinates_are_range_checked(team):
    with pytest.raises(ValidationError) as raised:
        services.create_incident(actor=team.bob, case=team.case, latitude=91, longitude=181, **INCIDENT)
    assert {"latitude", "longitude"} <= set(raised.value.message_dict)
    assert not Incident.objects.exists()


def test_identification_basis_accepts_only_known_bases(team):
    with pytest.raises(ValidationError) as raised:
        services.create_incident(actor=team.bob, case=team.case, identification_basis=["hunch"], **INCIDENT)
    assert "identification_basis" in raised.value.message_dict
