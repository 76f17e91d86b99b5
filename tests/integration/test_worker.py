"""A real Celery worker consumes this session's queue on the real broker."""

import pytest

from config.health import check_broker

pytestmark = pytest.mark.integration


def test_worker_answers_the_ping_task(celery_worker):
    result = check_broker(timeout=10)
    assert result.ok, result.detail
    assert "answered by a worker" in result.detail


def test_healthz_is_ok_with_broker_and_worker(client, celery_worker):
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["broker"]["detail"].startswith("ping answered by a worker")


def test_without_a_worker_on_the_queue_the_broker_check_fails(transactional_db):
    """No worker fixture here: the ping task is published but nobody consumes it."""
    from config.celery import app

    previous = app.conf.task_default_queue
    app.conf.task_default_queue = "attest-test-nobody-listens"
    try:
        result = check_broker(timeout=1)
    finally:
        app.conf.task_default_queue = previous
    assert not result.ok
    assert "no worker answered" in result.detail
