"""`hotline duty set`: a hotline's on-duty phones, normalised, invalid numbers refused by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, select, update

import cli
from db import sync_url
from intake.models import Hotline


@pytest.fixture
def environ(
    test_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> Iterator[None]:
    for key, value in test_environ.items():
        monkeypatch.setenv(key, value)
    # cli.main configures logging for the process; other tests rely on the default setup.
    monkeypatch.setattr("logs.configure_logging", lambda level, fmt: None)
    yield
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        connection.execute(update(Hotline).values(duty_numbers=[]))
    engine.dispose()


def duty_numbers(database_url: str, hotline_id: str) -> list[str]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            numbers = connection.scalar(
                select(Hotline.duty_numbers).where(Hotline.id == hotline_id)
            )
            return list(numbers or [])
    finally:
        engine.dispose()


def test_duty_set_normalises_the_numbers(
    environ: None, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["duty", "set", "national", "20 12 34 56", "+45 30123456"]) == 0
    assert duty_numbers(database_url, "national") == ["+4520123456", "+4530123456"]
    out = capsys.readouterr().out
    assert "duty-1, duty-2" in out
    assert "20123456" not in out


def test_duty_set_refuses_invalid_numbers_by_name_and_changes_nothing(
    environ: None, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["duty", "set", "national", "+4520123456"]) == 0
    assert cli.main(["duty", "set", "national", "+4530123456", "12345678"]) == 2
    assert "12345678" in capsys.readouterr().err
    assert duty_numbers(database_url, "national") == ["+4520123456"]
    assert cli.main(["duty", "set", "nowhere", "+4520123456"]) == 2


def record_calls(database_url: str, hotline_id: str) -> bool:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return bool(
                connection.scalar(select(Hotline.record_calls).where(Hotline.id == hotline_id))
            )
    finally:
        engine.dispose()


def test_call_recording_is_off_until_switched_on(
    environ: None, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert record_calls(database_url, "copenhagen") is False
    assert cli.main(["duty", "record", "copenhagen", "on"]) == 0
    assert record_calls(database_url, "copenhagen") is True
    assert "answered calls are recorded" in capsys.readouterr().out
    assert cli.main(["duty", "record", "copenhagen", "off"]) == 0
    assert record_calls(database_url, "copenhagen") is False
    assert cli.main(["duty", "record", "nowhere", "on"]) == 2
