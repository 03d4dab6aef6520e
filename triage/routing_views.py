"""Routing pages: hotline staff route a justified case from its page; the recipient unit's
coordinators read and act on their routings.

POST /cases/{id}/routings                 hotline staff: route (legal basis chosen) → 303
GET  /routings                            coordinators: their unit's routings, open ones first
GET  /routings/{id}                       one routing (audited: read_routing)
POST /routings/{id}/acknowledge           routed → acknowledged
POST /routings/{id}/visitation            responsible agency + next step → visited
POST /routings/{id}/close                 visited → closed (handed over)
POST /routings/{id}/return                reason → justified (the wrong unit)
Refusals show the page again with the message, in the reader's language (4xx).
Every routing read and write goes through triage/routing_service.py, whose `in_scope` keeps a
coordinator to their own unit's routings (another unit's answer 404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from access.models import Role, UnitKind
from access.service import Staff, audit
from denmark.municipalities import by_code
from intake.concern_form import FieldProblem
from triage import case_views, routing_service
from triage.labels import refusal_text
from triage.models import NoticeStatus, Routing
from triage.routing import NO_MUNICIPALITY, RoutingRefused, municipality_name
from triage.states import IllegalTransition
from web.appkeys import deps_key
from web.handlers import current_staff
from web.i18n import N_
from web.path_ids import MAX_ID, path_id
from web.policy import requires_role
from web.rendering import add_globals, gettext_for, render, see_other

NOTICE_STATUS_LABELS = {
    NoticeStatus.PENDING: N_("Waiting to be sent"),
    NoticeStatus.SENT: N_("Sent"),
    NoticeStatus.NOT_SENT: N_("Not sent (console mode)"),
    NoticeStatus.FAILED: N_("Failed"),
}
UNIT_KIND_LABELS = {
    UnitKind.COORDINATION_UNIT: N_("Coordination unit"),
    UnitKind.INFOHUS: N_("Infohus"),
}
NO_MUNICIPALITY_TEXT = N_(
    "Record the person's or the reporter's municipality in triage first; then the case can be "
    "routed."
)
NO_UNIT_TEXT = N_(
    "No partner unit covers %(municipality)s. An administrator adds one under Partner units."
)
NOT_FOUND = "no routing has this id"


def _id(request: web.Request, name: str) -> int:
    return path_id(request, name, missing=NOT_FOUND)


def routing_refusal_text(refused: RoutingRefused, gettext: Callable[[str], str]) -> str:
    """Why no unit can be proposed, in the reader's language."""
    if refused.code == NO_MUNICIPALITY or refused.municipality is None:
        return gettext(NO_MUNICIPALITY_TEXT)
    return gettext(NO_UNIT_TEXT) % {"municipality": municipality_name(refused.municipality)}


# --- hotline staff: route from the case page ----------------------------------------------------


