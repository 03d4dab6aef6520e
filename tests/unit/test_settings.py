"""settings.load_settings: defaults, refusals that name the variable, and no hidden reads."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import settings as settings_module
from settings import SettingsError, load_settings

LONG_SECRET = "s" * 32
DATA_KEY_VALUE = "a-data-key-that-must-never-be-printed"


@pytest.fixture
def no_hotline_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process environment without any HOTLINE_* variable (whatever the developer has set)."""
    for key in list(os.environ):
        if key.upper().startswith("HOTLINE_"):
            monkeypatch.delenv(key)


def test_empty_environ_gives_embedded_defaults() -> None:
    settings = load_settings({})

    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.embedded_database
    assert settings.embedded_queue
    assert settings.should_migrate_on_start
    assert settings.port == 8080
    assert settings.host == "127.0.0.1"
    assert settings.log_format == "console"
    assert settings.secret_key is None
    assert settings.data_key is None


def test_default_database_is_sqlite_inside_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings({"HOTLINE_DATA_DIR": str(tmp_path)})

    url = settings.resolved_database_url
    prefix = "sqlite+aiosqlite:///"
    assert url.startswith(prefix)
    database_file = Path(url.removeprefix(prefix))
    assert database_file.is_absolute()
    assert database_file.parent == tmp_path.resolve()


def test_relative_data_dir_is_resolved_to_an_absolute_database_path() -> None:
    settings = load_settings({"HOTLINE_DATA_DIR": "some/where"})

    database_file = Path(settings.resolved_database_url.removeprefix("sqlite+aiosqlite:///"))
    assert database_file.is_absolute()
    assert database_file.parent == Path("some/where").resolve()


def test_explicit_sqlite_url_is_embedded_and_migrates_on_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    settings = load_settings({"HOTLINE_DATABASE_URL": url})

    assert settings.resolved_database_url == url
    assert settings.embedded_database
    assert settings.should_migrate_on_start


def test_postgresql_does_not_migrate_on_start_by_default() -> None:
    settings = load_settings({"HOTLINE_DATABASE_URL": "postgresql+asyncpg://u:p@db/hotline"})

    assert not settings.embedded_database
    assert not settings.should_migrate_on_start
    assert settings.resolved_database_url == "postgresql+asyncpg://u:p@db/hotline"


@pytest.mark.parametrize(
    ("database_url", "flag", "expected"),
    [
        ("postgresql+asyncpg://u:p@db/hotline", "true", True),
        ("", "false", False),
    ],
)
def test_migrate_on_start_can_be_set_explicitly(
    database_url: str, flag: str, expected: bool
) -> None:
    environ = {"HOTLINE_MIGRATE_ON_START": flag}
    if database_url:
        environ["HOTLINE_DATABASE_URL"] = database_url

    assert load_settings(environ).should_migrate_on_start is expected


def test_empty_database_and_redis_urls_mean_embedded() -> None:
    settings = load_settings({"HOTLINE_DATABASE_URL": "", "HOTLINE_REDIS_URL": ""})

    assert settings.embedded_database
    assert settings.embedded_queue


def test_redis_url_turns_off_the_embedded_queue() -> None:
    settings = load_settings({"HOTLINE_REDIS_URL": "redis://localhost:6379/0"})

    assert not settings.embedded_queue
    assert settings.redis_url == "redis://localhost:6379/0"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOTLINE_PORT", "abc"),
        ("HOTLINE_PORT", "70000"),
        ("HOTLINE_PORT", "0"),
        ("HOTLINE_DATABASE_URL", "mysql://x"),
        ("HOTLINE_DATABASE_URL", "postgresql://u:p@db/hotline"),
        ("HOTLINE_REDIS_URL", "http://x"),
        ("HOTLINE_PUBLIC_BASE_URL", "https://hotline.example.dk/?a=1"),
        ("HOTLINE_PUBLIC_BASE_URL", "https://hotline.example.dk/#top"),
        ("HOTLINE_PUBLIC_BASE_URL", "hotline.example.dk"),
        ("HOTLINE_SECRET_KEY", "s" * 31),
        ("HOTLINE_METRICS_TOKEN", "t" * 31),
        ("HOTLINE_LOG_FORMAT", "xml"),
        ("HOTLINE_LOG_LEVEL", "verbose"),
        ("HOTLINE_SESSION_HOURS", "0"),
        ("HOTLINE_MAX_BODY_KIB", "1"),
        ("HOTLINE_COOKIE_SECURE", "maybe"),
    ],
)
def test_invalid_value_is_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({variable: value})

    assert variable in str(caught.value)


def test_the_refusal_says_what_is_allowed() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"HOTLINE_LOG_FORMAT": "xml"})

    message = str(caught.value)
    assert "console" in message
    assert "json" in message


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"HOTLINE_PORT": "abc", "HOTLINE_REDIS_URL": "http://x"})

    assert "HOTLINE_PORT" in str(caught.value)
    assert "HOTLINE_REDIS_URL" in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOTLINE_PORT", "1"),
        ("HOTLINE_PORT", "65535"),
        ("HOTLINE_DATABASE_URL", "postgresql+asyncpg://u:p@db:5432/hotline"),
        ("HOTLINE_DATABASE_URL", "sqlite+aiosqlite:///tmp/hotline.db"),
        ("HOTLINE_REDIS_URL", "redis://localhost:6379/0"),
        ("HOTLINE_REDIS_URL", "rediss://user:pw@redis.example:6380/1"),
        ("HOTLINE_REDIS_URL", "unix:///run/redis.sock"),
        ("HOTLINE_PUBLIC_BASE_URL", "https://hotline.example.dk"),
        ("HOTLINE_PUBLIC_BASE_URL", "http://localhost:8080/hotline"),
        ("HOTLINE_SECRET_KEY", "s" * 32),
        ("HOTLINE_LOG_FORMAT", "json"),
        ("HOTLINE_LOG_FORMAT", "console"),
        ("HOTLINE_COOKIE_SECURE", "false"),
    ],
)
def test_allowed_values_are_accepted(variable: str, value: str) -> None:
    settings = load_settings({variable: value})

    field = variable.removeprefix("HOTLINE_").lower()
    stored = getattr(settings, field)
    shown = stored.get_secret_value() if hasattr(stored, "get_secret_value") else stored
    assert str(shown).lower() == value.lower()


