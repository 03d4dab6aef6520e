"""On-call schedules from the database: who is on call for a hotline at a moment, the escalation
chain, and the admin's changes (a schedule's rotation, its overrides), checked at entry.

The rules are `notifications.oncall`'s; this module loads a schedule's rows into its `Schedule`
and answers with people and how to reach them (`StaffContact`). The sync functions, on a
`Session`, serve rq jobs, the CLI and the demo; the async ones run the same code for the web
through `AsyncSession.run_sync`.

**The escalation chain**, in order: whoever is on call now; whoever is on call next (the next
change of person — an override's person included — `OnCall.next`); the schedule's team lead.
Each person appears once, at their first place, and only if they can be paged (an active account
with a phone number): an alert must not wait on someone it cannot reach. With nobody on call now
(before the rotation starts, or the schedule switched off) the chain starts with whoever is next,
or with the team lead. A hotline without a schedule has an empty chain.

**A team lead** is designated per schedule (`team_lead_id`), so per hotline; they need not take
shifts, and stay the team lead while the schedule is switched off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from access.models import AuditEntry
from db import transaction_lock
from intake.models import Hotline
from notifications import oncall, oncall_calendar
from notifications.models import OncallOverride, OncallSchedule
from notifications.oncall import DEFAULT_TIMEZONE, Override, OverrideReason, Rotation, Schedule
from notifications.problems import Invalid, Problem
from notifications.staff_contacts import StaffContact, contacts
from web.i18n import N_

MAX_PARTICIPANTS = 50
MAX_SHIFT_DAYS = 28
NAME_LIMIT = 120
LONGEST_OVERRIDE = timedelta(days=366)
CALENDAR = timedelta(weeks=4)

NO_PARTICIPANTS = N_("Choose at least one person for the rotation.")
TOO_MANY_PARTICIPANTS = N_("A rotation can have at most %(limit)d people.")
TWICE = N_("%(name)s is in the rotation twice. Give each person one place.")
NO_SUCH_STAFF = N_("There is no staff account with this id.")
NOT_ACTIVE = N_("%(name)s: the account is not active.")
NO_PHONE = N_("%(name)s has no phone number, so on-call alerts cannot reach them. Add one first.")
NOT_A_WEEKDAY = N_("Please choose one of the options.")
NOT_A_TIME = N_("Write a time of day, like 09:00.")
BAD_SHIFT_DAYS = N_("Write a whole number of days from 1 to %(limit)d.")
UNKNOWN_TIMEZONE = N_("This is not a time zone we know, e.g. Europe/Copenhagen.")
NAME_REQUIRED = N_("Give the schedule a name.")
NAME_TOO_LONG = N_("This text is too long: at most %(limit)d characters.")
END_NOT_AFTER_START = N_("The end must be after the start.")
END_IN_PAST = N_("The end has passed already.")
TOO_LONG = N_("An override can last at most a year. Change the rotation instead.")


class UnknownHotline(LookupError):
    pass


class ScheduleNotFound(LookupError):
    pass


class OverrideNotFound(LookupError):
    pass


class ScheduleExists(Exception):
    """The hotline has a schedule already (one per hotline): change its rotation instead."""


# --- who is on call --------------------------------------------------------------------------


@dataclass(frozen=True)
class Next:
    at: datetime
    staff: StaffContact | None  # None: nobody from then on (an override ends before the start)


@dataclass(frozen=True)
class OnCall:
    """A hotline's on-call line at a moment: who is on call, who takes over when, the lead."""

    hotline_id: str
    schedule_id: int | None  # None: the hotline has no schedule
    active: bool
    now: StaffContact | None
    next: Next | None  # None: nobody else ever will be (or no schedule, or switched off)
    team_lead: StaffContact | None

    @property
    def until(self) -> datetime | None:
        return self.next.at if self.next else None


