"""Sources with grades and archived copies; attributions, inline on incidents and items."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    CaseScopedAdmin,
    IncidentAdmin,
    SameCaseForm,
    VisibleCaseFilter,
    case_column,
    cases_with_role,
    limit_to_case,
)
from cases.choices import Role
from cases.models import TEXT_MAX_LENGTH, Incident
from evidence import filestore, selectors, services
from evidence.admin.common import apply_to_each
from evidence.admin.items import EvidenceItemAdmin
from evidence.choices import AttributionSubject
from evidence.models import Attribution, EvidenceItem, Marking, Source
from evidence.models.sources import SUBJECT_FIELDS


class SourceForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=1000, required=False, assume_scheme="https")
    archive = forms.FileField(label=_("archived copy"), required=False)
    reason = forms.CharField(label=_("reason for the change"), max_length=TEXT_MAX_LENGTH, required=False)

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
    list_display = ["title", "grade", "kind", "publisher", "published_on", case_column(), "archived", "withdrawn"]
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

    @admin.action(description=_("Withdraw the selected sources"), permissions=["write"])
    def withdraw_selected(self, request, queryset):
        # The reason goes into the custody ledger: in English, whatever the language of the admin.
        reason = f"withdrawn in the admin by {request.user.get_username()}"
        apply_to_each(
            self, request, queryset, lambda source: services.withdraw_source(actor=request.user, source=source,
                                                                             reason=reason),
            done=gettext("%(count)s source(s) withdrawn."),
        )  # fmt: skip


class AttributionForm(SameCaseForm):
    case_links = {"incident": "case_id", "item": "case_id", "marking": "item.case_id", "source": "case_id"}

    def clean(self):
        """The subject field of the chosen subject type, and no other: the database's one-subject rule
        was shown raw ("Constraint attribution_one_subject is violated")."""
        data = super().clean()
        subject_type = data.get("subject_type")
        if not subject_type:
            return data
        wanted = SUBJECT_FIELDS.get(subject_type)
        label = AttributionSubject(subject_type).label
        for name in SUBJECT_FIELDS.values():
            if name == wanted and not data.get(name) and name not in self.errors:
                self.add_error(name, _("Choose what the claim is about (subject type: %(type)s).") % {"type": label})
            elif name != wanted and data.get(name):
                self.add_error(name, _("Leave this empty: the subject type is %(type)s.") % {"type": label})
        return data

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
    list_display = ["claim_text", "grade", "stance", "subject_type", "source", case_column(), "withdrawn"]
    list_filter = [VisibleCaseFilter, "stance", "subject_type", "credibility", "source__reliability"]
    list_select_related = ["case", "source"]
    search_fields = ["claim", "quote", "source__title"]
    readonly_fields = ["grade", "analyst", "withdrawn_at", "withdrawal_reason"]
    autocomplete_fields = ["entity"]
    actions = ["withdraw_selected"]

    def has_add_permission(self, request):
        return self.has_module_permission(request) and cases_with_role(request.user, Role.ANALYST).exists()

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)  # attributions are withdrawn, not edited

    def get_readonly_fields(self, request, obj=None):
        # The grade is computed and the rest set later: on the add page they read "None" (issue #17).
        return self.readonly_fields if obj is not None else []

    @admin.action(description=_("Withdraw the selected attributions"), permissions=["write"])
    def withdraw_selected(self, request, queryset):
        # The reason goes into the custody ledger: in English, whatever the language of the admin.
        reason = f"withdrawn in the admin by {request.user.get_username()}"
        apply_to_each(
            self, request, queryset,
            lambda attribution: services.withdraw_attribution(actor=request.user, attribution=attribution,
                                                              reason=reason),
            done=gettext("%(count)s attribution(s) withdrawn."),
        )  # fmt: skip

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
        limit_to_case(form, request, AttributionForm.case_links)  # ?case= on the add page
        return form

    @admin.display(description=_("claim"))
    def claim_text(self, obj):
        return obj.claim[:80]

    @admin.display(description=_("withdrawn"), boolean=True)
    def withdrawn(self, obj):
        return obj.withdrawn_at is not None

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        subject = data.get(SUBJECT_FIELDS.get(data["subject_type"], ""), None)
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

    def has_delete_permission(self, request, obj=None):
        # Never deleted, only withdrawn. Django's default (the model permission) kept the inline on a
        # superuser's add page, whose save then failed: a 500 adding an incident or exhibit.
        return False

    def has_view_permission(self, request, obj=None):
        # Case rights, not Django model permissions, decide: whoever sees the page sees its attributions.
        # A page that adds an incident or item has none yet: no inline there.
        adding = bool(request.resolver_match and request.resolver_match.url_name.endswith("_add"))
        return not adding and request.user.is_active and request.user.is_staff

    @admin.display(description=_("locator"))
    def locator(self, obj):
        parts = []
        if obj.page:
            parts.append(gettext("p. %(page)s") % {"page": obj.page})
        if obj.paragraph:
            parts.append(gettext("para. %(paragraph)s") % {"paragraph": obj.paragraph})
        return ", ".join(parts)

    def get_formset(self, request, obj=None, **kwargs):
        if obj is not None and selectors.attributions_of(obj, viewer=request.user).contradicted:
            self.verbose_name_plural = _("attributions: the sources contradict each other")
        return super().get_formset(request, obj, **kwargs)


class IncidentAttributionInline(AttributionInline):
    fk_name = "incident"


class ItemAttributionInline(AttributionInline):
    fk_name = "item"


# The incident page lives in the cases app, which knows nothing of evidence; attach the inline here.
IncidentAdmin.inlines = [*IncidentAdmin.inlines, IncidentAttributionInline]
EvidenceItemAdmin.inlines = [*EvidenceItemAdmin.inlines, ItemAttributionInline]
