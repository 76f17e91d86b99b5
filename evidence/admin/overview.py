"""The case overview: a case's landing page in the admin, read-only, for every member of its team.

CaseAdmin routes <id>/overview/ and <id>/overview/dossier/ here (the cases app knows nothing of exhibits,
photos or the ledger). Every read is a fixed number of queries, whatever the case holds
(tests/evidence/test_case_overview.py counts them).
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases import audit
from cases.admin import role_at_least
from cases.choices import AccessAction, Outcome, Role
from cases.models import Incident
from evidence import selectors, services, timestamps
from evidence.choices import DossierLanguage, EventType, ExportKind, ExportStatus, SubjectType, TraceStatus
from evidence.custody import describe_event, head
from evidence.export.stages import STAGES, stage_label
from evidence.lib import assembly
from evidence.models import Export

# Incident columns the table sorts by (?sort=<key> or -<key>), and how.
INCIDENT_SORTS = {
    "occurred_at": lambda incident: incident.occurred_at,
    "kind": lambda incident: incident.get_kind_display(),
    "place": lambda incident: (incident.place_name or incident.region).casefold(),
    "weapon": lambda incident: str(incident.weapon_system or "").casefold(),
    "outcome": lambda incident: incident.get_outcome_display(),
    "killed": lambda incident: incident.killed,
    "wounded": lambda incident: incident.wounded,
}
INCIDENT_COLUMNS = [
    ("occurred_at", _("occurred at")),
    ("kind", _("kind")),
    ("place", _("place")),
    ("weapon", _("weapon system")),
    ("outcome", _("outcome")),
    ("killed", _("killed")),
    ("wounded", _("wounded")),
]
INCIDENT_FILTER = "incident"  # the timeline's pseudo event type for incidents
# Marker colours by incident outcome (the legend under the map names them; popups say the outcome).
OUTCOME_COLOURS = {
    Outcome.IMPACT: "#ba2121",
    Outcome.FAILED_IN_FLIGHT: "#8e44ad",
    Outcome.INTERCEPTED: "#1f7a1f",
    Outcome.DELIVERED: "#b35c00",
    Outcome.SEIZED: "#205067",
    Outcome.UNKNOWN: "#666666",
}
DOSSIERS_SHOWN = 10


def coordinate_precision(*values: Decimal) -> str:
    """How far a position may be off, from the decimals it was given with: one unit of the last decimal
    is about 111 km / 10**decimals on the ground (the database pads with zeros, which add no precision)."""
    decimals = max(max(-value.normalize().as_tuple().exponent, 0) for value in values)
    metres = 111_320 / 10**decimals
    if metres >= 1000:
        return gettext("±%(km)s km") % {"km": f"{metres / 1000:.3g}"}
    return gettext("±%(metres)s m") % {"metres": f"{metres:.2g}" if metres < 10 else f"{round(metres)}"}


def coordinate_text(latitude: Decimal, longitude: Decimal) -> str:
    """'49.9935, 36.2304 (±11 m)': the position as given, with its precision."""
    lat, lon = latitude.normalize(), longitude.normalize()
    return f"{lat:f}, {lon:f} ({coordinate_precision(latitude, longitude)})"


class DossierForm(forms.Form):
    language = forms.ChoiceField(label=_("language"), choices=DossierLanguage.choices)
    include_photos = forms.BooleanField(label=_("include photos"), required=False, initial=True)
    redact_names = forms.BooleanField(
        label=_("redact personal names"), required=False, help_text=_("witnesses and collectors become Witness 1, …")
    )


def dossier_language() -> str:
    """The user's interface language if a dossier can be written in it, else English."""
    current = (translation.get_language() or "en").split("-")[0]
    return current if current in DossierLanguage.values else DossierLanguage.ENGLISH


def _feature(kind: str, latitude: Decimal, longitude: Decimal, label: str, detail: str, url: str, **extra) -> dict:
    position = coordinate_text(latitude, longitude)
    detail = f"{detail} · {position}" if detail else position
    return {"kind": kind, "lat": float(latitude), "lon": float(longitude), "label": label, "detail": detail,
            "url": url, **extra}  # fmt: skip


def _map_features(incidents, exhibits, photos) -> list[dict]:
    """What the map shows, each with the page that opens its record."""
    features = []
    for incident in incidents:
        if incident.latitude is not None and incident.longitude is not None:
            url = reverse("admin:cases_incident_change", args=[incident.pk])
            features.append(_feature("incident", incident.latitude, incident.longitude, str(incident),
                                     str(incident.get_outcome_display()), url, outcome=incident.outcome))  # fmt: skip
    for item in exhibits:
        if item.recovery_latitude is not None and item.recovery_longitude is not None:
            url = reverse("admin:evidence_evidenceitem_change", args=[item.pk])
            features.append(_feature("recovery", item.recovery_latitude, item.recovery_longitude, str(item),
                                     item.recovery_place, url))  # fmt: skip
    for photo in photos:
        url = reverse("admin:evidence_photo_change", args=[photo.pk])
        label = f"{photo.item.exhibit_number} {photo.original_name}"
        features.append(_feature("photo", photo.gps_latitude, photo.gps_longitude, label, "", url))
    return features


