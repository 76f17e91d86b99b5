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
from evidence import custody, filestore
from evidence.choices import EventType, ExportKind, ExportStatus, FileKind, SubjectType
from evidence.models import Export
from evidence.services.common import message_for_users

log = logging.getLogger(__name__)

# Stored in English on the export (and so returned by the API); the admin translates it when shown.
# The stages are stable codes too, shown translated by evidence.export.stages.stage_label().
NOT_QUEUED = gettext_noop("The build could not be queued: the task broker is unreachable.")
NOT_BUILT = gettext_noop("The build failed; the server log has the details.")
NO_SIGNING_KEY = gettext_noop("The build failed: the ledger signing key is missing (see create_signing_key).")


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
) -> Export:
    """Ask for a dossier or package: any member of the case may. It is built after commit."""
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
    transaction.on_commit(lambda: _enqueue(export.pk))
    return export


def _enqueue(export_id: int) -> None:
    from evidence.tasks import build_export as task

    try:
        task.delay(export_id)
    except Exception:
        log.exception("could not queue export %s", export_id)
        mark_failed(export_id=export_id, error=NOT_QUEUED)


def report_progress(export_id: int, percent: int, stage: str) -> None:
    """Progress is written in its own short transaction so the admin and the API see it while it runs."""
    Export.objects.filter(pk=export_id).update(progress=max(0, min(100, percent)), stage=stage[:120])


def mark_failed(*, export_id: int, error: str) -> None:
    Export.objects.filter(pk=export_id).exclude(status=ExportStatus.DONE).update(
        status=ExportStatus.FAILED, error=error[:4000], finished_at=timezone.now()
    )


def _claim(export_id: int) -> Export | None:
    with transaction.atomic():
        export = Export.objects.select_for_update().select_related("case", "requested_by").get(pk=export_id)
        stale = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
        if export.status == ExportStatus.DONE or (export.status == ExportStatus.RUNNING and export.started_at > stale):
            return None  # done already, or another worker is on it (a killed worker's build goes stale)
        export.status, export.started_at, export.progress, export.stage, export.error = (
            ExportStatus.RUNNING, timezone.now(), 0, "starting", "",
        )  # fmt: skip
        export.save(update_fields=["status", "started_at", "progress", "stage", "error"])
    return export


def build_export(*, export_id: int) -> Export:
    """Build the file in a temporary folder, store it write-once, then record it in the ledger.

    Any failure leaves the request failed with its error, and no file: the temporary folder goes,
    and nothing reaches the store until the build is complete.
    """
    from evidence.export.collect import dossier_data
    from evidence.export.dossier import render_dossier
    from evidence.export.package import build_package

    export = _claim(export_id)
    if export is None:
        return Export.objects.get(pk=export_id)

    # The dossier is all of a dossier's build, and the first 60 % of a package's.
    scale = 0.6 if export.kind == ExportKind.PACKAGE else 0.95

    def progress(percent: int, stage: str) -> None:
        report_progress(export_id, int(percent * scale), stage)

    try:
        checkpoint = custody.sign_checkpoint(case=export.case, reason=f"export {export.pk}")
        with tempfile.TemporaryDirectory(dir=filestore.incoming_dir(), prefix="export-") as folder:
            workdir = Path(folder)
            dossier = workdir / f"{export.case.reference}-dossier.pdf"
            render_dossier(dossier_data(export, checkpoint, workdir=workdir), dossier, progress=progress)
            result = dossier
            if export.kind == ExportKind.PACKAGE:
                result = build_package(
                    export,
                    checkpoint=checkpoint,
                    dossier=dossier,
                    workdir=workdir,
                    progress=lambda percent, stage: report_progress(export_id, percent, stage),
                )
            report_progress(export_id, 98, "storing")
            with (
                result.open("rb") as built,
                filestore.hashed_copy(built, max_bytes=2**62) as copy,
                transaction.atomic(),
                filestore.files_removed_on_failure(),
            ):
                stored, _created = filestore.store(copy, kind=FileKind.EXPORT)
                export = Export.objects.select_for_update().select_related("case", "requested_by").get(pk=export_id)
                export.file, export.checkpoint = stored, checkpoint
                export.status, export.progress, export.stage = ExportStatus.DONE, 100, "done"
                export.finished_at = timezone.now()
                export.save()
                _export_event(export)
    except Exception as exc:
        log.exception("export %s failed", export_id)  # the detail stays here, out of the export's error
        mark_failed(export_id=export_id, error=failure_message(exc))
        raise
    return export


def _export_event(export: Export):
    state = custody.snapshot(export, exclude=("progress", "stage", "error"))
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
