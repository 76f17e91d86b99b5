"""API throttles: a budget of requests per window, one for every server process.

The count is a sliding window, estimated from two fixed ones as `previous * (share of the previous
window still inside the sliding one) + hits`: constant work and one counter a window, where DRF's
SimpleRateThrottle keeps a timestamp of every request (up to 1,200 a token) and rewrites them all on
each one. The counters live in the shared cache's Redis where one is configured (one script call a
request, no database write), else in the database (core.models.ThrottleCounter: a request that fits
costs one UPDATE; the first of a window two statements more). While Redis is out of reach, the
database counts.
"""

import functools
import logging
import time

import redis
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from redis.commands.core import Script
from rest_framework.throttling import SimpleRateThrottle

from core.models import ApiToken, ThrottleCounter
from core.net import client_ip, client_network

log = logging.getLogger(__name__)


def wait_seconds(*, limit: int, duration: float, into: float, hits: int, previous: int) -> float:
    """Seconds until a budget of `limit` per `duration`, refused `into` seconds into its window, admits one more.

    The estimate `previous * (1 - t / duration) + hits` falls as the window goes on; if it cannot fall
    below the limit in this window, `hits` becomes the next window's `previous`.
    """
    if hits < limit and previous > 0:
        wait = duration * (1 - (limit - hits) / previous) - into
    else:
        wait = duration - into + (duration * (1 - limit / hits) if hits > limit else 0.0)
    return max(wait, 1.0)  # the estimate must fall below the limit, not reach it; Retry-After is in whole seconds


# The statement of every request that fits, in plain SQL: through the ORM (a queryset, an expression
# and its compilation) it cost three times as much, a twentieth of a list page (bench/bench_api.py).
COUNT_ONE = (
    "UPDATE core_throttlecounter SET hits = hits + 1 WHERE key = %s AND started = %s AND hits < %s - previous * %s"
)


def _count_one(*, key: str, started: int, limit: int, weight: float) -> bool:
    """Count the request in the current window if the estimate leaves room: one UPDATE, atomic as such."""
    with connection.cursor() as cursor:
        cursor.execute(COUNT_ONE, [key, started, float(limit), weight])
        return cursor.rowcount == 1


