"""The shared shapes of permanence: every AppendOnlyModel refuses change and deletion, every
WithdrawableModel is withdrawn once, with one custody event. Models are found from the app
registry, so a new subclass is tested here (and fails until it has a maker below)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from cases.permanence import AppendOnlyModel, EvidenceIsPermanent
from evidence import custody, services
from evidence.models import CustodyEvent, WithdrawableModel
from tests.factories import AttributionFactory, EvidenceItemFactory, MarkingFactory, SourceFactory

pytestmark = pytest.mark.django_db


def subclasses(base) -> list:
    return sorted((model for model in apps.get_models() if issubclass(model, base)), key=lambda m: m._meta.label)


def stored(row) -> dict:
    """The row as the database holds it, every column."""
    fresh = type(row).objects.get(pk=row.pk)
    return {field.attname: getattr(fresh, field.attname) for field in type(row)._meta.concrete_fields}


def refusal(message) -> str:
    return re.escape(str(message))


# --- Append-only ---------------------------------------------------------------------------------------------


def _event(team, model):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    return model.objects.filter(case=team.case).order_by("-sequence").first()


def _checkpoint(team, model):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    return custody.sign_checkpoint(case=team.case, reason="test")


def _timestamp(team, model):
    now = timezone.now()
    checkpoint = _checkpoint(team, None)
    return model.objects.create(
        checkpoint=checkpoint, tsa_url="https://tsa.test/", tsa_name="Test TSA", reply=b"0", sha256="0" * 64,
        gen_time=now, obtained_at=now,
    )  # fmt: skip


def _access(team, model):
    return model.objects.create(user=team.vera, action="view", case=team.case, object_label="EX-0001")


# One stored row of each kind, by model name (the access log keeps its maker wherever its app is).
APPEND_ONLY_MAKERS = {
    "custodyevent": _event,
    "checkpoint": _checkpoint,
    "checkpointtimestamp": _timestamp,
    "accesslog": _access,
}


@pytest.fixture(params=subclasses(AppendOnlyModel), ids=lambda model: model._meta.label)
def append_only_row(request, team):
    model = request.param
    maker = APPEND_ONLY_MAKERS.get(model._meta.model_name)
    assert maker, f"{model._meta.label} is append-only: give it a maker in APPEND_ONLY_MAKERS"
    return maker(team, model)


def test_the_append_only_models_are_found():
    assert {"custodyevent", "checkpoint", "checkpointtimestamp"} <= {
        model._meta.model_name for model in subclasses(AppendOnlyModel)
    }


def test_an_append_only_row_is_never_changed_or_deleted(append_only_row):
    model, row, before = type(append_only_row), append_only_row, stored(append_only_row)
    with pytest.raises(EvidenceIsPermanent, match=refusal(model.refused_change)):
        row.save()
    with pytest.raises(EvidenceIsPermanent, match=refusal(model.refused_delete)):
        row.delete()
    rows = model.objects.filter(pk=row.pk)
    with pytest.raises(EvidenceIsPermanent, match=refusal(model.refused_change)):
        rows.update(pk=row.pk)
    with pytest.raises(EvidenceIsPermanent, match=refusal(model.refused_change)):
        model.objects.bulk_update([row], fields=[model._meta.pk.name])
    with pytest.raises(EvidenceIsPermanent, match=refusal(model.refused_delete)):
        rows.delete()
    with pytest.raises(EvidenceIsPermanent, match=refusal(model.refused_delete)):
        model.objects.all().delete()
    assert stored(row) == before


def test_a_new_instance_with_a_stored_pk_is_inserted_not_saved_over_it(append_only_row):
    row, before = append_only_row, stored(append_only_row)
    fields = type(row)._meta.concrete_fields
    twin = type(row)(**{field.attname: getattr(row, field.attname) for field in fields})
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    assert stored(row) == before


# --- Withdrawable ---------------------------------------------------------------------------------------------

RECOVERED = dt.date(2024, 6, 1)


def _board(team):
    return EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", title="Board")


def _component(team):
    return services.record_component(actor=team.bob, item=_board(team), function="power", part_number="LM317")


# How to record one of each (through its service, so it has its event) and how to withdraw it.
WITHDRAWABLE = {
    "marking": (
        lambda team: MarkingFactory(item=_board(team), actor=team.bob),
        lambda row, **kw: services.withdraw_marking(marking=row, **kw),
    ),
    "source": (
        lambda team: SourceFactory(case=team.case, actor=team.bob),
        lambda row, **kw: services.withdraw_source(source=row, **kw),
    ),
    "attribution": (
        lambda team: AttributionFactory(case=team.case, actor=team.bob),
        lambda row, **kw: services.withdraw_attribution(attribution=row, **kw),
    ),
    "component": (_component, lambda row, **kw: services.withdraw_component(component=row, **kw)),
    "datecodereading": (
        lambda team: services.record_reading(
            actor=team.bob, component=_component(team), raw_code="2312", not_after=RECOVERED
        ),
        lambda row, **kw: services.withdraw_reading(reading=row, **kw),
    ),
}


@pytest.fixture(params=subclasses(WithdrawableModel), ids=lambda model: model._meta.label)
def withdrawable(request, team):
    model = request.param
    assert model._meta.model_name in WITHDRAWABLE, f"give {model._meta.label} a maker in WITHDRAWABLE"
    make, withdraw = WITHDRAWABLE[model._meta.model_name]
    return make(team), withdraw


def events(case) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(case=case).order_by("sequence"))


def test_a_withdrawal_is_one_custody_event_and_is_not_repeated(team, withdrawable):
    row, withdraw = withdrawable
    before = events(team.case)
    withdrawn = withdraw(row, actor=team.alice, reason="recorded twice")
    [event] = events(team.case)[len(before) :]
    assert event.event_type.endswith(".withdrawn")
    assert (event.subject_id, event.actor, event.payload_data["reason"]) == (row.pk, team.alice, "recorded twice")
    assert withdrawn.withdrawn_at is not None
    first = stored(row)
    assert first["withdrawal_reason"] == "recorded twice"

    again = withdraw(row, actor=team.bob, reason="another reason")
    assert len(events(team.case)) == len(before) + 1  # the second withdrawal records nothing
    assert stored(row) == first  # and changes nothing: the first time and reason stand
    assert (again.withdrawn_at, again.withdrawal_reason) == (withdrawn.withdrawn_at, "recorded twice")
    assert custody.verify_case(team.case).intact


@pytest.mark.parametrize(
    ("who", "reason", "refusal"),
    [("vera", "wrong", PermissionDenied), ("charlie", "wrong", Http404), ("bob", "  ", ValidationError)],
)
def test_a_withdrawal_needs_an_analyst_of_the_case_and_a_reason(team, withdrawable, who, reason, refusal):
    row, withdraw = withdrawable
    before = events(team.case)
    with pytest.raises(refusal):
        withdraw(row, actor=getattr(team, who), reason=reason)
    assert events(team.case) == before
    assert stored(row)["withdrawal_reason"] == ""
