"""Components of exhibits (one physical part each) and the date codes read off them.

A thin adapter: every write goes through evidence.services.components (record, correct with a reason,
attach markings, withdraw; readings recorded, verified by a second person, withdrawn)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.admin import CaseScopedAdmin, SameCaseForm, cases_with_role, holds_role, limit_to_case, role_at_least
from cases.choices import Role
from cases.models import TEXT_MAX_LENGTH
from evidence import selectors
from evidence.admin.common import ExhibitRecordsInline, ItemCaseFilter, apply_to_each
from evidence.admin.items import EvidenceItemAdmin
from evidence.admin.markings import MarkingAdmin
from evidence.choices import MarkingType
from evidence.models import Component, DateCodeReading, EvidenceItem, Manufacturer, Marking
from evidence.services import components as component_services

COMPONENT_FIELDS = [
    "designator", "function", "manufacturer_as_marked", "manufacturer", "part_number", "lot_code", "notes",
]  # fmt: skip


def take_saved(obj, saved) -> None:
    """The form's instance becomes what the service saved (the admin's messages and log name it)."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False


def window_text(reading) -> str:
    return gettext("%(earliest)s to %(latest)s") % {
        "earliest": f"{reading.earliest:%Y-%m-%d}",
        "latest": f"{reading.latest:%Y-%m-%d}",
    }


def standing_markings():
    return Marking.objects.filter(withdrawn_at__isnull=True).select_related("item")


class MarkingChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.item.exhibit_number} · {obj.get_marking_type_display()}: {obj.transcription[:60]}"


class ComponentForm(SameCaseForm):
    case_from = "item"
    markings = MarkingChoice(
        label=_("markings read off it"),
        queryset=Marking.objects.none(),
        required=False,
        help_text=_("standing markings of its exhibit (or of the exhibit it was taken from) not on another component"),
    )
    reason = forms.CharField(label=_("reason for the correction"), max_length=TEXT_MAX_LENGTH, required=False)

    class Meta:
        model = Component
        fields = ["item", *COMPONENT_FIELDS]

    def clean(self):
        data = super().clean()
        item = data.get("item") or (self.instance.item if self.instance.pk else None)
        if item is not None:
            for marking in data.get("markings") or ():
                if marking.item_id not in (item.pk, item.parent_id):
                    self.add_error("markings", _("Marking %(id)s is of another exhibit.") % {"id": marking.pk})
        return data


def _seen_elsewhere_html(component, viewer) -> str:
    others = selectors.seen_in_other_cases(component, viewer=viewer)
    if not others:
        return "—"
    rows = ((reverse("admin:evidence_component_change", args=[other.pk]), other.item.case.reference, other)
            for other in others)  # fmt: skip
    return format_html('<ul class="attest-seen-elsewhere">{}</ul>',
                       format_html_join("", '<li><a href="{}">{} — {}</a></li>', rows))  # fmt: skip


