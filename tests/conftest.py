"""Test harness.

Without CELERY_BROKER_URL the suite runs on the embedded default and tests marked
`integration` are skipped with their reason. With it (CI), those tests run a real
Celery worker process consuming from the real broker and sharing the test database.
ATTEST_REQUIRE_INTEGRATION=1 turns any skipped integration or postgres test into a failure, so
a green CI run can never come from skipping.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests import processes

REQUIRE_INTEGRATION = os.environ.get("ATTEST_REQUIRE_INTEGRATION") == "1"


def pytest_configure(config):
    # Real hashing costs ~0.3 s a user; tests create many users and check no hash strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Without a broker, exports are built on a thread of the web process; a test's rows live in its
    # transaction, which no other thread sees, so tests build in their own thread unless they say otherwise.
    settings.ATTEST_EMBEDDED_WORKERS = 0


def broker_configured() -> bool:
    return not settings.CELERY_TASK_ALWAYS_EAGER


def on_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


REQUIRED_MARKERS = ("integration", "postgres")


@functools.cache
def serial_group(root: Path, relative: str) -> str | None:
    """The group of a test file whose tests must all run on one xdist worker (make test: -n, --dist loadgroup).

    make-run: `make run` in the project directory shares the virtualenv and its install stamps.
    integration: one real Celery worker process for the run, not one per xdist worker.
    chromium: browser tests start a Chromium each and write tests/artifacts/ under fixed names.
    contract: schemathesis drives every operation of the API; the longest file, kept whole. make test
    runs it apart (-m contract): its items share one node id, which this scheduler would collapse.
    By file, since the scheduler sees node ids only: a file with one integration test goes whole.
    """
    path = root / relative
    source = path.read_text() if path.is_file() else ""
    if path.name == "test_make_run.py":
        return "make-run"
    if path.name == "test_contract.py":
        return "contract"
    if "browser_page" in source:
        return "chromium"
    if relative.startswith("tests/integration/") or "mark.integration" in source:
        return "integration"
    return None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadgroup by serial_group: pytest-xdist 3.8's own reads xdist_group marks through a node id
    suffix that pytest 9 no longer lets it set, so it groups nothing. Other tests go file by file."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SerialGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return serial_group(config.rootpath, path) or path  # a file a unit: one round trip per test is slow

    return SerialGroupScheduling(config, log)


# Markers given by file here, so that a test file need not say them itself; before -m deselects (tryfirst).
MARKED_FILES = {"test_contract.py": "contract"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in MARKED_FILES:
            item.add_marker(MARKED_FILES[item.path.name])
    for item in items:
        restore_seed_data_after(item)
    skips = {}
    if not broker_configured():
        skips["integration"] = "integration: CELERY_BROKER_URL is not set, so no real broker and worker"
    if not on_postgresql():
        skips["postgres"] = "postgres: DATABASE_URL does not point at PostgreSQL"
    for item in items:
        for marker, reason in skips.items():
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


def restore_seed_data_after(item) -> None:
    """A transactional test empties every table when it ends, the rows migrations seed included (reference
    data, the editors' group). Serial pytest-django runs such tests last; under xdist a worker may run one
    before a test that needs those rows (the demo's Hwasong-11). reseed_after_flush, set up first and so
    torn down last, after the flush, seeds them again."""
    marker = item.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction")
    if transactional or {"transactional_db", "live_server"} & set(item.fixturenames):
        item.fixturenames.insert(0, "reseed_after_flush")


@pytest.fixture
def reseed_after_flush(django_db_blocker):
    yield
    from django.apps import apps

    from cases import reference_data

    reference_seed = importlib.import_module("cases.migrations.0002_reference_data")
    with django_db_blocker.unblock():
        reference_seed.seed(apps, None)  # written for any app registry
        reference_data.editors_group()


def pytest_collection_finish(session):
    """Scheduling by node id (--dist loadgroup) would run one of each tests sharing a node id (the
    contract test's, under pytest 9): refuse rather than skip them silently. -n alone runs them all."""
    ids = [item.nodeid for item in session.items]
    if getattr(session.config.option, "loadgroup", False) and len(set(ids)) < len(ids):
        repeated = sorted({nodeid for nodeid in ids if ids.count(nodeid) > 1})
        raise pytest.UsageError(f"tests sharing a node id cannot run under --dist loadgroup: {repeated[:3]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    required = any(item.get_closest_marker(marker) for marker in REQUIRED_MARKERS)
    if REQUIRE_INTEGRATION and report.skipped and required:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"integration test skipped in a run that requires them: {reason}"
    return report


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test gets cache keys of its own (a new KEY_PREFIX) rather than an emptied cache.

    The cache may be the broker's Redis database, shared with workers and other test sessions, which
    clear() would empty. The database cache (no Redis) becomes local memory. (The API throttle counts
    in this Redis, else in the database: core.api.throttling.)
    """
    import uuid

    prefix = f"attest-test-{uuid.uuid4().hex}"
    caches = {}
    for alias, config in settings.CACHES.items():
        if config["BACKEND"].endswith(".DatabaseCache"):
            config = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "attest-tests"}
        caches[alias] = {**config, "KEY_PREFIX": prefix}
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def fresh_throttle_budgets(monkeypatch):
    """Each test's API budgets are its own (a key prefix), as its cache keys are (fresh_cache).

    The counters live in Redis or the database, and outlive a test (in the database, a live server
    answering its page after the flush): a browser test was seen starting with another test's
    counter for its user's id, and once got 429 on its thumbnails.
    """
    import uuid

    from core.api.throttling import SharedThrottle

    monkeypatch.setattr(SharedThrottle, "cache_format", f"t{uuid.uuid4().hex[:12]}_%(scope)s_%(ident)s")
    # And its clock stands still: a test that crossed into a new minute had its budget's sliding
    # estimate fall (5 spent became 4.9) and was admitted one request more than it expected.
    instant = time.time()
    monkeypatch.setattr(SharedThrottle, "timer", staticmethod(lambda: instant))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, the test database is a file of the session's own, as the embedded default's is a file.

    Django's default, an in-memory database, makes the live server hand one connection to every request
    thread: two requests at once then share a transaction (one's on_commit work ran with, or was lost
    with, the other's), which the browser tests met as photos and dossiers never processed.
    """
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3") and not db.get("TEST", {}).get("NAME"):
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("database") / "test.sqlite3")


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session", autouse=True)
def media_root(tmp_path_factory):
    """One media root for the session, shared with any worker or server process a test starts."""
    root = tmp_path_factory.mktemp("media")
    previous = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = root
    yield root
    settings.MEDIA_ROOT = previous


@pytest.fixture(scope="session", autouse=True)
def var_dir(tmp_path_factory):
    """VAR_DIR of the session's own: xdist workers run side by side and must not share the project's var/."""
    root = tmp_path_factory.mktemp("var")
    previous = settings.VAR_DIR, settings.CELERY_BEAT_SCHEDULE_FILENAME
    settings.VAR_DIR = root
    settings.CELERY_BEAT_SCHEDULE_FILENAME = str(root / "celerybeat-schedule")
    yield root
    settings.VAR_DIR, settings.CELERY_BEAT_SCHEDULE_FILENAME = previous


@pytest.fixture(scope="session", autouse=True)
def signing_key(tmp_path_factory):
    """A ledger signing key of the session's own, shared with child processes."""
    from evidence.custody import ensure_signing_key

    path = ensure_signing_key(tmp_path_factory.mktemp("keys") / "ledger-signing-key.pem")
    previous = settings.ATTEST_SIGNING_KEY_PATH
    settings.ATTEST_SIGNING_KEY_PATH = path
    yield path
    settings.ATTEST_SIGNING_KEY_PATH = previous


@pytest.fixture(scope="session")
def celery_queue() -> str:
    """A queue of this test session's own, so that no other worker on the broker takes its tasks."""
    from config.celery import app

    queue = f"attest-test-{os.getpid()}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    yield queue
    app.conf.task_default_queue = previous


@pytest.fixture(scope="session")
def subprocess_env(
    django_db_setup, django_db_blocker, media_root, var_dir, signing_key, celery_queue, request
) -> dict[str, str]:
    """The environment that points a child process at this session's database, media and queue.

    Under xdist the database is this worker's own (test_<name>_gw0, ...): django_db_setup has set its NAME.
    """
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3") and ("memory" in str(db["NAME"]) or db["NAME"] == ":memory:"):
        pytest.skip("child processes cannot share an in-memory SQLite test database; use PostgreSQL")
    xdist_worker = getattr(request.config, "workerinput", {}).get("workerid")  # not the env: child pytests inherit it
    if xdist_worker and not db["ENGINE"].endswith("sqlite3"):
        assert db["NAME"].endswith(f"_{xdist_worker}"), f"{db['NAME']} is not xdist worker {xdist_worker}'s database"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=processes.database_url(db),
        MEDIA_ROOT=str(media_root),
        VAR_DIR=str(var_dir),
        ATTEST_SIGNING_KEY_PATH=str(signing_key),
        CELERY_QUEUE=celery_queue,
        DEBUG="1",
        PYTHONUNBUFFERED="1",
    )
    yield env
    # Torn down after every child process is stopped, before the test database is dropped, which
    # PostgreSQL refuses while another session is open: a closing child's may take a moment, and a
    # session that stays open is named (a browser test's once was).
    with django_db_blocker.unblock():
        processes.wait_for_other_sessions_to_end(timeout=30)


@pytest.fixture(scope="session")
def worker_process(subprocess_env, log_dir):
    """A real Celery worker process for the whole session, started on first use."""
    from config.health import check_broker

    worker = processes.celery_worker(subprocess_env, log_dir, name="session-worker")
    try:
        processes.wait_until(
            lambda: check_broker(timeout=2).ok or not worker.running, timeout=60, message="worker ready"
        )
        if not worker.running:
            pytest.fail(f"the Celery worker exited:\n{worker.log()[-3000:]}")
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def celery_worker(worker_process, transactional_db):
    """Use in integration tests: committed rows are visible to the worker process."""
    if not worker_process.running:
        pytest.fail(f"the Celery worker died:\n{worker_process.log()[-3000:]}")
    return worker_process


@pytest.fixture
def eager_tasks():
    """Run tasks in-process, as on the embedded default, whatever broker this run has."""
    from tests.factories import celery_eager

    with celery_eager(True):
        yield


@pytest.fixture
def worker_elsewhere():
    """Tasks go to a broker and a worker processes them later, elsewhere (not eager)."""
    from tests.factories import celery_eager

    with celery_eager(False):
        yield


# --- Personas: alice leads the case, bob is her teammate, charlie is an outsider. ---


@pytest.fixture
def team(db):
    """A case with one member of each role, an outsider with a case of his own, and a superuser."""
    from cases.choices import Role
    from tests.factories import CaseFactory, MembershipFactory, UserFactory

    alice = UserFactory(username="alice")
    case = CaseFactory(lead=alice, reference="PGO-2024-0001")
    members = {"lead": alice}
    for username, role in (("bob", Role.ANALYST), ("ivan", Role.INVESTIGATOR), ("vera", Role.VIEWER)):
        members[role] = MembershipFactory(case=case, user=UserFactory(username=username), role=role).user
    charlie = UserFactory(username="charlie")
    other_case = CaseFactory(lead=charlie, reference="PGO-2024-0002")
    root = UserFactory(username="root", is_superuser=True)
    from types import SimpleNamespace

    return SimpleNamespace(
        case=case,
        other_case=other_case,
        alice=alice,
        bob=members[Role.ANALYST],
        ivan=members[Role.INVESTIGATOR],
        vera=members[Role.VIEWER],
        charlie=charlie,
        root=root,
    )


@pytest.fixture
def two_factor_urls(settings):
    """The URL conf as production builds it with ATTEST_REQUIRE_2FA on (the admin becomes OTP-aware)."""
    import importlib

    from django.contrib import admin
    from django.urls import clear_url_caches

    import config.urls

    previous = admin.site.__class__
    settings.ATTEST_REQUIRE_2FA = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    admin.site.__class__ = previous
    settings.ATTEST_REQUIRE_2FA = False
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def api():
    """An API client that signs in as a given user with a real token."""
    from rest_framework.test import APIClient

    from cases.services import create_api_token

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            _token, raw = create_api_token(actor=user, name="test")
            client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        return client

    return client_for


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "attest-test", "AWS_SECRET_ACCESS_KEY": "attest-test-secret"}
S3_REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3-compatible server on loopback (moto's), speaking the S3 protocol over HTTP."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch, request, tmp_path):
    """A new, empty bucket made the evidence store (MEDIA_STORAGE=s3) for this test; a boto3 Bucket.

    MEDIA_ROOT moves to a folder of the test's own: with a bucket it holds temporary files only.
    `bucket.environment` is what a child process needs to use the same bucket.
    """
    import hashlib

    import boto3

    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    name = f"attest-{hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]}"
    s3 = boto3.resource("s3", endpoint_url=s3_endpoint, region_name=S3_REGION)
    s3.create_bucket(Bucket=name)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "evidence.storage.EvidenceS3Storage",
            "OPTIONS": {"bucket_name": name, "endpoint_url": s3_endpoint, "region_name": S3_REGION},
        },
    }
    created = s3.Bucket(name)
    created.environment = {
        "MEDIA_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": name,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": S3_REGION,
        **S3_CREDENTIALS,
    }
    return created
