"""Token authentication that knows cases: the access log, and the user's case ids read with the token."""

from __future__ import annotations

from functools import cache

from rest_framework.permissions import SAFE_METHODS

from cases.audit import token_refused
from cases.models import MEMBER_CASE_IDS_ATTRIBUTE, member_case_ids_column, parse_joined_ids
from core.api.authentication import ApiTokenAuthentication


@cache
def tokens_with_case_ids():
    """Made once: building the subquery cost more than running it. Never evaluated, only filtered."""
    return ApiTokenAuthentication().tokens(None).annotate(member_case_ids=member_case_ids_column())


class CaseTokenAuthentication(ApiTokenAuthentication):
    def tokens(self, request):
        # One round trip fewer on every read: case visibility needs the user's case ids, and a GET
        # changes no membership, so they cannot go stale within it.
        return tokens_with_case_ids() if request.method in SAFE_METHODS else super().tokens(request)

    def accepted(self, request, token) -> None:
        if hasattr(token, "member_case_ids"):
            setattr(token.user, MEMBER_CASE_IDS_ATTRIBUTE, parse_joined_ids(token.member_case_ids))

    def refused(self, request, token) -> None:
        token_refused(request._request, token)  # the access log names it, and the case it was after
