"""One idle connection per process to each SQLite file, so that closing a request's connection is cheap.

It keeps the WAL from being checkpointed and deleted at the end of every request.
See docs/modules.md#coresqlite_keeperpy.
"""

from __future__ import annotations

import os
import sqlite3
import threading

from django.db.backends.signals import connection_created

_keepers: dict[tuple[int, str], sqlite3.Connection] = {}
_lock = threading.Lock()


def is_file_database(name: object) -> bool:
    """True for a database file on disk; False for the in-memory databases the tests use."""
    text = str(name)
    return bool(text) and text != ":memory:" and "mode=memory" not in text


def keep_open(path: str) -> sqlite3.Connection | None:
    """Open (once per process) the idle connection to `path`; returns it, or None for an in-memory one."""
    if not is_file_database(path):
        return None
    key = (os.getpid(), os.path.abspath(path))
    with _lock:
        keeper = _keepers.get(key)
        if keeper is None:
            keeper = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            # Reading a table attaches the connection to the WAL index; the read ends with the statement.
            keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()
            _keepers[key] = keeper
    return keeper


def _on_connection_created(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        keep_open(str(connection.settings_dict["NAME"]))


def install() -> None:
    connection_created.connect(_on_connection_created, dispatch_uid="attest.sqlite_keeper")
