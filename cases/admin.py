"""Admin of the cases app: every case-scoped page shows only what the user's cases hold."""

from __future__ import annotations

import json
import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, models
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cases import reference_data, services
from cases.audit import is_id, named_cases, probed_case
from cases.choices import ROLE_RANK, IdentificationBasis, IncidentKind, Outcome, Role
from cases.models import (
    Case,
    CaseMembership,
    Entity,
    Incident,
    ReferenceChange,
    SanctionsProvision,
    SanctionsRegime,
    WeaponSystem,
)
from cases.stats import case_statistics
from core.json_depth import JSONFormField
from core.models import ApiToken

logger = logging.getLogger(__name__)


def role_at_least(user, case: Case | None, role: str) -> bool:
    return case is not None and case.user_has_role(user, role)


def cases_with_role(user, role: str):
    """Cases where the user holds at least `role`: the choices offered in forms."""
    if user.is_superuser:
        return Case.objects.all()
    roles = [name for name, rank in ROLE_RANK.items() if rank >= ROLE_RANK[role]]
    return Case.objects.filter(memberships__user=user, memberships__role__in=roles).distinct()


def holds_role(request, role: str) -> bool:
    """Whether the user holds `role` on some case: decides which links and actions a page offers (each
    object is still checked on its own). Kept on the request, which asks it many times a page."""
    held = request.__dict__.setdefault("_attest_roles_held", {})
    if role not in held:
        held[role] = request.user.is_superuser or cases_with_role(request.user, role).exists()
    return held[role]


def breakdown(counts: dict[str, int], choices: type[models.TextChoices] | None = None) -> str:
    """'Impact: 2, Intercepted: 1': the statistics count stable codes (the API returns them so); the admin
    names them in the reader's language. Regions are free text, shown as written."""
    labels = dict(choices.choices) if choices else {}
    return ", ".join(f"{labels.get(code, code) or '?'}: {count}" for code, count in counts.items()) or "—"


def case_column(path: str = "case"):
    """A list column naming the case by its reference, the title on hover: the full title pushed the
    useful columns off-screen. `path` leads from the row to its case (e.g. "item__case")."""

    @admin.display(description=_("case"), ordering=f"{path}__reference")
    def case(obj):
        found = obj
        for part in path.split("__"):
            found = getattr(found, part, None)
        if found is None:  # an access-log row may name no case
            return "—"
        return format_html('<span class="attest-case" title="{}">{}</span>', found.title, found.reference)

    return case


class VisibleCaseFilter(admin.SimpleListFilter):
    """Filter by case, offering only the cases the user may see (a plain FK filter would list all)."""

    title = _("case")
    parameter_name = "case"

    def lookups(self, request, model_admin):
        return [(case.pk, case.reference) for case in Case.objects.visible_to(request.user).only("reference")]

    case_field = "case_id"

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not is_id(value):
            raise IncorrectLookupParameters  # the admin shows the list again, unfiltered, with "?e=1"
        return queryset.filter(**{self.case_field: value})


class _Refused(Exception):
    """A service refused the save of a valid-looking form; carries its ValidationError."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


class RefusalsAsFormErrors:
    """A service's ValidationError, or the database's IntegrityError, while saving a change form becomes
    a form error on the field it names, with the typed input kept; before, it was a 500 and the form
    was lost. Django saves inside a transaction, which the refusal rolls back (custody events included);
    the page is then built again from the posted data, the refusal added to the form's validation."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, IntegrityError, PermissionDenied) as error:
            # Asked again with the refusal in the form; Django's own permission checks refuse again, a 403.
            if request.method != "POST" or hasattr(request, "_attest_refusal"):
                raise
            if isinstance(error, PermissionDenied):
                error = ValidationError(str(error) or _("You may not do this."))
            elif isinstance(error, IntegrityError):
                logger.warning("save refused by the database: %s", error)  # names tables: not for the page
                error = ValidationError(_("It was not saved: it conflicts with what is already recorded."))
            request._attest_refusal = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = readable_constraints(super().get_form(request, obj, change, **kwargs))
        refusal = getattr(request, "_attest_refusal", None)
        return form if refusal is None else with_refusal(form, refusal)

    def delete_view(self, request, object_id, extra_context=None):
        """A refused deletion (a case's last lead, say) is a message on the object's page, not a 500."""
        try:
            return super().delete_view(request, object_id, extra_context)
        except (ValidationError, IntegrityError) as error:
            if request.method != "POST":
                raise
            if isinstance(error, IntegrityError):
                logger.warning("deletion refused by the database: %s", error)
                error = ValidationError(_("It was not saved: it conflicts with what is already recorded."))
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            opts = self.model._meta
            return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id]))


