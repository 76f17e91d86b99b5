"""The harness itself: a run that requires integration tests fails when they are skipped."""

import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from tests.processes import PROJECT_DIR

WORKER_TEST = "tests/integration/test_worker.py::test_worker_answers_the_ping_task"


def run_inner_pytest(**env_overrides: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CELERY_BROKER_URL", "DATABASE_URL", "ATTEST_REQUIRE_INTEGRATION")
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", WORKER_TEST],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_integration_tests_skip_with_a_reason_without_a_broker():
    result = run_inner_pytest()
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "CELERY_BROKER_URL is not set" in result.stdout


def test_a_run_that_requires_integration_fails_when_they_are_skipped():
    result = run_inner_pytest(ATTEST_REQUIRE_INTEGRATION="1")
    assert result.returncode == 1, result.stdout
    assert "integration test skipped in a run that requires them" in result.stdout


def test_the_live_server_does_not_share_the_tests_sqlite_connection(live_server):
    """On SQLite the test database is a file (tests/conftest.py), so the live server's request threads
    open connections of their own, as the embedded default's do. An in-memory one would be handed to
    every thread as one connection, and two requests at once would share a transaction."""
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite's in-memory test database is shared with the live server")
    assert not connection.is_in_memory_db()
    assert live_server.thread.connections_override == {}


@pytest.mark.django_db
def test_a_throttle_counter_left_by_another_test_does_not_spend_this_ones_budget(api, team):
    # What a live server can leave behind after a test's flush: the budget of a user with this id, spent.
    from core.models import ThrottleCounter

    ThrottleCounter.objects.create(
        key=f"throttle_token_user-{team.alice.pk}", started=int(time.time()) // 60 * 60, hits=10**6, previous=10**6
    )
    client = api()
    client.force_login(team.alice)
    assert client.get("/api/v1/cases/").status_code == 200
