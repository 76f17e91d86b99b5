"""The access log: who saw, downloaded or was refused what, and every sign-in.

Views mark the object they served (`mark(request, obj)`); the middleware writes one row per
request once the response is known, so refusals (403, and 404 for outsiders) are logged too, and
so are API tokens refused (401), wrong TOTP codes (config/two_factor.py) and lists filtered to a case
the user is not on.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from django.contrib.auth import signals as auth_signals
from django.db import DatabaseError
from django.dispatch import receiver
from django.urls import Resolver404, resolve
from django.utils import translation

from cases.choices import AccessAction
from cases.models import AccessLog, Case, CaseMembership
from core.net import client_ip

log = logging.getLogger(__name__)
WATCHED_PREFIXES = ("/api/v1/", "/admin/")
MAX_ID = 2**63 - 1  # a larger id names no row; databases refuse to compare with it


def case_of(obj) -> Case | None:
    """The case an object belongs to, whatever its depth under the case."""
    if obj is None or isinstance(obj, Case):
        return obj
    for path in ("case", "item.case", "photo.item.case", "component.item.case", "request.case"):
        target = obj
        for name in path.split("."):
            target = getattr(target, name, None)
        if isinstance(target, Case):
            return target
    return None


def mark(request, obj, action: str = AccessAction.VIEW) -> None:
    """Tell the middleware which object this request showed (or sent as a download)."""
    request.audit_object = obj
    request.audit_action = action


def token_refused(request, token) -> None:
    """Tell the middleware that the request's API token was refused: `token` if it was expired or
    revoked (or its user inactive), None if no token has that value."""
    request.audit_token_refused = True
    request.audit_refused_token = token


def record(request, action: str, *, obj=None, case=None, case_id=None, status=None, object_type="", object_id="",
           label="", user=None, username="") -> None:  # fmt: skip
    user = user if user is not None else getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(obj.pk)
        if not label:
            with translation.override(None):  # stored as written in the code, not in the viewer's language
                label = str(obj)
        case = case or case_of(obj)
    try:
        # save() of a new row with no parent table is one INSERT in autocommit; bulk_create() wrapped
        # it in BEGIN and COMMIT, two more statements on most requests.
        AccessLog(
            user=user,
            username=username or (user.get_username() if user else ""),
            action=action,
            object_type=object_type[:40],
            object_id=str(object_id)[:40],
            object_label=label[:200],
            case_id=case.pk if case is not None else case_id,
            method=(getattr(request, "method", None) or "")[:8],
            path=request.get_full_path()[:500] if request is not None else "",
            status_code=status,
            ip=client_ip(request) if request is not None else None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else "",
        ).save()
    except DatabaseError:
        # Never turn a read into an error page; but say loudly that the log missed one.
        log.exception("could not write the access log for %s %s", action, object_id)


def _model_and_pk(request):
    """For an object URL (API detail or admin object page): its model and the id in the URL."""
    return _model_and_pk_of(getattr(request, "resolver_match", None))


def _model_and_pk_of(match):
    if match is None:
        return None, None
    pk = match.kwargs.get("pk") or match.kwargs.get("object_id")
    if pk is None and "case_id" in match.kwargs:  # a page about a case as a whole (e.g. a report)
        return Case, match.kwargs["case_id"]
    view_class = getattr(match.func, "cls", None)
    if view_class is not None and getattr(view_class, "queryset", None) is not None:
        return view_class.queryset.model, pk
    model_admin = getattr(match.func, "model_admin", None) or getattr(
        getattr(match.func, "__wrapped__", None), "__self__", None
    )
    model = getattr(model_admin, "model", None)
    return model, pk


class AccessLogMiddleware:
    """Writes the access log row of each API or admin request about something under a case."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "audit_token_refused", False) and response.status_code == 401:
            self.refused_token(request, response.status_code)
        elif request.path.startswith(WATCHED_PREFIXES) and getattr(request, "user", None) is not None:
            self.log(request, response)
        return response

    def log(self, request, response) -> None:
        status = response.status_code
        obj = getattr(request, "audit_object", None)
        if obj is not None and status < 400:
            if request.method in ("GET", "HEAD"):
                record(request, getattr(request, "audit_action", AccessAction.VIEW), obj=obj, status=status)
            return
        listed = getattr(request, "audit_list", None)
        # Signed-in users only: an anonymous request is refused before any throttle, and could write rows freely.
        signed_in_list = listed is not None and request.method in ("GET", "HEAD") and request.user.is_authenticated
        if signed_in_list and self.listed(request, status, *listed):
            return
        if status in (403, 404) and request.user.is_authenticated:
            model, pk = _model_and_pk(request)
            if status == 403 or (model is not None and pk is not None and _is_case_scoped(model)):
                self.denied(request, status, model, pk)
            return

    def listed(self, request, status, model, case_id, probed) -> bool:
        """A list (request.audit_list): its row when it answered; or, whatever it answered (a HEAD, page 2,
        a bad page size, a lookup the admin refuses), a refusal on the log of the case it named that the
        user is not on (`probed`). The list is empty, as for no such case, and that case's leads see it.
        False when it wrote nothing, so that a list refused outright (403) is logged as any refusal is."""
        if probed is not None:
            record(request, AccessAction.DENIED, obj=probed, status=status)
        elif status == 200:
            record(request, AccessAction.LIST, object_type=model._meta.model_name, case_id=case_id, status=status)
        else:
            return False
        return True

    def denied(self, request, status, model, pk) -> None:
        record(
            request,
            AccessAction.DENIED,
            obj=_probed(model, pk),
            object_type=model._meta.model_name if model is not None else "",
            object_id=str(pk or ""),
            status=status,
        )

    def refused_token(self, request, status) -> None:
        """A 401 for an unknown, expired or revoked token: on the log of the case it was after, if it named one."""
        token = getattr(request, "audit_refused_token", None)
        owner = token.user if token is not None else None  # whose token it was, so their cases' leads see it
        model, pk = _model_and_pk(request)
        if model is not None and pk is not None and _is_case_scoped(model):
            object_type, object_id, target = model._meta.model_name, str(pk), _probed(model, pk)
        else:
            named = named_cases(request)
            target = _probed(Case, named[0]) if named else token
            object_type = object_id = ""
        record(request, AccessAction.TOKEN_REFUSED, obj=target, object_type=object_type, object_id=object_id,
               status=status, user=owner)  # fmt: skip


