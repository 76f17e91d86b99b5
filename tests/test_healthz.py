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
    # Public: it says that the database answers, not which engine it is.
    assert not any(engine in response.content.decode().lower() for engine in ("sqlite", "postgres"))


@pytest.mark.django_db
def test_unwritable_media_answers_503_naming_media(client, eager_tasks, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.MEDIA_ROOT = blocker / "media"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["media"]
    assert "not writable" in response.json()["checks"]["media"]["detail"]
    assert str(tmp_path) not in response.content.decode()  # /healthz is public: no server paths


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
    # /healthz is public: the driver's message (host, port, database name) stays in the server log.
    assert b"nothing_here" not in body
    assert b"127.0.0.1" not in body


@pytest.mark.django_db
def test_stuck_photos_and_exports_are_reported_without_failing(client, eager_tasks, team):
    import datetime as dt

    from django.utils import timezone

    from evidence.models import Export, Photo
    from tests.factories import EvidenceItemFactory, ExportFactory, PhotoFactory

    assert client.get("/healthz").json()["stuck"] == {"photos": 0, "exports": 0}
    long_ago = timezone.now() - dt.timedelta(hours=2)
    photo = PhotoFactory(item=EvidenceItemFactory(case=team.case), processed=False)  # its task never ran
    Photo.objects.filter(pk=photo.pk).update(status_changed_at=long_ago)
    for export in (ExportFactory(case=team.case), ExportFactory(case=team.case)):
        Export.objects.filter(pk=export.pk).update(status="running", heartbeat_at=long_ago)
    ExportFactory(case=team.case)  # just asked for: not stuck
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["stuck"] == {"photos": 1, "exports": 2}
