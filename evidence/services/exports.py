"""Dossiers and evidence packages: asked for by a case member, built by Celery, stored write-once.

The build signs a checkpoint of the ledger head first; the dossier prints that head and the
export event records it with the file's SHA-256, so anyone holding the dossier can later check
that the ledger still contains what the dossier was made from.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from cases.choices import Role
from cases.models import Case
from cases.services import require_role
from evidence import background, custody, filestore, timestamps
from evidence.choices import EventType, ExportKind, ExportStatus, FileKind, SubjectType
from evidence.models import Checkpoint, Export
from evidence.selectors import stuck_exports
from evidence.services.common import message_for_users

log = logging.getLogger(__name__)

# Stored in English on the export (and so returned by the API); the admin translates it when shown.
# The stages are stable codes too, shown translated by evidence.export.stages.stage_label().
NOT_QUEUED = gettext_noop("The build could not be queued: the task broker is unreachable.")
NOT_BUILT = gettext_noop("The build failed; the server log has the details.")
NO_SIGNING_KEY = gettext_noop("The build failed: the ledger signing key is missing (see create_signing_key).")
# Written by the sweeper on a build that went quiet (its worker or web process died, or it hung).
STALLED_REQUEUED = gettext_noop(
    "No sign of progress for %(minutes)s minutes (at stage %(stage)s): the build was queued again."
)
STALLED_GAVE_UP = gettext_noop(
    "No sign of progress for %(minutes)s minutes (at stage %(stage)s) after %(attempts)s attempts: "
    "the build was given up. Ask for a new export."
)


class Superseded(Exception):
    """The sweeper gave this build's export to a newer attempt: this one must store nothing."""


def failure_message(exc: BaseException) -> str:
    """The error stored on a failed export: a vetted message for a known cause, else a generic one."""
    return message_for_users(exc, generic=NOT_BUILT, vetted={custody.SigningKeyMissing: NO_SIGNING_KEY})


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


def _enqueue(export_id: int) -> None:
    from evidence.tasks import build_export as task

    if task.app.conf.task_always_eager:
        # No broker: build on a thread of this process, not inside the web request that asked (a build
        # longer than the server's timeout died with the request and left the export "running").
        background.submit(build_in_process, export_id)
        return
    try:
        task.delay(export_id)
    except Exception:
        log.exception("could not queue export %s", export_id)
        mark_failed(export_id=export_id, error=NOT_QUEUED)


def build_in_process(export_id: int) -> None:
    """The build on a thread of this process (no broker). There is no beat either, so it first sweeps
    exports whose builds died with an earlier process."""
    from evidence.tasks import build_export as task

    sweep_stuck()
    task.apply(args=(export_id,))


def report_progress(export_id: int, percent: int, stage: str, *, started_at=None) -> None:
    """Progress is written in its own short transaction so the admin and the API see it while it runs.

    It is the build's heartbeat too. With started_at, only while the export is still this build's.
    """
    exports = Export.objects.filter(pk=export_id)
    if started_at is not None:
        exports = exports.filter(started_at=started_at)
    exports.update(progress=max(0, min(100, percent)), stage=stage[:120], heartbeat_at=timezone.now())


def mark_failed(*, export_id: int, error: str, started_at=None) -> None:
    exports = Export.objects.filter(pk=export_id).exclude(status=ExportStatus.DONE)
    if started_at is not None:
        exports = exports.filter(started_at=started_at)
    exports.update(status=ExportStatus.FAILED, error=error[:4000], finished_at=timezone.now())


