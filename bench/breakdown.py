"""Where a request's time goes: wall time per stage, each stage's own time only (nested stages excluded).

Used by `bench/bench_api.py --profile`. It wraps a few methods of Django, DRF, django-filter and
the project for the duration of one measurement and puts them back afterwards; nothing is changed
outside this process.
"""

from __future__ import annotations

import functools
import gc
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager

_INHERITED = object()  # the attribute came from a base class: delete the wrapper to restore it


def _stages():
    """(owner, attribute, label); a label may be a function of the call's first argument."""
    import django.db.models.query as query_module
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.query import QuerySet
    from django_filters.rest_framework import DjangoFilterBackend
    from rest_framework import filters, negotiation, renderers, serializers

    from cases import audit
    from core.api import renderers as api_renderers
    from core.api.authentication import ApiTokenAuthentication
    from core.api.throttling import TokenRateThrottle

    def fetch_label(queryset) -> str:
        return f"rows of {queryset.model.__name__}: query + model instances"

    return [
        (ApiTokenAuthentication, "authenticate", "token authentication (own code)"),
        (TokenRateThrottle, "allow_request", "throttle (its counter's UPDATE)"),
        (DjangoFilterBackend, "filter_queryset", "django-filter (form, validation)"),
        (filters.SearchFilter, "filter_queryset", "search filter"),
        (filters.OrderingFilter, "filter_queryset", "ordering filter"),
        (QuerySet, "count", "pagination COUNT(*)"),
        (QuerySet, "_fetch_all", fetch_label),
        (query_module, "prefetch_related_objects", "prefetch machinery (per-instance querysets)"),
        (serializers.ModelSerializer, "get_fields", "serializer get_fields (built per request)"),
        (serializers.ListSerializer, "to_representation", "serializer to_representation"),
        (renderers.JSONRenderer, "render", "JSON rendering"),
        (api_renderers.JSONRenderer, "render", "JSON rendering"),
        (negotiation.DefaultContentNegotiation, "select_renderer", "content negotiation"),
        (audit, "record", "access log row (insert)"),
        (BaseDatabaseWrapper, "connect", "database connect"),
        (BaseDatabaseWrapper, "close", "database close"),
    ]


@contextmanager
def _instrumented(totals: dict[str, float]):
    stack: list[list] = []  # [label, started, time spent in nested stages]
    originals = []

    def wrap(owner, attribute: str, label: str | Callable) -> None:
        original = vars(owner).get(attribute, _INHERITED)
        function = getattr(owner, attribute)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            name = label(args[0]) if callable(label) else label
            if stack and stack[-1][0] == name:
                return function(*args, **kwargs)
            stack.append([name, time.perf_counter(), 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                name, started, nested = stack.pop()
                spent = time.perf_counter() - started
                totals[name] += spent - nested
                if stack:
                    stack[-1][2] += spent

        originals.append((owner, attribute, original))
        setattr(owner, attribute, wrapper)

    try:
        for owner, attribute, label in _stages():
            wrap(owner, attribute, label)
        yield
    finally:
        for owner, attribute, original in reversed(originals):
            if original is _INHERITED:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)


def time_breakdown(call: Callable[[], object], requests: int) -> tuple[float, list[tuple[str, float]]]:
    """Mean wall time of `call` in ms, and the mean own time of each stage, largest first."""
    totals: dict[str, float] = defaultdict(float)
    gc.collect()
    with _instrumented(totals):
        started = time.perf_counter()
        for _ in range(requests):
            call()
        elapsed = time.perf_counter() - started
    stages = sorted(((name, spent / requests * 1000) for name, spent in totals.items()), key=lambda x: -x[1])
    mean = elapsed / requests * 1000
    stages.append(("the rest: middleware, DRF dispatch, view, response", mean - sum(ms for _, ms in stages)))
    return mean, stages
