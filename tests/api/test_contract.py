"""Schemathesis fuzzes every operation of the OpenAPI schema through the WSGI app.

It must find no 5xx and no response that breaks the schema, with a valid token and anonymously.
"""

import json

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application


def _served_schema() -> dict:
    """The schema as /api/schema/ serves it to a signed-in user (it refuses anonymous readers)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(_served_schema())
schema.app = application
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Calling the WSGI app directly fires request_finished, which would close the connection that
    holds the test's transaction (on PostgreSQL). Django's own test client detaches it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def member_token(team):
    from cases.services import create_api_token
    from tests.factories import IncidentFactory

    IncidentFactory(case=team.case)
    _token, raw = create_api_token(actor=team.alice, name="contract")
    return raw


@pytest.mark.django_db(transaction=False)
@schema.parametrize()
@FUZZ
def test_api_contract_with_a_token(case, member_token):
    case.call_and_validate(headers={"Authorization": f"Token {member_token}"}, checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_api_contract_anonymous(case):
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code in (401, 403, 404, 405, 406, 415, 400)


@pytest.mark.django_db
def test_the_fuzzed_schema_is_the_one_served(member_token):
    from django.test import Client

    response = Client().get("/api/schema/", {"format": "json"}, HTTP_AUTHORIZATION=f"Token {member_token}")
    assert response.status_code == 200
    assert json.loads(response.content) == _served_schema()
