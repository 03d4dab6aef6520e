"""On-call schedules as a staff page (the API: oncall_api.py). Any staff member reads; admins
change.

GET    /on-call                                       every hotline: on call now and until when,
                                                      next and from when, the team lead, overrides
                                                      still to end, four weeks of shifts; forms
POST   /on-call/hotlines/{hotline_id}/schedule        set up a hotline's schedule       (admin)
POST   /on-call/{schedule_id}/rotation                change its rotation and team lead (admin)
POST   /on-call/{schedule_id}/overrides               add an override                   (admin)
POST   /on-call/{schedule_id}/overrides/{o}/delete    remove one                        (admin)

Times are local wall-clock times in the schedule's time zone (an override's start and end are
typed as `datetime-local` and read in it). Refusals show the page again (4xx) with each message
beside its field, in the user's language, and what was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_date, format_datetime, get_day_names
from multidict import MultiDictProxy
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.models import Role
from intake.models import Hotline
from notifications import oncall_service as service
from notifications.models import OncallSchedule
from notifications.oncall import DEFAULT_TIMEZONE, OverrideReason
from notifications.oncall_calendar import Shift
from notifications.problems import Invalid, Problem
from notifications.staff_contacts import StaffContact, everyone
from web.appkeys import deps_key
from web.handlers import current_staff
from web.i18n import N_
from web.path_ids import path_id
from web.policy import requires_role
from web.rendering import add_globals, gettext_for, render, see_other

REASON_LABELS = {
    OverrideReason.HOLIDAY: N_("Holiday"),
    # Sick days are absences too: the reason is never recorded (it would be health data).
    OverrideReason.ABSENCE: N_("Absence"),
    OverrideReason.SWAP: N_("Swap"),
    OverrideReason.OTHER: N_("Other"),
}
DONE = {
    "created": N_("The on-call schedule is set up."),
    "rotation": N_("The rotation is saved."),
    "added": N_("The override is added."),
    "removed": N_("The override is removed."),
}
NOT_A_DATE = N_("Write a date, like 2026-03-02.")
NOT_A_MOMENT = N_("Write a date and a time, like 2026-03-02 09:00.")
NOT_A_PLACE = N_("Write the place in the order as a whole number from 1, or leave it empty.")
SAME_PLACE = N_("Two people have the same place in the order.")
NOT_A_CHOICE = N_("Please choose one of the options.")
SCHEDULE_EXISTS = N_("This hotline has an on-call schedule already. Reload the page.")
MAX_FIELD = 64


def _schedule_id(request: web.Request) -> int:
    return path_id(request, "schedule_id", missing="no such on-call schedule")


def _override_id(request: web.Request) -> int:
    return path_id(request, "override_id", missing="no such override")


# --- the page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One hotline on the page."""

    hotline: Hotline
    prefix: str  # of its form fields' ids, unique on the page
    loaded: service.LoadedSchedule | None
    on_call: service.OnCall
    shifts: list[Shift]

    @property
    def zone(self) -> str:
        return self.loaded.row.timezone if self.loaded else DEFAULT_TIMEZONE

    def reason(self, shift: Shift) -> OverrideReason | None:
        row = self.loaded.override_row(shift.override) if self.loaded else None
        return row.reason if row else None


def _prefix(hotline: Hotline, loaded: service.LoadedSchedule | None) -> str:
    return f"s{loaded.row.id}-" if loaded else f"new-{hotline.id}-"


def _sections(session: Session, now: datetime) -> tuple[list[Section], list[StaffContact]]:
    sections = [
        Section(
            found.hotline,
            _prefix(found.hotline, found.loaded),
            found.loaded,
            found.on_call,
            found.loaded.shifts(now) if found.loaded else [],
        )
        for found in service.every_hotline(session, now)
    ]
    return sections, everyone(session)


def _rotation_values(loaded: service.LoadedSchedule | None) -> dict[str, str]:
    """A rotation form's fields as the stored schedule fills them (a new one: defaults)."""
    if loaded is None:
        return {"handoff_weekday": "0", "handoff_time": "09:00", "shift_days": "7", "active": "on"}
    row = loaded.row
    values = {
        "name": row.name,
        "start_date": row.start_date.isoformat(),
        "handoff_weekday": str(row.handoff_weekday),
        "handoff_time": row.handoff_time.strftime("%H:%M"),
        "shift_days": str(row.shift_days),
        "team_lead_id": str(row.team_lead_id or ""),
        "active": "on" if row.active else "",
    }
    for place, staff_id in enumerate(row.participants, start=1):
        values[f"position-{staff_id}"] = str(place)
    return values


