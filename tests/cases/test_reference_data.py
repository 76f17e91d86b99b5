"""Reference data (entities, manufacturers, weapon systems, sanctions regimes and provisions): any user reads
it, only reference data editors change it, through the API or the admin, and every change is in an
append-only trail with the row before and after. Routes are found from the router and the admin registry,
so a new reference data route or page is covered without editing this test."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from cases import reference_data
from cases.models import (
    Entity,
    ReferenceChange,
    ReferenceHistoryIsPermanent,
    SanctionsProvision,
    SanctionsRegime,
    WeaponSystem,
)
from config.api.urls import router
from evidence.models import Manufacturer
from tests.api.test_endpoints import assert_error
from tests.factories import EntityFactory, ManufacturerFactory, ProvisionFactory, WeaponSystemFactory

pytestmark = pytest.mark.django_db

# model -> (a valid body to create one, a change to an existing one, a function making one)
BODIES = {
    WeaponSystem: (
        lambda: {"name": "Hwasong-19", "category": "ballistic_missile"},
        {"notes": "Seen in 2024."},
        WeaponSystemFactory,
    ),
    SanctionsProvision: (
        lambda: {
            "regime": SanctionsProvision.objects.first().regime_id,
            "instrument": "Resolution 2397 (2017)",
            "paragraph": "7",
            "text": "Refined petroleum.",
            "adopted_on": "2017-12-22",
            "authority": "UNSC",
        },
        {"text": "Amended."},
        ProvisionFactory,
    ),
    Entity: (lambda: {"kind": "organisation", "name": "Green Pine Associated"}, {"sanctioned": False}, EntityFactory),
    Manufacturer: (
        lambda: {"name": "Texas Instruments", "country": "United States"},
        {"country": "USA"},
        ManufacturerFactory,
    ),
}


def _routes():
    models = set(reference_data.reference_models())
    for prefix, viewset, _basename in router.registry:
        if viewset.queryset.model in models:
            yield pytest.param(prefix, viewset.queryset.model, id=prefix)


ROUTES = list(_routes())


def editor(user):
    user.groups.add(reference_data.editors_group())
    return type(user).objects.get(pk=user.pk)  # permissions are cached on the instance


def test_every_reference_model_has_an_api_route_but_regimes():
    routed = {param.values[1] for param in ROUTES}
    assert routed == set(reference_data.reference_models()) - {SanctionsRegime}


@pytest.mark.parametrize(("prefix", "model"), ROUTES)
@pytest.mark.parametrize("persona", ["vera", "alice", "charlie"])
def test_staff_without_the_permission_read_but_cannot_write(api, team, prefix, model, persona):
    create, change, make = BODIES[model]
    row = make()
    before = reference_data.state(model.objects.get(pk=row.pk))
    client = api(getattr(team, persona))
    assert client.get(f"/api/v1/{prefix}/").status_code == 200
    assert client.get(f"/api/v1/{prefix}/{row.pk}/").status_code == 200
    assert_error(client.post(f"/api/v1/{prefix}/", create(), format="json"), 403)
    assert_error(client.patch(f"/api/v1/{prefix}/{row.pk}/", change, format="json"), 403)
    assert reference_data.state(model.objects.get(pk=row.pk)) == before
    assert not ReferenceChange.objects.exists()


@pytest.mark.parametrize(("prefix", "model"), ROUTES)
@pytest.mark.parametrize("persona", ["alice", "root"])
def test_editors_and_superusers_write_and_each_change_is_recorded(api, team, prefix, model, persona):
    user = editor(team.alice) if persona == "alice" else team.root
    create, change, make = BODIES[model]
    client = api(user)
    created = client.post(f"/api/v1/{prefix}/", create(), format="json")
    assert created.status_code == 201, created.content
    record = ReferenceChange.objects.get()
    assert (record.actor, record.via, record.action, record.model) == (user, "api", "created", model._meta.label_lower)
    assert record.object_id == created.json()["id"]
    assert record.before is None
    assert record.after == reference_data.state(model.objects.get(pk=record.object_id))

    row = make()
    before = reference_data.state(row)
    changed = client.patch(f"/api/v1/{prefix}/{row.pk}/", change, format="json")
    assert changed.status_code == 200, changed.content
    record = ReferenceChange.objects.order_by("pk").last()
    assert (record.action, record.object_id, record.changed) == ("changed", row.pk, sorted(change))
    assert record.before == before
    assert record.after == reference_data.state(model.objects.get(pk=row.pk))
    assert client.patch(f"/api/v1/{prefix}/{row.pk}/", change, format="json").status_code == 200
    assert ReferenceChange.objects.count() == 2  # changing nothing records nothing


def test_a_case_viewer_cannot_clear_an_entitys_sanctioned_flag(api, team):
    """The reviewer's case: any staff user could PATCH `sanctioned`, and nothing recorded it."""
    entity = EntityFactory(sanctioned=True)
    assert_error(api(team.vera).patch(f"/api/v1/entities/{entity.pk}/", {"sanctioned": False}, format="json"), 403)
    entity.refresh_from_db()
    assert entity.sanctioned
    response = api(editor(team.bob)).patch(f"/api/v1/entities/{entity.pk}/", {"sanctioned": False}, format="json")
    assert response.status_code == 200
    record = ReferenceChange.objects.get()
    assert (record.actor_name, record.changed) == ("bob", ["sanctioned"])
    assert (record.before["sanctioned"], record.after["sanctioned"]) == (True, False)


