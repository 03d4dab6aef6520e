"""Alerts in the app: the list staff acknowledge from, and the same as JSON (hotline staff).

GET  /alerts                              open alerts (the viewer's first), closed ones of the
                                          last day with who acknowledged how and when
POST /alerts/{id}/acknowledge             form (csrf_token, next) → 303 back to `next`
GET  /api/v1/alerts                       the same as JSON
POST /api/v1/alerts/{id}/acknowledge      → the outcome: acknowledged, already, closed
Acknowledging twice changes nothing; an alert that was stopped meanwhile cannot be.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from access.guard import safe_next
from access.models import Role
from notifications import alert_read
from notifications.alert_acks import AckOutcome, AlertNotFound, acknowledge_in_app
from notifications.alert_models import AlertStatus
from notifications.alert_read import AlertItem
from notifications.escalation import StepKind
from triage.deadline_clock import DeadlineKind
from web.api import operation
from web.appkeys import deps_key, staff_key
from web.i18n import N_
from web.path_ids import path_id
from web.policy import requires_role
from web.rendering import add_globals, render, see_other

STEP_LABELS = {
    StepKind.REMINDER: N_("Reminder"),
    StepKind.WARNING: N_("Warning"),
    StepKind.APPROACHING: N_("Deadline approaching"),
    StepKind.OVERDUE: N_("Deadline overdue"),
}
ALERT_STATUS_LABELS = {
    AlertStatus.OPEN: N_("Waiting for acknowledgement"),
    AlertStatus.ACKNOWLEDGED: N_("Acknowledged"),
    AlertStatus.STOPPED: N_("Stopped"),
}
ACK_METHOD_LABELS = {
    "sms": N_("by SMS reply"),
    "voice": N_("by phone (pressed 1)"),
    "app": N_("in the app"),
}
STOP_REASON_LABELS = {
    "met": N_("the deadline was met"),
    "replanned": N_("the deadline moved"),
    "superseded": N_("a later step took over"),
}
CHANNEL_LABELS = {
    "voice": N_("Phone call"),
    "sms": N_("SMS"),
    "email": N_("E-mail"),
    "app": N_("In the app"),
}
ATTEMPT_STATUS_LABELS = {
    "pending": N_("Waiting"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "shown": N_("Shown"),
    "not_sent": N_("Not sent (console mode)"),
    "failed": N_("Failed"),
    "unknown": N_("Interrupted (unknown)"),
    "cancelled": N_("Not needed"),
}
DEADLINE_KIND_LABELS = {
    DeadlineKind.TRIAGE: N_("Triage deadline"),
    DeadlineKind.VISITATION: N_("Visitation deadline"),
}
# The provider's words for an attempt (alert_engine's _PROVIDER_RANK), as staff read them.
PROVIDER_STATUS_LABELS = {
    "accepted": N_("Accepted"),
    "queued": N_("Queued at the provider"),
    "initiated": N_("Dialling"),
    "sending": N_("Sending"),
    "ringing": N_("Ringing"),
    "sent": N_("Sent"),
    "in_progress": N_("Answered"),
    "delivered": N_("Delivered"),
    "read": N_("Read"),
    "completed": N_("Call ended"),
    "busy": N_("Busy"),
    "no_answer": N_("No answer"),
    "undelivered": N_("Not delivered"),
    "failed": N_("Failed"),
    "canceled": N_("Cancelled"),
}


def _alert_id(request: web.Request) -> int:
    return path_id(request, "alert_id", missing="no such alert")


async def _acknowledge(request: web.Request, alert_id: int) -> AckOutcome:
    deps = request.app[deps_key]
    staff = request[staff_key]
    assert staff is not None  # the access guard lets only staff reach here
    async with deps.sessions() as session, session.begin():
        try:
            result = await acknowledge_in_app(
                session, alert_id, staff_id=staff.id, now=deps.clock.now()
            )
        except AlertNotFound:
            raise web.HTTPNotFound(reason="no alert has this id") from None
    return result.outcome


async def _page_data(request: web.Request) -> tuple[alert_read.AlertsPage, datetime]:
    deps = request.app[deps_key]
    staff = request[staff_key]
    now = deps.clock.now()
    async with deps.sessions() as session:
        page = await alert_read.alerts_page(session, viewer_id=staff.id if staff else None, now=now)
    return page, now


# --- pages --------------------------------------------------------------------------------------


@requires_role(Role.HOTLINE)
async def alerts_view(request: web.Request) -> web.Response:
    page, now = await _page_data(request)
    return render(request, "notifications/alerts.html", {"alerts": page, "now": now})


@requires_role(Role.HOTLINE)
async def acknowledge_view(request: web.Request) -> web.Response:
    alert_id = _alert_id(request)
    back = safe_next(str((await request.post()).get("next", "")) or "/alerts")
    await _acknowledge(request, alert_id)
    return see_other(back)


# --- API ----------------------------------------------------------------------------------------


class AlertOut(BaseModel):
    id: int
    case_id: int
    reference: str = Field(description="The case reference, e.g. NAT-2026-00042.")
    deadline_kind: Literal["triage", "visitation"]
    step: Literal["reminder", "warning", "approaching", "overdue"]
    status: Literal["open", "acknowledged", "stopped"]
    fired_at: datetime
    repeats: bool = Field(description="Sent again every 15 minutes until acknowledged.")
    rounds: int = Field(description="How many rounds were sent so far.")
    next_round_at: datetime | None = Field(description="When it is sent again; null: not.")
    recipients: list[str] = Field(description="Whom the latest round went to, by name.")
    mine: bool = Field(description="Whether the latest round went to me.")
    acknowledged_at: datetime | None
    acknowledged_by: str | None = Field(description="Who acknowledged it, by name.")
    acknowledged_how: Literal["sms", "voice", "app"] | None
    stopped_at: datetime | None
    stop_reason: Literal["met", "replanned", "superseded"] | None


class AlertListing(BaseModel):
    open: list[AlertOut] = Field(description="Open alerts: mine first, then newest first.")
    closed: list[AlertOut] = Field(description="Alerts acknowledged or stopped in the last day.")


class AckOut(BaseModel):
    outcome: Literal["acknowledged", "already", "closed"] = Field(
        description="acknowledged: by me, now; already: acknowledged before (nothing changed); "
        "closed: stopped meanwhile, nothing to acknowledge."
    )
    alert_id: int


def _json(item: AlertItem) -> AlertOut:
    alert = item.alert
    return AlertOut(
        id=alert.id,
        case_id=alert.case_id,
        reference=item.reference,
        deadline_kind=alert.deadline_kind.value,
        step=alert.step_kind.value,
        status=alert.status.value,
        fired_at=alert.fired_at,
        repeats=alert.repeats,
        rounds=alert.rounds,
        next_round_at=alert.next_round_at,
        recipients=item.recipients,
        mine=item.mine,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=item.acknowledged_by,
        acknowledged_how=alert.acknowledged_how.value if alert.acknowledged_how else None,
        stopped_at=alert.stopped_at,
        stop_reason=alert.stop_reason.value if alert.stop_reason else None,
    )


@requires_role(Role.HOTLINE)
@operation(
    "Alerts waiting for acknowledgement, and those closed in the last day",
    tag="alerts",
    response=AlertListing,
    errors=(401, 403),
)
async def alerts_api(request: web.Request) -> web.Response:
    page, _now = await _page_data(request)
    listing = AlertListing(
        open=[_json(i) for i in page.open], closed=[_json(i) for i in page.closed]
    )
    return web.json_response(text=listing.model_dump_json())


@requires_role(Role.HOTLINE)
@operation(
    "Acknowledge an alert: no further rounds, nothing more sent (idempotent)",
    tag="alerts",
    response=AckOut,
    errors=(401, 403, 404),
)
async def acknowledge_api(request: web.Request) -> web.Response:
    alert_id = _alert_id(request)
    outcome = await _acknowledge(request, alert_id)
    return web.json_response(AckOut(outcome=outcome.value, alert_id=alert_id).model_dump())


def register(app: web.Application) -> None:
    app.router.add_get("/alerts", alerts_view, name="alerts")
    app.router.add_post(
        r"/alerts/{alert_id:\d+}/acknowledge", acknowledge_view, name="alert_acknowledge"
    )
    app.router.add_get("/api/v1/alerts", alerts_api, name="api_alerts")
    app.router.add_post(
        r"/api/v1/alerts/{alert_id:\d+}/acknowledge",
        acknowledge_api,
        name="api_alert_acknowledge",
    )
    add_globals(
        app,
        step_labels=STEP_LABELS,
        alert_status_labels=ALERT_STATUS_LABELS,
        ack_method_labels=ACK_METHOD_LABELS,
        stop_reason_labels=STOP_REASON_LABELS,
        alert_channel_labels=CHANNEL_LABELS,
        attempt_status_labels=ATTEMPT_STATUS_LABELS,
        provider_status_labels=PROVIDER_STATUS_LABELS,
        deadline_kind_labels=DEADLINE_KIND_LABELS,
    )
