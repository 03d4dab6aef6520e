"""The case as JSON, and the case page's actions as API calls.

GET  /api/v1/cases/{id}                               summary (audited: read_case)
GET  /api/v1/cases/{id}/timeline                      events, oldest first (audited: read_case)
GET  /api/v1/cases/{id}/notes                         internal notes (audited: read_case)
POST /api/v1/cases/{id}/notes                         {"body"} → 201 the note
POST /api/v1/cases/{id}/contacts/{contact_id}/move    {"to_reference"} → the move
POST /api/v1/cases/{id}/merge                         {"into_reference"} → the merge
POST /api/v1/cases/{id}/status                        {"status", "reason", "note"} → the summary
Hotline role, like the case page. A bad field is a 400 naming it; a move the case's status
does not allow is a 409 with the state machine's reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import Role, StaffUser
from access.service import audit
from intake.models import Contact
from triage import manual_status, moves, notes, states
from triage.case_views import _id
from triage.models import Case, CaseEvent, CaseNote, CloseReason, Deadline
from triage.timeline_view import EVENT_LABELS
from web.api import operation, read_body
from web.appkeys import deps_key, staff_key
from web.handlers import current_staff, json_model
from web.middleware import FieldError
from web.policy import requires_role

TAG = "cases"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StaffRef(BaseModel):
    id: int
    name: str


class CaseRef(BaseModel):
    id: int
    reference: str


class DeadlineOut(BaseModel):
    kind: str
    clock_mode: str = Field(
        description="calendar or business_hours: how due_at was counted (kept as it was given)"
    )
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    overdue: bool


class CaseSummary(BaseModel):
    id: int
    reference: str
    status: str
    closed_reason: str | None
    closed_at: datetime | None
    # The case it was merged into, when closed as merged.
    merged_into: CaseRef | None
    hotline: str
    channel: str
    reporter_role: str
    received_at: datetime
    acute: bool
    assignee: StaffRef | None
    deadlines: list[DeadlineOut]
    contact_ids: list[int]


class ActorOut(BaseModel):
    kind: Literal["staff", "system", "reporter"]
    id: int | None
    name: str | None


class EventOut(BaseModel):
    id: int
    at: datetime
    kind: str
    # The kind in English words (the case page shows it in the reader's language).
    label: str
    actor: ActorOut
    contact_id: int | None
    # Ids and codes only, never personal data (a note's text is under /notes).
    detail: dict[str, Any]


class Timeline(BaseModel):
    case_id: int
    items: list[EventOut]


class NoteIn(_Strict):
    body: str = Field(min_length=1, max_length=notes.MAX_NOTE_CHARS)


class NoteOut(BaseModel):
    id: int
    case_id: int
    at: datetime
    author: StaffRef
    body: str


class NoteList(BaseModel):
    case_id: int
    items: list[NoteOut]


class MoveIn(_Strict):
    to_reference: str = Field(min_length=1, max_length=moves.MAX_REFERENCE_CHARS)


class MergeIn(_Strict):
    into_reference: str = Field(min_length=1, max_length=moves.MAX_REFERENCE_CHARS)


class Moved(BaseModel):
    contact_ids: list[int]
    # The case the contacts left; closed as merged when it was left without contacts.
    source: CaseSummary
    target: CaseSummary
    # What the target took from the source because it was earlier ("received", "acute",
    # deadline kinds).
    brought_forward: list[str]


class StatusIn(_Strict):
    status: Literal["closed", "in_triage"]
    reason: Literal["no_concern"] | None = None
    # Required to reopen; kept as an internal note on the case.
    note: str | None = Field(default=None, max_length=notes.MAX_NOTE_CHARS)


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids))
    )
    return dict(rows.all())


async def summary(session: AsyncSession, case: Case, *, now: datetime) -> CaseSummary:
    deadlines = await session.scalars(
        select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.started_at)
    )
    contact_ids = await session.scalars(
        select(Contact.id).where(Contact.case_id == case.id).order_by(Contact.id)
    )
    merged_into = None
    if case.closed_reason is CloseReason.MERGED:
        closing = await session.scalar(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind == "status_changed")
            .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
            .limit(1)
        )
        into = closing.detail.get("into_case") if closing is not None else None
        if isinstance(into, int):
            reference = await session.scalar(select(Case.reference).where(Case.id == into))
            merged_into = CaseRef(id=into, reference=reference or "")
    assignee = None
    if case.assignee_id is not None:
        names = await _names(session, {case.assignee_id})
        assignee = StaffRef(id=case.assignee_id, name=names.get(case.assignee_id, ""))
    return CaseSummary(
        id=case.id,
        reference=case.reference,
        status=case.status.value,
        closed_reason=case.closed_reason.value if case.closed_reason else None,
        closed_at=case.closed_at,
        merged_into=merged_into,
        hotline=case.hotline_id,
        channel=case.channel.value,
        reporter_role=case.reporter_role.value,
        received_at=case.received_at,
        acute=case.is_acute,
        assignee=assignee,
        deadlines=[
            DeadlineOut(
                kind=d.kind.value,
                clock_mode=d.clock_mode.value,
                started_at=d.started_at,
                due_at=d.due_at,
                met_at=d.met_at,
                overdue=d.met_at is None and d.due_at <= now,
            )
            for d in deadlines
        ],
        contact_ids=list(contact_ids),
    )


def _audit_read(session: AsyncSession, request: web.Request, case_id: int, part: str) -> None:
    audit(
        session,
        at=request.app[deps_key].clock.now(),
        actor=request[staff_key],
        action="read_case",
        subject_kind="case",
        subject_id=case_id,
        detail={"via": "api", "part": part},
    )


@operation(
    "A case: status, hotline, channel, receipt, assignee, deadlines and contact ids",
    tag=TAG,
    response=CaseSummary,
    errors=(401, 403, 404),
)
@requires_role(Role.HOTLINE)
async def case_summary(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        case = await session.get(Case, case_id)
        if case is None:
            raise web.HTTPNotFound(reason="no case has this id")
        found = await summary(session, case, now=deps.clock.now())
        _audit_read(session, request, case_id, "summary")
    return json_model(found)


@operation(
    "A case's timeline: every event with its actor, kind, time and detail, oldest first",
    tag=TAG,
    response=Timeline,
    errors=(401, 403, 404),
)
@requires_role(Role.HOTLINE)
async def timeline(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        if await session.get(Case, case_id) is None:
            raise web.HTTPNotFound(reason="no case has this id")
        events = list(
            await session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.at, CaseEvent.id)
            )
        )
        names = await _names(session, {e.actor_id for e in events if e.actor_id is not None})
        _audit_read(session, request, case_id, "timeline")
    items = [
        EventOut(
            id=e.id,
            at=e.at,
            kind=e.kind,
            label=EVENT_LABELS.get(e.kind, e.kind.replace("_", " ").capitalize()),
            actor=ActorOut(
                kind=e.actor_kind.value,
                id=e.actor_id,
                name=names.get(e.actor_id) if e.actor_id is not None else None,
            ),
            contact_id=e.contact_id,
            detail=dict(e.detail or {}),
        )
        for e in events
    ]
    return json_model(Timeline(case_id=case_id, items=items))


def _note_out(note: CaseNote, names: dict[int, str]) -> NoteOut:
    return NoteOut(
        id=note.id,
        case_id=note.case_id,
        at=note.at,
        author=StaffRef(id=note.author_id, name=names.get(note.author_id, "")),
        body=note.body,
    )


@operation(
    "A case's internal notes, oldest first",
    tag=TAG,
    response=NoteList,
    errors=(401, 403, 404),
)
@requires_role(Role.HOTLINE)
async def list_notes(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        if await session.get(Case, case_id) is None:
            raise web.HTTPNotFound(reason="no case has this id")
        found = await notes.notes_for_case(session, case_id)
        names = await _names(session, {n.author_id for n in found})
        _audit_read(session, request, case_id, "notes")
        # Decrypted inside the session.
        items = [_note_out(n, names) for n in found]
    return json_model(NoteList(case_id=case_id, items=items))


@operation(
    "Add an internal note to a case (staff only; never shown to the reporter)",
    tag=TAG,
    body=NoteIn,
    response=NoteOut,
    status=201,
    errors=(400, 401, 403, 404),
)
@requires_role(Role.HOTLINE)
async def add_note(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    posted = await read_body(request, NoteIn)
    deps = request.app[deps_key]
    staff_id = current_staff(request).id
    try:
        async with deps.sessions() as session, session.begin():
            note = await notes.add_note(
                session, case_id, posted.body, staff_id=staff_id, now=deps.clock.now()
            )
            names = await _names(session, {staff_id})
            created = _note_out(note, names)
    except notes.NoteInvalid as exc:
        raise FieldError("body", str(exc)) from None
    except notes.CaseNotFound:
        raise web.HTTPNotFound(reason="no case has this id") from None
    return json_model(created, status=201)


def _refused(exc: moves.MoveRefused, field: str) -> Exception:
    if exc.code == moves.STATUS:
        return web.HTTPConflict(reason=exc.message)
    status = 409 if exc.code == moves.TARGET_CLOSED else 400
    return FieldError(field, exc.message, status)


async def _moved(session: AsyncSession, done: moves.Moved, now: datetime) -> Moved:
    assert done.source is not None
    return Moved(
        contact_ids=done.contact_ids,
        source=await summary(session, done.source, now=now),
        target=await summary(session, done.target, now=now),
        brought_forward=done.brought_forward,
    )


async def _move(
    request: web.Request,
    move: Callable[[AsyncSession, int, datetime], Awaitable[moves.Moved]],
    field: str,
) -> web.Response:
    """A move or a merge in one transaction; a refusal names `field` (the reference posted)."""
    deps = request.app[deps_key]
    now = deps.clock.now()
    try:
        async with deps.sessions() as session, session.begin():
            done = await move(session, current_staff(request).id, now)
            answer = await _moved(session, done, now)
    except moves.NotFound as exc:
        raise web.HTTPNotFound(reason=str(exc)) from None
    except moves.MoveRefused as exc:
        raise _refused(exc, field) from None
    return json_model(answer)


@operation(
    "Move a contact of this case to another open case, chosen by its exact reference",
    tag=TAG,
    body=MoveIn,
    response=Moved,
    errors=(400, 401, 403, 404, 409),
)
@requires_role(Role.HOTLINE)
async def move_contact(request: web.Request) -> web.Response:
    """The contact's open link proposals are closed as superseded. A case left without contacts
    is closed as merged; if its status does not allow that (e.g. routed), 409, nothing changes."""
    case_id = _id(request, "case_id")
    contact_id = _id(request, "contact_id")
    posted = await read_body(request, MoveIn)

    def move(session: AsyncSession, staff_id: int, now: datetime) -> Awaitable[moves.Moved]:
        return moves.move_contact(
            session,
            case_id,
            contact_id,
            to_reference=posted.to_reference,
            staff_id=staff_id,
            now=now,
        )

    return await _move(request, move, "to_reference")


@operation(
    "Merge this case into another open case about the same person, chosen by its reference",
    tag=TAG,
    body=MergeIn,
    response=Moved,
    errors=(400, 401, 403, 404, 409),
)
@requires_role(Role.HOTLINE)
async def merge(request: web.Request) -> web.Response:
    """All contacts move to the other case, which keeps the earlier receipt time, queue due time
    and open deadlines of the two; this case is closed as merged, pointing there. One
    transaction; 409 if this case's status does not allow closing it as merged."""
    case_id = _id(request, "case_id")
    posted = await read_body(request, MergeIn)

    def merge(session: AsyncSession, staff_id: int, now: datetime) -> Awaitable[moves.Moved]:
        return moves.merge_cases(
            session, case_id, into_reference=posted.into_reference, staff_id=staff_id, now=now
        )

    return await _move(request, merge, "into_reference")


