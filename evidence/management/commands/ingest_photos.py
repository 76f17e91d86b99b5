"""Ingest photo files and folders into an exhibit, as an investigator would upload them."""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from cases import references
from evidence import services
from evidence.models import EvidenceItem
from evidence.services.files import refusal_codes


def _files(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(child for child in path.rglob("*") if child.is_file() and not child.name.startswith("."))
            )
        else:
            found.append(path)
    return found


def _reason(error: ValidationError) -> str:
    return " ".join(" ".join(messages) for messages in error.message_dict.values())


class Command(BaseCommand):
    help = "Add photos (files or folders) to an exhibit. Exits 1 if any file was refused."

    def add_arguments(self, parser):
        parser.add_argument("case_reference", metavar="CASE_REF")
        parser.add_argument("exhibit_number", metavar="EXHIBIT_NO", help="e.g. EX-0001")
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument("--as", dest="username", required=True, help="the investigator recording them")
        parser.add_argument("--photographer", default="")
        parser.add_argument(
            "--keep-refused",
            action="store_true",
            help="keep a file refused as a photo (a damaged original) as an evidence file of the exhibit",
        )

    def handle(self, *args, case_reference, exhibit_number, paths, username, photographer, keep_refused, **options):
        actor = get_user_model().objects.filter(username=username, is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {username!r}")
        item = (
            EvidenceItem.objects.visible_to(actor)
            .filter(case__reference=references.normalise(case_reference), exhibit_number=exhibit_number)
            .select_related("case")
            .first()
        )
        if item is None:
            raise CommandError(
                references.printable(f"no exhibit {exhibit_number} in case {case_reference} visible to {username}")
            )
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise CommandError(references.printable(f"no such file or folder: {', '.join(missing)}"))
        files = _files(paths)
        accepted = duplicates = 0
        refused: list[tuple[Path, str]] = []
        kept: list[tuple[Path, str]] = []
        for number, path in enumerate(files, start=1):
            try:
                result = services.add_photo_from_path(actor=actor, item=item, path=path, photographer=photographer)
            except ValidationError as error:
                outcome = "refused"
                if keep_refused:
                    reason = f"refused as a photo ({', '.join(refusal_codes(error))})"
                    try:
                        result = services.keep_file_from_path(actor=actor, item=item, path=path, reason=reason)
                    except ValidationError as not_kept:
                        refused.append((path, f"{_reason(error)} Not kept: {' '.join(not_kept.messages)}"))
                    else:
                        kept.append((path, result.kept.file.sha256))
                        outcome = "kept as an evidence file"
                else:
                    refused.append((path, _reason(error)))
            except (PermissionDenied, Http404) as error:
                raise CommandError(
                    references.printable(f"{username} may not add photos to {exhibit_number}: {error}")
                ) from None
            except OSError as error:
                refused.append((path, f"cannot read: {error.strerror}"))
                outcome = "refused"
            else:
                duplicates += result.duplicate
                accepted += not result.duplicate
                outcome = "duplicate" if result.duplicate else "accepted"
            # A file's name is its maker's text: escaped, so that none can write a line or move the cursor.
            name = references.printable(path.name)
            self.stderr.write(f"[{number}/{len(files)}] {'#' * (20 * number // len(files)):<20} {name}: {outcome}")
        summary = f"{accepted} accepted, {duplicates} duplicates, {len(refused)} refused"
        self.stdout.write(summary + (f", {len(kept)} kept as evidence files" if keep_refused else ""))
        for path, sha256 in kept:
            self.stdout.write(
                f"  {references.printable(str(path))}: refused as a photo, kept as an evidence file, SHA-256 {sha256}"
            )
        for path, reason in refused:
            self.stdout.write(f"  {references.printable(str(path))}: refused: {references.printable(reason)}")
        if refused:
            sys.exit(1)
