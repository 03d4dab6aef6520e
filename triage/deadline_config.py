"""A hotline's deadlines as configured: durations, clock mode, business calendar and escalation
policies (pure).

`deadline_config(hotline)` reads the hotline's columns into a `DeadlineConfig`, which holds one
`DeadlineRule` per deadline kind: its duration, the clock mode, the business calendar and the
escalation policy (the hotline's own, or `default_policy(duration)` when it has none). A rule says
when a deadline started at a moment falls due (`rule.due_at(start)`); the caller stores the due
time and the clock mode on the deadline row, so a later change here never moves it.

`check(draft)` validates what an administrator typed, sent or wrote in a file, all fields at
once, and answers the values to store (`DeadlineValues`) or raises `Invalid` with a problem per
field (message ids, translated on pages; English in the API and the CLI). Field names:
`triage_hours`, `visitation_hours`, `clock_mode`, `business_hours` (or `business_hours.mon` …
for one day), `closed_on`, `policies.triage`, `policies.visitation`. The text forms the page and
the CLI share are read here too: durations in hours ("24", "1.5", "1,5" or "1:30"), a day's
opening spans ("08:00-12:00, 13:00-16:00"), a week ("mon-fri=08:00-16:00,sat=10:00-14:00") and
closures ("5jun,24dec,31dec" or "none").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from denmark.closed_days import Closures
from intake.models import Hotline
from intake.opening_hours import DAYS, minute_of_day
from notifications.escalation import (
    EscalationPolicy,
    PolicyError,
    default_policy,
    parse_policy,
    policy_to_data,
)
from notifications.problems import Invalid, Problem
from triage.deadline_clock import BusinessCalendar, ClockMode, DeadlineKind
from triage.deadline_clock import due_at as clock_due_at
from web.i18n import N_

KINDS = (DeadlineKind.TRIAGE, DeadlineKind.VISITATION)
# Longer would not be a deadline any more; two weeks as before per-hotline settings existed.
MAX_HOURS = 14 * 24
MAX_SPANS_PER_DAY = 8
MAX_POLICY_CHARS = 20_000

DURATION_INVALID = N_(
    "Write a number of hours above 0 and at most %(limit)d, in whole minutes, e.g. 24, 1.5 or 1:30."
)
CLOCK_INVALID = N_("Choose calendar hours or business hours.")
DAY_INVALID = N_(
    "Write opening hours like 08:00-16:00, several spans separated by commas, "
    "or leave the day empty when it is closed."
)
SPAN_BACKWARDS = N_("A span must open before it closes, e.g. 08:00-16:00.")
TOO_MANY_SPANS = N_("A day can have at most %(limit)d spans.")
WEEK_INVALID = N_(
    "Write the opening hours like mon-fri=08:00-16:00,sat=10:00-14:00 (days not named are closed)."
)
NO_OPEN_TIME = N_(
    "Business hours need opening hours on at least one day, or the clock would never run."
)
CLOSURE_UNKNOWN = N_("Choose among 5jun, 24dec and 31dec (or none), not %(value)s.")
POLICY_NOT_JSON = N_("The escalation policy is not valid JSON (line %(line)d, column %(column)d).")
POLICY_TOO_LONG = N_("The escalation policy is too long: at most %(limit)d characters.")
POLICY_INVALID = N_("The escalation policy is not valid: %(detail)s")

# The customary closures by the names the CLI uses (day and month), in Closures' field order.
CLOSURE_NAMES = {
    "5jun": "constitution_day",
    "24dec": "christmas_eve",
    "31dec": "new_years_eve",
}

_DAY_ALIASES = {day: index for index, day in enumerate(DAYS)}
_CLOCK = re.compile(r"\d{1,2}:\d{2}")
_SPAN = re.compile(r"(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})")
_CLOCK_HOURS = re.compile(r"(\d{1,3}):([0-5]\d)")
_WEEK_ENTRY = re.compile(r"([a-z]{3})(?:-([a-z]{3}))?=(.*)")

WeekHours = dict[str, list[list[str]]]


@dataclass(frozen=True)
class DeadlineRule:
    """How one kind of deadline runs at a hotline."""

    kind: DeadlineKind
    duration: timedelta
    mode: ClockMode
    calendar: BusinessCalendar
    policy: EscalationPolicy
    # True: no policy of the hotline's own; the defaults for `duration`.
    default_policy: bool

    def due_at(self, start: datetime) -> datetime:
        """When a deadline of this kind started at `start` falls due (UTC)."""
        return clock_due_at(start, self.duration, self.mode, self.calendar)


@dataclass(frozen=True)
class DeadlineConfig:
    hotline_id: str
    mode: ClockMode
    calendar: BusinessCalendar
    triage: DeadlineRule
    visitation: DeadlineRule

    def rule(self, kind: DeadlineKind) -> DeadlineRule:
        return self.triage if DeadlineKind(kind) is DeadlineKind.TRIAGE else self.visitation

    def policy(self, kind: DeadlineKind) -> EscalationPolicy:
        return self.rule(kind).policy

    def duration(self, kind: DeadlineKind) -> timedelta:
        return self.rule(kind).duration


@dataclass(frozen=True)
class DeadlineValues:
    """What a hotline stores, checked: its columns' values."""

    triage_minutes: int
    visitation_minutes: int
    clock_mode: ClockMode
    # Only days with spans, each ordered and merged ({"mon": [["08:00", "16:00"]]}).
    business_hours: WeekHours
    closures: Closures
    # Plain data as policy_to_data writes it; None: the default for the duration.
    policies: Mapping[DeadlineKind, dict[str, Any] | None]

    def minutes(self, kind: DeadlineKind) -> int:
        if DeadlineKind(kind) is DeadlineKind.TRIAGE:
            return self.triage_minutes
        return self.visitation_minutes


