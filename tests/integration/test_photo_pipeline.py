"""The photo pipeline on a real Celery worker consuming from the real broker."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from evidence.choices import PhotoStatus
from evidence.models import CustodyEvent, Photo
from tests import processes
from tests.factories import EvidenceItemFactory, PhotoFactory

pytestmark = pytest.mark.integration


def wait_for_status(photo_id: int, status: str, timeout: float = 60) -> Photo:
    def reached():
        photo = Photo.objects.get(pk=photo_id)
        return photo if photo.status == status else None

    return processes.wait_until(reached, timeout=timeout, interval=0.1, message=f"photo {photo_id} {status}")


def pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in children.read_text().split()] if children.exists() else []


def test_a_photo_is_processed_by_the_worker_after_commit(celery_worker, team):
    item = EvidenceItemFactory(case=team.case)
    photo = PhotoFactory(item=item, width=800, height=600)
    done = wait_for_status(photo.pk, PhotoStatus.DONE)
    assert done.phash
    assert done.preview_width == 800
    events = CustodyEvent.objects.filter(subject_type="photo", subject_id=photo.pk)
    assert sorted(events.values_list("event_type", flat=True)) == ["photo.added", "photo.processed"]


def test_a_worker_process_killed_mid_task_does_not_lose_the_photo(subprocess_env, log_dir, transactional_db, team):
    from config.celery import app

    # A queue of its own, so the session's worker cannot take this task instead.
    queue = f"{subprocess_env['CELERY_QUEUE']}-redelivery"
    env = {**subprocess_env, "ATTEST_PHOTO_PROCESSING_DELAY": "3", "CELERY_QUEUE": queue}
    worker = processes.celery_worker(env, log_dir, name="redelivery-worker")
    previous_queue, app.conf.task_default_queue = app.conf.task_default_queue, queue
    try:
        from config.health import check_broker

        processes.wait_until(lambda: check_broker(timeout=2).ok, timeout=60, message="worker ready")
        photo = PhotoFactory(item=EvidenceItemFactory(case=team.case), width=640, height=480)
        wait_for_status(photo.pk, PhotoStatus.PROCESSING, timeout=30)
        children = pool_children(worker.proc.pid)
        assert children, "the worker has no pool process to kill"
        for child in children:
            os.kill(child, signal.SIGKILL)  # no chance to clean up or acknowledge
        done = wait_for_status(photo.pk, PhotoStatus.DONE, timeout=60)
        assert done.attempts == 2, "the task ran again after the kill"
        assert "WorkerLostError" in worker.log() or "SIGKILL" in worker.log()
        assert CustodyEvent.objects.filter(subject_type="photo", event_type="photo.processed").count() == 1
    finally:
        app.conf.task_default_queue = previous_queue
        worker.stop()


@pytest.mark.postgres
def test_a_lost_database_connection_is_retried_with_backoff(subprocess_env, log_dir, transactional_db, team):
    """A real transient error: PostgreSQL drops the worker's connection mid-task; the retry finishes it."""
    from django.db import connection

    from config.celery import app

    queue = f"{subprocess_env['CELERY_QUEUE']}-retry"
    env = {**subprocess_env, "ATTEST_PHOTO_PROCESSING_DELAY": "3", "CELERY_QUEUE": queue}
    worker = processes.celery_worker(env, log_dir, name="retry-worker")
    previous_queue, app.conf.task_default_queue = app.conf.task_default_queue, queue
    try:
        from config.health import check_broker

        processes.wait_until(lambda: check_broker(timeout=2).ok, timeout=60, message="worker ready")
        photo = PhotoFactory(item=EvidenceItemFactory(case=team.case), width=640, height=480)
        wait_for_status(photo.pk, PhotoStatus.PROCESSING, timeout=30)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        done = wait_for_status(photo.pk, PhotoStatus.DONE, timeout=90)
        assert done.attempts == 2
        assert "Retry in" in worker.log()
    finally:
        app.conf.task_default_queue = previous_queue
        worker.stop()
