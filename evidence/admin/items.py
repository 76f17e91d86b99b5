"""Exhibits: list per case, page with photos and custody timeline, transfer form, photo upload."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    CaseScopedAdmin,
    SameCaseForm,
    VisibleCaseFilter,
    case_column,
    cases_with_role,
    limit_to_case,
    role_at_least,
)
from cases.choices import Role
from cases.models import TEXT_MAX_LENGTH, Incident
from evidence import filestore, selectors, services
from evidence.admin.common import custody_timeline, thumbnail_tag
from evidence.admin.refused import keep_refused_upload
from evidence.choices import ItemStatus, SubjectType
from evidence.models import CustodyEvent, EvidenceItem

# What selectors.seen_elsewhere() matched on: codes (the API returns them so), named here.
MATCHED_ON = {"part number": _("part number"), "lot": _("lot")}


class EvidenceItemForm(SameCaseForm):
    case_links = {"incident": "case_id", "parent": "case_id"}

    class Meta:
        model = EvidenceItem
        fields = [
            "case", "kind", "title", "description", "incident", "parent", "recovered_at", "recovered_by",
            "recovery_place", "recovery_latitude", "recovery_longitude", "custodian", "storage_location",
            "seal_number", "condition", "manufacturer", "part_number", "country_of_origin", "manufactured_on",
            "manufactured_precision",
        ]  # fmt: skip


@admin.register(EvidenceItem)
class EvidenceItemAdmin(CaseScopedAdmin):
    form = EvidenceItemForm
    write_role = Role.INVESTIGATOR
    list_display = ["exhibit_number", "title", case_column(), "kind", "status", "custodian", "recovered_at"]
    list_filter = [VisibleCaseFilter, "kind", "status"]
    list_select_related = ["case"]
    search_fields = ["exhibit_number", "title", "description", "seal_number", "case__reference"]
    readonly_fields = [
        "exhibit_number", "status", "photo_gallery", "seen_in_other_cases", "custody_history", "created_at",
        "updated_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["case", "exhibit_number", "kind", "title", "description", "incident", "parent"]}),
        (
            _("Recovery"),
            {
                "fields": [
                    "recovered_at",
                    "recovered_by",
                    "recovery_place",
                    "recovery_latitude",
                    "recovery_longitude",
                ]
            },
        ),
        (_("Custody"), {"fields": ["status", "custodian", "storage_location", "seal_number", "condition"]}),
        (
            _("Component"),
            {
                "fields": [
                    "manufacturer",
                    "part_number",
                    "country_of_origin",
                    "manufactured_on",
                    "manufactured_precision",
                    "seen_in_other_cases",
                ],
                "classes": ["collapse"],
            },
        ),
        (_("Photos"), {"fields": ["photo_gallery"]}),
        (_("Chain of custody"), {"fields": ["custody_history"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    change_form_template = "admin/evidence/evidenceitem/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # After creation the case is fixed and custody changes only by a recorded transfer.
        return [*fields, "case", "custodian"] if obj is not None else fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        cases = cases_with_role(request.user, Role.INVESTIGATOR)
        if "case" in form.base_fields:
            form.base_fields["case"].queryset = cases
        case_ids = [obj.case_id] if obj is not None else cases.values("pk")
        if "incident" in form.base_fields:
            form.base_fields["incident"].queryset = Incident.objects.filter(case_id__in=case_ids)
        if "parent" in form.base_fields:
            form.base_fields["parent"].queryset = EvidenceItem.objects.filter(case_id__in=case_ids)
        limit_to_case(form, request, EvidenceItemForm.case_links)  # ?case= on the add page
        return form

    def has_add_permission(self, request):
        return self.has_module_permission(request) and cases_with_role(request.user, Role.INVESTIGATOR).exists()

    @admin.display(description=_("custody timeline"))
    def custody_history(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        events = CustodyEvent.objects.filter(
            case_id=obj.case_id, subject_type=SubjectType.EVIDENCE_ITEM, subject_id=obj.pk
        ).order_by("sequence")
        return custody_timeline(events)

    @admin.display(description=_("same part number or lot in other cases"))
    def seen_in_other_cases(self, obj):
        rows = selectors.seen_elsewhere(obj, viewer=obj.viewer) if obj and obj.pk else []
        if not rows:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{} {}</a> ({}: {})',
            (
                (reverse("admin:evidence_evidenceitem_change", args=[row["item"]]), row["case"], row["exhibit"],
                 MATCHED_ON.get(row["match"], row["match"]), ", ".join(row["values"]))
                for row in rows
            ),
        )  # fmt: skip

    @admin.display(description=_("photos"))
    def photo_gallery(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        photos = obj.photos.select_related("original").order_by("uploaded_at", "pk")
        if not photos:
            return _("No photos yet.")
        return format_html_join(
            " ",
            '<a href="{}" title="{}">{}</a>',
            (
                (reverse("admin:evidence_photo_change", args=[photo.pk]), photo.original_name, thumbnail_tag(photo))
                for photo in photos
            ),
        )

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            item = services.update_item(actor=request.user, item=obj, **data)
        else:
            case = form.cleaned_data["case"]
            data.pop("case", None)
            item = services.create_item(actor=request.user, case=case, **data)
            obj.pk, obj.exhibit_number = item.pk, item.exhibit_number
            obj._state.adding = False
        # Photos chosen on the page go with Save, on the add page too: Save once said "changed
        # successfully" and dropped them.
        self.add_photos(request, item)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add, change, form_url, obj)
        response.context_data["has_file_field"] = True  # the photo chooser is part of this form
        if request.method == "POST" and request.FILES.getlist("photos"):
            # The page is shown again with errors; a browser does not keep the files chosen.
            self.message_user(
                request, _("The photos chosen were not uploaded: correct the form, then choose them again."),
                messages.WARNING,
            )  # fmt: skip
        return response

    def get_urls(self):
        transfer = path(
            "<path:object_id>/transfer/",
            self.admin_site.admin_view(self.transfer_view),
            name="evidence_evidenceitem_transfer",
        )
        upload = path(
            "<path:object_id>/photos/",
            self.admin_site.admin_view(self.upload_view),
            name="evidence_evidenceitem_upload",
        )
        return [transfer, upload, *super().get_urls()]

    def upload_view(self, request, object_id):
        """Photos posted on their own, without the item's form."""
        item = self.get_object(request, object_id)
        if request.method != "POST" or not role_at_least(request.user, item.case, Role.INVESTIGATOR):
            raise PermissionDenied
        self.add_photos(request, item)
        return redirect(reverse("admin:evidence_evidenceitem_change", args=[item.pk]))

    def add_photos(self, request, item) -> None:
        """Several photos at once from the item page; each is vetted, stored and queued on its own, and
        each refusal is named in a message."""
        files = request.FILES.getlist("photos")
        if not files and getattr(request, "upload_too_large", None):
            self.message_user(request, _("The file is larger than the upload limit."), messages.ERROR)
        accepted = duplicates = 0
        for uploaded in files:
            try:
                result = services.add_photo(
                    actor=request.user,
                    item=item,
                    upload=filestore.from_upload(uploaded),
                    original_name=uploaded.name,
                    photographer=request.POST.get("photographer", ""),
                )
            except ValidationError as error:
                reason = " ".join(" ".join(m) for m in error.message_dict.values())
                self.message_user(request, f"{uploaded.name}: {reason}", messages.ERROR)
                keep_refused_upload(self, request, item, uploaded, error)  # a damaged original is not lost
            else:
                duplicates += result.duplicate
                accepted += not result.duplicate
        if accepted or duplicates:
            self.message_user(
                request,
                _("%(accepted)s photo(s) accepted and queued for processing, %(dup)s duplicate(s).")
                % {"accepted": accepted, "dup": duplicates},
                messages.SUCCESS,
            )

    def transfer_view(self, request, object_id):
        """Record a custody transfer of one exhibit: the form of the ledger's custody.transfer event."""
        item = self.get_object(request, object_id)
        if not role_at_least(request.user, item.case, Role.INVESTIGATOR):
            raise PermissionDenied
        form = CustodyTransferForm(request.POST or None, initial={"occurred_at": timezone.now()})
        if request.method == "POST" and form.is_valid():
            try:
                services.transfer_custody(actor=request.user, item=item, **form.cleaned_data)
            except ValidationError as error:
                for field, messages_ in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages_)
            else:
                self.message_user(request, _("Custody transfer recorded in the ledger."), messages.SUCCESS)
                return redirect(reverse("admin:evidence_evidenceitem_change", args=[item.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a custody transfer of %(item)s") % {"item": item},
            "form": form,
            "item": item,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/evidence/evidenceitem/transfer.html", context)


class CustodyTransferForm(forms.Form):
    to_custodian = forms.CharField(label=_("to"), max_length=200)
    occurred_at = forms.DateTimeField(label=_("when"))
    place = forms.CharField(label=_("where"), max_length=300, required=False)
    purpose = forms.CharField(label=_("purpose"), max_length=300, required=False)
    seal_intact = forms.BooleanField(label=_("seal intact"), required=False, initial=True)
    seal_number = forms.CharField(label=_("new seal number"), max_length=100, required=False)
    storage_location = forms.CharField(label=_("new storage location"), max_length=300, required=False)
    status = forms.ChoiceField(label=_("status after"), choices=ItemStatus.choices, initial=ItemStatus.TRANSFERRED)
    notes = forms.CharField(
        label=_("notes"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def clean(self):
        data = super().clean()
        # Empty optional fields mean "unchanged", not "cleared".
        for name in ("seal_number", "storage_location"):
            if not data.get(name):
                data[name] = None
        return data