@dataclass(frozen=True)
class DeadlineDraft:
    """An administrator's input, as given: durations in hours (a number or text), the clock
    mode's name, each day's spans (a list of [opening, closing] or text), the closures, and
    each kind's policy (plain data, JSON text, or None / "" for the default). A kind left out
    of `policies` gets the default."""

    triage_hours: object
    visitation_hours: object
    clock_mode: object
    business_hours: Mapping[str, object]
    closures: Closures
    policies: Mapping[DeadlineKind, object]


# --- reading a hotline -------------------------------------------------------------------------


def values_of(hotline: Hotline) -> DeadlineValues:
    return DeadlineValues(
        triage_minutes=hotline.triage_minutes,
        visitation_minutes=hotline.visitation_minutes,
        clock_mode=ClockMode(hotline.deadline_clock_mode),
        business_hours={
            day: [list(span) for span in spans] for day, spans in hotline.business_hours.items()
        },
        closures=Closures(
            constitution_day=hotline.closed_on_constitution_day,
            christmas_eve=hotline.closed_on_christmas_eve,
            new_years_eve=hotline.closed_on_new_years_eve,
        ),
        policies={
            DeadlineKind.TRIAGE: hotline.triage_policy,
            DeadlineKind.VISITATION: hotline.visitation_policy,
        },
    )


def deadline_config(hotline: Hotline) -> DeadlineConfig:
    """The hotline's deadlines as configured (its columns were checked when they were set)."""
    return config_of(values_of(hotline), hotline_id=hotline.id, timezone=hotline.timezone)


def config_of(values: DeadlineValues, *, hotline_id: str, timezone: str) -> DeadlineConfig:
    calendar = BusinessCalendar.from_hours(
        values.business_hours, timezone=timezone, closures=values.closures
    )

    def rule(kind: DeadlineKind) -> DeadlineRule:
        duration = timedelta(minutes=values.minutes(kind))
        data = values.policies.get(kind)
        policy = default_policy(duration) if data is None else parse_policy(data, duration=duration)
        return DeadlineRule(kind, duration, values.clock_mode, calendar, policy, data is None)

    return DeadlineConfig(
        hotline_id=hotline_id,
        mode=values.clock_mode,
        calendar=calendar,
        triage=rule(DeadlineKind.TRIAGE),
        visitation=rule(DeadlineKind.VISITATION),
    )


# --- checking input ----------------------------------------------------------------------------


def check(draft: DeadlineDraft, *, timezone: str) -> DeadlineValues:
    """The values to store, or Invalid naming every field that is wrong."""
    problems: dict[str, Problem] = {}
    minutes: dict[DeadlineKind, int] = {}
    for kind, given in (
        (DeadlineKind.TRIAGE, draft.triage_hours),
        (DeadlineKind.VISITATION, draft.visitation_hours),
    ):
        try:
            minutes[kind] = hours_to_minutes(given)
        except ValueError:
            problems[f"{kind.value}_hours"] = Problem(DURATION_INVALID, {"limit": MAX_HOURS})
    mode: ClockMode | None = None
    try:
        mode = ClockMode(str(draft.clock_mode))
    except ValueError:
        problems["clock_mode"] = Problem(CLOCK_INVALID)
    week = _checked_week(draft.business_hours, problems)
    if mode is ClockMode.BUSINESS_HOURS and week is not None and not week:
        problems["business_hours"] = Problem(NO_OPEN_TIME)
    if week is not None:
        try:
            BusinessCalendar.from_hours(week, timezone=timezone, closures=draft.closures)
        except ValueError:  # defensive: the spans were checked above
            problems["business_hours"] = Problem(DAY_INVALID)
    policies: dict[DeadlineKind, dict[str, Any] | None] = {}
    for kind in KINDS:
        field = f"policies.{kind.value}"
        if kind not in minutes:
            continue  # its duration is wrong: a policy cannot be checked against it
        try:
            policies[kind] = _checked_policy(draft.policies.get(kind), minutes[kind])
        except Invalid as invalid:
            problems[field] = invalid.problems["policy"]
    if problems:
        raise Invalid(problems)
    assert mode is not None
    assert week is not None
    return DeadlineValues(
        triage_minutes=minutes[DeadlineKind.TRIAGE],
        visitation_minutes=minutes[DeadlineKind.VISITATION],
        clock_mode=mode,
        business_hours=week,
        closures=draft.closures,
        policies=policies,
    )


