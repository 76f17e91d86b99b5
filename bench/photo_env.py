"""Shared set-up of the photo benchmarks (bench_photos, bench_worker, bench_upload).

Everything a benchmark writes goes to a temporary folder it owns: the SQLite file or a
throwaway PostgreSQL database attest_bench_<pid>, MEDIA_ROOT, VAR_DIR and the ledger signing
key. The environment is set before django.setup(), so the settings read it; child processes
(gunicorn, Celery workers) get the same environment. Child processes are started in a session
of their own and stopped by their process group id, never by name.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
QUICK_VALUES = ("1", "true", "yes")


def log(message: str = "") -> None:
    print(message, flush=True)


def quick_from_env() -> bool:
    return os.environ.get("ATTEST_BENCH_QUICK", "").strip().lower() in QUICK_VALUES


def stop_on_sigterm() -> None:
    """SIGTERM (bench/run.py's timeout) unwinds like an exception, so the finally blocks clean up."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def configure_environment(tmp: Path, *, database_url: str | None = None) -> None:
    """Point every setting that writes somewhere at tmp. Call before django.setup()."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # What production runs: DEBUG off (no SQL logging on every cursor), with a key made for this run.
    os.environ["DEBUG"] = "0"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(64)
    os.environ["ALLOWED_HOSTS"] = f"{LOOPBACK},localhost"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ.pop("CACHE_URL", None)  # throttle counters in the database (or the broker's Redis if one is asked for)
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_QUEUE"):
        os.environ.pop(name, None)  # no broker unless a benchmark asks for one
    for name in ("MEDIA_ROOT", "VAR_DIR"):
        folder = tmp / name.lower()
        folder.mkdir(exist_ok=True)
        os.environ[name] = str(folder)
    os.environ["ATTEST_SIGNING_KEY_PATH"] = str(tmp / "keys" / "ledger-signing-key.pem")
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"


# --- PostgreSQL: a throwaway database on a server --------------------------------------------


def server_reachable(server_url: str) -> str | None:
    """None when the server accepts a connection, else the reason it does not."""
    import psycopg

    try:
        with psycopg.connect(server_url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
    return None


def create_postgres_database(server_url: str) -> str:
    """CREATE DATABASE attest_bench_<pid> on the server of server_url; returns its URL."""
    import psycopg
    from psycopg import sql

    name = f"attest_bench_{os.getpid()}"
    with psycopg.connect(server_url, connect_timeout=5, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def drop_postgres_database(server_url: str, database_url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(database_url).path.lstrip("/")
    if not name.startswith("attest_bench_"):
        raise ValueError(f"refusing to drop {name!r}: not a benchmark database")
    with psycopg.connect(server_url, connect_timeout=5, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def close_and_drop(server_url: str | None, database_url: str | None) -> None:
    """A bench's end: close Django's connections (if it was set up), then drop its PostgreSQL database."""
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()
    if database_url:
        drop_postgres_database(server_url, database_url)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def describe_database() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}, temporary file (WAL)"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version}, database {connection.settings_dict['NAME']} (created for this run)"


# --- data ------------------------------------------------------------------------------------


def make_team(items: int = 1):
    """An investigator on one case with `items` evidence items; returns (user, case, [items])."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from cases.choices import Role
    from cases.models import Case, CaseMembership
    from evidence.services import create_item

    with transaction.atomic():
        user = get_user_model().objects.create_user("bench-investigator", email="bench@attest.invalid")
        case = Case.objects.create(reference="BENCH-PHOTO-0001", title="Hwasong-11 debris (photo benchmark)")
        CaseMembership.objects.create(case=case, user=user, role=Role.INVESTIGATOR)
    made = [
        create_item(
            actor=user,
            case=case,
            kind="physical_debris",
            title=f"Missile debris fragment {n + 1}",
            recovery_place="Kharkiv, Saltivka district",
        )
        for n in range(items)
    ]
    return user, case, made


@contextlib.contextmanager
def tasks_not_queued() -> Iterator[list[int]]:
    """Within: add_photo works as with a worker elsewhere (Celery not eager: it vets at 1/8 scale and
    makes no derivatives) and queues no task (its on-commit callback does nothing): photos stay pending.

    Yields the ids the callbacks were called with, so the benchmark can queue them when it chooses.
    """
    from unittest import mock

    from config.celery import app

    queued: list[int] = []
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with mock.patch("evidence.services.photos.enqueue_processing", side_effect=queued.append):
            yield queued
    finally:
        app.conf.task_always_eager = eager


def add_photos(user, items, paths: list[Path]) -> list[int]:
    """Each file as a photo, through the service (vetted, hashed, stored, ledger event); no task runs."""
    from evidence import services

    ids = []
    with tasks_not_queued():
        for n, path in enumerate(paths):
            accepted = services.add_photo_from_path(actor=user, item=items[n % len(items)], path=path)
            assert not accepted.duplicate, f"{path.name} was already a photo of the item"
            ids.append(accepted.photo.pk)
    return ids


# --- child processes -------------------------------------------------------------------------


def _stop_with_parent() -> None:
    """In a child, before exec: Linux sends it SIGTERM should this process die first."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_process(command: list[str], *, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """A child in a session of its own (so its whole group can be stopped), output to log_path."""
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_stop_with_parent,  # the benchmarks run no other thread when starting these
        )


def stop_process(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM to the child's process group (its own session), SIGKILL if it lingers; reaped."""
    if process is None or process.poll() is not None:
        return
    children = children_of(process.pid)  # e.g. a worker's pool processes, in the same group
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    # A child that outlived its parent: end it by its own id, if it is still one of ours.
    for child in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(child) == process.pid:
                os.kill(child, signal.SIGKILL)


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is pid (from /proc)."""
    listing = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        return [int(child) for child in listing.read_text().split()]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its own, not its children's)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def wait_until_serving(process: subprocess.Popen, port: int, log_path: Path, timeout: float = 60) -> None:
    """Until a gunicorn on loopback answers /healthz (200 or 503); fails with its log if it exits."""
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{tail(log_path)}")
        connection = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status in (200, 503):
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise TimeoutError(f"gunicorn did not answer within {timeout:.0f} s:\n{tail(log_path)}")
