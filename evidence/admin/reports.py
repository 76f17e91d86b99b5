"""The sanctions question for a case, in the admin: components by country and maker, and a CSV export."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from evidence import audit, services
from evidence.choices import AccessAction


def sanctions_report_view(request, case_id: int):
    case = Case.objects.visible_to(request.user).filter(pk=case_id).first()
    if case is None:
        raise Http404(_("No such case on your cases."))
    after_text = request.GET.get("after", "")
    try:
        after = dt.date.fromisoformat(after_text) if after_text else _latest_provision_date(case)
    except ValueError:
        after, after_text = None, ""
    report = services.sanctions_report(case, after=after)
    as_csv = request.GET.get("export") == "csv"
    audit.mark(request, case, AccessAction.DOWNLOAD if as_csv else AccessAction.VIEW)
    if as_csv:
        response = HttpResponse(services.sanctions_report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{case.reference}-sanctions-report.csv"'
        return response
    context = {
        **admin.site.each_context(request),
        "title": _("Sanctions question: %(case)s") % {"case": case.reference},
        "case": case,
        "report": report,
        "after": after,
        "opts": Case._meta,
    }
    return TemplateResponse(request, "admin/evidence/sanctions_report.html", context)


def _latest_provision_date(case: Case) -> dt.date | None:
    """By default, components made after the newest provision of the case's legal basis are highlighted."""
    return case.legal_basis.order_by("-adopted_on").values_list("adopted_on", flat=True).first()
