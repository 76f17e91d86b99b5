"""Photos: preview, EXIF, near-duplicates, and the region editor for markings."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    CaseScopedAdmin,
    role_at_least,
)
from cases.choices import Role
from evidence import services
from evidence.admin.common import ItemCaseFilter, stored_message, thumbnail_tag
from evidence.choices import Confidence, MarkingType, PhotoStatus
from evidence.models import EvidenceItem, Photo
from evidence.services.markings import region_from_preview, region_on_preview
from evidence.services.photos import GAVE_UP, GAVE_UP_RETRYING, NOT_PROCESSED


@admin.register(Photo)
class PhotoAdmin(CaseScopedAdmin):
    """Photos are write-once evidence: shown with their preview, EXIF and near-duplicates, never edited."""

    list_display = ["thumbnail", "original_name", "exhibit", "status", "camera", "captured_at", "short_sha256"]
    list_filter = [ItemCaseFilter, "status", "format", "camera_make"]
    list_select_related = ["item__case", "original"]
    search_fields = ["original_name", "original__sha256", "item__exhibit_number", "photographer", "camera_model"]
    fieldsets = [
        (None, {"fields": ["preview", "item", "original_name", "sha256", "download", "status", "error_text"]}),
        (
            _("Capture"),
            {"fields": ["photographer", "captured_at", "captured_at_source", "camera", "lens", "location", "notes"]},
        ),
        (_("EXIF"), {"fields": ["exif_table"], "classes": ["collapse"]}),
        (_("Near-duplicates"), {"fields": ["near_duplicate_links", "phash", "dhash"]}),
        (_("Record"), {"fields": ["uploaded_by", "uploaded_at", "processed_at", "attempts"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "preview", "item", "original_name", "sha256", "download", "status", "error_text", "photographer", "captured_at",
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
        size = obj.original.size
        return format_html(
            '<a href="{}">{}</a> ({})',
            reverse("photo-original", args=[obj.pk]),
            _("download"),
            ngettext("%(size)s byte", "%(size)s bytes", size) % {"size": size},
        )

    @admin.display(description=_("error"))
    def error_text(self, obj):
        """Stored in English (the API returns it so), shown in the reader's language when it is one of ours."""
        return stored_message(obj.error, [GAVE_UP, GAVE_UP_RETRYING, NOT_PROCESSED]) or "—"

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
        position = f"{obj.gps_latitude}, {obj.gps_longitude}"
        if obj.gps_altitude is None:
            return position
        return gettext("%(position)s, %(altitude)s m") % {"position": position, "altitude": obj.gps_altitude}

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
        pairs = services.near_duplicates(photo=obj, viewer=obj.viewer)
        if not pairs:
            return _("none within the threshold")
        return format_html_join(
            ", ",
            '<a href="{}">{} {}</a> ({})',
            (
                (
                    reverse("admin:evidence_photo_change", args=[other.pk]),
                    other.item.case.reference,
                    other.item.exhibit_number,
                    ngettext("%(count)s bit", "%(count)s bits", distance) % {"count": distance},
                )
                for other, distance in pairs
            ),
        )

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
