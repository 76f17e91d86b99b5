"""What the route-driven tests need to make one row of each kind. A new model or route adds one line here;
the tests that walk the router and the admin find it on their own and fail until it has one."""

from cases.models import (
    AccessLog,
    Case,
    CaseMembership,
    Entity,
    Incident,
    ReferenceChange,
    SanctionsProvision,
    WeaponSystem,
)
from core.models import ApiToken
from evidence.models import (
    Attribution,
    Checkpoint,
    Component,
    CustodyEvent,
    DateCodeReading,
    EvidenceFile,
    EvidenceItem,
    Export,
    Manufacturer,
    Marking,
    Photo,
    Source,
    TraceRequest,
)
from tests import factories


def _token(team):
    from cases.services import create_api_token

    return create_api_token(actor=team.alice, name="row")[0]


def _reference_change(team):
    from cases.reference_data import create_reference

    create_reference(actor=team.root, model=Entity, via="test", kind="organisation", name="Trading corporation")
    return ReferenceChange.objects.latest("pk")


def _kept_file(team):
    import io
    import uuid

    from evidence.filestore import hashed_copy
    from evidence.services import keep_file

    item = factories.EvidenceItemFactory(case=team.case)
    with hashed_copy(io.BytesIO(b"\xff\xd8\xff damaged " + uuid.uuid4().bytes)) as upload:
        return keep_file(actor=team.alice, item=item, upload=upload, original_name="damaged.jpg").kept


def _event(team):
    item = factories.EvidenceItemFactory(case=team.case)
    return CustodyEvent.objects.filter(subject_id=item.pk, subject_type="evidence_item").get()


def _component(team):
    from evidence.services.components import record_component

    item = factories.EvidenceItemFactory(case=team.case, kind="component")
    return record_component(actor=team.alice, item=item, function="processing", part_number="STM32F405RGT6")


def _reading(team):
    from evidence.services.components import record_reading

    return record_reading(actor=team.alice, component=_component(team), raw_code="2231")


def _pdf(request, path):
    path.write_bytes(b"%PDF-1.4\n% a letter about trace request " + str(request.pk).encode() + b"\n%%EOF\n")


def _trace_request(team):
    """A draft with its letter issued (so that the letter's download route has a file to send)."""
    from evidence.services.tracing import draft_trace_request, issue_letter

    trace = draft_trace_request(actor=team.alice, case=team.case, recipient_kind="manufacturer",
                                recipient_name="STMicroelectronics", components=[_component(team)])  # fmt: skip
    return issue_letter(actor=team.alice, request=trace, render=_pdf)


# model -> a function making one row that belongs to team.case (or, for reference data, to everyone)
ROW_MAKERS = {
    Case: lambda team: factories.CaseFactory(lead=team.alice),
    CaseMembership: lambda team: factories.MembershipFactory(case=team.case),
    Incident: lambda team: factories.IncidentFactory(case=team.case),
    WeaponSystem: lambda team: factories.WeaponSystemFactory(),
    SanctionsProvision: lambda team: factories.ProvisionFactory(),
    Entity: lambda team: factories.EntityFactory(),
    Manufacturer: lambda team: factories.ManufacturerFactory(),
    ApiToken: _token,
    ReferenceChange: _reference_change,
    EvidenceItem: lambda team: factories.EvidenceItemFactory(case=team.case),
    CustodyEvent: lambda team: _event(team),
    Photo: lambda team: factories.PhotoFactory(item=factories.EvidenceItemFactory(case=team.case)),
    EvidenceFile: _kept_file,
    Marking: lambda team: factories.MarkingFactory(
        item=factories.EvidenceItemFactory(case=team.case, kind="component")
    ),
    Source: lambda team: factories.SourceFactory(case=team.case),
    Attribution: lambda team: factories.AttributionFactory(case=team.case),
    Export: lambda team: factories.ExportFactory(case=team.case),
    AccessLog: lambda team: _access(team),
    Component: _component,
    DateCodeReading: _reading,
    TraceRequest: _trace_request,
}

# The object of team.case that an outsider must not reach, per case-scoped model.
CASE_OBJECT = {
    Case: lambda team: team.case,
    CaseMembership: lambda team: factories.MembershipFactory(case=team.case),
    Incident: lambda team: factories.IncidentFactory(case=team.case),
    EvidenceItem: lambda team: factories.EvidenceItemFactory(case=team.case),
    CustodyEvent: lambda team: _event(team),
    Checkpoint: lambda team: _checkpoint(team),
    Photo: lambda team: factories.PhotoFactory(
        item=factories.EvidenceItemFactory(case=team.case),
        processed=True,  # previews and thumbnail to read
    ),
    EvidenceFile: _kept_file,
    Marking: lambda team: factories.MarkingFactory(
        item=factories.EvidenceItemFactory(case=team.case, kind="component")
    ),
    Source: lambda team: factories.SourceFactory(case=team.case),
    Attribution: lambda team: factories.AttributionFactory(case=team.case),
    Export: lambda team: factories.ExportFactory(case=team.case),
    AccessLog: lambda team: _access(team),
    Component: _component,
    DateCodeReading: _reading,
    TraceRequest: _trace_request,
}