@operation(
    "Close a case with nothing to triage (no_concern), or reopen a closed case (with a note)",
    tag=TAG,
    body=StatusIn,
    response=CaseSummary,
    errors=(400, 401, 403, 404, 409),
)
@requires_role(Role.HOTLINE)
async def change_status(request: web.Request) -> web.Response:
    """The moves triage and routing do not own. Reopening returns the case to triage with a
    fresh triage deadline; its note is kept as an internal note. A move the case's status does
    not allow: 409 with the state machine's reason."""
    case_id = _id(request, "case_id")
    posted = await read_body(request, StatusIn)
    deps = request.app[deps_key]
    now = deps.clock.now()
    try:
        wanted = manual_status.parse(posted.status, posted.reason, posted.note)
        async with deps.sessions() as session, session.begin():
            case = await manual_status.change(
                session,
                case_id,
                wanted,
                staff_id=current_staff(request).id,
                now=now,
            )
            if case is None:
                raise web.HTTPNotFound(reason="no case has this id")
            answer = await summary(session, case, now=now)
    except manual_status.StatusRequestInvalid as exc:
        raise FieldError(exc.field, exc.message) from None
    except (states.IllegalTransition, manual_status.NotThisForm) as exc:
        raise FieldError("status", exc.message, 409) from None
    return json_model(answer)


def register(app: web.Application) -> None:
    app.router.add_get(r"/api/v1/cases/{case_id:\d+}", case_summary, name="api_case")
    app.router.add_get(r"/api/v1/cases/{case_id:\d+}/timeline", timeline)
    app.router.add_get(r"/api/v1/cases/{case_id:\d+}/notes", list_notes)
    app.router.add_post(r"/api/v1/cases/{case_id:\d+}/notes", add_note)
    app.router.add_post(r"/api/v1/cases/{case_id:\d+}/contacts/{contact_id:\d+}/move", move_contact)
    app.router.add_post(r"/api/v1/cases/{case_id:\d+}/merge", merge)
    app.router.add_post(r"/api/v1/cases/{case_id:\d+}/status", change_status)
