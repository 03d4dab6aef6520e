"""Escalation policies: who is told what, when, as a deadline runs (pure).

A policy is a list of steps. Each step sits at an **offset from the deadline's start**, counted
in the deadline's own clock mode (calendar or business hours, `triage.deadline_clock`), and is
stored as that absolute offset ("at 36 h"), because that is how the action plan and the staff
speak of it and because a stored step should not move when someone edits a duration.
`default_policy(duration)` derives the defaults as fractions of the duration: 1/2, 3/4, 11/12
and 1, which for the 48-hour visitation clock are exactly 24, 36, 44 and 48 hours (for a
24-hour triage clock: 12, 18, 22 and 24). Steps may lie after the due time (still overdue).

Alerts that repeat (by default the on-call ones: approaching and overdue) are sent again every
`repeat_every` until acknowledged, and every `escalate_after` move to the next person in the
chain (the chain itself — on-call now, next, team lead… — is the caller's). Repeats and chain
moves run in real time from when the step fired, whatever the deadline's clock mode: an alert
that nobody answers at 23:00 must not wait for the morning. Meeting the deadline stops all
further steps and repeats at once.

Policies come from settings as plain JSON-able data; `parse_policy` checks them and names the
bad field ("steps[2].audience: …").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import TypeVar

from triage.deadline_clock import BusinessCalendar, ClockMode, elapsed, offset_from_start

_E = TypeVar("_E", bound=StrEnum)

REPEAT_EVERY = timedelta(minutes=15)
ESCALATE_AFTER = timedelta(minutes=30)


class Audience(StrEnum):
    ASSIGNEE = "assignee"
    TEAM_LEAD = "team_lead"
    ON_CALL = "on_call"
    ON_CALL_AND_TEAM_LEAD = "on_call_and_team_lead"


class StepKind(StrEnum):
    REMINDER = "reminder"
    WARNING = "warning"
    APPROACHING = "approaching"
    OVERDUE = "overdue"


class PolicyError(ValueError):
    """A policy that cannot be used; `field` names the offending part, e.g. "steps[1].at"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class EscalationStep:
    name: str
    # From the deadline's start, in the deadline's clock mode.
    offset: timedelta
    audience: Audience
    kind: StepKind
    # Sent again every repeat_every, moving along the chain, until acknowledged.
    repeats: bool = False


@dataclass(frozen=True)
class EscalationPolicy:
    """Steps ordered by offset, names unique."""

    steps: tuple[EscalationStep, ...]
    repeat_every: timedelta = REPEAT_EVERY
    escalate_after: timedelta = ESCALATE_AFTER

    def __post_init__(self) -> None:
        seen: set[str] = set()
        previous = timedelta(0)
        for index, step in enumerate(self.steps):
            if not step.name.strip():
                raise PolicyError(f"steps[{index}].name", "must not be empty")
            if step.name in seen:
                raise PolicyError(f"steps[{index}].name", f"{step.name!r} is used twice")
            seen.add(step.name)
            if step.offset < previous:
                raise PolicyError(f"steps[{index}].at", "steps must be in order of time")
            previous = step.offset
        for field in ("repeat_every", "escalate_after"):
            if getattr(self, field) <= timedelta(0):
                raise PolicyError(field, "must be longer than zero")


# name, fraction of the deadline's duration, audience, kind, repeats
_DEFAULT_STEPS = (
    ("reminder", Fraction(1, 2), Audience.ASSIGNEE, StepKind.REMINDER, False),
    ("warning", Fraction(3, 4), Audience.TEAM_LEAD, StepKind.WARNING, False),
    ("approaching", Fraction(11, 12), Audience.ON_CALL, StepKind.APPROACHING, True),
    ("overdue", Fraction(1), Audience.ON_CALL_AND_TEAM_LEAD, StepKind.OVERDUE, True),
)


def default_policy(duration: timedelta) -> EscalationPolicy:
    """The issue's defaults, scaled to `duration`: for 48 h, steps at 24, 36, 44 and 48 h."""
    if duration <= timedelta(0):
        raise PolicyError("duration", "must be longer than zero")
    return EscalationPolicy(
        steps=tuple(
            EscalationStep(name, _part(duration, fraction), audience, kind, repeats)
            for name, fraction, audience, kind, repeats in _DEFAULT_STEPS
        )
    )


def step_due_times(
    policy: EscalationPolicy,
    started_at: datetime,
    mode: ClockMode,
    calendar: BusinessCalendar | None = None,
) -> tuple[tuple[EscalationStep, datetime], ...]:
    """When each step falls due (UTC), in order."""
    return tuple(
        (step, offset_from_start(started_at, step.offset, mode, calendar)) for step in policy.steps
    )


def due_steps(
    policy: EscalationPolicy,
    deadline_started: datetime,
    now: datetime,
    fired_step_names: Collection[str],
    met_at: datetime | None,
    *,
    mode: ClockMode,
    calendar: BusinessCalendar | None = None,
) -> tuple[EscalationStep, ...]:
    """The steps due by `now` that have not fired yet, in order; none once the deadline was met
    (at or before `now`). After an outage several may be due at once: all are returned, and
    the caller may send only the last of them."""
    if met_at is not None and met_at <= now:
        return ()
    # One pass over the calendar: a step is due once the clock has run its offset.
    ran = elapsed(deadline_started, now, mode, calendar)
    return tuple(
        step for step in policy.steps if step.offset <= ran and step.name not in fired_step_names
    )


