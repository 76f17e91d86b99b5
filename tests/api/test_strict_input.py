"""Input the OpenAPI schema forbids is a 400 naming the parameter or field, and the schema says what the
code refuses. These are the disagreements the contract test (test_contract.py) found, pinned here so
that seeing them again does not depend on what the fuzzer happens to draw."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.api.test_endpoints import assert_error
from tests.api.test_photo_endpoints import upload
from tests.factories import EvidenceItemFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "query", "name"),
    [
        ("/api/v1/incidents/", {"case": "0"}, "case"),
        ("/api/v1/entities/", {"case": "0"}, "case"),
        ("/api/v1/custody-events/", {"subject_id": "0.5"}, "subject_id"),
        ("/api/v1/markings/", {"withdrawn": "null"}, "withdrawn"),
        ("/api/v1/entities/", {"sanctioned": "yes"}, "sanctioned"),
        ("/api/v1/weapon-systems/", {"page_size": "null"}, "page_size"),
        ("/api/v1/custody-events/", {"page_size": "0"}, "page_size"),
        ("/api/v1/tokens/", {"revoked_at": ""}, "revoked_at"),
        ("/api/v1/incidents/", {"occurred_after": ""}, "occurred_after"),
        ("/api/v1/incidents/", {"weapon_system": ""}, "weapon_system"),
        ("/api/v1/sources/", {"published_after": ""}, "published_after"),
        ("/api/v1/attributions/", {"stance": ""}, "stance"),
    ],
)
def test_a_query_value_the_schema_forbids_is_a_400_naming_it(api, team, url, query, name):
    assert_error(api(team.alice).get(url, query), 400, field=name)


def test_an_empty_page_number_is_no_page(api, team):
    assert_error(api(team.alice).get("/api/v1/entities/", {"page": ""}), 404)


def test_text_filters_and_lists_of_choices_still_take_what_they_did(api, team):
    client = api(team.alice)
    assert client.get("/api/v1/incidents/", {"region": "", "q": ""}).status_code == 200
    assert client.get("/api/v1/incidents/", {"kind": ["missile_strike", "launch"]}).status_code == 200
    assert client.get("/api/v1/markings/", {"withdrawn": "false", "page_size": "500"}).status_code == 200


def test_the_browsable_api_form_sends_empty_filters_and_gets_every_row(client, team):
    client.force_login(team.alice)
    response = client.get("/api/v1/incidents/", {"case": "", "occurred_after": ""}, HTTP_ACCEPT="text/html")
    assert response.status_code == 200


def test_the_schema_states_the_limits_of_ids_and_page_sizes(api, team):
    schema = api(team.alice).get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/incidents/"]["get"]["parameters"]}
    assert parameters["case"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert parameters["page_size"]["minimum"] == 1
    assert parameters["region"]["pattern"] == "^[^\\x00]*$"


def test_a_photo_list_filters_by_file_format(api, team):
    # DRF took ?format= for the response's format and answered 404 (no renderer is called jpeg).
    response = api(team.alice).get("/api/v1/photos/", {"format": "jpeg"})
    assert response.status_code == 200, response.content
    assert_error(api(team.alice).get("/api/v1/photos/", {"format": "gif"}), 400, field="format")


class TestBodies:
    def test_a_list_field_refuses_a_text(self, api, team):
        body = {"name": "KN-25", "category": "rocket", "aliases": "{}"}
        assert_error(api(team.root).post("/api/v1/weapon-systems/", body, format="json"), 400, field="aliases")

    def test_in_a_form_a_field_given_once_is_a_list_of_one_as_the_schema_says(self, api, team):
        client = api(team.root)
        body = {"name": "KN-25", "category": "rocket", "aliases": "600 mm"}
        response = client.post("/api/v1/weapon-systems/", body, format="multipart")
        assert response.status_code == 201, response.content
        assert response.json()["aliases"] == ["600 mm"]
        schema = client.get("/api/schema/", {"format": "json"}).json()
        content = schema["paths"]["/api/v1/weapon-systems/"]["post"]["requestBody"]["content"]
        form = schema["components"]["schemas"][content["multipart/form-data"]["schema"]["$ref"].split("/")[-1]]
        aliases = form["properties"]["aliases"]["anyOf"]
        assert [alternative["type"] for alternative in aliases] == ["array", "string"]

    def test_an_empty_lead_is_refused(self, api, team):
        url = f"/api/v1/cases/{team.case.pk}/"
        assert_error(api(team.alice).patch(url, {"lead": ""}, format="json"), 400, field="lead")
        team.case.refresh_from_db()
        assert team.case.lead == team.alice

    def test_an_empty_id_is_refused_in_json(self, api, team):
        body = {"case": team.case.pk, "kind": "physical_debris", "title": "Fin", "incident": ""}
        assert_error(api(team.ivan).post("/api/v1/evidence-items/", body, format="json"), 400, field="incident")

    @pytest.mark.parametrize("value", [0, 1, "yes", "true"])
    def test_a_boolean_is_true_or_false_in_json(self, api, team, value):
        body = {"kind": "vessel", "name": "Ever Given", "sanctioned": value}
        assert_error(api(team.root).post("/api/v1/entities/", body, format="json"), 400, field="sanctioned")

    def test_a_boolean_is_the_text_true_or_false_in_a_form(self, api, team):
        client = api(team.root)
        body = {"kind": "vessel", "name": "Ever Given", "sanctioned": "true"}
        response = client.post("/api/v1/entities/", body, format="multipart")
        assert response.status_code == 201, response.content
        assert response.json()["sanctioned"] is True
        body["sanctioned"] = "1"
        assert_error(client.post("/api/v1/entities/", body, format="multipart"), 400, field="sanctioned")

    def test_an_empty_form_value_is_a_field_not_given_as_the_schema_says(self, api, team):
        item = EvidenceItemFactory(case=team.case)
        client = api(team.ivan)
        response = client.post(
            "/api/v1/photos/", {"item": item.pk, "file": upload(), "captured_at": ""}, format="multipart"
        )
        assert response.status_code == 201, response.content
        schema = client.get("/api/schema/", {"format": "json"}).json()
        content = schema["paths"]["/api/v1/photos/"]["post"]["requestBody"]["content"]
        form = schema["components"]["schemas"][content["multipart/form-data"]["schema"]["$ref"].split("/")[-1]]
        assert {"type": "string", "maxLength": 0} in form["properties"]["captured_at"]["anyOf"]

    def test_the_dossier_route_reads_its_options_from_a_form_too(self, api, team):
        response = api(team.alice).post(
            f"/api/v1/cases/{team.case.pk}/dossiers/",
            "include_photos=false&language=uk",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 201, response.content
        assert (response.json()["include_photos"], response.json()["language"]) == (False, "uk")

    def test_a_latitude_out_of_range_is_outside_the_schema_too(self, api, team):
        schema = api(team.alice).get("/api/schema/", {"format": "json"}).json()
        pattern = schema["components"]["schemas"]["IncidentRequest"]["properties"]["latitude"]["pattern"]
        valid = [value for value in ("90", "-89.999999", "0.5", "90.5", "99", "-", "") if re.search(pattern, value)]
        assert valid == ["90", "-89.999999", "0.5"]
        body = {
            "case": team.case.pk,
            "kind": "missile_strike",
            "occurred_at": "2024-01-02T09:30:00Z",
            "latitude": "90.5",
        }
        assert_error(api(team.alice).post("/api/v1/incidents/", body, format="json"), 400, field="latitude")


def test_a_revoked_token_is_gone_from_the_api(api, team):
    """use_after_free: after a successful DELETE, the object answers 404."""
    from core.models import ApiToken

    client = api(team.alice)
    token = client.post("/api/v1/tokens/", {"name": "laptop"}, format="json").json()
    assert client.delete(f"/api/v1/tokens/{token['id']}/").status_code == 204
    assert_error(client.get(f"/api/v1/tokens/{token['id']}/"), 404)
    assert token["id"] not in [row["id"] for row in client.get("/api/v1/tokens/").json()["results"]]
    assert ApiToken.objects.get(pk=token["id"]).revoked_at is not None  # kept, for the record


def test_the_location_of_a_new_dossier_is_a_plain_string(api, team):
    """A WSGI server refuses a header value that is not exactly a str (wsgiref: a 500 under runserver)."""
    response = api(team.alice).post(f"/api/v1/cases/{team.case.pk}/dossiers/", {}, format="json")
    assert response.status_code == 201, response.content
    assert type(response.headers["Location"]) is str


@pytest.mark.parametrize(("url", "body"), [("/api/v1/tokens/", {"name": 5}), ("/api/v1/tokens/", {"name": 0.5})])
def test_a_text_field_refuses_a_number(api, team, url, body):
    # DRF stored the number's digits; the schema says text.
    assert_error(api(team.alice).post(url, body, format="json"), 400, field="name")


class TestNulCharacters:
    """PostgreSQL refuses NUL in text and in jsonb keys; the contract fuzzer got a 500 from a username with one."""

    def test_a_username_with_a_nul_is_a_400_naming_it(self, api, team):
        body = {"case": team.case.pk, "user": "char\x00lie", "role": "viewer"}
        assert_error(api(team.alice).post("/api/v1/case-memberships/", body, format="json"), 400, field="user")
        assert_error(api(team.alice).post("/api/v1/case-memberships/", body, format="multipart"), 400, field="user")

    def test_a_lead_with_a_nul_is_a_400_naming_it(self, api, team):
        response = api(team.alice).patch(f"/api/v1/cases/{team.case.pk}/", {"lead": "ali\x00ce"}, format="json")
        assert_error(response, 400, field="lead")

    def test_an_identifier_key_with_a_nul_is_a_400_naming_it(self, api, team):
        body = {"kind": "vessel", "name": "Ever Given", "identifiers": [{"ty\x00pe": "IMO"}]}
        assert_error(api(team.root).post("/api/v1/entities/", body, format="json"), 400, field="identifiers")

    def test_an_identifier_without_a_nul_is_kept(self, api, team):
        body = {"kind": "vessel", "name": "Ever Given", "identifiers": [{"type": "IMO", "value": "9811000"}]}
        response = api(team.root).post("/api/v1/entities/", body, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["identifiers"] == [{"type": "IMO", "value": "9811000"}]


def _query_parameters() -> list[tuple[str, str]]:
    from tests.api.test_contract import SERVED

    return sorted(
        (path, parameter["name"])
        for path, operations in SERVED["paths"].items()
        if "{" not in path and "get" in operations
        for parameter in operations["get"].get("parameters", [])
        if parameter["in"] == "query"
    )


@pytest.mark.parametrize(("path", "name"), _query_parameters())
def test_a_nul_in_any_query_parameter_is_never_a_500(api, team, path, name):
    # Generated from the served schema, so a filter added later is probed too.
    response = api(team.alice).get(path, {name: "a\x00b"})
    assert response.status_code < 500, response.content


def _body_texts() -> list[tuple[str, str, str]]:
    from tests.api.test_contract import SERVED

    def properties(schema):
        if "$ref" in schema:
            schema = SERVED["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema.get("properties", {})

    found = []
    for path, operations in SERVED["paths"].items():
        for method in ("post", "patch"):
            body = operations.get(method, {}).get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            for name, field in properties(body["schema"]).items():
                if field.get("readOnly") or field.get("format") == "binary":
                    continue
                found.append((method, path, name))
    return sorted(found)


@pytest.mark.parametrize(("method", "path", "name"), _body_texts())
def test_a_nul_in_any_body_field_is_never_a_500(api, team, method, path, name):
    url = re.sub(r"\{[^}]+\}", lambda match: str(team.case.pk), path)
    for body in ({name: "a\x00b"}, {name: ["a\x00b"]}, {name: [{"a\x00b": "c\x00d"}]}):
        response = getattr(api(team.root), method)(url, body, format="json")
        assert response.status_code < 500, (body, response.content)


class TestMembershipUpdate:
    """A membership's case and user are fixed; the contract fuzzer's PUT with an array for case was a 200."""

    def url(self, team) -> str:
        from cases.models import CaseMembership

        return f"/api/v1/case-memberships/{CaseMembership.objects.get(case=team.case, user=team.vera).pk}/"

    @pytest.mark.parametrize(("body", "field"), [({"case": [1], "role": "analyst"}, "case"),
                                                 ({"user": 1.5, "role": "analyst"}, "user")])  # fmt: skip
    def test_a_wrong_type_for_a_fixed_field_is_a_400(self, api, team, body, field):
        assert_error(api(team.alice).put(self.url(team), body, format="json"), 400, field=field)

    def test_another_case_or_user_is_a_400_and_changes_nothing(self, api, team):
        response = api(team.alice).patch(self.url(team), {"user": "charlie"}, format="json")
        assert_error(response, 400, field="user")
        assert "cannot change" in response.json()["error"]["message"]
        response = api(team.alice).patch(self.url(team), {"case": team.other_case.pk}, format="json")
        assert_error(response, 400, field="case")

    def test_the_same_case_and_user_or_none_change_the_role(self, api, team):
        body = {"case": team.case.pk, "user": "vera", "role": "analyst"}
        assert api(team.alice).put(self.url(team), body, format="json").json()["role"] == "analyst"
        assert api(team.alice).put(self.url(team), {"role": "viewer"}, format="json").json()["role"] == "viewer"

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_a_multipart_body_none_of_whose_parts_has_a_name_is_a_400(self, api, team, method):
        """The fuzzer's body for a null object, "None" where a part's headers go: Django skipped the part,
        and the empty form was accepted as "no change" (ST201)."""
        from cases.models import CaseMembership

        boundary = "7c5156fb04a2177cf9e322ad31ebde44"
        bodies = [f"--{boundary}\r\nNone--{boundary}--\r\n",
                  f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nanalyst\r\n--{boundary}--\r\n"]  # fmt: skip
        before = CaseMembership.objects.get(case=team.case, user=team.vera).updated_at
        for body in bodies:
            response = getattr(api(team.alice), method)(
                self.url(team), body.encode(), content_type=f"multipart/form-data; boundary={boundary}"
            )
            assert_error(response, 400, code="parse_error")
            assert "no part of the body could be read" in response.json()["error"]["message"]
        assert CaseMembership.objects.get(case=team.case, user=team.vera).updated_at == before

    def test_a_multipart_body_of_no_parts_or_of_named_parts_is_read(self, api, team):
        boundary = "attest"
        empty = api(team.alice).patch(
            self.url(team), f"--{boundary}--\r\n".encode(), content_type=f"multipart/form-data; boundary={boundary}"
        )
        assert empty.status_code == 200, empty.content
        named = api(team.alice).patch(self.url(team), {"role": "analyst"}, format="multipart")
        assert named.status_code == 200, named.content
        assert named.json()["role"] == "analyst"


def test_the_schema_states_the_reference_policy(api, team):
    """The fuzzer sent reference="\\x85": stripped to blank and refused by a rule the schema did not state."""
    from tests.api.test_contract import SERVED

    pattern = SERVED["components"]["schemas"]["CaseRequest"]["properties"]["reference"]["pattern"]
    assert not re.fullmatch(pattern, "\x85")
    assert_error(api(team.root).post("/api/v1/cases/", {"title": "T", "reference": "\x85"}, format="json"), 400)


REFERENCE_SCHEMA = {"pattern": r"^[A-Za-z0-9]+((-+[./]?-*|[./]-*)[A-Za-z0-9]+)*$", "minLength": 2, "maxLength": 40}


@given(st.from_regex(REFERENCE_SCHEMA["pattern"], fullmatch=True).filter(lambda text: 2 <= len(text) <= 40))
@settings(max_examples=300)
def test_every_reference_the_schema_allows_passes_the_policy(text):
    from cases import references
    from tests.api.test_contract import SERVED

    served = SERVED["components"]["schemas"]["CaseRequest"]["properties"]["reference"]
    assert {key: served.get(key) for key in REFERENCE_SCHEMA} == REFERENCE_SCHEMA
    assert references.problem(references.normalise(text)) is None


@given(st.text(alphabet="Ab0./-", min_size=2, max_size=12))
@settings(max_examples=300)
def test_the_policy_allows_what_the_schema_allows_and_nothing_else(text):
    """The other way round: a text the policy accepts matches the schema, one it refuses does not."""
    from cases import references

    schema_allows = re.fullmatch(REFERENCE_SCHEMA["pattern"], text) is not None
    assert (references.problem(references.normalise(text)) is None) == schema_allows


def test_the_schemas_whitespace_is_what_python_strips():
    """Schemathesis sent claim="\\x1e": whitespace to str.strip() (so DRF refused it as blank), not to `\\s`
    read as ASCII (so the schema allowed it). The schema now spells out Python's whitespace."""
    from core.api.request_schema import NOT_BLANK, WHITESPACE

    spelled = re.compile(f"[{WHITESPACE}]")
    assert {chr(i) for i in range(0x110000) if spelled.fullmatch(chr(i))} == {
        chr(i) for i in range(0x110000) if chr(i).isspace()
    }
    for reading in (0, re.ASCII):  # Python's reading, and Schemathesis's
        not_blank = re.compile(NOT_BLANK, reading)
        assert not any(not_blank.fullmatch(c * 2) for c in map(chr, range(0x110000)) if c.isspace())
        assert not_blank.fullmatch(" \x1e claim \u3000")


@pytest.mark.parametrize("blank", ["\x1e", "\x85", "\u3000 \x1c"])
def test_text_python_strips_to_nothing_is_refused_and_outside_the_schema(api, team, blank):
    from core.api.request_schema import NOT_BLANK

    assert not re.fullmatch(NOT_BLANK, blank, re.ASCII)
    item = api(team.ivan).post(
        "/api/v1/evidence-items/", {"case": team.case.pk, "kind": "debris", "title": blank}, format="json"
    )
    assert_error(item, 400, field="title")