def _claim(export_id: int) -> Export | None:
    with transaction.atomic():
        export = Export.objects.select_for_update().select_related("case", "requested_by").get(pk=export_id)
        now = timezone.now()
        quiet_since = now - timedelta(minutes=settings.ATTEST_EXPORT_STUCK_MINUTES)
        if export.status == ExportStatus.DONE or (
            export.status == ExportStatus.RUNNING and export.heartbeat_at > quiet_since
        ):
            return None  # done already, or another worker is on it (a dead worker's build goes quiet)
        export.status, export.started_at, export.heartbeat_at, export.progress, export.stage, export.error = (
            ExportStatus.RUNNING, now, now, 0, "starting", "",
        )  # fmt: skip
        export.attempts += 1
        export.save(update_fields=["status", "started_at", "heartbeat_at", "attempts", "progress", "stage", "error"])
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
            export.status, export.error, export.finished_at = ExportStatus.FAILED, STALLED_GAVE_UP % reason, now
            export.save(update_fields=["status", "error", "finished_at"])
            counts["failed"] += 1
            continue
        export.status, export.error, export.heartbeat_at = ExportStatus.PENDING, STALLED_REQUEUED % reason, now
        export.progress, export.stage = 0, ""
        export.save(update_fields=["status", "error", "heartbeat_at", "progress", "stage"])
        transaction.on_commit(lambda pk=export.pk: _enqueue(pk))
        counts["requeued"] += 1
    return counts


def build_export(*, export_id: int) -> Export:
    """Build the file in a temporary folder, store it write-once, then record it in the ledger.

    Any failure leaves the request failed with its error, and no file: the temporary folder goes,
    and nothing reaches the store until the build is complete.
    """
    from evidence.export.collect import dossier_data
    from evidence.export.package import build_package
    from evidence.export.pdf.render import render_dossier

    export = _claim(export_id)
    if export is None:
        return Export.objects.get(pk=export_id)
    claimed_at = export.started_at  # which build the export is: the sweeper may hand it to a newer one

    # The dossier is all of a dossier's build, and the first 60 % of a package's.
    scale = 0.6 if export.kind == ExportKind.PACKAGE else 0.95

    def progress(percent: int, stage: str) -> None:
        report_progress(export_id, int(percent * scale), stage, started_at=claimed_at)

    try:
        checkpoint = custody.sign_checkpoint(case=export.case, reason=f"export {export.pk}")
        timestamps.stamp(checkpoint)  # before the dossier, which prints the token's time
        with tempfile.TemporaryDirectory(dir=filestore.incoming_dir(), prefix="export-") as folder:
            workdir = Path(folder)
            dossier = workdir / "dossier.pdf"  # never a name from user text: a reference once wrote outside
            render_dossier(dossier_data(export, checkpoint, workdir=workdir), dossier, progress=progress)
            result = dossier
            if export.kind == ExportKind.PACKAGE:
                result, checkpoint = build_package(
                    export,
                    checkpoint=checkpoint,
                    dossier=dossier,
                    workdir=workdir,
                    seal=lambda files: _seal_package(export, files),
                    progress=lambda percent, stage: report_progress(export_id, percent, stage, started_at=claimed_at),
                )
            report_progress(export_id, 98, "storing", started_at=claimed_at)
            with (
                result.open("rb") as built,
                filestore.hashed_copy(built, max_bytes=2**62) as copy,
                transaction.atomic(),
                filestore.files_removed_on_failure(),
            ):
                export = Export.objects.select_for_update().select_related("case", "requested_by").get(pk=export_id)
                if export.status == ExportStatus.DONE or export.started_at != claimed_at:
                    raise Superseded  # a newer attempt owns the export now (a build the sweeper gave up on may finish)
                stored, _created = filestore.store(copy, kind=FileKind.EXPORT)
                export.file, export.checkpoint = stored, checkpoint
                export.status, export.progress, export.stage, export.error = ExportStatus.DONE, 100, "done", ""
                export.finished_at = timezone.now()
                export.save()
                _export_event(export)
    except Superseded:
        log.warning("export %s: a newer attempt owns it; this build stored nothing", export_id)
        return Export.objects.get(pk=export_id)
    except Exception as exc:
        log.exception("export %s failed", export_id)  # the detail stays here, out of the export's error
        mark_failed(export_id=export_id, error=failure_message(exc), started_at=claimed_at)
        raise
    return export


def _seal_package(export: Export, files: list[dict]) -> Checkpoint:
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
    state = custody.snapshot(export, exclude=("progress", "stage", "error", "heartbeat_at", "attempts"))
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
