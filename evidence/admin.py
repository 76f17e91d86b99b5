"""Admin of the evidence app: exhibits with their custody timeline, the read-only ledger, transfers."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cases.admin import CaseScopedAdmin, VisibleCaseFilter, cases_with_role, role_at_least
from cases.choices import Role
from cases.models import Incident
from evidence import filestore, services
from evidence.choices import ItemStatus, PhotoStatus, SubjectType
from evidence.models import Checkpoint, CustodyEvent, EvidenceItem, Photo


def custody_timeline(events) -> str:
    rows = [
        (
            event.sequence,
            timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M"),
            event.get_event_type_display(),
            event.actor_name or _("system"),
            summarise(event),
            event.hash[:12],
        )
        for event in events
    ]
    if not rows:
        return "—"
    return format_html(
        '<table class="attest-timeline"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
        "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
        _("occurred"),
        _("event"),
        _("by"),
        _("details"),
        _("hash"),
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}…</code></td></tr>",
            rows,
        ),
    )


def summarise(event: CustodyEvent) -> str:
    payload = event.payload_data
    if "transfer" in payload:
        transfer = payload["transfer"]
        seal = _("seal intact") if transfer.get("seal_intact") else _("SEAL BROKEN")
        route = f"{transfer.get('from') or '?'} → {transfer.get('to')}"
        return f"{route} ({seal}) {transfer.get('purpose', '')}".strip()
    if "examination" in payload:
        return f"{payload['examination'].get('examiner')}: {payload['examination'].get('findings')}"
    if "changed" in payload:
        return ", ".join(payload["changed"])
    if "reason" in payload:
        return str(payload["reason"])
    return ""


class ItemCaseFilter(VisibleCaseFilter):
    case_field = "item__case_id"


def thumbnail_tag(photo: Photo, size: int = 80) -> str:
    if photo.status != PhotoStatus.DONE:
        return format_html('<span class="attest-status">{}</span>', photo.get_status_display())
    return format_html(
        '<img src="{}" alt="{}" style="max-width:{}px;max-height:{}px">',
        reverse("photo-thumbnail", args=[photo.pk]),
        photo.original_name,
        size,
        size,
    )


class EvidenceItemForm(forms.ModelForm):
    class Meta:
        model = EvidenceItem
        fields = [
            "case", "kind", "title", "description", "incident", "parent", "recovered_at", "recovered_by",
            "recovery_place", "recovery_latitude", "recovery_longitude", "custodian", "storage_location",
            "seal_number", "condition",
        ]  # fmt: skip


@admin.register(EvidenceItem)
class EvidenceItemAdmin(CaseScopedAdmin):
    form = EvidenceItemForm
    write_role = Role.INVESTIGATOR
    list_display = ["exhibit_number", "title", "case", "kind", "status", "custodian", "recovered_at"]
    list_filter = [VisibleCaseFilter, "kind", "status"]
    list_select_related = ["case"]
    search_fields = ["exhibit_number", "title", "description", "seal_number", "case__reference"]
    readonly_fields = ["exhibit_number", "status", "photo_gallery", "custody_history", "created_at", "updated_at"]
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
            services.update_item(actor=request.user, item=obj, **data)
        else:
            case = form.cleaned_data["case"]
            data.pop("case", None)
            saved = services.create_item(actor=request.user, case=case, **data)
            obj.pk, obj.exhibit_number = saved.pk, saved.exhibit_number
            obj._state.adding = False

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
        """Several photos at once from the item page; each is vetted, stored and queued on its own."""
        item = self.get_object(request, object_id)
        if request.method != "POST" or not role_at_least(request.user, item.case, Role.INVESTIGATOR):
            raise PermissionDenied
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
        return redirect(reverse("admin:evidence_evidenceitem_change", args=[item.pk]))

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
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def clean(self):
        data = super().clean()
        # Empty optional fields mean "unchanged", not "cleared".
        for name in ("seal_number", "storage_location"):
            if not data.get(name):
                data[name] = None
        return data


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
        "case",
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
    list_display = ["case", "size", "head_hash", "signed_at", "key_id", "reason"]
    list_filter = [VisibleCaseFilter, "reason"]
    list_select_related = ["case"]
    fields = ["case", "size", "head_hash", "signed_at", "key_id", "signature", "reason"]
    readonly_fields = fields


@admin.register(Photo)
class PhotoAdmin(CaseScopedAdmin):
    """Photos are write-once evidence: shown with their preview, EXIF and near-duplicates, never edited."""

    list_display = ["thumbnail", "original_name", "exhibit", "status", "camera", "captured_at", "short_sha256"]
    list_filter = [ItemCaseFilter, "status", "format", "camera_make"]
    list_select_related = ["item__case", "original"]
    search_fields = ["original_name", "original__sha256", "item__exhibit_number", "photographer", "camera_model"]
    fieldsets = [
        (None, {"fields": ["preview", "item", "original_name", "sha256", "download", "status", "error"]}),
        (
            _("Capture"),
            {"fields": ["photographer", "captured_at", "captured_at_source", "camera", "lens", "location", "notes"]},
        ),
        (_("EXIF"), {"fields": ["exif_table"], "classes": ["collapse"]}),
        (_("Near-duplicates"), {"fields": ["near_duplicate_links", "phash", "dhash"]}),
        (_("Record"), {"fields": ["uploaded_by", "uploaded_at", "processed_at", "attempts"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "preview", "item", "original_name", "sha256", "download", "status", "error", "photographer", "captured_at",
        "captured_at_source", "camera", "lens", "location", "notes", "exif_table", "near_duplicate_links", "phash",
        "dhash", "uploaded_by", "uploaded_at", "processed_at", "attempts",
    ]  # fmt: skip

    def case_of(self, obj):
        return obj.item.case

    def has_add_permission(self, request):
        return False  # photos arrive through the item page, the API or ingest_photos

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("thumbnail"))
    def thumbnail(self, obj):
        return thumbnail_tag(obj, 60)

    @admin.display(description=_("exhibit"), ordering="item__exhibit_number")
    def exhibit(self, obj):
        return obj.item.exhibit_number

    @admin.display(description=_("camera"))
    def camera(self, obj):
        return " ".join(part for part in (obj.camera_make, obj.camera_model) if part) or "—"

    @admin.display(description=_("SHA-256"))
    def sha256(self, obj):
        return format_html("<code>{}</code>", obj.original.sha256)

    @admin.display(description=_("SHA-256"))
    def short_sha256(self, obj):
        return format_html("<code>{}…</code>", obj.original.sha256[:12])

    @admin.display(description=_("original"))
    def download(self, obj):
        return format_html(
            '<a href="{}">{}</a> ({} bytes)', reverse("photo-original", args=[obj.pk]), _("download"), obj.original.size
        )

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if obj.status != PhotoStatus.DONE:
            return obj.get_status_display()
        return format_html(
            '<img src="{}" alt="{}" style="max-width:100%;max-height:800px">',
            reverse("photo-preview", args=[obj.pk]),
            obj.original_name,
        )

    @admin.display(description=_("location"))
    def location(self, obj):
        if obj.gps_latitude is None:
            return _("none recorded")
        altitude = f", {obj.gps_altitude} m" if obj.gps_altitude is not None else ""
        return f"{obj.gps_latitude}, {obj.gps_longitude}{altitude}"

    @admin.display(description=_("EXIF tags"))
    def exif_table(self, obj):
        rows = [(f"{ifd} {name}", value) for ifd, tags in (obj.exif or {}).items() for name, value in tags.items()]
        if not rows:
            return "—"
        return format_html(
            '<table class="attest-exif">{}</table>', format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        )

    @admin.display(description=_("near-duplicates"))
    def near_duplicate_links(self, obj):
        pairs = services.near_duplicates(photo=obj, viewer=self._request.user)
        if not pairs:
            return _("none within the threshold")
        return format_html_join(
            ", ",
            '<a href="{}">{} {}</a> ({} bits)',
            (
                (
                    reverse("admin:evidence_photo_change", args=[other.pk]),
                    other.item.case.reference,
                    other.item.exhibit_number,
                    distance,
                )
                for other, distance in pairs
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        self._request = request  # near_duplicate_links needs the viewer
        return super().get_readonly_fields(request, obj)