@dataclass(frozen=True)
class LoadedSchedule:
    """A schedule's row with its overrides that had not ended at load time, and its people."""

    row: OncallSchedule
    overrides: tuple[OncallOverride, ...]  # oldest first: the newest wins where they overlap
    people: Mapping[int, StaffContact] = field(repr=False)

    @cached_property
    def _pure(self) -> tuple[Schedule, dict[Override, OncallOverride]]:
        rows: dict[Override, OncallOverride] = {}
        for row in self.overrides:
            rows[Override(row.starts_at, row.ends_at, row.staff_id, row.reason)] = row
        return Schedule(rotation_of(self.row), tuple(rows)), rows

    @property
    def schedule(self) -> Schedule:
        return self._pure[0]

    def override_row(self, override: Override | None) -> OncallOverride | None:
        return None if override is None else self._pure[1].get(override)

    def person(self, staff_id: int | None) -> StaffContact | None:
        if staff_id is None:
            return None
        # A participant whose account is gone still shows, as one nobody can page.
        return self.people.get(staff_id) or StaffContact(
            staff_id, "", f"#{staff_id}", None, None, active=False
        )

    def on_call(self, at: datetime) -> OnCall:
        row = self.row
        lead = self.person(row.team_lead_id)
        if not row.active:
            return OnCall(row.hotline_id, row.id, False, None, None, lead)
        answer = oncall.on_call_now_and_next(self.schedule, at)
        following = None
        if answer.changes_at is not None:
            following = Next(answer.changes_at, self.person(answer.next))
        return OnCall(row.hotline_id, row.id, True, self.person(answer.now), following, lead)

    def shifts(self, start: datetime, length: timedelta = CALENDAR) -> list[oncall_calendar.Shift]:
        if not self.row.active:
            return []
        return oncall_calendar.shifts(self.schedule, start, start + length)


def rotation_of(row: OncallSchedule) -> Rotation:
    return Rotation(
        participants=tuple(row.participants),
        start=row.start_date,
        handoff_weekday=row.handoff_weekday,
        handoff_time=row.handoff_time,
        timezone=row.timezone,
        shift_days=row.shift_days,
    )


def load_schedules(
    session: Session,
    *,
    at: datetime,
    hotline_id: str | None = None,
    schedule_id: int | None = None,
) -> list[LoadedSchedule]:
    """Schedules (all, one hotline's, or one) by hotline, with what they need: three queries."""
    query = select(OncallSchedule).order_by(OncallSchedule.hotline_id)
    if hotline_id is not None:
        query = query.where(OncallSchedule.hotline_id == hotline_id)
    if schedule_id is not None:
        query = query.where(OncallSchedule.id == schedule_id)
    rows = session.scalars(query).all()
    if not rows:
        return []
    overrides = session.scalars(
        select(OncallOverride)
        .where(OncallOverride.schedule_id.in_([r.id for r in rows]), OncallOverride.ends_at > at)
        .order_by(OncallOverride.id)
    ).all()
    wanted = {o.staff_id for o in overrides} | {o.created_by for o in overrides}
    for row in rows:
        wanted.update(row.participants)
        if row.team_lead_id is not None:
            wanted.add(row.team_lead_id)
    people = contacts(session, wanted)
    return [
        LoadedSchedule(row, tuple(o for o in overrides if o.schedule_id == row.id), people)
        for row in rows
    ]


@dataclass(frozen=True)
class HotlineOnCall:
    hotline: Hotline
    loaded: LoadedSchedule | None  # None: the hotline has no schedule
    on_call: OnCall


def every_hotline(session: Session, at: datetime) -> list[HotlineOnCall]:
    """Every hotline (by id) with its schedule and who is on call at `at`: four queries."""
    hotlines = session.scalars(select(Hotline).order_by(Hotline.id)).all()
    schedules = {s.row.hotline_id: s for s in load_schedules(session, at=at)}
    found = []
    for hotline in hotlines:
        loaded = schedules.get(hotline.id)
        on_call = (
            loaded.on_call(at) if loaded else OnCall(hotline.id, None, False, None, None, None)
        )
        found.append(HotlineOnCall(hotline, loaded, on_call))
    return found


def who_is_on_call_sync(session: Session, hotline_id: str, at: datetime) -> OnCall:
    loaded = load_schedules(session, at=at, hotline_id=hotline_id)
    if loaded:
        return loaded[0].on_call(at)
    if session.get(Hotline, hotline_id) is None:
        raise UnknownHotline(hotline_id)
    return OnCall(hotline_id, None, False, None, None, None)  # no schedule


