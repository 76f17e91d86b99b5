"""The authorization matrix for API creates, generated from the router: every POST on a list route
about a case's objects, for an outsider, each role and a superuser. A new create route fails here
until it has a body in CREATE_BODIES and a rule in CREATE_RULES.

Members at or above the rule create (201, the row is in the case); members below get 403 and a
"denied" access-log row; the outsider is refused with 400 and the same answer whether the case
exists or not, and the access log records the refusal. Nothing of the other case ever leaks; the
ledger records each create of evidence.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cases.models import AccessLog, Case, Incident
from config.api.urls import router
from evidence.models import (
    Attribution,
    Component,
    CustodyEvent,
    DateCodeReading,
    EvidenceItem,
    Marking,
    Photo,
    Source,
    TraceRequest,
)
from tests import factories
from tests.api.test_endpoints import NEW_INCIDENT
from tests.api.test_photo_endpoints import upload
from tests.routes import is_case_scoped
from tests.test_authorization_matrix import PERSONAS, RANK, ROLE_RANK

pytestmark = pytest.mark.django_db

# Opening a case needs the cases.add_case permission (CanOpenCases, services.create_case), not a role
# on a case: in the fixture only the superuser has it, so every other persona, the outsider too, gets 403.
ADD_CASE = "cases.add_case"
# The least role that may create each, from the services' require_role calls.
CREATE_RULES = {
    "case-list": ADD_CASE,
    "casemembership-list": "lead",  # set_membership
    "incident-list": "analyst",  # create_incident
    "evidenceitem-list": "investigator",  # create_item
    "custodyevent-list": "investigator",  # transfer_custody
    "photo-list": "investigator",  # add_photo
    "marking-list": "analyst",  # record_marking
    "source-list": "analyst",  # add_source
    "attribution-list": "analyst",  # add_attribution
    "export-list": "viewer",  # request_export
    "component-list": "analyst",  # record_component
    "datecodereading-list": "analyst",  # record_reading
    "tracerequest-list": "analyst",  # draft_trace_request
}
# An outsider naming team.case's objects: the serializer's Visible*Field answers "does not exist".
OUTSIDER = 400


def _marking(team):
    item = factories.EvidenceItemFactory(case=team.case, kind="component")
    body = {"item": item.pk, "transcription": "AD7541AKN 2312", "marking_type": "part_number", "confidence": "probable"}
    return body, "json"


def _attribution(team):
    source = factories.SourceFactory(case=team.case)
    body = {"case": team.case.pk, "claim": "A Hwasong-11 struck Kharkiv", "subject_type": "case", "source": source.pk,
            "credibility": 2}  # fmt: skip
    return body, "json"


def _component(team):
    from evidence.services.components import record_component

    item = factories.EvidenceItemFactory(case=team.case, kind="component")
    return record_component(actor=team.alice, item=item, function="guidance", part_number="ADIS16470")


# route name -> function(team) returning a valid (body, format) for team.case.
CREATE_BODIES = {
    "case-list": lambda team: ({"title": "Opened by the matrix"}, "json"),
    "casemembership-list": lambda team: (
        {"case": team.case.pk, "user": factories.UserFactory(username="newcomer").username, "role": "viewer"},
        "json",
    ),
    "incident-list": lambda team: ({**NEW_INCIDENT, "case": team.case.pk}, "json"),
    "evidenceitem-list": lambda team: (
        {"case": team.case.pk, "kind": "physical_debris", "title": "Nozzle fragment"},
        "json",
    ),
    "custodyevent-list": lambda team: (
        {
            "item": factories.EvidenceItemFactory(case=team.case).pk,
            "to_custodian": "Kyiv laboratory",
            "occurred_at": "2024-01-05T10:00:00Z",
        },
        "json",
    ),
    # A real camera JPEG from shared/data/photos, as the photo endpoint tests upload it.
    "photo-list": lambda team: (
        {"item": factories.EvidenceItemFactory(case=team.case).pk, "file": upload()},
        "multipart",
    ),
    "marking-list": _marking,
    "source-list": lambda team: (
        {"case": team.case.pk, "kind": "un_report", "title": "Panel of Experts report", "reliability": "B"},
        "json",
    ),
    "attribution-list": _attribution,
    "export-list": lambda team: ({"case": team.case.pk, "kind": "dossier"}, "json"),
    "component-list": lambda team: (
        {
            "item": factories.EvidenceItemFactory(case=team.case, kind="component").pk,
            "function": "guidance",
            "part_number": "ADIS16470",
        },
        "json",
    ),
    "datecodereading-list": lambda team: ({"component": _component(team).pk, "raw_code": "2231"}, "json"),
    "tracerequest-list": lambda team: (
        {
            "case": team.case.pk,
            "recipient_kind": "manufacturer",
            "recipient_name": "Analog Devices",
            "components": [_component(team).pk],
        },
        "json",
    ),
}
# Body fields naming an object of team.case; the "missing case" request points each nowhere.
REFERENCES = {"case": Case, "item": EvidenceItem, "source": Source, "incident": Incident, "photo": Photo,
              "marking": Marking, "component": Component, "components": Component}  # fmt: skip
# Creates of evidence append to the case's custody ledger (evidence.services *_event).
LEDGERED = (EvidenceItem, Photo, Marking, Source, Attribution, Component, DateCodeReading, TraceRequest)


def _api_creates():
    seen = set()
    for pattern in router.urls:
        callback = pattern.callback
        if "post" not in getattr(callback, "actions", {}) or "pk" in pattern.pattern.regex.pattern:
            continue
        model = callback.cls.queryset.model
        if pattern.name in seen or not (is_case_scoped(model) or pattern.name == "case-list"):
            continue
        seen.add(pattern.name)
        yield pytest.param(pattern.name, model, id=pattern.name)


CREATES = list(_api_creates())


def _in_case(model, team):
    """The model's rows in team.case (for Case: every case, since a create opens a new one)."""
    if model is Case:
        return Case.objects.all()
    lookup = model._default_manager.get_queryset().case_lookup
    return model._base_manager.filter(**{lookup: team.case.pk})