def with_refusal(form_class, refusal: ValidationError):
    """The form class, validating as before and then adding the refusal to the fields it names."""

    class Refused(form_class):
        def _post_clean(self):
            super()._post_clean()
            for name, errors in refusal_by_field(refusal, self.fields):
                self.add_error(name, errors)

    Refused.__name__ = Refused.__qualname__ = form_class.__name__
    return Refused


# A database constraint broken by a form's values, said on the field to correct instead of Django's
# "Constraint “name” is violated." (attribution_one_subject is caught by the attribution form itself).
CONSTRAINT_ERRORS = {
    "case_closed_after_opened": ("closed_on", _("A case closes on or after the day it opened.")),
    "case_reference_unique_ignoring_case": ("reference", _("A case with this reference exists already.")),
    "item_manufacture_date_has_precision": ("manufactured_precision", _("Say how precise the date of manufacture is.")),
    "marking_date_has_precision": ("interpreted_date_precision", _("Say how precise the date read is.")),
    "marking_region_complete_and_on_a_photo": ("photo", _("A region needs all four numbers and a photo.")),
    "attribution_credibility_1_6": ("credibility", _("Credibility is graded 1 to 6.")),
    "incident_latitude_range": ("latitude", _("A latitude lies between -90 and 90.")),
    "incident_longitude_range": ("longitude", _("A longitude lies between -180 and 180.")),
    "incident_launch_latitude_range": ("launch_latitude", _("A latitude lies between -90 and 90.")),
    "incident_launch_longitude_range": ("launch_longitude", _("A longitude lies between -180 and 180.")),
    "item_recovery_latitude_range": ("recovery_latitude", _("A latitude lies between -90 and 90.")),
    "item_recovery_longitude_range": ("recovery_longitude", _("A longitude lies between -180 and 180.")),
}


def readable_constraints(form_class):
    """The form class, its constraint errors moved onto the fields they concern, in words."""
    model = form_class._meta.model

    class Readable(form_class):
        def _post_clean(self):
            super()._post_clean()
            raw = {str(constraint.get_violation_error_message()): constraint.name for constraint in
                   model._meta.constraints}  # fmt: skip
            general = self._errors.get(NON_FIELD_ERRORS) if self._errors else None
            if not general:
                return
            kept = []
            for message in general:
                field, text = CONSTRAINT_ERRORS.get(raw.get(message), (None, None))
                if field in self.fields:
                    self.add_error(field, text)
                elif message in raw:  # a constraint without words of its own: do not show its name
                    kept.append(_("These values cannot be saved together; check the form."))
                else:
                    kept.append(message)
            if kept:
                self._errors[NON_FIELD_ERRORS] = self.error_class(kept, error_class="nonfield", renderer=self.renderer)
            else:
                del self._errors[NON_FIELD_ERRORS]

    Readable.__name__ = Readable.__qualname__ = form_class.__name__
    return Readable


def refusal_by_field(refusal: ValidationError, fields) -> list[tuple[str | None, list[str]]]:
    """(field, messages) pairs; a name the form has no field for goes to the form's own errors."""
    if not hasattr(refusal, "error_dict"):
        return [(None, refusal.messages)]
    pairs = []
    for name, errors in refusal.error_dict.items():
        messages_ = [message for error in errors for message in error.messages]
        pairs.append((name, messages_) if name in fields else (None, messages_))
    return pairs