def _access(team):
    from cases.audit import record

    record(None, "view", obj=team.case, user=team.alice)
    return AccessLog.objects.latest("pk")


def _checkpoint(team):
    from evidence.custody import sign_checkpoint

    _event(team)
    return sign_checkpoint(case=team.case, reason="test")


def is_case_scoped(model) -> bool:
    return hasattr(model._default_manager.get_queryset(), "visible_to")


# --- Add forms that link to a case's objects: a valid post, and the links to offer from another case. ---
# model -> function(team) returning (data of a valid add form on team.case, {field: pk of team.other_case's})


def _add_item(team):
    valid = {"case": team.case.pk, "kind": "physical_debris", "title": "Crawled fragment",
             "incident": factories.IncidentFactory(case=team.case).pk,
             "parent": factories.EvidenceItemFactory(case=team.case).pk}  # fmt: skip
    crossed = {"incident": factories.IncidentFactory(case=team.other_case).pk,
               "parent": factories.EvidenceItemFactory(case=team.other_case).pk}  # fmt: skip
    return valid, crossed


def _add_attribution(team):
    valid = {"case": team.case.pk, "claim": "Made in 2023.", "subject_type": "incident",
             "incident": factories.IncidentFactory(case=team.case).pk,
             "source": factories.SourceFactory(case=team.case).pk, "credibility": 2, "stance": "supports"}  # fmt: skip
    crossed = {"incident": factories.IncidentFactory(case=team.other_case).pk,
               "source": factories.SourceFactory(case=team.other_case).pk}  # fmt: skip
    return valid, crossed


def _add_marking(team):
    item = factories.EvidenceItemFactory(case=team.case, kind="component")
    valid = {"item": item.pk, "photo": factories.PhotoFactory(item=item).pk, "transcription": "AD7541A",
             "marking_type": "part_number", "confidence": "probable"}  # fmt: skip
    other = factories.EvidenceItemFactory(case=team.other_case, kind="component")
    return valid, {"photo": factories.PhotoFactory(item=other).pk, "item": other.pk}


def _add_incident(team):
    valid = {"case": team.case.pk, "kind": "missile_strike", "occurred_at_0": "2024-01-02",
             "occurred_at_1": "05:00:00", "occurred_precision": "exact", "outcome": "impact", "killed": 0,
             "wounded": 0}  # fmt: skip
    return valid, {"case": team.other_case.pk}


def _add_source(team):
    valid = {"case": team.case.pk, "kind": "un_report", "title": "Crawled report", "reliability": "B"}
    return valid, {"case": team.other_case.pk}


def _add_membership(team):
    from tests.factories import UserFactory

    valid = {"case": team.case.pk, "user": UserFactory(username="newcomer").pk, "role": "viewer"}
    return valid, {"case": team.other_case.pk}


def _add_component(team):
    item = factories.EvidenceItemFactory(case=team.case, kind="component")
    marking = factories.MarkingFactory(item=item, transcription="STM32", marking_type="part_number")
    other = factories.EvidenceItemFactory(case=team.other_case, kind="component")
    valid = {"item": item.pk, "function": "processing", "part_number": "STM32F405", "markings": [marking.pk]}
    foreign = factories.MarkingFactory(item=other, transcription="X", marking_type="part_number")
    return valid, {"item": other.pk, "markings": foreign.pk}


def _add_reading(team):
    from evidence.services.components import record_component

    item = factories.EvidenceItemFactory(case=team.case, kind="component")
    component = record_component(actor=team.alice, item=item, function="processing")
    marking = factories.MarkingFactory(item=item, transcription="2231", marking_type="date_code")
    other_item = factories.EvidenceItemFactory(case=team.other_case, kind="component")
    other = record_component(actor=team.charlie, item=other_item, function="processing")
    valid = {"component": component.pk, "marking": marking.pk, "raw_code": "2231"}
    crossed = {"component": other.pk, "marking": factories.MarkingFactory(
        item=other_item, transcription="2231", marking_type="date_code").pk}  # fmt: skip
    return valid, crossed


def _add_trace(team):
    from evidence.services.components import record_component

    mine = record_component(actor=team.alice, item=factories.EvidenceItemFactory(case=team.case), function="power")
    other = record_component(actor=team.charlie, item=factories.EvidenceItemFactory(case=team.other_case),
                             function="power")  # fmt: skip
    valid = {"case": team.case.pk, "recipient_kind": "manufacturer", "recipient_name": "ST",
             "components": [mine.pk], "language": "en", "deadline_days": 28}  # fmt: skip
    return valid, {"case": team.other_case.pk, "components": other.pk}


ADD_FORMS = {
    EvidenceItem: _add_item,
    Attribution: _add_attribution,
    Marking: _add_marking,
    Incident: _add_incident,
    Source: _add_source,
    CaseMembership: _add_membership,
    Component: _add_component,
    DateCodeReading: _add_reading,
    TraceRequest: _add_trace,
}
