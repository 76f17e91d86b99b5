"""Files kept as evidence (damaged photo originals and the like): listed on their exhibit, downloaded, never shown."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cases.admin import CaseScopedAdmin
from evidence.admin.common import ExhibitRecordsInline, ItemCaseFilter
from evidence.admin.items import EvidenceItemAdmin
from evidence.downloads import file_response
from evidence.models import EvidenceFile


def size_text(size: int) -> str:
    return ngettext("%(size)s byte", "%(size)s bytes", size) % {"size": size}


def download_link(kept: EvidenceFile) -> str:
    return format_html(
        '<a href="{}">{}</a> ({})',
        reverse("admin:evidence_evidencefile_download", args=[kept.pk]),
        _("download"),
        size_text(kept.file.size),
    )


@admin.register(EvidenceFile)
class EvidenceFileAdmin(CaseScopedAdmin):
    """Kept byte for byte with their SHA-256; added only from the exhibit's photo upload, never changed."""

    list_display = ["original_name", "exhibit", "short_sha256", "size", "kept_by", "kept_at"]
    list_filter = [ItemCaseFilter]
    list_select_related = ["item__case", "file", "kept_by"]
    search_fields = ["original_name", "file__sha256", "item__exhibit_number"]
    fields = ["item", "original_name", "sha256", "download", "reason", "kept_by", "kept_at"]
    readonly_fields = fields

    def case_of(self, obj):
        return obj.item.case

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("exhibit"), ordering="item__exhibit_number")
    def exhibit(self, obj):
        return obj.item.exhibit_number

    @admin.display(description=_("SHA-256"))
    def sha256(self, obj):
        return format_html("<code>{}</code>", obj.file.sha256)

    @admin.display(description=_("SHA-256"))
    def short_sha256(self, obj):
        return format_html("<code>{}…</code>", obj.file.sha256[:12])

    @admin.display(description=_("size in bytes"))
    def size(self, obj):
        return obj.file.size

    @admin.display(description=_("file"))
    def download(self, obj):
        return download_link(obj)

    def get_urls(self):
        download = path(
            "<path:object_id>/download/",
            self.admin_site.admin_view(self.download_view),
            name="evidence_evidencefile_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request, object_id):
        """The bytes as kept, as an attachment only: they are not a vetted image (logged as a download)."""
        kept = self.get_object(request, object_id)
        name = f"{kept.item.exhibit_number}-{kept.file.sha256[:12]}-{kept.original_name}"
        return file_response(request, kept, kept.file.path, filename=name, content_type="application/octet-stream")


class ItemEvidenceFileInline(ExhibitRecordsInline):
    """The exhibit's kept files with their SHA-256, each downloadable."""

    model = EvidenceFile
    fields = ["original_name", "sha256", "download", "reason", "kept_by", "kept_at"]
    readonly_fields = fields
    verbose_name_plural = _("files kept as evidence")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item", "file", "kept_by")

    @admin.display(description=_("SHA-256"))
    def sha256(self, obj):
        return format_html("<code>{}</code>", obj.file.sha256)

    @admin.display(description=_("file"))
    def download(self, obj):
        return download_link(obj)


EvidenceItemAdmin.inlines = [*EvidenceItemAdmin.inlines, ItemEvidenceFileInline]
