"""Build a case's PDF dossier now and write it to a file."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from cases import references
from cases.models import Case
from evidence import filestore, services
from evidence.choices import ExportKind, ExportStatus
from evidence.export.build import build_export


class ExportCommand(BaseCommand):
    kind = ExportKind.DOSSIER

    def add_arguments(self, parser):
        parser.add_argument("case_reference", metavar="CASE_REF")
        parser.add_argument("--output", required=True, type=Path)
        parser.add_argument("--as", dest="username", help="who asks for it (default: the case's lead)")
        parser.add_argument("--language", choices=["en", "uk"], default="en")
        parser.add_argument("--no-photos", action="store_true", help="leave photo previews out")
        parser.add_argument("--redact", action="store_true", help="replace personal names with Witness 1, …")

    def handle(self, *args, case_reference, output, username, language, no_photos, redact, **options):
        case_reference = references.normalise(case_reference)
        case = Case.objects.filter(reference=case_reference).first()
        if case is None:
            raise CommandError(f"no such case: {references.printable(case_reference)}")
        actor = get_user_model().objects.filter(username=username).first() if username else case.lead
        if actor is None:
            raise CommandError(f"no such user: {username}" if username else f"{case_reference} has no lead; use --as")
        self.check_output(output)
        try:
            export = services.request_export(
                actor=actor, case=case, kind=self.kind, language=language, include_photos=not no_photos,
                redact_names=redact, enqueue=False,
            )  # fmt: skip
        except (PermissionDenied, Http404):
            raise CommandError(f"{actor.get_username()} is not on case {case_reference}") from None
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        try:
            # Built here and now, whatever the broker (so not queued too): the command's caller waits for the file.
            export = build_export(export_id=export.pk)
        except Exception as error:
            raise CommandError(f"the build failed: {type(error).__name__}: {error}") from None
        if export.status != ExportStatus.DONE:
            raise CommandError(f"the build did not finish: {export.status} {export.error}")
        self.write(export, output)
        head = f"{export.checkpoint.size}:{export.checkpoint.head_hash}"
        self.stdout.write(f"{output}: {export.file.size} bytes, SHA-256 {export.file.sha256}, ledger head {head}")

    def check_output(self, output: Path) -> None:
        """Refuse a bad --output before spending the build on it."""
        if not output.parent.exists():
            raise CommandError(f"no such folder: {output.parent}")

    def write(self, export, output: Path) -> None:
        with filestore.open_stored(export.file.path) as stored, output.open("wb") as out:
            shutil.copyfileobj(stored, out, filestore.CHUNK_SIZE)


class Command(ExportCommand):
    help = "Build the PDF dossier of a case and write it to --output (recorded in the custody ledger)."
