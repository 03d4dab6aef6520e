"""The staff queue, as a page and as JSON (GET /api/v1/queue)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from triage.labels import CLOSE_REASON_LABELS, STATUS_LABELS
from triage.queue import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    InvalidCursor,
    QueuePage,
    QueuePosition,
    QueueRow,
    open_cases,
)
from web.appkeys import deps_key
from web.middleware import FieldError
from web.rendering import add_globals, render


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
