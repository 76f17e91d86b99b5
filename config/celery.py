"""The Celery application, configured from Django settings under the CELERY namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("attest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="attest.ping", ignore_result=False, acks_late=False)
def ping() -> str:
    """Round-trip probe for /healthz: proves a worker consumes the queue."""
    return "pong"
