"""Create the Ed25519 key that signs ledger checkpoints, at ATTEST_SIGNING_KEY_PATH."""

from django.core.management.base import BaseCommand

from evidence import custody
from evidence.lib.ledger import key_id


class Command(BaseCommand):
    help = "Create the ledger signing key if there is none (an existing key is never replaced)."

    def handle(self, *args, **options):
        path = custody.signing_key_path()
        existed = path.exists()
        custody.ensure_signing_key(path)
        state = "exists already" if existed else "created"
        self.stdout.write(f"Ledger signing key {state}: {path} (key id {key_id(custody.public_key_raw())})")
        self.stdout.write(custody.public_key_pem().decode().strip())