async def _show(
    request: web.Request,
    *,
    status: int = 200,
    errors: Mapping[str, Problem] | None = None,
    posted: tuple[str, str, dict[str, str]] | None = None,
) -> web.Response:
    """The page; with `errors` (by field id) and what was `posted`: (prefix, form, values) of
    the form that failed ("rotation" or "override"), which is shown open with what was typed."""
    deps = request.app[deps_key]
    now = deps.clock.now()
    async with deps.sessions() as session:
        sections, people = await session.run_sync(_sections, now)
    _ = gettext_for(request)
    values = {section.prefix: _rotation_values(section.loaded) for section in sections}
    if posted and posted[0] in values:
        values[posted[0]].update(posted[2])
    done = DONE.get(request.query.get("done", ""))
    context = {
        "sections": sections,
        "people": people,
        "values": values,
        "errors": {name: problem.text(_) for name, problem in (errors or {}).items()},
        "notice": done,
        "now": now,
        "is_admin": current_staff(request).role is Role.ADMIN,
        "failed": posted[:2] if posted else None,
    }
    return render(request, "notifications/on_call.html", context, status=status)


async def on_call_page(request: web.Request) -> web.Response:
    return await _show(request)


def _text(form: MultiDictProxy[Any], name: str) -> str:
    return str(form.get(name, "")).strip()[:MAX_FIELD]


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _parse_time(text: str) -> time | None:
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is None else None


def _parse_int(text: str, low: int, high: int) -> int | None:
    return int(text) if text.isdigit() and low <= int(text) <= high else None


def _participants_from_form(form: MultiDictProxy[Any], problems: dict[str, Problem]) -> list[int]:
    """Staff ids ordered by the places typed beside their names (`position-<id>`)."""
    places: dict[int, list[int]] = {}
    for key in form:
        if not key.startswith("position-") or not key[9:].isdigit():
            continue
        text = _text(form, key)
        if not text:
            continue
        place = _parse_int(text, 1, 999)
        if place is None:
            problems[key] = Problem(NOT_A_PLACE)
            continue
        places.setdefault(place, []).append(int(key[9:]))
    for ids in places.values():
        if len(ids) > 1:
            for staff_id in ids:
                problems[f"position-{staff_id}"] = Problem(SAME_PLACE)
    return [ids[0] for _, ids in sorted(places.items())]


def _rotation_from_form(
    form: MultiDictProxy[Any],
) -> tuple[service.RotationInput, dict[str, Problem]]:
    """The rotation as typed, and what could not be read; unreadable fields get placeholders, so
    the rest can still be checked and every problem shown at once."""
    problems: dict[str, Problem] = {}
    participants = _participants_from_form(form, problems)
    start = _parse_date(_text(form, "start_date"))
    if start is None:
        problems["start_date"] = Problem(NOT_A_DATE)
    weekday = _parse_int(_text(form, "handoff_weekday"), 0, 6)
    if weekday is None:
        problems["handoff_weekday"] = Problem(NOT_A_CHOICE)
    handoff = _parse_time(_text(form, "handoff_time"))
    if handoff is None:
        problems["handoff_time"] = Problem(service.NOT_A_TIME)
    shift_days = _parse_int(_text(form, "shift_days"), 1, service.MAX_SHIFT_DAYS)
    if shift_days is None:
        problems["shift_days"] = Problem(service.BAD_SHIFT_DAYS, {"limit": service.MAX_SHIFT_DAYS})
    lead_text = _text(form, "team_lead_id")
    lead = _parse_int(lead_text, 1, 2**31 - 1) if lead_text else None
    if lead_text and lead is None:
        problems["team_lead_id"] = Problem(NOT_A_CHOICE)
    given = service.RotationInput(
        participants=participants,
        start_date=start or date.min,
        handoff_weekday=0 if weekday is None else weekday,
        handoff_time=handoff or time(9, 0),
        shift_days=shift_days or 7,
        team_lead_id=lead,
        active=form.get("active") == "on",
        name=str(form.get("name", ""))[: service.NAME_LIMIT + 1],
    )
    return given, problems


