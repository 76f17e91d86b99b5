"""Photos: preview, EXIF, near-duplicates, and the region editor for markings."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    CaseScopedAdmin,
    role_at_least,
)
from cases.choices import Role
from evidence import selectors, services
from evidence.admin.common import ItemCaseFilter, shown_error, thumbnail_tag
from evidence.choices import Confidence, MarkingType, PhotoFormat, PhotoStatus
from evidence.downloads import file_response
from evidence.models import EvidenceItem, Marking, Photo
from evidence.selectors import region_from_preview, region_on_preview

# The original served inline has its own image type, so nosniff holds the browser to rendering it as one.
ORIGINAL_TYPES = {
    PhotoFormat.JPEG: "image/jpeg",
    PhotoFormat.PNG: "image/png",
    PhotoFormat.WEBP: "image/webp",
    PhotoFormat.TIFF: "image/tiff",
    PhotoFormat.HEIC: "image/heic",
}
# Formats every browser draws in an <img>: only these are offered for the viewer's full-resolution swap.
BROWSER_FORMATS = {PhotoFormat.JPEG, PhotoFormat.PNG, PhotoFormat.WEBP}
REGION_FORM_SESSION_KEY = "attest-region-form-%s"


@admin.register(Photo)
class PhotoAdmin(CaseScopedAdmin):
    """Photos are write-once evidence: shown with their preview, EXIF and near-duplicates, never edited."""

    list_display = ["thumbnail", "original_name", "exhibit", "status", "camera", "captured_at", "short_sha256"]
    list_filter = [ItemCaseFilter, "status", "format", "camera_make"]
    list_select_related = ["item__case", "original"]
    search_fields = ["original_name", "original__sha256", "item__exhibit_number", "photographer", "camera_model"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "preview",
                    "marking_list",
                    "item",
                    "original_name",
                    "sha256",
                    "download",
                    "status",
                    "error_text",
                ]
            },
        ),
        (
            _("Capture"),
            {"fields": ["photographer", "captured_at", "captured_at_source", "camera", "lens", "location", "notes"]},
        ),
        (_("EXIF"), {"fields": ["exif_table"], "classes": ["collapse"]}),
        (_("Near-duplicates"), {"fields": ["near_duplicate_links", "phash", "dhash"]}),
        (_("Record"), {"fields": ["uploaded_by", "uploaded_at", "processed_at", "attempts"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "preview", "marking_list", "item", "original_name", "sha256", "download", "status", "error_text",
        "photographer", "captured_at", "captured_at_source", "camera", "lens", "location", "notes", "exif_table",
        "near_duplicate_links", "phash", "dhash", "uploaded_by", "uploaded_at", "processed_at", "attempts",
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
            '<a href="{}" target="_blank" rel="noopener">{}</a> · <a href="{}">{}</a> ({})',
            reverse("admin:evidence_photo_original", args=[obj.pk]),
            _("open"),
            reverse("photo-original", args=[obj.pk]),
            _("download"),
            ngettext("%(size)s byte", "%(size)s bytes", size) % {"size": size},
        )

    @admin.display(description=_("error"))
    def error_text(self, obj):
        """Stored in English (the API returns it so), shown in the reader's language when it is one of ours."""
        return shown_error(obj) or "—"

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if obj.status != PhotoStatus.DONE:
            return obj.get_status_display()
        return viewer_html(obj)

    @admin.display(description=_("markings"))
    def marking_list(self, obj):
        return markings_html(obj)

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
        pairs = selectors.near_duplicates(photo=obj, viewer=obj.viewer)
        if not pairs:
            return _("none within the threshold")
        compare = format_html(
            '<a class="button" href="{}">{}</a> ',
            reverse("admin:evidence_photo_compare", args=[obj.pk]),
            _("Compare side by side"),
        )
        return compare + format_html_join(
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
            # A refused marking comes back here with what was typed, so nothing has to be typed again.
            refused = request.session.pop(REGION_FORM_SESSION_KEY % photo.pk, None)
            form = RegionMarkingForm(refused, photo=photo, form_id="region-form")
            if refused is not None:
                form.is_valid()
            extra_context["region_form"] = form
            extra_context["outlined"] = outlined_markings(photo)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        def view(function, suffix):
            route = f"<path:object_id>/{suffix}/"
            return path(route, self.admin_site.admin_view(function), name=f"evidence_photo_{suffix}")

        return [
            view(self.mark_view, "mark"),
            view(self.original_view, "original"),
            view(self.compare_view, "compare"),
            *super().get_urls(),
        ]

    def original_view(self, request, object_id):
        """The original, byte for byte, shown in the browser after the access check (logged as a view)."""
        photo = self.get_object(request, object_id)
        name = f"{photo.item.exhibit_number}-{photo.original.sha256[:12]}-{photo.original_name}"
        content_type = ORIGINAL_TYPES.get(photo.format, "application/octet-stream")
        return file_response(request, photo, photo.original.path, filename=name, content_type=content_type, inline=True)

    def compare_view(self, request, object_id):
        """The photo beside each of its near-duplicates, with their Hamming distances."""
        photo = self.get_object(request, object_id)
        pairs = selectors.near_duplicates(photo=photo, viewer=request.user)
        full = Photo.objects.select_related("item__case", "original").in_bulk([other.pk for other, _d in pairs])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Near-duplicates of %(photo)s") % {"photo": photo},
            "opts": self.model._meta,
            "photo": photo,
            "columns": [(photo, None), *((full[other.pk], distance) for other, distance in pairs)],
            "threshold": settings.ATTEST_NEAR_DUPLICATE_DISTANCE,
        }
        return TemplateResponse(request, "admin/evidence/photo/compare.html", context)

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
            self.message_user(request, _("The marking was not recorded: see the region editor below."), messages.ERROR)
        kept = {name: value for name, value in request.POST.items() if name in RegionMarkingForm.base_fields}
        request.session[REGION_FORM_SESSION_KEY % photo.pk] = kept
        return redirect(reverse("admin:evidence_photo_change", args=[photo.pk]) + "#region-editor")