@admin.register(Component)
class ComponentAdmin(CaseScopedAdmin):
    form = ComponentForm
    write_role = Role.ANALYST
    list_display = ["__str__", "function", "manufacturer_display", "hq_country", "part_number", "lot_code",
                    "case_reference", "withdrawn"]  # fmt: skip
    list_filter = [ItemCaseFilter, "function", "manufacturer__country", "manufacturer"]
    list_select_related = ["item__case", "manufacturer"]
    search_fields = ["part_number", "lot_code", "designator", "manufacturer_as_marked", "item__exhibit_number"]
    readonly_fields = ["marking_list", "reading_list", "seen_elsewhere", "distributor", "recorded_by",
                       "withdrawn_at", "withdrawal_reason"]  # fmt: skip
    actions = ["withdraw_selected", "draft_trace_request"]

    def case_of(self, obj):
        return obj.item.case

    def has_add_permission(self, request):
        return self.has_module_permission(request) and holds_role(request, Role.ANALYST)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item__case", "manufacturer")

    def _editable(self, request, obj) -> bool:
        return obj is None or (not obj.withdrawn_at and self.has_change_permission(request, obj))

    def get_fieldsets(self, request, obj=None):
        main = ["item", *COMPONENT_FIELDS]
        if self._editable(request, obj):
            main += ["markings", "reason"] if obj is not None else ["markings"]
        fieldsets = [(None, {"fields": main})]
        if obj is not None:
            fieldsets.append((_("What rests on it"), {"fields": ["marking_list", "reading_list", "seen_elsewhere",
                                                                "distributor"]}))  # fmt: skip
            fieldsets.append((_("Record"), {"fields": ["recorded_by", "withdrawn_at", "withdrawal_reason"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = [*self.readonly_fields, "item"]
        return fields if self._editable(request, obj) else [*fields, *COMPONENT_FIELDS]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        cases = cases_with_role(request.user, Role.ANALYST)
        fields = form.base_fields
        if "item" in fields:
            fields["item"].queryset = EvidenceItem.objects.filter(case__in=cases)
        if "markings" in fields:
            if obj is not None:
                markings = (
                    standing_markings()
                    .filter(item_id__in=[obj.item_id, obj.item.parent_id])
                    .filter(component__isnull=True)
                )
                fields["markings"].label = _("attach more markings")
            else:
                markings = standing_markings().filter(item__case__in=cases, component__isnull=True)
                item = request.GET.get("item", "")
                if item.isdigit():  # opened from an exhibit or a marking: that exhibit's markings
                    parent = EvidenceItem.objects.filter(pk=item).values_list("parent_id", flat=True).first()
                    markings = markings.filter(item_id__in=[int(item), parent])
            fields["markings"].queryset = markings
        if "manufacturer" in fields:
            fields["manufacturer"].queryset = Manufacturer.objects.all()
        limit_to_case(form, request, {"item": "case_id", "markings": "item.case_id"})  # ?case= on the add page
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if "markings" in initial:
            initial["markings"] = [pk for pk in str(initial["markings"]).split(",") if pk.isdigit()]
        return initial

    @admin.display(description=_("manufacturer"), ordering="manufacturer__name")
    def manufacturer_display(self, obj):
        return obj.manufacturer or obj.manufacturer_as_marked or "—"

    @admin.display(description=_("headquarters country"), ordering="manufacturer__country")
    def hq_country(self, obj):
        return (obj.manufacturer.country if obj.manufacturer else "") or "—"

    @admin.display(description=_("case"), ordering="item__case__reference")
    def case_reference(self, obj):
        case = obj.item.case
        return format_html('<span class="attest-case" title="{}">{}</span>', case.title, case.reference)

    @admin.display(description=_("withdrawn"), boolean=True)
    def withdrawn(self, obj):
        return obj.withdrawn_at is not None

    @admin.display(description=_("markings"))
    def marking_list(self, obj):
        if not (obj and obj.pk):
            return "—"
        markings = obj.markings.select_related("item").order_by("pk")
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{} · {}: {}</a>{}',
            (
                (reverse("admin:evidence_marking_change", args=[m.pk]), m.item.exhibit_number,
                 m.get_marking_type_display(), m.transcription[:80],
                 format_html(" <em>({})</em>", gettext("withdrawn")) if m.withdrawn_at else "")
                for m in markings
            ),
        ) or "—"  # fmt: skip

    @admin.display(description=_("date-code readings"))
    def reading_list(self, obj):
        if not (obj and obj.pk):
            return "—"
        readings = obj.readings.select_related("verified_by").order_by("pk")
        rows = []
        for reading in readings:
            if reading.withdrawn_at:
                state = gettext("withdrawn")
            elif reading.verified_by_id:
                state = gettext("verified by %(user)s") % {"user": reading.verified_by.get_username()}
            else:
                state = gettext("not verified yet")
            url = reverse("admin:evidence_datecodereading_change", args=[reading.pk])
            rows.append((url, reading.raw_code, window_text(reading), reading.rule or gettext("several rules"), state))
        listed = format_html_join(mark_safe("<br>"), '<a href="{}"><code>{}</code></a>: {} ({}; {})', rows)
        listed = listed or gettext("No date code read yet.")
        if obj.withdrawn_at or not role_at_least(obj.viewer, obj.item.case, Role.ANALYST):
            return listed
        add = reverse("admin:evidence_datecodereading_add") + "?" + urlencode({"component": obj.pk})
        return format_html('{}<p><a class="button" href="{}">{}</a></p>', listed, add, gettext("Read a date code"))

    @admin.display(description=_("same part number or lot in other cases"))
    def seen_elsewhere(self, obj):
        if not (obj and obj.pk):
            return "—"
        return _seen_elsewhere_html(obj, obj.viewer)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in COMPONENT_FIELDS}
        data = {name: ("" if value is None and name != "manufacturer" else value) for name, value in data.items()}
        markings = list(form.cleaned_data.get("markings") or ())
        if change:
            changes = {name: data[name] for name in form.changed_data if name in data}
            saved = obj
            if changes:
                saved = component_services.correct_component(
                    actor=request.user, component=obj, reason=form.cleaned_data.get("reason") or "", **changes
                )
            if markings:
                saved = component_services.attach_markings(actor=request.user, component=saved, markings=markings)
        else:
            saved = component_services.record_component(
                actor=request.user, item=form.cleaned_data["item"], markings=markings, **data
            )
        take_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        """The markings were attached by the service; there is nothing else to save."""

    @admin.action(description=_("Withdraw the selected components"), permissions=["write"])
    def withdraw_selected(self, request, queryset):
        # The reason goes into the custody ledger: in English, whatever the language of the admin.
        reason = f"withdrawn in the admin by {request.user.get_username()}"
        apply_to_each(
            self, request, queryset,
            lambda component: component_services.withdraw_component(actor=request.user, component=component,
                                                                    reason=reason),
            done=gettext("%(count)s component(s) withdrawn."),
        )  # fmt: skip

    @admin.action(description=_("Draft a trace request about the selected components"), permissions=["write"])
    def draft_trace_request(self, request, queryset):
        """The trace request's add form, with the case and these components chosen; nothing is saved here."""
        cases = set(queryset.values_list("item__case_id", flat=True))
        if len(cases) != 1:
            self.message_user(request, gettext("Choose components of one case."), messages.ERROR)
            return None
        ids = ",".join(str(pk) for pk in queryset.filter(withdrawn_at__isnull=True).values_list("pk", flat=True))
        query = urlencode({"case": cases.pop(), "components": ids})
        return redirect(reverse("admin:evidence_tracerequest_add") + "?" + query)


class ReadingForm(SameCaseForm):
    case_from = "component"
    case_links = {"marking": "item.case_id"}
    rule = forms.CharField(
        label=_("rule"), max_length=80, required=False,
        help_text=_("NAME or NAME/VERSION; leave blank to keep every reading the rules allow"),
    )  # fmt: skip

    class Meta:
        model = DateCodeReading
        fields = ["component", "marking", "raw_code", "rule"]

    def _chosen_case_id(self, data):
        chosen = data.get("component") or getattr(self.instance, "component", None)
        return chosen.item.case_id if chosen is not None else None


@admin.register(DateCodeReading)
class DateCodeReadingAdmin(CaseScopedAdmin):
    form = ReadingForm
    write_role = Role.ANALYST
    list_display = ["raw_code", "component", "window", "rule_display", "recorded_by", "verified", "withdrawn"]
    list_filter = [
        type("ReadingCaseFilter", (ItemCaseFilter,), {"case_field": "component__item__case_id"}),
        ("verified_by", admin.EmptyFieldListFilter),
        ("withdrawn_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["component__item__case", "recorded_by", "verified_by"]
    search_fields = ["raw_code", "component__part_number", "component__item__exhibit_number"]
    readonly_fields = ["window_list", "recorded_by", "verified_by", "verified_at", "withdrawn_at",
                       "withdrawal_reason"]  # fmt: skip
    actions = ["verify_selected", "withdraw_selected"]

    def case_of(self, obj):
        return obj.component.item.case

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("component__item__case")

    def has_add_permission(self, request):
        return self.has_module_permission(request) and holds_role(request, Role.ANALYST)

    def has_change_permission(self, request, obj=None):
        # Readings are verified or withdrawn (the actions), never edited; the list offers those actions.
        return obj is None and super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["component", "marking", "raw_code", "rule"]
        return ["component", "marking", "raw_code", "rule", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [*self.readonly_fields, "component", "marking", "raw_code", "rule"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        cases = cases_with_role(request.user, Role.ANALYST)
        fields = form.base_fields
        if "component" in fields:
            fields["component"].queryset = (
                Component.objects.current().filter(item__case__in=cases).select_related("item")
            )
            chosen = request.GET.get("component", "")
            if chosen.isdigit():
                fields["component"].initial = int(chosen)
        if "marking" in fields:
            markings = standing_markings().filter(item__case__in=cases)
            chosen = request.GET.get("component", "")
            if chosen.isdigit():
                component = Component.objects.filter(pk=chosen).select_related("item").first()
                if component is not None:
                    markings = markings.filter(
                        Q(component=component) | Q(item_id__in=[component.item_id, component.item.parent_id])
                    )
            fields["marking"].queryset = markings
        limit_to_case(form, request, {"component": "item.case_id", "marking": "item.case_id"})
        return form

    @admin.display(description=_("production window"))
    def window(self, obj):
        return window_text(obj)

    @admin.display(description=_("rule"))
    def rule_display(self, obj):
        return obj.rule or gettext("several rules")

    @admin.display(description=_("every window the rules allow"))
    def window_list(self, obj):
        if not (obj and obj.pk):
            return "—"
        rows = (
            (gettext("%(earliest)s to %(latest)s") % {"earliest": w.get("earliest"), "latest": w.get("latest")},
             w.get("rule"), w.get("version"))
            for w in obj.windows or []
        )  # fmt: skip
        return format_html_join(mark_safe("<br>"), "{} ({} {})", rows) or "—"

    @admin.display(description=_("verified"), boolean=True)
    def verified(self, obj):
        return obj.verified_by_id is not None

    @admin.display(description=_("withdrawn"), boolean=True)
    def withdrawn(self, obj):
        return obj.withdrawn_at is not None

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = component_services.record_reading(
            actor=request.user,
            component=data["component"],
            raw_code=data.get("raw_code") or "",
            marking=data.get("marking"),
            rule=data.get("rule") or "",
        )
        take_saved(obj, saved)

    @admin.action(description=_("Verify the selected readings (four eyes)"), permissions=["write"])
    def verify_selected(self, request, queryset):
        apply_to_each(
            self, request, queryset,
            lambda reading: component_services.verify_reading(actor=request.user, reading=reading),
            done=gettext("%(count)s reading(s) verified."),
        )  # fmt: skip

    @admin.action(description=_("Withdraw the selected readings"), permissions=["write"])
    def withdraw_selected(self, request, queryset):
        reason = f"withdrawn in the admin by {request.user.get_username()}"
        apply_to_each(
            self, request, queryset,
            lambda reading: component_services.withdraw_reading(actor=request.user, reading=reading, reason=reason),
            done=gettext("%(count)s reading(s) withdrawn."),
        )  # fmt: skip


class ItemComponentInline(ExhibitRecordsInline):
    """The exhibit's components, each linking to its page; recorded and corrected there."""

    model = Component
    fields = ["designator", "function", "manufacturer_as_marked", "manufacturer", "part_number", "lot_code",
              "withdrawn_at"]  # fmt: skip
    readonly_fields = fields
    verbose_name_plural = _("components")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item", "manufacturer")


@admin.display(description=_("component"))
def marking_component(self, obj):
    """On a marking's page: its component, or a button recording one from it (the add form pre-filled)."""
    if not (obj and obj.pk):
        return "—"
    if obj.component_id:
        component = obj.component
        return format_html('<a href="{}">{}</a>', reverse("admin:evidence_component_change", args=[component.pk]),
                           component)  # fmt: skip
    viewer = getattr(obj, "viewer", None)
    if obj.withdrawn_at or viewer is None or not role_at_least(viewer, obj.item.case, Role.ANALYST):
        return "—"
    query = {"item": obj.item_id, "markings": obj.pk}
    if obj.part_number:
        query["part_number"] = obj.part_number
    if obj.manufacturer_id:
        query["manufacturer"] = obj.manufacturer_id
    if obj.marking_type == MarkingType.MANUFACTURER:
        query["manufacturer_as_marked"] = obj.transcription[:200]
    url = reverse("admin:evidence_component_add") + "?" + urlencode(query)
    return format_html('<a class="button attest-record-component" href="{}">{}</a>', url,
                       gettext("Record a component from this marking"))  # fmt: skip


# The exhibit and marking pages belong to items.py and markings.py; what concerns components is attached
# here, beside their own admin (as markings.py attaches the exhibit's markings).
EvidenceItemAdmin.inlines = [*EvidenceItemAdmin.inlines, ItemComponentInline]
MarkingAdmin.marking_component = marking_component
MarkingAdmin.readonly_fields = [*MarkingAdmin.readonly_fields, "marking_component"]
