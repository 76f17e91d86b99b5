"""Dossiers and packages in the admin: ask for one from the case list, watch it build, download it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cases import audit
from cases.admin import CaseAdmin, CaseScopedAdmin, VisibleCaseFilter, case_column
from cases.choices import AccessAction
from evidence import services
from evidence.admin.common import shown_error
from evidence.choices import ExportKind, ExportStatus
from evidence.export.stages import stage_label
from evidence.models import Export


@admin.register(Export)
class ExportAdmin(CaseScopedAdmin):
    list_display = ["__str__", case_column(), "kind", "language", "status", "progress_bar", "requested_by",
                    "requested_at", "download"]  # fmt: skip
    list_filter = [VisibleCaseFilter, "kind", "status", "language"]
    list_select_related = ["case", "requested_by", "file"]
    readonly_fields = [
        "case", "kind", "language", "include_photos", "redact_names", "requested_by", "requested_at", "status",
        "progress_bar", "stage_text", "error_text", "started_at", "finished_at", "sha256", "ledger_head", "download",
    ]  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # asked for with the action on the case list, the API or export_dossier

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("progress"))
    def progress_bar(self, obj):
        if obj.status == ExportStatus.FAILED:
            return format_html('<strong style="color:#ba2121">{}</strong>', _("failed"))
        stage = stage_label(obj.stage)
        return format_html('<progress value="{}" max="100" title="{}"></progress> {}% {}', obj.progress, stage,
                           obj.progress, stage)  # fmt: skip

    @admin.display(description=_("stage"))
    def stage_text(self, obj):
        """Stored as a stable English code (the API returns it so), shown in the reader's language."""
        return stage_label(obj.stage) or "—"

    @admin.display(description=_("error"))
    def error_text(self, obj):
        return shown_error(obj) or "—"

    @admin.display(description=_("SHA-256"))
    def sha256(self, obj):
        return format_html("<code>{}</code>", obj.file.sha256) if obj.file_id else "—"

    @admin.display(description=_("ledger head"))
    def ledger_head(self, obj):
        return (
            format_html("<code>{}:{}</code>", obj.checkpoint.size, obj.checkpoint.head_hash)
            if obj.checkpoint_id
            else "—"
        )

    @admin.display(description=_("file"))
    def download(self, obj):
        if not obj.file_id:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("export-download", args=[obj.pk]), _("download"))


def _request(modeladmin, request, queryset, kind: str) -> None:
    for case in queryset:
        try:
            export = services.request_export(actor=request.user, case=case, kind=kind)
        except (PermissionDenied, Http404):
            modeladmin.message_user(
                request, _("You are not on case %(case)s.") % {"case": case.reference}, messages.ERROR
            )
            continue
        audit.record(request, AccessAction.EXPORT, obj=export, status=200)
        link = reverse("admin:evidence_export_change", args=[export.pk])
        modeladmin.message_user(
            request,
            format_html('{} <a href="{}">{}</a>', _("Requested; it is built in the background."), link, _("Follow it")),
            messages.SUCCESS,
        )


@admin.action(description=_("Request a PDF dossier"))
def request_dossier(modeladmin, request, queryset):
    _request(modeladmin, request, queryset, ExportKind.DOSSIER)


@admin.action(description=_("Request an evidence package (BagIt)"))
def request_package(modeladmin, request, queryset):
    _request(modeladmin, request, queryset, ExportKind.PACKAGE)


# The case list lives in the cases app, which knows nothing of evidence; add the actions here.
CaseAdmin.actions = [*CaseAdmin.actions, request_dossier, request_package]
