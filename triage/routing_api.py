"""The routing API: legal bases, a case's proposed unit, routing it, and the recipient's actions.

GET  /api/v1/legal-bases                     hotline staff: the labels to choose from
GET  /api/v1/cases/{id}/routing-proposal     hotline staff: the unit the case would go to now
POST /api/v1/cases/{id}/routings             hotline staff: {"legal_basis", "unit_id"?} → 201
GET  /api/v1/routings                        coordinators: their unit's routings, open first
GET  /api/v1/routings/{id}                   one routing (audited: read_routing)
POST /api/v1/routings/{id}/acknowledge       coordinators: routed → acknowledged
POST /api/v1/routings/{id}/visitation        {"responsible_agency", "next_step"} → visited
POST /api/v1/routings/{id}/close             visited → closed (handed over)
POST /api/v1/routings/{id}/return            {"reason"} → justified (the wrong unit)
Illegal moves answer 409 with the state machine's message; another unit's routing 404.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from access.models import Role
from access.service import audit
from triage import routing_service
from triage.models import Case, Routing
from triage.routing import RoutingRefused, municipality_name
from triage.states import IllegalTransition
from web.api import operation, read_body
from web.appkeys import deps_key
from web.handlers import current_staff, json_model
from web.middleware import FieldError
from web.path_ids import path_id
from web.policy import requires_role

TAG = "routing"


class LegalBases(BaseModel):
    items: list[str]


class MunicipalityOut(BaseModel):
    code: int
    name: str


class UnitRef(BaseModel):
    id: int
    name: str


class StaffRef(BaseModel):
    id: int
    name: str | None


class ProposalOut(BaseModel):
    unit: UnitRef
    municipality: MunicipalityOut
    by_reporter_residence: bool = Field(
        description="The person's residence is unknown: the reporter's was used; check it."
    )


class Refusal(BaseModel):
    code: str = Field(description="no_municipality or no_unit")
    message: str


class ProposalAnswer(BaseModel):
    case_id: int
    status: str
    proposal: ProposalOut | None
    refused: Refusal | None


class RouteIn(BaseModel):
    legal_basis: str = Field(description="One of GET /api/v1/legal-bases, as written there.")
    unit_id: int | None = Field(
        default=None,
        description="The unit the caller saw proposed; if the proposal changed since: 409.",
    )


class NoticeOut(BaseModel):
    status: str = Field(description="pending, sent, not_sent (console mode) or failed")
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    error_code: str | None
    error_message: str | None


class Acknowledgement(BaseModel):
    by: StaffRef
    at: datetime


class VisitationOut(BaseModel):
    by: StaffRef
    at: datetime
    responsible_agency: str
    next_step: str


class ReturnOut(BaseModel):
    by: StaffRef
    at: datetime
    reason: str


class ClosingOut(BaseModel):
    by: StaffRef
    at: datetime


class RoutingOut(BaseModel):
    id: int
    case_id: int
    case_reference: str
    case_status: str
    acute: bool
    hotline: str
    received_at: datetime = Field(description="When the concern reached the hotline.")
    unit: UnitRef
    municipality: MunicipalityOut
    by_reporter_residence: bool
    legal_basis: str
    sent_by: StaffRef
    sent_at: datetime
    notice: NoticeOut
    acknowledged: Acknowledgement | None
    visitation: VisitationOut | None
    returned: ReturnOut | None
    closed: ClosingOut | None


class RoutingList(BaseModel):
    items: list[RoutingOut]


class VisitationIn(BaseModel):
    responsible_agency: str = Field(max_length=routing_service.AGENCY_MAX_CHARS)
    next_step: str = Field(max_length=routing_service.TEXT_MAX_CHARS)


class ReturnIn(BaseModel):
    reason: str = Field(max_length=routing_service.TEXT_MAX_CHARS)


def _id(request: web.Request, name: str) -> int:
    return path_id(request, name, missing="no such id")


def _municipality(code: int) -> MunicipalityOut:
    return MunicipalityOut(code=code, name=municipality_name(code))


def _conflict(code: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": 409, "message": message, "reason": code}}, status=409
    )


def routing_out(
    routing: Routing, case: Case, *, unit_name: str, staff_names: dict[int, str]
) -> RoutingOut:
    def person(staff_id: int) -> StaffRef:
        return StaffRef(id=staff_id, name=staff_names.get(staff_id))

    r = routing
    return RoutingOut(
        id=r.id,
        case_id=case.id,
        case_reference=case.reference,
        case_status=case.status.value,
        acute=case.is_acute,
        hotline=case.hotline_id,
        received_at=case.received_at,
        unit=UnitRef(id=r.unit_id, name=unit_name),
        municipality=_municipality(r.municipality),
        by_reporter_residence=r.by_reporter_residence,
        legal_basis=r.legal_basis,
        sent_by=person(r.sent_by),
        sent_at=r.sent_at,
        notice=NoticeOut(
            status=r.notice_status.value,
            attempts=r.notice_attempts,
            next_attempt_at=r.notice_next_attempt_at,
            sent_at=r.notice_sent_at,
            error_code=r.notice_error_code,
            error_message=r.notice_error_message,
        ),
        acknowledged=Acknowledgement(by=person(r.acknowledged_by), at=r.acknowledged_at)
        if r.acknowledged_by is not None and r.acknowledged_at is not None
        else None,
        visitation=VisitationOut(
            by=person(r.visited_by),
            at=r.visited_at,
            responsible_agency=r.responsible_agency or "",
            next_step=r.next_step or "",
        )
        if r.visited_by is not None and r.visited_at is not None
        else None,
        returned=ReturnOut(by=person(r.returned_by), at=r.returned_at, reason=r.return_reason or "")
        if r.returned_by is not None and r.returned_at is not None
        else None,
        closed=ClosingOut(by=person(r.closed_by), at=r.closed_at)
        if r.closed_by is not None and r.closed_at is not None
        else None,
    )


# --- hotline staff ------------------------------------------------------------------------------


@operation("The legal bases to choose from when routing a case", tag=TAG, response=LegalBases)
@requires_role(Role.HOTLINE)
async def legal_bases(request: web.Request) -> web.Response:
    return json_model(LegalBases(items=list(request.app[deps_key].settings.legal_bases)))


@operation(
    "The partner unit a case would be routed to now, or why none can be proposed",
    tag=TAG,
    response=ProposalAnswer,
    errors=(404,),
)
@requires_role(Role.HOTLINE)
async def proposal(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    async with request.app[deps_key].sessions() as session:
        case = await session.get(Case, case_id)
        if case is None:
            raise web.HTTPNotFound(reason="no case has this id")
        try:
            found = await routing_service.proposal_for(session, case)
        except RoutingRefused as exc:
            return json_model(
                ProposalAnswer(
                    case_id=case.id,
                    status=case.status.value,
                    proposal=None,
                    refused=Refusal(code=exc.code, message=exc.message),
                )
            )
    return json_model(
        ProposalAnswer(
            case_id=case.id,
            status=case.status.value,
            proposal=ProposalOut(
                unit=UnitRef(id=found.unit_id, name=found.unit_name),
                municipality=_municipality(found.municipality),
                by_reporter_residence=found.by_reporter_residence,
            ),
            refused=None,
        )
    )


@operation(
    "Route a justified case to its proposed partner unit; the unit's mailbox is told by e-mail",
    tag=TAG,
    body=RouteIn,
    response=RoutingOut,
    status=201,
    errors=(400, 404, 409),
)
@requires_role(Role.HOTLINE)
async def route(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    body = await read_body(request, RouteIn)
    deps = request.app[deps_key]
    staff = current_staff(request)
    try:
        routing = await routing_service.route(
            deps, case_id=case_id, legal_basis=body.legal_basis, staff=staff, unit_id=body.unit_id
        )
    except routing_service.CaseNotFound:
        raise web.HTTPNotFound(reason="no case has this id") from None
    except routing_service.RoutingFieldInvalid as exc:
        raise FieldError(exc.field, exc.message) from None
    except IllegalTransition as exc:
        return _conflict("illegal_transition", exc.message)
    except RoutingRefused as exc:
        return _conflict(exc.code, exc.message)
    except routing_service.RoutingConflict as exc:
        return _conflict(exc.code, exc.message)
    return await _answer(request, routing.id, status=201, audited=False)


# --- reading routings ---------------------------------------------------------------------------


@operation(
    "The routings of the caller's unit (coordinators), open ones first, newest first",
    tag=TAG,
    response=RoutingList,
)
@requires_role(Role.COORDINATOR)
async def list_routings(request: web.Request) -> web.Response:
    staff = current_staff(request)
    async with request.app[deps_key].sessions() as session:
        rows = await routing_service.routings_for(session, staff)
        names = await routing_service.staff_names_for(session, [r.routing for r in rows])
    items = [routing_out(r.routing, r.case, unit_name=r.unit_name, staff_names=names) for r in rows]
    return json_model(RoutingList(items=items))


@operation(
    "One routing, as its recipient sees it (audited)",
    tag=TAG,
    response=RoutingOut,
    errors=(404,),
)
@requires_role(Role.HOTLINE, Role.COORDINATOR)
async def get_routing(request: web.Request) -> web.Response:
    return await _answer(request, _id(request, "routing_id"))


async def _answer(
    request: web.Request, routing_id: int, *, status: int = 200, audited: bool = True
) -> web.Response:
    deps = request.app[deps_key]
    staff = current_staff(request)
    async with deps.sessions() as session, session.begin():
        try:
            page = await routing_service.routing_page(session, staff, routing_id)
        except routing_service.RoutingNotFound:
            raise web.HTTPNotFound(reason="no routing has this id") from None
        if audited:
            audit(
                session,
                at=deps.clock.now(),
                actor=staff,
                action="read_routing",
                subject_kind="routing",
                subject_id=routing_id,
                detail={"case_id": page.case.id},
            )
        answer = routing_out(
            page.routing, page.case, unit_name=page.unit.name, staff_names=page.staff_names
        )
    return json_model(answer, status=status)


# --- the recipient unit's actions ---------------------------------------------------------------


@operation(
    "Acknowledge receipt of a routing (routed → acknowledged)",
    tag=TAG,
    response=RoutingOut,
    errors=(404, 409),
)
@requires_role(Role.COORDINATOR)
async def acknowledge(request: web.Request) -> web.Response:
    routing_id = _id(request, "routing_id")
    return await _recipient_act(
        request,
        routing_id,
        routing_service.acknowledge(
            request.app[deps_key], staff=current_staff(request), routing_id=routing_id
        ),
    )


@operation(
    "Record the visitation: the responsible agency and the next step (acknowledged → visited)",
    tag=TAG,
    body=VisitationIn,
    response=RoutingOut,
    errors=(400, 404, 409),
)
@requires_role(Role.COORDINATOR)
async def visitation(request: web.Request) -> web.Response:
    routing_id = _id(request, "routing_id")
    body = await read_body(request, VisitationIn)
    return await _recipient_act(
        request,
        routing_id,
        routing_service.record_visitation(
            request.app[deps_key],
            staff=current_staff(request),
            routing_id=routing_id,
            responsible_agency=body.responsible_agency,
            next_step=body.next_step,
        ),
    )


@operation(
    "Close the case as handed over to the responsible agency (visited → closed)",
    tag=TAG,
    response=RoutingOut,
    errors=(404, 409),
)
@requires_role(Role.COORDINATOR)
async def close(request: web.Request) -> web.Response:
    routing_id = _id(request, "routing_id")
    return await _recipient_act(
        request,
        routing_id,
        routing_service.close(
            request.app[deps_key], staff=current_staff(request), routing_id=routing_id
        ),
    )


@operation(
    "Return the case as routed to the wrong unit, with the reason (routed → justified)",
    tag=TAG,
    body=ReturnIn,
    response=RoutingOut,
    errors=(400, 404, 409),
)
@requires_role(Role.COORDINATOR)
async def return_case(request: web.Request) -> web.Response:
    routing_id = _id(request, "routing_id")
    body = await read_body(request, ReturnIn)
    return await _recipient_act(
        request,
        routing_id,
        routing_service.return_to_hotline(
            request.app[deps_key],
            staff=current_staff(request),
            routing_id=routing_id,
            reason=body.reason,
        ),
    )


_ANSWERED = (
    routing_service.RoutingNotFound,
    routing_service.RoutingFieldInvalid,
    routing_service.RoutingConflict,
    IllegalTransition,
)


def _refused(exc: Exception) -> web.Response:
    if isinstance(exc, routing_service.RoutingNotFound):
        raise web.HTTPNotFound(reason="no routing has this id")
    if isinstance(exc, routing_service.RoutingFieldInvalid):
        raise FieldError(exc.field, exc.message)
    if isinstance(exc, routing_service.RoutingConflict):
        return _conflict(exc.code, exc.message)
    if isinstance(exc, IllegalTransition):
        return _conflict("illegal_transition", exc.message)
    raise exc


async def _recipient_act(
    request: web.Request, routing_id: int, act: Awaitable[object]
) -> web.Response:
    """Run one of the recipient unit's actions; answer the routing as it is now, or the refusal."""
    try:
        await act
    except _ANSWERED as exc:
        return _refused(exc)
    return await _answer(request, routing_id, audited=False)


def register(app: web.Application) -> None:
    app.router.add_get("/api/v1/legal-bases", legal_bases)
    app.router.add_get(r"/api/v1/cases/{case_id:\d+}/routing-proposal", proposal)
    app.router.add_post(r"/api/v1/cases/{case_id:\d+}/routings", route)
    app.router.add_get("/api/v1/routings", list_routings)
    app.router.add_get(r"/api/v1/routings/{routing_id:\d+}", get_routing)
    app.router.add_post(r"/api/v1/routings/{routing_id:\d+}/acknowledge", acknowledge)
    app.router.add_post(r"/api/v1/routings/{routing_id:\d+}/visitation", visitation)
    app.router.add_post(r"/api/v1/routings/{routing_id:\d+}/close", close)
    app.router.add_post(r"/api/v1/routings/{routing_id:\d+}/return", return_case)
