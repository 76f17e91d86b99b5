"""Schemathesis fuzzes every operation of the OpenAPI schema through the WSGI app, with all its checks.

With a valid token and anonymously, each answer must be what the schema says: no 5xx; statuses,
content types, headers and bodies as declared; input the schema forbids refused and input it allows
accepted (see RULES_NO_SCHEMA_STATES); credentials enforced; undeclared methods refused.

Every check schemathesis has runs on every call (test_every_check_schemathesis_has_is_run keeps the
list whole). Some need what only a sequence of calls gives, and find nothing to judge in the
per-operation tests: use_after_free and ensure_resource_availability (a delete or a create earlier
in the sequence) and object_level_authorization (a second user to replay a read as). The stateful
test gives them that. missing_required_header judges operations with a required header parameter;
this schema declares none (credentials are a security scheme, which ignored_auth judges).
max_response_time is no check of its own but a limit one sets; none is set here.
"""

import copy
import json
import re
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core import validators as django_validators
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework import fields as drf_fields
from rest_framework import relations
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from schemathesis.config import PositiveDataAcceptanceConfig, SchemathesisConfig

from config.wsgi import application


def _served_schema() -> dict:
    """The schema as /api/schema/ serves it to a signed-in user (it refuses anonymous readers)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


# RULES_NO_SCHEMA_STATES: a request the schema allows can still break a rule no schema can state:
# an id of nothing the user may see, a name already taken, a rule across fields or about the
# current state (a case keeps a lead; an expiry is in the future). So a write may answer such input
# with a 400, and so may the ledger's list to a cursor it did not make. Other reads may not.
# refused_only_by_rules_no_schema_states (below) holds those 400s to that: each names its fields,
# and none for a rule about one value (type, format, length, range, characters), which the schema
# must state.
RULE_STATUSES = [*PositiveDataAcceptanceConfig().expected_statuses, "400"]
CONFIG_OPERATIONS = [
    {"include-method": method, "checks": {"positive_data_acceptance": {"expected-statuses": RULE_STATUSES}}}
    for method in ("POST", "PUT", "PATCH", "DELETE")
] + [
    {
        "include-name": "GET /api/v1/custody-events/",
        "checks": {"positive_data_acceptance": {"expected-statuses": RULE_STATUSES}},
    }
]
CONFIG = SchemathesisConfig.from_dict({"operations": CONFIG_OPERATIONS})
SERVED = _served_schema()
schema = schemathesis.openapi.from_dict(copy.deepcopy(SERVED), config=CONFIG)
schema.app = application

# The stateful run chains operations by the links schemathesis infers from the schema (an id in a
# response, a path that takes it), as two users: alice, lead of a case, and charlie, lead of
# another. Their tokens are fixed here (set in the test database by `peers`) so that the Web
# Fuzzing Commons document naming them can be written before the schema is loaded.
PEERS = {"alice": "att_contract-alice-" + "a" * 24, "charlie": "att_contract-charlie-" + "c" * 22}
WFC_USERS = Path(__file__).with_name("contract_users.json")
STATEFUL_CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": CONFIG_OPERATIONS,
        "auth": {"wfc": {"path": str(WFC_USERS), "user": "alice", "peers": list(PEERS)}},
    }
)
stateful_schema = schemathesis.openapi.from_dict(copy.deepcopy(SERVED), config=STATEFUL_CONFIG)
stateful_schema.app = application


def _single_value_rules() -> list[re.Pattern]:
    """What DRF and Django say of one value that breaks a rule of its own field, as patterns."""
    messages = []
    for field in [
        drf_fields.Field,
        drf_fields.CharField,
        drf_fields.IntegerField,
        drf_fields.FloatField,
        drf_fields.DecimalField,
        drf_fields.BooleanField,
        drf_fields.DateField,
        drf_fields.DateTimeField,
        drf_fields.ChoiceField,
        drf_fields.MultipleChoiceField,
        drf_fields.FileField,
        drf_fields.ListField,
        drf_fields.DictField,
        drf_fields.JSONField,
        drf_fields.URLField,
        drf_fields.EmailField,
        relations.ManyRelatedField,
    ]:
        messages += field.default_error_messages.values()
    # A relation's id of the wrong type is about the one value; an id of nothing is not.
    messages.append(relations.PrimaryKeyRelatedField.default_error_messages["incorrect_type"])
    messages += [
        django_validators.MinValueValidator.message,
        django_validators.MaxValueValidator.message,
        django_validators.ProhibitNullCharactersValidator.message,
        ProhibitSurrogateCharactersValidator.message,
        django_validators.RegexValidator.message,
        django_validators.URLValidator.message,
        *django_validators.DecimalValidator.messages.values(),
    ]
    patterns = []
    for message in messages:
        try:
            text = str(message)
        except TypeError:  # a plural form, which needs its number: none of the messages above
            continue
        pattern = re.sub(r"\\\{[\w:]+\\\}|%\\\(\w+\\\)[sd]", ".*", re.escape(text))
        patterns.append(re.compile(pattern, re.DOTALL))
    return patterns


SINGLE_VALUE_RULES = _single_value_rules()


def refused_only_by_rules_no_schema_states(ctx, response, case):
    """A 400 to input the schema allows names its fields, for rules no schema can state (see above)."""
    if response.status_code != 400 or case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    try:
        fields = response.json()["error"]["fields"]
    except (ValueError, KeyError, TypeError):
        fields = None
    assert fields, f"Schema-valid input refused without naming a field: {response.text[:500]}"
    for name, messages in fields.items():
        for message in messages:
            said = re.sub(r"^(item \d+: )+", "", message)
            assert not any(rule.fullmatch(said) for rule in SINGLE_VALUE_RULES), (
                f"Schema-valid input refused by a rule the schema should state: {name}: {message}"
            )
    return None


CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
)
CHECKS = [*(getattr(schemathesis.checks, name) for name in CHECK_NAMES), refused_only_by_rules_no_schema_states]
FUZZ = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


def test_every_check_schemathesis_has_is_run():
    """A check a newer schemathesis adds must be added here too, or said why not."""
    assert set(schemathesis.checks.CHECKS.get_all_names()) == set(CHECK_NAMES)


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


@pytest.fixture
def peers(team):
    """alice and charlie sign in with the tokens of the WFC document; alice may open cases."""
    from django.contrib.auth.models import Permission

    from cases.services import create_api_token
    from core.models import ApiToken, hash_token

    team.alice.user_permissions.add(Permission.objects.get(codename="add_case", content_type__app_label="cases"))
    for user, raw in ((team.alice, PEERS["alice"]), (team.charlie, PEERS["charlie"])):
        token, _raw = create_api_token(actor=user, name="contract")
        ApiToken.objects.filter(pk=token.pk).update(key_hash=hash_token(raw), prefix=raw[:12])
    assert json.loads(WFC_USERS.read_text())["auth"] == [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Token {raw}"}]}
        for name, raw in PEERS.items()
    ]


class ContractStateMachine(stateful_schema.as_state_machine()):
    def validate_response(self, response, case, additional_checks=None, **kwargs):
        extra = [*(additional_checks or []), refused_only_by_rules_no_schema_states]
        super().validate_response(response, case, additional_checks=extra, **kwargs)


@pytest.mark.django_db
def test_api_contract_stateful(peers):
    """Sequences of calls, for the checks that need them: use_after_free (a deleted object is gone),
    ensure_resource_availability (a created one can be read), object_level_authorization (charlie
    does not get what alice reads of her case), and every other check on each call."""
    ContractStateMachine.run(
        settings=settings(
            max_examples=25,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
