"""The case dossier's data, under the names callers use: collect.py fills it, pdf/render.py draws it.

The dataclasses live in evidence/export/pdf/data.py, beside the renderer, so that imports point one
way only: this module imports pdf/, and pdf/ never imports this module. To write the PDF:
evidence.export.pdf.render.render_dossier(data, out).
"""

from __future__ import annotations

from evidence.export.pdf.data import (
    AssemblyStatement,
    AttributionRow,
    ComponentRow,
    CustodyRow,
    DateCodeRow,
    DossierData,
    Exhibit,
    IncidentRow,
    ManifestRow,
    MarkingRow,
    PhotoReference,
    PhotoRow,
    SourceRow,
)
from evidence.export.pdf.labels import LABELS, format_date, format_datetime

__all__ = [
    "LABELS",
    "AssemblyStatement",
    "AttributionRow",
    "ComponentRow",
    "CustodyRow",
    "DateCodeRow",
    "DossierData",
    "Exhibit",
    "IncidentRow",
    "ManifestRow",
    "MarkingRow",
    "PhotoReference",
    "PhotoRow",
    "SourceRow",
    "format_date",
    "format_datetime",
]
