from rest_framework.throttling import SimpleRateThrottle

from cases.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """A budget per API token (per user for browser sessions), answering 429 with Retry-After."""

    scope = "token"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def get_ident(self, request):
        # DRF's would key on the whole X-Forwarded-For, which the client writes; ours takes what our proxy added.
        from evidence.audit import client_ip

        return client_ip(request) or ""


class FixityCheckThrottle(SimpleRateThrottle):
    """Checks that re-hash every file of a case (POST /cases/{id}/verify/): a few per hour per user."""

    scope = "fixity_check"

    def get_cache_key(self, request, view):
        ident = f"user-{request.user.pk}" if request.user.is_authenticated else f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
