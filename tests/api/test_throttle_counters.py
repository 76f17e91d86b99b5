"""The throttle's counters (core.api.throttling): a sliding-window estimate kept in one row a budget,
or in Redis, where the same sequence must give the same answers."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.api.throttling import counting_script, forget_spent, spend, spend_in_redis, wait_seconds
from core.models import ThrottleCounter

T0 = 1_800_000_000.0  # a window boundary for a 60-second window (a multiple of 60)


class TestWaitSeconds:
    def test_a_spent_window_with_nothing_before_waits_for_the_next(self):
        assert wait_seconds(limit=3, duration=60, into=15, hits=3, previous=0) == 45

    def test_over_the_limit_the_next_window_must_also_wear_down(self):
        # 6 spent of 3: the next window starts at an estimate of 6, below 3 halfway through it.
        assert wait_seconds(limit=3, duration=60, into=15, hits=6, previous=0) == 45 + 30

    def test_the_previous_windows_share_wears_down_within_this_one(self):
        # 1 + 3 * (1 - t/60) < 3 once t > 20.
        assert wait_seconds(limit=3, duration=60, into=5, hits=1, previous=3) == pytest.approx(15)

    def test_never_less_than_a_second(self):
        assert wait_seconds(limit=3, duration=60, into=20, hits=1, previous=3) == 1.0


@pytest.mark.django_db
class TestSpend:
    def admitted(self, at: float, times: int = 1) -> list[bool]:
        return [spend(key="k", limit=3, duration=60, now=at) is None for _ in range(times)]

    def test_a_budget_of_three_a_minute_over_three_windows(self):
        assert self.admitted(T0 + 1, 4) == [True, True, True, False]
        assert spend(key="k", limit=3, duration=60, now=T0 + 15) == pytest.approx(45)
        # The next window begins with the last one's 3 at full weight: nothing yet.
        assert self.admitted(T0 + 60) == [False]
        # A quarter of the way in, a quarter of them has worn off (2.25 left): one more, then 3.25.
        assert self.admitted(T0 + 75, 2) == [True, False]
        # Two windows on, the budget is whole again.
        assert self.admitted(T0 + 200, 4) == [True, True, True, False]
        assert ThrottleCounter.objects.get(key="k").hits == 3

    def test_refused_requests_are_not_counted(self):
        self.admitted(T0 + 1, 10)
        assert ThrottleCounter.objects.get(key="k").hits == 3

    def test_budgets_are_apart(self):
        assert self.admitted(T0 + 1, 4) == [True, True, True, False]
        assert spend(key="other", limit=3, duration=60, now=T0 + 2) is None

    def test_a_request_that_fits_costs_one_statement(self):
        self.admitted(T0 + 1)
        with CaptureQueriesContext(connection) as queries:
            assert self.admitted(T0 + 2) == [True]
        assert len(queries) == 1, [query["sql"] for query in queries]
        assert queries[0]["sql"].startswith("UPDATE")

    def test_counters_unused_for_two_days_are_forgotten(self):
        spend(key="old", limit=3, duration=60, now=T0)
        spend(key="recent", limit=3, duration=60, now=T0 + 86_400)
        assert forget_spent(now=T0 + 2 * 86_400 + 60) == 1
        assert list(ThrottleCounter.objects.values_list("key", flat=True)) == ["recent"]

    def test_beat_forgets_them(self, settings):
        import time

        from config.celery import app
        from core.tasks import forget_throttle_counters

        spend(key="stale", limit=3, duration=60, now=time.time() - 3 * 86_400)
        spend(key="live", limit=3, duration=60, now=time.time())
        assert forget_throttle_counters.apply().get() == 1
        assert list(ThrottleCounter.objects.values_list("key", flat=True)) == ["live"]
        assert "core.tasks.forget_throttle_counters" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
        assert "core.tasks.forget_throttle_counters" in app.tasks


def admitted_at_once(spend_one, *, after=lambda: None, threads_count: int = 8, each: int = 6) -> list[bool]:
    """`spend_one()` called `each` times on each of `threads_count` threads released together, then `after()`
    on each thread (a failure there fails the test too)."""
    barrier = threading.Barrier(threads_count)
    admitted: list[bool] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(each):
                admitted.append(spend_one() is None)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            try:
                after()
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return admitted


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_of_one_budget_never_spend_more_than_it():
    limit = 20
    admitted = admitted_at_once(
        lambda: spend(key="shared", limit=limit, duration=3600, now=T0 + 10), after=lambda: connection.close()
    )
    assert admitted.count(True) == limit
    assert ThrottleCounter.objects.get(key="shared").hits == limit


@pytest.fixture
def redis_spend():
    """spend_in_redis on the broker's Redis, under a key prefix of the test's own; skipped without Redis."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith(("redis://", "rediss://")):
        pytest.skip(f"integration: the broker is not Redis ({broker.split(':')[0] or 'none'})")
    script = counting_script(broker)
    prefix = f"attest-test-{uuid.uuid4().hex}"

    def spend_here(*, key: str, **kwargs) -> float | None:
        return spend_in_redis(script=script, key=f"{prefix}:{key}", **kwargs)

    spend_here.client = redis.Redis.from_url(broker)
    spend_here.prefix = prefix
    yield spend_here
    keys = list(spend_here.client.scan_iter(match=f"{prefix}:*"))
    if keys:
        spend_here.client.delete(*keys)
    spend_here.client.close()


@pytest.mark.integration
class TestSpendInRedis:
    """The same budgets as TestSpend, counted by the Lua script instead of the UPDATE."""

    def test_a_budget_of_three_a_minute_over_three_windows(self, redis_spend):
        def admitted(at: float, times: int = 1) -> list[bool]:
            return [redis_spend(key="k", limit=3, duration=60, now=at) is None for _ in range(times)]

        assert admitted(T0 + 1, 4) == [True, True, True, False]
        assert redis_spend(key="k", limit=3, duration=60, now=T0 + 15) == pytest.approx(45)
        assert admitted(T0 + 60) == [False]
        assert admitted(T0 + 75, 2) == [True, False]
        assert admitted(T0 + 200, 4) == [True, True, True, False]

    def test_refused_requests_are_not_counted_and_counters_expire_after_two_windows(self, redis_spend):
        for _ in range(10):
            redis_spend(key="k", limit=3, duration=60, now=T0 + 1)
        counter = f"{{{redis_spend.prefix}:k}}:{int(T0)}"
        assert int(redis_spend.client.get(counter)) == 3
        assert 60 < redis_spend.client.ttl(counter) <= 120

    def test_budgets_are_apart(self, redis_spend):
        assert [redis_spend(key="k", limit=1, duration=60, now=T0 + 1) is None for _ in range(2)] == [True, False]
        assert redis_spend(key="other", limit=1, duration=60, now=T0 + 2) is None

    def test_concurrent_requests_of_one_budget_never_spend_more_than_it(self, redis_spend):
        admitted = admitted_at_once(lambda: redis_spend(key="shared", limit=20, duration=3600, now=T0 + 10))
        assert admitted.count(True) == 20


@pytest.mark.parametrize(
    "location",
    [
        "redis://a:6379/0,redis://b:6379/0",
        "redis://a:6379/0, redis://b:6379/0",
        ["redis://a:6379/0", "redis://b:6379/0"],
    ],
)
def test_of_several_redis_servers_the_throttle_counts_on_the_first(settings, location):
    from core.api.throttling import redis_location

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}}
    assert redis_location() == ("redis://a:6379/0", "")
