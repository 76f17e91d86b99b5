"""Files kept as evidence as they arrived: what reached the case is never lost for not being a photo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cases.choices import Role
from cases.models import refuse_long_text
from cases.services import require_role
from evidence import custody, filestore
from evidence.choices import EventType, FileKind, SubjectType
from evidence.models import EvidenceFile, EvidenceItem


@dataclass(frozen=True)
class FileKept:
    kept: EvidenceFile
    duplicate: bool  # the same bytes were already kept for this item: nothing new was stored


def refusal_codes(refusal: ValidationError) -> list[str]:
    """The codes of a photo's refusal (truncated, polyglot, …): the reason a kept file records, in any language."""
    groups = refusal.error_dict.values() if hasattr(refusal, "error_dict") else [refusal.error_list]
    return sorted({error.code or "invalid" for group in groups for error in group})


def keep_file(
    *, actor, item: EvidenceItem, upload: filestore.HashedTempFile, original_name: str, reason: str = ""
) -> FileKept:
    """Keep a file of an exhibit byte for byte (a damaged photo original, say): an investigator's right.

    Nothing is decoded: the bytes are stored write-once under their SHA-256 and the keeping is
    appended to the ledger in the same transaction. They are only ever offered as a download.
    """
    require_role(case=item.case, actor=actor, role=Role.INVESTIGATOR)
    if upload.size == 0:
        raise ValidationError({"file": ValidationError(_("The file is empty."), code="empty")})
    refuse_long_text(reason=reason)
    label = Path(original_name.replace("\\", "/")).name[:255] or "upload"  # a label, never a path
    with transaction.atomic(), filestore.files_removed_on_failure():
        item = EvidenceItem.objects.select_for_update().select_related("case").get(pk=item.pk)
        existing = EvidenceFile.objects.filter(item=item, file__sha256=upload.sha256).first()
        if existing is not None:
            return FileKept(existing, duplicate=True)
        stored, _created = filestore.store(upload, kind=FileKind.KEPT)
        kept = EvidenceFile.objects.create(item=item, file=stored, original_name=label, reason=reason, kept_by=actor)
        custody.append_event(
            case=item.case,
            event_type=EventType.FILE_KEPT,
            subject_type=SubjectType.EVIDENCE_FILE,
            subject_id=kept.pk,
            subject_label=kept.label,
            actor=actor,
            payload={
                "file": {
                    **custody.snapshot(kept),
                    "sha256": stored.sha256,
                    "size": stored.size,
                    "exhibit": item.exhibit_number,
                }
            },
        )
    return FileKept(kept, duplicate=False)


def keep_file_from_path(*, actor, item: EvidenceItem, path: Path, reason: str = "") -> FileKept:
    """keep_file for a file already on this machine (ingest_photos --keep-refused): hashed as it is copied in."""
    with path.open("rb") as source, filestore.hashed_copy(source) as upload:
        return keep_file(actor=actor, item=item, upload=upload, original_name=path.name, reason=reason)
