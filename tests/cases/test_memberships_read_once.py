"""memberships_read_once(): one query within a block, and nothing of it after the block."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.choices import Role
from cases.models import MEMBERSHIPS_ATTRIBUTE, CaseMembership, Incident, memberships_read_once
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def membership_queries(queries) -> int:
    return len([q for q in queries if '"cases_casemembership"' in q["sql"]])


def test_within_the_block_roles_and_visibility_come_from_one_query(team):
    incident = IncidentFactory(case=team.case)
    IncidentFactory(case=team.other_case)
    with memberships_read_once(team.ivan), CaptureQueriesContext(connection) as queries:
        assert list(Incident.objects.visible_to(team.ivan)) == [incident]
        assert team.case.role_of(team.ivan) == Role.INVESTIGATOR
        assert team.other_case.role_of(team.ivan) is None
    assert membership_queries(queries) == 1


def test_after_the_block_a_changed_role_is_read_again(team):
    with memberships_read_once(team.ivan):
        assert team.case.role_of(team.ivan) == Role.INVESTIGATOR
    CaseMembership.objects.filter(case=team.case, user=team.ivan).update(role=Role.VIEWER)
    assert team.case.role_of(team.ivan) == Role.VIEWER
    assert not hasattr(team.ivan, MEMBERSHIPS_ATTRIBUTE)


def test_the_memo_is_dropped_when_the_block_raises(team):
    def failing_request():
        with memberships_read_once(team.ivan):
            team.case.role_of(team.ivan)
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert not hasattr(team.ivan, MEMBERSHIPS_ATTRIBUTE)


def test_an_inner_block_leaves_the_memo_to_the_outer_one(team):
    with memberships_read_once(team.ivan), CaptureQueriesContext(connection) as queries:
        with memberships_read_once(team.ivan):
            team.case.role_of(team.ivan)
        assert team.case.role_of(team.ivan) == Role.INVESTIGATOR
    assert membership_queries(queries) == 1


def test_superusers_and_anonymous_users_are_answered_as_ever(team):
    with memberships_read_once(team.root), CaptureQueriesContext(connection) as queries:
        assert team.case.role_of(team.root) == Role.LEAD
    assert membership_queries(queries) == 0
    anonymous = AnonymousUser()
    with memberships_read_once(anonymous):
        assert team.case.role_of(anonymous) is None
        assert not Incident.objects.visible_to(anonymous).exists()
