"""Work that outlives the web request that asked for it, in the embedded setup (no broker).

A small thread pool in the process; ATTEST_EMBEDDED_WORKERS=0 runs the work in the calling thread.
See docs/modules.md#evidencebackgroundpy.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)

_lock = threading.Lock()
_executor: concurrent.futures.ThreadPoolExecutor | None = None
_pending: set[concurrent.futures.Future] = set()


def submit(function: Callable[..., object], *args: object) -> concurrent.futures.Future | None:
    """Run function(*args) on the pool (None: it ran here and now, with ATTEST_EMBEDDED_WORKERS=0)."""
    global _executor
    workers = settings.ATTEST_EMBEDDED_WORKERS
    if workers <= 0:
        function(*args)
        return None
    with _lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="attest-bg")
        future = _executor.submit(_run, function, args)
        _pending.add(future)
    future.add_done_callback(_forget)
    return future


def _run(function: Callable[..., object], args: tuple) -> None:
    try:
        function(*args)
    except Exception:
        log.exception("background work %s%r failed", getattr(function, "__name__", function), args)
    finally:
        connections.close_all()  # this thread's own connections; the thread may wait long for the next job


def _forget(future: concurrent.futures.Future) -> None:
    with _lock:
        _pending.discard(future)


def wait(timeout: float | None = None) -> bool:
    """Wait until the work submitted so far is done (for tests and commands); False on timeout."""
    with _lock:
        futures = list(_pending)
    _done, not_done = concurrent.futures.wait(futures, timeout=timeout)
    return not not_done
