"""The sanctions report (evidence.selectors.sanctions_report) as CSV, for the API and the admin to hand out."""

from __future__ import annotations

import io

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