def _allowed(name: str, persona: str) -> bool:
    rule = CREATE_RULES[name]
    if rule == ADD_CASE:
        return persona == "root"
    return RANK[persona] >= ROLE_RANK[rule]


def _post(api, user, url, body_and_format):
    body, fmt = body_and_format
    return api(user).post(url, body, format=fmt)


def _error_without_ids(response, ids) -> str:
    text = response.content.decode()
    pattern = r"\b(?:" + "|".join(str(pk) for pk in ids) + r")\b"
    return re.sub(pattern, "<id>", text) if ids else text


def _pointing_nowhere(body: dict) -> dict:
    """The body with each reference to team.case's objects replaced by an id that exists nowhere."""
    body = dict(body)
    for field, model in REFERENCES.items():
        if field in body:
            nowhere = (model._base_manager.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
            body[field] = [nowhere] if isinstance(body[field], list) else nowhere
    return body


def _ids(body: dict) -> list[int]:
    found = [body[field] for field in REFERENCES if field in body]
    return [pk for value in found for pk in (value if isinstance(value, list) else [value])]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "model"), CREATES)
def test_api_creates(api, team, name, model, persona):
    assert name in CREATE_BODIES.keys() & CREATE_RULES.keys(), (
        f"give {name} a body in CREATE_BODIES / a rule in CREATE_RULES"
    )
    url = reverse(name)
    user = getattr(team, persona)
    body = CREATE_BODIES[name](team)
    rows, everywhere = _in_case(model, team).count(), model._base_manager.count()
    denied = AccessLog.objects.filter(user=user, action="denied").count()
    response = _post(api, user, url, body)
    content = response.content
    assert team.other_case.reference.encode() not in content, (name, persona)
    if persona == "charlie":
        assert team.case.reference.encode() not in content, name
    if _allowed(name, persona):
        assert response.status_code == 201, (name, persona, content[:400])
        assert _in_case(model, team).filter(pk=response.json()["id"]).exists()
        assert _in_case(model, team).count() == rows + 1
        return
    assert model._base_manager.count() == everywhere, f"{persona} created a {name} row"
    if persona != "charlie" or CREATE_RULES[name] == ADD_CASE:
        assert response.status_code == 403, (name, persona, content[:400])
        assert AccessLog.objects.filter(user=user, action="denied").count() == denied + 1
        return
    assert response.status_code == OUTSIDER, (name, content[:400])
    # The refusal is in the access log, naming what was probed, for team.case's leads to see.
    refusals = AccessLog.objects.filter(user=user, action="denied").order_by("pk")[denied:]
    assert refusals, f"no access-log row for the outsider's refused {name}"
    assert {row.case_id for row in refusals} == {team.case.pk}
    # The same request naming a case (and objects) that do not exist: the answer must be the same.
    missing_body = _pointing_nowhere(CREATE_BODIES[name](team)[0])
    ids = _ids(body[0]) + _ids(missing_body)
    everywhere = model._base_manager.count()
    missing = _post(api, user, url, (missing_body, body[1]))
    assert model._base_manager.count() == everywhere
    assert missing.status_code == response.status_code, (name, missing.content[:400])
    assert team.other_case.reference.encode() not in missing.content
    assert _error_without_ids(missing, ids) == _error_without_ids(response, ids)


@pytest.mark.parametrize(("name", "model"), [param for param in CREATES if param.values[1] in LEDGERED])
def test_evidence_creates_are_written_to_the_custody_ledger(api, team, name, model):
    persona = min((p for p in PERSONAS if _allowed(name, p)), key=RANK.__getitem__)
    url = reverse(name)
    body = CREATE_BODIES[name](team)
    ledger = CustodyEvent.objects.filter(case=team.case)
    before = ledger.count()
    response = _post(api, getattr(team, persona), url, body)
    assert response.status_code == 201, (name, persona, response.content[:400])
    written = list(ledger.order_by("sequence")[before:])
    assert written, f"{name} by {persona} wrote no custody event"
    # One event; a photo processed within its upload (tasks in this process) adds photo.processed.
    assert len(written) == (2 if name == "photo-list" and written[-1].event_type == "photo.processed" else 1)
    assert {(event.subject_type, event.subject_id) for event in written} == {
        (written[0].subject_type, response.json()["id"])
    }
