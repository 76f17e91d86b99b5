"""The custody ledger and its checkpoints, shown and never edited."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    CaseAdmin,
    CaseScopedAdmin,
    VisibleCaseFilter,
    case_column,
)
from cases.choices import Role
from cases.models import Case
from core.api.throttling import FixityCheckThrottle
from evidence import services
from evidence.models import Checkpoint, CustodyEvent


class ReadOnlyLedgerAdmin(CaseScopedAdmin):
    """The ledger is shown, never edited: not even superusers get add, change or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustodyEvent)
class CustodyEventAdmin(ReadOnlyLedgerAdmin):
    list_display = [
        "sequence",
        case_column(),
        "event_type",
        "subject_label",
        "actor_name",
        "occurred_at",
        "short_hash",
    ]
    list_filter = [VisibleCaseFilter, "event_type", "subject_type"]
    list_select_related = ["case"]
    search_fields = ["subject_label", "actor_name", "case__reference", "hash"]
    date_hierarchy = "recorded_at"
    fields = [
        "case", "sequence", "event_type", "subject_type", "subject_id", "subject_label", "actor_name",
        "occurred_at", "recorded_at", "corrects", "pretty_payload", "prev_hash", "hash",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("hash"))
    def short_hash(self, obj):
        return f"{obj.hash[:12]}…"

    @admin.display(description=_("payload"))
    def pretty_payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload_data, indent=2, ensure_ascii=False))


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyLedgerAdmin):
    list_display = [case_column(), "size", "head_hash", "signed_at", "key_id", "reason"]
    list_filter = [VisibleCaseFilter, "reason"]
    list_select_related = ["case"]
    fields = ["case", "size", "head_hash", "signed_at", "key_id", "signature", "reason"]
    readonly_fields = fields


@admin.action(description=_("Check the integrity of the selected cases"), permissions=["investigator"])
def check_integrity(modeladmin, request, queryset):
    """The fixity check on request: re-hashes the case's files and verifies its ledger, recording the
    verdict that the case page and dashboard show (investigators and leads, checked by the service)."""
    throttle = FixityCheckThrottle()  # the budget the API's POST /cases/{id}/verify/ draws on, per user
    for case in queryset:
        if not throttle.allow_request(request, None):
            minutes = max(1, round((throttle.wait() or 60) / 60))
            text = gettext("%(case)s: not checked. A check re-hashes every file of a case, so each user has a "
                           "few an hour; try again in %(minutes)s min.")  # fmt: skip
            modeladmin.message_user(request, text % {"case": case.reference, "minutes": minutes}, messages.ERROR)
            return
        try:
            report = services.check_fixity(actor=request.user, case=case)
        except (PermissionDenied, Http404) as error:
            modeladmin.message_user(request, f"{case.reference}: {error}", messages.ERROR)
            continue
        if report.intact:
            text = gettext("%(case)s: intact (%(events)s ledger events, %(files)s files checked).")
            values = {"case": case.reference, "events": report.size, "files": report.files}
            modeladmin.message_user(request, text % values, messages.SUCCESS)
        else:
            problems = "; ".join(f"{problem.where}: {problem.reason}" for problem in report.problems)
            text = gettext("%(case)s: BROKEN: %(problems)s")
            modeladmin.message_user(request, text % {"case": case.reference, "problems": problems}, messages.ERROR)


# The case list lives in the cases app, which knows nothing of the ledger; add the action here.
CaseAdmin.actions = [*CaseAdmin.actions, check_integrity]


def check_integrity_view(model_admin, request, object_id):
    """The integrity check of one case from its page: a confirmation first (it re-hashes every file of the
    case), then the verdict as a message. Investigators and leads; outsiders 404, other members 403."""
    case = model_admin.get_object(request, object_id)
    if not case.user_has_role(request.user, Role.INVESTIGATOR):
        raise PermissionDenied
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("admin:cases_case_overview", args=[case.pk])
    if request.method == "POST":
        check_integrity(model_admin, request, Case.objects.filter(pk=case.pk))
        return redirect(next_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Check the integrity of %(case)s") % {"case": case.reference},
        "case": case,
        "next": next_url,
        "opts": Case._meta,
    }
    return TemplateResponse(request, "admin/evidence/check_integrity.html", context)
