"""API token authentication: `Authorization: Token <value>` (or `Bearer <value>`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
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
_HASH_PLACEHOLDER = "attest:compiled-with-no-hash"  # no SHA-256 hex digest looks like it


@dataclass(frozen=True)
class _TokenLookup:
    """The token query as the ORM compiled it, with where each model's columns are in its row."""

    sql: str
    converted: tuple[tuple[int, object], ...]  # (position, expression) of the columns that have converters
    token_columns: tuple[tuple[int, str], ...]  # (position, attname)
    user_columns: tuple[tuple[int, str], ...]
    case_ids_column: int | None

    def run(self, alias: str, key_hash: str) -> ApiToken | None:
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [key_hash])
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        # As the compiler converts values, with this thread's connection (the cache keeps none).
        for position, expression in self.converted:
            for function in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
                row[position] = function(row[position], expression, connection)
        token = _instance(ApiToken, alias, self.token_columns, row)
        user = _instance(ApiToken.user.field.related_model, alias, self.user_columns, row)
        ApiToken.user.field.set_cached_value(token, user)
        if self.case_ids_column is not None:
            token.member_case_ids = row[self.case_ids_column]
        return token


def _instance(model, alias: str, columns: tuple[tuple[int, str], ...], row: list):
    return model.from_db(alias, [name for _, name in columns], [row[position] for position, _ in columns])


@cache
def _token_lookup(alias: str, with_case_ids: bool) -> _TokenLookup:
    """Compiled once per database: compiling the query took twice as long as running it.

    What a read needs comes in one round trip: the token, its user and the user's case ids.
    """
    tokens = ApiToken.objects.using(alias).select_related("user")
    if with_case_ids:
        tokens = tokens.annotate(member_case_ids=member_case_ids_column())
    compiler = tokens.filter(key_hash=_HASH_PLACEHOLDER)[:1].query.get_compiler(alias)
    sql, params = compiler.as_sql()
    if list(params) != [_HASH_PLACEHOLDER]:
        raise RuntimeError(f"the token query should take the hash as its only parameter, not {params!r}")
    expressions = [expression for expression, _sql, _alias in compiler.select]
    converters = compiler.get_converters(expressions)

    def columns(info) -> tuple[tuple[int, str], ...]:
        return tuple((position, expressions[position].target.attname) for position in info["select_fields"])

    return _TokenLookup(
        sql=sql,
        converted=tuple((position, expression) for position, (_, expression) in converters.items()),
        token_columns=columns(compiler.klass_info),
        user_columns=columns(compiler.klass_info["related_klass_infos"][0]),
        case_ids_column=compiler.annotation_col_map.get("member_case_ids") if with_case_ids else None,
    )


def find_token(raw: str, *, with_case_ids: bool) -> ApiToken | None:
    """The token of this value with its user loaded (and, if asked, `member_case_ids`), or None."""
    alias = router.db_for_read(ApiToken)
    return _token_lookup(alias, with_case_ids).run(alias, hash_token(raw))


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in self.keywords:
            return None
        from evidence.audit import token_refused

        if len(header) != 2:
            token_refused(request._request, None)
            raise exceptions.AuthenticationFailed(_("The Authorization header must be: Token <value>."))
        raw = header[1].decode("latin-1")
        read_only = request.method in SAFE_METHODS
        # One round trip fewer on every read: the user's case ids come with the token.
        token = find_token(raw, with_case_ids=read_only)
        if token is None or not token.is_active or not token.user.is_active:
            token_refused(request._request, token)  # the access log names it, and the case it was after
            raise exceptions.AuthenticationFailed(_("The API token is unknown, expired or revoked."))
        if read_only:
            setattr(token.user, MEMBER_CASE_IDS_ATTRIBUTE, parse_joined_ids(token.member_case_ids))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Token realm="api"'


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """A browser session, counted only once it confirmed a TOTP code when two-factor sign-in is required.

    The check sits here rather than in a login view, so a password-only sign-in through any login view,
    including one added later, opens no API route.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or not settings.ATTEST_REQUIRE_2FA:
            return result
        is_verified = getattr(result[0], "is_verified", None)
        if not (is_verified and is_verified()):
            raise exceptions.AuthenticationFailed(
                _("Sign in to the admin with your two-factor code first, or use an API token.")
            )
        return result


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


class VerifiedSessionScheme(SessionScheme):
    target_class = "config.api.authentication.VerifiedSessionAuthentication"
