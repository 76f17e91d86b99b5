import time

from celery import shared_task

from core.api.throttling import forget_spent
from core.idempotency import expire_records


@shared_task(name="core.tasks.expire_idempotency_records")
def expire_idempotency_records() -> int:
    return expire_records()


@shared_task(name="core.tasks.forget_throttle_counters")
def forget_throttle_counters() -> int:
    return forget_spent(now=time.time())
