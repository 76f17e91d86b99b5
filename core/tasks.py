from celery import shared_task

from core.idempotency import expire_records


@shared_task(name="core.tasks.expire_idempotency_records")
def expire_idempotency_records() -> int:
    return expire_records()
