"""Admin of the evidence app: exhibits with their custody timeline, the read-only ledger, transfers."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    CaseScopedAdmin,
    IncidentAdmin,
    StaffEditsReferenceData,
    VisibleCaseFilter,
    cases_with_role,
    role_at_least,
)
from cases.choices import Role
from cases.models import Incident
from evidence import filestore, services
from evidence.choices import Confidence, ItemStatus, MarkingType, PhotoStatus, SubjectType
from evidence.models import Attribution, Checkpoint, CustodyEvent, EvidenceItem, Manufacturer, Marking, Photo, Source
from evidence.services.markings import region_from_preview, region_on_preview


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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        photo = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if photo.status == PhotoStatus.DONE and role_at_least(request.user, photo.item.case, Role.ANALYST):
            extra_context["region_form"] = RegionMarkingForm(photo=photo, form_id="region-form")
            extra_context["outlined"] = outlined_markings(photo)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        mark = path("<path:object_id>/mark/", self.admin_site.admin_view(self.mark_view), name="evidence_photo_mark")
        return [mark, *super().get_urls()]

    def mark_view(self, request, object_id):
        """The region editor's form: a marking drawn on the upright preview, stored in original pixels."""
        photo = self.get_object(request, object_id)
        if request.method != "POST" or not role_at_least(request.user, photo.item.case, Role.ANALYST):
            raise PermissionDenied
        form = RegionMarkingForm(request.POST, photo=photo)
        if form.is_valid():
            data = form.cleaned_data
            try:
                rect = (data["x"], data["y"], data["width"], data["height"])
                marking = services.record_marking(
                    actor=request.user,
                    item=data["item"],
                    photo=photo,
                    region=region_from_preview(photo=photo, rect=rect),
                    transcription=data["transcription"],
                    marking_type=data["marking_type"],
                    confidence=data["confidence"],
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, _("Marking recorded."), messages.SUCCESS)
                return redirect(reverse("admin:evidence_marking_change", args=[marking.pk]))
        else:
            self.message_user(request, form.errors.as_text(), messages.ERROR)
        return redirect(reverse("admin:evidence_photo_change", args=[photo.pk]))


