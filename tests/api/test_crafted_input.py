"""Crafted input is refused in the API's error format, never a 500: deeply nested JSON, and cursors,
page numbers and page sizes of any size, sign or script, on every list route of the router."""

from __future__ import annotations

import json
from base64 import b64encode

import pytest
from django.contrib.admin.sites import site as admin_site
from django.urls import reverse
from rest_framework.exceptions import ValidationError

from cases.models import Entity
from config.api.urls import router
from core.json_depth import MAX_DEPTH, nested_deeper_than
from tests.api.test_endpoints import assert_error
from tests.factories import EvidenceItemFactory
from tests.routes import ROW_MAKERS

pytestmark = pytest.mark.django_db

LIST_ROUTES = [(prefix, viewset) for prefix, viewset, _basename in router.registry if hasattr(viewset, "list")]
CREATE_ROUTES = [prefix for prefix, viewset, _basename in router.registry if hasattr(viewset, "create")]


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_the_depth_scan():
    assert not nested_deeper_than(deep(MAX_DEPTH))
    assert nested_deeper_than(deep(MAX_DEPTH + 1))
    assert not nested_deeper_than(json.dumps({"name": "[{" * 1000}))  # brackets inside a string nest nothing
    assert not nested_deeper_than(json.dumps({"name": '\\"' + "[" * 1000}))  # nor after an escaped quote
    assert nested_deeper_than('{"a": "x", "b": ' + deep(1000) + "}")
    assert nested_deeper_than(deep(1000).encode())


@pytest.mark.parametrize("prefix", CREATE_ROUTES)
def test_json_nested_a_thousand_deep_is_a_400(api, team, prefix):
    body = f'{{"case": {team.case.pk}, "title": {deep(1000)}}}'
    response = api(team.root).generic("POST", f"/api/v1/{prefix}/", body, content_type="application/json")
    if response.status_code == 415:  # a route that takes multipart only (photos)
        assert_error(response, 415)
        return
    assert_error(response, 400, code="parse_error")
    assert f"more than {MAX_DEPTH} levels" in response.json()["error"]["message"]


@pytest.mark.parametrize("charset", ["cp500", "utf-16", "utf-32"])
def test_the_nesting_limit_holds_in_any_charset_the_request_names(api, team, charset):
    """In EBCDIC (cp500) brackets are other bytes: counted in the raw body, they passed the limit."""
    body = f'{{"title": {deep(1000)}}}'.encode(charset)
    response = api(team.root).generic(
        "PATCH", f"/api/v1/cases/{team.case.pk}/", body, content_type=f"application/json; charset={charset}"
    )
    assert_error(response, 400, code="parse_error")
    assert f"more than {MAX_DEPTH} levels" in response.json()["error"]["message"]
    fine = api(team.root).generic(
        "PATCH", f"/api/v1/cases/{team.case.pk}/", '{"title": "Hwasong-11 [KN-23]"}'.encode(charset),
        content_type=f"application/json; charset={charset}",
    )  # fmt: skip
    assert fine.status_code == 200, fine.content
    assert fine.json()["title"] == "Hwasong-11 [KN-23]"


@pytest.mark.parametrize("charset", ["zlib", "base64", "rot13", "hex", "punycode"])
def test_a_charset_that_is_no_text_encoding_is_a_400(api, team, charset):
    response = api(team.root).generic(
        "PATCH",
        f"/api/v1/cases/{team.case.pk}/",
        b'{"title": "x"}',
        content_type=f"application/json; charset={charset}",
    )
    assert_error(response, 400, code="parse_error")


