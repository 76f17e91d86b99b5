"""Exports that outlive their build: the embedded setup builds off the request, and a sweeper queues
again (or gives up on) builds that went quiet, saying why on the export."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from evidence import background, services, tasks
from evidence.choices import ExportErrorCode, ExportStatus
from evidence.export import build
from evidence.models import Export
from evidence.services.failures import failure
from tests.factories import EvidenceItemFactory, ExportFactory

pytestmark = pytest.mark.django_db


def went_quiet(export: Export, *, minutes: int = 20) -> None:
    Export.objects.filter(pk=export.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=minutes))


def claimed_and_died(export: Export, *, stage: str = "exhibits 3/12") -> Export:
    """A build that started, reported some progress, then died with its process."""
    claimed = services.exports.claim_build(export.pk)
    services.exports.report_progress(export.pk, 53, stage, started_at=claimed.started_at)
    went_quiet(export)
    return claimed


def test_a_build_that_went_quiet_is_queued_again_then_given_up(team, django_capture_on_commit_callbacks):
    export = ExportFactory(case=team.case)
    claimed_and_died(export)
    with django_capture_on_commit_callbacks() as queued:
        assert tasks.sweep_exports() == {"requeued": 1, "failed": 0}
    assert len(queued) == 1  # the build is queued again once the sweep commits
    export.refresh_from_db()
    assert (export.status, export.progress, export.attempts) == (ExportStatus.PENDING, 0, 1)
    assert "exhibits 3/12" in export.error
    assert "queued again" in export.error

    claimed_and_died(export, stage="writing")  # the second attempt dies too
    with django_capture_on_commit_callbacks() as queued:
        assert tasks.sweep_exports() == {"requeued": 0, "failed": 1}
    assert not queued
    export.refresh_from_db()
    assert (export.status, export.attempts) == (ExportStatus.FAILED, django_settings.ATTEST_EXPORT_MAX_ATTEMPTS)
    assert "writing" in export.error
    assert "given up" in export.error
    assert export.finished_at is not None


def test_a_pending_export_never_picked_up_is_queued_again(team, django_capture_on_commit_callbacks):
    export = ExportFactory(case=team.case)
    went_quiet(export)
    with django_capture_on_commit_callbacks() as queued:
        assert services.exports.sweep_stuck() == {"requeued": 1, "failed": 0}
    assert len(queued) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.PENDING
    assert export.heartbeat_at > timezone.now() - dt.timedelta(minutes=1)


def test_builds_showing_signs_of_life_are_left_alone(team):
    running = ExportFactory(case=team.case)
    services.exports.claim_build(running.pk)
    went_quiet(running, minutes=django_settings.ATTEST_EXPORT_STUCK_MINUTES - 1)
    ExportFactory(case=team.case)  # pending, just asked for
    finished = ExportFactory(case=team.case)
    Export.objects.filter(pk=finished.pk).update(status=ExportStatus.FAILED, error="earlier")
    went_quiet(finished, minutes=600)
    assert services.exports.sweep_stuck() == {"requeued": 0, "failed": 0}
    assert Export.objects.get(pk=running.pk).status == ExportStatus.RUNNING


def test_the_queued_again_export_is_built_and_the_dead_build_cannot_touch_it(
    team, eager_tasks, django_capture_on_commit_callbacks
):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    export = ExportFactory(case=team.case)
    dead = claimed_and_died(export)
    with django_capture_on_commit_callbacks(execute=True):
        services.exports.sweep_stuck()
    export.refresh_from_db()
    assert (export.status, export.progress, export.error, export.attempts) == (ExportStatus.DONE, 100, "", 2)
    services.exports.report_progress(export.pk, 10, "cover", started_at=dead.started_at)
    late = failure(ExportErrorCode.NOT_BUILT)
    services.exports.mark_failed(export_id=export.pk, error=late, started_at=dead.started_at)
    export.refresh_from_db()
    assert (export.status, export.progress, export.stage) == (ExportStatus.DONE, 100, "done")


def test_without_a_broker_each_build_first_sweeps_builds_that_died(
    team, eager_tasks, django_capture_on_commit_callbacks
):
    """No beat runs in the embedded setup: asking for a new export sweeps those that died with a process."""
    dead = ExportFactory(case=team.case)
    claimed_and_died(dead)
    Export.objects.filter(pk=dead.pk).update(attempts=django_settings.ATTEST_EXPORT_MAX_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        fresh = services.request_export(actor=team.vera, case=team.case)
    dead.refresh_from_db()
    fresh.refresh_from_db()
    assert dead.status == ExportStatus.FAILED
    assert "given up" in dead.error
    assert fresh.status == ExportStatus.DONE


def test_the_sweeper_runs_on_beat():
    tasks_scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "evidence.tasks.sweep_exports" in tasks_scheduled


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_build_runs_after_the_request_has_answered(api, team, eager_tasks, settings, monkeypatch):
    """The request answers while the build waits on another thread; a web server's timeout cannot kill it."""
    settings.ATTEST_EMBEDDED_WORKERS = 1
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    real_build, threads, started, release = build.build_export, [], threading.Event(), threading.Event()

    def held_build(*, export_id):
        threads.append(threading.current_thread())
        started.set()
        release.wait(timeout=10)
        return real_build(export_id=export_id)

    monkeypatch.setattr(build, "build_export", held_build)
    response = api(team.vera).post("/api/v1/exports/", {"case": team.case.pk, "kind": "dossier"}, format="json")
    assert response.status_code == 201, response.content
    assert started.wait(timeout=30), "the build did not start"
    assert threads[0] is not threading.current_thread()
    assert Export.objects.get().status == ExportStatus.PENDING  # answered before the build went on
    release.set()
    assert background.wait(timeout=120)
    export = Export.objects.get()
    assert (export.status, export.progress) == (ExportStatus.DONE, 100), export.error
