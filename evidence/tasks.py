"""Celery tasks of the evidence app: thin, idempotent, by primary key."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver

from cases.models import Case
from evidence import background, custody, services, timestamps
from evidence.choices import ExportErrorCode, ExportStatus, PhotoErrorCode, PhotoStatus
from evidence.export import build
from evidence.services.exports import build_wanted
from evidence.services.failures import failure
from evidence.services.photos import processing_wanted
from evidence.services.tracing import mark_overdue

logger = logging.getLogger(__name__)


@shared_task(name="evidence.tasks.sign_checkpoints")
def sign_checkpoints() -> int:
    """Sign the head of every intact ledger that grew since its last checkpoint. Returns how many."""
    signed = 0
    for case in Case.objects.only("id", "reference").iterator():
        size, _head = custody.head(case)
        latest = case.checkpoints.order_by("-size").values_list("size", flat=True).first()
        # Never sign a head that does not verify: that would vouch for a tampered chain.
        if size and (latest is None or size > latest) and custody.verify_case(case, files=False).intact:
            timestamps.stamp(custody.sign_checkpoint(case=case, reason="periodic"))
            signed += 1
    return signed


@shared_task(name="evidence.tasks.timestamp_checkpoints")
def timestamp_checkpoints() -> int:
    """Retry trusted timestamps that failed: a new checkpoint of each waiting case's head, kept with its token."""
    return timestamps.timestamp_waiting()


@shared_task(name="evidence.tasks.verify_case")
def verify_case(case_id: int) -> dict:
    """Verify one case and record the outcome as a fixity event; sign the head only when intact."""
    case = Case.objects.get(pk=case_id)
    report = custody.verify_case(case)
    services.record_fixity_check(case=case, report=report)
    if report.intact:
        custody.sign_checkpoint(case=case, reason="fixity check")
    return report.as_dict()


@shared_task(name="evidence.tasks.verify_all_cases")
def verify_all_cases() -> dict[str, bool]:
    """The daily fixity check: every case, one verdict each."""
    return {
        reference: verify_case(case_id)["intact"]
        for case_id, reference in Case.objects.values_list("id", "reference").iterator()
    }


# Errors worth another try: the database or the broker went away for a moment.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(bind=True, name="evidence.tasks.process_photo", max_retries=5)
def process_photo(self, photo_id: int) -> str:
    """The photo pipeline for one photo: EXIF, derivatives, perceptual hashes. Safe to run twice."""
    try:
        return services.process_photo(photo_id=photo_id).status
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            logger.exception("photo %s: gave up after %s retries", photo_id, self.request.retries)
            services.photos.mark_failed(photo_id=photo_id, error=failure(PhotoErrorCode.GAVE_UP_RETRYING))
            raise
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc
    except Exception as exc:  # the file itself cannot be processed: retrying would not help
        # The detail (paths, library internals) goes to the log; the photo keeps a message for users.
        logger.exception("photo %s failed", photo_id)
        services.photos.mark_failed(photo_id=photo_id, error=services.photos.failure_of(exc))
        return PhotoStatus.FAILED


@shared_task(name="evidence.tasks.sweep_photos")
def sweep_photos() -> dict[str, int]:
    """Re-queue photos stuck in pending or processing (lost messages); give up after N attempts."""
    return services.photos.sweep_stuck()


@shared_task(name="evidence.tasks.sweep_exports")
def sweep_exports() -> dict[str, int]:
    """Queue again exports whose build went quiet (a dead worker or web process); give up after N attempts."""
    return services.exports.sweep_stuck()


@shared_task(name="evidence.tasks.build_export")
def build_export(export_id: int) -> str:
    """Build a dossier or package; a failure is recorded on the export, not retried blindly."""
    try:
        return build.build_export(export_id=export_id).status
    except Exception:
        return ExportStatus.FAILED


@shared_task(name="evidence.tasks.mark_overdue_trace_requests")
def mark_overdue_trace_requests() -> int:
    """The daily deadline check: sent trace requests not answered in time become NO_ANSWER. Returns how many."""
    return mark_overdue()


# --- Queueing what the services ask for after their commit (evidence.apps connects these on start) -----


@receiver(processing_wanted, dispatch_uid="evidence-queue-photo")
def queue_photo(sender, *, photo_id: int, **kwargs) -> None:
    """Queue the pipeline. A broker outage must not fail the upload: the sweeper re-queues later."""
    try:
        process_photo.delay(photo_id)
    except Exception:
        logger.exception("could not queue photo %s; the sweeper will retry", photo_id)


@receiver(build_wanted, dispatch_uid="evidence-queue-export")
def queue_export(sender, *, export_id: int, **kwargs) -> None:
    if build_export.app.conf.task_always_eager:
        # No broker: build on a thread of this process, not inside the web request that asked (a build
        # longer than the server's timeout died with the request and left the export "running").
        background.submit(build_in_process, export_id)
        return
    try:
        build_export.delay(export_id)
    except Exception:
        logger.exception("could not queue export %s", export_id)
        services.exports.mark_failed(export_id=export_id, error=failure(ExportErrorCode.NOT_QUEUED))


def build_in_process(export_id: int) -> None:
    """The build on a thread of this process (no broker). There is no beat either, so it first sweeps
    exports whose builds died with an earlier process."""
    services.exports.sweep_stuck()
    build_export.apply(args=(export_id,))
