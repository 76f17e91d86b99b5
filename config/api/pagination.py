from rest_framework.pagination import CursorPagination, PageNumberPagination


class PagePagination(PageNumberPagination):
    """Page numbers, with the page size capped so that no request can ask for everything."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class LedgerCursorPagination(CursorPagination):
    """Stable paging over an append-only sequence, however fast it grows."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("case_id", "sequence")
