"""API token authentication: `Authorization: Token <value>` (or `Bearer <value>`)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from cases.models import (
    MEMBER_CASE_IDS_ATTRIBUTE,
    ApiToken,
    hash_token,
    member_case_ids_column,
    parse_joined_ids,
)

# Recording every use would turn each read into a write; once a minute is enough to audit.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@cache
def _tokens_with_case_ids():
    """Tokens with their user and the user's case ids, built once: every read clones it (cheaper than building)."""
    return ApiToken.objects.select_related("user").annotate(member_case_ids=member_case_ids_column())


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header must be: Token <value>."))
        raw = header[1].decode("latin-1")
        read_only = request.method in SAFE_METHODS
        # One round trip fewer on every read: the user's case ids come with the token.
        tokens = _tokens_with_case_ids() if read_only else ApiToken.objects.select_related("user")
        tokens = tokens.filter(key_hash=hash_token(raw))
        token = next(iter(tokens[:1]), None)
        if token is None or not token.is_active or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The API token is unknown, expired or revoked."))
        if read_only:
            setattr(token.user, MEMBER_CASE_IDS_ATTRIBUTE, parse_joined_ids(token.member_case_ids))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Token realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <value>`, from POST /api/v1/tokens/ (shown once).",
        }
