"""Settings come from the environment; each case runs in a fresh interpreter."""

import json
import os
import subprocess
import sys

import pytest

from tests.processes import PROJECT_DIR

REAL_KEY = "Zt0r9-Qw8K2mX5vN7bL1cF3hJ6pS4dG8yU0iO2eR7tW9qA1zX3cV5bN7mK9lP2oI"

DUMP = """
import json, django
django.setup()
from django.conf import settings
from config.celery import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url,
    "serializer": app.conf.task_serializer,
    "result_serializer": app.conf.result_serializer,
    "accept": list(app.conf.accept_content),
    "acks_late": app.conf.task_acks_late,
    "reject_on_worker_lost": app.conf.task_reject_on_worker_lost,
    "prefetch": app.conf.worker_prefetch_multiplier,
    "time_limit": app.conf.task_time_limit,
    "visibility_timeout": app.conf.broker_transport_options["visibility_timeout"],
    "media_root": str(settings.MEDIA_ROOT),
    "debug": settings.DEBUG,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "max_upload": settings.ATTEST_MAX_UPLOAD_BYTES,
    "max_pixels": settings.ATTEST_MAX_IMAGE_PIXELS,
    "media_backend": settings.STORAGES["default"]["BACKEND"],
    "bucket": getattr(settings, "AWS_STORAGE_BUCKET_NAME", None),
    "endpoint": getattr(settings, "AWS_S3_ENDPOINT_URL", None),
}))
"""

SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "MEDIA_ROOT",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "ATTEST_MAX_UPLOAD_BYTES",
    "ATTEST_MAX_IMAGE_PIXELS",
    "CELERY_TASK_TIME_LIMIT",
    "MEDIA_STORAGE",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
)


def run_python(code: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **env_overrides)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60
    )


def dump_settings(**env_overrides: str) -> dict:
    result = run_python(DUMP, **env_overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_refuses_to_start_without_debug_and_without_a_real_secret_key():
    result = run_python(DUMP, DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_refuses_a_weak_secret_key_without_debug():
    result = run_python(DUMP, DEBUG="0", SECRET_KEY="django-insecure-" + "k" * 50)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_starts_without_debug_when_given_a_real_secret_key():
    dumped = dump_settings(DEBUG="0", SECRET_KEY=REAL_KEY)
    assert dumped["debug"] is False


def test_an_unreadable_flag_is_refused_by_name():
    result = run_python(DUMP, DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_defaults_run_on_sqlite_in_the_project_with_tasks_in_process():
    dumped = dump_settings(DEBUG="1")
    assert dumped["engine"] == "django.db.backends.sqlite3"
    assert dumped["name"] == str(PROJECT_DIR / "db.sqlite3")
    assert dumped["eager"] is True
    assert dumped["media_root"] == str(PROJECT_DIR / "media")


def test_environment_overrides_database_media_hosts_and_limits(tmp_path):
    dumped = dump_settings(
        DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/attest_elsewhere",
        MEDIA_ROOT=str(tmp_path),
        ALLOWED_HOSTS="attest.example, api.attest.example",
        ATTEST_MAX_UPLOAD_BYTES="1000",
        ATTEST_MAX_IMAGE_PIXELS="2000",
    )
    assert dumped["engine"] == "django.db.backends.postgresql"
    assert dumped["name"] == "attest_elsewhere"
    assert dumped["media_root"] == str(tmp_path)
    assert dumped["allowed_hosts"] == ["attest.example", "api.attest.example"]
    assert (dumped["max_upload"], dumped["max_pixels"]) == (1000, 2000)


def test_media_is_on_disk_by_default_and_in_a_bucket_by_configuration():
    assert dump_settings(DEBUG="1")["media_backend"] == "django.core.files.storage.FileSystemStorage"
    dumped = dump_settings(
        DEBUG="1",
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="attest-evidence",
        AWS_S3_ENDPOINT_URL="http://minio:9000",
    )
    assert dumped["media_backend"] == "evidence.storage.EvidenceS3Storage"
    assert (dumped["bucket"], dumped["endpoint"]) == ("attest-evidence", "http://minio:9000")


@pytest.mark.parametrize(
    ("variables", "named"),
    [({"MEDIA_STORAGE": "ftp"}, "MEDIA_STORAGE"), ({"MEDIA_STORAGE": "s3"}, "AWS_STORAGE_BUCKET_NAME")],
)
def test_a_media_storage_that_cannot_work_is_refused_by_name(variables, named):
    result = run_python(DUMP, DEBUG="1", **variables)
    assert result.returncode != 0
    assert named in result.stderr.strip().splitlines()[-1]


def test_a_broker_url_sends_tasks_to_the_broker():
    dumped = dump_settings(DEBUG="1", CELERY_BROKER_URL="redis://127.0.0.1:6379/3")
    assert dumped["eager"] is False
    assert dumped["broker"] == "redis://127.0.0.1:6379/3"


@pytest.mark.parametrize("time_limit", ["600", "7200"])
def test_celery_is_json_only_acks_late_and_outlasts_the_longest_task(time_limit):
    dumped = dump_settings(DEBUG="1", CELERY_BROKER_URL="redis://127.0.0.1:6379/3", CELERY_TASK_TIME_LIMIT=time_limit)
    assert dumped["serializer"] == dumped["result_serializer"] == "json"
    assert dumped["accept"] == ["json"]
    assert dumped["acks_late"] is True
    assert dumped["reject_on_worker_lost"] is True
    assert dumped["prefetch"] == 1
    assert dumped["time_limit"] == int(time_limit)
    assert dumped["visibility_timeout"] > dumped["time_limit"]
