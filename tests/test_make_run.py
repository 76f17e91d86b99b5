"""`make run` sets up, prints a working admin login, serves admin and API, and can run again."""

import http.cookiejar
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests import processes

LOGIN_LINE = re.compile(r"Admin login: (\S+) / (\S+)")


class MakeRun:
    def __init__(self, tmp_path, **env_overrides):
        self.port = processes.free_port()
        self.log_path = tmp_path / f"make-run-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")}
        env.update(
            DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
            MEDIA_ROOT=str(tmp_path / "media"),
            VAR_DIR=str(tmp_path / "var"),
            **env_overrides,
        )
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                ["make", "--no-print-directory", "run", f"PORT={self.port}"],
                cwd=processes.PROJECT_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_serving(self, timeout=300):
        def serving():
            if self.proc.poll() is not None:
                raise RuntimeError(f"make run exited early:\n{self.log()[-3000:]}")
            return processes.answers(f"{self.url}/admin/login/")

        processes.wait_until(serving, timeout=timeout, interval=0.5, message="make run serving")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def interrupt(self, timeout=30):
        """Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group."""
        os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        os.killpg(self.proc.pid, signal.SIGKILL)
        pytest.fail(f"processes of make run outlived Ctrl-C:\n{self.log()[-3000:]}")


def sign_in(base_url: str, username: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base_url}/admin/login/", timeout=30).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": csrf, "next": "/admin/"}
    ).encode()
    request = urllib.request.Request(f"{base_url}/admin/login/", data=data, headers={"Referer": base_url})
    with opener.open(request, timeout=30) as response:
        assert urllib.parse.urlparse(response.url).path == "/admin/", "sign-in with the printed login failed"
        assert b"Log out" in response.read()
    return opener


def test_make_run_twice_serves_admin_and_api_with_the_printed_login(tmp_path):
    for attempt in (1, 2):
        run = MakeRun(tmp_path)
        try:
            run.wait_serving()
            match = LOGIN_LINE.search(run.log())
            assert match, run.log()
            opener = sign_in(run.url, *match.groups())
            with opener.open(f"{run.url}/api/v1/", timeout=30) as response:
                assert response.status == 200, f"attempt {attempt}"
            assert "tasks run in-process" in run.log()
            if attempt == 1:
                follow_the_readmes_verify_step(tmp_path)
        finally:
            run.interrupt()


def follow_the_readmes_verify_step(tmp_path):
    """README's "What you see" ends with a command to re-check every hash: run it as printed, from a
    shell that has only what make run's database needs (it failed without a production SECRET_KEY)."""
    readme = (processes.PROJECT_DIR / "README.md").read_text()
    section = readme.split("## What you see after `make run`")[1].split("\n## ")[0]
    command = re.search(r"Then run\s+`([^`]+)`", section).group(1)
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}", MEDIA_ROOT=str(tmp_path / "media"),
               VAR_DIR=str(tmp_path / "var"))  # fmt: skip
    done = subprocess.run(
        ["sh", "-c", command], cwd=processes.PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    assert "PGO-2024-0101" in done.stdout


@pytest.mark.integration
def test_make_run_with_a_broker_starts_worker_and_beat_and_stops_them_on_ctrl_c(tmp_path, celery_queue, worker_process):
    from django.conf import settings

    broker = settings.CELERY_BROKER_URL
    # A queue of its own, so that only the worker started by make run can answer the health check.
    run = MakeRun(tmp_path, CELERY_BROKER_URL=broker, CELERY_QUEUE=f"{celery_queue}-make-run")
    try:
        run.wait_serving()
        processes.wait_until(
            lambda: processes.answers(f"{run.url}/healthz", timeout=10),
            timeout=60,
            message="worker started by make run answers /healthz",
        )
        log = run.log()
        assert "starting a Celery worker and beat" in log
        assert "beat: Starting" in log
    finally:
        run.interrupt()