@pytest.mark.parametrize("content_type", ["multipart", "urlencoded"])
def test_json_text_nested_deep_in_a_form_field_is_a_400(api, team, content_type):
    """A form's JSON field is parsed by the serializer, past the API's JSON parser."""
    from django.db import models

    from core.api.serializers import JSONField, ModelSerializer

    assert ModelSerializer.serializer_field_mapping[models.JSONField] is JSONField
    field = JSONField()
    with pytest.raises(ValidationError):
        field.run_validation(deep(1000))
    client = api(team.root)
    if content_type == "multipart":
        response = client.post("/api/v1/manufacturers/", {"name": "Acme", "aliases": deep(1000)}, format="multipart")
    else:
        response = client.generic("POST", "/api/v1/manufacturers/", f"name=Acme&aliases={deep(1000)}",
                                  content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert_error(response, 400, field="aliases")


def test_nesting_within_the_limit_and_forms_still_work(api, team):
    client = api(team.root)
    identifiers = [{"type": "IMO", "value": "8712362"}]
    response = client.post("/api/v1/entities/", {"kind": "vessel", "name": "[[[[", "identifiers": identifiers})
    assert response.status_code == 201, response.content
    assert response.json()["identifiers"] == identifiers
    form = client.post("/api/v1/entities/", {"kind": "vessel", "name": "By form"}, format="multipart")
    assert form.status_code == 201, form.content
    urlencoded = client.generic(
        "POST", "/api/v1/entities/", "kind=vessel&name=Urlencoded", content_type="application/x-www-form-urlencoded"
    )
    assert urlencoded.status_code == 201, urlencoded.content


def test_the_admin_refuses_deep_json_in_a_form(client, team):
    team.root.is_staff = True
    team.root.save()
    client.force_login(team.root)
    assert Entity in admin_site._registry
    response = client.post(
        reverse("admin:cases_entity_add"),
        {"kind": "vessel", "name": "Deep", "aliases": deep(1000), "identifiers": "[]", "programs": "[]"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert f"more than {MAX_DEPTH} levels" in response.content.decode()
    assert not Entity.objects.filter(name="Deep").exists()


def cursor(query: str) -> str:
    return b64encode(query.encode()).decode()


class TestLedgerCursor:
    url = "/api/v1/custody-events/"

    @pytest.mark.parametrize(
        "value",
        [
            cursor("p=9999999999999999999999"),
            cursor("p=-1"),
            cursor("p=abc"),
            cursor("p=" + "9" * 5000),
            cursor("o=-5"),
            cursor("r=" + "9" * 5000),
            "not base64 at all!",
            cursor("garbage"),
            cursor("p=1&p=2"),
            cursor("p=1&x=2"),
            cursor(""),
            "",
            "%%%",
            cursor("p=1")[:-1],  # base64 cut short
            "cD0x\u0661",  # a non-ASCII digit after valid base64
            "\u043a\u0443\u0440\u0441\u043e\u0440",
        ],
    )
    def test_a_cursor_this_api_could_not_have_made_is_a_400_naming_it(self, api, team, value):
        EvidenceItemFactory(case=team.case)
        response = api(team.alice).get(self.url, {"cursor": value})
        assert_error(response, 400, field="cursor")

    def test_the_cursors_it_makes_still_page(self, api, team):
        for _ in range(3):
            EvidenceItemFactory(case=team.case)
        client = api(team.alice)
        page = client.get(self.url, {"page_size": 2}).json()
        assert client.get(page["next"]).status_code == 200
        # A huge offset is cut to DRF's offset_cutoff: odd, but a cursor it could make.
        assert client.get(self.url, {"cursor": cursor("p=1&o=99999999999999999999999&r=1")}).status_code == 200


HOSTILE_NUMBERS = [
    "99999999999999999999999",
    "9" * 5000,
    "-1",
    "0",
    "-99999999999999999999999",
    "1e3",
    "\u0663",  # ARABIC-INDIC DIGIT THREE
    "\uff11",  # FULLWIDTH DIGIT ONE
    "\u00b2",  # SUPERSCRIPT TWO
    "\u043e\u0434\u0438\u043d",
    "1\x00",
    " 2 ",
    "last",
]


@pytest.mark.parametrize(("prefix", "viewset"), LIST_ROUTES, ids=[prefix for prefix, _ in LIST_ROUTES])
def test_page_parameters_of_any_size_or_script_never_fail(api, team, prefix, viewset):
    ROW_MAKERS[viewset.queryset.model](team)
    client = api(team.root)
    for name in ("page", "page_size", "cursor"):
        for value in HOSTILE_NUMBERS:
            response = client.get(f"/api/v1/{prefix}/", {name: value})
            assert response.status_code in (200, 400, 404), (prefix, name, value, response.content[:300])
            if response.status_code != 200:
                assert_error(response, response.status_code)
