"""API token authentication: `Authorization: Token <value>` (or `Bearer <value>`)."""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from core.api.throttling import RefusedTokenThrottle
from core.models import ApiToken, hash_token

# Recording every use would turn each read into a write; once a minute is enough to audit.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <value>`: one query for the token and its user, as NetBox's TokenAuthentication.

    Apps extend it through tokens() (what to read with the token) and refused() (what to record).
    """

    keywords = ("token", "bearer")

    def tokens(self, request):
        """The tokens the value is looked up in, with what the request needs read alongside."""
        return ApiToken.objects.select_related("user")

    def accepted(self, request, token: ApiToken) -> None:
        """Called with a token found valid, before the request goes on."""

    def refused(self, request, token: ApiToken | None) -> None:
        """Called before a request with a bad token is refused (None when the value matches no token)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in self.keywords:
            return None
        if len(header) != 2:
            self.refuse(request, None, _("The Authorization header must be: Token <value>."))
        key_hash = hash_token(header[1].decode("latin-1"))
        try:
            token = self.tokens(request).get(key_hash=key_hash)  # unique: get() leaves out the ordering
        except ApiToken.DoesNotExist:
            token = None
        if token is None or not token.is_active or not token.user.is_active:
            self.refuse(request, token, _("The API token is unknown, expired or revoked."))
        self.accepted(request, token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def refuse(self, request, token: ApiToken | None, message) -> NoReturn:
        """401, recorded by refused(). A value that is no token at all is also counted per client
        address, and past that budget answered 429 unrecorded, so guessing cannot flood the access
        log; a real token that is expired or revoked is always recorded (it may have been stolen)."""
        if token is None:
            throttle = RefusedTokenThrottle()
            if not throttle.allow_request(request, None):
                raise exceptions.Throttled(wait=throttle.wait())
        self.refused(request, token)
        raise exceptions.AuthenticationFailed(message)

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
    target_class = "core.api.authentication.ApiTokenAuthentication"
    match_subclasses = True
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <value>`, from POST /api/v1/tokens/ (shown once).",
        }


class VerifiedSessionScheme(SessionScheme):
    target_class = "core.api.authentication.VerifiedSessionAuthentication"