def test_typed_values_are_converted() -> None:
    settings = load_settings(
        {"HOTLINE_PORT": "9000", "HOTLINE_COOKIE_SECURE": "false", "HOTLINE_SESSION_HOURS": "1.5"}
    )

    assert settings.port == 9000
    assert settings.cookie_secure is False
    assert settings.session_hours == 1.5


def test_public_base_url_loses_its_trailing_slash() -> None:
    settings = load_settings({"HOTLINE_PUBLIC_BASE_URL": "https://hotline.example.dk/"})

    assert settings.public_base_url == "https://hotline.example.dk"


def test_unknown_hotline_variable_is_refused_by_name() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"HOTLINE_DATABSE_URL": "postgresql+asyncpg://u:p@db/hotline"})

    assert "HOTLINE_DATABSE_URL" in str(caught.value)


def test_a_retired_variable_says_what_replaced_it() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"HOTLINE_TRIAGE_DEADLINE_HOURS": "24"})

    message = str(caught.value)
    assert message.startswith("HOTLINE_TRIAGE_DEADLINE_HOURS: no longer a setting")
    assert "hotline deadlines set" in message


def test_the_metrics_token_is_optional_and_secret() -> None:
    assert load_settings({}).metrics_token is None
    assert load_settings({"HOTLINE_METRICS_TOKEN": ""}).metrics_token is None
    token = "m" * 40
    settings = load_settings({"HOTLINE_METRICS_TOKEN": token})
    assert settings.metrics_token is not None
    assert settings.metrics_token.get_secret_value() == token
    assert token not in repr(settings)


def test_variable_names_are_case_insensitive() -> None:
    assert load_settings({"hotline_port": "9001"}).port == 9001


def test_other_variables_are_ignored() -> None:
    settings = load_settings(
        {"PATH": "/usr/bin", "PORT": "abc", "DATABASE_URL": "mysql://x", "HOTLINEX": "1"}
    )

    assert settings.port == 8080
    assert settings.database_url is None


def test_secrets_are_hidden_from_repr_and_str() -> None:
    secret = "k" * 40
    settings = load_settings({"HOTLINE_SECRET_KEY": secret, "HOTLINE_DATA_KEY": DATA_KEY_VALUE})

    for shown in (repr(settings), str(settings)):
        assert secret not in shown
        assert DATA_KEY_VALUE not in shown
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == secret
    assert settings.data_key is not None
    assert settings.data_key.get_secret_value() == DATA_KEY_VALUE


def test_connection_urls_are_hidden_from_repr() -> None:
    settings = load_settings(
        {
            "HOTLINE_DATABASE_URL": "postgresql+asyncpg://hotline:pg-pass-123@db/hotline",
            "HOTLINE_REDIS_URL": "redis://:redis-pass-456@cache:6379/0",
        }
    )

    assert "pg-pass-123" not in repr(settings)
    assert "redis-pass-456" not in repr(settings)
    assert settings.database_url is not None
    assert "pg-pass-123" in settings.database_url


def test_settings_are_frozen() -> None:
    settings = load_settings({})

    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1


def test_result_depends_only_on_the_given_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_PORT", "9999")
    monkeypatch.setenv("HOTLINE_REDIS_URL", "redis://elsewhere:6379/0")

    settings = load_settings({"HOTLINE_LOG_LEVEL": "debug"})

    assert settings.port == 8080
    assert settings.embedded_queue
    assert settings.log_level == "debug"


def test_bad_process_environment_does_not_affect_an_explicit_mapping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOTLINE_LOG_FORMAT", "xml")
    monkeypatch.setenv("HOTLINE_DATABSE_URL", "typo")

    assert load_settings({}).log_format == "console"


def test_without_a_mapping_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch, no_hotline_environ: None
) -> None:
    monkeypatch.setenv("HOTLINE_PORT", "9999")

    assert load_settings().port == 9999


def test_overrides_win_over_the_mapping() -> None:
    settings = load_settings({"HOTLINE_PORT": "9000"}, port=9100)

    assert settings.port == 9100


@pytest.fixture
def restore_settings_module() -> Iterator[None]:
    """Reloading rebinds the module's classes; put the originals back for the other tests."""
    saved = dict(vars(settings_module))
    yield
    vars(settings_module).clear()
    vars(settings_module).update(saved)


def test_importing_the_module_reads_nothing(
    monkeypatch: pytest.MonkeyPatch, restore_settings_module: None
) -> None:
    monkeypatch.setenv("HOTLINE_PORT", "abc")
    monkeypatch.setenv("HOTLINE_DATABSE_URL", "typo")

    reloaded = importlib.reload(settings_module)

    assert reloaded.ENV_PREFIX == "HOTLINE_"
    # Reading happens only when asked for, and then the bad value is refused.
    with pytest.raises(reloaded.SettingsError):
        reloaded.load_settings()
