"""Real processes for tests: Redis servers, Celery workers and Django servers on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import quote

PROJECT_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """The DATABASE_URL that points a subprocess at the same database as this process."""
    engine = settings_dict["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    scheme = {"postgresql": "postgres", "mysql": "mysql"}[engine]
    credentials = quote(settings_dict.get("USER") or "", safe="")
    if settings_dict.get("PASSWORD"):
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or ""
    at = "@" if credentials else ""
    return f"{scheme}://{credentials}{at}{host}{':' if port else ''}{port}/{settings_dict['NAME']}"


class ManagedProcess:
    """A child process with its output in a log file, stopped (and reaped) on exit."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> ManagedProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, signum: int) -> None:
        if self.running:
            os.killpg(self.proc.pid, signum)

    def stop(self, timeout: float = 20) -> None:
        if not self.running:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(10)

    def kill(self) -> None:
        """SIGKILL the whole process group: no chance to clean up, as in a crash."""
        if self.running:
            self.signal(signal.SIGKILL)
            self.proc.wait(10)


def redis_server(port: int, log_dir: Path) -> ManagedProcess:
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server is not installed")
    argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    server = ManagedProcess(f"redis-{port}", argv, dict(os.environ), log_dir).start()
    wait_for_port(port, server, timeout=10)
    return server


def celery_worker(env: dict[str, str], log_dir: Path, name: str = "worker", concurrency: int = 1):
    argv = [
        str(VENV_BIN / "celery"),
        "-A",
        "config",
        "worker",
        "--loglevel=INFO",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        f"--hostname={name}-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    return ManagedProcess(name, argv, env, log_dir).start()


def django_server(env: dict[str, str], port: int, log_dir: Path) -> ManagedProcess:
    argv = [
        str(VENV_BIN / "gunicorn"),
        "config.wsgi",
        f"--bind=127.0.0.1:{port}",
        "--workers=1",
        "--timeout=60",
    ]
    server = ManagedProcess(f"django-{port}", argv, env, log_dir).start()
    wait_for_port(port, server, timeout=30)
    return server


def wait_for_port(port: int, process: ManagedProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running:
            raise RuntimeError(f"{process.name} exited early:\n{process.log()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{process.name} did not listen on {port} within {timeout} s:\n{process.log()[-3000:]}")


def http_get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def answers(url: str, status: int = 200, timeout: float = 5) -> bool:
    """Whether url answers with status now; a refused or timed-out connection is a no."""
    try:
        return http_get(url, timeout)[0] == status
    except (urllib.error.URLError, OSError):
        return False


def wait_for_other_sessions_to_end(timeout: float) -> None:
    """On PostgreSQL, wait until no other client uses this database; warn, naming them, if some still do."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return

    def others() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, backend_start, state, left(query, 200) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            return cursor.fetchall()

    try:
        wait_until(lambda: not others(), timeout=timeout, interval=0.1, message="no other session")
    except TimeoutError:
        # The last query of each names the code that left it open.
        warnings.warn(f"sessions still open on the test database after {timeout} s: {others()}", stacklevel=2)
    connection.close()


def wait_until(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{message} not met within {timeout} s")
