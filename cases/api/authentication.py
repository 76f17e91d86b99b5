"""Token authentication that knows cases: the access log, and the user's case ids read with the token."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS

from cases.audit import token_refused
from cases.models import MEMBER_CASE_IDS_ATTRIBUTE, member_case_ids_column, parse_joined_ids
from core.api.authentication import ApiTokenAuthentication


class CaseTokenAuthentication(ApiTokenAuthentication):
    def tokens(self, request):
        tokens = super().tokens(request)
        if request.method in SAFE_METHODS:
            # One round trip fewer on every read: case visibility needs the user's case ids, and a
            # GET changes no membership, so they cannot go stale within it.
            tokens = tokens.annotate(member_case_ids=member_case_ids_column())
        return tokens

    def accepted(self, request, token) -> None:
        if hasattr(token, "member_case_ids"):
            setattr(token.user, MEMBER_CASE_IDS_ATTRIBUTE, parse_joined_ids(token.member_case_ids))

    def refused(self, request, token) -> None:
        token_refused(request._request, token)  # the access log names it, and the case it was after
