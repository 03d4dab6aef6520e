"""The staff queue: the page, its live rows, its JSON API, and finding a case.

GET  /queue                the page: filters (?hotline=&channel=&status=&assignee=&due=),
                           search, deadline counts, one keyset page of rows (?cursor=)
GET  /queue/rows           the page's rows alone, for web/static/queue.js to swap in live
POST /queue/search         a reference or receipt code → 303 to the case; else the page, 404
GET  /api/v1/queue         the same rows as JSON
POST /api/v1/cases/search  {"query": …} → the case's row, or 404
The live stream is triage/queue_stream.py; claiming and assigning triage/assignment_views.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import Role
from intake.models import Channel, Hotline, ReporterRole
from notifications import alert_read
from triage import search
from triage.assignment import Assignee, eligible_assignees
from triage.labels import CLOCK_MODE_LABELS, CLOSE_REASON_LABELS, STATUS_LABELS
from triage.models import CaseStatus, ClockMode, DeadlineKind
from triage.queue import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    CursorForOtherFilters,
    DeadlineCounts,
    InvalidCursor,
    QueuePage,
    QueuePosition,
    QueueRow,
    case_row,
    deadline_counts,
    deadline_state,
    decode_cursor,
    open_cases,
)
from triage.queue_filters import (
    FILTER_NAMES,
    MINE,
    UNASSIGNED,
    Due,
    InvalidFilter,
    QueueFilters,
    parse_filters,
)
from web.api import operation, read_body
from web.appkeys import deps_key, language_key, staff_key
from web.i18n import DEFAULT_LANGUAGE, N_
from web.middleware import FieldError
from web.policy import requires_role
from web.rendering import add_globals, gettext_for, render, see_other

# Names the pages show for stored values (translated when shown).
CHANNEL_NAMES = {
    Channel.WEB_FORM: N_("Web form"),
    Channel.PHONE: N_("Phone"),
    Channel.SMS: N_("SMS"),
    Channel.WHATSAPP: N_("WhatsApp"),
    Channel.WEB_CHAT: N_("Web chat"),
}
ROLE_NAMES = {
    ReporterRole.PROFESSIONAL: N_("Professional"),
    ReporterRole.RELATIVE: N_("Relative"),
    ReporterRole.FRIEND: N_("Friend"),
    ReporterRole.OTHER: N_("Other"),
    ReporterRole.UNKNOWN: N_("Unknown"),
}

DAYS = N_("%(count)d d")
HOURS = N_("%(count)d h")
MINUTES = N_("%(count)d min")

CHOOSE_ONE_OF = N_("Choose one of: %(choices)s.")
CHOOSE_ASSIGNEE = N_("Choose mine, unassigned or a staff member's number.")
LIMIT_RANGE = N_("Show 1 to %(limit)d cases per page.")
CURSOR_INVALID = N_("This page link is not valid. Start again from the first page.")
CURSOR_OTHER_FILTERS = N_(
    "This page link belongs to other filters. Start again from the first page."
)
SEARCH_EMPTY = N_("Type a case reference or a receipt code.")
SEARCH_NOT_FOUND = N_("No case has this reference or receipt code.")
SEARCH_PENDING = N_(
    "The report with this receipt code is still being taken in. Try again in a minute."
)


def duration_text(seconds: float, gettext: Callable[[str], str]) -> str:
    """`3 h 20 min`, `45 min`, `2 d 5 h`: whole minutes, rounded down (queue.js does the same)."""
    minutes = int(abs(seconds) // 60)
    hours, rest = divmod(minutes, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{gettext(DAYS) % {'count': days}} {gettext(HOURS) % {'count': hours}}"
    if hours:
        return f"{gettext(HOURS) % {'count': hours}} {gettext(MINUTES) % {'count': rest}}"
    return gettext(MINUTES) % {"count": rest}


# --- reading the query --------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What is wrong with a request field: words for the page (translated) and for the API."""

    field: str
    message: str
    api_message: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def text(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.message) % self.params if self.params else gettext(self.message)


class BadQueueRequest(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.field)
        self.problem = problem


@dataclass(frozen=True)
class QueueRequest:
    filters: QueueFilters
    after: QueuePosition | None
    limit: int


