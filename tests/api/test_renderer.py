"""The API's JSON renderer (orjson) writes the document DRF's JSONRenderer writes."""

import datetime
import decimal
import json
import uuid
import zoneinfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.api.renderers import JSONRenderer
from tests.factories import IncidentFactory

KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")

SAME_BYTES = {
    "texts": {"place": "Харків", "quote": 'He said "KN-23"\n\ttwice', "empty": "", "emoji": "🚀", "nul": "a\x00b"},
    "line separators": {"text": "before\u2028between\u2029after"},
    "numbers": {"killed": 0, "wounded": -3, "big": 2**63 - 1, "small": -(2**63), "yes": True, "no": None},
    "nested lists": [[1, [2, [3, {"a": []}]]], {}, [], "x"],
    "datetimes": {
        "utc": datetime.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC),
        "kyiv": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=KYIV),
        "naive": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "date": datetime.date(2024, 1, 2),
        "time": datetime.time(23, 59, 1, 5),
        "duration": datetime.timedelta(hours=1, microseconds=5),
    },
    "other types": {
        "decimal": decimal.Decimal("50.4501"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "lazy": gettext_lazy("This field is required."),
        "tuple": (1, "two"),
        "bytes": b"raw",
    },
    "keys that are not text": {1: "one", "2": "two"},
    "DRF's containers": ReturnDict({"results": ReturnList([{"id": 1}], serializer=None)}, serializer=None),
    "integer beyond 64 bits (DRF's own rendering)": {"huge": 2**64},
    "a list": [1, "a", None],
    "a text": "just text",
}


@pytest.mark.parametrize("data", SAME_BYTES.values(), ids=SAME_BYTES.keys())
def test_the_document_is_drfs_byte_for_byte(data):
    ours = JSONRenderer().render(data, "application/json", {})
    assert ours == renderers.JSONRenderer().render(data, "application/json", {})
    json.loads(ours)


def test_the_line_separators_are_escaped_as_drf_does():
    # A raw U+2028 is valid JSON but ends a line in older JavaScript: DRF escapes it, and so do we.
    assert JSONRenderer().render({"t": "a\u2028b\u2029c"}) == b'{"t":"a\\u2028b\\u2029c"}'


def test_floats_are_the_same_numbers():
    data = {"values": [0.1, 1e16, 1e-7, -2.5, 50.450100000001, 1.7976931348623157e308]}
    assert json.loads(JSONRenderer().render(data)) == json.loads(renderers.JSONRenderer().render(data))


def test_a_non_finite_float_is_null_where_drf_raises():
    with pytest.raises(ValueError, match="not JSON compliant"):
        renderers.JSONRenderer().render({"x": float("nan")})
    assert JSONRenderer().render({"x": float("nan"), "y": float("inf")}) == b'{"x":null,"y":null}'


def test_an_indented_document_is_drfs():
    data = {"a": [1, 2], "b": "Харків"}
    for media_type, context in (("application/json; indent=4", {}), ("application/json", {"indent": 2})):
        ours = JSONRenderer().render(data, media_type, context)
        assert ours == renderers.JSONRenderer().render(data, media_type, context)
        assert b"\n" in ours


def test_a_lone_surrogate_is_refused_as_drf_refuses_it():
    for renderer in (JSONRenderer(), renderers.JSONRenderer()):
        with pytest.raises(UnicodeEncodeError):
            renderer.render({"x": "\ud800"})


def test_none_is_an_empty_body():
    assert JSONRenderer().render(None) == b""


def test_a_value_no_encoder_knows_is_drfs_error():
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()})


def test_the_api_answers_with_it(api, team):
    IncidentFactory(case=team.case, place_name="Харків\u2028")
    response = api(team.alice).get("/api/v1/incidents/", {"case": team.case.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert b"\\u2028" in response.content
    assert response.json()["results"][0]["place_name"] == "Харків\u2028"
