"""OFAC SDN import: the real DPRK extract, malformed rows and idempotence."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cases.choices import EntityKind
from cases.models import Entity
from cases.sdn import SdnError, SdnRecord, parse_sdn

SDN_FILE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "sanctions"
    / "ofac-sdn-dprk"
    / ("sdn_dprk_2024-05-03.csv")
)
needs_sdn_file = pytest.mark.skipif(not SDN_FILE.exists(), reason="../shared/data/sanctions is not beside the repo")

GOOD = (
    '9345,"KOREA MINING DEVELOPMENT TRADING CORPORATION",-0- ,"NPWMD] [DPRK2",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    "-0- ,\"Secondary sanctions risk; a.k.a. 'KOMID'.\""
)
VESSEL = (
    '17069,"CHONG CHON GANG","vessel","DPRK",-0- ,-0- ,"General Cargo",-0- ,-0- ,"North Korea",-0- ,'
    '"Vessel Registration Identification IMO 7937317."'
)


def test_parses_an_entity_with_alias_and_programmes():
    (record,) = parse_sdn(GOOD + "\r\n")
    assert isinstance(record, SdnRecord)
    assert (record.list_id, record.kind, record.line) == ("9345", EntityKind.ORGANISATION, 1)
    assert record.programs == ["NPWMD", "DPRK2"]
    assert record.aliases == ["KOMID"]


def test_parses_a_vessel_with_its_imo_number():
    (record,) = parse_sdn(VESSEL)
    assert record.kind == EntityKind.VESSEL
    assert record.identifiers == [{"type": "IMO", "value": "7937317"}]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('x9,"NAME",-0- ,"DPRK",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ', "ent_num must be a number"),
        ('10,"NAME",-0- ,"DPRK"', "expected 12 columns, found 4"),
        ('11,-0- ,-0- ,"DPRK",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ', "SDN_Name is empty"),
        ('12,"NAME","submarine","DPRK",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ', "unknown SDN_Type"),
    ],
)
def test_malformed_rows_are_errors_with_their_line_number(row, message):
    items = list(parse_sdn(f"{GOOD}\r\n{row}\r\n{VESSEL}\r\n"))
    assert [type(item) for item in items] == [SdnRecord, SdnError, SdnRecord]
    assert items[1].line == 2
    assert message in items[1].message


@needs_sdn_file
@pytest.mark.django_db
def test_imports_the_real_dprk_extract_with_counts_and_is_idempotent(capsys):
    call_command("import_sdn", str(SDN_FILE))
    assert "484 created, 0 updated, 0 unchanged, 0 rejected" in capsys.readouterr().out
    counts = {kind: Entity.objects.filter(kind=kind).count() for kind in EntityKind.values}
    assert counts == {"organisation": 199, "individual": 164, "vessel": 105, "aircraft": 16}
    komid = Entity.objects.get(list_id="9345")
    assert komid.aliases == ["KOMID"]

    call_command("import_sdn", str(SDN_FILE))
    assert "0 created, 0 updated, 484 unchanged" in capsys.readouterr().out
    assert Entity.objects.count() == 484


@pytest.mark.django_db
def test_bad_rows_are_reported_by_line_and_the_command_fails(tmp_path, capsys):
    path = tmp_path / "sdn.csv"
    path.write_text(f'{GOOD}\r\n10,"BROKEN"\r\n{VESSEL}\r\n')
    with pytest.raises(CommandError, match="1 malformed rows were rejected"):
        call_command("import_sdn", str(path))
    captured = capsys.readouterr()
    assert f"{path}:2: rejected: expected 12 columns, found 2" in captured.err
    assert "2 created, 0 updated, 0 unchanged, 1 rejected" in captured.out
    assert set(Entity.objects.values_list("list_id", flat=True)) == {"9345", "17069"}


@pytest.mark.django_db
def test_a_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_sdn", str(tmp_path / "absent.csv"))
