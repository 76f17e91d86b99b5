"""A worker on another host: no disk shared with the web server, only the database, broker and bucket."""

from __future__ import annotations

import pytest

from evidence.choices import PhotoStatus
from evidence.models import Photo
from tests import processes
from tests.factories import EvidenceItemFactory, PhotoFactory

pytestmark = pytest.mark.integration


def test_a_worker_with_its_own_disk_processes_a_photo_from_the_bucket(
    subprocess_env, log_dir, transactional_db, team, bucket, tmp_path
):
    from config.celery import app
    from config.health import check_broker

    queue = f"{subprocess_env['CELERY_QUEUE']}-s3"
    worker_disk = tmp_path / "worker-media"
    env = {**subprocess_env, **bucket.environment, "MEDIA_ROOT": str(worker_disk), "CELERY_QUEUE": queue}
    worker = processes.celery_worker(env, log_dir, name="s3-worker")
    previous_queue, app.conf.task_default_queue = app.conf.task_default_queue, queue
    try:
        processes.wait_until(lambda: check_broker(timeout=2).ok, timeout=60, message="worker ready")
        photo = PhotoFactory(item=EvidenceItemFactory(case=team.case), width=800, height=600)
        assert {summary.key for summary in bucket.objects.all()} == {photo.original.path}

        def done():
            current = Photo.objects.get(pk=photo.pk)
            return current if current.status in {PhotoStatus.DONE, PhotoStatus.FAILED} else None

        processed = processes.wait_until(done, timeout=60, interval=0.1, message="photo processed")
        assert processed.status == PhotoStatus.DONE, f"{processed.error}\n{worker.log()[-2000:]}"
        assert processed.preview_width == 800
        keys = {summary.key for summary in bucket.objects.all()}
        assert {processed.derivative_path("preview"), processed.derivative_path("thumbnail")} <= keys
        # The worker read the original from the bucket, not from a disk it shares with anyone.
        assert not list(worker_disk.rglob("originals/*")), "the worker found the original on its disk"
        assert not any((worker_disk / "incoming").iterdir()), "the worker left its download behind"
    finally:
        app.conf.task_default_queue = previous_queue
        worker.stop()