async def _save_rotation(
    request: web.Request,
    given: service.RotationInput,
    unreadable: dict[str, Problem],
    save: Callable[[Session], OncallSchedule],
) -> tuple[OncallSchedule | None, dict[str, Problem]]:
    """`save` the rotation, or every problem with it by page field: those of the fields that
    could not be read, and the rest the service finds."""
    async with request.app[deps_key].sessions() as session, session.begin():
        try:
            if unreadable:
                await session.run_sync(service.check_rotation, given)
                return None, unreadable
            return await session.run_sync(save), {}
        except Invalid as invalid:
            return None, {**_page_problems(invalid, given), **unreadable}


def _page_problems(invalid: Invalid, given: service.RotationInput) -> dict[str, Problem]:
    """The service's `participants[i]` are the page's `position-<id>` fields."""
    found: dict[str, Problem] = {}
    for name, problem in invalid.problems.items():
        if name.startswith("participants["):
            found[f"position-{given.participants[int(name[13:-1])]}"] = problem
        else:
            found[name] = problem
    return found


def _prefixed(prefix: str, problems: Mapping[str, Problem]) -> dict[str, Problem]:
    return {prefix + name: problem for name, problem in problems.items()}


def _posted(form: MultiDictProxy[Any], *, rotation: bool = False) -> dict[str, str]:
    """What was typed, to show again (bounded: the name is the longest field)."""
    posted = {
        key: str(form.get(key, ""))[: service.NAME_LIMIT]
        for key in form
        if key not in ("csrf_token", "lang")
    }
    if rotation:  # an unticked box is not sent: it must not show ticked again
        posted["active"] = "on" if form.get("active") == "on" else ""
    return posted


async def _again(
    request: web.Request,
    form: MultiDictProxy[Any],
    prefix: str,
    kind: str,
    problems: Mapping[str, Problem],
    *,
    status: int = 400,
) -> web.Response:
    """The page again: the `kind` ("rotation" or "override") form whose fields start with
    `prefix`, with what was typed and each problem beside its field."""
    return await _show(
        request,
        status=status,
        errors=_prefixed(prefix, problems),
        posted=(prefix, kind, _posted(form, rotation=kind == "rotation")),
    )


def _done(what: str, anchor: str) -> web.Response:
    return see_other(f"/on-call?done={what}#{anchor}")


@requires_role(Role.ADMIN)
async def create_page(request: web.Request) -> web.Response:
    hotline_id = request.match_info["hotline_id"]
    async with request.app[deps_key].sessions() as session:
        if await session.get(Hotline, hotline_id) is None:
            raise web.HTTPNotFound(reason="no such hotline")
    form = await request.post()
    given, problems = _rotation_from_form(form)
    deps = request.app[deps_key]
    actor = current_staff(request).id

    def save(session: Session) -> OncallSchedule:
        now = deps.clock.now()
        return service.create_schedule(session, hotline_id, given, actor_id=actor, now=now)

    status = 400
    try:
        saved, problems = await _save_rotation(request, given, problems, save)
    except service.ScheduleExists:
        saved, problems, status = None, {"participants": Problem(SCHEDULE_EXISTS)}, 409
    if saved is not None:
        return _done("created", f"hotline-{hotline_id}")
    return await _again(request, form, f"new-{hotline_id}-", "rotation", problems, status=status)


@requires_role(Role.ADMIN)
async def rotation_page(request: web.Request) -> web.Response:
    schedule_id = _schedule_id(request)
    form = await request.post()
    given, problems = _rotation_from_form(form)
    deps = request.app[deps_key]
    actor = current_staff(request).id

    def save(session: Session) -> OncallSchedule:
        now = deps.clock.now()
        return service.set_rotation(session, schedule_id, given, actor_id=actor, now=now)

    try:
        saved, problems = await _save_rotation(request, given, problems, save)
    except service.ScheduleNotFound:
        raise web.HTTPNotFound(reason="no such on-call schedule") from None
    if saved is not None:
        return _done("rotation", f"hotline-{saved.hotline_id}")
    return await _again(request, form, f"s{schedule_id}-", "rotation", problems)


