"""Claiming and assigning cases, from the pages and over the API (hotline staff only).

POST /cases/{id}/claim               page form (csrf_token, next) → 303 back to `next`
POST /cases/{id}/assignee            page form (assignee_id: a staff id, or empty to unassign)
POST /api/v1/cases/{id}/claim        → the case's queue row; 409 naming who has it
PUT  /api/v1/cases/{id}/assignee     {"assignee_id": int | null} → the case's queue row
Refused on a page: a page in the user's language with the reason and a way back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, StrictInt
from sqlalchemy.ext.asyncio import AsyncSession

from access.guard import safe_next
from access.models import Role
from triage import assignment
from triage.queue import case_row
from triage.views import QueueItem, at_risk_window, row_json
from web.api import operation, read_body
from web.appkeys import deps_key
from web.handlers import current_staff
from web.i18n import N_
from web.middleware import FieldError
from web.path_ids import path_id
from web.policy import requires_role
from web.rendering import gettext_for, render, see_other

REFUSALS = {
    assignment.CaseNotFound.code: N_("This case does not exist."),
    assignment.CaseClosed.code: N_("This case is closed, so it cannot be assigned."),
    assignment.ChangedMeanwhile.code: N_("The case changed while you tried. Please try again."),
    assignment.NotAnAssignee.code: N_(
        "Choose a colleague from the list: only active hotline staff can be assigned a case."
    ),
}
HELD_BY = N_("%(name)s is already handling this case.")


class AssigneeBody(BaseModel):
    # Required, and null on purpose: `{"assignee_id": null}` unassigns.
    assignee_id: StrictInt | None


def _case_id(request: web.Request) -> int:
    return path_id(request, "case_id", missing="no such case")


# One of assignment's changes, bound to a case: (session, acting staff id, now) → changed?
Change = Callable[[AsyncSession, int, datetime], Awaitable[bool]]


def claiming(case_id: int) -> Change:
    return lambda session, staff_id, now: assignment.claim(
        session, case_id, staff_id=staff_id, now=now
    )


def assigning(case_id: int, assignee_id: int | None) -> Change:
    if assignee_id is None:
        return lambda session, staff_id, now: assignment.unassign(
            session, case_id, staff_id=staff_id, now=now
        )
    return lambda session, staff_id, now: assignment.assign(
        session, case_id, assignee_id=assignee_id, staff_id=staff_id, now=now
    )


async def _change(request: web.Request, change: Change) -> bool:
    """The change in one transaction, by the logged-in staff member, at the clock's time."""
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        return await change(session, current_staff(request).id, deps.clock.now())


# --- pages --------------------------------------------------------------------------------


def _refused_page(
    request: web.Request, refusal: assignment.AssignmentRefused, back: str
) -> web.Response:
    gettext = gettext_for(request)
    if isinstance(refusal, assignment.HeldByOther):
        message = gettext(HELD_BY) % {"name": refusal.name}
        status = 409
    else:
        message = gettext(REFUSALS.get(refusal.code, REFUSALS[assignment.CaseNotFound.code]))
        status = {"not_found": 404, "closed": 409, "changed": 409}.get(refusal.code, 400)
    return render(
        request,
        "triage/assignment_refused.html",
        {"message": message, "back": back},
        status=status,
    )


async def _page_change(request: web.Request, case_id: int, change: Change) -> web.Response:
    back = safe_next(str((await request.post()).get("next", "")) or f"/cases/{case_id}")
    try:
        await _change(request, change)
    except assignment.AssignmentRefused as refusal:
        return _refused_page(request, refusal, back)
    return see_other(back)


@requires_role(Role.HOTLINE)
async def claim_page(request: web.Request) -> web.Response:
    case_id = _case_id(request)
    return await _page_change(request, case_id, claiming(case_id))


@requires_role(Role.HOTLINE)
async def assignee_page(request: web.Request) -> web.Response:
    case_id = _case_id(request)
    raw = str((await request.post()).get("assignee_id", "")).strip()
    if raw and not (raw.isascii() and raw.isdigit()):
        return _refused_page(request, assignment.NotAnAssignee(raw), f"/cases/{case_id}")
    return await _page_change(request, case_id, assigning(case_id, int(raw) if raw else None))


# --- API ----------------------------------------------------------------------------------


async def _api_change(request: web.Request, case_id: int, change: Change) -> web.Response:
    try:
        await _change(request, change)
    except assignment.HeldByOther as held:
        raise FieldError(
            "assignee_id",
            f"already assigned to {held.name} (staff id {held.staff_id}); "
            "assign it explicitly to take it over",
            status=409,
        ) from None
    except assignment.CaseNotFound:
        raise web.HTTPNotFound(reason="no case has this id") from None
    except assignment.CaseClosed:
        raise web.HTTPConflict(reason="the case is closed") from None
    except assignment.ChangedMeanwhile:
        raise web.HTTPConflict(reason="the case changed meanwhile; try again") from None
    except assignment.NotAnAssignee:
        raise FieldError(
            "assignee_id", "must be the id of an active staff member with the hotline role"
        ) from None
    deps = request.app[deps_key]
    async with deps.sessions() as session:
        row = await case_row(session, case_id)
    if row is None:
        raise web.HTTPNotFound(reason="no case has this id")
    return web.json_response(
        row_json(row, now=deps.clock.now(), at_risk_window=at_risk_window(request))
    )


@requires_role(Role.HOTLINE)
@operation(
    "Claim a case: assign it to me if nobody has it (409 names who does)",
    tag="cases",
    response=QueueItem,
    errors=(401, 403, 404, 409),
)
async def claim_api(request: web.Request) -> web.Response:
    case_id = _case_id(request)
    return await _api_change(request, case_id, claiming(case_id))


@requires_role(Role.HOTLINE)
@operation(
    "Assign a case to an active hotline colleague, or unassign it (assignee_id null)",
    tag="cases",
    body=AssigneeBody,
    response=QueueItem,
    errors=(400, 401, 403, 404, 409),
)
async def assignee_api(request: web.Request) -> web.Response:
    case_id = _case_id(request)
    body = await read_body(request, AssigneeBody)
    return await _api_change(request, case_id, assigning(case_id, body.assignee_id))


def register(app: web.Application) -> None:
    app.router.add_post(r"/cases/{case_id:\d+}/claim", claim_page, name="case_claim")
    app.router.add_post(r"/cases/{case_id:\d+}/assignee", assignee_page, name="case_assignee")
    app.router.add_post(r"/api/v1/cases/{case_id:\d+}/claim", claim_api, name="api_case_claim")
    app.router.add_put(
        r"/api/v1/cases/{case_id:\d+}/assignee", assignee_api, name="api_case_assignee"
    )