class SameCaseForm(forms.ModelForm):
    """Refuses a choice from another case (an incident, parent item, source …) in the form, on its field,
    before any service runs. `case_links` maps a field to the path from its object to the case id;
    the case is the form's `case` choice, or that of the object edited, or of `case_from`'s choice."""

    case_links: dict[str, str] = {}
    case_from = "case"

    def clean(self):
        data = super().clean()
        case_id = self._chosen_case_id(data)
        if case_id is None:
            return data
        for name, link in self.case_links.items():
            chosen = data.get(name)
            if chosen is not None and _follow(chosen, link) != case_id:
                self.add_error(name, _("It belongs to another case: choose one of this case's."))
        return data

    def _chosen_case_id(self, data):
        if self.case_from == "case":
            chosen = data.get("case")
            return chosen.pk if chosen is not None else getattr(self.instance, "case_id", None)
        chosen = data.get(self.case_from) or getattr(self.instance, self.case_from, None)
        return chosen.case_id if chosen is not None else None


def _follow(obj, link: str):
    for part in link.split("."):
        obj = getattr(obj, part)
    return obj


def limit_to_case(form, request, links: dict[str, str]) -> None:
    """On an add page opened with ?case=, offer in each linked field only that case's objects (change
    pages limit them to the object's case themselves). Without it, the form's own limits hold."""
    requested = request.GET.get("case", "")
    if not is_id(requested):
        return
    case_id = int(requested)
    for name, link in links.items():
        if name in form.base_fields:
            field = form.base_fields[name]
            field.queryset = field.queryset.filter(**{link.replace(".", "__"): case_id})


class CaseScopedAdmin(RefusalsAsFormErrors, admin.ModelAdmin):
    """Visibility through visible_to(); outsiders get 404 on any object page, never a hint."""

    write_role = Role.LEAD

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such object on your cases."))
        obj.viewer = request.user  # for display fields that depend on who looks (a fresh object per request)
        from cases.audit import mark

        mark(request, obj)  # the access log records who saw it
        return obj

    def case_of(self, obj):
        return obj.case

    def lookup_allowed(self, lookup, value, request=None):
        # A list is narrowed to a case by the visible-case filter (`case`) only: other lookups on the case
        # field (case__in, case_id__gte …) are refused with a 400, and logged as probes (changelist_view).
        if lookup.split("__")[0] in ("case", "case_id"):
            return lookup == VisibleCaseFilter.parameter_name and any(
                isinstance(each, type) and issubclass(each, VisibleCaseFilter) for each in self.get_list_filter(request)
            )
        return super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request, extra_context=None):
        # Before the list is made: a lookup the admin refuses ends the view with an exception.
        if request.method in ("GET", "HEAD"):
            # The access log records the list, its case when filtered to one the user sees, or the probe
            # of a case they are not on.
            named = named_cases(request, admin_lookups=True)
            case_id = request.GET.get(VisibleCaseFilter.parameter_name, "")
            visible = Case.objects.visible_to(request.user).filter(pk=case_id) if is_id(case_id) else None
            case_id = visible.values_list("pk", flat=True).first() if visible is not None else None
            others = [named_id for named_id in named if named_id != case_id]  # their own case is no probe
            request.audit_list = (self.model, case_id, probed_case(request, others))
        return super().changelist_view(request, extra_context)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            # Without the role anywhere (a viewer), the home page and lists say View, not Change.
            return self.has_module_permission(request) and holds_role(request, self.write_role)
        return role_at_least(request.user, self.case_of(obj), self.write_role)

    def has_delete_permission(self, request, obj=None):
        return False

    # Named by actions (@admin.action(permissions=[...])), so that a list offers only the actions the
    # user may use somewhere: a viewer was offered "Withdraw sources" and met a bare 403.
    def has_write_permission(self, request):
        return self.has_module_permission(request) and holds_role(request, self.write_role)

    def has_investigator_permission(self, request):
        return self.has_module_permission(request) and holds_role(request, Role.INVESTIGATOR)


