"""rq jobs of the alert engine. Each takes ids and does its work in short transactions of its
own (notifications/alert_engine.py explains why this is exactly once per step and at most once
per try); the attempts a transaction creates are tried right after its commit, by this job."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog
from sqlalchemy.orm import Session

from jobqueue import BatchFailed, JobContext, for_each_row, job_context
from notifications import alert_engine

log = structlog.get_logger(__name__)


def escalate_deadlines(deadline_ids: list[int]) -> list[int | None]:
    """Plan and fire the due steps of these deadlines; returns how many attempts each made."""
    context = job_context()
    return for_each_row(
        deadline_ids,
        lambda deadline_id: _then_try(
            context,
            lambda s: alert_engine.escalate_deadline(s, deadline_id, now=context.clock.now()),
        ),
        failure="deadlines not escalated",
    )


def start_alert_rounds(alert_ids: list[int]) -> list[int | None]:
    """Start the due round of these alerts; returns how many attempts each made."""
    context = job_context()
    return for_each_row(
        alert_ids,
        lambda alert_id: _then_try(
            context, lambda s: alert_engine.next_round(s, alert_id, now=context.clock.now())
        ),
        failure="alert rounds not started",
    )


def send_alert_attempts(attempt_ids: list[int]) -> list[int | None]:
    context = job_context()
    return for_each_row(
        attempt_ids,
        lambda attempt_id: try_attempts(context, [attempt_id]),
        failure="alert attempts not tried",
    )


def _then_try(context: JobContext, work: Callable[[Session], list[int]]) -> int:
    with context.transaction() as session:
        attempt_ids = work(session)
    # Committed: the step fired (or the round started) whatever happens to the tries below.
    try_attempts(context, attempt_ids)
    return len(attempt_ids)


def try_attempts(context: JobContext, attempt_ids: Sequence[int]) -> int:
    """Try each attempt, then each fallback it hands over to; one attempt's error does not
    keep the others from their try (it stays due for the sweeper). Returns the tries made."""
    waiting = list(attempt_ids)
    failed: list[int] = []
    tried = 0
    while waiting:
        attempt_id = waiting.pop(0)
        try:
            follow_ups, made = _try_once(context, attempt_id)
        except Exception:
            log.exception("alert_attempt_job_error", attempt_id=attempt_id)
            failed.append(attempt_id)
            continue
        tried += made
        waiting.extend(follow_ups)
    if failed:
        raise BatchFailed(f"alert attempts not tried: {failed}")
    return tried


def _try_once(context: JobContext, attempt_id: int) -> tuple[list[int], int]:
    settings = context.settings
    with context.transaction() as session:
        claim = alert_engine.claim_try(
            session,
            attempt_id,
            now=context.clock.now(),
            base_url=settings.base_url,
            configured_caller_id=settings.alert_caller_id,
        )
    if claim.delivery is None:
        return claim.follow_ups, 0
    # Committed as `sending` before the provider hears of it: a crash from here on leaves a
    # row that says so (and becomes `unknown`), never a second call for this try.
    outcome = alert_engine.deliver(
        claim.delivery, sms=context.sms, email=context.email, caller=context.alert_caller
    )
    with context.transaction() as session:
        follow_ups = alert_engine.record_try(
            session, attempt_id, claim.delivery.try_number, outcome, now=context.clock.now()
        )
    return follow_ups, 1
