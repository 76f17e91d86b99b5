"""A dossier whose build died is queued again by the sweeper and built by a real worker from the real broker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from evidence import services, tasks
from evidence.choices import ExportStatus
from evidence.models import Export
from tests import processes
from tests.factories import EvidenceItemFactory

pytestmark = pytest.mark.integration


def test_a_build_that_died_is_queued_again_and_built_by_the_worker(celery_worker, team):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    export = services.request_export(actor=team.vera, case=team.case, enqueue=False)
    claimed = services.exports.claim_build(export.pk)  # a build started, reported progress, and its worker died
    services.exports.report_progress(export.pk, 53, "exhibits 1/1", started_at=claimed.started_at)
    Export.objects.filter(pk=export.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))

    assert tasks.sweep_exports() == {"requeued": 1, "failed": 0}  # queued on commit, through the broker

    def built():
        current = Export.objects.get(pk=export.pk)
        return current if current.status in (ExportStatus.DONE, ExportStatus.FAILED) else None

    done = processes.wait_until(built, timeout=120, interval=0.2, message=f"export {export.pk} built")
    assert (done.status, done.progress, done.error, done.attempts) == (ExportStatus.DONE, 100, "", 2)
    assert done.file is not None
