"""On-call schedules as JSON. Any staff member reads; admins change.

GET    /api/v1/on-call                                every hotline: now, next, lead, chain (?at=)
POST   /api/v1/on-call                                set up a hotline's schedule       (admin)
GET    /api/v1/on-call/{schedule_id}                  one schedule in full
PUT    /api/v1/on-call/{schedule_id}/rotation         its rotation and team lead        (admin)
POST   /api/v1/on-call/{schedule_id}/overrides        an override                       (admin)
DELETE /api/v1/on-call/{schedule_id}/overrides/{o}    (admin)

Times are UTC out, any offset in. Refusals answer 400 naming the first wrong field, with every
one in the message (English, as every API message); the page is oncall_views.py.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from access.models import Role
from notifications import oncall_service as service
from notifications.oncall import DEFAULT_TIMEZONE, OverrideReason
from notifications.oncall_views import remove_override
from notifications.problems import Invalid
from notifications.staff_contacts import StaffContact, contacts
from web.api import operation, read_body
from web.appkeys import deps_key
from web.handlers import current_staff, json_model
from web.middleware import FieldError
from web.path_ids import path_id
from web.policy import requires_role

# A staff id as the database keeps them (an INTEGER column).
StaffId = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _schedule_id(request: web.Request) -> int:
    return path_id(request, "schedule_id", missing="no such on-call schedule")


class StaffOut(BaseModel):
    """A staff member as on-call needs them."""

    id: int
    display_name: str
    phone_e164: str | None = Field(description="E.164, e.g. +4520123456; null: none given.")
    email: str | None
    active: bool
    pageable: bool = Field(
        description="An active account with a phone number: SMS and voice alerts reach them."
    )


class NextOut(BaseModel):
    at: datetime = Field(description="When the next person takes over (UTC).")
    staff: StaffOut | None = Field(description="Who; null: nobody from then on.")


class OnCallOut(BaseModel):
    """A hotline's on-call line at a moment."""

    hotline_id: str
    schedule_id: int | None = Field(description="Null: the hotline has no on-call schedule.")
    active: bool = Field(description="False: switched off (or no schedule): nobody is on call.")
    now: StaffOut | None = Field(description="Who is on call at `at`; null: nobody.")
    until: datetime | None = Field(description="When that ends; null: no change ahead.")
    next: NextOut | None
    team_lead: StaffOut | None
    chain: list[StaffOut] = Field(
        description="Who an unanswered alert goes to, in order: on call now, next, the team "
        "lead; each once, only people who can be paged."
    )


class OnCallListing(BaseModel):
    at: datetime
    hotlines: list[OnCallOut]


class OnCallQuery(BaseModel):
    at: AwareDatetime | None = Field(
        None, description="The moment to ask about, with its offset; leave out for now."
    )


class RotationOut(BaseModel):
    participants: list[StaffOut] = Field(description="In the order they take their shifts.")
    start_date: date = Field(description="The first shift starts at the first handoff on or after.")
    handoff_weekday: int = Field(description="0 = Monday … 6 = Sunday.")
    handoff_time: str = Field(description="Local wall-clock time in `timezone`, HH:MM.")
    timezone: str
    shift_days: int


class OverrideOut(BaseModel):
    id: int
    staff: StaffOut
    starts_at: datetime
    ends_at: datetime
    reason: OverrideReason
    created_by: int
    created_at: datetime


class ShiftOut(BaseModel):
    starts_at: datetime
    ends_at: datetime
    staff: StaffOut | None
    override_id: int | None = Field(description="The override that put them there, if any.")


class ScheduleOut(BaseModel):
    id: int
    hotline_id: str
    name: str
    active: bool
    rotation: RotationOut
    team_lead: StaffOut | None
    on_call: OnCallOut
    overrides: list[OverrideOut] = Field(description="Overrides that have not ended, oldest first.")
    shifts: list[ShiftOut] = Field(description="Who is on call over the next four weeks.")
    updated_by: int
    updated_at: datetime


class RotationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participants: list[StaffId] = Field(
        description="Staff ids in the order they take shifts: each once, each an active account "
        "with a phone number."
    )
    start_date: date
    handoff_weekday: int = Field(0, ge=0, le=6, description="0 = Monday … 6 = Sunday.")
    handoff_time: time = Field(time(9, 0), description="Local wall-clock time, HH:MM.")
    timezone: str = Field(DEFAULT_TIMEZONE, max_length=64)
    shift_days: int = Field(7, ge=1, le=service.MAX_SHIFT_DAYS)
    team_lead_id: StaffId | None = Field(
        None, description="Last in the escalation chain; active, with a phone number."
    )
    active: bool = True
    name: str | None = Field(
        None, max_length=service.NAME_LIMIT, description="Left out: unchanged (new: the hotline's)."
    )

    def given(self) -> service.RotationInput:
        return service.RotationInput(
            participants=self.participants,
            start_date=self.start_date,
            handoff_weekday=self.handoff_weekday,
            handoff_time=self.handoff_time,
            timezone=self.timezone,
            shift_days=self.shift_days,
            team_lead_id=self.team_lead_id,
            active=self.active,
            name=self.name,
        )