def chain(on_call: OnCall) -> list[StaffContact]:
    """The escalation chain of an answer (see the module's description)."""
    found: list[StaffContact] = []
    candidates = (on_call.now, on_call.next.staff if on_call.next else None, on_call.team_lead)
    for person in candidates:
        if person is not None and person.pageable and all(p.id != person.id for p in found):
            found.append(person)
    return found


def escalation_chain_sync(session: Session, hotline_id: str, at: datetime) -> list[StaffContact]:
    return chain(who_is_on_call_sync(session, hotline_id, at))


async def who_is_on_call(session: AsyncSession, hotline_id: str, at: datetime) -> OnCall:
    return await session.run_sync(who_is_on_call_sync, hotline_id, at)


async def escalation_chain(
    session: AsyncSession, hotline_id: str, at: datetime
) -> list[StaffContact]:
    return await session.run_sync(escalation_chain_sync, hotline_id, at)


# --- changes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationInput:
    """A schedule's settings as an admin gives them (types already parsed)."""

    participants: Sequence[int]
    start_date: date
    handoff_weekday: int = 0
    handoff_time: time = time(9, 0)
    timezone: str = DEFAULT_TIMEZONE
    shift_days: int = 7
    team_lead_id: int | None = None
    active: bool = True
    name: str | None = None  # None: unchanged (a new schedule: the hotline's name)


def _person_problem(person: StaffContact | None) -> Problem | None:
    if person is None:
        return Problem(NO_SUCH_STAFF)
    if not person.active:
        return Problem(NOT_ACTIVE, {"name": person.display_name})
    if person.phone_e164 is None:
        return Problem(NO_PHONE, {"name": person.display_name})
    return None


def check_rotation(session: Session, given: RotationInput) -> None:
    """`Invalid` naming every field that is wrong: `participants[i]` for the i-th person."""
    problems = _people_problems(session, given) | _setting_problems(given)
    if problems:
        raise Invalid(problems)


def _people_problems(session: Session, given: RotationInput) -> dict[str, Problem]:
    problems: dict[str, Problem] = {}
    ids = list(given.participants)
    lead = given.team_lead_id
    people = contacts(session, [*ids[:MAX_PARTICIPANTS], *([] if lead is None else [lead])])
    if not ids:
        problems["participants"] = Problem(NO_PARTICIPANTS)
    elif len(ids) > MAX_PARTICIPANTS:
        problems["participants"] = Problem(TOO_MANY_PARTICIPANTS, {"limit": MAX_PARTICIPANTS})
    else:
        for index, staff_id in enumerate(ids):
            person = people.get(staff_id)
            problem = _person_problem(person)
            if problem is None and person is not None and staff_id in ids[:index]:
                problem = Problem(TWICE, {"name": person.display_name})
            if problem is not None:
                problems[f"participants[{index}]"] = problem
    if lead is not None:
        problem = _person_problem(people.get(lead))
        if problem is not None:
            problems["team_lead_id"] = problem
    return problems


def _setting_problems(given: RotationInput) -> dict[str, Problem]:
    problems: dict[str, Problem] = {}
    if given.name is not None:
        name = given.name.strip()
        if not name:
            problems["name"] = Problem(NAME_REQUIRED)
        elif len(name) > NAME_LIMIT:
            problems["name"] = Problem(NAME_TOO_LONG, {"limit": NAME_LIMIT})
    if not 0 <= given.handoff_weekday <= 6:
        problems["handoff_weekday"] = Problem(NOT_A_WEEKDAY)
    if given.handoff_time.tzinfo is not None:
        problems["handoff_time"] = Problem(NOT_A_TIME)
    if not 1 <= given.shift_days <= MAX_SHIFT_DAYS:
        problems["shift_days"] = Problem(BAD_SHIFT_DAYS, {"limit": MAX_SHIFT_DAYS})
    try:
        ZoneInfo(given.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = Problem(UNKNOWN_TIMEZONE)
    return problems


def _apply(row: OncallSchedule, given: RotationInput, *, actor_id: int, now: datetime) -> None:
    if given.name is not None:
        row.name = given.name.strip()
    row.participants = list(given.participants)
    row.start_date = given.start_date
    row.handoff_weekday = given.handoff_weekday
    row.handoff_time = given.handoff_time.replace(second=0, microsecond=0)
    row.timezone = given.timezone
    row.shift_days = given.shift_days
    row.team_lead_id = given.team_lead_id
    row.active = given.active
    row.updated_by = actor_id
    row.updated_at = now
    rotation_of(row)  # the core's own checks, as a last guard: raises before anything is stored


def _audit(
    session: Session,
    action: str,
    subject: OncallSchedule,
    *,
    actor_id: int,
    now: datetime,
    **detail: str | int,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor_id=actor_id,
            action=action,
            subject_kind="oncall_schedule",
            subject_id=str(subject.id),
            detail={"hotline": subject.hotline_id, **detail},
        )
    )