def test_a_refused_change_records_nothing_and_a_failed_record_undoes_the_change(api, team, monkeypatch):
    entity = EntityFactory(name="Original")
    client = api(team.root)
    assert_error(client.patch(f"/api/v1/entities/{entity.pk}/", {"kind": "spaceship"}, format="json"), 400)
    assert not ReferenceChange.objects.exists()

    def broken(**kwargs):
        raise RuntimeError("the trail is unavailable")

    monkeypatch.setattr(ReferenceChange.objects, "create", broken)
    with pytest.raises(RuntimeError):
        reference_data.update_reference(actor=team.root, instance=entity, via="test", name="Renamed")
    entity.refresh_from_db()
    assert entity.name == "Original"  # the change and its record commit together or not at all


def test_the_trail_is_append_only(team):
    reference_data.create_reference(actor=team.root, model=Entity, via="test", kind="organisation", name="KOMID")
    record = ReferenceChange.objects.get()
    record.via = "forged"
    with pytest.raises(ReferenceHistoryIsPermanent):
        record.save()
    with pytest.raises(ReferenceHistoryIsPermanent):
        record.delete()
    with pytest.raises(ReferenceHistoryIsPermanent):
        ReferenceChange.objects.update(via="forged")
    with pytest.raises(ReferenceHistoryIsPermanent):
        ReferenceChange.objects.all().delete()
    assert ReferenceChange.objects.get().via == "test"


@pytest.mark.postgres
def test_postgresql_refuses_to_rewrite_the_trail(team):
    from django.db import DatabaseError, transaction

    reference_data.create_reference(actor=team.root, model=Entity, via="test", kind="organisation", name="KOMID")
    for statement in ("UPDATE cases_referencechange SET via = 'forged'", "DELETE FROM cases_referencechange"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert ReferenceChange.objects.get().via == "test"


# --- the admin ---------------------------------------------------------------------------------------


def _reference_admins():
    models = set(reference_data.reference_models())
    for model in admin.site._registry:
        if model in models:
            yield pytest.param(model, id=model.__name__)


@pytest.mark.parametrize("model", list(_reference_admins()))
def test_the_admin_lets_staff_read_and_only_editors_add_change_or_delete(client, team, model, rf):
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = team.alice
    assert model_admin.has_view_permission(request, None)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, None)
    assert not model_admin.has_delete_permission(request, None)
    request.user = editor(team.alice)
    assert model_admin.has_add_permission(request)
    assert model_admin.has_change_permission(request, None)
    assert model_admin.has_delete_permission(request, None)
    client.force_login(team.vera)
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert client.get(reverse(f"{name}_changelist")).status_code == 200
    assert client.get(reverse(f"{name}_add")).status_code == 403


ENTITY_FORM = {
    "kind": "organisation",
    "name": "Korea Mining Development Trading Corporation",
    "aliases": "[]",
    "identifiers": "[]",
    "programs": '["DPRK"]',
    "list_name": "",
    "list_id": "",
    "remarks": "",
}


def with_inline_management_forms(page, data: dict) -> dict:
    """The form data plus the management forms of the page's inlines (read-only lists among them)."""
    data = dict(data)
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
    return data


