"""/healthz against a live server, a real worker and a Redis server that goes away and comes back."""

import json

import pytest

from tests import processes

pytestmark = pytest.mark.integration


def healthz(port: int) -> tuple[int, dict]:
    status, body = processes.http_get(f"http://127.0.0.1:{port}/healthz")
    return status, json.loads(body)


def test_healthz_answers_503_while_redis_is_down_and_200_once_it_is_back(subprocess_env, log_dir):
    redis_port = processes.free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    env = {**subprocess_env, "CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": broker}
    web_port = processes.free_port()
    redis = processes.redis_server(redis_port, log_dir)
    worker = processes.celery_worker(env, log_dir, name="outage-worker")
    web = processes.django_server(env, web_port, log_dir)
    try:
        processes.wait_until(lambda: healthz(web_port)[0] == 200, timeout=60, message="healthy at start")

        redis.stop()
        status, report = healthz(web_port)
        assert status == 503
        assert report["failed"] == ["broker"]
        assert "unreachable" in report["checks"]["broker"]["detail"]
        assert report["checks"]["database"]["ok"]
        assert report["checks"]["media"]["ok"]

        redis = processes.redis_server(redis_port, log_dir)
        # The worker reconnects on its own; the check passes once it consumes again.
        processes.wait_until(lambda: healthz(web_port)[0] == 200, timeout=60, message="healthy again")
    finally:
        for process in (web, worker, redis):
            process.stop()
