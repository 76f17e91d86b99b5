"""The API throttle's budget is one for all server processes: its counters live in the shared cache's
Redis where one is configured, else in the database.

Each gunicorn worker is a process of its own; with counters in local memory, three workers granted
three budgets. These tests run the throttle in two separate processes, one after the other, for the
same client: together they may let through one budget, not two.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time

import pytest

from core.api import throttling
from core.api.throttling import TokenRateThrottle
from tests.processes import PROJECT_DIR
from tests.test_settings import run_python

BUDGET = 5

# One process's turn: BUDGET + 2 requests of the same anonymous client at the same instant (argv[3]:
# both turns in one window, however slowly the processes start); prints how many were allowed.
TURN = """
import sys, django
django.setup()
from django.test import RequestFactory
from rest_framework.request import Request
from core.api.throttling import TokenRateThrottle

allowed = 0
for _ in range(int(sys.argv[2])):
    request = Request(RequestFactory().get("/api/v1/cases/", REMOTE_ADDR=sys.argv[1]))
    throttle = TokenRateThrottle()
    throttle.timer = lambda: float(sys.argv[3])
    allowed += throttle.allow_request(request, None)
print(allowed)
"""


def process_environment(tmp_path, **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "CACHE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        SECRET_KEY="",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        VAR_DIR=str(tmp_path / "var"),
        API_THROTTLE_RATE=f"{BUDGET}/min",
        **overrides,
    )
    return env


def turns_of_two_processes(env: dict[str, str]) -> list[int]:
    # A client address of this run's own, so that no other run's counters (in a shared Redis) count.
    client = f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"
    # The middle of this minute's window. With real clocks a turn that began in the next minute was
    # admitted one request: the sliding estimate of the last window's 5 fell to 4.9 (CI, stop 28).
    instant = str(int(time.time()) // 60 * 60 + 30)
    allowed = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", TURN, client, str(BUDGET + 2), instant],
            env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        allowed.append(int(done.stdout.split()[-1]))
    return allowed


def test_without_redis_two_processes_share_one_budget_in_the_database(tmp_path):
    env = process_environment(tmp_path)
    # `migrate`, as `make run` and every deployment run it, makes the cache's table.
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    assert turns_of_two_processes(env) == [BUDGET, 0]


CACHE_DUMP = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "c = s.CACHES['default']; print(json.dumps([c['BACKEND'].rsplit('.', 1)[-1], str(c['LOCATION'])]))"
)


def test_the_cache_is_cache_url_else_the_brokers_redis_else_a_database_table():
    def cache(**env: str) -> list[str]:
        result = run_python(CACHE_DUMP, **{"DEBUG": "1", "CACHE_URL": "", **env})
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    assert cache() == ["DatabaseCache", "attest_cache"]
    assert cache(CELERY_BROKER_URL="redis://broker:6379/0") == ["RedisCache", "redis://broker:6379/0"]
    assert cache(CELERY_BROKER_URL="rediss://broker:6380/2") == ["RedisCache", "rediss://broker:6380/2"]
    assert cache(CELERY_BROKER_URL="amqp://broker//") == ["DatabaseCache", "attest_cache"]
    both = {"CELERY_BROKER_URL": "redis://broker:6379/0", "CACHE_URL": "redis://cache:6379/1"}
    assert cache(**both) == ["RedisCache", "redis://cache:6379/1"]


@pytest.mark.integration
def test_with_redis_two_processes_share_one_budget_in_redis_and_write_no_row(tmp_path):
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith(("redis://", "rediss://")):
        pytest.skip(f"integration: the broker is not Redis ({broker.split(':')[0] or 'none'})")
    # No `migrate`: the database has no counter table, so a throttle that counted there would fail,
    # log a warning and let every request through (7 and 7, not 5 and 0).
    env = process_environment(tmp_path, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker)
    assert turns_of_two_processes(env) == [BUDGET, 0]


def unreachable_redis() -> dict:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "attest",
        }
    }


@pytest.mark.django_db
def test_while_redis_is_out_of_reach_the_database_counts_and_redis_is_tried_again_later(
    api, team, settings, monkeypatch, caplog
):
    monkeypatch.setattr(throttling, "_redis_resting_until", 0.0)
    settings.CACHES = unreachable_redis()
    monkeypatch.setitem(TokenRateThrottle.THROTTLE_RATES, "token", "2/min")
    client = api(team.vera)
    assert [client.get("/api/v1/cases/").status_code for _ in range(3)] == [200, 200, 429]
    warnings = [r for r in caplog.records if "Redis out of reach" in r.getMessage()]
    assert len(warnings) == 1, "only the first request waits for Redis; the next ones go to the database"
    # Once the rest is over, Redis is asked again (and found out of reach again).
    monkeypatch.setattr(throttling, "_redis_resting_until", 0.0)
    assert client.get("/api/v1/cases/").status_code == 429
    assert len([r for r in caplog.records if "Redis out of reach" in r.getMessage()]) == 2


@pytest.mark.django_db
def test_without_redis_the_counters_are_rows_of_the_database(api, team, settings):
    from core.models import ThrottleCounter

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client = api(team.vera)
    before = ThrottleCounter.objects.count()
    assert client.get("/api/v1/cases/").status_code == 200
    assert ThrottleCounter.objects.count() == before + 1
