"""Reports handed out as CSV: the sanctions report (selectors.sanctions_report), an exhibit's access report."""

from __future__ import annotations

import io

from django.db.models import Q

from cases.models import AccessLog
from evidence.lib import csvcells

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


def exhibit_access_csv(item) -> str:
    """The per-exhibit access report: every recorded access to the item, its photos and markings."""
    photos = [str(pk) for pk in item.photos.values_list("pk", flat=True)]
    markings = [str(pk) for pk in item.markings.values_list("pk", flat=True)]
    rows = (
        AccessLog.objects.filter(
            Q(object_type="evidenceitem", object_id=str(item.pk))
            | Q(object_type="photo", object_id__in=photos)
            | Q(object_type="marking", object_id__in=markings)
        )
        .select_related("user")
        .order_by("at", "pk")
    )
    buffer = io.StringIO()
    writer = csvcells.writer(buffer)  # user agents and paths are the client's: no formula may run
    writer.writerow(["at (UTC)", "user", "action", "object", "object id", "status", "ip", "user agent", "path"])
    for row in rows.iterator():
        writer.writerow(
            [row.at.isoformat(), row.username, row.action, row.object_type, row.object_id, row.status_code,
             row.ip or "", row.user_agent, row.path]
        )  # fmt: skip
    return buffer.getvalue()
