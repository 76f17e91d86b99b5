"""Trace requests and right-of-reply letters: drafted, issued as a stored letter, sent, answered (the answer
kept write-once, a named distributor screened against the sanctions lists), overdue, closed; every step in
the ledger. Analysts draft; investigators send, record answers and close."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import reference_data
from cases.choices import EntityKind, Role
from cases.models import Case, Entity, refuse_long_text
from cases.services import require_role
from evidence import custody, filestore
from evidence.choices import EventType, FileKind, SubjectType, TraceKind, TraceStatus
from evidence.models import Component, TraceRequest, TraceResponse
from evidence.services.components import component_event

UNCHECKED = ["case", "follows", "manufacturer", "entity", "letter", "created_by"]


def trace_state(request: TraceRequest) -> dict:
    """A request's full state for the ledger: its row, its components and its letter's hash."""
    return {
        **custody.snapshot(request, exclude=("created_at", "updated_at")),
        "components": sorted(request.components.values_list("pk", flat=True)),
        "letter_sha256": request.letter.sha256 if request.letter_id else None,
    }


def trace_event(request: TraceRequest, event_type: str, actor, extra: dict | None = None):
    return custody.append_event(
        case=request.case,
        event_type=event_type,
        subject_type=SubjectType.TRACE_REQUEST,
        subject_id=request.pk,
        subject_label=request.label,
        actor=actor,
        payload={"trace": trace_state(request), **(extra or {})},
    )


def _locked(request: TraceRequest) -> TraceRequest:
    return TraceRequest.objects.select_for_update(of=("self",)).select_related("case", "letter").get(pk=request.pk)


def _deadline(deadline_days: int | None) -> int:
    days = settings.ATTEST_TRACE_DEADLINE_DAYS if deadline_days is None else deadline_days
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
        raise ValidationError({"deadline_days": _("Give between 1 and 366 days to answer.")})
    return days


def _checked_components(case: Case, components: Iterable[Component]) -> list[Component]:
    ids = sorted({component.pk for component in components})
    if not ids:
        raise ValidationError({"components": _("Name the components the letter asks about.")})
    found = list(Component.objects.filter(pk__in=ids).select_related("item"))
    if len(found) != len(ids) or any(component.item.case_id != case.pk for component in found):
        raise ValidationError({"components": _("Every component must be of this case.")})
    if any(component.withdrawn_at for component in found):
        raise ValidationError({"components": _("A withdrawn component cannot be asked about.")})
    return found


def _create(*, actor, case: Case, components: list[Component], event_extra: dict | None = None, **fields):
    request = TraceRequest(case=case, created_by=actor, **fields)
    request.full_clean(exclude=UNCHECKED)
    request.save()
    request.components.set(components)
    trace_event(request, EventType.TRACE_CREATED, actor, event_extra)
    return request


@transaction.atomic
def draft_trace_request(
    *,
    actor,
    case: Case,
    recipient_kind: str,
    recipient_name: str,
    components: Iterable[Component],
    manufacturer=None,
    entity=None,
    language: str = "en",
    context: str = "",
    deadline_days: int | None = None,
) -> TraceRequest:
    """Draft a letter asking who made or sold the components: an analyst's right."""
    require_role(case=case, actor=actor, role=Role.ANALYST)
    found = _checked_components(case, components)
    return _create(
        actor=actor,
        case=case,
        components=found,
        kind=TraceKind.TRACE,
        recipient_kind=recipient_kind,
        recipient_name=(recipient_name or "").strip(),
        manufacturer=manufacturer,
        entity=entity,
        language=language,
        context=context,
        deadline_days=_deadline(deadline_days),
    )


