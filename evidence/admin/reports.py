"""The sanctions question for a case, in the admin: components by country and maker, and a CSV export."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from cases import audit
from cases.choices import AccessAction
from cases.models import Case
from evidence import selectors
from evidence.choices import ManufacturePrecision
from evidence.downloads import content_disposition
from evidence.export.reports import sanctions_report_csv


def sanctions_report_view(request, case_id: int):
    case = Case.objects.visible_to(request.user).filter(pk=case_id).first()
    if case is None:
        raise Http404(_("No such case on your cases."))
    after_text = request.GET.get("after", "")
    try:
        after = dt.date.fromisoformat(after_text) if after_text else _latest_provision_date(case)
    except ValueError:
        after, after_text = None, ""
    report = selectors.sanctions_report(case, after=after)
    as_csv = request.GET.get("export") == "csv"
    audit.mark(request, case, AccessAction.DOWNLOAD if as_csv else AccessAction.VIEW)
    if as_csv:
        response = HttpResponse(sanctions_report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition(f"{case.file_stem}-sanctions-report.csv")
        return response
    context = {
        **admin.site.each_context(request),
        "title": _("Sanctions question: %(case)s") % {"case": case.reference},
        "case": case,
        "report": shown_in_language(report),
        "after": after,
        "opts": Case._meta,
    }
    return TemplateResponse(request, "admin/evidence/sanctions_report.html", context)


def shown_in_language(report: dict) -> dict:
    """The report as the page shows it: the codes the API and the CSV keep ("unknown", "year" …), named
    in the reader's language."""
    precisions = dict(ManufacturePrecision.choices)

    def groups(rows: list[dict]) -> list[dict]:
        return [{**row, "key": _("unknown") if row["key"] == "unknown" else row["key"]} for row in rows]

    def precision(code: str) -> str:
        return precisions.get(code, code)

    return {
        **report,
        "by_country": groups(report["by_country"]),
        "by_manufacturer": groups(report["by_manufacturer"]),
        "rows": [{**row, "manufactured_precision": precision(row["manufactured_precision"])} for row in report["rows"]],
    }


def _latest_provision_date(case: Case) -> dt.date | None:
    """By default, components made after the newest provision of the case's legal basis are highlighted."""
    return case.legal_basis.order_by("-adopted_on").values_list("adopted_on", flat=True).first()
