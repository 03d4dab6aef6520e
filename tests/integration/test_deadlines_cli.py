"""`hotline deadlines show|set`: a hotline's deadlines from the command line; a refusal names
the option and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import cli
from db import sync_url
from denmark.closed_days import Closures
from intake.models import Hotline
from tests.integration.test_deadline_admin import DEFAULTS, POLICY
from triage.deadline_config import DeadlineValues, values_of
from triage.models import ClockMode, DeadlineKind

# --- the command --------------------------------------------------------------------------------


@pytest.fixture
def environ(
    test_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, clean_database: None
) -> None:
    """The command's environment; clean_database puts the hotlines' deadlines back after."""
    for key, value in test_environ.items():
        monkeypatch.setenv(key, value)
    # cli.main configures logging for the process; other tests rely on the default setup.
    monkeypatch.setattr("logs.configure_logging", lambda level, fmt: None)


def row_values(database_url: str, hotline_id: str = "national") -> DeadlineValues:
    engine = create_engine(sync_url(database_url))
    try:
        with Session(engine) as session:
            return values_of(session.get_one(Hotline, hotline_id))
    finally:
        engine.dispose()


def test_the_command_shows_and_sets_deadlines(
    environ: None, database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["deadlines", "show", "national"]) == 0
    out = capsys.readouterr().out
    assert "triage:      24 h from receipt" in out
    assert "hours:       mon-fri=08:00-16:00" in out
    assert "closed on:   24dec,31dec" in out

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"visitation": POLICY}), encoding="utf-8")
    assert (
        cli.main(
            [
                "deadlines",
                "set",
                "national",
                "--triage-hours",
                "12",
                "--clock",
                "business_hours",
                "--hours",
                "mon-thu=08:00-15:30,fri=08:00-12:00",
                "--closed-on",
                "5jun,24dec,31dec",
                "--policy",
                str(policy),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Deadlines already running keep their due time" in out
    values = row_values(database_url)
    assert values.triage_minutes == 720
    assert values.visitation_minutes == 2880  # not given: unchanged
    assert values.clock_mode is ClockMode.BUSINESS_HOURS
    assert values.business_hours["thu"] == [["08:00", "15:30"]]
    assert values.business_hours["fri"] == [["08:00", "12:00"]]
    assert values.closures == Closures(True, True, True)
    assert values.policies[DeadlineKind.VISITATION] is not None

    # Only what is given changes; "default" puts the default policies back.
    assert cli.main(["deadlines", "set", "national", "--policy", "default"]) == 0
    after = row_values(database_url)
    assert after.policies == {DeadlineKind.TRIAGE: None, DeadlineKind.VISITATION: None}
    assert after.triage_minutes == 720
    assert cli.main(["deadlines", "show", "national"]) == 0
    assert "visitation policy (default)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        (["--triage-hours", "abc"], "--triage-hours"),
        (["--visitation-hours", "400"], "--visitation-hours"),
        (["--clock", "sundial"], "--clock"),
        (["--hours", "mon=8-16"], "--hours"),
        (["--clock", "business_hours", "--hours", "none"], "--hours"),
        (["--closed-on", "1may"], "--closed-on"),
        (["--policy", "missing.json"], "--policy"),
    ],
)
def test_the_command_refuses_naming_the_option(
    environ: None,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    option: str,
) -> None:
    before = row_values(database_url)
    assert cli.main(["deadlines", "set", "national", *arguments]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {option}"), err
    assert "nothing changed" in err
    assert row_values(database_url) == before


def test_the_command_names_the_policy_problem(
    environ: None, database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(
        json.dumps({"visitation": {"steps": [{"name": "a", "at": "1h", "audience": "mayor"}]}}),
        encoding="utf-8",
    )
    assert cli.main(["deadlines", "set", "national", "--policy", str(policy)]) == 2
    err = capsys.readouterr().err
    assert "--policy (visitation): The escalation policy is not valid: steps[0].kind" in err
    policy.write_text(json.dumps({"escalation": {}}), encoding="utf-8")
    assert cli.main(["deadlines", "set", "national", "--policy", str(policy)]) == 2
    assert "unknown deadline kind 'escalation'" in capsys.readouterr().err
    assert cli.main(["deadlines", "set", "nowhere", "--triage-hours", "2"]) == 2
    assert "no hotline is called 'nowhere'" in capsys.readouterr().err
    assert cli.main(["deadlines", "set", "national"]) == 2
    assert row_values(database_url) == DEFAULTS
