"""Prepare a development instance: admin login and demo data. Safe to run again."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

DEV_ADMIN_USERNAME = "admin"
DEV_ADMIN_PASSWORD = "attest-admin-dev"  # noqa: S105 - printed on purpose; refused unless DEBUG


class Command(BaseCommand):
    help = "Create the development admin login and load the demo data where it exists (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="where the server will listen")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "bootstrap creates a login with a published password, so it runs only with DEBUG on; "
                "in production use createsuperuser."
            )
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("create_signing_key", stdout=self.stdout, stderr=self.stderr)
        if "load_demo" in get_commands():
            call_command("load_demo", stdout=self.stdout, stderr=self.stderr)
        self._ensure_admin(options["base_url"].rstrip("/"))

    def _ensure_admin(self, base_url: str) -> None:
        user_model = get_user_model()
        admin, created = user_model.objects.get_or_create(
            username=DEV_ADMIN_USERNAME,
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@attest.invalid"},
        )
        if created:
            admin.set_password(DEV_ADMIN_PASSWORD)
            admin.save(update_fields=["password"])
        if admin.check_password(DEV_ADMIN_PASSWORD):
            login = f"{DEV_ADMIN_USERNAME} / {DEV_ADMIN_PASSWORD}"
        else:
            login = f"{DEV_ADMIN_USERNAME} (its password was changed since it was created)"
        self.stdout.write(self.style.SUCCESS(f"Admin login: {login}"))
        self.stdout.write(f"Admin: {base_url}/admin/   API: {base_url}/api/v1/")
