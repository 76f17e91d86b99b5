"""Aliases and programmes are lists of names, whatever writes them: a manufacturer once stored
`aliases: "Acme Corp"` as sent, which a dossier read as nine one-letter names (and so left "Acme Corp"
unredacted), and `aliases: 5`, on which every dossier naming it failed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import reference_data
from cases.fields import MAX_NAMES
from cases.models import Entity, WeaponSystem
from evidence.export.collect import _names
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


def test_a_dossier_reads_an_older_bare_string_as_one_name():
    assert _names("Acme Corp") == ("Acme Corp",)
    assert _names(["Acme Corp", "ACME"]) == ("Acme Corp", "ACME")
    assert _names(5) == ()
    assert _names(None) == ()
    assert _names({"a": 1}) == ()
