"""Queue photos for the pipeline again."""

from django.core.management.base import BaseCommand

from evidence import services
from evidence.choices import PhotoStatus
from evidence.models import Photo


class Command(BaseCommand):
    help = "Re-queue photos still pending or processing; --failed for failed ones, --all for every photo."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--failed", action="store_true", help="only photos whose processing failed")
        which.add_argument("--all", action="store_true", help="every photo (rebuilds derivatives)")

    def handle(self, *args, failed, all, **options):
        photos = Photo.objects.all()
        if failed:
            photos = photos.filter(status=PhotoStatus.FAILED)
        elif not all:
            photos = photos.filter(status__in=[PhotoStatus.PENDING, PhotoStatus.PROCESSING])
        count = services.photos.requeue(photos=list(photos.order_by("pk")), reset_attempts=True)
        self.stdout.write(f"{count} photo(s) queued")
