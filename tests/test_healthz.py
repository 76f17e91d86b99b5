"""/healthz reports the database, the broker and media storage."""

import json
import os

import pytest

from tests import processes


@pytest.mark.django_db
def test_healthy_on_the_embedded_default(client, eager_tasks):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert set(body["checks"]) == {"database", "broker", "media"}
    assert body["checks"]["broker"]["detail"].startswith("no broker configured")
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_unwritable_media_answers_503_naming_media(client, eager_tasks, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.MEDIA_ROOT = blocker / "media"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["media"]
    assert "not writable" in response.json()["checks"]["media"]["detail"]


def test_only_get_is_allowed(client):
    assert client.post("/healthz").status_code == 405


def test_unreachable_database_answers_503_naming_database(tmp_path):
    """A real server process whose DATABASE_URL points at a port where nothing listens."""
    env = dict(os.environ)
    env.pop("CELERY_BROKER_URL", None)
    env.update(
        DEBUG="1",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{processes.free_port()}/nothing_here",
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    port = processes.free_port()
    server = processes.django_server(env, port, tmp_path)
    try:
        status, body = processes.http_get(f"http://127.0.0.1:{port}/healthz")
    finally:
        server.stop()
    assert status == 503
    report = json.loads(body)
    assert report["failed"] == ["database"]
    assert report["checks"]["media"]["ok"] is True
