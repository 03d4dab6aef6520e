"""Escalation policies: step times in either clock mode, which steps are due, repeats and the
chain, and policies read from settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.escalation import (
    Audience,
    EscalationPolicy,
    EscalationStep,
    PolicyError,
    StepKind,
    chain_position,
    default_policy,
    due_steps,
    format_duration,
    next_attempt,
    next_repeat_at,
    parse_duration,
    parse_policy,
    policy_to_data,
    step_due_times,
)
from triage.deadline_clock import BusinessCalendar, ClockMode

CPH = ZoneInfo("Europe/Copenhagen")
CAL, BIZ = ClockMode.CALENDAR, ClockMode.BUSINESS_HOURS
H48 = timedelta(hours=48)
POLICY = default_policy(H48)
OFFICE = BusinessCalendar.from_hours(
    {day: [["08:00", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
)
START = datetime(2026, 3, 2, 9, 0, tzinfo=CPH)  # a Monday


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_the_default_policy_for_the_48_hour_clock() -> None:
    assert [(s.name, s.offset, s.audience, s.kind, s.repeats) for s in POLICY.steps] == [
        ("reminder", hours(24), Audience.ASSIGNEE, StepKind.REMINDER, False),
        ("warning", hours(36), Audience.TEAM_LEAD, StepKind.WARNING, False),
        ("approaching", hours(44), Audience.ON_CALL, StepKind.APPROACHING, True),
        ("overdue", hours(48), Audience.ON_CALL_AND_TEAM_LEAD, StepKind.OVERDUE, True),
    ]
    assert POLICY.repeat_every == minutes(15)
    assert POLICY.escalate_after == minutes(30)


def test_the_defaults_scale_with_the_duration() -> None:
    assert [s.offset for s in default_policy(hours(24)).steps] == [
        hours(12),
        hours(18),
        hours(22),
        hours(24),
    ]
    with pytest.raises(PolicyError, match="duration: must be longer than zero"):
        default_policy(timedelta(0))


# --- step times and selection ----------------------------------------------------------------


def test_step_due_times_in_calendar_hours() -> None:
    times = step_due_times(POLICY, START, CAL)
    assert [(step.name, at) for step, at in times] == [
        ("reminder", datetime(2026, 3, 3, 9, tzinfo=CPH)),
        ("warning", datetime(2026, 3, 3, 21, tzinfo=CPH)),
        ("approaching", datetime(2026, 3, 4, 5, tzinfo=CPH)),
        ("overdue", datetime(2026, 3, 4, 9, tzinfo=CPH)),
    ]


def test_step_due_times_in_business_hours() -> None:
    # 8 open hours a day, Monday 09:00: 24 h → Thursday 09:00, 36 h → Friday 13:00,
    # 44 h → Monday 13:00, 48 h → Tuesday 09:00.
    times = dict((step.name, at) for step, at in step_due_times(POLICY, START, BIZ, OFFICE))
    assert times == {
        "reminder": datetime(2026, 3, 5, 9, tzinfo=CPH),
        "warning": datetime(2026, 3, 6, 13, tzinfo=CPH),
        "approaching": datetime(2026, 3, 9, 13, tzinfo=CPH),
        "overdue": datetime(2026, 3, 10, 9, tzinfo=CPH),
    }


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (hours(23) + minutes(59), []),
        (hours(24), ["reminder"]),
        (hours(35), ["reminder"]),
        (hours(36), ["reminder", "warning"]),
        (hours(44), ["reminder", "warning", "approaching"]),
        (hours(48) - timedelta(microseconds=1), ["reminder", "warning", "approaching"]),
        (hours(48), ["reminder", "warning", "approaching", "overdue"]),
        (hours(100), ["reminder", "warning", "approaching", "overdue"]),
    ],
)
def test_steps_due_at_a_given_time(after: timedelta, expected: list[str]) -> None:
    due = due_steps(POLICY, START, START + after, (), None, mode=CAL)
    assert [step.name for step in due] == expected


def test_fired_steps_are_not_due_again() -> None:
    now = START + hours(45)
    due = due_steps(POLICY, START, now, {"reminder", "warning"}, None, mode=CAL)
    assert [step.name for step in due] == ["approaching"]
    fired_all = {"reminder", "warning", "approaching"}
    assert due_steps(POLICY, START, now, fired_all, None, mode=CAL) == ()


def test_meeting_the_deadline_stops_every_further_step() -> None:
    now = START + hours(50)
    met = START + hours(30)
    assert due_steps(POLICY, START, now, {"reminder"}, met, mode=CAL) == ()
    # Met exactly now counts as met.
    assert due_steps(POLICY, START, now, (), now, mode=CAL) == ()
    # A meeting time after `now` (a replay of an earlier moment) does not count yet.
    later = due_steps(POLICY, START, START + hours(25), (), START + hours(30), mode=CAL)
    assert [step.name for step in later] == ["reminder"]


def test_step_selection_in_business_hours() -> None:
    # Thursday 08:59 is 23:59 business hours after Monday 09:00; 09:00 is 24.
    thursday = datetime(2026, 3, 5, 8, 59, tzinfo=CPH)
    assert due_steps(POLICY, START, thursday, (), None, mode=BIZ, calendar=OFFICE) == ()
    due = due_steps(POLICY, START, thursday + minutes(1), (), None, mode=BIZ, calendar=OFFICE)
    assert [step.name for step in due] == ["reminder"]
    # Over the weekend no business time passes: Sunday night is still Friday 16:00 (39 h).
    sunday = datetime(2026, 3, 8, 23, 0, tzinfo=CPH)
    due = due_steps(POLICY, START, sunday, (), None, mode=BIZ, calendar=OFFICE)
    assert [step.name for step in due] == ["reminder", "warning"]


def test_step_selection_agrees_with_step_due_times() -> None:
    times = step_due_times(POLICY, START, BIZ, OFFICE)
    for step, at in times:
        for now, is_due in ((at - timedelta(seconds=1), False), (at, True)):
            due = due_steps(POLICY, START, now, (), None, mode=BIZ, calendar=OFFICE)
            assert (step in due) is is_due, (step.name, now)


# --- repeats and the chain -------------------------------------------------------------------

FIRED = datetime(2026, 3, 4, 5, 0, tzinfo=UTC)


def test_repeats_every_fifteen_minutes_on_the_fired_at_grid() -> None:
    assert next_repeat_at(FIRED, FIRED, POLICY) == FIRED + minutes(15)
    assert next_repeat_at(FIRED, FIRED + minutes(15), POLICY) == FIRED + minutes(30)
    # A late attempt (worker busy) does not shift the grid.
    assert next_repeat_at(FIRED, FIRED + minutes(17), POLICY) == FIRED + minutes(30)
    assert next_repeat_at(FIRED, FIRED + minutes(29), POLICY) == FIRED + minutes(30)
    with pytest.raises(ValueError, match="last_attempt_at"):
        next_repeat_at(FIRED, FIRED - minutes(1), POLICY)


@pytest.mark.parametrize(
    ("after", "position"),
    [
        (timedelta(0), 0),
        (minutes(29) + timedelta(seconds=59), 0),
        (minutes(30) - timedelta(microseconds=1), 0),
        (minutes(30), 1),
        (minutes(59) + timedelta(seconds=59), 1),
        (minutes(60), 2),
        (minutes(95), 3),
    ],
)
def test_chain_position_moves_every_thirty_minutes(after: timedelta, position: int) -> None:
    assert chain_position(FIRED, FIRED + after, POLICY) == position


def test_chain_position_stays_with_the_last_person_and_before_firing_is_the_first() -> None:
    assert chain_position(FIRED, FIRED + hours(5), POLICY, chain_length=3) == 2
    assert chain_position(FIRED, FIRED + minutes(45), POLICY, chain_length=3) == 1
    assert chain_position(FIRED, FIRED - minutes(5), POLICY) == 0
    with pytest.raises(ValueError, match="chain_length"):
        chain_position(FIRED, FIRED, POLICY, chain_length=0)


def test_custom_repeat_and_escalation_times() -> None:
    policy = EscalationPolicy(POLICY.steps, repeat_every=minutes(5), escalate_after=minutes(10))
    assert next_repeat_at(FIRED, FIRED + minutes(5), policy) == FIRED + minutes(10)
    assert chain_position(FIRED, FIRED + minutes(9), policy) == 0
    assert chain_position(FIRED, FIRED + minutes(10), policy) == 1


def test_next_attempt_stops_for_acknowledgement_meeting_and_one_off_steps() -> None:
    approaching = POLICY.steps[2]
    reminder = POLICY.steps[0]
    last = FIRED + minutes(15)
    kwargs: dict[str, datetime | None] = {"acknowledged_at": None, "met_at": None}
    assert next_attempt(approaching, FIRED, last, POLICY, **kwargs) == FIRED + minutes(30)
    assert next_attempt(reminder, FIRED, last, POLICY, **kwargs) is None
    acknowledged = {"acknowledged_at": last, "met_at": None}
    assert next_attempt(approaching, FIRED, last, POLICY, **acknowledged) is None
    met = {"acknowledged_at": None, "met_at": last}
    assert next_attempt(approaching, FIRED, last, POLICY, **met) is None


# --- policies from settings ------------------------------------------------------------------


def test_the_default_policy_round_trips_through_plain_data() -> None:
    data = policy_to_data(POLICY)
    assert data == {
        "repeat_every": "15m",
        "escalate_after": "30m",
        "steps": [
            {"name": "reminder", "at": "24h", "audience": "assignee", "kind": "reminder",
             "repeats": False},
            {"name": "warning", "at": "36h", "audience": "team_lead", "kind": "warning",
             "repeats": False},
            {"name": "approaching", "at": "44h", "audience": "on_call", "kind": "approaching",
             "repeats": True},
            {"name": "overdue", "at": "48h", "audience": "on_call_and_team_lead",
             "kind": "overdue", "repeats": True},
        ],
    }  # fmt: skip
    assert parse_policy(json.loads(json.dumps(data)), duration=H48) == POLICY


def test_missing_keys_take_the_defaults() -> None:
    assert parse_policy({}, duration=H48) == POLICY
    assert parse_policy({}, duration=hours(24)) == default_policy(hours(24))
    policy = parse_policy(
        {"repeat_every": "10m", "steps": [{"name": "late", "at": "2d", "audience": "on_call",
                                           "kind": "overdue"}]},
        duration=H48,
    )  # fmt: skip
    assert policy.repeat_every == minutes(10)
    assert policy.escalate_after == minutes(30)
    assert policy.steps == (
        EscalationStep("late", hours(48), Audience.ON_CALL, StepKind.OVERDUE, repeats=False),
    )


def _step(**changes: object) -> dict[str, object]:
    step: dict[str, object] = {
        "name": "first",
        "at": "24h",
        "audience": "assignee",
        "kind": "reminder",
    }
    step.update(changes)
    return step


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ([], "policy", "expected an object"),
        ({"repeat_evry": "15m"}, "repeat_evry", "unknown key"),
        ({"repeat_every": "15 minutes"}, "repeat_every", 'expected a duration like "44h"'),
        ({"repeat_every": 15}, "repeat_every", "expected a duration"),
        ({"repeat_every": ""}, "repeat_every", "expected a duration"),
        ({"repeat_every": "0m"}, "repeat_every", "must be longer than zero"),
        ({"escalate_after": "0h"}, "escalate_after", "must be longer than zero"),
        ({"steps": "reminder"}, "steps", "expected a list"),
        ({"steps": [_step(), "x"]}, "steps[1]", "expected an object"),
        ({"steps": [_step(audience="police")]}, "steps[0].audience", "must be one of assignee"),
        ({"steps": [_step(kind="urgent")]}, "steps[0].kind", "must be one of reminder"),
        ({"steps": [_step(kind=1)]}, "steps[0].kind", "must be one of"),
        ({"steps": [_step(at="-1h")]}, "steps[0].at", "expected a duration"),
        ({"steps": [_step(repeats="yes")]}, "steps[0].repeats", "expected true or false"),
        ({"steps": [_step(name=3)]}, "steps[0].name", "expected text"),
        ({"steps": [_step(name=" ")]}, "steps[0].name", "must not be empty"),
        ({"steps": [_step(colour="red")]}, "steps[0].colour", "unknown key"),
        ({"steps": [{"name": "x", "at": "1h", "kind": "reminder"}]}, "steps[0].audience",
         "is required"),
        ({"steps": [_step(), _step()]}, "steps[1].name", "'first' is used twice"),
        ({"steps": [_step(), _step(name="second", at="12h")]}, "steps[1].at",
         "steps must be in order of time"),
    ],
)  # fmt: skip
def test_bad_policies_name_the_field(data: object, field: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as caught:
        parse_policy(data, duration=H48)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("44h", hours(44)),
        ("15m", minutes(15)),
        ("1h30m", minutes(90)),
        ("2d", hours(48)),
        ("1d2h3m", hours(26) + minutes(3)),
        ("0m", timedelta(0)),
    ],
)
def test_durations(text: str, value: timedelta) -> None:
    assert parse_duration(text, "at") == value
    assert parse_duration(format_duration(value), "at") == value
    for bad in ("h", "1.5h", "30m1h", "1 h", "1H"):
        with pytest.raises(PolicyError, match="at: expected a duration"):
            parse_duration(bad, "at")


def test_only_whole_minutes_are_written() -> None:
    assert format_duration(hours(44)) == "44h"
    assert format_duration(minutes(90)) == "1h30m"
    with pytest.raises(ValueError, match="whole"):
        format_duration(timedelta(seconds=30))
