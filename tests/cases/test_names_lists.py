"""Aliases and programmes are lists of names, whatever writes them: a manufacturer once stored
`aliases: "Acme Corp"` as sent, which a dossier read as nine one-letter names (and so left "Acme Corp"
unredacted), and `aliases: 5`, on which every dossier naming it failed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import reference_data
from cases.fields import MAX_NAMES, as_names
from cases.models import Entity, WeaponSystem
from evidence.models import Manufacturer
from tests.api.test_endpoints import assert_error

pytestmark = pytest.mark.django_db

NOT_LISTS_OF_NAMES = ["{}", "Acme Corp", 5, {"a": 1}, [5], [""], ["  "], [["nested"]], ["x" * 400],
                      [f"name {n}" for n in range(MAX_NAMES + 1)]]  # fmt: skip
ROUTES = [("manufacturers", {"name": "Acme"}), ("entities", {"kind": "organisation", "name": "Acme"}),
          ("weapon-systems", {"name": "Acme", "category": "ballistic_missile"})]  # fmt: skip


@pytest.mark.parametrize(("prefix", "body"), ROUTES)
@pytest.mark.parametrize("aliases", NOT_LISTS_OF_NAMES, ids=lambda value: repr(value)[:30])
def test_the_api_refuses_aliases_that_are_not_a_list_of_names(api, team, prefix, body, aliases):
    response = api(team.root).post(f"/api/v1/{prefix}/", {**body, "aliases": aliases}, format="json")
    assert_error(response, 400, field="aliases")


@pytest.mark.parametrize("model", [Manufacturer, Entity, WeaponSystem])
@pytest.mark.parametrize("aliases", NOT_LISTS_OF_NAMES, ids=lambda value: repr(value)[:30])
def test_the_model_refuses_them_for_every_writer(team, model, aliases):
    fields = {"name": "Acme", **({"kind": "organisation"} if model is Entity else {})}
    fields |= {"category": "ballistic_missile"} if model is WeaponSystem else {}
    with pytest.raises(ValidationError) as refused:
        reference_data.create_reference(actor=team.root, model=model, via="test", aliases=aliases, **fields)
    assert "aliases" in refused.value.message_dict
    assert not model.objects.filter(name="Acme").exists()


def test_programmes_are_names_too(team):
    with pytest.raises(ValidationError) as refused:
        reference_data.create_reference(
            actor=team.root, model=Entity, via="test", kind="organisation", name="Acme", programs="DPRK3"
        )
    assert "programs" in refused.value.message_dict


def test_a_list_of_names_is_kept(api, team):
    response = api(team.root).post(
        "/api/v1/manufacturers/", {"name": "Acme", "aliases": ["Acme Corp", "ACME"]}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Manufacturer.objects.get(name="Acme").aliases == ["Acme Corp", "ACME"]


def test_the_admin_form_refuses_a_number(client, team):
    client.force_login(team.root)
    response = client.post(reverse("admin:evidence_manufacturer_add"), {"name": "Acme", "aliases": "5"})
    assert response.status_code == 200  # the form again, with its error
    assert "Give a list of names" in response.content.decode()
    assert not Manufacturer.objects.filter(name="Acme").exists()


def test_an_older_value_is_read_as_the_names_it_holds():
    """What dossiers and the migration that made old rows valid read: a bare string is one name, not its letters."""
    assert as_names("Acme Corp") == ["Acme Corp"]
    assert as_names(["Acme Corp", 5, "", "  ", None, "ACME"]) == ["Acme Corp", "ACME"]
    assert as_names(5) == []
    assert as_names(None) == []
    assert as_names({"a": 1}) == []
    assert as_names(["x" * 300], max_length=200) == ["x" * 200]
    assert len(as_names(["n"] * (MAX_NAMES + 5))) == MAX_NAMES


def test_rows_stored_before_the_check_are_made_lists_and_the_change_is_in_the_trail(api, team):
    """Without it, an edit of a manufacturer's country was refused for aliases it had not sent."""
    import importlib

    from django.apps import apps

    from cases.models import ReferenceChange

    migration = importlib.import_module("cases.migrations.0010_old_names_made_lists")
    maker = Manufacturer.objects.create(name="Acme")
    Manufacturer.objects.filter(pk=maker.pk).update(aliases="Acme Corp")
    entity = Entity.objects.create(kind="organisation", name="KOMID", programs=["DPRK"])
    Entity.objects.filter(pk=entity.pk).update(aliases=["KOMID", 5, ""])
    fine = Manufacturer.objects.create(name="Fine", aliases=["Fine Ltd"])
    client = api(team.root)
    assert_error(
        client.patch(f"/api/v1/manufacturers/{maker.pk}/", {"country": "DE"}, format="json"), 400, field="aliases"
    )

    migration.make_names_lists(apps, None)

    assert Manufacturer.objects.get(pk=maker.pk).aliases == ["Acme Corp"]
    assert Entity.objects.get(pk=entity.pk).aliases == ["KOMID"]
    assert Manufacturer.objects.get(pk=fine.pk).aliases == ["Fine Ltd"]
    made = ReferenceChange.objects.get(model="evidence.manufacturer", object_id=maker.pk)
    assert (made.actor, made.via, made.action, made.changed) == (None, "migration", "changed", ["aliases"])
    assert (made.before["aliases"], made.after["aliases"]) == ("Acme Corp", ["Acme Corp"])
    assert ReferenceChange.objects.filter(model="cases.entity", object_id=entity.pk).count() == 1
    assert not ReferenceChange.objects.filter(object_id=fine.pk, model="evidence.manufacturer").exists()
    response = client.patch(f"/api/v1/manufacturers/{maker.pk}/", {"country": "DE"}, format="json")
    assert response.status_code == 200, response.content