def _map_data(features) -> dict:
    return {
        "features": features,
        "borders": static("evidence/map/countries-110m.geojson"),
        "tiles": settings.ATTEST_MAP_TILE_URL,
        "outcomes": {code: str(label) for code, label in Outcome.choices},
        "colours": {str(code): colour for code, colour in OUTCOME_COLOURS.items()},
        "kinds": {
            "incident": gettext("Incident"),
            "recovery": gettext("Recovery place"),
            "photo": gettext("Photo position"),
        },
        "open": gettext("Open"),
    }


def _timeline(request, case, incidents, exhibits_by_id) -> dict:
    """Incidents and custody events, newest first, filtered by ?exhibit= and ?event=."""
    exhibit = request.GET.get("exhibit", "")
    exhibit_id = int(exhibit) if exhibit.isdigit() and int(exhibit) in exhibits_by_id else None
    event_type = request.GET.get("event", "")
    if event_type not in (*EventType.values, INCIDENT_FILTER):
        event_type = ""
    subjects = selectors.subjects_by_exhibit(case)
    entries = []
    if event_type in ("", INCIDENT_FILTER):
        for incident in incidents:
            if exhibit_id is None or exhibits_by_id[exhibit_id].incident_id == incident.pk:
                entries.append({
                    "when": incident.occurred_at, "kind": gettext("Incident"), "what": str(incident),
                    "who": "", "exhibit": None, "details": incident.get_outcome_display(),
                    "url": reverse("admin:cases_incident_change", args=[incident.pk]),
                })  # fmt: skip
    if event_type != INCIDENT_FILTER:
        events = selectors.custody_events(case, subjects=subjects, exhibit=exhibit_id, event_type=event_type)
        for event in events:
            if event.subject_type == SubjectType.EVIDENCE_ITEM:
                item_id = event.subject_id
            else:
                item_id = subjects.get((event.subject_type, event.subject_id))
            entries.append({
                "when": event.occurred_at, "kind": event.get_event_type_display(), "what": event.subject_label,
                "who": event.actor_name or gettext("system"), "exhibit": exhibits_by_id.get(item_id),
                "details": describe_event(event), "sequence": event.sequence,
            })  # fmt: skip
    entries.sort(key=lambda entry: entry["when"], reverse=True)
    event_types = [(INCIDENT_FILTER, gettext("Incidents")), *EventType.choices]
    ledger = {"case": case.pk, **({"event_type__exact": event_type} if event_type not in ("", INCIDENT_FILTER) else {})}
    return {"entries": entries, "exhibit": exhibit_id, "event": event_type, "event_types": event_types,
            "limit": selectors.CUSTODY_EVENTS_SHOWN,
            "ledger_url": f"{reverse('admin:evidence_custodyevent_changelist')}?{urlencode(ledger)}"}  # fmt: skip


def _verdict(check) -> dict | None:
    if check is None:
        return None
    data = check.payload_data
    problems = "; ".join(f"{p['where']}: {p['reason']}" for p in data.get("problems", []))
    return {"intact": bool(data.get("intact")), "when": check.recorded_at, "problems": problems}


# The inference's caveats (evidence.lib.assembly), the same words marked for translation.
ASSEMBLY_CAVEATS = {
    assembly.CAVEAT: _(
        "A date code says when a part was made, not when it was fitted. Parts can sit in stock for years before "
        "they are built into a weapon, so the newest date code only shows that the weapon was assembled no earlier "
        "than that date; it may have been assembled much later. Date codes never bound assembly from above. "
        "Codes that can be read in more than one way count with their earliest reading, and only readings an "
        "analyst has verified count at all."
    ),
    assembly.NO_BOUND_CAVEAT: _(
        "No verified, readable date code: nothing here bounds the assembly date. "
        "Even when there are date codes, they only bound assembly from below, because parts can be stockpiled."
    ),
}


