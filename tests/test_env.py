"""Environment readers behind the settings: pure functions, no database."""

import pytest

from config.env import EnvError, env_bool, env_int, env_list, env_str, is_real_secret_key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("false", False), ("", False)],
)
def test_env_bool_reads_common_spellings(raw, expected):
    assert env_bool("FLAG", default=not expected, environ={"FLAG": raw}) is expected


def test_env_bool_default_when_unset():
    assert env_bool("FLAG", True, environ={}) is True
    assert env_bool("FLAG", False, environ={}) is False


def test_env_bool_rejects_unknown_value_naming_the_variable():
    with pytest.raises(EnvError, match="DEBUG"):
        env_bool("DEBUG", environ={"DEBUG": "maybe"})


def test_env_int_parses_and_names_the_variable_on_error():
    assert env_int("LIMIT", 5, environ={"LIMIT": "2_000"}) == 2000
    assert env_int("LIMIT", 5, environ={}) == 5
    assert env_int("LIMIT", 5, environ={"LIMIT": " "}) == 5
    with pytest.raises(EnvError, match="LIMIT"):
        env_int("LIMIT", 5, environ={"LIMIT": "lots"})


def test_env_list_splits_and_drops_blanks():
    assert env_list("HOSTS", environ={"HOSTS": "a.example, b.example,,"}) == ["a.example", "b.example"]
    assert env_list("HOSTS", "x,y", environ={}) == ["x", "y"]
    assert env_str("MISSING", "fallback", environ={}) == "fallback"


@pytest.mark.parametrize(
    ("key", "real"),
    [
        ("", False),
        ("short", False),
        ("django-insecure-" + "x" * 60, False),
        ("a" * 60, False),
        ("Zt0r9-Qw8K2mX5vN7bL1cF3hJ6pS4dG8yU0iO2eR7tW9qA1zX3cV5bN7mK9lP2oI", True),
    ],
)
def test_real_secret_key(key, real):
    assert is_real_secret_key(key) is real
