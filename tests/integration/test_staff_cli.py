"""`hotline staff add --phone --email` and `hotline staff set`: contact details normalised at
entry, invalid ones refused by name with nothing stored."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import create_engine, select

import cli
from access.models import StaffUser
from db import sync_url
from tests.support.staff import STAFF_PASSWORD


@pytest.fixture
def environ(
    test_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, clean_database: None
) -> None:
    for key, value in test_environ.items():
        monkeypatch.setenv(key, value)
    # cli.main configures logging for the process; other tests rely on the default setup.
    monkeypatch.setattr("logs.configure_logging", lambda level, fmt: None)


def contact(database_url: str, username: str) -> tuple[str | None, str | None] | None:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            row = connection.execute(
                select(StaffUser.phone_e164, StaffUser.email).where(StaffUser.username == username)
            ).one_or_none()
            return None if row is None else (row[0], row[1])
    finally:
        engine.dispose()


def add(monkeypatch: pytest.MonkeyPatch, *arguments: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(STAFF_PASSWORD + "\n"))
    return cli.main(["staff", "add", *arguments, "--password-stdin"])


def test_staff_add_takes_a_phone_number_and_an_e_mail_address(
    environ: None,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add(monkeypatch, "anne", "--phone", "20 12 34 56", "--email", "Anne@Example.org") == 0
    assert contact(database_url, "anne") == ("+4520123456", "anne@example.org")
    assert add(monkeypatch, "bo") == 0
    assert contact(database_url, "bo") == (None, None)

    capsys.readouterr()
    assert add(monkeypatch, "carl", "--phone", "123", "--email", "carl@") == 2
    err = capsys.readouterr().err
    assert "--phone: This phone number is not valid" in err
    assert "--email: This e-mail address is not valid." in err
    assert "nothing created" in err
    assert contact(database_url, "carl") is None


def test_staff_set_changes_only_what_is_given(
    environ: None,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add(monkeypatch, "anne", "--phone", "20 12 34 56", "--email", "anne@example.org") == 0
    assert cli.main(["staff", "set", "Anne", "--phone", "+46 70 174 06 05"]) == 0
    assert "phone +46701740605, e-mail anne@example.org" in capsys.readouterr().out
    assert contact(database_url, "anne") == ("+46701740605", "anne@example.org")

    assert cli.main(["staff", "set", "anne", "--email", ""]) == 0
    assert contact(database_url, "anne") == ("+46701740605", None)

    capsys.readouterr()
    assert cli.main(["staff", "set", "anne", "--phone", "anonymous"]) == 2
    assert "--phone: This phone number is not valid" in capsys.readouterr().err
    assert cli.main(["staff", "set", "nobody", "--phone", "20 12 34 56"]) == 2
    assert "no staff account is called 'nobody'" in capsys.readouterr().err
    assert cli.main(["staff", "set", "anne"]) == 2
    assert contact(database_url, "anne") == ("+46701740605", None)
