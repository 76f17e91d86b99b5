"""Manufacturers and markings, with the four-eyes verification action."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    CaseScopedAdmin,
    ReferenceDataAdmin,
    SameCaseForm,
    cases_with_role,
    limit_to_case,
)
from cases.choices import Role
from cases.models import TEXT_MAX_LENGTH
from evidence import selectors, services
from evidence.admin.common import ExhibitRecordsInline, ItemCaseFilter
from evidence.admin.items import EvidenceItemAdmin
from evidence.admin.photos import viewer_html
from evidence.admin.reports import sanctions_report_view
from evidence.models import EvidenceItem, Manufacturer, Marking, Photo
from evidence.selectors import region_on_preview


@admin.register(Manufacturer)
class ManufacturerAdmin(ReferenceDataAdmin):
    list_display = ["name", "country", "entity"]
    list_filter = ["country"]
    search_fields = ["name", "aliases", "country"]
    autocomplete_fields = ["entity"]


class MarkingForm(SameCaseForm):
    # The case is the item's; a photo of another case is refused on its field.
    case_from = "item"
    case_links = {"photo": "item.case_id"}
    reason = forms.CharField(label=_("reason for the correction"), max_length=TEXT_MAX_LENGTH, required=False)

    class Meta:
        model = Marking
        fields = [
            "item", "photo", "region_x", "region_y", "region_width", "region_height", "transcription",
            "marking_type", "manufacturer", "part_number", "interpreted_date", "interpreted_date_precision",
            "confidence",
        ]  # fmt: skip


MARKING_FORM_FIELDS = [name for name in MarkingForm.Meta.fields if not name.startswith("region_") and name != "item"]


def region_of(data: dict):
    values = [data.get(name) for name in ("region_x", "region_y", "region_width", "region_height")]
    return None if all(value is None for value in values) else tuple(values)


@admin.register(Marking)
class MarkingAdmin(CaseScopedAdmin):
    form = MarkingForm
    write_role = Role.ANALYST
    list_display = ["__str__", "marking_type", "manufacturer", "part_number", "confidence", "verified", "withdrawn"]
    list_filter = [ItemCaseFilter, "marking_type", "manufacturer", "manufacturer__country", "confidence"]
    list_select_related = ["item__case", "manufacturer", "verified_by"]
    search_fields = ["transcription", "part_number", "item__exhibit_number", "manufacturer__name"]
    readonly_fields = ["outlined", "date_reading_list", "transcribed_by", "verified_by", "verified_at",
                       "withdrawn_at", "withdrawal_reason", "attribution_list"]  # fmt: skip
    actions = ["verify_selected"]
    change_form_template = "admin/evidence/marking/change_form.html"

    def case_of(self, obj):
        return obj.item.case

    def has_add_permission(self, request):
        return self.has_module_permission(request) and cases_with_role(request.user, Role.ANALYST).exists()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "item" in form.base_fields:
            form.base_fields["item"].queryset = EvidenceItem.objects.filter(
                case__in=cases_with_role(request.user, Role.ANALYST)
            )
        if "photo" in form.base_fields:
            photos = Photo.objects.visible_to(request.user)
            if obj is not None:  # the photos a marking of this item may be read on (the service's rule)
                photos = photos.filter(item_id__in=[obj.item_id, obj.item.parent_id])
            form.base_fields["photo"].queryset = photos
        limit_to_case(form, request, {"item": "case_id", "photo": "item.case_id"})  # ?case= on the add page
        return form

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "item"] if obj is not None else fields

    @admin.display(description=_("verified"), boolean=True)
    def verified(self, obj):
        return obj.verified_by_id is not None

    @admin.display(description=_("withdrawn"), boolean=True)
    def withdrawn(self, obj):
        return obj.withdrawn_at is not None

    @admin.display(description=_("region"))
    def outlined(self, obj):
        if not (obj and obj.pk and obj.photo_id):
            return "—"
        photo = obj.photo
        link = format_html(
            '<p><a href="{}">{}</a></p>',
            reverse("admin:evidence_photo_change", args=[photo.pk]),
            _("On photo %(photo)s") % {"photo": photo},
        )
        if region_on_preview(obj) is None:
            return link
        # The whole photo, fitted to the page, with this marking's outline (and the others', linked) over it.
        return link + viewer_html(photo, current=obj)

    @admin.display(description=_("readings of the date code"))
    def date_reading_list(self, obj):
        readings = selectors.date_readings(obj) if obj and obj.pk else []
        return format_html_join(", ", "{}", ((reading.explanation,) for reading in readings)) or "—"

    @admin.display(description=_("attributions"))
    def attribution_list(self, obj):
        """The grades, claims and sources about the marking, each claim and source linking to its page."""
        found = selectors.attributions_of(obj, viewer=obj.viewer) if obj and obj.pk else None
        if not found or not found.attributions:
            return "—"
        rows = format_html_join(
            "",
            '<tr><td><strong>{}</strong></td><td>{}</td><td><a href="{}">{}</a></td><td><a href="{}">{}</a></td></tr>',
            (
                (a.grade, a.get_stance_display(), reverse("admin:evidence_attribution_change", args=[a.pk]), a.claim,
                 reverse("admin:evidence_source_change", args=[a.source_id]), a.source.title)
                for a in found.attributions
            ),
        )  # fmt: skip
        warning = (
            format_html('<p class="errornote"><strong>{}</strong></p>', _("Sources contradict each other."))
            if found.contradicted
            else ""
        )
        return format_html('{}<table class="attest-attributions">{}</table>', warning, rows)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in MARKING_FORM_FIELDS}
        data["region"] = region_of(form.cleaned_data)
        if change:
            changes = {name: data[name] for name in data if name in form.changed_data or name == "region"}
            saved = services.correct_marking(
                actor=request.user, marking=obj, reason=form.cleaned_data.get("reason") or "", **changes
            )
        else:
            saved = services.record_marking(actor=request.user, item=form.cleaned_data["item"], **data)
        obj.pk = saved.pk
        obj._state.adding = False

    def get_urls(self):
        report = path(
            "sanctions-report/<int:case_id>/",
            self.admin_site.admin_view(sanctions_report_view),
            name="evidence_sanctions_report",
        )
        return [report, *super().get_urls()]

    @admin.action(description=_("Verify the selected markings (four eyes)"), permissions=["write"])
    def verify_selected(self, request, queryset):
        verified = 0
        for marking in queryset:
            try:
                services.verify_marking(actor=request.user, marking=marking)
                verified += 1
            except (PermissionDenied, ValidationError) as error:
                self.message_user(
                    request, f"{marking}: {' '.join(getattr(error, 'messages', [str(error)]))}", messages.ERROR
                )
        if verified:
            self.message_user(request, _("%(n)s marking(s) verified.") % {"n": verified}, messages.SUCCESS)


class ItemMarkingInline(ExhibitRecordsInline):
    """The exhibit's markings, each linking to its page (and its photo); recorded and changed there."""

    model = Marking
    fields = ["transcription", "marking_type", "confidence", "photo", "verified_by", "withdrawn_at"]
    readonly_fields = fields
    verbose_name_plural = _("markings")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item", "photo__item", "verified_by")


# The exhibit page belongs to items.py; its markings are attached here, beside their own admin.
EvidenceItemAdmin.inlines = [*EvidenceItemAdmin.inlines, ItemMarkingInline]
