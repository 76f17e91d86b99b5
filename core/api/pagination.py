"""Pagination: page numbers with a capped count everywhere, a cursor for the custody ledger."""

from __future__ import annotations

import math
from base64 import b64decode
from urllib.parse import parse_qs

from django import forms
from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

# settings.API_EXACT_COUNT_LIMIT, when set, replaces this. Counting costs as much as reading the
# rows counted, on every page: on a big table, counting to 10,000 took four times as long as
# reading the page.
DEFAULT_EXACT_COUNT_LIMIT = 1_000
# Databases take a 64-bit OFFSET; a page past it is past the end of any table.
MAX_OFFSET = 2**63 - 1


def exact_count_limit() -> int:
    return getattr(settings, "API_EXACT_COUNT_LIMIT", DEFAULT_EXACT_COUNT_LIMIT)


class CappedPage(Page):
    """A page that knows whether another follows from the row read past its end, not from the count."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        if not self.more:
            raise EmptyPage(self.paginator.error_messages["no_results"])
        return self.number + 1

    def previous_page_number(self) -> int:
        if self.number <= 1:
            raise EmptyPage(self.paginator.error_messages["min_page"])
        return self.number - 1


class CappedCountPaginator(DjangoPaginator):
    """Counts at most `count_limit` rows: `count` is exact up to the limit, and the limit beyond it.

    `count_exact` says which case applies. Pages do not depend on the count: each reads one row
    past its end to know whether another follows, so they reach every row, however many there are.
    The count is its own query, `SELECT COUNT(*) FROM (SELECT … LIMIT limit + 1)`, which stops after
    limit + 1 rows (as NetBox's paginator counts apart from the page).
    """

    def __init__(self, object_list, per_page, *, count_limit: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_limit = count_limit
        self.furthest_page = 1  # the furthest page known to exist, beyond an inexact count

    @cached_property
    def counted(self) -> int:
        """The rows, counted up to one past the limit: one more than the limit means "more"."""
        rows = self.object_list
        if isinstance(rows, QuerySet):
            # The order changes nothing to the count; without it the database need not sort.
            return rows.order_by()[: self.count_limit + 1].count()
        return len(rows)

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.count_limit)

    @property
    def count_exact(self) -> bool:
        return self.counted <= self.count_limit

    @property
    def num_pages(self) -> int:
        """The pages known: counted ones, and past an inexact count the page after the last one read."""
        return max(super().num_pages, self.furthest_page)

    def last_page_number(self) -> int:
        """The last page; past the limit, found by counting every row (asked for, so paid for)."""
        if self.count_exact:
            return self.num_pages
        rows = self.object_list
        total = rows.order_by().count() if isinstance(rows, QuerySet) else len(rows)
        return max(1, math.ceil(total / self.per_page))

    def page(self, number):
        """The page, read with one row more: is there a next page?"""
        number = self._whole_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        more = len(rows) > self.per_page
        self.furthest_page = max(self.furthest_page, number + more)
        return CappedPage(rows[: self.per_page], number, self, more=more)

    def _whole_number(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if number * self.per_page >= MAX_OFFSET:  # past any table, and past what OFFSET takes
            raise EmptyPage(self.error_messages["no_results"])
        return number


class StrictPageSizeMixin:
    """`page_size` is a whole number from 1; anything else is a 400 naming it, as the schema says.

    DRF's own silently used the default size for `page_size=null` or `0`. A size above the
    maximum still gives the maximum.
    """

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        try:
            size = forms.IntegerField(min_value=1).clean(value)
        except forms.ValidationError as exc:
            raise ValidationError({self.page_size_query_param: exc.messages}) from None
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_size_query_param, getattr(self, "page_query_param", None)):
                parameter["schema"]["minimum"] = 1
        return parameters


class PagePagination(StrictPageSizeMixin, PageNumberPagination):
    """Page numbers, with the page size capped so that no request can ask for everything.

    Counting every row a user may see costs as much as reading them all, on every page, and more
    as the table grows, so lists count exactly up to API_EXACT_COUNT_LIMIT rows (a setting,
    default 1,000):

    - up to the limit, `count` is the number of rows and `count_exact` is true;
    - beyond it, `count` is the limit, a lower bound, and `count_exact` is false.

    Either way, pages reach every row: `next` is there while rows follow. `page=last` is the last
    page; beyond the limit it costs a count of every row.
    """

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = CappedCountPaginator

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        paginator = self.django_paginator_class(queryset, page_size, count_limit=exact_count_limit())
        # `?page=` is no page number, as `?page=x` is not: a 404 like any page that does not exist.
        page_number = request.query_params.get(self.page_query_param, 1)
        try:
            if page_number in self.last_page_strings:
                page_number = paginator.last_page_number()
            self.page = paginator.page(page_number)
        except (EmptyPage, PageNotAnInteger) as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(exc))) from None
        if self.page.has_other_pages() and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_exact": self.page.paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        properties["count"]["description"] = (
            "How many results there are, counted up to a limit (1,000 by default); when there are "
            "more, the limit, and count_exact is false. Pages go on past it: follow next."
        )
        response["properties"] = {
            "count": properties.pop("count"),
            "count_exact": {
                "type": "boolean",
                "description": "False when count stopped at the limit: there are more results than count.",
            },
            **properties,
        }
        response["required"] = ["count", "count_exact", "next", "previous", "results"]
        return response


class LedgerCursorPagination(StrictPageSizeMixin, CursorPagination):
    """Stable paging over an append-only sequence, however fast it grows."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("case_id", "sequence")

    def decode_cursor(self, request):
        """DRF's cursor, refused with a 400 naming `cursor` when it is not one this API could have made.

        The position is compared with the first ordering field, an id: a position that is not a
        whole number a database column holds (e.g. p=9999999999999999999999) failed in the query
        (OverflowError, a 500).
        """
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not _is_cursor_made_here(encoded):
            raise self._invalid()
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise self._invalid() from None
        if cursor is not None and cursor.position is not None and not _is_row_id(cursor.position):
            raise self._invalid()
        return cursor

    def _invalid(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})


def _is_cursor_made_here(encoded: str) -> bool:
    """Whether `encoded` is shaped as DRF's encode_cursor writes a cursor: strict base64 of a query
    string of o (offset), r (reverse) and p (position), each at most once, one at least. DRF's decoder
    reads anything else (`garbage`, `%%%`, an empty value) as the first page."""
    try:
        tokens = parse_qs(b64decode(encoded.encode("ascii"), validate=True).decode("ascii"), strict_parsing=True)
    except (ValueError, UnicodeError):  # binascii.Error is a ValueError
        return False
    return bool(tokens) and set(tokens) <= {"o", "r", "p"} and all(len(values) == 1 for values in tokens.values())


def _is_row_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_OFFSET
