"""Parser for OFAC's legacy SDN.CSV format: pure, no database.

Twelve columns, no header row, `-0-` (often with a trailing space) for null:
ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
Vess_flag, Vess_owner, Remarks.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from cases.choices import EntityKind

COLUMNS = 12
NULL = "-0-"
KINDS = {"individual": EntityKind.INDIVIDUAL, "vessel": EntityKind.VESSEL, "aircraft": EntityKind.AIRCRAFT}
ALIAS = re.compile(r"\b(?:a\.k\.a\.|f\.k\.a\.|n\.k\.a\.)\s+'([^']+)'")
IMO = re.compile(r"\bIMO\s+(\d{7})\b")
AIRCRAFT_SERIAL = re.compile(r"Serial Number \(MSN\)\s+([\w-]+)")
PASSPORT = re.compile(r"\bPassport\s+([\w-]+)")


@dataclass
class SdnRecord:
    line: int
    list_id: str
    name: str
    kind: str
    programs: list[str]
    aliases: list[str] = field(default_factory=list)
    identifiers: list[dict[str, str]] = field(default_factory=list)
    remarks: str = ""


@dataclass
class SdnError:
    line: int
    message: str


def _value(raw: str) -> str:
    value = raw.strip()
    return "" if value == NULL else value


def parse_row(row: list[str], line: int) -> SdnRecord:
    if len(row) != COLUMNS:
        raise ValueError(f"expected {COLUMNS} columns, found {len(row)}")
    list_id, name, sdn_type, program = (_value(cell) for cell in row[:4])
    remarks = _value(row[11])
    if not list_id.isdigit():
        raise ValueError(f"ent_num must be a number, got {list_id!r}")
    if not name:
        raise ValueError("SDN_Name is empty")
    if sdn_type and sdn_type not in KINDS:
        raise ValueError(f"unknown SDN_Type {sdn_type!r}")
    identifiers = [{"type": "IMO", "value": imo} for imo in IMO.findall(remarks)]
    identifiers += [{"type": "MSN", "value": msn} for msn in AIRCRAFT_SERIAL.findall(remarks)]
    identifiers += [{"type": "passport", "value": number} for number in PASSPORT.findall(remarks)]
    call_sign = _value(row[5])
    if call_sign:
        identifiers.append({"type": "call sign", "value": call_sign})
    return SdnRecord(
        line=line,
        list_id=list_id,
        name=name,
        kind=KINDS.get(sdn_type, EntityKind.ORGANISATION),
        programs=[part.strip() for part in program.split("] [") if part.strip()],
        aliases=list(dict.fromkeys(ALIAS.findall(remarks))),
        identifiers=identifiers,
        remarks=remarks,
    )


def parse_sdn(text: str) -> Iterator[SdnRecord | SdnError]:
    """Each row as a record, or as an error naming its line; blank lines are passed over."""
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield SdnError(line, f"unreadable CSV: {exc}")
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        try:
            yield parse_row(row, line)
        except ValueError as exc:
            yield SdnError(line, str(exc))
