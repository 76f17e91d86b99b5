"""Import sanctioned entities from an OFAC SDN.CSV file."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cases.services import import_sdn


class Command(BaseCommand):
    help = "Import entities from an OFAC SDN.CSV file (legacy format, no header). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--list-name", default="OFAC SDN")

    def handle(self, *args, path: Path, list_name: str, **options):
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text (byte {exc.start})") from None
        actor = get_user_model().objects.filter(is_superuser=True).first()
        result = import_sdn(actor=actor, text=text, list_name=list_name)
        for error in result["errors"]:
            self.stderr.write(f"{path}:{error.line}: rejected: {error.message}")
        self.stdout.write(
            f"{path.name}: {result['created']} created, {result['updated']} updated, "
            f"{result['unchanged']} unchanged, {result['rejected']} rejected"
        )
        if result["rejected"]:
            raise CommandError(f"{result['rejected']} malformed rows were rejected (see above)")