def _probed(model, pk):
    """The object an id names, looked up regardless of rights: the log (read by leads) should say what was probed."""
    if model is None or pk is None or not is_id(str(pk)):
        return None
    return model._base_manager.filter(pk=pk).first()


def is_id(text: str) -> bool:
    """Whether `text` is a row id as databases take it: ASCII digits, at most MAX_ID ("²" and U+0661, an
    Arabic-Indic one, are digits to str.isdigit() too)."""
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID


# In the admin, a lookup on a list's case field: `case`, `case__in`, `case_id__exact` …
CASE_LOOKUP = re.compile(r"case(?:_id)?(?:__\w+)?")


def named_cases(request, *, admin_lookups: bool = False) -> list[int]:
    """The case ids a request's query names: its `case` parameter (the API's and the admin's filter) and,
    with `admin_lookups`, every other lookup on a case field, each value split at commas (`__in`)."""
    found = []
    for name, values in request.GET.lists():
        if name == "case" or (admin_lookups and CASE_LOOKUP.fullmatch(name)):
            found += [int(part) for value in values for part in value.split(",") if is_id(part)]
    return found


def probed_case(request, case_ids: list[int]) -> Case | None:
    """The first of `case_ids` that names a case the user is not on, whoever may see it."""
    if not case_ids:
        return None
    theirs = set(Case.objects.visible_to(request.user).filter(pk__in=case_ids).values_list("pk", flat=True))
    others = [case_id for case_id in case_ids if case_id not in theirs]
    found = {case.pk: case for case in Case._base_manager.filter(pk__in=others)} if others else {}
    return next((found[case_id] for case_id in others if case_id in found), None)


def case_named_by_path(path: str, *, member) -> Case | None:
    """The case of `member`'s that a path of this site is about (where a sign-in's `next` leads).

    Only theirs: a `next` is typed by whoever signs in, who could otherwise put the row on any case."""
    if not path.startswith("/") or path.startswith("//"):
        return None
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    model, pk = _model_and_pk_of(match)
    if model is None or not _is_case_scoped(model):
        return None
    case = case_of(_probed(model, pk))
    if case is None or not CaseMembership.objects.filter(case=case, user=member).exists():
        return None
    return case


def _is_case_scoped(model) -> bool:
    return model is Case or hasattr(model._default_manager.get_queryset(), "visible_to")


@receiver(auth_signals.user_logged_in)
def signed_in(sender, request, user, **kwargs):
    record(request, AccessAction.SIGN_IN, user=user)


@receiver(auth_signals.user_login_failed)
def sign_in_failed(sender, credentials, request=None, **kwargs):
    record(request, AccessAction.SIGN_IN_FAILED, username=str(credentials.get("username", ""))[:150])


@receiver(auth_signals.user_logged_out)
def signed_out(sender, request, user, **kwargs):
    if user is not None:
        record(request, AccessAction.SIGN_OUT, user=user)
