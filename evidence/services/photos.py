"""Debris photos: accepting write-once originals and recording what the pipeline derives from them."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import Role
from cases.services import require_role
from evidence import custody, filestore
from evidence.choices import CapturedAtSource, EventType, FileKind, PhotoErrorCode, PhotoStatus, SubjectType
from evidence.lib.exif import PhotoMetadata, read_metadata
from evidence.lib.imaging import Derivatives, ImageInfo, inspect_image, make_derivatives
from evidence.lib.imaging import vet_and_derive as vet_and_derive_image
from evidence.lib.sniff import PhotoRejected
from evidence.models import EvidenceItem, Photo
from evidence.selectors import stuck_photos
from evidence.services.failures import failure, failure_for_users

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhotoAccepted:
    photo: Photo
    duplicate: bool  # the same bytes were already a photo of this item: nothing new was stored
    # `photo` is the row as it now stands, with its item, case and original: no need to read it again.
    # False for a duplicate, and where the processing ran here and failed (it marked the row).
    current: bool = False


def photo_state(photo: Photo) -> dict:
    """The photo's full state for the ledger, with its original's hash and size."""
    state = custody.snapshot(
        photo, exclude=("status", "error", "error_code", "error_params", "attempts", "status_changed_at", "exif")
    )
    state.update(sha256=photo.original.sha256, size=photo.original.size, exhibit=photo.item.exhibit_number)
    return state


def _photo_event(photo: Photo, event_type: str, actor, occurred_at=None, after=None):
    return custody.append_event(
        case=photo.item.case,
        event_type=event_type,
        subject_type=SubjectType.PHOTO,
        subject_id=photo.pk,
        subject_label=f"{photo.item.exhibit_number} photo {photo.original.sha256[:12]}",
        actor=actor,
        payload={"photo": photo_state(photo)},
        occurred_at=occurred_at,
        after=after,
    )


def vet(path: Path) -> ImageInfo:
    """What the photo is, or a ValidationError on `file` naming why it is refused."""
    with _refusals_as_validation_errors():
        return inspect_image(path, max_pixels=settings.ATTEST_MAX_IMAGE_PIXELS)


def vet_and_derive(path: Path) -> tuple[ImageInfo, Derivatives, PhotoMetadata]:
    """vet, and the photo's derivatives and metadata from the same decode (for a photo processed here)."""
    with _refusals_as_validation_errors():
        return vet_and_derive_image(path, max_pixels=settings.ATTEST_MAX_IMAGE_PIXELS)


@contextlib.contextmanager
def _refusals_as_validation_errors():
    try:
        yield
    except PhotoRejected as rejected:
        # The message is for the uploader; what Pillow said (it names the temporary file) is for the log.
        log.warning("photo refused (%s): %s; cause: %r", rejected.code, rejected.message, rejected.__cause__)
        raise ValidationError({"file": ValidationError(rejected.message, code=rejected.code)}) from None


def processed_in_this_process() -> bool:
    """Whether photos are processed here: Celery's eager mode, as the embedded default (no broker) runs
    tasks; the upload then processes its photo itself. A real worker processes it elsewhere, later."""
    return bool(current_app.conf.task_always_eager)


