"""The stages a dossier or package build goes through, and their names in the reader's language.

The build stores each stage in Export.stage as a stable English code ("cover", "exhibits 3/12",
"zipping" …: see pdf/render.py, package.py and services/exports.py), and the API returns it so;
only the admin shows it translated, through stage_label().
"""

from __future__ import annotations

import re

from django.utils.translation import pgettext, pgettext_lazy

STAGES = {
    "starting": pgettext_lazy("export stage", "starting"),
    "cover": pgettext_lazy("export stage", "cover"),
    "summary": pgettext_lazy("export stage", "summary"),
    "incidents": pgettext_lazy("export stage", "incidents"),
    "exhibits": pgettext_lazy("export stage", "exhibits"),
    "sources": pgettext_lazy("export stage", "sources"),
    "annex": pgettext_lazy("export stage", "annex"),
    "writing": pgettext_lazy("export stage", "writing"),
    "ledger": pgettext_lazy("export stage", "ledger"),
    "bagging": pgettext_lazy("export stage", "bagging"),
    "zipping": pgettext_lazy("export stage", "zipping"),
    "storing": pgettext_lazy("export stage", "storing"),
    "done": pgettext_lazy("export stage", "done"),
}

COUNTED = re.compile(r"(?P<stage>[a-z]+) (?P<number>\d+)/(?P<total>\d+)")


def stage_label(stage: str) -> str:
    """The stored stage code in the active language; a code this module does not know, as it is."""
    counted = COUNTED.fullmatch(stage)
    if counted:
        numbers = {"number": counted["number"], "total": counted["total"]}
        if counted["stage"] == "exhibits":
            return pgettext("export stage", "exhibits %(number)s/%(total)s") % numbers
        if counted["stage"] == "originals":
            return pgettext("export stage", "originals %(number)s/%(total)s") % numbers
    label = STAGES.get(stage)
    return str(label) if label is not None else stage
