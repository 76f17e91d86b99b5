"""The sanctions question for a case: whose components, made when, and where else they were seen."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from cases.models import Case
from evidence.choices import ItemKind
from evidence.lib import csvcells
from evidence.models import EvidenceItem, Marking


@dataclass
class Group:
    key: str
    count: int = 0
    latest_manufacture: dt.date | None = None
    made_after: int = 0
    exhibits: list[str] = field(default_factory=list)

    def add(self, component: EvidenceItem, after: dt.date | None) -> None:
        self.count += 1
        self.exhibits.append(component.exhibit_number)
        made = component.manufactured_on
        if made and (self.latest_manufacture is None or made > self.latest_manufacture):
            self.latest_manufacture = made
        if made_after(component, after):
            self.made_after += 1


def made_after(component: EvidenceItem, after: dt.date | None) -> bool:
    """Made after the date for certain: the period it is dated to starts after it."""
    return after is not None and component.manufactured_on is not None and component.manufactured_on > after


def sanctions_report(case: Case, *, after: dt.date | None = None) -> dict:
    """Components grouped by country of origin and by manufacturer, with counts, the latest date of
    manufacture, and which were made after `after` (e.g. the day a restriction was adopted)."""
    components = list(
        EvidenceItem.objects.filter(case=case, kind=ItemKind.COMPONENT)
        .select_related("manufacturer", "parent")
        .order_by("exhibit_number")
    )
    by_country: dict[str, Group] = {}
    by_manufacturer: dict[str, Group] = {}
    rows = []
    for component in components:
        country = component.country_of_origin or (component.manufacturer.country if component.manufacturer else "")
        maker = component.manufacturer.name if component.manufacturer else ""
        by_country.setdefault(country or "unknown", Group(country or "unknown")).add(component, after)
        by_manufacturer.setdefault(maker or "unknown", Group(maker or "unknown")).add(component, after)
        rows.append(
            {
                "exhibit": component.exhibit_number,
                "title": component.title,
                "taken_from": component.parent.exhibit_number if component.parent else "",
                "manufacturer": maker,
                "sanctioned_entity": bool(component.manufacturer and component.manufacturer.entity_id),
                "part_number": component.part_number,
                "country_of_origin": country,
                "manufactured_on": component.manufactured_on,
                "manufactured_precision": component.manufactured_precision,
                "made_after": made_after(component, after),
            }
        )

    def ordered(groups: dict[str, Group]) -> list[dict]:
        return [
            {
                "key": group.key,
                "count": group.count,
                "latest_manufacture": group.latest_manufacture,
                "made_after": group.made_after,
                "exhibits": group.exhibits,
            }
            for group in sorted(groups.values(), key=lambda group: (-group.count, group.key))
        ]

    return {
        "case": case.reference,
        "after": after,
        "components": len(components),
        "by_country": ordered(by_country),
        "by_manufacturer": ordered(by_manufacturer),
        "rows": rows,
    }


REPORT_COLUMNS = [
    "exhibit", "title", "taken_from", "manufacturer", "sanctioned_entity", "part_number", "country_of_origin",
    "manufactured_on", "manufactured_precision", "made_after",
]  # fmt: skip


def sanctions_report_csv(report: dict) -> str:
    buffer = io.StringIO()
    # Titles, part numbers and countries are typed by users: no formula may run in a spreadsheet.
    writer = csvcells.dict_writer(buffer, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in report["rows"]:
        writer.writerow({**row, "manufactured_on": row["manufactured_on"] or ""})
    return buffer.getvalue()


def normalise_part_number(text: str) -> str:
    """Part numbers compare without case, spaces or dashes: 'AD-7541 A' equals 'ad7541a'."""
    return "".join(character for character in text.upper() if character.isalnum())


def seen_elsewhere(item: EvidenceItem, *, viewer) -> list[dict]:
    """The same part number or lot seen in other cases the viewer can see."""
    numbers = {item.part_number} | set(
        Marking.objects.filter(item=item, withdrawn_at__isnull=True)
        .exclude(part_number="")
        .values_list("part_number", flat=True)
    )
    lots = set(
        Marking.objects.filter(item=item, marking_type="lot", withdrawn_at__isnull=True).values_list(
            "transcription", flat=True
        )
    )
    wanted_numbers = {normalise_part_number(number) for number in numbers if number}
    wanted_lots = {normalise_part_number(lot) for lot in lots if lot}
    if not wanted_numbers and not wanted_lots:
        return []
    found: dict[tuple[int, str], set[str]] = defaultdict(set)
    candidates = (
        Marking.objects.visible_to(viewer)
        .exclude(item__case=item.case_id)
        .filter(withdrawn_at__isnull=True)
        .filter(Q(marking_type="lot") | ~Q(part_number=""))
        .select_related("item__case")
    )
    for marking in candidates:
        if wanted_numbers and normalise_part_number(marking.part_number) in wanted_numbers:
            found[(marking.item_id, "part number")].add(marking.part_number)
        if marking.marking_type == "lot" and normalise_part_number(marking.transcription) in wanted_lots:
            found[(marking.item_id, "lot")].add(marking.transcription)
    items = EvidenceItem.objects.visible_to(viewer).exclude(case=item.case_id).exclude(part_number="")
    for other in items.select_related("case"):
        if normalise_part_number(other.part_number) in wanted_numbers:
            found[(other.pk, "part number")].add(other.part_number)
    others = {other.pk: other for other in EvidenceItem.objects.filter(pk__in={key[0] for key in found})}
    return [
        {
            "item": others[item_id].pk,
            "case": others[item_id].case.reference,
            "exhibit": others[item_id].exhibit_number,
            "match": match,
            "values": sorted(values),
        }
        for (item_id, match), values in sorted(found.items())
    ]