def add_photo(
    *,
    actor,
    item: EvidenceItem,
    upload: filestore.HashedTempFile,
    original_name: str,
    photographer: str = "",
    captured_at: dt.datetime | None = None,
    notes: str = "",
) -> PhotoAccepted:
    """Accept a photo of an exhibit: an investigator's right.

    The bytes are vetted (all image data decoded, JPEGs at reduced scale) before anything is
    stored, so a refused file leaves no row and no file. Where photos are processed in this
    process (no worker), the photo is processed from the vetting decode in the same
    transaction: photo.added, then photo.processed. Otherwise the task is queued for a worker
    once the row commits. The same bytes again on the same item are reported as a duplicate.
    """
    require_role(case=item.case, actor=actor, role=Role.INVESTIGATOR)
    if upload.size == 0:
        raise ValidationError({"file": ValidationError(_("The file is empty."), code="empty")})
    here = processed_in_this_process()
    if here:
        info, derivatives, metadata = vet_and_derive(upload.path)
    else:
        info, derivatives, metadata = vet(upload.path), None, None
    # A file name is a label only, never a path.
    label = Path(original_name.replace("\\", "/")).name[:255] or "upload"
    with transaction.atomic(), filestore.files_removed_on_failure():
        item = EvidenceItem.objects.select_for_update().select_related("case").get(pk=item.pk)
        existing = Photo.objects.filter(item=item, original__sha256=upload.sha256).first()
        if existing is not None:
            return PhotoAccepted(existing, duplicate=True)
        stored, _created = filestore.store(upload, kind=FileKind.ORIGINAL)
        photo = Photo(
            item=item,
            original=stored,
            original_name=label,
            format=info.format,
            width=info.width,
            height=info.height,
            photographer=photographer,
            captured_at=captured_at,
            captured_at_source=CapturedAtSource.STATED if captured_at else CapturedAtSource.UNKNOWN,
            notes=notes,
            uploaded_by=actor,
        )
        photo.full_clean(exclude=["original", "uploaded_by", "item"])
        photo.save()
        added = _photo_event(photo, EventType.PHOTO_ADDED, actor, occurred_at=captured_at)
        if derivatives is not None and _derivatives_written(photo, derivatives):
            photo.attempts = 1
            _record_processed(photo, metadata, derivatives, after=added)
            filestore.release_cached(stored.path)
            return PhotoAccepted(photo, duplicate=False, current=True)
        transaction.on_commit(lambda: enqueue_processing(photo.pk))
    # Queued for a worker elsewhere (or not yet: an enclosing transaction commits later), the row is as
    # saved here; queued in this process, the task ran at the commit and may have changed it.
    return PhotoAccepted(photo, duplicate=False, current=not here)


def _derivatives_written(photo: Photo, derivatives: Derivatives) -> bool:
    """Write the preview and thumbnail; False (logged) when the disk refuses, so the task is queued
    instead and records the failure on the photo as a worker's would."""
    try:
        _write_derivatives(photo, derivatives)
    except OSError:
        log.exception("photo %s: could not write its derivatives; queued for the task", photo.pk)
        return False
    return True


def _write_derivatives(photo: Photo, derivatives: Derivatives) -> None:
    filestore.write_derivative(photo.derivative_path("preview"), derivatives.preview_jpeg)
    filestore.write_derivative(photo.derivative_path("thumbnail"), derivatives.thumb_jpeg)


# Sent after commit for each photo the pipeline must (again) process. evidence.tasks receives it and queues
# the task: services do not import the tasks that call them.
processing_wanted = Signal()


def enqueue_processing(photo_id: int) -> None:
    processing_wanted.send(sender=Photo, photo_id=photo_id)


