"""What the route-driven tests need to make one row of each kind. A new model or route adds one line here;
the tests that walk the router and the admin find it on their own and fail until it has one."""

from cases.models import (
    ApiToken,
    Case,
    CaseMembership,
    Entity,
    Incident,
    ReferenceChange,
    SanctionsProvision,
    WeaponSystem,
)
from evidence.models import (
    AccessLog,
    Attribution,
    Checkpoint,
    CustodyEvent,
    EvidenceItem,
    Export,
    Manufacturer,
    Marking,
    Photo,
    Source,
)
from tests import factories


def _token(team):
    from cases.services import create_api_token

    return create_api_token(actor=team.alice, name="row")[0]


def _reference_change(team):
    from cases.reference_data import create_reference

    create_reference(actor=team.root, model=Entity, via="test", kind="organisation", name="Trading corporation")
    return ReferenceChange.objects.latest("pk")


def _event(team):
    item = factories.EvidenceItemFactory(case=team.case)
    return CustodyEvent.objects.filter(subject_id=item.pk, subject_type="evidence_item").get()


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
    Marking: lambda team: factories.MarkingFactory(
        item=factories.EvidenceItemFactory(case=team.case, kind="component")
    ),
    Source: lambda team: factories.SourceFactory(case=team.case),
    Attribution: lambda team: factories.AttributionFactory(case=team.case),
    Export: lambda team: factories.ExportFactory(case=team.case),
    AccessLog: lambda team: _access(team),
}

# The object of team.case that an outsider must not reach, per case-scoped model.
CASE_OBJECT = {
    Case: lambda team: team.case,
    CaseMembership: lambda team: factories.MembershipFactory(case=team.case),
    Incident: lambda team: factories.IncidentFactory(case=team.case),
    EvidenceItem: lambda team: factories.EvidenceItemFactory(case=team.case),
    CustodyEvent: lambda team: _event(team),
    Checkpoint: lambda team: _checkpoint(team),
    Photo: lambda team: factories.PhotoFactory(item=factories.EvidenceItemFactory(case=team.case)),
    Marking: lambda team: factories.MarkingFactory(
        item=factories.EvidenceItemFactory(case=team.case, kind="component")
    ),
    Source: lambda team: factories.SourceFactory(case=team.case),
    Attribution: lambda team: factories.AttributionFactory(case=team.case),
    Export: lambda team: factories.ExportFactory(case=team.case),
    AccessLog: lambda team: _access(team),
}


def _access(team):
    from evidence.audit import record

    record(None, "view", obj=team.case, user=team.alice)
    return AccessLog.objects.latest("pk")


def _checkpoint(team):
    from evidence.custody import sign_checkpoint

    _event(team)
    return sign_checkpoint(case=team.case, reason="test")


def is_case_scoped(model) -> bool:
    return hasattr(model._default_manager.get_queryset(), "visible_to")
