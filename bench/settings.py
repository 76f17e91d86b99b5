"""Bench-only settings: the project's own, plus a URLconf that adds the bare baseline view.

Selected with DJANGO_SETTINGS_MODULE=bench.settings by bench/bench_api.py, both in-process and for
the gunicorn it starts; nothing outside bench/ uses it.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