def next_repeat_at(
    fired_at: datetime, last_attempt_at: datetime, policy: EscalationPolicy
) -> datetime:
    """When an unacknowledged alert is sent again: the next point on its fired_at +
    k·repeat_every grid after the last attempt, so a late run does not shift later repeats."""
    if last_attempt_at < fired_at:
        raise ValueError("last_attempt_at: before the alert fired")
    done = (last_attempt_at - fired_at) // policy.repeat_every
    return fired_at + (done + 1) * policy.repeat_every


def chain_position(
    fired_at: datetime,
    now: datetime,
    policy: EscalationPolicy,
    chain_length: int | None = None,
) -> int:
    """Who in the chain an unacknowledged alert goes to now: 0 at first, 1 once escalate_after
    has passed, 2 after twice that… With `chain_length`, the last person keeps it."""
    position = max(0, (now - fired_at) // policy.escalate_after)
    if chain_length is not None:
        if chain_length < 1:
            raise ValueError("chain_length: the chain is empty")
        position = min(position, chain_length - 1)
    return position


def next_attempt(
    step: EscalationStep,
    fired_at: datetime,
    last_attempt_at: datetime,
    policy: EscalationPolicy,
    *,
    acknowledged_at: datetime | None,
    met_at: datetime | None,
) -> datetime | None:
    """When to send a fired step again, or None: it does not repeat, was acknowledged, or its
    deadline was met."""
    if not step.repeats or acknowledged_at is not None or met_at is not None:
        return None
    return next_repeat_at(fired_at, last_attempt_at, policy)


# --- plain data (settings) -------------------------------------------------------------------

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
_POLICY_KEYS = {"steps", "repeat_every", "escalate_after"}
_STEP_KEYS = {"name", "at", "audience", "kind", "repeats"}


def parse_duration(text: object, field: str) -> timedelta:
    """ "2d", "44h", "15m", "1h30m": days, hours and minutes, in that order."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None or not text:
        raise PolicyError(field, f'expected a duration like "44h" or "15m", got {text!r}')
    days, hours, minutes = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration for whole minutes, in hours and minutes ("44h", "1h30m")."""
    minutes = value // timedelta(minutes=1)
    if value != timedelta(minutes=minutes) or minutes < 0:
        raise ValueError("only whole, non-negative minutes can be written")
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}h{minutes}m"
    return f"{hours}h" if hours else f"{minutes}m"


def parse_policy(data: object, *, duration: timedelta) -> EscalationPolicy:
    """A policy from settings, e.g.
    {"repeat_every": "15m", "escalate_after": "30m",
     "steps": [{"name": "reminder", "at": "24h", "audience": "assignee",
                "kind": "reminder", "repeats": false}, …]}.
    Missing keys take the defaults (the steps those of `default_policy(duration)`); unknown
    keys are refused so a misspelt one does not pass silently."""
    if not isinstance(data, Mapping):
        raise PolicyError("policy", "expected an object")
    _no_unknown_keys(data, _POLICY_KEYS, "")
    defaults = default_policy(duration)
    steps = defaults.steps
    if "steps" in data:
        raw_steps = data["steps"]
        if not isinstance(raw_steps, Sequence) or isinstance(raw_steps, str):
            raise PolicyError("steps", "expected a list")
        steps = tuple(_parse_step(raw, f"steps[{index}]") for index, raw in enumerate(raw_steps))
    return EscalationPolicy(
        steps=steps,
        repeat_every=_optional_duration(data, "repeat_every", defaults.repeat_every),
        escalate_after=_optional_duration(data, "escalate_after", defaults.escalate_after),
    )


def policy_to_data(policy: EscalationPolicy) -> dict[str, object]:
    """The plain-data form parse_policy reads back."""
    return {
        "repeat_every": format_duration(policy.repeat_every),
        "escalate_after": format_duration(policy.escalate_after),
        "steps": [
            {
                "name": step.name,
                "at": format_duration(step.offset),
                "audience": step.audience.value,
                "kind": step.kind.value,
                "repeats": step.repeats,
            }
            for step in policy.steps
        ],
    }


def _parse_step(raw: object, field: str) -> EscalationStep:
    if not isinstance(raw, Mapping):
        raise PolicyError(field, "expected an object")
    _no_unknown_keys(raw, _STEP_KEYS, f"{field}.")
    for key in ("name", "at", "audience", "kind"):
        if key not in raw:
            raise PolicyError(f"{field}.{key}", "is required")
    name = raw["name"]
    if not isinstance(name, str):
        raise PolicyError(f"{field}.name", "expected text")
    repeats = raw.get("repeats", False)
    if not isinstance(repeats, bool):
        raise PolicyError(f"{field}.repeats", "expected true or false")
    return EscalationStep(
        name=name,
        offset=parse_duration(raw["at"], f"{field}.at"),
        audience=_choice(Audience, raw["audience"], f"{field}.audience"),
        kind=_choice(StepKind, raw["kind"], f"{field}.kind"),
        repeats=repeats,
    )


def _choice(enum: type[_E], value: object, field: str) -> _E:
    allowed = [member.value for member in enum]
    if isinstance(value, str) and value in allowed:
        return enum(value)
    raise PolicyError(field, f"must be one of {', '.join(allowed)}, got {value!r}")


def _optional_duration(data: Mapping[str, object], key: str, default: timedelta) -> timedelta:
    return parse_duration(data[key], key) if key in data else default


def _no_unknown_keys(data: Mapping[object, object], allowed: set[str], prefix: str) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise PolicyError(
            f"{prefix}{unknown[0]}", f"unknown key (known: {', '.join(sorted(allowed))})"
        )


def _part(duration: timedelta, fraction: Fraction) -> timedelta:
    micro = duration // timedelta(microseconds=1)
    return timedelta(microseconds=micro * fraction.numerator // fraction.denominator)
