"""The staff queue, as a page and as JSON (GET /api/v1/queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from intake.models import Channel, ReporterRole
from triage.labels import CLOSE_REASON_LABELS, STATUS_LABELS
from triage.models import CaseStatus
from triage.queue import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    InvalidCursor,
    QueuePage,
    QueuePosition,
    QueueRow,
    open_cases,
)
from web.api import operation
from web.appkeys import deps_key
from web.middleware import FieldError
from web.rendering import add_globals, render


class QueueQuery(BaseModel):
    """The page to fetch (checked by `_page_request`, with messages naming the parameter)."""

    limit: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="How many cases per page."
    )
    cursor: str | None = Field(
        None, description="The previous page's next_cursor; leave out for the first page."
    )


class QueueItem(BaseModel):
    """An open case as the queue lists it."""

    id: int = Field(description="The case's id (GET /cases/{id} is its page).")
    reference: str = Field(description="The case reference staff use, e.g. NAT-2026-00042.")
    hotline: str = Field(description="The hotline's id, e.g. national or copenhagen.")
    channel: Channel
    reporter_role: ReporterRole
    status: CaseStatus
    acute: bool = Field(description="A safety question was answered yes: listed first.")
    received_at: datetime
    due_at: datetime = Field(description="The deadline the queue is ordered by.")
    assignee: str | None = Field(description="The assigned staff member's name, if any.")


class QueueListing(BaseModel):
    """One page of the queue: acute cases first, then by the nearest deadline."""

    items: list[QueueItem]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null at the end."
    )


def _page_request(request: web.Request) -> tuple[QueuePosition | None, int]:
    raw_limit = request.query.get("limit", str(DEFAULT_PAGE_SIZE))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE_SIZE:
        raise FieldError("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    cursor = request.query.get("cursor")
    try:
        after = QueuePosition.decode(cursor) if cursor else None
    except InvalidCursor:
        raise FieldError(
            "cursor", "is not a cursor this queue gave out; start without one"
        ) from None
    return after, int(raw_limit)


async def _load(request: web.Request) -> QueuePage:
    after, limit = _page_request(request)
    async with request.app[deps_key].sessions() as session:
        return await open_cases(session, after=after, limit=limit)


def _as_json(row: QueueRow) -> dict[str, Any]:
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
        "assignee": row.assignee,
    }


@operation(
    "List open cases, one page at a time",
    tag="queue",
    query=QueueQuery,
    response=QueueListing,
    errors=(400,),
)
async def queue_api(request: web.Request) -> web.Response:
    page = await _load(request)
    return web.json_response(
        {"items": [_as_json(r) for r in page.rows], "next_cursor": page.next_cursor}
    )


async def queue_page(request: web.Request) -> web.Response:
    page = await _load(request)
    return render(
        request, "triage/queue.html", {"page": page, "now": request.app[deps_key].clock.now()}
    )


def register(app: web.Application) -> None:
    add_globals(app, status_labels=STATUS_LABELS, close_reason_labels=CLOSE_REASON_LABELS)
    app.router.add_get("/queue", queue_page, name="queue")
    app.router.add_get("/api/v1/queue", queue_api, name="api_queue")
