"""Partner units for administrators: pages and API over triage/partner_units.py.

GET  /admin/partner-units                  the list and a form to add one
POST /admin/partner-units                  add → 303 (or the page again with the errors, 400)
GET  /admin/partner-units/{id}             the edit form
POST /admin/partner-units/{id}             save → 303
POST /admin/partner-units/{id}/deactivate  stop routing to it → 303
GET  /api/v1/partner-units                 the units
POST /api/v1/partner-units                 add → 201
PUT  /api/v1/partner-units/{id}            replace → 200
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any, Literal

from aiohttp import web
from multidict import MultiDictProxy
from pydantic import BaseModel, Field

from access.models import PartnerUnit, Role, UnitKind
from access.service import Staff
from denmark.municipalities import Municipality, all_municipalities, by_code
from intake.concern_form import FieldProblem
from triage import partner_units
from triage.partner_units import UnitData, UnitInvalid
from web.api import operation, read_body
from web.appkeys import deps_key, staff_key
from web.handlers import json_model
from web.middleware import FieldError
from web.policy import requires_role
from web.rendering import gettext_for, render, see_other

MAX_ID = 2**31 - 1
TAG = "partner units"
LIST_PATH = "/admin/partner-units"


class PartnerUnitIn(BaseModel):
    name: str = Field(max_length=partner_units.NAME_MAX_CHARS)
    kind: Literal["coordination_unit", "infohus"]
    email: str = Field(max_length=254, description="The unit's mailbox for routing notices.")
    municipalities: list[int] = Field(description="Municipality codes the unit covers.")
    active: bool = True


class PartnerUnitOut(BaseModel):
    id: int
    name: str
    kind: str
    email: str
    municipalities: list[int]
    active: bool
    created_at: datetime
    updated_at: datetime


class PartnerUnitList(BaseModel):
    items: list[PartnerUnitOut]


def _out(unit: PartnerUnit) -> PartnerUnitOut:
    return PartnerUnitOut(
        id=unit.id,
        name=unit.name,
        kind=unit.kind.value,
        email=unit.email,
        municipalities=list(unit.municipalities),
        active=unit.active,
        created_at=unit.created_at,
        updated_at=unit.updated_at,
    )


def _id(request: web.Request) -> int:
    value = int(request.match_info["unit_id"])
    if value > MAX_ID:
        raise web.HTTPNotFound(reason="no partner unit has this id")
    return value


def _staff(request: web.Request) -> Staff | None:
    return request[staff_key]


def _districts() -> list[tuple[str, list[Municipality]]]:
    """The 98 municipalities grouped by police district, for the checkbox list."""
    ordered = sorted(all_municipalities(), key=lambda m: m.police_district)
    return [
        (district, list(group)) for district, group in groupby(ordered, lambda m: m.police_district)
    ]


# --- pages --------------------------------------------------------------------------------------


def _form_data(form: MultiDictProxy[Any], *, active_field: bool) -> tuple[UnitData, dict[str, Any]]:
    codes: list[int] = []
    raw_codes = [str(v) for v in form.getall("municipalities", [])]
    for raw in raw_codes:
        if not raw.isdigit() or len(raw) > 4:
            raise UnitInvalid("municipalities", partner_units.UNKNOWN_MUNICIPALITY, code=raw[:10])
        codes.append(int(raw))
    active = form.get("active") == "yes" if active_field else True
    data = UnitData(
        name=str(form.get("name", "")),
        kind=str(form.get("kind", "")),
        email=str(form.get("email", "")),
        municipalities=tuple(codes),
        active=active,
    )
    values = {
        "name": data.name,
        "kind": data.kind,
        "email": data.email,
        "municipalities": set(codes),
        "active": active,
    }
    return data, values


def _problem(request: web.Request, exc: UnitInvalid) -> dict[str, FieldProblem]:
    gettext = gettext_for(request)
    text = gettext(exc.message) % exc.params if exc.params else gettext(exc.message)
    return {exc.field: FieldProblem(text)}


async def _list_page(
    request: web.Request,
    *,
    status: int = 200,
    errors: dict[str, FieldProblem] | None = None,
    values: dict[str, Any] | None = None,
) -> web.Response:
    async with request.app[deps_key].sessions() as session:
        units = await partner_units.list_units(session)
    context = {
        "units": units,
        "municipalities": by_code(),
        "districts": _districts(),
        "errors": errors or {},
        "values": values or {"kind": UnitKind.INFOHUS.value, "municipalities": set()},
        "limits": {"name": partner_units.NAME_MAX_CHARS, "email": 254},
    }
    return render(request, "admin/partner_units.html", context, status=status)


@requires_role(Role.ADMIN)
async def units_page(request: web.Request) -> web.Response:
    return await _list_page(request)


@requires_role(Role.ADMIN)
async def add_unit(request: web.Request) -> web.Response:
    deps = request.app[deps_key]
    form = await request.post()
    values: dict[str, Any] = {}
    try:
        data, values = _form_data(form, active_field=False)
        async with deps.sessions() as session, session.begin():
            await partner_units.create_unit(
                session, data, staff=_staff(request), now=deps.clock.now()
            )
    except UnitInvalid as exc:
        values = values or {"name": str(form.get("name", "")), "municipalities": set()}
        return await _list_page(request, status=400, errors=_problem(request, exc), values=values)
    return see_other(LIST_PATH)


async def _edit_page(
    request: web.Request,
    unit_id: int,
    *,
    status: int = 200,
    errors: dict[str, FieldProblem] | None = None,
    values: dict[str, Any] | None = None,
) -> web.Response:
    async with request.app[deps_key].sessions() as session:
        unit = await session.get(PartnerUnit, unit_id)
    if unit is None:
        raise web.HTTPNotFound(reason="no partner unit has this id")
    shown = values or {
        "name": unit.name,
        "kind": unit.kind.value,
        "email": unit.email,
        "municipalities": set(unit.municipalities),
        "active": unit.active,
    }
    context = {
        "unit": unit,
        "districts": _districts(),
        "errors": errors or {},
        "values": shown,
        "limits": {"name": partner_units.NAME_MAX_CHARS, "email": 254},
    }
    return render(request, "admin/partner_unit.html", context, status=status)


@requires_role(Role.ADMIN)
async def edit_unit_page(request: web.Request) -> web.Response:
    return await _edit_page(request, _id(request))


@requires_role(Role.ADMIN)
async def save_unit(request: web.Request) -> web.Response:
    unit_id = _id(request)
    deps = request.app[deps_key]
    form = await request.post()
    values: dict[str, Any] = {}
    try:
        data, values = _form_data(form, active_field=True)
        async with deps.sessions() as session, session.begin():
            unit = await partner_units.update_unit(
                session, unit_id, data, staff=_staff(request), now=deps.clock.now()
            )
    except UnitInvalid as exc:
        values = values or {
            "name": str(form.get("name", "")),
            "kind": str(form.get("kind", "")),
            "email": str(form.get("email", "")),
            "municipalities": set(),
            "active": form.get("active") == "yes",
        }
        return await _edit_page(
            request, unit_id, status=400, errors=_problem(request, exc), values=values
        )
    if unit is None:
        raise web.HTTPNotFound(reason="no partner unit has this id")
    return see_other(LIST_PATH)


@requires_role(Role.ADMIN)
async def deactivate(request: web.Request) -> web.Response:
    unit_id = _id(request)
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        unit = await partner_units.deactivate_unit(
            session, unit_id, staff=_staff(request), now=deps.clock.now()
        )
    if unit is None:
        raise web.HTTPNotFound(reason="no partner unit has this id")
    return see_other(LIST_PATH)


# --- API ----------------------------------------------------------------------------------------


def _data(body: PartnerUnitIn) -> UnitData:
    return UnitData(
        name=body.name,
        kind=body.kind,
        email=body.email,
        municipalities=tuple(body.municipalities),
        active=body.active,
    )


@operation("The partner units routings go to", tag=TAG, response=PartnerUnitList)
@requires_role(Role.ADMIN)
async def list_api(request: web.Request) -> web.Response:
    async with request.app[deps_key].sessions() as session:
        units = await partner_units.list_units(session)
    return json_model(PartnerUnitList(items=[_out(u) for u in units]))


@operation(
    "Add a partner unit (a municipality has at most one active unit)",
    tag=TAG,
    body=PartnerUnitIn,
    response=PartnerUnitOut,
    status=201,
    errors=(400,),
)
@requires_role(Role.ADMIN)
async def create_api(request: web.Request) -> web.Response:
    body = await read_body(request, PartnerUnitIn)
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            unit = await partner_units.create_unit(
                session, _data(body), staff=_staff(request), now=deps.clock.now()
            )
    except UnitInvalid as exc:
        raise FieldError(exc.field, exc.text) from None
    return json_model(_out(unit), status=201)


@operation(
    "Replace a partner unit's settings (deactivate with active: false)",
    tag=TAG,
    body=PartnerUnitIn,
    response=PartnerUnitOut,
    errors=(400, 404),
)
@requires_role(Role.ADMIN)
async def update_api(request: web.Request) -> web.Response:
    unit_id = _id(request)
    body = await read_body(request, PartnerUnitIn)
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            unit = await partner_units.update_unit(
                session, unit_id, _data(body), staff=_staff(request), now=deps.clock.now()
            )
    except UnitInvalid as exc:
        raise FieldError(exc.field, exc.text) from None
    if unit is None:
        raise web.HTTPNotFound(reason="no partner unit has this id")
    return json_model(_out(unit))


def register(app: web.Application) -> None:
    app.router.add_get(LIST_PATH, units_page, name="partner_units")
    app.router.add_post(LIST_PATH, add_unit)
    app.router.add_get(LIST_PATH + r"/{unit_id:\d+}", edit_unit_page)
    app.router.add_post(LIST_PATH + r"/{unit_id:\d+}", save_unit)
    app.router.add_post(LIST_PATH + r"/{unit_id:\d+}/deactivate", deactivate)
    app.router.add_get("/api/v1/partner-units", list_api)
    app.router.add_post("/api/v1/partner-units", create_api)
    app.router.add_put(r"/api/v1/partner-units/{unit_id:\d+}", update_api)
