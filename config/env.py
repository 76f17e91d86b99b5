"""Small, pure readers for settings taken from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(ValueError):
    """An environment variable holds a value its setting cannot use."""


def env_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(name, default)


def env_bool(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    if name not in environ:
        return default
    value = environ[name].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {environ[name]!r}")


def env_int(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    if name not in environ or environ[name].strip() == "":
        return default
    try:
        return int(environ[name].replace("_", ""))
    except ValueError:
        raise EnvError(f"{name} must be a whole number; got {environ[name]!r}") from None


def env_list(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list, with blanks dropped."""
    raw = env_str(name, default, environ)
    return [part.strip() for part in raw.split(",") if part.strip()]


def is_real_secret_key(key: str) -> bool:
    """The same test as Django's deploy check (security.W009): long, varied, not the dev default."""
    return len(key) >= 50 and len(set(key)) >= 5 and not key.startswith("django-insecure-")
