"""Trace requests and right-of-reply letters: drafted, issued as a PDF letter, sent, answered, closed.

A thin adapter over evidence.services.tracing. The steps after the draft are buttons on the request's page,
each a small form posted to the same page (field `_trace_action`); the service decides who may take each step
(its PermissionDenied is a 403) and the page offers only the steps the user's role on the case allows."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    CaseScopedAdmin,
    VisibleCaseFilter,
    case_column,
    cases_with_role,
    holds_role,
    limit_to_case,
    role_at_least,
)
from cases.choices import Role
from cases.models import TEXT_MAX_LENGTH, Entity
from evidence import selectors
from evidence.admin.components import take_saved
from evidence.choices import DossierLanguage, TraceChannel, TraceKind, TraceStatus
from evidence.downloads import file_response
from evidence.export.letters import render_letter
from evidence.models import Component, Manufacturer, TraceRequest, TraceResponse
from evidence.templatetags.attest_dashboard import register as dashboard_tags

# Who may take each step (the least role on the request's case), as the services decide; used to hide the
# buttons a user cannot use. The service still checks, and its refusal is a 403.
STEP_ROLES = {
    "issue": Role.ANALYST,
    "send": Role.INVESTIGATOR,
    "response": Role.INVESTIGATOR,
    "reply": Role.ANALYST,
    "close": Role.INVESTIGATOR,
}
OPEN_STATUSES = (TraceStatus.SENT, TraceStatus.NO_ANSWER)
DUE_SOON_DAYS = 7


def tracing_services():
    from evidence.services import tracing

    return tracing


def is_overdue(request: TraceRequest, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return request.status in OPEN_STATUSES and request.due_on is not None and request.due_on < today


def steps_offered(user, trace: TraceRequest) -> list[str]:
    """The steps the page offers: those the request's status allows and the user's role may take."""
    status, kind = trace.status, trace.kind
    allowed = {
        "issue": status == TraceStatus.DRAFT,
        "send": status == TraceStatus.DRAFT and trace.letter_id is not None,
        "response": status in (TraceStatus.SENT, TraceStatus.NO_ANSWER, TraceStatus.ANSWERED),
        "reply": kind == TraceKind.TRACE and status in (TraceStatus.SENT, TraceStatus.ANSWERED, TraceStatus.NO_ANSWER),
        "close": status != TraceStatus.CLOSED,
    }
    case = trace.case
    return [step for step, ok in allowed.items() if ok and role_at_least(user, case, STEP_ROLES[step])]


class TraceRequestForm(forms.ModelForm):
    class Meta:
        model = TraceRequest
        fields = ["case", "recipient_kind", "recipient_name", "manufacturer", "entity", "components", "language",
                  "context", "deadline_days"]  # fmt: skip

    def clean(self):
        data = super().clean()
        case = data.get("case")
        if case is not None:
            for component in data.get("components") or ():
                if component.item.case_id != case.pk:
                    self.add_error("components", _("It belongs to another case: choose one of this case's."))
                    break
        return data


class SendForm(forms.Form):
    sent_on = forms.DateField(label=_("sent on"), widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.ChoiceField(label=_("channel"), choices=TraceChannel.choices)


class ResponseForm(forms.Form):
    received_on = forms.DateField(label=_("received on"), widget=forms.DateInput(attrs={"type": "date"}))
    upload = forms.FileField(label=_("the answer (file)"), required=False)
    summary = forms.CharField(label=_("summary"), max_length=TEXT_MAX_LENGTH, required=False, widget=forms.Textarea(
        attrs={"rows": 3}))  # fmt: skip
    distributor_name = forms.CharField(label=_("distributor named"), max_length=300, required=False)
    distributor_country = forms.CharField(label=_("distributor's country"), max_length=80, required=False)


class ReplyForm(forms.Form):
    draft_finding = forms.CharField(label=_("draft finding"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(
        attrs={"rows": 4}))  # fmt: skip
    deadline_days = forms.IntegerField(label=_("days to answer"), min_value=1, max_value=365, required=False)
    language = forms.ChoiceField(label=_("language of the letter"), choices=[("", "—"), *DossierLanguage.choices],
                                 required=False)  # fmt: skip


class CloseForm(forms.Form):
    reason = forms.CharField(label=_("reason for closing"), max_length=TEXT_MAX_LENGTH)


STEP_FORMS = {"send": SendForm, "response": ResponseForm, "reply": ReplyForm, "close": CloseForm}


class DueFilter(admin.SimpleListFilter):
    title = _("answer due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", _("overdue")), ("week", _("due within a week"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(status__in=OPEN_STATUSES, due_on__lt=today)
        if self.value() == "week":
            return queryset.filter(
                status__in=OPEN_STATUSES, due_on__gte=today, due_on__lte=today + dt.timedelta(days=DUE_SOON_DAYS)
            )
        return queryset


@admin.register(TraceRequest)
class TraceRequestAdmin(CaseScopedAdmin):
    form = TraceRequestForm
    write_role = Role.ANALYST
    list_display = ["__str__", "recipient_kind", case_column(), "status", "sent_on", "due", "letter_issued"]
    list_filter = [VisibleCaseFilter, DueFilter, "status", "kind", "recipient_kind"]
    list_select_related = ["case"]
    search_fields = ["recipient_name", "context", "draft_finding"]
    change_form_template = "admin/evidence/tracerequest/change_form.html"
    readonly_fields = ["kind", "follows", "status", "letter_link", "sent_on", "channel", "due_on", "overdue_since",
                       "draft_finding", "created_by", "response_list"]  # fmt: skip

    def has_add_permission(self, request):
        return self.has_module_permission(request) and holds_role(request, Role.ANALYST)

    def has_change_permission(self, request, obj=None):
        # A request is not edited once drafted: its steps are the buttons on its page.
        return obj is None and super().has_change_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("case", "letter")

    def get_fields(self, request, obj=None):
        if obj is None:
            return TraceRequestForm.Meta.fields
        return [*TraceRequestForm.Meta.fields, *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [*TraceRequestForm.Meta.fields, *self.readonly_fields]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        cases = cases_with_role(request.user, Role.ANALYST)
        fields = form.base_fields
        if "case" in fields:
            fields["case"].queryset = cases
        if "components" in fields:
            fields["components"].queryset = (
                Component.objects.current().filter(item__case__in=cases).select_related("item")
            )
        if "manufacturer" in fields:
            fields["manufacturer"].queryset = Manufacturer.objects.all()
        if "entity" in fields:
            fields["entity"].queryset = Entity.objects.all()
        limit_to_case(form, request, {"components": "item.case_id"})  # ?case= on the add page
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if "components" in initial and isinstance(initial["components"], str):
            initial["components"] = [pk for pk in initial["components"].split(",") if pk.isdigit()]
        return initial

    @admin.display(description=_("answer due"), ordering="due_on")
    def due(self, obj):
        if obj.due_on is None:
            return "—"
        if is_overdue(obj):
            return format_html('<strong class="attest-overdue">{} ({})</strong>', obj.due_on, gettext("overdue"))
        return obj.due_on

    @admin.display(description=_("letter"), boolean=True)
    def letter_issued(self, obj):
        return obj.letter_id is not None

    @admin.display(description=_("letter (PDF)"))
    def letter_link(self, obj):
        if not (obj and obj.pk and obj.letter_id):
            return gettext("not issued yet")
        url = reverse("admin:evidence_tracerequest_change", args=[obj.pk]) + "?download=letter"
        return format_html('<a href="{}">{}</a> <code>{}</code>', url, gettext("download the letter"),
                           obj.letter.sha256)  # fmt: skip

    @admin.display(description=_("answers"))
    def response_list(self, obj):
        if not (obj and obj.pk):
            return "—"
        responses = list(obj.responses.select_related("file", "names_distributor").order_by("pk"))
        if not responses:
            return gettext("No answer recorded.")
        page = reverse("admin:evidence_tracerequest_change", args=[obj.pk])
        rows = []
        for response in responses:
            file_html = (
                format_html('<a href="{}?download=response-{}">{}</a>', page, response.pk, response.file_name
                            or gettext("file"))
                if response.file_id else "—"
            )  # fmt: skip
            matches = response.screening or []
            screening = (
                format_html('<strong class="attest-broken">{}</strong> {}',
                            gettext("Matches a sanctions list:"),
                            ", ".join(str(m.get("name", m) if isinstance(m, dict) else m) for m in matches))
                if matches else gettext("no sanctions-list match")
            )  # fmt: skip
            rows.append((response.received_on, response.names_distributor or "—", response.summary or "—", file_html,
                         screening))  # fmt: skip
        return format_html(
            '<table class="attest-trace-responses"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            gettext("received on"), gettext("distributor named"), gettext("summary"), gettext("file"),
            gettext("screening"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )  # fmt: skip

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = tracing_services().draft_trace_request(
            actor=request.user,
            case=data["case"],
            recipient_kind=data["recipient_kind"],
            recipient_name=data["recipient_name"],
            components=list(data.get("components") or ()),
            manufacturer=data.get("manufacturer"),
            entity=data.get("entity"),
            language=data.get("language") or DossierLanguage.ENGLISH,
            context=data.get("context") or "",
            deadline_days=data.get("deadline_days"),
        )
        take_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        """The components were set by the service."""

    # --- The steps, posted to the request's own page ---------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        download = request.GET.get("download", "")
        if request.method == "GET" and download:
            return self.download(request, object_id, download)
        if request.method == "POST" and "_trace_action" in request.POST:
            return self.take_step(request, object_id, request.POST["_trace_action"])
        trace = self.get_object(request, object_id)
        steps = steps_offered(request.user, trace)
        today = timezone.localdate()
        forms_ = {
            "send": SendForm(initial={"sent_on": today}, prefix="send"),
            "response": ResponseForm(initial={"received_on": today}, prefix="response"),
            "reply": ReplyForm(prefix="reply"),
            "close": CloseForm(prefix="close"),
        }
        extra_context = {
            **(extra_context or {}),
            "trace_steps": steps,
            "trace_forms": {step: form for step, form in forms_.items() if step in steps},
            "trace_overdue": is_overdue(trace, today),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def download(self, request, object_id, what: str):
        trace = self.get_object(request, object_id)  # 404 for outsiders
        if what == "letter" and trace.letter_id:
            name = f"trace-request-{trace.pk}.pdf"
            return file_response(request, trace, trace.letter.path, filename=name, content_type="application/pdf")
        if what.startswith("response-") and what.removeprefix("response-").isdigit():
            response = (
                TraceResponse.objects.filter(request=trace, pk=int(what.removeprefix("response-")), file__isnull=False)
                .select_related("file")
                .first()
            )
            if response is not None:
                name = response.file_name or f"trace-response-{response.pk}"
                return file_response(request, trace, response.file.path, filename=name,
                                     content_type="application/octet-stream")  # fmt: skip
        raise Http404(gettext("The file is not available."))

    def take_step(self, request, object_id, step: str):
        trace = self.get_object(request, object_id)  # 404 for outsiders
        page = reverse("admin:evidence_tracerequest_change", args=[trace.pk])
        if step not in STEP_ROLES:
            raise PermissionDenied
        form = STEP_FORMS[step](request.POST, request.FILES, prefix=step) if step in STEP_FORMS else None
        if form is not None and not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                self.message_user(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors),
                                  messages.ERROR)  # fmt: skip
            return redirect(page)
        data = form.cleaned_data if form is not None else {}
        services = tracing_services()
        actor = request.user
        try:  # PermissionDenied goes on up: a 403, as for any step the user's role may not take
            if step == "issue":
                services.issue_letter(actor=actor, request=trace, render=render_letter)
                done = gettext("The letter was issued; download it below.")
            elif step == "send":
                services.send_trace_request(actor=actor, request=trace, sent_on=data["sent_on"],
                                            channel=data["channel"])  # fmt: skip
                done = gettext("Marked as sent; the answer is due on %(date)s.")
            elif step == "response":
                done = self._record_response(services, actor, trace, data)
            elif step == "reply":
                reply = services.draft_right_of_reply(
                    actor=actor, request=trace, draft_finding=data["draft_finding"],
                    deadline_days=data.get("deadline_days"), language=data.get("language") or None,
                )  # fmt: skip
                self.message_user(request, gettext("A right-of-reply letter was drafted."), messages.SUCCESS)
                return redirect(reverse("admin:evidence_tracerequest_change", args=[reply.pk]))
            else:
                services.close_trace_request(actor=actor, request=trace, reason=data["reason"])
                done = gettext("The request was closed.")
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return redirect(page)
        trace.refresh_from_db()
        if "%(date)s" in done:
            done = done % {"date": trace.due_on}
        self.message_user(request, done, messages.SUCCESS)
        return redirect(page)

    def _record_response(self, services, actor, trace, data) -> str:
        upload = data.get("upload")
        response = services.record_response(
            actor=actor,
            request=trace,
            received_on=data["received_on"],
            summary=data.get("summary") or "",
            upload=upload,
            file_name=upload.name if upload else "",
            distributor_name=data.get("distributor_name") or "",
            distributor_country=data.get("distributor_country") or "",
        )
        if getattr(response, "screening", None):
            return gettext("The answer was recorded. The distributor it names matches a sanctions list: see below.")
        return gettext("The answer was recorded.")


# --- The admin home: trace requests due this week (and overdue) across the user's cases ----------------------
# The home page's tags live in evidence.templatetags.attest_dashboard; this one is added to that library from
# here, beside the trace-request admin it links to (config/templates/admin/index.html calls it).


@dashboard_tags.inclusion_tag("admin/evidence/tracerequest/due.html", takes_context=True)
def trace_requests_due(context):
    today = timezone.localdate()
    due = list(selectors.trace_requests_due(viewer=context["request"].user, today=today, days=DUE_SOON_DAYS)[:50])
    return {"requests": due, "today": today, "overdue": {trace.pk for trace in due if is_overdue(trace, today)}}
