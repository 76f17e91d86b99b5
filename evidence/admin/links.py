"""Links both ways between sources, attributions and their subjects.

The attribution page already links to its source and subject (read-only foreign keys are links);
these inlines link back: a source lists the attributions citing it, each row opening its attribution
and its subject, and the incident and exhibit rows open their attributions. Attached here so the pages'
own modules need not know of each other.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cases.admin import EntityAdmin
from evidence.admin.sources import AttributionInline, IncidentAttributionInline, ItemAttributionInline, SourceAdmin

SUBJECT_PAGES = {
    "case": "admin:cases_case_change",
    "incident": "admin:cases_incident_change",
    "evidence_item": "admin:evidence_evidenceitem_change",
    "marking": "admin:evidence_marking_change",
    "entity": "admin:cases_entity_change",
}


def subject_link(attribution) -> str:
    subject = attribution.subject
    if subject is None:
        return "—"
    try:
        url = reverse(SUBJECT_PAGES[attribution.subject_type], args=[subject.pk])
    except (KeyError, NoReverseMatch):
        return str(subject)
    return format_html('<a href="{}">{}: {}</a>', url, attribution.get_subject_type_display(), subject)


class SourceAttributionInline(AttributionInline):
    """The attributions citing a source, each with its subject."""

    fk_name = "source"
    show_change_link = True
    fields = ["grade", "stance", "claim", "about", "locator", "withdrawn_at"]
    readonly_fields = fields

    @admin.display(description=_("about"))
    def about(self, obj):
        return subject_link(obj)

    def get_formset(self, request, obj=None, **kwargs):
        # Contradiction is a matter of one subject's attributions, not of a source's.
        return admin.TabularInline.get_formset(self, request, obj, **kwargs)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("source", "case", "incident", "item", "marking__item", "entity")
        )


class EntityAttributionInline(AttributionInline):
    """Attributions about an entity, from the reader's cases only: an entity is seen by every staff user."""

    fk_name = "entity"
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("source")


for inline in (IncidentAttributionInline, ItemAttributionInline):
    inline.show_change_link = True  # each row opens its attribution
SourceAdmin.inlines = [*SourceAdmin.inlines, SourceAttributionInline]
EntityAdmin.inlines = [*EntityAdmin.inlines, EntityAttributionInline]
