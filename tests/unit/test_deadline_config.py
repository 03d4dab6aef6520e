"""triage.deadline_config: a hotline's deadlines read from its columns, and an administrator's
input checked field by field (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from denmark.closed_days import Closures
from intake.models import BUSINESS_HOURS, Hotline
from notifications.escalation import Audience, StepKind
from notifications.problems import Invalid
from triage.deadline_clock import ClockMode, DeadlineKind
from triage.deadline_config import (
    DAY_INVALID,
    DURATION_INVALID,
    NO_OPEN_TIME,
    POLICY_INVALID,
    POLICY_NOT_JSON,
    DeadlineDraft,
    check,
    config_of,
    deadline_config,
    draft_of,
    format_closures,
    format_hours,
    format_week,
    hours_to_minutes,
    parse_closures,
    parse_day_spans,
    parse_week,
    values_of,
)

CPH = ZoneInfo("Europe/Copenhagen")
ZONE = "Europe/Copenhagen"
WEEKDAYS = {day: [list(span) for span in spans] for day, spans in BUSINESS_HOURS}


def local(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CPH)


def hotline(**columns: Any) -> Hotline:
    """A hotline row as the migration seeds it (not stored), with `columns` changed."""
    values: dict[str, Any] = {
        "id": "national",
        "timezone": ZONE,
        "triage_minutes": 24 * 60,
        "visitation_minutes": 48 * 60,
        "deadline_clock_mode": "calendar",
        "business_hours": WEEKDAYS,
        "closed_on_constitution_day": False,
        "closed_on_christmas_eve": True,
        "closed_on_new_years_eve": True,
        "triage_policy": None,
        "visitation_policy": None,
    }
    values.update(columns)
    return Hotline(**values)


def draft(**changes: Any) -> DeadlineDraft:
    given: dict[str, Any] = {
        "triage_hours": "24",
        "visitation_hours": "48",
        "clock_mode": "calendar",
        "business_hours": WEEKDAYS,
        "closures": Closures(),
        "policies": {},
    }
    given.update(changes)
    return DeadlineDraft(**given)


def problems(given: DeadlineDraft) -> dict[str, str]:
    with pytest.raises(Invalid) as refused:
        check(given, timezone=ZONE)
    return {name: problem.message for name, problem in refused.value.problems.items()}


# --- a hotline's configuration -----------------------------------------------------------------


def test_the_seeded_defaults_are_the_action_plans() -> None:
    config = deadline_config(hotline())
    assert config.mode is ClockMode.CALENDAR
    assert config.duration(DeadlineKind.TRIAGE) == timedelta(hours=24)
    assert config.duration(DeadlineKind.VISITATION) == timedelta(hours=48)
    # No policy of its own: the defaults for each duration, 24/36/44/48 h for visitation.
    visitation = config.rule(DeadlineKind.VISITATION)
    assert visitation.default_policy
    assert [s.offset for s in visitation.policy.steps] == [
        timedelta(hours=h) for h in (24, 36, 44, 48)
    ]
    assert [s.offset for s in config.policy(DeadlineKind.TRIAGE).steps] == [
        timedelta(hours=h) for h in (12, 18, 22, 24)
    ]


def test_calendar_hours_are_real_hours_across_summer_time() -> None:
    rule = deadline_config(hotline()).visitation
    # Saturday 28 March 2026 12:00 CET; the clocks go forward on Sunday.
    assert rule.due_at(local(2026, 3, 28, 12)) == local(2026, 3, 30, 13)


def test_business_hours_come_from_the_hotlines_calendar() -> None:
    config = deadline_config(hotline(deadline_clock_mode="business_hours"))
    assert config.mode is ClockMode.BUSINESS_HOURS
    # Friday 6 March 2026 15:00: 1 h on Friday, 8 on Monday and Tuesday, 7 on Wednesday.
    assert config.triage.due_at(local(2026, 3, 6, 15)) == local(2026, 3, 11, 15)
    # Received on a Saturday: the clock starts on Monday at 08:00, and three full days later
    # it is due at Wednesday's closing time.
    assert config.triage.due_at(local(2026, 3, 7, 11)) == local(2026, 3, 11, 16)


def test_closures_are_switches_of_the_hotline() -> None:
    # Wednesday 23 December 2026 at closing time. 24 December is closed by default, 25 and 26
    # are public holidays (26 a Saturday), 27 a Sunday: 24 hours are Monday to Wednesday.
    closed = deadline_config(hotline(deadline_clock_mode="business_hours"))
    assert closed.triage.due_at(local(2026, 12, 23, 16)) == local(2026, 12, 30, 16)
    assert closed.calendar.is_closed_date(local(2026, 12, 31).date())
    # Open on Christmas Eve: a day sooner.
    opened = deadline_config(
        hotline(deadline_clock_mode="business_hours", closed_on_christmas_eve=False)
    )
    assert opened.triage.due_at(local(2026, 12, 23, 16)) == local(2026, 12, 29, 16)
    assert not opened.calendar.is_closed_date(local(2026, 12, 24).date())


def test_a_stored_policy_is_used_as_stored() -> None:
    policy = {
        "repeat_every": "10m",
        "escalate_after": "20m",
        "steps": [
            {"name": "nudge", "at": "40h", "audience": "on_call", "kind": "warning"},
        ],
    }
    config = deadline_config(hotline(visitation_policy=policy))
    rule = config.rule(DeadlineKind.VISITATION)
    assert not rule.default_policy
    assert rule.policy.repeat_every == timedelta(minutes=10)
    (step,) = rule.policy.steps
    assert (step.offset, step.audience, step.kind) == (
        timedelta(hours=40),
        Audience.ON_CALL,
        StepKind.WARNING,
    )
    assert config.rule(DeadlineKind.TRIAGE).default_policy


# --- checking input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "minutes"),
    [
        ("24", 1440),
        (" 48 ", 2880),
        ("1.5", 90),
        ("1,5", 90),
        ("1:30", 90),
        ("0:15", 15),
        (24, 1440),
        (0.25, 15),
        (50 / 60, 50),  # a float that is not exact still means whole minutes
        ("336", 336 * 60),
    ],
)
def test_hours_are_read_in_every_form_the_inputs_give(given: object, minutes: int) -> None:
    assert hours_to_minutes(given) == minutes


@pytest.mark.parametrize(
    "given", ["", "0", "-1", "0:00", "337", "abc", "1:75", "0.01", "nan", "inf", True, None, [24]]
)
def test_hours_that_are_no_duration_are_refused(given: object) -> None:
    with pytest.raises(ValueError, match="hours"):
        hours_to_minutes(given)


def test_hours_are_written_so_they_read_back() -> None:
    for minutes in (15, 50, 90, 1440, 2880, 20159):
        assert hours_to_minutes(format_hours(minutes)) == minutes
    assert format_hours(1440) == "24"
    assert format_hours(90) == "1:30"


def test_a_day_and_a_week_of_opening_hours() -> None:
    assert parse_day_spans("8:00-12:00, 13:00 – 16:30") == [["08:00", "12:00"], ["13:00", "16:30"]]
    assert parse_day_spans("  ") == []
    week = parse_week("mon-fri=08:00-16:00,sat=10:00-12:00;13:00-14:00,fri=17:00-18:00")
    assert week["mon"] == week["thu"] == [["08:00", "16:00"]]
    assert week["fri"] == [["08:00", "16:00"], ["17:00", "18:00"]]
    assert week["sat"] == [["10:00", "12:00"], ["13:00", "14:00"]]
    assert "sun" not in week
    assert parse_week("none") == {}
    # Written as ranges of days alike; reads back to the same week.
    text = format_week(WEEKDAYS)
    assert text == "mon-fri=08:00-16:00"
    assert parse_week(text) == WEEKDAYS
    assert parse_week(format_week(week)) == week
    assert format_week({}) == "none"


@pytest.mark.parametrize(
    "text", ["mon=8-16", "fri-mon=08:00-16:00", "xyz=08:00-16:00", "mon 08:00-16:00", "mon="]
)
def test_a_week_that_cannot_be_read_is_refused_for_the_hours_option(text: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_week(text)
    assert set(refused.value.problems) == {"business_hours"}


def test_closures_by_their_short_names() -> None:
    assert parse_closures("5jun,24DEC") == Closures(
        constitution_day=True, christmas_eve=True, new_years_eve=False
    )
    assert parse_closures("none") == Closures(False, False, False)
    assert format_closures(Closures()) == "24dec,31dec"
    assert parse_closures(format_closures(Closures())) == Closures()
    with pytest.raises(Invalid) as refused:
        parse_closures("24dec,1may")
    assert set(refused.value.problems) == {"closed_on"}


def test_a_valid_draft_is_stored_tidied() -> None:
    values = check(
        draft(
            triage_hours="12",
            visitation_hours=48,
            clock_mode="business_hours",
            business_hours={"mon": "12:00-16:00, 08:00-12:30", "sat": [["9:00", "13:00"]]},
            closures=Closures(constitution_day=True),
            policies={DeadlineKind.VISITATION: '{"steps": []}'},
        ),
        timezone=ZONE,
    )
    assert (values.triage_minutes, values.visitation_minutes) == (720, 2880)
    assert values.clock_mode is ClockMode.BUSINESS_HOURS
    # Overlapping spans merged, days without spans left out, times written alike.
    assert values.business_hours == {"mon": [["08:00", "16:00"]], "sat": [["09:00", "13:00"]]}
    assert values.closures.constitution_day
    # A policy is kept as complete plain data; one not given is the default (None).
    assert values.policies == {
        DeadlineKind.TRIAGE: None,
        DeadlineKind.VISITATION: {"repeat_every": "15m", "escalate_after": "30m", "steps": []},
    }


def test_a_policy_without_steps_takes_the_defaults_of_its_duration() -> None:
    values = check(
        draft(visitation_hours="24", policies={DeadlineKind.VISITATION: {"repeat_every": "5m"}}),
        timezone=ZONE,
    )
    stored = values.policies[DeadlineKind.VISITATION]
    assert stored is not None
    assert stored["repeat_every"] == "5m"
    assert [step["at"] for step in stored["steps"]] == ["12h", "18h", "22h", "24h"]


def test_every_wrong_field_is_named_at_once() -> None:
    found = problems(
        draft(
            triage_hours="abc",
            visitation_hours="0",
            clock_mode="stopwatch",
            business_hours={"tue": "8-16", "wed": "16:00-08:00"},
            policies={DeadlineKind.VISITATION: {"steps": [{"name": "x"}]}},
        )
    )
    assert set(found) == {
        "triage_hours",
        "visitation_hours",
        "clock_mode",
        "business_hours.tue",
        "business_hours.wed",
    }
    assert found["triage_hours"] == DURATION_INVALID
    assert found["business_hours.tue"] == DAY_INVALID
    # A policy is checked against its duration; with a wrong duration there is none to check
    # against, so only the duration is named.
    found = problems(
        draft(policies={DeadlineKind.VISITATION: {"steps": [{"name": "x", "at": "1h"}]}})
    )
    assert found == {"policies.visitation": POLICY_INVALID}


def test_a_policy_problem_says_where_in_the_policy() -> None:
    with pytest.raises(Invalid) as refused:
        check(
            draft(
                policies={
                    DeadlineKind.TRIAGE: {
                        "steps": [{"name": "a", "at": "1h", "audience": "mayor", "kind": "warning"}]
                    }
                }
            ),
            timezone=ZONE,
        )
    problem = refused.value.problems["policies.triage"]
    assert "steps[0].audience" in problem.text()
    with pytest.raises(Invalid) as refused:
        check(draft(policies={DeadlineKind.TRIAGE: '{"steps": [\n  oops]}'}), timezone=ZONE)
    problem = refused.value.problems["policies.triage"]
    assert problem.message == POLICY_NOT_JSON
    assert problem.values == {"line": 2, "column": 3}


def test_business_hours_need_some_open_time_but_calendar_hours_do_not() -> None:
    closed_all_week = {day: "" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    found = problems(draft(clock_mode="business_hours", business_hours=closed_all_week))
    assert found == {"business_hours": NO_OPEN_TIME}
    values = check(draft(business_hours=closed_all_week), timezone=ZONE)
    assert values.business_hours == {}
    assert problems(draft(business_hours={"someday": "08:00-16:00"})) == {
        "business_hours": "Write the opening hours like mon-fri=08:00-16:00,sat=10:00-14:00 "
        "(days not named are closed)."
    }


def test_stored_values_read_back_unchanged() -> None:
    row = hotline(
        triage_minutes=90,
        deadline_clock_mode="business_hours",
        business_hours={"mon": [["08:00", "12:00"], ["13:00", "16:00"]]},
        closed_on_constitution_day=True,
        visitation_policy={
            "repeat_every": "15m",
            "escalate_after": "30m",
            "steps": [
                {
                    "name": "overdue",
                    "at": "48h",
                    "audience": "on_call_and_team_lead",
                    "kind": "overdue",
                    "repeats": True,
                }
            ],
        },
    )
    values = values_of(row)
    assert check(draft_of(values), timezone=ZONE) == values
    config = config_of(values, hotline_id="national", timezone=ZONE)
    assert config.calendar.is_open(datetime(2026, 3, 2, 10, 30, tzinfo=UTC))  # 11:30 local
    assert not config.calendar.is_open(datetime(2026, 3, 2, 11, 30, tzinfo=UTC))  # lunch
