"""The idle SQLite connection that keeps a request's close from checkpointing and deleting the WAL."""

import sqlite3

import pytest
from django.db.utils import ConnectionHandler

from core import sqlite_keeper


def _write_and_close(path) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS log (line TEXT)")
    connection.execute("INSERT INTO log VALUES ('read by alice')")
    connection.close()


def _wal(path):
    return path.with_name(path.name + "-wal")


@pytest.mark.parametrize(
    ("name", "on_disk"),
    [
        ("/srv/attest/db.sqlite3", True),
        (":memory:", False),
        ("file:memorydb_default?mode=memory&cache=shared", False),
        ("", False),
    ],
)
def test_only_files_on_disk_get_a_keeper(name, on_disk):
    assert sqlite_keeper.is_file_database(name) is on_disk


def test_without_a_keeper_the_last_close_checkpoints_and_deletes_the_wal(tmp_path):
    # The cost the keeper removes: this is what every request that wrote a row paid.
    path = tmp_path / "alone.sqlite3"
    _write_and_close(path)
    assert not _wal(path).exists()


def test_with_a_keeper_a_close_keeps_the_wal_and_loses_no_row(tmp_path):
    path = tmp_path / "kept.sqlite3"
    _write_and_close(path)
    keeper = sqlite_keeper.keep_open(str(path))
    _write_and_close(path)
    assert _wal(path).exists()
    assert keeper.execute("SELECT count(*) FROM log").fetchone() == (2,)


def test_the_keeper_holds_no_snapshot_so_checkpoints_still_complete(tmp_path):
    path = tmp_path / "checkpointed.sqlite3"
    _write_and_close(path)
    sqlite_keeper.keep_open(str(path))
    for _ in range(3):
        _write_and_close(path)
    writer = sqlite3.connect(path, isolation_level=None)
    busy, _frames, _moved = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    writer.close()
    assert busy == 0
    assert _wal(path).stat().st_size == 0


def test_one_keeper_per_file_and_process(tmp_path):
    path = str(tmp_path / "once.sqlite3")
    assert sqlite_keeper.keep_open(path) is sqlite_keeper.keep_open(path)
    assert sqlite_keeper.keep_open(":memory:") is None


def test_django_opening_a_file_database_opens_its_keeper(tmp_path, django_db_blocker):
    path = tmp_path / "django.sqlite3"
    connections = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}})
    connection = connections["default"]
    with django_db_blocker.unblock():
        try:
            connection.ensure_connection()
            assert any(name == str(path) for _pid, name in sqlite_keeper._keepers)
        finally:
            connection.close()