def _filter_problem(exc: InvalidFilter) -> Problem:
    if exc.choices is None:
        return Problem(exc.field, CHOOSE_ASSIGNEE, "must be mine, unassigned or a staff id")
    choices = ", ".join(exc.choices)
    return Problem(exc.field, CHOOSE_ONE_OF, f"must be one of: {choices}", {"choices": choices})


def _queue_request(request: web.Request, hotlines: Collection[str]) -> QueueRequest:
    try:
        filters = parse_filters(request.query, hotlines=hotlines)
    except InvalidFilter as exc:
        raise BadQueueRequest(_filter_problem(exc)) from None
    raw_limit = request.query.get("limit", str(DEFAULT_PAGE_SIZE))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE_SIZE:
        raise BadQueueRequest(
            Problem(
                "limit",
                LIMIT_RANGE,
                f"must be a whole number from 1 to {MAX_PAGE_SIZE}",
                {"limit": MAX_PAGE_SIZE},
            )
        )
    cursor = request.query.get("cursor")
    try:
        after = decode_cursor(cursor, filters) if cursor else None
    except CursorForOtherFilters:
        raise BadQueueRequest(
            Problem(
                "cursor",
                CURSOR_OTHER_FILTERS,
                "was given out for other filters; use it with the filters it came with, "
                "or start without one",
            )
        ) from None
    except InvalidCursor:
        raise BadQueueRequest(
            Problem(
                "cursor",
                CURSOR_INVALID,
                "is not a cursor this queue gave out; start without one",
            )
        ) from None
    return QueueRequest(filters, after, int(raw_limit))


# --- loading ------------------------------------------------------------------------------


def at_risk_window(request: web.Request) -> timedelta:
    return timedelta(hours=request.app[deps_key].settings.queue_at_risk_hours)


async def _hotlines(session: AsyncSession) -> list[Hotline]:
    return list(await session.scalars(select(Hotline).order_by(Hotline.id)))


@dataclass(frozen=True)
class LoadedQueue:
    page: QueuePage
    counts: DeadlineCounts
    now: datetime


async def _load(request: web.Request, session: AsyncSession, query: QueueRequest) -> LoadedQueue:
    deps = request.app[deps_key]
    staff = request[staff_key]
    now = deps.clock.now()
    window = at_risk_window(request)
    page = await open_cases(
        session,
        filters=query.filters,
        viewer_id=staff.id if staff else None,
        now=now,
        at_risk_window=window,
        after=query.after,
        limit=query.limit,
    )
    counts = await deadline_counts(session, now=now, at_risk_window=window)
    return LoadedQueue(page, counts, now)


def _may_assign(request: web.Request) -> bool:
    staff = request[staff_key]
    return staff is not None and staff.role in (Role.HOTLINE, Role.ADMIN)


def _queue_url(filters: QueueFilters, cursor: str | None = None) -> str:
    items = filters.items() + ([("cursor", cursor)] if cursor else [])
    return "/queue" + (f"?{urlencode(items)}" if items else "")


def _hotline_names(request: web.Request, hotlines: list[Hotline]) -> dict[str, str]:
    danish = request.get(language_key, DEFAULT_LANGUAGE) == "da"
    return {h.id: h.name_da if danish else h.name_en for h in hotlines}


def _rows_context(
    request: web.Request, loaded: LoadedQueue, query: QueueRequest, hotlines: list[Hotline]
) -> dict[str, Any]:
    gettext = gettext_for(request)
    window = at_risk_window(request)
    now = loaded.now
    return {
        "page": loaded.page,
        "counts": loaded.counts,
        "now": now,
        "deadline_of": lambda row: (
            deadline_state(row.due_at, now, window, running=row.deadline_running).value
        ),
        "duration": lambda seconds: duration_text(seconds, gettext),
        "channel_names": CHANNEL_NAMES,
        "role_names": ROLE_NAMES,
        "status_names": STATUS_LABELS,
        "hotline_names": _hotline_names(request, hotlines),
        "may_assign": _may_assign(request),
        "this_url": _queue_url(query.filters, request.query.get("cursor")),
        "next_url": _queue_url(query.filters, loaded.page.next_cursor)
        if loaded.page.next_cursor
        else None,
        "first_url": _queue_url(query.filters) if query.after is not None else None,
        "overdue_url": _queue_url(QueueFilters(due=Due.OVERDUE)),
        "at_risk_url": _queue_url(QueueFilters(due=Due.AT_RISK)),
    }


