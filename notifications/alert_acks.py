"""Acknowledging alerts — in the app, by an SMS reply "OK <code>", by pressing 1 on the alert
call — and what the provider reports about alert calls and SMS. Async, for the web and the
webhooks; the rules are the engine's (`alert_engine.acknowledge`, `record_provider_status`),
run on the same connection through `AsyncSession.run_sync`.

Every acknowledgement records who, how and when, and stops the alert at once: no further round,
no attempt not yet tried. They are idempotent: a retried webhook, a second "OK", a second click
change nothing (the answer says it was acknowledged already).

An SMS reply acknowledges only when it is exactly "OK" and a code, comes from the phone number
of an active staff account, and the code is that of an alert sent to that staff member (any
round, any channel); anything else is a message like any other (intake). The acknowledgement
names the staff member who replied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import structlog
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from access.models import StaffUser
from intake import phone
from notifications import alert_engine, alert_rules
from notifications.alert_calls import AlertCallScript, AlertCallStatus
from notifications.alert_models import AckMethod, Alert, AlertAttempt, AlertChannel, AlertStatus
from triage.models import Case, Deadline

log = structlog.get_logger(__name__)


class AckOutcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    # Acknowledged before (by this or another person or way): nothing changed.
    ALREADY = "already"
    # Stopped (deadline met, superseded): nothing to acknowledge.
    CLOSED = "closed"


@dataclass(frozen=True)
class AckResult:
    outcome: AckOutcome
    alert_id: int
    case_id: int
    reference: str


class AlertNotFound(LookupError):
    pass


def _acknowledge_sync(
    session: Session,
    alert_id: int,
    *,
    how: AckMethod,
    staff_id: int | None,
    now: datetime,
    reference: str | None = None,
    attempt_id: int | None = None,
) -> AckResult:
    alert = session.execute(
        select(Alert)
        .where(Alert.id == alert_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if alert is None:
        raise AlertNotFound(alert_id)
    case = session.get_one(Case, alert.case_id)
    deadline = session.get_one(Deadline, alert.deadline_id)
    if alert.status is AlertStatus.OPEN and (deadline.met_at or case.closed_at):
        outcome = AckOutcome.CLOSED  # the jobs stop it; nothing to acknowledge any more
    elif alert.status is AlertStatus.OPEN:
        alert_engine.acknowledge(
            session,
            alert,
            how=how,
            staff_id=staff_id,
            now=now,
            reference=reference,
            attempt_id=attempt_id,
        )
        outcome = AckOutcome.ACKNOWLEDGED
    elif alert.status is AlertStatus.ACKNOWLEDGED:
        outcome = AckOutcome.ALREADY
    else:
        outcome = AckOutcome.CLOSED
    return AckResult(outcome, alert.id, case.id, case.reference)


async def acknowledge_in_app(
    session: AsyncSession, alert_id: int, *, staff_id: int, now: datetime
) -> AckResult:
    """A staff member's click (page or API); raises AlertNotFound."""
    return await session.run_sync(
        lambda s: _acknowledge_sync(s, alert_id, how=AckMethod.APP, staff_id=staff_id, now=now)
    )


# --- by SMS reply -------------------------------------------------------------------------------


async def acknowledge_by_sms(
    session: AsyncSession, *, sender: str, body: str, provider_id: str, now: datetime
) -> AckResult | None:
    """An inbound SMS that acknowledges an alert, or None: not an "OK <code>" reply from an
    active staff member's phone naming an alert's code (then it is an ordinary message)."""
    code = alert_rules.code_in_reply(body)
    if code is None:
        return None
    number = phone.normalise(sender)
    if number.kind is not phone.PhoneKind.VALID or number.e164 is None:
        return None
    staff_ids = list(
        await session.scalars(
            select(StaffUser.id)
            .where(StaffUser.phone_e164 == number.e164, StaffUser.active.is_(True))
            .order_by(StaffUser.id)
        )
    )
    if not staff_ids:
        return None
    # An alert with this code that was sent to the replier: the open one, else the latest (a
    # second "OK" after all).
    sent_to_replier = (
        select(AlertAttempt.id)
        .where(AlertAttempt.alert_id == Alert.id, AlertAttempt.recipient_id.in_(staff_ids))
        .exists()
    )
    alert_id = await session.scalar(
        select(Alert.id)
        .where(Alert.code == code, sent_to_replier)
        .order_by((Alert.status == AlertStatus.OPEN).desc(), Alert.id.desc())
        .limit(1)
    )
    if alert_id is None:
        return None
    staff_id = await _replier(session, alert_id, staff_ids)
    result = await session.run_sync(
        lambda s: _acknowledge_sync(
            s, alert_id, how=AckMethod.SMS, staff_id=staff_id, now=now, reference=provider_id
        )
    )
    log.info("alert_sms_reply", alert_id=alert_id, outcome=result.outcome.value)
    return result