@transaction.atomic
def issue_letter(*, actor, request: TraceRequest, render: Callable[[TraceRequest, Path], None]):
    """Render the draft's letter to PDF with `render` (evidence.export.letters.render_letter; the caller names
    it, as services do not import the exports) and keep it write-once; a draft issued again gets a new letter
    (the old one stays stored, and in the ledger). An analyst's right."""
    require_role(case=request.case, actor=actor, role=Role.ANALYST)
    request = _locked(request)
    if request.status != TraceStatus.DRAFT:
        raise ValidationError({"status": _("Only a draft's letter can be issued.")})
    with tempfile.TemporaryDirectory(dir=filestore.incoming_dir(), prefix="letter-") as folder:
        path = Path(folder) / "letter.pdf"
        render(request, path)
        if not path.exists() or path.stat().st_size == 0:
            raise ValidationError({"letter": _("The letter could not be rendered.")})
        with path.open("rb") as handle:
            if handle.read(5) != b"%PDF-":
                raise ValidationError({"letter": _("The letter rendered is not a PDF.")})
            handle.seek(0)
            with filestore.files_removed_on_failure(), filestore.hashed_copy(handle) as copy:
                stored, _created = filestore.store(copy, kind=FileKind.LETTER)
                request.letter = stored
                request.save(update_fields=["letter", "updated_at"])
                trace_event(
                    request, EventType.TRACE_LETTER, actor, {"letter": {"sha256": stored.sha256, "size": stored.size}}
                )
    return request


@transaction.atomic
def send_trace_request(*, actor, request: TraceRequest, sent_on: dt.date, channel: str) -> TraceRequest:
    """Record that the letter went out; the answer is due `deadline_days` later. An investigator's right."""
    require_role(case=request.case, actor=actor, role=Role.INVESTIGATOR)
    request = _locked(request)
    if request.status != TraceStatus.DRAFT:
        raise ValidationError({"status": _("Only a draft can be sent.")})
    if request.letter_id is None:
        raise ValidationError({"letter": _("Issue the letter before sending it.")})
    if not isinstance(sent_on, dt.date):
        raise ValidationError({"sent_on": _("Give the day the letter was sent.")})
    if sent_on > timezone.localdate():
        raise ValidationError({"sent_on": _("The letter cannot have been sent in the future.")})
    request.sent_on, request.channel = sent_on, channel
    request.due_on = sent_on + dt.timedelta(days=request.deadline_days)
    request.status = TraceStatus.SENT
    request.full_clean(exclude=UNCHECKED)
    request.save()
    trace_event(request, EventType.TRACE_UPDATED, actor, {"changed": ["channel", "due_on", "sent_on", "status"]})
    return request


# --- Answers and sanctions screening ------------------------------------------------------------------------

# Legal forms, compared casefolded: trailing ones are removed ("Co., Ltd."), and the leading ones of
# post-Soviet names ("OOO Romashka").
COMPANY_SUFFIXES = frozenset(
    {
        "ltd", "limited", "co", "company", "corp", "corporation", "inc", "incorporated", "llc", "llp", "lp",
        "plc", "gmbh", "ag", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "oy", "ab", "as", "kk", "pte",
        "pty", "fze", "fzco", "fzc", "jsc", "pjsc", "cjsc", "ojsc",
    }
)  # fmt: skip
COMPANY_PREFIXES = frozenset(
    {"ooo", "oao", "zao", "pao", "ao", "too", "jsc", "pjsc", "cjsc", "ojsc"}
)  # fmt: skip
_PUNCTUATION = re.compile(r"[^\w\s]|_")


def normalise_name(name: str) -> str:
    """A company name as screening compares it: NFKC, casefolded, punctuation and legal forms (LTD, LIMITED,
    CO, CORP, INC, LLC, … at the end; OOO, AO, … at the start) removed, whitespace collapsed."""
    words = _PUNCTUATION.sub(" ", unicodedata.normalize("NFKC", name or "").casefold()).split()
    while len(words) > 1 and words[-1] in COMPANY_SUFFIXES:
        words.pop()
    while len(words) > 1 and words[0] in COMPANY_PREFIXES:
        words.pop(0)
    return " ".join(words)


def screen_name(name: str) -> list[dict]:
    """Every sanctioned entity whose name or an alias matches `name` once both are normalised."""
    wanted = normalise_name(name)
    if not wanted:
        return []
    matches = []
    for entity in Entity.objects.filter(sanctioned=True).order_by("pk").iterator():
        names = [entity.name, *(alias for alias in entity.aliases or [] if isinstance(alias, str))]
        if any(normalise_name(candidate) == wanted for candidate in names):
            matches.append(
                {"entity": entity.pk, "name": entity.name, "list": entity.list_name, "list_id": entity.list_id}
            )
    return matches


