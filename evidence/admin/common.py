"""Helpers the evidence admin pages share: timelines, thumbnails, attribution tables."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    VisibleCaseFilter,
)
from evidence import selectors
from evidence.choices import PhotoStatus
from evidence.custody import describe_event
from evidence.models import Photo


def custody_timeline(events) -> str:
    rows = [
        (
            event.sequence,
            timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M"),
            event.get_event_type_display(),
            event.actor_name or _("system"),
            describe_event(event),
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


def shown_error(obj) -> str:
    """A photo's or an export's error in the reader's language, from its stored code and parameters; as stored
    (in English) when it has no code: a refusal's own words."""
    message = obj.get_error_code_display()
    if obj.error_code and message != obj.error_code:  # a code this version knows
        try:
            return message % obj.error_params
        except (KeyError, TypeError, ValueError):
            pass  # parameters that do not fit the message: the English text still says it
    return obj.error


def apply_to_each(modeladmin, request, queryset, act, *, done: str) -> int:
    """Run an admin action's service call on each selected object. A refusal on one object (its case
    needs another role, it is in a state that forbids it) becomes a message naming it, not a 403 page
    or a 500, and the others go ahead. `done` names how many succeeded, as "%(count)s …"."""
    succeeded = 0
    for obj in queryset:
        try:
            act(obj)
        except (PermissionDenied, Http404, ValidationError) as error:
            reason = " ".join(getattr(error, "messages", None) or [str(error)])
            modeladmin.message_user(request, f"{obj}: {reason}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, done % {"count": succeeded}, messages.SUCCESS)
    return succeeded


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


def attributions_html(subject, viewer) -> str:
    found = selectors.attributions_of(subject, viewer=viewer)
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


class ExhibitRecordsInline(admin.TabularInline):
    """An exhibit's records listed read-only on its page, each linking to its own; made elsewhere."""

    fk_name = "item"
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Case rights decide, as on the page itself; an exhibit being added has none yet.
        adding = bool(request.resolver_match and request.resolver_match.url_name.endswith("_add"))
        return not adding and request.user.is_active and request.user.is_staff
