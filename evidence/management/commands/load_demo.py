"""Load the demo cases and their users (DEBUG only). Safe to run again: nothing is added twice."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evidence.demo.build import load
from evidence.demo.data import PASSWORD


class Command(BaseCommand):
    help = (
        "Build the demo cases (Hwasong-11 launches at Ukraine; North Korean rockets and shipments) through the "
        "services, and create demo users with a published password. DEBUG only; safe to run again."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "load_demo creates logins with a published password, so it runs only with DEBUG on; "
                "production instances start empty."
            )
        logins = load(write=self.stdout.write)
        self.stdout.write("Demo logins (the same password for each; DEBUG only):")
        for login in logins:
            password = login.password or "(its password was changed since it was created)"
            self.stdout.write(self.style.SUCCESS(f"  Demo login: {login.username} / {password} / {login.role}"))
        if any(login.password != PASSWORD for login in logins):
            self.stdout.write("  (demo users whose password was changed keep it)")