def test_in_the_admin_a_viewer_cannot_change_an_entity_and_an_editor_is_recorded(client, team):
    entity = EntityFactory(sanctioned=True, name=ENTITY_FORM["name"])
    url = reverse("admin:cases_entity_change", args=[entity.pk])
    client.force_login(team.vera)
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # read-only for her
    assert client.post(url, ENTITY_FORM).status_code == 403  # sanctioned left unticked: cleared
    entity.refresh_from_db()
    assert entity.sanctioned

    client.force_login(editor(team.ivan))
    response = client.post(url, with_inline_management_forms(client.get(url), ENTITY_FORM))
    assert response.status_code == 302, response.content.decode()[:2000]
    entity.refresh_from_db()
    assert not entity.sanctioned
    record = ReferenceChange.objects.get()
    assert (record.actor, record.via, record.action) == (team.ivan, "admin", "changed")
    assert "sanctioned" in record.changed

    response = client.post(reverse("admin:evidence_manufacturer_add"), {"name": "Xilinx", "aliases": "[]"})
    assert response.status_code == 302, response.content.decode()[:2000]
    maker = Manufacturer.objects.get(name="Xilinx")
    assert ReferenceChange.objects.filter(model="evidence.manufacturer", object_id=maker.pk, action="created").exists()
    response = client.post(reverse("admin:evidence_manufacturer_delete", args=[maker.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Manufacturer.objects.filter(pk=maker.pk).exists()
    deleted = ReferenceChange.objects.get(model="evidence.manufacturer", action="deleted")
    assert (deleted.before["name"], deleted.after) == ("Xilinx", None)


def test_a_row_in_use_is_not_deleted_so_no_case_changes_unrecorded(client, team):
    """Deleting an entity or a provision removed it from every case's entities or legal basis, with no
    custody event: the many-to-many links cascade where a foreign key would have protected the row."""
    entity, provision = EntityFactory(), ProvisionFactory()
    team.case.entities.add(entity)
    team.case.legal_basis.add(provision)
    root = team.root
    for row in (entity, provision):
        with pytest.raises(ValidationError) as refused:
            reference_data.delete_reference(actor=root, instance=row, via="test")
        assert "cases: 1" in str(refused.value)
        assert team.case.reference not in str(refused.value)  # counted, not named: the editor may not be on it
    client.force_login(root)
    for row in (entity, provision):
        name = f"admin:{row._meta.app_label}_{row._meta.model_name}"
        page = client.post(reverse(f"{name}_delete", args=[row.pk]), {"post": "yes"})
        assert page.status_code == 200
        assert "cases: 1" in page.content.decode()  # what uses it
        action = {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
        assert client.post(reverse(f"{name}_changelist"), action).status_code == 200
    assert set(team.case.entities.all()) == {entity}
    assert set(team.case.legal_basis.all()) == {provision}
    assert not ReferenceChange.objects.exists()

    team.case.entities.remove(entity)  # a case change of its own; then nothing uses the entity
    reference_data.delete_reference(actor=root, instance=entity, via="test")
    assert ReferenceChange.objects.get().action == "deleted"


def test_the_trail_is_read_only_in_the_admin(client, team):
    reference_data.create_reference(actor=team.root, model=Entity, via="test", kind="organisation", name="KOMID")
    record = ReferenceChange.objects.get()
    client.force_login(team.vera)
    page = client.get(reverse("admin:cases_referencechange_change", args=[record.pk]))
    assert page.status_code == 200
    assert b"KOMID" in page.content
    assert client.post(reverse("admin:cases_referencechange_change", args=[record.pk]), {}).status_code == 403
    assert client.get(reverse("admin:cases_referencechange_add")).status_code == 403
    assert client.get(reverse("admin:cases_referencechange_delete", args=[record.pk])).status_code == 403


# --- other writers -----------------------------------------------------------------------------------


def test_the_sdn_import_is_recorded_as_the_operators_command(team):
    from cases.services import import_sdn

    row = '9345,"KOREA MINING DEVELOPMENT TRADING CORPORATION","","DPRK","","","","","","","","a.k.a. \'KOMID\'."\n'
    result = import_sdn(actor=None, text=row)
    assert result["created"] == 1
    record = ReferenceChange.objects.get()
    assert (record.actor, record.via, record.action, record.model) == (None, "import_sdn", "created", "cases.entity")


def test_demo_users_who_keep_reference_data(team):
    from evidence.demo.build import ensure_users

    users, _logins = ensure_users()
    editors = {role for role, user in users.items() if reference_data.may_edit(type(user).objects.get(pk=user.pk))}
    assert editors == {"lead", "analyst"}