@requires_role(Role.HOTLINE)
async def route(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    form = await request.post()
    legal_basis = str(form.get("legal_basis", ""))
    raw_unit = str(form.get("unit_id", ""))
    unit_id = int(raw_unit) if raw_unit.isdigit() and int(raw_unit) <= MAX_ID else None
    gettext = gettext_for(request)
    errors: dict[str, FieldProblem] = {}
    status = 409
    try:
        await routing_service.route(
            request.app[deps_key],
            case_id=case_id,
            legal_basis=legal_basis,
            staff=current_staff(request),
            unit_id=unit_id,
        )
    except routing_service.CaseNotFound:
        raise web.HTTPNotFound(reason="no case has this id") from None
    except routing_service.RoutingFieldInvalid as exc:
        errors[exc.field] = FieldProblem(exc.message)
        status = 400
    except IllegalTransition as exc:
        errors["routing"] = FieldProblem(refusal_text(exc, gettext))
    except RoutingRefused as exc:
        errors["routing"] = FieldProblem(routing_refusal_text(exc, gettext))
    except routing_service.RoutingConflict as exc:
        errors["routing"] = FieldProblem(exc.message)
    if errors:
        # The case page again, with the message by the routing form (its own section).
        return await case_views.show_case(
            request, case_id, status=status, errors=errors, values={"legal_basis": legal_basis}
        )
    return see_other(f"/cases/{case_id}#routing")


# --- the recipient unit -------------------------------------------------------------------------


@requires_role(Role.COORDINATOR)
async def routings_page(request: web.Request) -> web.Response:
    deps = request.app[deps_key]
    staff = current_staff(request)
    async with deps.sessions() as session:
        rows = await routing_service.routings_for(session, staff)
    return render(
        request,
        "triage/routings.html",
        {"rows": rows, "municipalities": by_code(), "has_unit": _has_unit(staff)},
    )


def _has_unit(staff: Staff) -> bool:
    return staff.role is not Role.COORDINATOR or staff.partner_unit_id is not None


async def show_routing(
    request: web.Request,
    routing_id: int,
    *,
    status: int = 200,
    errors: dict[str, FieldProblem] | None = None,
    values: dict[str, str] | None = None,
) -> web.Response:
    deps = request.app[deps_key]
    staff = current_staff(request)
    async with deps.sessions() as session, session.begin():
        try:
            page = await routing_service.routing_page(session, staff, routing_id)
        except routing_service.RoutingNotFound:
            raise web.HTTPNotFound(reason=NOT_FOUND) from None
        audit(
            session,
            at=deps.clock.now(),
            actor=staff,
            action="read_routing",
            subject_kind="routing",
            subject_id=routing_id,
            detail={"case_id": page.case.id},
        )
        context = {
            "page": page,
            "case": page.case,
            "errors": errors or {},
            "values": values or {},
            "municipalities": by_code(),
            "limits": {
                "responsible_agency": routing_service.AGENCY_MAX_CHARS,
                "next_step": routing_service.TEXT_MAX_CHARS,
                "reason": routing_service.TEXT_MAX_CHARS,
            },
        }
        # Rendered inside the session: the routing's encrypted fields are read here.
        return render(request, "triage/routing.html", context, status=status)


@requires_role(Role.COORDINATOR)
async def routing_view(request: web.Request) -> web.Response:
    return await show_routing(request, _id(request, "routing_id"))


Action = Callable[[Staff, int, Any], Awaitable[Routing]]


async def _act(request: web.Request, act: Action, fields: tuple[str, ...]) -> web.Response:
    routing_id = _id(request, "routing_id")
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in fields}
    gettext = gettext_for(request)
    try:
        await act(current_staff(request), routing_id, values)
    except routing_service.RoutingNotFound:
        raise web.HTTPNotFound(reason=NOT_FOUND) from None
    except routing_service.RoutingFieldInvalid as exc:
        return await show_routing(
            request,
            routing_id,
            status=400,
            errors={exc.field: FieldProblem(exc.message)},
            values=values,
        )
    except IllegalTransition as exc:
        problem = FieldProblem(refusal_text(exc, gettext))
        return await show_routing(request, routing_id, status=409, errors={"actions": problem})
    except routing_service.RoutingConflict as exc:
        problem = FieldProblem(exc.message)
        return await show_routing(request, routing_id, status=409, errors={"actions": problem})
    return see_other(f"/routings/{routing_id}")


@requires_role(Role.COORDINATOR)
async def acknowledge(request: web.Request) -> web.Response:
    deps = request.app[deps_key]

    async def act(staff: Staff, routing_id: int, _values: dict[str, str]) -> Routing:
        return await routing_service.acknowledge(deps, staff=staff, routing_id=routing_id)

    return await _act(request, act, ())


@requires_role(Role.COORDINATOR)
async def visitation(request: web.Request) -> web.Response:
    deps = request.app[deps_key]

    async def act(staff: Staff, routing_id: int, values: dict[str, str]) -> Routing:
        return await routing_service.record_visitation(
            deps,
            staff=staff,
            routing_id=routing_id,
            responsible_agency=values["responsible_agency"],
            next_step=values["next_step"],
        )

    return await _act(request, act, ("responsible_agency", "next_step"))


@requires_role(Role.COORDINATOR)
async def close(request: web.Request) -> web.Response:
    deps = request.app[deps_key]

    async def act(staff: Staff, routing_id: int, _values: dict[str, str]) -> Routing:
        return await routing_service.close(deps, staff=staff, routing_id=routing_id)

    return await _act(request, act, ())


@requires_role(Role.COORDINATOR)
async def return_case(request: web.Request) -> web.Response:
    deps = request.app[deps_key]

    async def act(staff: Staff, routing_id: int, values: dict[str, str]) -> Routing:
        return await routing_service.return_to_hotline(
            deps, staff=staff, routing_id=routing_id, reason=values["reason"]
        )

    return await _act(request, act, ("reason",))


def register(app: web.Application) -> None:
    add_globals(
        app,
        legal_bases=app[deps_key].settings.legal_bases,
        notice_status_labels=NOTICE_STATUS_LABELS,
        unit_kind_labels=UNIT_KIND_LABELS,
        routing_refusal_text=routing_refusal_text,
    )
    app.router.add_post(r"/cases/{case_id:\d+}/routings", route)
    app.router.add_get("/routings", routings_page, name="routings")
    app.router.add_get(r"/routings/{routing_id:\d+}", routing_view, name="routing")
    app.router.add_post(r"/routings/{routing_id:\d+}/acknowledge", acknowledge)
    app.router.add_post(r"/routings/{routing_id:\d+}/visitation", visitation)
    app.router.add_post(r"/routings/{routing_id:\d+}/close", close)
    app.router.add_post(r"/routings/{routing_id:\d+}/return", return_case)