def _hours(value: float) -> str:
    return f"{value:g}"


async def _render_page(
    request: web.Request, *, status: int = 200, search_problem: Problem | None = None
) -> web.Response:
    """The queue page for this request's query; a bad query shows its problem, not rows."""
    deps = request.app[deps_key]
    gettext = gettext_for(request)
    problem: Problem | None = None
    async with deps.sessions() as session:
        hotlines = await _hotlines(session)
        assignees: list[Assignee] = await eligible_assignees(session)
        # Alerts waiting for someone: a banner linking to /alerts (hotline staff).
        open_alerts = await alert_read.open_count(session) if _may_assign(request) else 0
        context: dict[str, Any] = {}
        try:
            query = _queue_request(request, [h.id for h in hotlines])
        except BadQueueRequest as exc:
            problem, status = exc.problem, 400
        else:
            loaded = await _load(request, session, query)
            context = _rows_context(request, loaded, query, hotlines)
    hotline_names = _hotline_names(request, hotlines)
    context.update(
        {
            "problem": problem.text(gettext) if problem else None,
            "problem_field": problem.field if problem else None,
            "search_problem": search_problem.text(gettext) if search_problem else None,
            "hotline_options": [(h.id, hotline_names[h.id]) for h in hotlines],
            "channel_options": [(c.value, CHANNEL_NAMES[c]) for c in Channel],
            "status_options": [(s.value, STATUS_LABELS[s]) for s in CaseStatus],
            "assignee_options": assignees,
            "selected": {name: request.query.get(name, "") for name in FILTER_NAMES},
            "mine": MINE,
            "unassigned": UNASSIGNED,
            "at_risk_hours": _hours(deps.settings.queue_at_risk_hours),
            "at_risk_seconds": int(at_risk_window(request).total_seconds()),
            "may_assign": _may_assign(request),
            "open_alerts": open_alerts,
        }
    )
    return render(request, "triage/queue.html", context, status=status)


# --- the page -----------------------------------------------------------------------------


async def queue_page(request: web.Request) -> web.Response:
    return await _render_page(request)


async def queue_rows(request: web.Request) -> web.Response:
    """The page's live parts alone (counts, rows); queue.js fetches them with the page's own
    query string."""
    deps = request.app[deps_key]
    async with deps.sessions() as session:
        hotlines = await _hotlines(session)
        try:
            query = _queue_request(request, [h.id for h in hotlines])
        except BadQueueRequest as exc:
            raise FieldError(exc.problem.field, exc.problem.api_message) from None
        loaded = await _load(request, session, query)
    context = {**_rows_context(request, loaded, query, hotlines), "fragment": True}
    return render(request, "triage/_queue_live.html", context)


# Finding a case by receipt code leads to the reporter's details: hotline staff only.
@requires_role(Role.HOTLINE)
async def search_page(request: web.Request) -> web.Response:
    """POST, not GET: a receipt code must not end up in a URL (and so in logs or history)."""
    form = await request.post()
    text = str(form.get("query", "")).strip()
    if not text or len(text) > search.MAX_QUERY_CHARS:
        problem = Problem("query", SEARCH_EMPTY, "type a case reference or a receipt code")
        return await _render_page(request, status=400, search_problem=problem)
    result = await _search(request, text)
    if result.case_id is not None:
        return see_other(f"/cases/{result.case_id}")
    message = SEARCH_PENDING if result.pending else SEARCH_NOT_FOUND
    problem = Problem("query", message, message)
    return await _render_page(request, status=404, search_problem=problem)


async def _search(request: web.Request, text: str) -> search.SearchResult:
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        return await search.find_case(session, text, actor=request[staff_key], now=deps.clock.now())


# --- the API ------------------------------------------------------------------------------


class QueueQuery(BaseModel):
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(
        None, description="next_cursor of the previous page, with the same filters"
    )
    hotline: str | None = Field(None, description="a hotline id, e.g. national")
    channel: Channel | None = None
    status: CaseStatus | None = None
    assignee: str | None = Field(
        None,
        pattern=r"^(mine|unassigned|[1-9][0-9]*)$",
        description="mine, unassigned or a staff id",
    )
    due: Due | None = Field(None, description="overdue, or at_risk (due within the at-risk window)")