def _exif_capture_time(taken_at: str | None) -> dt.datetime | None:
    """EXIF time with its offset; without one, the camera's clock is taken as the configured zone's."""
    if not taken_at:
        return None
    try:
        moment = dt.datetime.fromisoformat(taken_at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return moment


def _decimal(value: float | None, places: int) -> Decimal | None:
    return None if value is None else round(Decimal(str(value)), places)


def claim_for_processing(photo_id: int) -> Photo | None:
    """Mark the photo as being processed; None when it is done already (a redelivered task)."""
    with transaction.atomic():
        # The original with it, for the path the task reads next; the lock stays on the photo's row only.
        photo = Photo.objects.select_for_update(of=("self",)).select_related("original").get(pk=photo_id)
        if photo.status == PhotoStatus.DONE:
            return None
        photo.status = PhotoStatus.PROCESSING
        photo.attempts += 1
        photo.status_changed_at = timezone.now()
        photo.save(update_fields=["status", "attempts", "status_changed_at"])
    return photo


def process_photo(*, photo_id: int) -> Photo:
    """Read EXIF, make the derivatives and hashes, and record the result in the ledger. Idempotent."""
    photo = claim_for_processing(photo_id)
    if photo is None:
        return Photo.objects.get(pk=photo_id)
    if settings.ATTEST_PHOTO_PROCESSING_DELAY:  # fault injection: lets a test kill a worker mid-task
        time.sleep(settings.ATTEST_PHOTO_PROCESSING_DELAY)
    with filestore.local_file(photo.original.path) as path:
        metadata = read_metadata(path)
        derivatives = make_derivatives(path, max_pixels=settings.ATTEST_MAX_IMAGE_PIXELS)
    _write_derivatives(photo, derivatives)
    filestore.release_cached(photo.original.path)  # done with the original's bytes
    with transaction.atomic():
        photo = Photo.objects.select_for_update().select_related("item__case", "original").get(pk=photo_id)
        if photo.status == PhotoStatus.DONE:
            return photo  # another delivery of the same task finished first
        _record_processed(photo, metadata, derivatives)
    return photo


def _record_processed(photo: Photo, metadata: PhotoMetadata, derivatives: Derivatives, after=None) -> None:
    """The photo done, with what its processing found, and photo.processed in the ledger. In the
    caller's transaction, with the photo's row locked or just made in it; `after` is the ledger's
    head when this transaction appended it (append_event)."""
    photo.camera_make = (metadata.make or "")[:120]
    photo.camera_model = (metadata.model or "")[:120]
    photo.lens = (metadata.lens or "")[:200]
    photo.exif_taken_at = metadata.taken_at or ""
    photo.gps_latitude = _decimal(metadata.latitude, 6)
    photo.gps_longitude = _decimal(metadata.longitude, 6)
    photo.gps_altitude = _decimal(metadata.altitude_m, 2)
    photo.orientation = metadata.orientation
    photo.exif = metadata.tags
    exif_time = _exif_capture_time(metadata.taken_at)
    if exif_time is not None:
        photo.captured_at, photo.captured_at_source = exif_time, CapturedAtSource.EXIF
    photo.preview_width, photo.preview_height = derivatives.preview_width, derivatives.preview_height
    photo.phash, photo.dhash = derivatives.phash, derivatives.dhash
    photo.status, photo.error, photo.error_code, photo.error_params = PhotoStatus.DONE, "", "", {}
    photo.processed_at = photo.status_changed_at = timezone.now()
    photo.save()
    _photo_event(photo, EventType.PHOTO_PROCESSED, actor=None, after=after)


def failure_of(exc: BaseException) -> dict:
    """The error stored on a failed photo: a refusal's own message, else a generic one (log the detail)."""
    return failure_for_users(exc, generic=PhotoErrorCode.NOT_PROCESSED, vetted={PhotoRejected: None})


def mark_failed(*, photo_id: int, error: dict) -> None:
    """Fail the photo with `error` as failure() or failure_of() gives it (a code shown in the reader's language)."""
    with transaction.atomic():
        photo = Photo.objects.select_for_update().get(pk=photo_id)
        if photo.status == PhotoStatus.DONE:
            return
        photo.status, photo.status_changed_at = PhotoStatus.FAILED, timezone.now()
        photo.error, photo.error_code, photo.error_params = (
            error["error"][:2000],
            error["error_code"],
            error["error_params"],
        )
        photo.save(update_fields=["status", "error", "error_code", "error_params", "status_changed_at"])


def requeue(*, photos, reset_attempts: bool = False) -> int:
    """Put photos back to pending and queue them (reprocess_photos, the sweeper)."""
    count = 0
    for photo in photos:
        with transaction.atomic():
            fields = {"status": PhotoStatus.PENDING, "status_changed_at": timezone.now()}
            fields.update(error="", error_code="", error_params={})
            if reset_attempts:
                fields["attempts"] = 0
            Photo.objects.filter(pk=photo.pk).update(**fields)
            transaction.on_commit(lambda pk=photo.pk: enqueue_processing(pk))
        count += 1
    return count


def sweep_stuck(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Re-queue photos stuck in pending or processing; give up on those out of attempts."""
    stuck = stuck_photos(now=now)
    gave_up = 0
    for photo in stuck.filter(attempts__gte=settings.ATTEST_PHOTO_MAX_ATTEMPTS):
        mark_failed(photo_id=photo.pk, error=failure(PhotoErrorCode.GAVE_UP, n=photo.attempts))
        gave_up += 1
    requeued = requeue(photos=list(stuck.filter(attempts__lt=settings.ATTEST_PHOTO_MAX_ATTEMPTS)))
    return {"requeued": requeued, "failed": gave_up}


def add_photo_from_path(*, actor, item: EvidenceItem, path: Path, **details) -> PhotoAccepted:
    """add_photo for a file already on this machine (ingest_photos, demo data): hashed as it is copied in."""
    with path.open("rb") as source, filestore.hashed_copy(source) as upload:
        return add_photo(actor=actor, item=item, upload=upload, original_name=path.name, **details)