class IncidentForm(forms.ModelForm):
    identification_basis = forms.MultipleChoiceField(
        label=_("identification basis"),
        choices=IdentificationBasis.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Incident
        fields = ["case", *services.INCIDENT_FIELDS, "entities"]


class MembershipInline(admin.TabularInline):
    model = CaseMembership
    extra = 0
    fields = ["user", "role"]
    autocomplete_fields = ["user"]

    def _may_manage(self, request, obj):
        return role_at_least(request.user, obj, Role.LEAD)

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return self._may_manage(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_manage(request, obj)


class IncidentInline(admin.TabularInline):
    model = Incident
    form = IncidentForm
    extra = 0
    fields = ["kind", "occurred_at", "place_name", "region", "weapon_system", "outcome", "killed", "wounded"]
    show_change_link = True
    ordering = ["occurred_at"]

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return role_at_least(request.user, obj, Role.ANALYST)

    def has_change_permission(self, request, obj=None):
        return role_at_least(request.user, obj, Role.ANALYST)

    def has_delete_permission(self, request, obj=None):
        return False


class RegionFilter(admin.SimpleListFilter):
    title = _("region")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        regions = (
            Incident.objects.visible_to(request.user)
            .exclude(region="")
            .order_by("region")
            .values_list("region", flat=True)
            .distinct()
        )
        return [(region, region) for region in regions]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(pk__in=Incident.objects.filter(region=self.value()).values("case_id"))
        return queryset


@admin.register(Case)
class CaseAdmin(CaseScopedAdmin):
    list_display = ["reference", "title", "status", "opened_on", "lead", "updated_at"]
    list_filter = ["status", RegionFilter]
    search_fields = ["reference", "title", "summary"]
    filter_horizontal = ["legal_basis"]
    autocomplete_fields = ["entities"]
    readonly_fields = ["statistics", "created_at", "updated_at"]
    inlines = [MembershipInline, IncidentInline]
    fieldsets = [
        (None, {"fields": ["reference", "title", "summary", "status", "opened_on", "closed_on", "lead"]}),
        (_("Legal basis and entities"), {"fields": ["legal_basis", "entities"]}),
        (_("Statistics"), {"fields": ["statistics"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def case_of(self, obj):
        return obj

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "reference"] if obj is not None else fields

    def get_changeform_initial_data(self, request):
        return {"lead": request.user.pk}

    def has_add_permission(self, request):
        return request.user.is_staff and request.user.has_perm("cases.add_case")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "reference" in form.base_fields:
            form.base_fields["reference"].required = False
            form.base_fields["reference"].help_text = _("Leave empty to generate one, e.g. PGO-2024-0001.")
        return form

    @admin.display(description=_("statistics"))
    def statistics(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        stats = case_statistics(obj)
        share = stats["failed_in_flight_share"]
        rows = [
            (_("Incidents"), stats["incidents"]),
            (_("Killed / wounded"), f"{stats['killed']} / {stats['wounded']}"),
            (_("Launches"), stats["launches"]),
            (
                _("Failed in flight"),
                f"{stats['launches_failed_in_flight']} ({share:.0%})" if share is not None else 0,
            ),
            (_("Identified by debris"), stats["launches_identified_by_debris"]),
            (
                _("Identified by trajectory, speed or launch site"),
                stats["launches_identified_by_trajectory_speed_or_launch_site"],
            ),
            (_("By kind"), breakdown(stats["by_kind"], IncidentKind)),
            (_("By outcome"), breakdown(stats["by_outcome"], Outcome)),
            (_("By region"), breakdown(stats["by_region"])),
        ]
        return format_html(
            '<table class="attest-stats">{}</table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        legal_basis = data.pop("legal_basis", None)
        entities = data.pop("entities", None)
        if change:
            services.update_case(actor=request.user, case=obj, legal_basis=legal_basis, entities=entities, **data)
        else:
            data.pop("reference", None)
            saved = services.create_case(
                actor=request.user,
                reference=form.cleaned_data.get("reference") or None,
                legal_basis=legal_basis or (),
                entities=entities or (),
                **data,
            )
            obj.pk, obj.reference = saved.pk, saved.reference
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields went through the service already; inlines go through theirs.
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change):
        case = form.instance
        # What formset.save() would have noted, for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or inline_form in formset.deleted_forms:
                continue
            data = inline_form.cleaned_data
            if formset.model is CaseMembership:
                adding = inline_form.instance.pk is None
                saved = services.set_membership(actor=request.user, case=case, user=data["user"], role=data["role"])
            elif inline_form.instance.pk:
                adding = False
                changes = {name: data[name] for name in inline_form.changed_data}
                saved = services.update_incident(actor=request.user, incident=inline_form.instance, **changes)
            else:
                adding = True
                fields = {name: data[name] for name in IncidentInline.fields if name in data}
                saved = services.create_incident(actor=request.user, case=case, **fields)
            if adding:
                formset.new_objects.append(saved)
            else:
                formset.changed_objects.append((saved, inline_form.changed_data))
        for deleted in formset.deleted_forms:
            if formset.model is CaseMembership and deleted.instance.pk:
                services.remove_membership(actor=request.user, membership=deleted.instance)
                formset.deleted_objects.append(deleted.instance)


@admin.register(Incident)
class IncidentAdmin(CaseScopedAdmin):
    form = IncidentForm
    write_role = Role.ANALYST
    list_display = ["__str__", case_column(), "kind", "occurred_at", "region", "weapon_system", "outcome", "killed"]
    list_filter = [VisibleCaseFilter, "weapon_system", "kind", "outcome", "region"]
    list_select_related = ["case", "weapon_system"]
    date_hierarchy = "occurred_at"
    search_fields = ["place_name", "region", "description", "case__reference"]
    autocomplete_fields = ["entities"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "case" in form.base_fields:
            form.base_fields["case"].queryset = cases_with_role(request.user, Role.ANALYST)
        return form

    def get_readonly_fields(self, request, obj=None):
        return ["case", "created_at", "updated_at"] if obj is not None else ["created_at", "updated_at"]

    def has_add_permission(self, request):
        return self.has_module_permission(request) and cases_with_role(request.user, Role.ANALYST).exists()

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        entities = data.pop("entities", None)
        if change:
            services.update_incident(actor=request.user, incident=obj, entities=entities, **data)
        else:
            case = data.pop("case")
            saved = services.create_incident(actor=request.user, case=case, entities=entities or (), **data)
            obj.pk = saved.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """Entities went through the service in save_model; the inlines (attributions) are read-only."""
        for formset in formsets:  # nothing saved, as the admin's change message reads it
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(CaseMembership)
class CaseMembershipAdmin(CaseScopedAdmin):
    list_display = [case_column(), "user", "role", "updated_at"]
    list_filter = [VisibleCaseFilter, "role"]
    search_fields = ["case__reference", "user__username"]
    list_select_related = ["case", "user"]
    autocomplete_fields = ["user"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "case" in form.base_fields:
            form.base_fields["case"].queryset = cases_with_role(request.user, Role.LEAD)
        return form

    def get_readonly_fields(self, request, obj=None):
        return ["case", "user"] if obj is not None else []

    def has_add_permission(self, request):
        return self.has_module_permission(request) and cases_with_role(request.user, Role.LEAD).exists()

    def has_delete_permission(self, request, obj=None):
        return obj is not None and role_at_least(request.user, obj.case, Role.LEAD)

    def save_model(self, request, obj, form, change):
        saved = services.set_membership(actor=request.user, case=obj.case, user=obj.user, role=obj.role)
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.remove_membership(actor=request.user, membership=obj)

    def get_actions(self, request):
        # One at a time, through the service and its last-lead rule: the bulk delete went around both.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


def _verified(request) -> bool:
    """Whether the session confirmed a TOTP code (django-otp's middleware marks the user)."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


class ReferenceDataAdmin(RefusalsAsFormErrors, admin.ModelAdmin):
    """Reference data: every staff user reads it; reference data editors change it, through the service
    that records each change (cases.reference_data)."""

    # Aliases, identifiers and programmes are JSON typed into a form: deep nesting is refused, not a 500.
    formfield_overrides = {models.JSONField: {"form_class": JSONFormField}}

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    # Django calls these with obj; an alias of has_module_permission took none and was a 500.
    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request) and reference_data.may_edit(request.user)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request) and reference_data.may_edit(request.user)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request) and reference_data.may_edit(request.user)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            reference_data.update_reference(actor=request.user, instance=obj, via="admin", **data)
            return
        fields = {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
        saved = reference_data.create_reference(actor=request.user, model=self.model, via="admin", **fields)
        obj.pk = saved.pk
        obj._state.adding = False

    def get_deleted_objects(self, objs, request):
        # A row in use is "protected": Django's delete page and bulk action then list what uses it and
        # delete nothing, as the service would refuse.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = [*protected, *(f"{obj}: {use}" for obj in objs for use in reference_data.uses(obj))]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        reference_data.delete_reference(actor=request.user, instance=obj, via="admin")

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            reference_data.delete_reference(actor=request.user, instance=obj, via="admin")


@admin.register(WeaponSystem)
class WeaponSystemAdmin(ReferenceDataAdmin):
    list_display = ["name", "category", "country_of_origin"]
    list_filter = ["category", "country_of_origin"]
    search_fields = ["name", "aliases"]


class ProvisionInline(admin.TabularInline):
    """The regime's provisions, to read; each is changed on its own page, through the recording service."""

    model = SanctionsProvision
    extra = 0
    fields = ["instrument", "paragraph", "adopted_on", "authority"]
    show_change_link = True

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SanctionsRegime)
class SanctionsRegimeAdmin(ReferenceDataAdmin):
    list_display = ["name", "authority", "established_on"]
    search_fields = ["name", "authority"]
    inlines = [ProvisionInline]


@admin.register(SanctionsProvision)
class SanctionsProvisionAdmin(ReferenceDataAdmin):
    list_display = ["__str__", "regime", "adopted_on", "authority"]
    list_filter = ["regime", "instrument"]
    search_fields = ["instrument", "paragraph", "text"]


@admin.register(Entity)
class EntityAdmin(ReferenceDataAdmin):
    list_display = ["name", "kind", "sanctioned", "list_name", "list_id"]
    list_filter = ["kind", "sanctioned", "list_name"]
    search_fields = ["name", "aliases", "list_id", "remarks"]


@admin.register(ReferenceChange)
class ReferenceChangeAdmin(admin.ModelAdmin):
    """The trail of reference data changes: read by any staff user, written only by the service."""

    list_display = ["at", "actor_name", "via", "action", "model", "object_label", "changed_fields"]
    list_filter = ["model", "action", "via"]
    search_fields = ["object_label", "actor_name", "=object_id"]
    date_hierarchy = "at"
    fields = ["at", "actor", "actor_name", "via", "action", "model", "object_id", "object_label", "changed_fields",
              "before_json", "after_json"]  # fmt: skip
    readonly_fields = fields

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("fields changed"))
    def changed_fields(self, obj):
        return ", ".join(obj.changed) or "—"

    @admin.display(description=_("before"))
    def before_json(self, obj):
        return _json_block(obj.before)

    @admin.display(description=_("after"))
    def after_json(self, obj):
        return _json_block(obj.after)


def _json_block(value) -> str:
    if value is None:
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


@admin.register(ApiToken)
class ApiTokenAdmin(RefusalsAsFormErrors, admin.ModelAdmin):
    """Tokens of the signed-in user (superusers see all). The value appears once, after adding."""

    list_display = ["name", "prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["name", "expires_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user")
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        from django.conf import settings

        return {"expires_at": timezone.now() + settings.ATTEST_API_TOKEN_LIFETIME}

    def save_model(self, request, obj, form, change):
        token, raw = services.create_api_token(
            two_factor_verified=_verified(request),
            actor=request.user,
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
        )
        obj.pk = token.pk
        obj._state.adding = False
        self.message_user(
            request,
            format_html(_("Token created. Copy it now, it is shown only once: <code>{}</code>"), raw),
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            services.revoke_api_token(actor=request.user, token=token)
        self.message_user(request, _("%(count)d tokens revoked.") % {"count": queryset.count()})