def _distributor(name: str, country: str, *, actor) -> Entity:
    """The organisation a response names: one already recorded under the same normalised name (not a
    sanctions-list entry, which screening matches instead), or a new one."""
    wanted = normalise_name(name)
    for entity in Entity.objects.filter(sanctioned=False, kind=EntityKind.ORGANISATION).order_by("pk").iterator():
        if normalise_name(entity.name) == wanted:
            return entity
    remarks = "Named as a distributor in a trace response." + (f" Country: {country}." if country else "")
    return reference_data.add_named_organisation(actor=actor, via="trace response", name=name, remarks=remarks)


@transaction.atomic
def record_response(
    *,
    actor,
    request: TraceRequest,
    received_on: dt.date,
    summary: str = "",
    upload: BinaryIO | None = None,
    file_name: str = "",
    distributor_name: str = "",
    distributor_country: str = "",
) -> TraceResponse:
    """Record an answer: its file kept write-once, a distributor it names linked to the components and
    screened against every sanctioned entity. An investigator's right."""
    require_role(case=request.case, actor=actor, role=Role.INVESTIGATOR)
    request = _locked(request)
    if request.status in (TraceStatus.DRAFT, TraceStatus.CLOSED):
        raise ValidationError({"status": _("Only a request that was sent can be answered.")})
    if not isinstance(received_on, dt.date):
        raise ValidationError({"received_on": _("Give the day the answer was received.")})
    if received_on < request.sent_on or received_on > timezone.localdate():
        raise ValidationError({"received_on": _("The answer cannot predate the letter or lie in the future.")})
    distributor_name, distributor_country = (distributor_name or "").strip(), (distributor_country or "").strip()
    if len(distributor_name) > 350:
        raise ValidationError({"distributor_name": _("The name is too long.")})
    if distributor_name and not normalise_name(distributor_name):
        raise ValidationError({"distributor_name": _("Give the distributor's name.")})
    refuse_long_text(distributor_country=distributor_country)
    response = TraceResponse(request=request, received_on=received_on, summary=summary, recorded_by=actor)
    response.full_clean(exclude=["request", "file", "names_distributor", "recorded_by"])
    with filestore.files_removed_on_failure():
        if upload is not None:
            with filestore.hashed_copy(upload) as copy:
                if copy.size == 0:
                    raise ValidationError({"upload": _("The file is empty.")})
                response.file, _created = filestore.store(copy, kind=FileKind.RESPONSE)
            name = file_name or Path(str(getattr(upload, "name", "") or "")).name
            response.file_name = Path(name.replace("\\", "/")).name[:255] or "response"
        if distributor_name:
            response.names_distributor = _distributor(distributor_name, distributor_country, actor=actor)
            response.screening = screen_name(distributor_name)
        response.save()
        if response.names_distributor is not None:
            _set_distributor(request, response, actor)
        changed = []
        if request.status != TraceStatus.ANSWERED:
            request.status = TraceStatus.ANSWERED
            request.save(update_fields=["status", "updated_at"])
            changed = ["status"]
        stored = response.file
        trace_event(
            request,
            EventType.TRACE_ANSWERED,
            actor,
            {
                "response": {
                    "id": response.pk,
                    "received_on": received_on.isoformat(),
                    "summary": response.summary,
                    "sha256": stored.sha256 if stored else None,
                    "size": stored.size if stored else None,
                    "file_name": response.file_name,
                    "distributor": response.names_distributor_id,
                    "distributor_name": distributor_name,
                    "distributor_country": distributor_country,
                    "screening": response.screening,
                },
                "changed": changed,
            },
        )
    return response