def draft_of(values: DeadlineValues) -> DeadlineDraft:
    """A draft that checks to `values` again: the starting point for a partial change."""
    return DeadlineDraft(
        triage_hours=format_hours(values.triage_minutes),
        visitation_hours=format_hours(values.visitation_minutes),
        clock_mode=values.clock_mode.value,
        business_hours=values.business_hours,
        closures=values.closures,
        policies=dict(values.policies),
    )


def hours_to_minutes(given: object) -> int:
    """Whole minutes from hours: a number (24, 1.5) or text ("24", "1,5", "1:30").
    ValueError unless above 0, at most MAX_HOURS and whole minutes."""
    if isinstance(given, bool):
        raise ValueError("hours")
    if isinstance(given, str):
        text = given.strip()
        clock = _CLOCK_HOURS.fullmatch(text)
        if clock is not None:
            total = Decimal(int(clock[1]) * 60 + int(clock[2]))
        else:
            try:
                total = Decimal(text.replace(",", ".")) * 60
            except InvalidOperation:
                raise ValueError("hours") from None
    elif isinstance(given, int | float | Decimal):
        try:
            total = Decimal(str(given)) * 60
        except InvalidOperation:
            raise ValueError("hours") from None
    else:
        raise ValueError("hours")
    if not total.is_finite():
        raise ValueError("hours")
    whole = total.to_integral_value()
    # A float such as 50/60 hours comes back as 49.99999999999999… minutes: allow for that.
    if abs(total - whole) > Decimal("0.000001") or not 0 < whole <= MAX_HOURS * 60:
        raise ValueError("hours")
    return int(whole)


def format_hours(minutes: int) -> str:
    """Hours as the inputs read them back: "24", or "1:30" when not whole."""
    hours, rest = divmod(minutes, 60)
    return str(hours) if not rest else f"{hours}:{rest:02d}"


def parse_day_spans(text: str) -> list[list[str]]:
    """ "08:00-12:00, 13:00-16:00" → [["08:00", "12:00"], ["13:00", "16:00"]]; "" → [].
    Raises Invalid keyed "day"."""
    spans: list[list[str]] = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        match = _SPAN.fullmatch(part)
        if match is None:
            raise Invalid({"day": Problem(DAY_INVALID)})
        spans.append([_padded(match[1]), _padded(match[2])])
    return spans


def format_day_spans(spans: Sequence[Sequence[str]]) -> str:
    return ", ".join(f"{opening}-{closing}" for opening, closing in spans)


def parse_week(text: str) -> WeekHours:
    """ "mon-fri=08:00-16:00,sat=10:00-14:00" (a day may be named again for a second span;
    days not named are closed; "" or "none": closed all week). Raises Invalid keyed
    "business_hours"."""
    week: WeekHours = {}
    cleaned = text.strip().lower()
    if cleaned in ("", "none"):
        return week
    for entry in (e.strip() for e in cleaned.split(",")):
        match = _WEEK_ENTRY.fullmatch(entry)
        if match is None or match[1] not in _DAY_ALIASES:
            raise Invalid({"business_hours": Problem(WEEK_INVALID)})
        first = _DAY_ALIASES[match[1]]
        last = _DAY_ALIASES.get(match[2] or match[1])
        if last is None or last < first:
            raise Invalid({"business_hours": Problem(WEEK_INVALID)})
        try:
            spans = parse_day_spans(match[3])
        except Invalid:
            spans = []
        if not spans:  # a day named is open some time; one left out is closed
            raise Invalid({"business_hours": Problem(WEEK_INVALID)})
        for day in DAYS[first : last + 1]:
            week.setdefault(day, []).extend(spans)
    return week


