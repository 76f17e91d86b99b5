"""The access log in the admin: read-only, for superusers and the leads of each case."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib import admin
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from cases.admin import CaseScopedAdmin, VisibleCaseFilter, case_column
from cases.choices import Role
from cases.models import AccessLog


class LeadCaseFilter(VisibleCaseFilter):
    def lookups(self, request, model_admin):
        return [(case.pk, case.reference) for case in _cases_led_by(request.user)]


def _cases_led_by(user):
    from cases.models import Case

    cases = Case.objects.visible_to(user)
    return cases if user.is_superuser else cases.filter(memberships__user=user, memberships__role=Role.LEAD)


def object_type_name(object_type: str) -> str:
    """The stored model name ("evidenceitem") as the reader's language names the model ("Речовий доказ")."""
    for app_label in ("evidence", "cases", "auth"):
        try:
            return capfirst(apps.get_model(app_label, object_type)._meta.verbose_name)
        except LookupError:
            continue
    return object_type or "—"


class ObjectTypeFilter(admin.SimpleListFilter):
    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        stored = model_admin.get_queryset(request).order_by().values_list("object_type", flat=True).distinct()
        return sorted(((value, object_type_name(value)) for value in stored if value), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AccessLog)
class AccessLogAdmin(CaseScopedAdmin):
    list_display = ["at", "user_or_name", "action", "object_kind", "object_label", case_column(), "status_code", "ip"]
    list_filter = [LeadCaseFilter, "action", ObjectTypeFilter, ("user", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "case"]
    search_fields = ["username", "object_label", "path", "ip"]
    date_hierarchy = "at"
    # The stored model name is shown as the model's name in the reader's language.
    readonly_fields = [field.name if field.name != "object_type" else "object_kind" for field in AccessLog._meta.fields]
    exclude = ["object_type"]

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

    @admin.display(description=_("object type"), ordering="object_type")
    def object_kind(self, obj):
        return object_type_name(obj.object_type)

    @admin.display(description=_("user"))
    def user_or_name(self, obj):
        return obj.user or obj.username or "—"


class SignInAttemptAdmin(AccessAttemptAdmin):
    """django-axes's page of failed sign-ins. Its "Clean up expired attempts" action reads the attempt time
    that axes sets on a request only while signing in: from the list it was a 500."""

    def cleanup_expired_attempts(self, request, queryset):
        request.axes_attempt_time = timezone.now()
        return super().cleanup_expired_attempts(request, queryset)

    cleanup_expired_attempts.short_description = AccessAttemptAdmin.cleanup_expired_attempts.short_description


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, SignInAttemptAdmin)