def _local_moment(text: str, zone: str) -> datetime | None:
    """A `datetime-local` value as a moment in the schedule's zone (a time the spring change
    skips, or one the autumn change repeats, read as PEP 495 does: fold 0)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        return None
    return parsed.replace(tzinfo=ZoneInfo(zone))


async def _schedule_zone(request: web.Request, schedule_id: int) -> tuple[str, str]:
    """The schedule's time zone and hotline, or 404."""
    async with request.app[deps_key].sessions() as session:
        found = (
            await session.execute(
                select(OncallSchedule.timezone, OncallSchedule.hotline_id).where(
                    OncallSchedule.id == schedule_id
                )
            )
        ).one_or_none()
    if found is None:
        raise web.HTTPNotFound(reason="no such on-call schedule")
    return found[0], found[1]


@requires_role(Role.ADMIN)
async def override_page(request: web.Request) -> web.Response:
    schedule_id = _schedule_id(request)
    zone, hotline_id = await _schedule_zone(request, schedule_id)
    form = await request.post()
    problems: dict[str, Problem] = {}
    staff_id = _parse_int(_text(form, "staff_id"), 1, 2**31 - 1)
    if staff_id is None:
        problems["staff_id"] = Problem(NOT_A_CHOICE)
    starts_at = _local_moment(_text(form, "starts_at"), zone)
    if starts_at is None:
        problems["starts_at"] = Problem(NOT_A_MOMENT)
    ends_at = _local_moment(_text(form, "ends_at"), zone)
    if ends_at is None:
        problems["ends_at"] = Problem(NOT_A_MOMENT)
    reason = _text(form, "reason")
    if reason not in OverrideReason.__members__.values():
        problems["reason"] = Problem(NOT_A_CHOICE)
    if not problems and staff_id and starts_at and ends_at:
        deps = request.app[deps_key]
        try:
            async with deps.sessions() as session, session.begin():
                await session.run_sync(
                    service.add_override,
                    schedule_id,
                    staff_id=staff_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    reason=OverrideReason(reason),
                    actor_id=current_staff(request).id,
                    now=deps.clock.now(),
                )
        except service.ScheduleNotFound:
            raise web.HTTPNotFound(reason="no such on-call schedule") from None
        except Invalid as invalid:
            problems = dict(invalid.problems)
        else:
            return _done("added", f"hotline-{hotline_id}")
    return await _again(request, form, f"s{schedule_id}-", "override", problems)


@requires_role(Role.ADMIN)
async def remove_override_page(request: web.Request) -> web.Response:
    schedule_id = _schedule_id(request)
    override_id = _override_id(request)
    zone_and_hotline = await _schedule_zone(request, schedule_id)
    await remove_override(request, schedule_id, override_id)
    return _done("removed", f"hotline-{zone_and_hotline[1]}")


async def remove_override(request: web.Request, schedule_id: int, override_id: int) -> None:
    """Remove the override as the signed-in staff member (the page's and the API's way)."""
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            await session.run_sync(
                service.remove_override,
                schedule_id,
                override_id,
                actor_id=current_staff(request).id,
                now=deps.clock.now(),
            )
    except service.OverrideNotFound:
        raise web.HTTPNotFound(reason="this schedule has no such override") from None


def _when(moment: datetime | None, zone: str, language: str) -> str:
    """A moment as a wall-clock time in `zone`, with the weekday: "man. 02.03.2026 09.00"."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    locale = "da_DK" if language == "da" else "en_GB"
    day = format_date(local, "EEE", locale=locale)
    return f"{day} {format_datetime(local, 'short', locale=locale)}"


def _weekday_names(language: str) -> Callable[[int], str]:
    names = get_day_names("wide", locale="da_DK" if language == "da" else "en_GB")
    return lambda index: str(names[index])


def register(app: web.Application) -> None:
    add_globals(
        app,
        oncall_when=_when,
        oncall_weekdays=_weekday_names,
        oncall_reasons=REASON_LABELS,
    )
    app.router.add_get("/on-call", on_call_page, name="on_call")
    app.router.add_post("/on-call/hotlines/{hotline_id}/schedule", create_page)
    app.router.add_post(r"/on-call/{schedule_id:\d+}/rotation", rotation_page)
    app.router.add_post(r"/on-call/{schedule_id:\d+}/overrides", override_page)
    app.router.add_post(
        r"/on-call/{schedule_id:\d+}/overrides/{override_id:\d+}/delete", remove_override_page
    )
