"""Pagination: page numbers with a capped count everywhere, a cursor for the custody ledger."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import InvalidPage
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

# settings.API_EXACT_COUNT_LIMIT, when set, replaces this.
DEFAULT_EXACT_COUNT_LIMIT = 10_000
# The column that carries the count beside each row of a page (see CappedCountPaginator.page).
COUNT_COLUMN = "attest_capped_count"


def exact_count_limit() -> int:
    return getattr(settings, "API_EXACT_COUNT_LIMIT", DEFAULT_EXACT_COUNT_LIMIT)


class CappedCountPaginator(DjangoPaginator):
    """Counts at most `count_limit` rows: `count` is exact up to the limit, and the limit beyond it.

    Pages reach as far as the count does, so beyond the limit they stop at the limit-th row.
    `count_exact` says which case applies.
    """

    def __init__(self, object_list, per_page, *, count_limit: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_limit = count_limit

    @cached_property
    def _counted(self) -> int:
        """The rows, counted up to one past the limit: one more than the limit means "more".

        One query, `SELECT COUNT(*) FROM (SELECT id … LIMIT limit + 1)`, stops after limit + 1 rows.
        """
        rows = self.object_list
        if isinstance(rows, QuerySet):
            # The order changes nothing to the count; without it the database need not sort.
            return rows.order_by()[: self.count_limit + 1].count()
        return len(rows)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.count_limit)

    def page(self, number):
        """Django's page, read with the count in the same query when the queryset allows it.

        The page query carries `(SELECT COUNT(*) FROM (SELECT id … LIMIT limit + 1))` as a column: the
        database counts as before, but the request makes one round trip and compiles one query fewer.
        An empty page past the first falls back to a count of its own, which tells "past the end".
        """
        rows = self._rows_with_count(number)
        if rows is None:
            return super().page(number)
        number = self.validate_number(number)  # against the count just read
        bottom = (number - 1) * self.per_page
        return self._get_page(rows[: min(bottom + self.per_page, self.count) - bottom], number, self)

    def _rows_with_count(self, number) -> list | None:
        queryset = self.object_list
        if "_counted" in self.__dict__ or not isinstance(queryset, QuerySet) or not _is_plain(queryset.query):
            return None
        try:
            number = int(number)
        except (TypeError, ValueError):
            return None
        bottom = (number - 1) * self.per_page
        if number < 1 or bottom >= self.count_limit:
            return None
        capped = queryset.order_by().values("pk")[: self.count_limit + 1]
        try:
            sql, params = capped.query.get_compiler(using=queryset.db).as_sql()
        except EmptyResultSet:  # e.g. `case_id IN ()` for a user with no case: nothing to read
            self.__dict__["_counted"] = 0
            return None
        counted = RawSQL(f"SELECT COUNT(*) FROM ({sql}) capped_rows", params)  # noqa: S608, S611 (SQL compiled by Django)
        rows = list(queryset.annotate(**{COUNT_COLUMN: counted})[bottom : bottom + self.per_page])
        if rows:
            self.__dict__["_counted"] = getattr(rows[0], COUNT_COLUMN)
        elif number == 1:
            self.__dict__["_counted"] = 0
        else:
            return None
        return rows

    @property
    def count_exact(self) -> bool:
        return self._counted <= self.count_limit


def _is_plain(query) -> bool:
    """A query of whole rows, without grouping, DISTINCT, set operations or slices: one more column changes nothing."""
    return (
        query.group_by is None
        and not query.distinct
        and not query.combinator
        and not query.values_select
        and not query.is_sliced
        and not query.select_for_update
    )


class PagePagination(PageNumberPagination):
    """Page numbers, with the page size capped so that no request can ask for everything.

    Counting every row a user may see costs as much as reading them all, and more as the table
    grows, so lists count exactly up to API_EXACT_COUNT_LIMIT rows (a setting, default 10,000):

    - up to the limit, `count` is the number of rows and `count_exact` is true;
    - beyond it, `count` is the limit, a lower bound, and `count_exact` is false. Pages then go
      as far as the limit-th row: the last of them has no `next`, and a page number past it
      answers 404 (in the usual error format) asking for filters or the reverse order to reach
      the rest.

    `page=last` is the last page that can be reached.
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
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise NotFound(self._invalid_page_message(paginator, page_number, exc)) from None
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def _invalid_page_message(self, paginator, page_number, exc) -> str:
        beyond_limit = False
        with contextlib.suppress(TypeError, ValueError):
            beyond_limit = int(page_number) > paginator.num_pages and not paginator.count_exact
        if beyond_limit:
            return (
                f"Page {page_number} is beyond the first {paginator.count_limit} results, the most that can be "
                f"paged through (the last such page is {paginator.num_pages} at this page size). Narrow the "
                "list with filters, or reverse its ordering, to reach the others."
            )
        return self.invalid_page_message.format(page_number=page_number, message=str(exc))

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
            "How many results there are, counted up to a limit (10,000 by default); when there are "
            "more, the limit, and count_exact is false."
        )
        response["properties"] = {
            "count": properties.pop("count"),
            "count_exact": {
                "type": "boolean",
                "description": "False when count stopped at the limit: there are more results than count, "
                "and pages stop there.",
            },
            **properties,
        }
        response["required"] = ["count", "count_exact", "next", "previous", "results"]
        return response


class LedgerCursorPagination(CursorPagination):
    """Stable paging over an append-only sequence, however fast it grows."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("case_id", "sequence")
