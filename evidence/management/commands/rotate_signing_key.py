"""Replace the ledger signing key, recording the hand-over in every case's ledger."""

from django.core.management.base import BaseCommand, CommandError

from evidence import custody


class Command(BaseCommand):
    help = (
        "Replace the ledger signing key. Each case's ledger records a key.rotated event naming the old and new "
        "key fingerprints, under a checkpoint signed by the old key; the old public key stays trusted."
    )

    def handle(self, *args, **options):
        try:
            old, new = custody.rotate_signing_key()
        except custody.SigningKeyMissing as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Signing key rotated: {old} -> {new}")
        self.stdout.write("Publish the new fingerprint where the old one was published (dossiers print it).")