def _set_distributor(request: TraceRequest, response: TraceResponse, actor) -> None:
    """The request's standing components get the distributor; each change is a component event."""
    components = Component.objects.select_for_update().filter(trace_requests=request, withdrawn_at__isnull=True)
    for component in components.select_related("item__case").order_by("pk"):
        if component.distributor_id == response.names_distributor_id:
            continue
        component.distributor = response.names_distributor
        component.save(update_fields=["distributor", "updated_at"])
        reason = f"named by the answer to trace request {request.pk}"
        component_event(component, EventType.COMPONENT_CORRECTED, actor, {"changed": ["distributor"], "reason": reason})


# --- Right of reply, closing, deadlines -----------------------------------------------------------------------


def _answers_of(request: TraceRequest) -> str:
    """What the recipient has answered so far in the case (for the right-of-reply letter's context)."""
    same = TraceRequest.objects.filter(case=request.case_id, recipient_name=request.recipient_name)
    responses = TraceResponse.objects.filter(request__in=same).order_by("received_on", "pk")
    lines = [
        _("Answer received on %(day)s: %(summary)s")
        % {"day": response.received_on.isoformat(), "summary": response.summary or _("(no summary)")}
        for response in responses
    ]
    if not lines:
        due = request.due_on.isoformat() if request.due_on else "-"
        lines = [_("No answer was received by %(day)s.") % {"day": due}]
    return "\n".join(lines)


@transaction.atomic
def draft_right_of_reply(
    *,
    actor,
    request: TraceRequest,
    draft_finding: str,
    deadline_days: int | None = None,
    language: str | None = None,
) -> TraceRequest:
    """Draft a right-of-reply letter to the recipient of `request`, about its components, putting a draft
    finding to them; its context is what they answered so far. An analyst's right."""
    require_role(case=request.case, actor=actor, role=Role.ANALYST)
    request = _locked(request)
    if not (draft_finding or "").strip():
        raise ValidationError({"draft_finding": _("State the draft finding the recipient may answer.")})
    if request.status == TraceStatus.DRAFT:
        raise ValidationError({"request": _("The request it follows has not been sent.")})
    components = list(request.components.filter(withdrawn_at__isnull=True))
    if not components:
        raise ValidationError({"components": _("Every component of the request was withdrawn.")})
    context = _answers_of(request)
    return _create(
        actor=actor,
        case=request.case,
        components=components,
        kind=TraceKind.RIGHT_OF_REPLY,
        follows=request,
        recipient_kind=request.recipient_kind,
        recipient_name=request.recipient_name,
        manufacturer=request.manufacturer,
        entity=request.entity,
        language=language or request.language,
        context=context[: TraceRequest._meta.get_field("context").max_length],
        draft_finding=draft_finding,
        deadline_days=_deadline(deadline_days),
    )


@transaction.atomic
def close_trace_request(*, actor, request: TraceRequest, reason: str) -> TraceRequest:
    require_role(case=request.case, actor=actor, role=Role.INVESTIGATOR)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the request is closed.")})
    refuse_long_text(reason=reason)
    request = _locked(request)
    if request.status == TraceStatus.CLOSED:
        return request
    request.status = TraceStatus.CLOSED
    request.save(update_fields=["status", "updated_at"])
    trace_event(request, EventType.TRACE_UPDATED, actor, {"changed": ["status"], "reason": reason})
    return request


def mark_overdue(*, today: dt.date | None = None) -> int:
    """Every sent request whose answer was due before `today` becomes NO_ANSWER. Returns how many did;
    running it again the same day changes nothing."""
    today = today or timezone.localdate()
    marked = 0
    for pk in TraceRequest.objects.filter(status=TraceStatus.SENT, due_on__lt=today).values_list("pk", flat=True):
        with transaction.atomic():
            request = TraceRequest.objects.select_for_update(of=("self",)).select_related("case", "letter").get(pk=pk)
            if request.status != TraceStatus.SENT or request.due_on >= today:
                continue  # answered or closed meanwhile
            request.status, request.overdue_since = TraceStatus.NO_ANSWER, today
            request.save(update_fields=["status", "overdue_since", "updated_at"])
            trace_event(
                request, EventType.TRACE_UPDATED, None, {"changed": ["status"], "reason": "no answer by the deadline"}
            )
            marked += 1
    return marked