class RegionMarkingForm(forms.Form):
    """What the region editor posts: the rectangle in preview pixels and the marking's reading."""

    item = forms.ModelChoiceField(label=_("on item"), queryset=EvidenceItem.objects.none())
    transcription = forms.CharField(label=_("transcription, exactly as seen"), widget=forms.Textarea(attrs={"rows": 2}))
    marking_type = forms.ChoiceField(label=_("marking type"), choices=MarkingType.choices)
    confidence = forms.ChoiceField(label=_("confidence"), choices=Confidence.choices, initial=Confidence.PROBABLE)
    x = forms.IntegerField(min_value=0, widget=forms.HiddenInput(attrs={"id": "region-x"}))
    y = forms.IntegerField(min_value=0, widget=forms.HiddenInput(attrs={"id": "region-y"}))
    width = forms.IntegerField(min_value=1, widget=forms.HiddenInput(attrs={"id": "region-width"}))
    height = forms.IntegerField(min_value=1, widget=forms.HiddenInput(attrs={"id": "region-height"}))

    def __init__(self, *args, photo: Photo, form_id: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The photo's own item, or the components taken out of it.
        self.fields["item"].queryset = EvidenceItem.objects.filter(Q(pk=photo.item_id) | Q(parent_id=photo.item_id))
        self.fields["item"].initial = photo.item_id
        if form_id:
            for field in self.fields.values():
                field.widget.attrs["form"] = form_id


def outlined_markings(photo: Photo) -> list[dict]:
    """Existing markings on the photo, as percentages of the preview, to outline them."""
    boxes = []
    for marking in photo.markings.filter(withdrawn_at__isnull=True).select_related("item", "photo"):
        box = region_on_preview(marking)
        if box:
            x, y, width, height = box
            boxes.append(
                {
                    "label": str(marking),
                    "left": round(100 * x / photo.preview_width, 3),
                    "top": round(100 * y / photo.preview_height, 3),
                    "width": round(100 * width / photo.preview_width, 3),
                    "height": round(100 * height / photo.preview_height, 3),
                }
            )
    return boxes


@admin.register(Manufacturer)
class ManufacturerAdmin(StaffEditsReferenceData):
    list_display = ["name", "country", "entity"]
    list_filter = ["country"]
    search_fields = ["name", "aliases", "country"]
    autocomplete_fields = ["entity"]


class MarkingForm(forms.ModelForm):
    reason = forms.CharField(label=_("reason for the correction"), required=False)

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
            form.base_fields["photo"].queryset = Photo.objects.visible_to(request.user)
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
        box = region_on_preview(obj) if obj and obj.pk else None
        if box is None:
            return "—"
        x, y, width, height = box
        photo = obj.photo
        return format_html(
            '<div class="attest-outlined" style="position:relative;display:inline-block">'
            '<img src="{}" width="{}" height="{}" alt="">'
            '<span style="position:absolute;left:{}px;top:{}px;width:{}px;height:{}px;'
            'outline:3px solid #e00;box-sizing:border-box"></span></div>',
            reverse("photo-preview", args=[photo.pk]), photo.preview_width, photo.preview_height, x, y, width, height,
        )  # fmt: skip

    @admin.display(description=_("readings of the date code"))
    def date_reading_list(self, obj):
        readings = services.date_readings(obj) if obj and obj.pk else []
        return format_html_join(", ", "{}", ((reading.explanation,) for reading in readings)) or "—"

    @admin.display(description=_("attributions"))
    def attribution_list(self, obj):
        return attributions_html(obj, self._viewer) if obj and obj.pk else "—"

    def get_fields(self, request, obj=None):
        self._viewer = request.user
        return super().get_fields(request, obj)

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

    @admin.action(description=_("Verify the selected markings (four eyes)"))
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


def attributions_html(subject, viewer) -> str:
    found = services.attributions_of(subject, viewer=viewer)
    if not found.attributions:
        return "—"
    rows = format_html_join(
        "",
        "<tr><td><strong>{}</strong></td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((a.grade, a.get_stance_display(), a.claim, a.source.title) for a in found.attributions),
    )
    warning = (
        format_html('<p style="color:#ba2121"><strong>{}</strong></p>', _("Sources contradict each other."))
        if found.contradicted
        else ""
    )
    return format_html('{}<table class="attest-attributions">{}</table>', warning, rows)


class SourceForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=1000, required=False, assume_scheme="https")
    archive = forms.FileField(label=_("archived copy"), required=False)
    reason = forms.CharField(label=_("reason for the change"), required=False)

    class Meta:
        model = Source
        fields = [
            "case", "kind", "title", "publisher", "author", "published_on", "url", "document_reference",
            "reliability", "notes",
        ]  # fmt: skip


@admin.register(Source)
class SourceAdmin(CaseScopedAdmin):
    form = SourceForm
    write_role = Role.ANALYST
    list_display = ["title", "grade", "kind", "publisher", "published_on", "case", "archived", "withdrawn"]
    list_filter = [VisibleCaseFilter, "reliability", "kind"]
    list_select_related = ["case", "archived_copy"]
    search_fields = ["title", "publisher", "document_reference", "url"]
    readonly_fields = ["archived_sha256", "recorded_by", "withdrawn_at", "withdrawal_reason"]
    actions = ["withdraw_selected"]

    def has_add_permission(self, request):
        return self.has_module_permission(request) and cases_with_role(request.user, Role.ANALYST).exists()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "case" in form.base_fields:
            form.base_fields["case"].queryset = cases_with_role(request.user, Role.ANALYST)
        return form

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "case"] if obj is not None else fields

    @admin.display(description=_("reliability"), ordering="reliability")
    def grade(self, obj):
        return obj.reliability

    @admin.display(description=_("archived"), boolean=True)
    def archived(self, obj):
        return obj.archived_copy_id is not None

    @admin.display(description=_("withdrawn"), boolean=True)
    def withdrawn(self, obj):
        return obj.withdrawn_at is not None

    @admin.display(description=_("archived copy"))
    def archived_sha256(self, obj):
        if not obj.archived_copy_id:
            return "—"
        return format_html(
            '<a href="{}">{}</a> <code>{}</code>',
            reverse("source-archive", args=[obj.pk]),
            obj.archived_copy_name,
            obj.archived_copy.sha256,
        )

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in SourceForm.Meta.fields if name != "case"}
        if change:
            changes = {name: data[name] for name in form.changed_data if name in data}
            saved = services.update_source(
                actor=request.user, source=obj, reason=form.cleaned_data.get("reason") or "", **changes
            )
        else:
            upload = form.cleaned_data.get("archive")
            saved = services.add_source(
                actor=request.user,
                case=form.cleaned_data["case"],
                archive=filestore.from_upload(upload) if upload else None,
                archive_name=upload.name if upload else "",
                **data,
            )
        obj.pk = saved.pk
        obj._state.adding = False

    @admin.action(description=_("Withdraw the selected sources"))
    def withdraw_selected(self, request, queryset):
        reason = _("withdrawn in the admin by %(user)s") % {"user": request.user.get_username()}
        for source in queryset:
            services.withdraw_source(actor=request.user, source=source, reason=reason)


