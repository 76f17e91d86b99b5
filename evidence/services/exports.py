"""Dossiers and evidence packages: asked for by a case member, built by Celery, stored write-once.

The build signs a checkpoint of the ledger head first; the dossier prints that head and the
export event records it with the file's SHA-256, so anyone holding the dossier can later check
that the ledger still contains what the dossier was made from.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone, translation

from cases.choices import Role
from cases.models import Case
from cases.services import require_role
from evidence import custody, filestore, timestamps
from evidence.choices import EventType, ExportErrorCode, ExportKind, ExportStatus, FileKind, SubjectType
from evidence.models import Checkpoint, Export
from evidence.selectors import stuck_exports
from evidence.services.failures import failure, failure_for_users

# What went wrong is stored as a code with its parameters (ExportErrorCode), shown in the reader's language,
# and in English in `error` (the API returns it). The stages are stable codes too (evidence.export.stages).


class Superseded(Exception):
    """The sweeper gave this build's export to a newer attempt: this one must store nothing."""


def failure_of(exc: BaseException) -> dict:
    """The error stored on a failed export: a vetted message for a known cause, else a generic one."""
    return failure_for_users(
        exc, generic=ExportErrorCode.NOT_BUILT, vetted={custody.SigningKeyMissing: ExportErrorCode.NO_SIGNING_KEY}
    )


@transaction.atomic
def request_export(
    *,
    actor,
    case: Case,
    kind: str = ExportKind.DOSSIER,
    language: str = "en",
    include_photos: bool = True,
    redact_names: bool = False,
    enqueue: bool = True,
) -> Export:
    """Ask for a dossier or package: any member of the case may. It is built after commit.

    enqueue=False leaves the build to the caller (export_dossier builds it there and then).
    """
    require_role(case=case, actor=actor, role=Role.VIEWER)
    export = Export(
        case=case,
        kind=kind,
        language=language,
        include_photos=include_photos,
        redact_names=redact_names,
        requested_by=actor,
    )
    export.full_clean(exclude=["case", "requested_by"])
    export.save()
    if enqueue:
        transaction.on_commit(lambda: _enqueue(export.pk))
    return export


# Sent after commit for each export to build. evidence.tasks receives it and queues the build (with a broker)
# or runs it on a thread of this process (without one): services do not import the tasks that call them.
build_wanted = Signal()


def _enqueue(export_id: int) -> None:
    build_wanted.send(sender=Export, export_id=export_id)


def report_progress(export_id: int, percent: int, stage: str, *, started_at=None) -> None:
    """Progress is written in its own short transaction so the admin and the API see it while it runs.

    It is the build's heartbeat too. With started_at, only while the export is still this build's.
    """
    exports = Export.objects.filter(pk=export_id)
    if started_at is not None:
        exports = exports.filter(started_at=started_at)
    exports.update(progress=max(0, min(100, percent)), stage=stage[:120], heartbeat_at=timezone.now())


def mark_failed(*, export_id: int, error: dict, started_at=None) -> None:
    """Fail the export with `error` as failure() or failure_of() gives it."""
    exports = Export.objects.filter(pk=export_id).exclude(status=ExportStatus.DONE)
    if started_at is not None:
        exports = exports.filter(started_at=started_at)
    exports.update(status=ExportStatus.FAILED, finished_at=timezone.now(), **error)


def claim_build(export_id: int) -> Export | None:
    with transaction.atomic():
        export = Export.objects.select_for_update().select_related("case", "requested_by").get(pk=export_id)
        now = timezone.now()
        quiet_since = now - timedelta(minutes=settings.ATTEST_EXPORT_STUCK_MINUTES)
        if export.status == ExportStatus.DONE or (
            export.status == ExportStatus.RUNNING and export.heartbeat_at > quiet_since
        ):
            return None  # done already, or another worker is on it (a dead worker's build goes quiet)
        export.status, export.started_at, export.heartbeat_at, export.progress, export.stage = (
            ExportStatus.RUNNING, now, now, 0, "starting",
        )  # fmt: skip
        export.error, export.error_code, export.error_params = "", "", {}
        export.attempts += 1
        export.save(update_fields=[
            "status", "started_at", "heartbeat_at", "attempts", "progress", "stage", "error", "error_code",
            "error_params",
        ])  # fmt: skip
    return export