def spend(*, key: str, limit: int, duration: int, now: float) -> float | None:
    """Count one request against the budget `key`: None if it is admitted, else the seconds to wait."""
    started = int(now // duration) * duration  # when the current window began, in seconds since 1970
    into = now - started
    weight = 1 - into / duration  # of the previous window, the share still inside the sliding one
    counters = ThrottleCounter.objects.filter(key=key)
    for _attempt in range(4):
        if _count_one(key=key, started=started, limit=limit, weight=weight):
            return None
        stored = counters.values_list("started", "hits", "previous").first()
        if stored is None:
            try:
                with transaction.atomic():
                    ThrottleCounter.objects.create(key=key, started=started, hits=1)
                return None
            except IntegrityError:
                continue  # another process made it first: count again
        stored_started, hits, previous = stored
        if stored_started == started:
            return wait_seconds(limit=limit, duration=duration, into=into, hits=hits, previous=previous)
        if stored_started > started:
            return None  # a server whose clock is ahead counted it: admit rather than refuse at random
        # A new window: what the last one spent becomes `previous`; then count again.
        carried = hits if stored_started == started - duration else 0
        counters.filter(started=stored_started).update(started=started, hits=0, previous=carried)
    return None  # four races lost in a row: admit it rather than fail it


# COUNT_ONE's test and count in Redis, atomic as one script. KEYS: this window's and the previous
# window's counters; ARGV: limit, weight, seconds to keep a counter (two windows, then Redis forgets it).
REDIS_COUNT_ONE = """
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if hits < tonumber(ARGV[1]) - previous * tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], hits + 1, 'EX', ARGV[3])
  return {1, hits + 1, previous}
end
return {0, hits, previous}
"""


def spend_in_redis(*, script: Script, key: str, limit: int, duration: int, now: float) -> float | None:
    """spend(), its counters in Redis under `key:<window start>`: None if admitted, else the seconds to wait.

    `script` is counting_script(url); it raises redis.RedisError when Redis cannot be reached.
    """
    started = int(now // duration) * duration
    into = now - started
    weight = 1 - into / duration
    # The braces make both keys one hash slot, which a script's keys must share on Redis Cluster.
    admitted, hits, previous = script(
        keys=[f"{{{key}}}:{started}", f"{{{key}}}:{started - duration}"], args=[limit, repr(weight), 2 * duration]
    )
    if admitted:
        return None
    return wait_seconds(limit=limit, duration=duration, into=into, hits=int(hits), previous=int(previous))


@functools.lru_cache(maxsize=4)
def counting_script(url: str) -> Script:
    """REDIS_COUNT_ONE on a client of the Redis at `url`, made once a process (the client pools its connections)."""
    # Short timeouts: the throttle runs on every request, and a Redis that hangs must not hold them up.
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return client.register_script(REDIS_COUNT_ONE)


def redis_location() -> tuple[str, str] | None:
    """The default cache's Redis URL and key prefix, if the default cache is Redis (CACHE_URL or the broker's).

    Of several servers (Django's comma-separated LOCATION) the first, which Django's cache writes to."""
    cache = settings.CACHES["default"]
    if not cache["BACKEND"].endswith(".RedisCache"):
        return None
    location = cache["LOCATION"]
    first = location[0] if isinstance(location, list | tuple) else location.split(",")[0]
    return first.strip(), cache.get("KEY_PREFIX", "")


# After Redis fails, the database counts for this long before Redis is tried again, so that an outage
# costs one request a connection timeout every REDIS_REST seconds rather than every request one.
REDIS_REST = 10.0
_redis_resting_until = 0.0


def forget_spent(*, now: float) -> int:
    """Delete the counters of budgets unused for two days (no window is longer than a day); returns how many."""
    deleted, _ = ThrottleCounter.objects.filter(started__lt=now - 2 * 86_400).delete()
    return deleted


class SharedThrottle(SimpleRateThrottle):
    """DRF's throttle, its rate and key as DRF's, counted by spend_in_redis() or spend() rather than the cache."""

    def allow_request(self, request, view):
        global _redis_resting_until
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        location = redis_location()
        if location and time.monotonic() >= _redis_resting_until:
            url, prefix = location
            try:
                self.waiting = spend_in_redis(
                    script=counting_script(url), key=f"{prefix}:{self.key}", limit=self.num_requests,
                    duration=self.duration, now=now,
                )  # fmt: skip
                return self.waiting is None
            except redis.RedisError:
                _redis_resting_until = time.monotonic() + REDIS_REST
                log.warning("API throttle: Redis out of reach; the database counts for %ss", REDIS_REST, exc_info=True)
        try:
            self.waiting = spend(key=self.key, limit=self.num_requests, duration=self.duration, now=now)
        except DatabaseError:
            # The counters cannot be written (say, SQLite busy past its timeout): serve the request rather
            # than fail it with a 500, and say so in the log.
            log.warning("API throttle skipped: its counters cannot be written", exc_info=True)
            return True
        return self.waiting is None

    def wait(self):
        return self.waiting

    def get_ident(self, request):
        # DRF's would key on the whole X-Forwarded-For, which the client writes; ours takes what our proxy
        # added, and of IPv6 the /64 (client_network).
        return client_network(client_ip(request) or "")


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


class RefusedTokenThrottle(SharedThrottle):
    """Values that are no API token, per client address (get_ident): past the budget a guesser gets 429
    and writes no more access-log rows, where each refusal wrote one (authentication runs before the
    request's throttle)."""

    scope = "refused_token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": f"anon-{self.get_ident(request)}"}
