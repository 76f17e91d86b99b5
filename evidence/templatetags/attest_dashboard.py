"""The admin index as the staff's home: their cases at a glance."""

from __future__ import annotations

from django import template
from django.db.models import Count, Max, Q

from cases.models import Case
from evidence.choices import EventType, ExportStatus, PhotoStatus
from evidence.models import CustodyEvent, Export

register = template.Library()


@register.inclusion_tag("admin/evidence/dashboard.html", takes_context=True)
def case_dashboard(context):
    """Each visible case with its counts, last activity, photos in the pipeline, last fixity
    verdict and the dossiers ready to download."""
    user = context["request"].user
    cases = (
        Case.objects.visible_to(user)
        .annotate(
            exhibit_count=Count("items", distinct=True),
            incident_count=Count("incidents", distinct=True),
            photos_processing=Count(
                "items__photos",
                filter=Q(items__photos__status__in=[PhotoStatus.PENDING, PhotoStatus.PROCESSING]),
                distinct=True,
            ),
            photos_failed=Count("items__photos", filter=Q(items__photos__status=PhotoStatus.FAILED), distinct=True),
            last_activity=Max("custody_events__recorded_at"),
        )
        .order_by("-last_activity", "reference")[:50]
    )
    case_ids = [case.pk for case in cases]
    checks = {}
    fixity_checks = CustodyEvent.objects.filter(case_id__in=case_ids, event_type=EventType.FIXITY_CHECK)
    for event in fixity_checks.order_by("sequence"):
        checks[event.case_id] = event  # the newest wins
    ready = {}
    for export in (
        Export.objects.filter(case_id__in=case_ids, status=ExportStatus.DONE)
        .select_related("file")
        .order_by("finished_at")
    ):
        ready.setdefault(export.case_id, []).append(export)
    rows = []
    for case in cases:
        check = checks.get(case.pk)
        rows.append(
            {
                "case": case,
                "check": check,
                "intact": check.payload_data.get("intact") if check else None,
                "exports": list(reversed(ready.get(case.pk, [])))[:3],
            }
        )
    return {"rows": rows}