@transaction.atomic
def sweep_stuck(*, now=None) -> dict[str, int]:
    """Queue again exports whose build went quiet (pending or running, no sign of life for
    ATTEST_EXPORT_STUCK_MINUTES); give up on those that had ATTEST_EXPORT_MAX_ATTEMPTS. The reason is
    stored on the export. Its state is not evidence (only a finished export is in the ledger)."""
    counts = {"requeued": 0, "failed": 0}
    now = now or timezone.now()
    minutes = settings.ATTEST_EXPORT_STUCK_MINUTES
    for export in stuck_exports(now=now).select_for_update():
        reason = {"minutes": minutes, "stage": export.stage or export.status, "attempts": export.attempts}
        if export.attempts >= settings.ATTEST_EXPORT_MAX_ATTEMPTS:
            export.status, export.finished_at = ExportStatus.FAILED, now
            _set_error(export, failure(ExportErrorCode.STALLED_GAVE_UP, **reason))
            export.save(update_fields=["status", "error", "error_code", "error_params", "finished_at"])
            counts["failed"] += 1
            continue
        export.status, export.heartbeat_at = ExportStatus.PENDING, now
        _set_error(export, failure(ExportErrorCode.STALLED_REQUEUED, minutes=minutes, stage=reason["stage"]))
        export.progress, export.stage = 0, ""
        export.save(
            update_fields=["status", "error", "error_code", "error_params", "heartbeat_at", "progress", "stage"]
        )
        transaction.on_commit(lambda pk=export.pk: _enqueue(pk))
        counts["requeued"] += 1
    return counts


def _set_error(export: Export, error: dict) -> None:
    for name, value in error.items():
        setattr(export, name, value)


def store_build(*, export_id: int, built: Path, checkpoint: Checkpoint, claimed_at) -> Export:
    """Keep the built file write-once on the export and record it in the ledger, in one transaction.

    Superseded when a newer attempt owns the export now (a build the sweeper gave up on may finish).
    """
    with (
        built.open("rb") as handle,
        filestore.hashed_copy(handle, max_bytes=2**62) as copy,
        transaction.atomic(),
        filestore.files_removed_on_failure(),
    ):
        export = Export.objects.select_for_update().select_related("case", "requested_by").get(pk=export_id)
        if export.status == ExportStatus.DONE or export.started_at != claimed_at:
            raise Superseded
        stored, _created = filestore.store(copy, kind=FileKind.EXPORT)
        export.file, export.checkpoint = stored, checkpoint
        export.status, export.progress, export.stage = ExportStatus.DONE, 100, "done"
        export.error, export.error_code, export.error_params = "", "", {}
        export.finished_at = timezone.now()
        export.save()
        _export_event(export)
    return export


def seal_package(export: Export, files: list[dict]) -> Checkpoint:
    """Record the package's own files (case.json, its dossier) and sign the checkpoint it ships."""
    with transaction.atomic():
        custody.append_event(
            case=export.case,
            event_type=EventType.PACKAGE_SEALED,
            subject_type=SubjectType.EXPORT,
            subject_id=export.pk,
            subject_label=f"Evidence package {export.pk}",
            actor=export.requested_by,
            payload={"files": files},
        )
        checkpoint = custody.sign_checkpoint(case=export.case, reason=f"package {export.pk} sealed")
    timestamps.stamp(checkpoint)  # after the commit: no lock is held while a TSA answers
    return checkpoint


def _export_event(export: Export):
    state = custody.snapshot(
        export, exclude=("progress", "stage", "error", "error_code", "error_params", "heartbeat_at", "attempts")
    )
    state.update(sha256=export.file.sha256, size=export.file.size, filename=export.filename)
    with translation.override(None):  # the ledger's label is English, whatever language the build runs in
        label = f"{export.get_kind_display()} {export.pk}"
    return custody.append_event(
        case=export.case,
        event_type=EventType.EXPORT_PRODUCED,
        subject_type=SubjectType.EXPORT,
        subject_id=export.pk,
        subject_label=label,
        actor=export.requested_by,
        payload={"export": state, "checkpoint": export.checkpoint.as_signed(export.case.reference)},
    )
