"""The component table, its charts and the earliest-assembly statement; sharing terms enforced everywhere.

A manufacturer that may not be named and a distributor that may not be named yet are printed as
"Manufacturer A" and "Distributor A" wherever the dossier would name them (table, markings, claims,
titles), never by their name, legal name or alias; once named_from has passed they are named.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader

from cases.models import Entity
from evidence import filestore, services
from evidence.export.build import build_export
from evidence.export.disclosure import Party, disclose, mapping, may_name
from evidence.export.pdf.labels import LABELS
from evidence.models import Marking
from evidence.models.components import Component, DateCodeReading
from evidence.models.markings import Manufacturer
from tests import corpus
from tests.factories import AttributionFactory, EvidenceItemFactory, SourceFactory

HIDDEN_NAMES = ("Hidden Semiconductor Co", "Hidden Semi Holdings Ltd", "HSC-Micro")
SHADY_NAMES = ("Shady Trading LLC", "ShadyTrade")


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def build(actor, case, **options) -> str:
    export = services.request_export(actor=actor, case=case, **options)
    export = build_export(export_id=export.pk)
    return pdf_text(filestore.absolute(export.file.path))


# --- the pure mapping -------------------------------------------------------------------------------


def test_mapping_letters_the_parties_that_may_not_be_named_in_key_order():
    today = date(2025, 6, 1)
    parties = [
        Party("manufacturer", 9, "Zeta Corp", may_be_named=False),
        Party("manufacturer", 4, "Alpha Corp", legal_name="Alpha Holdings", aliases=("ALP",), may_be_named=False),
        Party("manufacturer", 5, "Open Corp"),
        Party("distributor", 2, "Later Ltd", named_from=date(2025, 6, 2)),
        Party("distributor", 3, "Past Ltd", named_from=date(2025, 6, 1)),
    ]
    shown = mapping(parties, on=today)
    assert shown == {
        "Alpha Corp": "Manufacturer A",
        "Zeta Corp": "Manufacturer B",
        "Open Corp": "Open Corp",
        "Later Ltd": "Distributor A",
        "Past Ltd": "Past Ltd",
    }
    assert mapping(list(reversed(parties)), on=today) == shown  # stable whatever the order given
    disclosure = disclose(parties, on=today)
    assert disclosure.scrub("ALPHA HOLDINGS sold alp parts via later ltd; hash 0alp9") == (
        "Manufacturer A sold Manufacturer A parts via Distributor A; hash 0alp9"
    )
    assert not may_name(parties[3], today)
    assert may_name(parties[3], date(2025, 6, 2))
    ukrainian = mapping(parties, on=today, language="uk")
    assert ukrainian["Alpha Corp"] == "Виробник А"  # noqa: RUF001
    assert ukrainian["Later Ltd"] == "Дистриб'ютор А"  # noqa: RUF001


# --- the dossier --------------------------------------------------------------------------------------


@pytest.fixture
def component_case(team, eager_tasks, django_capture_on_commit_callbacks):
    """Three components on one board: two with verified date codes, one with an unverified reading only."""
    case = team.case
    board = EvidenceItemFactory(
        case=case, actor=team.ivan, title="Guidance board", description="Board carrying HSC-Micro parts."
    )
    with django_capture_on_commit_callbacks(execute=True):
        accepted = services.add_photo_from_path(actor=team.ivan, item=board, path=corpus.photo("Landscape_3.jpg"))
    photo = accepted.photo
    photo.refresh_from_db()
    open_maker = Manufacturer.objects.create(name="Texas Instruments", country="United States")
    hidden = Manufacturer.objects.create(
        name="Hidden Semiconductor Co",
        legal_name="Hidden Semi Holdings Ltd",
        aliases=["HSC-Micro"],
        country="Japan",
        may_be_named=False,
    )
    shady = Entity.objects.create(
        kind="organisation",
        name="Shady Trading LLC",
        aliases=["ShadyTrade"],
        named_from=timezone.localdate() + timedelta(days=30),
    )
    imu = Component.objects.create(
        item=board,
        designator="U7",
        function="guidance",
        manufacturer_as_marked="TI",
        manufacturer=open_maker,
        part_number="ADXRS290",
        lot_code="L2319A",
        recorded_by=team.bob,
    )
    gnss = Component.objects.create(
        item=board,
        designator="U9",
        function="communication",
        manufacturer_as_marked="HSC-Micro",
        manufacturer=hidden,
        part_number="HS9000GN",
        lot_code="K7781",
        distributor=shady,
        recorded_by=team.bob,
    )
    regulator = Component.objects.create(
        item=board, designator="U12", function="power", manufacturer=hidden, part_number="HS1117", recorded_by=team.bob
    )
    marking = Marking.objects.create(
        item=board,
        photo=photo,
        region_x=10,
        region_y=10,
        region_width=200,
        region_height=120,
        component=gnss,
        transcription="Hidden Semiconductor Co HS9000GN 2405",
        marking_type="part_number",
        manufacturer=hidden,
        part_number="HS9000GN",
        confidence="probable",
        transcribed_by=team.bob,
    )
    Marking.objects.create(
        item=board,
        photo=photo,
        region_x=300,
        region_y=40,
        region_width=150,
        region_height=90,
        component=imu,
        transcription="ADXRS290 2319",
        marking_type="part_number",
        manufacturer=open_maker,
        confidence="probable",
        transcribed_by=team.bob,
    )
    now = timezone.now()
    DateCodeReading.objects.create(
        component=imu,
        raw_code="2319",
        rule="YYWW",
        windows=[{"earliest": "2023-05-08", "latest": "2023-05-14"}],
        earliest=date(2023, 5, 8),
        latest=date(2023, 5, 14),
        recorded_by=team.bob,
        verified_by=team.alice,
        verified_at=now,
    )
    DateCodeReading.objects.create(
        component=gnss,
        marking=marking,
        raw_code="2405",
        rule="YYWW",
        windows=[{"earliest": "2024-01-29", "latest": "2024-02-04"}],
        earliest=date(2024, 1, 29),
        latest=date(2024, 2, 4),
        recorded_by=team.bob,
        verified_by=team.alice,
        verified_at=now,
    )
    DateCodeReading.objects.create(  # not verified: never counted
        component=regulator,
        raw_code="2512",
        rule="YYWW",
        earliest=date(2025, 3, 17),
        latest=date(2025, 3, 23),
        recorded_by=team.bob,
    )
    DateCodeReading.objects.create(  # withdrawn: never counted, not shown
        component=imu,
        raw_code="2611",
        earliest=date(2026, 3, 9),
        latest=date(2026, 3, 15),
        recorded_by=team.bob,
        verified_by=team.alice,
        verified_at=now,
        withdrawn_at=now,
    )
    source = SourceFactory(case=case, actor=team.bob, title="Customs records")
    AttributionFactory(
        case=case,
        source=source,
        actor=team.bob,
        claim="The receiver was made by hidden semiconductor co and sold through shadytrade.",
    )
    return {"case": case, "photo": photo, "hidden": hidden, "shady": shady}


def _assert_never_named(text: str) -> None:
    squeezed_text = squeezed(text).casefold()
    for name in (*HIDDEN_NAMES, *SHADY_NAMES):
        assert squeezed(name).casefold() not in squeezed_text, name


@pytest.mark.django_db
def test_the_component_table_and_the_earliest_assembly(team, component_case):
    text = build(team.alice, component_case["case"])
    flat = squeezed(text)
    assert squeezed(LABELS["en"]["components"]) in flat
    for value in ("U7", "ADXRS290", "L2319A", "TexasInstruments", "UnitedStates", "HS9000GN", "K7781", "Japan"):
        assert value in flat
    sha = component_case["photo"].original.sha256
    assert f"{sha[:12]}…" in flat
    assert "2319(YYWW)" in flat
    assert "8May2023\u201314May2023" in flat  # en dash
    assert "2611" not in flat  # withdrawn
    # By hand: verified readings' earliest days are 8 May 2023 and 29 January 2024 -> January 2024;
    # two readings; three components, one (U12, unverified reading only) without a readable code.
    assert "couldnothavebeenassembledbeforeJanuary2024" in flat
    assert "Thisrestson2verifieddate-codereading(s)of3component(s);1component(s)hadnoreadabledatecode" in flat
    assert squeezed(LABELS["en"]["country_chart"]) in flat
    assert squeezed(LABELS["en"]["production_chart"]) in flat
    assert "stockpiled" in text


@pytest.mark.django_db
def test_parties_that_may_not_be_named_are_lettered_everywhere(team, component_case):
    text = build(team.alice, component_case["case"])
    _assert_never_named(text)
    flat = squeezed(text)
    assert flat.count("ManufacturerA") >= 4  # two table rows, the marking, its interpretation, the claim
    assert "ManufacturerB" not in flat  # one manufacturer, one letter
    assert "DistributorA" in flat
    assert "soldthroughDistributorA" in flat  # inside free text too
    assert "ManufacturerAHS9000GN2405" in flat  # the marking's transcription


@pytest.mark.django_db
def test_once_named_from_has_passed_the_real_name_appears(team, component_case):
    Entity.objects.filter(pk=component_case["shady"].pk).update(named_from=timezone.localdate() - timedelta(days=1))
    text = build(team.alice, component_case["case"])
    flat = squeezed(text)
    assert "ShadyTradingLLC" in flat
    assert "DistributorA" not in flat
    assert "HiddenSemiconductorCo" not in flat  # still may not be named


@pytest.mark.django_db
def test_the_ukrainian_dossier_uses_ukrainian_labels_and_letters(team, component_case):
    text = build(team.alice, component_case["case"], language="uk")
    flat = squeezed(text)
    _assert_never_named(text)
    for key in ("components", "assembly_title", "production_chart"):
        assert squeezed(LABELS["uk"][key]) in flat
    assert squeezed(LABELS["en"]["components"]) not in flat
    assert "ВиробникА" in flat
    assert "Дистриб'ютор" in text
    assert "ранішесічня2024року" in flat  # noqa: RUF001


@pytest.mark.django_db
def test_a_case_without_components_has_no_component_section(team, eager_tasks):
    EvidenceItemFactory(case=team.case, actor=team.ivan, title="Fin")
    text = build(team.alice, team.case)
    assert squeezed(LABELS["en"]["components"]) not in squeezed(text)
    assert squeezed(LABELS["en"]["assembly_title"]) not in squeezed(text)
