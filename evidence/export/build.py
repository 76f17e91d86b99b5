"""Building an export: the dossier rendered, for a package the package assembled around it, then stored.

Each write (claiming the build, its progress, sealing the package, storing the file with its ledger event, a
failure) is a service of evidence.services.exports; this module renders between them.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from evidence import custody, filestore, timestamps
from evidence.choices import ExportKind
from evidence.export.collect import dossier_data
from evidence.export.package import build_package
from evidence.export.pdf.render import render_dossier
from evidence.models import Export
from evidence.services import exports as export_services

log = logging.getLogger(__name__)


def build_export(*, export_id: int) -> Export:
    """Build the file in a temporary folder, store it write-once, then record it in the ledger.

    Any failure leaves the request failed with its error, and no file: the temporary folder goes,
    and nothing reaches the store until the build is complete.
    """
    export = export_services.claim_build(export_id)
    if export is None:
        return Export.objects.get(pk=export_id)
    claimed_at = export.started_at  # which build the export is: the sweeper may hand it to a newer one

    # The dossier is all of a dossier's build, and the first 60 % of a package's.
    scale = 0.6 if export.kind == ExportKind.PACKAGE else 0.95

    def progress(percent: int, stage: str) -> None:
        export_services.report_progress(export_id, int(percent * scale), stage, started_at=claimed_at)

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
                    seal=lambda files: export_services.seal_package(export, files),
                    progress=lambda percent, stage: export_services.report_progress(
                        export_id, percent, stage, started_at=claimed_at
                    ),
                )
            export_services.report_progress(export_id, 98, "storing", started_at=claimed_at)
            return export_services.store_build(
                export_id=export_id, built=result, checkpoint=checkpoint, claimed_at=claimed_at
            )
    except export_services.Superseded:
        log.warning("export %s: a newer attempt owns it; this build stored nothing", export_id)
        return Export.objects.get(pk=export_id)
    except Exception as exc:
        log.exception("export %s failed", export_id)  # the detail stays here, out of the export's error
        export_services.mark_failed(export_id=export_id, error=export_services.failure_of(exc), started_at=claimed_at)
        raise
