"""Celery tasks of the evidence app: thin, idempotent, by primary key."""

from __future__ import annotations

from celery import shared_task

from cases.models import Case
from evidence import custody, services


@shared_task(name="evidence.tasks.sign_checkpoints")
def sign_checkpoints() -> int:
    """Sign the head of every intact ledger that grew since its last checkpoint. Returns how many."""
    signed = 0
    for case in Case.objects.only("id", "reference").iterator():
        size, _head = custody.head(case)
        latest = case.checkpoints.order_by("-size").values_list("size", flat=True).first()
        # Never sign a head that does not verify: that would vouch for a tampered chain.
        if size and (latest is None or size > latest) and custody.verify_case(case, files=False).intact:
            custody.sign_checkpoint(case=case, reason="periodic")
            signed += 1
    return signed


@shared_task(name="evidence.tasks.verify_case")
def verify_case(case_id: int) -> dict:
    """Verify one case and record the outcome as a fixity event; sign the head only when intact."""
    case = Case.objects.get(pk=case_id)
    report = custody.verify_case(case)
    services.record_fixity_check(case=case, report=report)
    if report.intact:
        custody.sign_checkpoint(case=case, reason="fixity check")
    return report.as_dict()


@shared_task(name="evidence.tasks.verify_all_cases")
def verify_all_cases() -> dict[str, bool]:
    """The daily fixity check: every case, one verdict each."""
    return {
        reference: verify_case(case_id)["intact"]
        for case_id, reference in Case.objects.values_list("id", "reference").iterator()
    }