class RegionMarkingForm(forms.Form):
    """What the region editor posts: the rectangle in preview pixels and the marking's reading."""

    item = forms.ModelChoiceField(label=_("on item"), queryset=EvidenceItem.objects.none())
    transcription = forms.CharField(label=_("transcription, exactly as seen"), widget=forms.Textarea(attrs={"rows": 2}))
    marking_type = forms.ChoiceField(label=_("marking type"), choices=MarkingType.choices)
    confidence = forms.ChoiceField(label=_("confidence"), choices=Confidence.choices, initial=Confidence.PROBABLE)
    # Typed, or filled in by drawing (region-editor.js): the editor is not mouse-only.
    x = forms.IntegerField(
        label=_("left (x)"), min_value=0, required=False, widget=forms.NumberInput(attrs={"id": "region-x"})
    )
    y = forms.IntegerField(
        label=_("top (y)"), min_value=0, required=False, widget=forms.NumberInput(attrs={"id": "region-y"})
    )
    width = forms.IntegerField(
        label=_("width"), min_value=1, required=False, widget=forms.NumberInput(attrs={"id": "region-width"})
    )
    height = forms.IntegerField(
        label=_("height"), min_value=1, required=False, widget=forms.NumberInput(attrs={"id": "region-height"})
    )

    def __init__(self, *args, photo: Photo, form_id: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.photo = photo
        # The photo's own item, or the components taken out of it.
        self.fields["item"].queryset = EvidenceItem.objects.filter(Q(pk=photo.item_id) | Q(parent_id=photo.item_id))
        self.fields["item"].initial = photo.item_id
        for name in ("x", "y", "width", "height"):
            self.fields[name].widget.attrs.update(
                max=photo.preview_width if name in ("x", "width") else photo.preview_height
            )
        if form_id:
            for field in self.fields.values():
                field.widget.attrs["form"] = form_id

    def clean(self):
        data = super().clean()
        values = [data.get(name) for name in ("x", "y", "width", "height")]
        if any(value is None for value in values):
            if not any(self.has_error(name) for name in ("x", "y", "width", "height")):
                raise ValidationError(
                    _("Draw the region of the marking over the photo, or type its four numbers."), code="no_region"
                )
            return data
        x, y, width, height = values
        # Typed numbers are not clipped to the preview silently: the reader would record another region.
        if x + width > self.photo.preview_width or y + height > self.photo.preview_height:
            raise ValidationError(
                _("The region must lie within the preview's %(width)s by %(height)s pixels."),
                code="outside",
                params={"width": self.photo.preview_width, "height": self.photo.preview_height},
            )
        return data


def _percent(value: int, whole: int) -> str:
    # A string with a dot, not a float: a template would write 12,5 in Ukrainian, which CSS refuses.
    return f"{100 * value / whole:.3f}"


def outlined_markings(photo: Photo, *, current: Marking | None = None) -> list[dict]:
    """The photo's markings in force, as percentages of the preview, numbered, each with its page."""
    boxes = []
    markings = photo.markings.filter(withdrawn_at__isnull=True).select_related("item").order_by("pk")
    for number, marking in enumerate(markings, 1):
        marking.photo = photo  # one photo for all: no query per marking
        box = region_on_preview(marking)
        if box:
            x, y, width, height = box
            boxes.append(
                {
                    "number": number,
                    "label": f"{number}. {marking}",
                    "url": reverse("admin:evidence_marking_change", args=[marking.pk]),
                    "current": current is not None and marking.pk == current.pk,
                    "left": _percent(x, photo.preview_width),
                    "top": _percent(y, photo.preview_height),
                    "width": _percent(width, photo.preview_width),
                    "height": _percent(height, photo.preview_height),
                }
            )
    return boxes


def viewer_html(photo: Photo, *, current: Marking | None = None) -> str:
    """The zoom-and-pan viewer of the upright preview, every marking outlined and linked (photo-viewer.js)."""
    original = reverse("admin:evidence_photo_original", args=[photo.pk])
    context = {
        "viewer_id": f"photo-viewer-{photo.pk}",
        "photo": photo,
        "preview_url": reverse("photo-preview", args=[photo.pk]),
        "original_url": original,
        "full_resolution_url": original if photo.format in BROWSER_FORMATS else "",
        "outlines": outlined_markings(photo, current=current),
        "current": current,
        "aspect": f"{photo.preview_width / photo.preview_height:.4f}",
    }
    return render_to_string("admin/evidence/photo/viewer.html", context)


def markings_html(photo: Photo) -> str:
    """The markings on the photo, each linking to its page; numbered as their outlines."""
    markings = list(photo.markings.select_related("item").order_by("pk"))
    if not markings:
        return _("none yet")
    rows, number = [], 0
    for marking in markings:
        if marking.withdrawn_at is None:
            number += 1
            label = f"{number}. {marking}"
        else:
            label = gettext("%(marking)s (withdrawn)") % {"marking": marking}
        rows.append((reverse("admin:evidence_marking_change", args=[marking.pk]), label))
    return format_html(
        '<ul class="attest-marking-list">{}</ul>', format_html_join("", '<li><a href="{}">{}</a></li>', rows)
    )
