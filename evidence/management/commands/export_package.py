"""Build a case's evidence package (BagIt) now: a zip, or unpacked into a folder."""

from __future__ import annotations

import zipfile
from pathlib import Path

from django.core.management.base import CommandError

from evidence import filestore
from evidence.choices import ExportKind
from evidence.management.commands.export_dossier import ExportCommand


class Command(ExportCommand):
    help = "Build the BagIt evidence package of a case; --output FILE.zip, or a folder to unpack it into."
    kind = ExportKind.PACKAGE

    def check_output(self, output: Path) -> None:
        super().check_output(output)
        if output.suffix.lower() != ".zip" and output.exists() and any(output.iterdir()):
            raise CommandError(f"{output} is not empty")

    def write(self, export, output: Path) -> None:
        if output.suffix.lower() == ".zip":
            super().write(export, output)
            return
        output.mkdir(parents=True, exist_ok=True)
        with filestore.local_file(export.file.path) as stored, zipfile.ZipFile(stored) as bundle:
            bundle.extractall(output)
