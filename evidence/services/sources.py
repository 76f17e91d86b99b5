"""Sources with Admiralty grades and the attributions of claims to them, all under the ledger."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cases.audit import case_of
from cases.choices import Role
from cases.models import Case, Entity, Incident, refuse_long_text
from cases.services import require_role
from evidence import custody, filestore
from evidence.choices import AttributionSubject, EventType, FileKind, SubjectType
from evidence.models import Attribution, EvidenceItem, Marking, Source
from evidence.services.common import apply_changes, reject_unknown
from evidence.services.withdrawals import withdraw

SOURCE_FIELDS = (
    "kind", "title", "publisher", "author", "published_on", "url", "document_reference", "reliability", "notes",
)  # fmt: skip
ATTRIBUTION_FIELDS = ("claim", "page", "paragraph", "quote", "credibility", "stance")
SUBJECT_MODELS = {
    AttributionSubject.INCIDENT: ("incident", Incident),
    AttributionSubject.EVIDENCE_ITEM: ("item", EvidenceItem),
    AttributionSubject.MARKING: ("marking", Marking),
    AttributionSubject.ENTITY: ("entity", Entity),
}


def _state(instance, **extra) -> dict:
    return {**custody.snapshot(instance, exclude=("created_at", "updated_at")), **extra}


def source_event(source: Source, event_type: str, actor, extra: dict | None = None):
    archived = source.archived_copy
    state = _state(source, archived_sha256=archived.sha256 if archived else None)
    return custody.append_event(
        case=source.case,
        event_type=event_type,
        subject_type=SubjectType.SOURCE,
        subject_id=source.pk,
        subject_label=source.label,
        actor=actor,
        payload={"source": state, **(extra or {})},
    )


def attribution_event(attribution: Attribution, event_type: str, actor, extra: dict | None = None):
    state = _state(attribution, grade=attribution.grade)
    return custody.append_event(
        case=attribution.case,
        event_type=event_type,
        subject_type=SubjectType.ATTRIBUTION,
        subject_id=attribution.pk,
        subject_label=attribution.label,
        actor=actor,
        payload={"attribution": state, **(extra or {})},
    )


@transaction.atomic
def add_source(
    *,
    actor,
    case: Case,
    archive: filestore.HashedTempFile | None = None,
    archive_name: str = "",
    **fields,
) -> Source:
    """Record a source and, if given, its archived copy (write-once, with its SHA-256): an analyst's right."""
    require_role(case=case, actor=actor, role=Role.ANALYST)
    reject_unknown(fields, SOURCE_FIELDS)
    source = Source(case=case, recorded_by=actor, **fields)
    source.full_clean(exclude=["case", "recorded_by", "archived_copy"])
    with filestore.files_removed_on_failure():
        if archive is not None:
            if archive.size == 0:
                raise ValidationError({"archive": _("The archived copy is empty.")})
            source.archived_copy, _created = filestore.store(archive, kind=FileKind.SOURCE_ARCHIVE)
            source.archived_copy_name = Path(archive_name.replace("\\", "/")).name[:255] or "archived-copy"
        source.save()
        source_event(source, EventType.SOURCE_ADDED, actor)
    return source


def add_source_from_path(*, actor, case: Case, path: Path, **fields) -> Source:
    with path.open("rb") as handle, filestore.hashed_copy(handle) as archive:
        return add_source(actor=actor, case=case, archive=archive, archive_name=path.name, **fields)


@transaction.atomic
def update_source(*, actor, source: Source, reason: str = "", **changes) -> Source:
    require_role(case=source.case, actor=actor, role=Role.ANALYST)
    reject_unknown(changes, SOURCE_FIELDS)
    refuse_long_text(reason=reason)
    source = Source.objects.select_for_update().get(pk=source.pk)
    changed = apply_changes(source, changes)
    if not changed:
        return source
    source.full_clean(exclude=["case", "recorded_by", "archived_copy"])
    source.save()
    source_event(source, EventType.SOURCE_UPDATED, actor, {"changed": changed, "reason": reason})
    return source


@transaction.atomic
def withdraw_source(*, actor, source: Source, reason: str) -> Source:
    """Withdraw a source (e.g. found to be fabricated); its attributions stay on record, flagged."""
    return withdraw(
        actor=actor,
        case=source.case,
        row=source,
        rows=Source.objects,
        reason=reason,
        say_why=_("Say why the source is withdrawn."),
        record_event=source_event,
        event_type=EventType.SOURCE_WITHDRAWN,
    )


@transaction.atomic
def add_attribution(*, actor, case: Case, subject_type: str, source: Source, subject=None, **fields) -> Attribution:
    """Attribute a claim about a subject of the case to a source: an analyst's right."""
    require_role(case=case, actor=actor, role=Role.ANALYST)
    reject_unknown(fields, ATTRIBUTION_FIELDS)
    if subject_type not in AttributionSubject.values:
        raise ValidationError({"subject_type": _("Unknown subject type.")})
    source = Source.objects.select_for_update().get(pk=source.pk)  # a withdrawal may have just happened
    if source.case_id != case.pk:
        raise ValidationError({"source": _("The source belongs to another case.")})
    if source.withdrawn_at:
        raise ValidationError({"source": _("The source was withdrawn.")})
    attribution = Attribution(case=case, subject_type=subject_type, source=source, analyst=actor, **fields)
    if subject_type != AttributionSubject.CASE:
        field, model = SUBJECT_MODELS[subject_type]
        if not isinstance(subject, model):
            raise ValidationError({"subject": _("Name the %(type)s the claim is about.") % {"type": subject_type}})
        subject_case = case_of(subject)  # None for entities: shared reference data
        if subject_case is not None and subject_case.pk != case.pk:
            raise ValidationError({"subject": _("The subject belongs to another case.")})
        setattr(attribution, field, subject)
    if not str(fields.get("claim", "")).strip():
        raise ValidationError({"claim": _("State the claim.")})
    attribution.full_clean(exclude=["case", "source", "analyst", "incident", "item", "marking", "entity"])
    attribution.save()
    attribution_event(attribution, EventType.ATTRIBUTION_ADDED, actor)
    return attribution


@transaction.atomic
def withdraw_attribution(*, actor, attribution: Attribution, reason: str) -> Attribution:
    return withdraw(
        actor=actor,
        case=attribution.case,
        row=attribution,
        rows=Attribution.objects.select_related("source"),  # its event states the grade
        reason=reason,
        say_why=_("Say why the attribution is withdrawn."),
        record_event=attribution_event,
        event_type=EventType.ATTRIBUTION_WITHDRAWN,
    )