def format_week(week: Mapping[str, Sequence[Sequence[str]]]) -> str:
    """The inverse of parse_week, with runs of days alike written as ranges ("mon-fri=…")."""
    entries: list[str] = []
    index = 0
    while index < len(DAYS):
        spans = format_day_spans(week.get(DAYS[index], [])).replace(", ", ";")
        last = index
        while last + 1 < len(DAYS) and (
            format_day_spans(week.get(DAYS[last + 1], [])).replace(", ", ";") == spans
        ):
            last += 1
        if spans:
            days = DAYS[index] if last == index else f"{DAYS[index]}-{DAYS[last]}"
            entries.append(f"{days}={spans}")
        index = last + 1
    return ",".join(entries) or "none"


def parse_closures(text: str) -> Closures:
    """ "5jun,24dec,31dec" (any of them) or "none"/"" for none. Raises Invalid keyed
    "closed_on"."""
    chosen: set[str] = set()
    for token in (t.strip().lower() for t in text.split(",")):
        if token in ("", "none"):
            continue
        if token not in CLOSURE_NAMES:
            raise Invalid({"closed_on": Problem(CLOSURE_UNKNOWN, {"value": token[:20]})})
        chosen.add(CLOSURE_NAMES[token])
    return Closures(**{name: name in chosen for name in CLOSURE_NAMES.values()})


def format_closures(closures: Closures) -> str:
    names = [short for short, name in CLOSURE_NAMES.items() if getattr(closures, name)]
    return ",".join(names) or "none"


def _padded(clock: str) -> str:
    hours, minutes = clock.split(":")
    return f"{int(hours):02d}:{minutes}"


def _checked_week(given: Mapping[str, object], problems: dict[str, Problem]) -> WeekHours | None:
    """Each day's spans, ordered and merged; None (and problems) if any day is wrong."""
    week: WeekHours = {}
    ok = True
    unknown = sorted(str(day) for day in given if day not in DAYS)
    if unknown:
        problems["business_hours"] = Problem(WEEK_INVALID)
        return None
    for day in DAYS:
        field = f"business_hours.{day}"
        raw = given.get(day)
        try:
            spans = _day(raw)
        except Invalid as invalid:
            problems[field] = invalid.problems["day"]
            ok = False
            continue
        if len(spans) > MAX_SPANS_PER_DAY:
            problems[field] = Problem(TOO_MANY_SPANS, {"limit": MAX_SPANS_PER_DAY})
            ok = False
        elif spans:
            week[day] = spans
    return week if ok else None


def _day(raw: object) -> list[list[str]]:
    if raw is None:
        return []
    if isinstance(raw, str):
        spans = parse_day_spans(raw)
    elif isinstance(raw, Sequence):
        spans = []
        for span in raw:
            if (
                isinstance(span, str)
                or not isinstance(span, Sequence)
                or len(span) != 2
                or not all(isinstance(c, str) for c in span)
            ):
                raise Invalid({"day": Problem(DAY_INVALID)})
            spans.append([str(c) for c in span])
    else:
        raise Invalid({"day": Problem(DAY_INVALID)})
    minutes: list[tuple[int, int]] = []
    for opening, closing in spans:
        if not (_CLOCK.fullmatch(opening) and _CLOCK.fullmatch(closing)):
            raise Invalid({"day": Problem(DAY_INVALID)})
        try:
            start, end = minute_of_day(opening), minute_of_day(closing)
        except ValueError:
            raise Invalid({"day": Problem(DAY_INVALID)}) from None
        if start >= end:
            raise Invalid({"day": Problem(SPAN_BACKWARDS)})
        minutes.append((start, end))
    return [[_clock(a), _clock(b)] for a, b in _merged(minutes)]


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for opening, closing in sorted(spans):
        if merged and opening <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closing))
        else:
            merged.append((opening, closing))
    return merged


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _checked_policy(given: object, minutes: int) -> dict[str, Any] | None:
    """Plain policy data as policy_to_data writes it, or None for the default."""
    if given is None or (isinstance(given, str) and not given.strip()):
        return None
    data = given
    if isinstance(given, str):
        if len(given) > MAX_POLICY_CHARS:
            raise Invalid({"policy": Problem(POLICY_TOO_LONG, {"limit": MAX_POLICY_CHARS})})
        try:
            data = json.loads(given)
        except json.JSONDecodeError as exc:
            raise Invalid(
                {"policy": Problem(POLICY_NOT_JSON, {"line": exc.lineno, "column": exc.colno})}
            ) from None
        if data is None:
            return None
    try:
        policy = parse_policy(data, duration=timedelta(minutes=minutes))
        return policy_to_data(policy)
    except PolicyError as exc:
        raise Invalid({"policy": Problem(POLICY_INVALID, {"detail": str(exc)})}) from None
    except ValueError as exc:  # e.g. an offset format_duration cannot write (seconds)
        raise Invalid({"policy": Problem(POLICY_INVALID, {"detail": str(exc)})}) from None