def _components(case) -> dict:
    """The components panel: counts by headquarters country and manufacturer, the share with a readable date
    code, the earliest-assembly bound with the readings it rests on, and the production-window histogram
    (counted readings by the quarter their earliest possible day falls in). A fixed number of queries."""
    counts = selectors.component_counts(case)
    inference = selectors.assembly_inference(case)
    most = max(inference.production_histogram.values(), default=0)
    histogram = [
        {
            "label": gettext("%(year)s Q%(quarter)s") % {"year": year, "quarter": quarter},
            "count": count,
            "percent": round(100 * count / most),
        }
        for (year, quarter), count in inference.production_histogram.items()
    ]
    unknown = gettext("unknown")
    return {
        "total": counts["total"],
        "by_country": [(unknown if name == "unknown" else name, n) for name, n in counts["by_country"].items()],
        "by_manufacturer": [
            (unknown if name == "unknown" else name, n) for name, n in counts["by_manufacturer"].items()
        ],
        "with_code": counts["with_readable_code"],
        "share_with_code": round(100 * counts["share_with_code"]) if counts["share_with_code"] is not None else None,
        "not_before": inference.not_before,
        "resting_on": inference.resting_on,
        "readings_counted": inference.readings_counted,
        "caveat": ASSEMBLY_CAVEATS.get(inference.caveat, inference.caveat),
        "histogram": histogram,
    }


def _trace_requests_due(request, case) -> dict:
    """Trace requests of the case whose answer is due within the week, and those overdue."""
    today = timezone.localdate()
    due = list(selectors.trace_requests_due(viewer=request.user, case=case, today=today))
    overdue = [trace for trace in due if trace.status == TraceStatus.NO_ANSWER or trace.due_on < today]
    return {"overdue": overdue, "this_week": [trace for trace in due if trace not in overdue]}


def case_overview(model_admin, request, object_id):
    case = model_admin.get_object(request, object_id)  # 404 for outsiders; marks the access log
    incidents = list(Incident.objects.filter(case=case).select_related("weapon_system"))
    sort = request.GET.get("sort", "-occurred_at")
    if sort.lstrip("-") not in INCIDENT_SORTS:
        sort = "-occurred_at"
    incidents_sorted = sorted(incidents, key=INCIDENT_SORTS[sort.lstrip("-")], reverse=sort.startswith("-"))
    exhibits = list(selectors.exhibits_overview(case))
    exhibits_by_id = {item.pk: item for item in exhibits}
    photos = list(selectors.photo_positions(case))
    features = _map_features(incidents, exhibits, photos)
    size, head_hash = head(case)
    dossiers = list(
        Export.objects.filter(case=case, kind=ExportKind.DOSSIER).select_related("requested_by")[:DOSSIERS_SHOWN]
    )
    for export in dossiers:
        export.stage_text = stage_label(export.stage)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": case.reference,
        "subtitle": case.title,
        "case": case,
        "legal_basis": list(case.legal_basis.all()),
        "team": list(case.memberships.select_related("user").order_by("role", "user__username")),
        "may_edit": model_admin.has_change_permission(request, case),
        # The integrity check's page (evidence.admin.ledger), offered to those it allows; it returns here.
        "may_check": role_at_least(request.user, case, Role.INVESTIGATOR),
        "statistics": model_admin.statistics(case),
        "ledger_size": size,
        "ledger_head": head_hash,
        "verdict": _verdict(selectors.last_fixity_check(case)),
        "timestamps": timestamps.summary(case),
        "incidents": incidents_sorted,
        "incident_sort": sort,
        "incident_columns": INCIDENT_COLUMNS,
        "exhibits": exhibits,
        "map_data": _map_data(features),
        "map_count": len(features),
        "map_legend": [(OUTCOME_COLOURS[code], label) for code, label in Outcome.choices],
        "timeline": _timeline(request, case, incidents, exhibits_by_id),
        "dossiers": dossiers,
        "components": _components(case),
        "trace_due": _trace_requests_due(request, case),
        "dossier_form": DossierForm(initial={"language": dossier_language(), "include_photos": True}),
        # For the progress script: statuses and stages in the reader's language (the API gives codes).
        "dossier_labels": {
            "status": {code: str(label) for code, label in ExportStatus.choices},
            "stages": {code: str(label) for code, label in STAGES.items()},
        },
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/cases/case/overview.html", context)


def request_dossier(model_admin, request, object_id):
    """POST only: ask for a dossier of the case with the options chosen on its overview."""
    case = model_admin.get_object(request, object_id)  # 404 for outsiders
    if request.method != "POST":
        raise PermissionDenied
    form = DossierForm(request.POST)
    overview = reverse("admin:cases_case_overview", args=[case.pk]) + "#dossiers"
    if not form.is_valid():
        messages.error(request, gettext("Choose a language for the dossier."))
        return redirect(overview)
    export = services.request_export(actor=request.user, case=case, kind=ExportKind.DOSSIER, **form.cleaned_data)
    audit.record(request, AccessAction.EXPORT, obj=export, status=200)
    messages.success(request, gettext("Dossier requested; it is built in the background."))
    return redirect(overview)