def create_schedule(
    session: Session, hotline_id: str, given: RotationInput, *, actor_id: int, now: datetime
) -> OncallSchedule:
    """A hotline's schedule; `ScheduleExists` if it has one (one per hotline)."""
    hotline = session.get(Hotline, hotline_id)
    if hotline is None:
        raise UnknownHotline(hotline_id)
    lock = transaction_lock(session, "oncall_schedule", hotline_id)
    if lock is not None:
        session.execute(lock)
    if session.scalar(select(OncallSchedule.id).where(OncallSchedule.hotline_id == hotline_id)):
        raise ScheduleExists(hotline_id)
    check_rotation(session, given)
    row = OncallSchedule(hotline_id=hotline_id, name=hotline.name_da)
    _apply(row, given, actor_id=actor_id, now=now)
    session.add(row)
    session.flush()
    _audit(session, "oncall_schedule_created", row, actor_id=actor_id, now=now)
    return row


def set_rotation(
    session: Session, schedule_id: int, given: RotationInput, *, actor_id: int, now: datetime
) -> OncallSchedule:
    row = session.get(OncallSchedule, schedule_id, with_for_update=True)
    if row is None:
        raise ScheduleNotFound(schedule_id)
    check_rotation(session, given)
    _apply(row, given, actor_id=actor_id, now=now)
    session.flush()
    _audit(session, "oncall_rotation_changed", row, actor_id=actor_id, now=now)
    return row


def add_override(
    session: Session,
    schedule_id: int,
    *,
    staff_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: OverrideReason,
    actor_id: int,
    now: datetime,
) -> OncallOverride:
    """Put `staff_id` on call for [starts_at, ends_at); newer overrides win where they overlap."""
    schedule = session.get(OncallSchedule, schedule_id, with_for_update=True)
    if schedule is None:
        raise ScheduleNotFound(schedule_id)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("starts_at, ends_at: must be timezone-aware")
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    problems: dict[str, Problem] = {}
    person = _person_problem(contacts(session, [staff_id]).get(staff_id))
    if person is not None:
        problems["staff_id"] = person
    if ends_at <= starts_at:
        problems["ends_at"] = Problem(END_NOT_AFTER_START)
    elif ends_at <= now:
        problems["ends_at"] = Problem(END_IN_PAST)
    elif ends_at - starts_at > LONGEST_OVERRIDE:
        problems["ends_at"] = Problem(TOO_LONG)
    if problems:
        raise Invalid(problems)
    row = OncallOverride(
        schedule_id=schedule_id,
        starts_at=starts_at,
        ends_at=ends_at,
        staff_id=staff_id,
        reason=reason,
        created_by=actor_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    _audit(
        session,
        "oncall_override_added",
        schedule,
        actor_id=actor_id,
        now=now,
        override=row.id,
        reason=reason.value,
    )
    return row


def remove_override(
    session: Session, schedule_id: int, override_id: int, *, actor_id: int, now: datetime
) -> None:
    schedule = session.get(OncallSchedule, schedule_id, with_for_update=True)
    row = session.get(OncallOverride, override_id)
    if schedule is None or row is None or row.schedule_id != schedule_id:
        raise OverrideNotFound(override_id)
    session.delete(row)
    session.flush()
    removed = "oncall_override_removed"
    _audit(session, removed, schedule, actor_id=actor_id, now=now, override=override_id)