class QueueItem(BaseModel):
    id: int
    reference: str
    hotline: str
    channel: Channel
    reporter_role: ReporterRole
    status: str
    acute: bool
    received_at: datetime
    due_at: datetime
    deadline_state: str = Field(
        description="on_time, at_risk or overdue; none when no deadline is running (every one "
        "met, or the case closed)"
    )
    deadline_kind: DeadlineKind | None = Field(
        description="The running deadline due_at belongs to (triage, then visitation); null: "
        "none is running and due_at is the last one's"
    )
    clock_mode: ClockMode | None = Field(
        description="How that deadline's clock runs: calendar or business_hours"
    )
    assignee_id: int | None
    assignee: str | None
    closed: bool


class DeadlineCountsModel(BaseModel):
    overdue: int
    at_risk: int


class QueuePageModel(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None
    counts: DeadlineCountsModel = Field(description="all open cases, whatever the filters")


class SearchBody(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=search.MAX_QUERY_CHARS,
        description="a case reference (any letter case) or the reporter's receipt code",
    )


def _value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


def row_json(row: QueueRow, *, now: datetime, at_risk_window: timedelta) -> dict[str, Any]:
    return {
        "id": row.case_id,
        "reference": row.reference,
        "hotline": row.hotline_id,
        "channel": row.channel.value,
        "reporter_role": row.reporter_role.value,
        "status": row.status.value,
        "acute": row.is_acute,
        "received_at": row.received_at.isoformat(),
        "due_at": row.due_at.isoformat(),
        "deadline_state": deadline_state(
            row.due_at, now, at_risk_window, running=row.deadline_running
        ).value,
        "deadline_kind": row.deadline_kind.value
        if row.deadline_running and row.deadline_kind
        else None,
        "clock_mode": row.clock_mode.value if row.deadline_running and row.clock_mode else None,
        "assignee_id": row.assignee_id,
        "assignee": row.assignee,
        "closed": row.closed,
    }


@operation(
    "Open cases, acute first, then by nearest deadline: one keyset page, optionally filtered",
    tag="queue",
    query=QueueQuery,
    response=QueuePageModel,
    errors=(400, 401),
)
async def queue_api(request: web.Request) -> web.Response:
    deps = request.app[deps_key]
    async with deps.sessions() as session:
        hotlines = await _hotlines(session)
        try:
            query = _queue_request(request, [h.id for h in hotlines])
        except BadQueueRequest as exc:
            raise FieldError(exc.problem.field, exc.problem.api_message) from None
        loaded = await _load(request, session, query)
    window = at_risk_window(request)
    return web.json_response(
        {
            "items": [row_json(r, now=loaded.now, at_risk_window=window) for r in loaded.page.rows],
            "next_cursor": loaded.page.next_cursor,
            "counts": {"overdue": loaded.counts.overdue, "at_risk": loaded.counts.at_risk},
        }
    )


@requires_role(Role.HOTLINE)
@operation(
    "Find one case by its reference or the reporter's receipt code (audited)",
    tag="queue",
    body=SearchBody,
    response=QueueItem,
    errors=(400, 401, 403, 404),
)
async def search_api(request: web.Request) -> web.Response:
    body = await read_body(request, SearchBody)
    result = await _search(request, body.query.strip())
    if result.case_id is None:
        reason = (
            "the report with this receipt code is still being taken in; try again in a minute"
            if result.pending
            else "no case has this reference or receipt code"
        )
        raise web.HTTPNotFound(reason=reason)
    deps = request.app[deps_key]
    async with deps.sessions() as session:
        row = await case_row(session, result.case_id)
    if row is None:  # deleted in between
        raise web.HTTPNotFound(reason="no case has this reference or receipt code")
    return web.json_response(
        row_json(row, now=deps.clock.now(), at_risk_window=at_risk_window(request))
    )


def register(app: web.Application) -> None:
    add_globals(
        app,
        status_labels=STATUS_LABELS,
        close_reason_labels=CLOSE_REASON_LABELS,
        clock_mode_labels=CLOCK_MODE_LABELS,
    )
    app.router.add_get("/queue", queue_page, name="queue")
    app.router.add_get("/queue/rows", queue_rows, name="queue_rows")
    app.router.add_post("/queue/search", search_page, name="queue_search")
    app.router.add_get("/api/v1/queue", queue_api, name="api_queue")
    app.router.add_post("/api/v1/cases/search", search_api, name="api_case_search")
