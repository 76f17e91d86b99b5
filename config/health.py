"""Health checks behind /healthz: database, broker round-trip, media storage."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def _describe(exc: BaseException) -> str:
    """The kind of failure only: /healthz is public, and an exception's text names hosts, users and paths.
    The whole exception goes to the server log."""
    logger.warning("health check failed", exc_info=exc)
    return f"{type(exc).__name__} (details in the server log)"


def check_database() -> Check:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ok"
        return Check(False, _describe(exc))
    return Check(True, "answers")  # not which engine: /healthz is public


def check_broker(timeout: float | None = None) -> Check:
    """Send a ping task and wait for a worker's answer: a real round-trip, not a socket probe."""
    from config.celery import app, ping

    if app.conf.task_always_eager:
        return Check(True, "no broker configured: tasks run in-process")
    if not app.conf.result_backend:
        return Check(False, "CELERY_RESULT_BACKEND is not set, so no answer can come back")
    timeout = settings.HEALTHZ_TASK_TIMEOUT if timeout is None else timeout
    started = time.monotonic()
    try:
        # A fresh connection each time: a pooled one may be stale after a broker restart.
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            result = ping.apply_async(connection=connection, retry=False, expires=timeout)
    except Exception as exc:
        return Check(False, f"broker unreachable: {_describe(exc)}")
    try:
        while time.monotonic() - started < timeout:
            # Plain key reads rather than result.get(): they reconnect cleanly after an outage.
            if result.state == "SUCCESS":
                result.forget()
                elapsed_ms = (time.monotonic() - started) * 1000
                return Check(True, f"ping answered by a worker in {elapsed_ms:.0f} ms")
            time.sleep(0.05)
    except Exception as exc:
        return Check(False, f"result backend unreachable: {_describe(exc)}")
    return Check(False, f"no worker answered the ping task within {timeout:g} s")


def check_media() -> Check:
    root = Path(settings.MEDIA_ROOT)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".healthz-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as exc:
        return Check(False, f"MEDIA_ROOT is not writable: {_describe(exc)}")
    from evidence.filestore import object_storage

    bucket = object_storage()
    if bucket is None:
        return Check(True, "writable")
    try:
        bucket.exists(".healthz")  # a signed HEAD: reaches the bucket with the app's credentials
    except Exception as exc:
        return Check(False, f"the media bucket is unreachable: {_describe(exc)}")
    return Check(True, "writable; the media bucket answers")


CHECKS = {"database": check_database, "broker": check_broker, "media": check_media}


def stuck_work() -> dict[str, int] | None:
    """Photos and exports stuck past their limits (the sweepers' selection); None when the database
    cannot say. Reported, not failed on: the service still answers, and the sweepers deal with them."""
    from evidence.selectors import stuck_exports, stuck_photos

    try:
        return {"photos": stuck_photos().count(), "exports": stuck_exports().count()}
    except Exception:
        return None


def trusted_timestamps() -> dict | None:
    """When the last trusted timestamp was obtained, which TSAs fail now, how many cases wait for one.
    Reported, not failed on: a TSA that is down never stops work (evidence/timestamps.py)."""
    from evidence.timestamps import summary

    try:
        return summary().as_dict()
    except Exception:
        return None


def run_checks() -> dict:
    results = {name: check() for name, check in CHECKS.items()}
    failed = [name for name, result in results.items() if not result.ok]
    return {
        "status": "fail" if failed else "ok",
        "failed": failed,
        "checks": {name: asdict(result) for name, result in results.items()},
        "stuck": stuck_work() if results["database"].ok else None,
        "timestamps": trusted_timestamps() if results["database"].ok else None,
    }
