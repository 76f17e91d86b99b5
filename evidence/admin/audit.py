"""The access log in the admin: read-only, for superusers and the leads of each case."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cases.admin import CaseScopedAdmin, VisibleCaseFilter, case_column
from evidence.models import AccessLog


class LeadCaseFilter(VisibleCaseFilter):
    def lookups(self, request, model_admin):
        return [(case.pk, case.reference) for case in _cases_led_by(request.user)]


def _cases_led_by(user):
    from cases.models import Case

    cases = Case.objects.visible_to(user)
    return cases if user.is_superuser else cases.filter(memberships__user=user, memberships__role="lead")


@admin.register(AccessLog)
class AccessLogAdmin(CaseScopedAdmin):
    list_display = ["at", "user_or_name", "action", "object_type", "object_label", case_column(), "status_code", "ip"]
    list_filter = [LeadCaseFilter, "action", "object_type", ("user", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "case"]
    search_fields = ["username", "object_label", "path", "ip"]
    date_hierarchy = "at"
    readonly_fields = [field.name for field in AccessLog._meta.fields]

    def get_queryset(self, request):
        return AccessLog.objects.readable_by(request.user).select_related("user", "case")

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and _cases_led_by(request.user).exists()

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("user"))
    def user_or_name(self, obj):
        return obj.user or obj.username or "—"