class ScheduleIn(RotationIn):
    hotline_id: str = Field(max_length=32)


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_id: StaffId = Field(description="An active staff member with a phone number.")
    starts_at: AwareDatetime
    ends_at: AwareDatetime = Field(description="After starts_at and not yet passed.")
    reason: OverrideReason = Field(
        OverrideReason.OTHER,
        description="Never why someone is away: a sick day is an absence.",
    )


def _staff_out(person: StaffContact) -> StaffOut:
    return StaffOut(
        id=person.id,
        display_name=person.display_name,
        phone_e164=person.phone_e164,
        email=person.email,
        active=person.active,
        pageable=person.pageable,
    )


def _maybe(person: StaffContact | None) -> StaffOut | None:
    return None if person is None else _staff_out(person)


def _on_call_out(on_call: service.OnCall) -> OnCallOut:
    following = on_call.next
    return OnCallOut(
        hotline_id=on_call.hotline_id,
        schedule_id=on_call.schedule_id,
        active=on_call.active,
        now=_maybe(on_call.now),
        until=on_call.until,
        next=NextOut(at=following.at, staff=_maybe(following.staff)) if following else None,
        team_lead=_maybe(on_call.team_lead),
        chain=[_staff_out(p) for p in service.chain(on_call)],
    )


def _schedule_out(loaded: service.LoadedSchedule, now: datetime) -> ScheduleOut:
    row = loaded.row

    def person(staff_id: int) -> StaffOut:
        found = loaded.person(staff_id)
        assert found is not None
        return _staff_out(found)

    shifts = []
    for shift in loaded.shifts(now):
        override = loaded.override_row(shift.override)
        shifts.append(
            ShiftOut(
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
                staff=_maybe(loaded.person(shift.staff_id)),
                override_id=override.id if override else None,
            )
        )
    return ScheduleOut(
        id=row.id,
        hotline_id=row.hotline_id,
        name=row.name,
        active=row.active,
        rotation=RotationOut(
            participants=[person(i) for i in row.participants],
            start_date=row.start_date,
            handoff_weekday=row.handoff_weekday,
            handoff_time=row.handoff_time.strftime("%H:%M"),
            timezone=row.timezone,
            shift_days=row.shift_days,
        ),
        team_lead=_maybe(loaded.person(row.team_lead_id)),
        on_call=_on_call_out(loaded.on_call(now)),
        overrides=[
            OverrideOut(
                id=o.id,
                staff=person(o.staff_id),
                starts_at=o.starts_at,
                ends_at=o.ends_at,
                reason=o.reason,
                created_by=o.created_by,
                created_at=o.created_at,
            )
            for o in loaded.overrides
        ],
        shifts=shifts,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _refused(invalid: Invalid) -> FieldError:
    """400 naming the first field; the message names every one (English, as the API speaks)."""
    first = next(iter(invalid.problems))
    message = "; ".join(f"{name}: {p.text()}" for name, p in invalid.problems.items())
    return FieldError(first, message)


async def _load_one(request: web.Request, schedule_id: int, now: datetime) -> ScheduleOut:
    async with request.app[deps_key].sessions() as session:
        loaded = await session.run_sync(
            lambda sync: service.load_schedules(sync, at=now, schedule_id=schedule_id)
        )
        if not loaded:
            raise web.HTTPNotFound(reason="no such on-call schedule")
        return _schedule_out(loaded[0], now)


def _listing(session: Session, at: datetime) -> list[OnCallOut]:
    return [_on_call_out(found.on_call) for found in service.every_hotline(session, at)]


@operation(
    "Who is on call for every hotline now (or at a given moment), next, and the chain",
    tag="on-call",
    query=OnCallQuery,
    response=OnCallListing,
    errors=(400,),
)
async def listing_api(request: web.Request) -> web.Response:
    raw = request.query.get("at")
    at = request.app[deps_key].clock.now()
    if raw is not None:
        try:
            at = OnCallQuery.model_validate({"at": raw}).at or at
        except ValueError:
            raise FieldError(
                "at", "give a moment with its offset, e.g. 2026-03-02T09:00Z"
            ) from None
    async with request.app[deps_key].sessions() as session:
        hotlines = await session.run_sync(_listing, at)
    return json_model(OnCallListing(at=at, hotlines=hotlines))


@operation(
    "One on-call schedule: rotation, team lead, who is on call, overrides, four weeks of shifts",
    tag="on-call",
    response=ScheduleOut,
    errors=(404,),
)
async def schedule_api(request: web.Request) -> web.Response:
    schedule_id = _schedule_id(request)
    return json_model(await _load_one(request, schedule_id, request.app[deps_key].clock.now()))


@requires_role(Role.ADMIN)
@operation(
    "Set up a hotline's on-call schedule (one per hotline)",
    tag="on-call",
    body=ScheduleIn,
    response=ScheduleOut,
    status=201,
    errors=(400, 404, 409),
)
async def create_api(request: web.Request) -> web.Response:
    body = await read_body(request, ScheduleIn)
    deps = request.app[deps_key]
    now = deps.clock.now()
    try:
        async with deps.sessions() as session, session.begin():
            row = await session.run_sync(
                service.create_schedule,
                body.hotline_id,
                body.given(),
                actor_id=current_staff(request).id,
                now=now,
            )
            schedule_id = row.id
    except service.UnknownHotline:
        raise FieldError("hotline_id", "no hotline has this id", status=404) from None
    except service.ScheduleExists:
        raise web.HTTPConflict(
            reason="this hotline has an on-call schedule already; PUT its rotation instead"
        ) from None
    except Invalid as invalid:
        raise _refused(invalid) from None
    return json_model(await _load_one(request, schedule_id, now), status=201)


@requires_role(Role.ADMIN)
@operation(
    "Change a schedule's rotation, team lead, name and whether it is active",
    tag="on-call",
    body=RotationIn,
    response=ScheduleOut,
    errors=(400, 404),
)
async def rotation_api(request: web.Request) -> web.Response:
    schedule_id = _schedule_id(request)
    body = await read_body(request, RotationIn)
    deps = request.app[deps_key]
    now = deps.clock.now()
    try:
        async with deps.sessions() as session, session.begin():
            await session.run_sync(
                service.set_rotation,
                schedule_id,
                body.given(),
                actor_id=current_staff(request).id,
                now=now,
            )
    except service.ScheduleNotFound:
        raise web.HTTPNotFound(reason="no such on-call schedule") from None
    except Invalid as invalid:
        raise _refused(invalid) from None
    return json_model(await _load_one(request, schedule_id, now))


@requires_role(Role.ADMIN)
@operation(
    "Put someone on call for a while, whatever the rotation says (newest wins on overlap)",
    tag="on-call",
    body=OverrideIn,
    response=OverrideOut,
    status=201,
    errors=(400, 404),
)
async def override_api(request: web.Request) -> web.Response:
    schedule_id = _schedule_id(request)
    body = await read_body(request, OverrideIn)
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            row = await session.run_sync(
                service.add_override,
                schedule_id,
                staff_id=body.staff_id,
                starts_at=body.starts_at,
                ends_at=body.ends_at,
                reason=body.reason,
                actor_id=current_staff(request).id,
                now=deps.clock.now(),
            )
            people = await session.run_sync(lambda sync: contacts(sync, [row.staff_id]))
            answer = OverrideOut(
                id=row.id,
                staff=_staff_out(people[row.staff_id]),
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                reason=row.reason,
                created_by=row.created_by,
                created_at=row.created_at,
            )
    except service.ScheduleNotFound:
        raise web.HTTPNotFound(reason="no such on-call schedule") from None
    except Invalid as invalid:
        raise _refused(invalid) from None
    return json_model(answer, status=201)


@requires_role(Role.ADMIN)
@operation("Remove an override", tag="on-call", status=204, errors=(404,))
async def remove_override_api(request: web.Request) -> web.Response:
    schedule_id = _schedule_id(request)
    override_id = path_id(request, "override_id", missing="no such override")
    await remove_override(request, schedule_id, override_id)
    return web.Response(status=204)


def register(app: web.Application) -> None:
    app.router.add_get("/api/v1/on-call", listing_api)
    app.router.add_post("/api/v1/on-call", create_api)
    app.router.add_get(r"/api/v1/on-call/{schedule_id:\d+}", schedule_api)
    app.router.add_put(r"/api/v1/on-call/{schedule_id:\d+}/rotation", rotation_api)
    app.router.add_post(r"/api/v1/on-call/{schedule_id:\d+}/overrides", override_api)
    app.router.add_delete(
        r"/api/v1/on-call/{schedule_id:\d+}/overrides/{override_id:\d+}", remove_override_api
    )
