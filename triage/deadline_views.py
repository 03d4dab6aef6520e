"""Deadlines per hotline for administrators: pages and API over triage/deadline_settings.py.

GET /admin/deadlines                         every hotline's deadlines at a glance
GET /admin/deadlines/{hotline_id}            one hotline's configuration and its form
POST /admin/deadlines/{hotline_id}           save → 303; refused: the form again (400), each
                                             problem beside its field, in the user's language
GET /api/v1/hotlines/{hotline_id}/deadlines  the configuration as JSON
PUT /api/v1/hotlines/{hotline_id}/deadlines  replace it → 200; refused: 400 naming the field

Saving never moves a deadline already running: each keeps the due time and clock mode it got.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from babel.dates import get_day_names
from multidict import MultiDictProxy
from pydantic import BaseModel, ConfigDict, Field

from access.models import Role
from denmark.closed_days import Closures
from intake.opening_hours import DAYS
from notifications.escalation import Audience, EscalationPolicy, StepKind, policy_to_data
from notifications.problems import Invalid, Problem
from triage import deadline_settings as service
from triage.deadline_config import (
    CLOSURE_NAMES,
    KINDS,
    MAX_HOURS,
    DeadlineDraft,
    format_day_spans,
    format_hours,
)
from triage.models import ClockMode, DeadlineKind
from web.api import operation, read_body
from web.appkeys import deps_key, staff_key
from web.i18n import N_
from web.middleware import FieldError
from web.policy import requires_role
from web.rendering import add_globals, gettext_for, render, see_other

TAG = "deadlines"
LIST_PATH = "/admin/deadlines"
HOTLINE_ID = r"{hotline_id:[a-z0-9_-]{1,32}}"
MAX_FIELD = 40

CLOSURE_LABELS = {
    "5jun": N_("Constitution Day (5 June)"),
    "24dec": N_("Christmas Eve (24 December)"),
    "31dec": N_("New Year's Eve (31 December)"),
}
AUDIENCE_LABELS = {
    Audience.ASSIGNEE: N_("the assignee"),
    Audience.TEAM_LEAD: N_("the team lead"),
    Audience.ON_CALL: N_("on call"),
    Audience.ON_CALL_AND_TEAM_LEAD: N_("on call and the team lead"),
}
STEP_LABELS = {
    StepKind.REMINDER: N_("Reminder"),
    StepKind.WARNING: N_("Warning"),
    StepKind.APPROACHING: N_("Approaching"),
    StepKind.OVERDUE: N_("Overdue"),
}
SAVED = N_("Saved. Deadlines already running keep their due time; new ones follow these settings.")
NO_SUCH_HOTLINE = "no hotline has this id"

# Where each problem of deadline_config.check shows on the page (the id of its field).
_PAGE_FIELDS = {
    "business_hours": "business_hours",
    **{f"business_hours.{day}": f"hours-{day}" for day in DAYS},
    **{f"policies.{kind.value}": f"{kind.value}_policy" for kind in KINDS},
}


def _hotline_id(request: web.Request) -> str:
    return request.match_info["hotline_id"]


def _weekday_names(language: str) -> Callable[[int], str]:
    names = get_day_names("wide", locale="da_DK" if language == "da" else "en_GB")
    return lambda index: str(names[index]).capitalize()


def _steps_in_words(policy: EscalationPolicy) -> list[tuple[str, str, str, bool]]:
    """Each step as (at, kind, audience, repeats) for the page's table."""
    return [
        (
            format_hours(int(step.offset.total_seconds() // 60)),
            STEP_LABELS[step.kind],
            AUDIENCE_LABELS[step.audience],
            step.repeats,
        )
        for step in policy.steps
    ]


# --- pages --------------------------------------------------------------------------------------


def _form_values(loaded: service.HotlineDeadlines) -> dict[str, Any]:
    """The form's fields as the stored configuration fills them."""
    values = loaded.values
    shown: dict[str, Any] = {
        "triage_hours": format_hours(values.triage_minutes),
        "visitation_hours": format_hours(values.visitation_minutes),
        "clock_mode": values.clock_mode.value,
        "closed_on": {
            short for short, name in CLOSURE_NAMES.items() if getattr(values.closures, name)
        },
    }
    for day in DAYS:
        shown[f"hours-{day}"] = format_day_spans(values.business_hours.get(day, []))
    for kind in KINDS:
        data = values.policies.get(kind)
        shown[f"{kind.value}_policy"] = "" if data is None else json.dumps(data, indent=2)
    return shown


def _posted_values(form: MultiDictProxy[Any]) -> dict[str, Any]:
    def text(name: str, limit: int = MAX_FIELD) -> str:
        return str(form.get(name, ""))[:limit]

    values: dict[str, Any] = {
        "triage_hours": text("triage_hours"),
        "visitation_hours": text("visitation_hours"),
        "clock_mode": text("clock_mode"),
        "closed_on": {str(v) for v in form.getall("closed_on", []) if str(v) in CLOSURE_NAMES},
    }
    for day in DAYS:
        values[f"hours-{day}"] = text(f"hours-{day}", 200)
    for kind in KINDS:
        # Longer than a policy may be, so the check (not this cut) says it is too long.
        values[f"{kind.value}_policy"] = text(f"{kind.value}_policy", 40_000)
    return values


def _draft(values: Mapping[str, Any]) -> DeadlineDraft:
    chosen = values["closed_on"]
    return DeadlineDraft(
        triage_hours=values["triage_hours"],
        visitation_hours=values["visitation_hours"],
        clock_mode=values["clock_mode"],
        business_hours={day: values[f"hours-{day}"] for day in DAYS},
        closures=Closures(**{name: short in chosen for short, name in CLOSURE_NAMES.items()}),
        policies={kind: values[f"{kind.value}_policy"] for kind in KINDS},
    )


@requires_role(Role.ADMIN)
async def list_page(request: web.Request) -> web.Response:
    async with request.app[deps_key].sessions() as session:
        every = await session.run_sync(service.load_all)
    return render(request, "admin/deadlines.html", {"hotlines": every})


async def _edit_page(
    request: web.Request,
    *,
    status: int = 200,
    errors: Mapping[str, Problem] | None = None,
    values: dict[str, Any] | None = None,
) -> web.Response:
    hotline_id = _hotline_id(request)
    async with request.app[deps_key].sessions() as session:
        try:
            loaded = await session.run_sync(service.load, hotline_id)
        except service.UnknownHotline:
            raise web.HTTPNotFound(reason=NO_SUCH_HOTLINE) from None
    gettext = gettext_for(request)
    shown_errors = {
        _PAGE_FIELDS.get(name, name): problem.text(gettext)
        for name, problem in (errors or {}).items()
    }
    context = {
        "loaded": loaded,
        "values": values or _form_values(loaded),
        "errors": shown_errors,
        "notice": SAVED if request.query.get("done") == "saved" and not errors else None,
        "max_hours": MAX_HOURS,
    }
    return render(request, "admin/deadline_form.html", context, status=status)


@requires_role(Role.ADMIN)
async def edit_page(request: web.Request) -> web.Response:
    return await _edit_page(request)


@requires_role(Role.ADMIN)
async def save_page(request: web.Request) -> web.Response:
    hotline_id = _hotline_id(request)
    deps = request.app[deps_key]
    values = _posted_values(await request.post())
    try:
        async with deps.sessions() as session, session.begin():
            await session.run_sync(
                service.change,
                hotline_id,
                _draft(values),
                actor=request[staff_key],
                now=deps.clock.now(),
            )
    except service.UnknownHotline:
        raise web.HTTPNotFound(reason=NO_SUCH_HOTLINE) from None
    except Invalid as invalid:
        return await _edit_page(request, status=400, errors=invalid.problems, values=values)
    return see_other(f"{LIST_PATH}/{hotline_id}?done=saved")


# --- API ----------------------------------------------------------------------------------------


class ClosedOn(BaseModel):
    """Customary closures on top of the Danish public holidays (business hours only)."""

    model_config = ConfigDict(extra="forbid")

    constitution_day: bool = Field(description="5 June")
    christmas_eve: bool = Field(description="24 December")
    new_years_eve: bool = Field(description="31 December")


class Policies(BaseModel):
    """Escalation policies per deadline kind (notifications/escalation.py's plain data, e.g.
    {"repeat_every": "15m", "escalate_after": "30m", "steps": [{"name": "reminder",
    "at": "24h", "audience": "assignee", "kind": "reminder", "repeats": false}, …]});
    null: the defaults for the duration (at 1/2, 3/4, 11/12 and all of it)."""

    model_config = ConfigDict(extra="forbid")

    triage: dict[str, Any] | None = None
    visitation: dict[str, Any] | None = None


class DeadlineConfigIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    triage_hours: float = Field(
        gt=0, le=MAX_HOURS, description="Time to triage from receipt, in whole minutes."
    )
    visitation_hours: float = Field(
        gt=0, le=MAX_HOURS, description="Time to visitation from receipt, in whole minutes."
    )
    clock_mode: ClockMode = Field(
        description="calendar: real elapsed time; business_hours: only the opening hours."
    )
    business_hours: dict[str, list[list[str]]] = Field(
        description='Open spans per weekday in local time, e.g. {"mon": [["08:00", "16:00"]]}; '
        "a day left out is closed. Needed (on some day) in business_hours mode."
    )
    closed_on: ClosedOn
    policies: Policies = Field(default_factory=Policies)


class EffectivePolicies(BaseModel):
    triage: dict[str, Any]
    visitation: dict[str, Any]


class DeadlineConfigOut(DeadlineConfigIn):
    model_config = ConfigDict(extra="forbid")

    hotline_id: str
    timezone: str = Field(description="The time zone of business_hours.")
    effective_policies: EffectivePolicies = Field(
        description="The policies in force: the hotline's own, or the defaults."
    )


def _out(loaded: service.HotlineDeadlines) -> DeadlineConfigOut:
    values, config = loaded.values, loaded.config
    closures = values.closures
    return DeadlineConfigOut(
        hotline_id=loaded.hotline.id,
        timezone=loaded.hotline.timezone,
        triage_hours=values.triage_minutes / 60,
        visitation_hours=values.visitation_minutes / 60,
        clock_mode=values.clock_mode,
        business_hours=values.business_hours,
        closed_on=ClosedOn(
            constitution_day=closures.constitution_day,
            christmas_eve=closures.christmas_eve,
            new_years_eve=closures.new_years_eve,
        ),
        policies=Policies(
            triage=values.policies.get(DeadlineKind.TRIAGE),
            visitation=values.policies.get(DeadlineKind.VISITATION),
        ),
        effective_policies=EffectivePolicies(
            triage=policy_to_data(config.triage.policy),
            visitation=policy_to_data(config.visitation.policy),
        ),
    )


def _json(model: BaseModel) -> web.Response:
    return web.json_response(model.model_dump(mode="json"))


@requires_role(Role.ADMIN)
@operation(
    "A hotline's deadlines: durations, clock mode, business calendar, escalation policies",
    tag=TAG,
    response=DeadlineConfigOut,
    errors=(401, 403, 404),
)
async def config_api(request: web.Request) -> web.Response:
    async with request.app[deps_key].sessions() as session:
        try:
            loaded = await session.run_sync(service.load, _hotline_id(request))
        except service.UnknownHotline:
            raise web.HTTPNotFound(reason=NO_SUCH_HOTLINE) from None
    return _json(_out(loaded))


@requires_role(Role.ADMIN)
@operation(
    "Replace a hotline's deadlines; deadlines already running keep their due time",
    tag=TAG,
    body=DeadlineConfigIn,
    response=DeadlineConfigOut,
    errors=(400, 401, 403, 404),
)
async def change_api(request: web.Request) -> web.Response:
    body = await read_body(request, DeadlineConfigIn)
    deps = request.app[deps_key]
    closed = body.closed_on
    draft = DeadlineDraft(
        triage_hours=body.triage_hours,
        visitation_hours=body.visitation_hours,
        clock_mode=body.clock_mode.value,
        business_hours=body.business_hours,
        closures=Closures(
            constitution_day=closed.constitution_day,
            christmas_eve=closed.christmas_eve,
            new_years_eve=closed.new_years_eve,
        ),
        policies={
            DeadlineKind.TRIAGE: body.policies.triage,
            DeadlineKind.VISITATION: body.policies.visitation,
        },
    )
    try:
        async with deps.sessions() as session, session.begin():
            loaded = await session.run_sync(
                service.change,
                _hotline_id(request),
                draft,
                actor=request[staff_key],
                now=deps.clock.now(),
            )
            answer = _out(loaded)
    except service.UnknownHotline:
        raise web.HTTPNotFound(reason=NO_SUCH_HOTLINE) from None
    except Invalid as invalid:
        first = next(iter(invalid.problems))
        message = "; ".join(f"{name}: {p.text()}" for name, p in invalid.problems.items())
        raise FieldError(first, message) from None
    return _json(answer)


def register(app: web.Application) -> None:
    add_globals(
        app,
        deadline_closure_labels=CLOSURE_LABELS,
        deadline_kinds=KINDS,
        deadline_days=DAYS,
        deadline_weekdays=_weekday_names,
        deadline_hours=format_hours,
        deadline_steps=_steps_in_words,
    )
    app.router.add_get(LIST_PATH, list_page, name="admin_deadlines")
    app.router.add_get(f"{LIST_PATH}/{HOTLINE_ID}", edit_page)
    app.router.add_post(f"{LIST_PATH}/{HOTLINE_ID}", save_page)
    app.router.add_get(f"/api/v1/hotlines/{HOTLINE_ID}/deadlines", config_api)
    app.router.add_put(f"/api/v1/hotlines/{HOTLINE_ID}/deadlines", change_api)