class AttributionForm(forms.ModelForm):
    class Meta:
        model = Attribution
        fields = [
            "case", "claim", "subject_type", "incident", "item", "marking", "entity", "source", "page",
            "paragraph", "quote", "credibility", "stance",
        ]  # fmt: skip


@admin.register(Attribution)
class AttributionAdmin(CaseScopedAdmin):
    form = AttributionForm
    write_role = Role.ANALYST
    list_display = ["claim_text", "grade", "stance", "subject_type", "source", "case", "withdrawn"]
    list_filter = [VisibleCaseFilter, "stance", "subject_type", "credibility", "source__reliability"]
    list_select_related = ["case", "source"]
    search_fields = ["claim", "quote", "source__title"]
    readonly_fields = ["grade", "analyst", "withdrawn_at", "withdrawal_reason"]
    autocomplete_fields = ["entity"]

    def has_add_permission(self, request):
        return self.has_module_permission(request) and cases_with_role(request.user, Role.ANALYST).exists()

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)  # attributions are withdrawn, not edited

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        cases = cases_with_role(request.user, Role.ANALYST)
        for name, queryset in (
            ("case", cases),
            ("incident", Incident.objects.filter(case__in=cases)),
            ("item", EvidenceItem.objects.filter(case__in=cases)),
            ("marking", Marking.objects.filter(item__case__in=cases)),
            ("source", Source.objects.filter(case__in=cases, withdrawn_at__isnull=True)),
        ):
            if name in form.base_fields:
                form.base_fields[name].queryset = queryset
        return form

    @admin.display(description=_("claim"))
    def claim_text(self, obj):
        return obj.claim[:80]

    @admin.display(description=_("withdrawn"), boolean=True)
    def withdrawn(self, obj):
        return obj.withdrawn_at is not None

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        subject_field = {"incident": "incident", "evidence_item": "item", "marking": "marking", "entity": "entity"}
        subject = data.get(subject_field.get(data["subject_type"], ""), None)
        fields = {name: data.get(name) for name in ("claim", "page", "paragraph", "quote", "credibility", "stance")}
        saved = services.add_attribution(
            actor=request.user,
            case=data["case"],
            subject_type=data["subject_type"],
            source=data["source"],
            subject=subject,
            **{name: value if value is not None else "" for name, value in fields.items()},
        )
        obj.pk = saved.pk
        obj._state.adding = False


class AttributionInline(admin.TabularInline):
    """Attributions about the incident or item, with grades; added and withdrawn on their own pages."""

    model = Attribution
    extra = 0
    can_delete = False
    fields = ["grade", "stance", "claim", "source", "locator", "withdrawn_at"]
    readonly_fields = fields
    verbose_name_plural = _("attributions")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("locator"))
    def locator(self, obj):
        return ", ".join(
            part for part in (obj.page and f"p. {obj.page}", obj.paragraph and f"para. {obj.paragraph}") if part
        )

    def get_formset(self, request, obj=None, **kwargs):
        if obj is not None and services.attributions_of(obj, viewer=request.user).contradicted:
            self.verbose_name_plural = _("attributions: the sources contradict each other")
        return super().get_formset(request, obj, **kwargs)


class IncidentAttributionInline(AttributionInline):
    fk_name = "incident"


class ItemAttributionInline(AttributionInline):
    fk_name = "item"


# The incident page lives in the cases app, which knows nothing of evidence; attach the inline here.
IncidentAdmin.inlines = [*IncidentAdmin.inlines, IncidentAttributionInline]
EvidenceItemAdmin.inlines = [*EvidenceItemAdmin.inlines, ItemAttributionInline]
