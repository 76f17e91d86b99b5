"""Verify the chain of custody of cases: hashes, links, checkpoint signatures and every stored file."""

from django.core.management.base import BaseCommand, CommandError

from cases import references as case_references
from cases.models import Case
from evidence import custody
from evidence.lib.ledger import LedgerFormatError, parse_head


class Command(BaseCommand):
    help = (
        "Recompute every ledger hash and link, check every checkpoint signature and re-hash every "
        "stored file. Exits 0 when every case is intact, 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("references", nargs="*", metavar="CASE_REF", help="cases to verify (default: all)")
        parser.add_argument(
            "--head",
            action="append",
            default=[],
            metavar="SIZE:SHA256",
            help="a ledger head published earlier (e.g. in a dossier) that must still be a prefix",
        )
        parser.add_argument("--skip-files", action="store_true", help="check the ledger only")

    def handle(self, *args, references, head, skip_files, **options):
        try:
            heads = [parse_head(text) for text in head]
        except LedgerFormatError as exc:
            raise CommandError(f"--head: {exc}") from None
        if heads and len(references) != 1:
            raise CommandError("--head applies to one case: name exactly one CASE_REF")
        cases = Case.objects.order_by("reference")
        references = [case_references.normalise(reference) for reference in references]
        if references:
            found = {case.reference: case for case in cases.filter(reference__in=references)}
            missing = [reference for reference in references if reference not in found]
            if missing:
                raise CommandError(f"no such case: {case_references.printable(', '.join(missing))}")
            cases = [found[reference] for reference in references]
        broken = 0
        for case in cases:
            # A reference from before the reference policy may hold a line break or a bidi override.
            shown = case_references.printable(case.reference)
            report = custody.verify_case(case, published_heads=heads, files=not skip_files)
            summary = f"{report.size} events, head {report.head}, {report.checkpoints} checkpoints"
            summary += f", {report.files} files"
            if heads:  # say what it was checked against, so the reader can compare it with the dossier
                summary += "; checked against " + ", ".join(f"head {size}:{value}" for size, value in heads)
            if report.intact:
                self.stdout.write(f"{shown}: intact ({summary})")
            else:
                broken += 1
                self.stdout.write(f"{shown}: BROKEN ({summary})")
                for problem in report.problems:
                    self.stdout.write(f"  {case_references.printable(str(problem))}")
        if broken:
            self.stderr.write(f"{broken} case(s) failed verification")
            raise SystemExit(1)