async def _replier(session: AsyncSession, alert_id: int, staff_ids: Sequence[int]) -> int:
    """Of the staff accounts sharing the number, the one the alert went to (else the first)."""
    if len(staff_ids) == 1:
        return staff_ids[0]
    recipient = await session.scalar(
        select(AlertAttempt.recipient_id)
        .where(AlertAttempt.alert_id == alert_id, AlertAttempt.recipient_id.in_(staff_ids))
        .limit(1)
    )
    return recipient if recipient is not None else staff_ids[0]


# --- voice calls and SMS statuses (the webhooks' port) --------------------------------------------


def _after_commit(session: AsyncSession, work: Callable[[], None]) -> None:
    def run(_session: Session) -> None:
        work()

    event.listen(session.sync_session, "after_commit", run, once=True)


class AlertEvents:
    """`notifications.alert_calls.AlertCallEvents` for the alert-call webhooks, and the alert
    SMS's status callbacks. `enqueue` hands fallback attempts a provider's failure report made
    to the job queue after commit (the sweeper would find them too, a little later)."""

    def __init__(self, enqueue: Callable[[Sequence[int]], None] | None = None) -> None:
        self._enqueue = enqueue

    async def script_for(self, session: AsyncSession, attempt_token: str) -> AlertCallScript | None:
        found = (
            await session.execute(
                select(Alert, Case.reference, Deadline.met_at, Case.closed_at)
                .join(AlertAttempt, AlertAttempt.alert_id == Alert.id)
                .join(Case, Case.id == Alert.case_id)
                .join(Deadline, Deadline.id == Alert.deadline_id)
                .where(
                    AlertAttempt.token == attempt_token,
                    AlertAttempt.channel == AlertChannel.VOICE,
                )
            )
        ).one_or_none()
        if found is None:
            return None
        alert, reference, met_at, closed_at = found
        if alert.status is not AlertStatus.OPEN or met_at is not None or closed_at is not None:
            return None
        return AlertCallScript(reference, alert.deadline_kind, alert.step_kind)

    async def acknowledged_by_keypress(
        self, session: AsyncSession, *, attempt_token: str, provider_call_id: str, at: datetime
    ) -> bool:
        attempt = (
            await session.execute(
                select(AlertAttempt.id, AlertAttempt.alert_id, AlertAttempt.recipient_id).where(
                    AlertAttempt.token == attempt_token,
                    AlertAttempt.channel == AlertChannel.VOICE,
                )
            )
        ).one_or_none()
        if attempt is None:
            return False

        def acknowledge(s: Session) -> bool:
            result = _acknowledge_sync(
                s,
                attempt.alert_id,
                how=AckMethod.VOICE,
                staff_id=attempt.recipient_id,
                now=at,
                reference=provider_call_id,
                attempt_id=attempt.id,
            )
            if result.outcome is AckOutcome.ALREADY:
                # Twilio's retry of this very keypress: still this attempt's acknowledgement.
                alert = s.get_one(Alert, attempt.alert_id)
                return bool(alert.acknowledged_attempt_id == attempt.id)
            return result.outcome is AckOutcome.ACKNOWLEDGED

        return await session.run_sync(acknowledge)

    async def call_status(
        self,
        session: AsyncSession,
        *,
        attempt_token: str,
        provider_call_id: str,
        status: AlertCallStatus,
        error_code: str | None,
        at: datetime,
    ) -> None:
        await self.provider_status(
            session,
            attempt_token=attempt_token,
            provider_id=provider_call_id,
            status=status.value,
            error_code=error_code,
            at=at,
        )

    async def provider_status(
        self,
        session: AsyncSession,
        *,
        attempt_token: str,
        provider_id: str,
        status: str,
        error_code: str | None,
        at: datetime,
    ) -> None:
        """A call's or an SMS's status (repeated, crossed or early: the engine is idempotent)."""
        follow_ups = await session.run_sync(
            lambda s: alert_engine.record_provider_status(
                s,
                attempt_token,
                provider_id=provider_id,
                status=status,
                error_code=error_code,
                now=at,
            )
        )
        enqueue = self._enqueue
        if follow_ups and enqueue is not None:
            _after_commit(session, lambda: enqueue(follow_ups))
