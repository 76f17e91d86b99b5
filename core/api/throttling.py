import logging

from django.db import DatabaseError
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from core.models import ApiToken
from core.net import client_ip

log = logging.getLogger(__name__)


class SharedThrottle(SimpleRateThrottle):
    """Counts in the default cache, which every server process shares (settings: CACHES)."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, DatabaseError):
            # The counters' store (Redis, or the cache table) is out of reach: serve the request rather
            # than fail every one with a 500, and say so in the log.
            log.warning("API throttle skipped: its cache cannot be reached", exc_info=True)
            return True

    def get_ident(self, request):
        # DRF's would key on the whole X-Forwarded-For, which the client writes; ours takes what our proxy added.
        return client_ip(request) or ""


class TokenRateThrottle(SharedThrottle):
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


class FixityCheckThrottle(SharedThrottle):
    """Checks that re-hash every file of a case (POST /cases/{id}/verify/): a few per hour per user."""

    scope = "fixity_check"

    def get_cache_key(self, request, view):
        ident = f"user-{request.user.pk}" if request.user.is_authenticated else f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
