"""The case's admin page with what the evidence app adds to it.

The cases app knows nothing of exhibits and the ledger; here its CaseAdmin gains the overview (the
case's landing page), the dossier request, the integrity check and the ledger's verdict, and takes
its place in the admin.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cases.admin import CaseAdmin as BaseCaseAdmin
from cases.admin import role_at_least
from cases.choices import Role
from cases.models import Case
from evidence.admin.ledger import check_integrity_view
from evidence.admin.overview import case_overview, request_dossier
from evidence.choices import EventType
from evidence.custody import head
from evidence.models import CustodyEvent


class CaseChangeList(ChangeList):
    """The case list opens each case's overview, its landing page; the form is the overview's Edit action."""

    def url_for_result(self, result):
        return reverse("admin:cases_case_overview", args=[result.pk], current_app=self.model_admin.admin_site.name)


class CaseAdmin(BaseCaseAdmin):
    readonly_fields = [*BaseCaseAdmin.readonly_fields, "integrity"]
    fieldsets = [
        *BaseCaseAdmin.fieldsets[:-1],
        (_("Chain of custody"), {"fields": ["integrity"]}),
        BaseCaseAdmin.fieldsets[-1],
    ]

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def get_urls(self):
        overview = path("<path:object_id>/overview/", self.admin_site.admin_view(self.overview_view),
                        name="cases_case_overview")  # fmt: skip
        dossier = path("<path:object_id>/overview/dossier/", self.admin_site.admin_view(self.dossier_view),
                       name="cases_case_dossier")  # fmt: skip
        integrity = path("<path:object_id>/check-integrity/", self.admin_site.admin_view(self.integrity_view),
                         name="cases_case_integrity")  # fmt: skip
        return [overview, dossier, integrity, *super().get_urls()]

    def integrity_view(self, request, object_id):
        return check_integrity_view(self, request, object_id)

    def overview_view(self, request, object_id):
        return case_overview(self, request, object_id)

    def dossier_view(self, request, object_id):
        return request_dossier(self, request, object_id)

    @admin.display(description=_("integrity"))
    def integrity(self, obj):
        """The ledger's head and the verdict of the last fixity check, failures first and loud."""
        if obj is None or obj.pk is None:
            return "—"
        size, head_hash = head(obj)
        last = CustodyEvent.objects.filter(case=obj, event_type=EventType.FIXITY_CHECK).order_by("-sequence").first()
        when = date_format(timezone.localtime(last.recorded_at), "DATETIME_FORMAT") if last else ""
        if last is None:
            verdict = _("not checked yet")
        elif last.payload_data.get("intact"):
            verdict = format_html(
                '<span style="color:green">{}</span>',
                _("intact at %(when)s") % {"when": when},
            )
        else:
            reasons = "; ".join(f"{p['where']}: {p['reason']}" for p in last.payload_data.get("problems", []))
            verdict = format_html(
                '<strong style="color:#ba2121">{} {}</strong>',
                _("BROKEN at %(when)s:") % {"when": when},
                reasons,
            )
        links = format_html(
            '<a href="{}?case={}">{}</a> · <a href="{}?case={}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:evidence_evidenceitem_changelist"), obj.pk, _("exhibits"),
            reverse("admin:evidence_custodyevent_changelist"), obj.pk, _("custody ledger"),
            reverse("admin:evidence_sanctions_report", args=[obj.pk]), _("sanctions question"),
        )  # fmt: skip
        viewer = getattr(obj, "viewer", None)  # who looks: set by get_object
        if viewer is not None and role_at_least(viewer, obj, Role.INVESTIGATOR):
            check = reverse("admin:cases_case_integrity", args=[obj.pk])
            links = format_html('{} · <a href="{}">{}</a>', links, check, _("check integrity now"))
        return format_html(
            "{}<br>{} <code>{}:{}</code><br>{}", verdict, _("Ledger head (size:hash):"), size, head_hash, links
        )


admin.site.unregister(Case)
admin.site.register(Case, CaseAdmin)
