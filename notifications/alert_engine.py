"""The alert engine (sync, for rq jobs): plan a deadline's steps, fire them, repeat alerts, and
try every attempt exactly as recorded.

**Exactly once per step.** A deadline is the unit of work: `escalate_deadline` locks its row
(`FOR UPDATE`; on SQLite the job's transaction is `BEGIN IMMEDIATE`), plans its steps if they
are not planned for its due time, and fires every due pending step in order. Firing flips the
step pending → fired, inserts its alert and the alert's first round of attempts **in that one
transaction**. A second worker, a job run twice, a job re-enqueued by the sweeper after Redis
lost it: each waits for the lock and finds the step fired. A worker killed before the commit
leaves the step pending, and the sweeper finds it again. Rounds of a repeating alert work the
same way on the alert row (`rounds`, `next_round_at`), and the unique (alert, round, recipient,
channel) of attempts backs both up.

**At most once per try.** Sending is separate from firing: `claim_try` marks an attempt
`sending` (tries + 1, `next_try_at` = when the try counts as interrupted) and commits; only then
does `deliver` call the provider, outside any transaction; `record_try` stores what came back.
A try that dies in between stays `sending` until `SENDING_TIMEOUT`, then becomes `unknown` and
is never tried again on its channel: the next channel in the fallback order takes over (so the
step still reaches the person, and no channel gets the same alert twice from one attempt). A
retryable failure tries again after a backoff; retries used up, a refusal, "not sent" (console
mode) or a failure the provider reports later hand over to the next channel too.

**Stops.** Every job re-checks under its locks: a met deadline or a closed case stops pending
steps and open alerts (`alert_stop`); an acknowledged or stopped alert cancels its untried
attempts. A repeating alert is superseded by the next repeating step that fires.

Lock order, everywhere: deadline → escalations → alerts → attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.models import Hotline
from notifications import alert_rules, alert_stop
from notifications.alert_calls import alert_call_urls, caller_id, new_attempt_token
from notifications.alert_models import (
    AckMethod,
    Alert,
    AlertAttempt,
    AlertChannel,
    AlertStatus,
    AttemptStatus,
    Escalation,
    EscalationStatus,
    StopReason,
)
from notifications.alert_policy import calendar_for, policy_for
from notifications.alert_rules import AlertText
from notifications.escalation import PolicyError, step_due_times
from notifications.oncall_service import chain, who_is_on_call_sync
from notifications.ports import AlertCaller, EmailSender, SendFailed, SmsSender
from notifications.staff_contacts import contacts
from triage.models import Case, Deadline

log = structlog.get_logger(__name__)

# Where an alert SMS's delivery statuses arrive (integrations/twilio/alert_message_webhooks.py).
SMS_STATUS_PATH = "/twilio/alerts/sms-status/{token}"
_CONSOLE_STATUSES = frozenset({"not_sent", "not_placed"})
# The provider's last word on an attempt only moves forward (callbacks repeat and cross).
_PROVIDER_RANK = {
    "accepted": 0,
    "queued": 0,
    "initiated": 1,
    "sending": 1,
    "ringing": 2,
    "sent": 2,
    "in_progress": 3,
    "delivered": 4,
    "read": 5,
    "completed": 5,
    "busy": 5,
    "no_answer": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
}
# Reported by the provider after it accepted: the attempt failed, the next channel takes over.
# (A call nobody answered is not a failure: the next round calls again.)
PROVIDER_FAILURES = frozenset({"failed", "canceled", "undelivered"})


def case_link(base_url: str, case_id: int) -> str:
    return f"{base_url}/cases/{case_id}"


# --- planning and firing ------------------------------------------------------------------------


def escalate_deadline(session: Session, deadline_id: int, *, now: datetime) -> list[int]:
    """Plan the deadline's steps if needed, then fire every due step in order. Returns the new
    attempts, for the caller to try after commit."""
    deadline = session.execute(
        select(Deadline)
        .where(Deadline.id == deadline_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if deadline is None:
        return []
    case = session.get_one(Case, deadline.case_id)
    if deadline.met_at is not None or case.closed_at is not None:
        alert_stop.stop_deadlines_sync(session, [deadline.id], now)
        return []
    if deadline.escalation_plan_due_at != deadline.due_at:
        plan(session, deadline, case, now=now)
    due = session.scalars(
        select(Escalation)
        .where(
            Escalation.deadline_id == deadline.id,
            Escalation.status == EscalationStatus.PENDING,
            Escalation.due_at <= now,
        )
        .order_by(Escalation.due_at, Escalation.id)
        .with_for_update()
    ).all()
    attempt_ids: list[int] = []
    for step in due:
        if step.plan_started_at != deadline.started_at:
            # Of a plan the deadline has moved away from: never fires (nor is found again).
            _stop_step(step, StopReason.REPLANNED, now)
            continue
        attempt_ids.extend(_fire(session, step, deadline, case, now))
    return attempt_ids


def _stop_step(step: Escalation, reason: StopReason, now: datetime) -> None:
    step.status = EscalationStatus.STOPPED
    step.stopped_at = now
    step.stop_reason = reason


def plan(session: Session, deadline: Deadline, case: Case, *, now: datetime) -> None:
    """The deadline's steps for its present start and due time (the caller holds its row).

    A pending step of another plan (the deadline moved) or no longer in the policy is stopped;
    a pending one of this plan gets its time recomputed; fired ones stay as they are."""
    try:
        policy = policy_for(session, case.hotline_id, deadline)
        calendar = calendar_for(session, case.hotline_id)
        times = step_due_times(policy, deadline.started_at, deadline.clock_mode, calendar)
    except (PolicyError, ValueError) as exc:
        # E.g. a deadline due at its start: nothing to escalate (said once, then planned).
        log.warning("escalation_not_planned", deadline_id=deadline.id, reason=str(exc)[:120])
        times = ()
    existing = session.scalars(
        select(Escalation)
        .where(Escalation.deadline_id == deadline.id)
        .order_by(Escalation.id)
        .with_for_update()
    ).all()
    names = {step.name for step, _at in times}
    current = {e.step_name: e for e in existing if e.plan_started_at == deadline.started_at}
    for row in existing:
        stale = row.plan_started_at != deadline.started_at or row.step_name not in names
        if row.status is EscalationStatus.PENDING and stale:
            _stop_step(row, StopReason.REPLANNED, now)
    for step, at in times:
        planned = current.get(step.name)
        if planned is None:
            session.add(
                Escalation(
                    case_id=case.id,
                    deadline_id=deadline.id,
                    plan_started_at=deadline.started_at,
                    step_name=step.name,
                    step_kind=step.kind,
                    audience=step.audience,
                    repeats=step.repeats,
                    repeat_every_seconds=int(policy.repeat_every.total_seconds()),
                    escalate_after_seconds=int(policy.escalate_after.total_seconds()),
                    due_at=at,
                    status=EscalationStatus.PENDING,
                )
            )
        elif planned.status is EscalationStatus.PENDING:
            planned.due_at = at
    deadline.escalation_plan_due_at = deadline.due_at
    session.flush()
    log.info("escalation_planned", deadline_id=deadline.id, steps=len(times))


def _fire(
    session: Session, step: Escalation, deadline: Deadline, case: Case, now: datetime
) -> list[int]:
    step.status = EscalationStatus.FIRED
    step.fired_at = now
    if step.repeats:
        # A repeating alert hands over to the next repeating step: "overdue" ends "approaching".
        older = list(
            session.scalars(
                select(Alert.id)
                .where(
                    Alert.deadline_id == deadline.id,
                    Alert.status == AlertStatus.OPEN,
                    Alert.repeats.is_(True),
                )
                .order_by(Alert.id)
                .with_for_update()
            )
        )
        for statement in alert_stop.stop_alerts(older, now, StopReason.SUPERSEDED):
            session.execute(statement, execution_options={"synchronize_session": False})
    alert = Alert(
        escalation_id=step.id,
        case_id=case.id,
        deadline_id=deadline.id,
        deadline_kind=deadline.kind,
        step_kind=step.step_kind,
        repeats=step.repeats,
        code=_free_code(session),
        status=AlertStatus.OPEN,
        fired_at=now,
        rounds=0,
        chain_position=0,
    )
    session.add(alert)
    session.flush()
    log.info("escalation_fired", escalation_id=step.id, alert_id=alert.id, step=step.step_name)
    return _start_round(session, alert, step, case, number=0, now=now)


def _free_code(session: Session) -> str:
    for _ in range(50):
        code = alert_rules.new_code()
        taken = session.scalar(
            select(Alert.id).where(Alert.code == code, Alert.status == AlertStatus.OPEN)
        )
        if taken is None:
            return code
    raise RuntimeError("no free alert code")  # a million codes, a handful open


def _start_round(
    session: Session, alert: Alert, step: Escalation, case: Case, *, number: int, now: datetime
) -> list[int]:
    """Round `number` of the alert: one person of the ladder (plus the team lead, if the step
    says so), each in the app and on the step's channels. Returns the attempts to try."""
    repeat_every = timedelta(seconds=step.repeat_every_seconds)
    escalate_after = timedelta(seconds=step.escalate_after_seconds)
    # The chain position follows the round's grid time (fired_at + number·repeat_every): the
    # same whether the round runs on time or late after an outage.
    position = (number * repeat_every) // escalate_after
    on_call = who_is_on_call_sync(session, case.hotline_id, now)
    assignee = None
    if case.assignee_id is not None:
        assignee = contacts(session, [case.assignee_id]).get(case.assignee_id)
    people = alert_rules.ladder(
        step.audience, assignee=assignee, chain=chain(on_call), team_lead=on_call.team_lead
    )
    chosen = alert_rules.recipients(
        step.audience,
        position,
        assignee=assignee,
        chain=chain(on_call),
        team_lead=on_call.team_lead,
    )
    alert.rounds = number + 1
    alert.chain_position = min(position, max(len(people) - 1, 0))
    alert.next_round_at = alert.fired_at + (number + 1) * repeat_every if alert.repeats else None
    if not chosen:
        log.warning("alert_round_without_recipient", alert_id=alert.id, round=number)
    new: list[AlertAttempt] = []
    for person in chosen:
        session.add(
            AlertAttempt(
                alert_id=alert.id,
                round=number,
                recipient_id=person.id,
                channel=AlertChannel.APP,
                status=AttemptStatus.SHOWN,
                tries=0,
                created_at=now,
                finished_at=now,
            )
        )
        for channel in alert_rules.channels_for(alert.step_kind, person):
            attempt = _new_attempt(alert.id, number, person.id, channel=channel, now=now)
            session.add(attempt)
            new.append(attempt)
    session.flush()
    log.info("alert_round", alert_id=alert.id, round=number, recipients=len(chosen))
    return [attempt.id for attempt in new]


def _new_attempt(
    alert_id: int,
    number: int,
    recipient_id: int,
    *,
    channel: AlertChannel,
    now: datetime,
    fallback_of: int | None = None,
) -> AlertAttempt:
    return AlertAttempt(
        alert_id=alert_id,
        round=number,
        recipient_id=recipient_id,
        channel=channel,
        status=AttemptStatus.PENDING,
        tries=0,
        # The job that made it tries it at once; the sweeper only if that job was lost.
        next_try_at=now + alert_rules.FIRST_TRY_GRACE,
        created_at=now,
        token=new_attempt_token() if channel in (AlertChannel.VOICE, AlertChannel.SMS) else None,
        fallback_of=fallback_of,
    )


# --- repeats -----------------------------------------------------------------------------------


def next_round(session: Session, alert_id: int, *, now: datetime) -> list[int]:
    """Start the alert's due round, if it is still open and its deadline not met (or stop it).

    The deadline's due steps fire first, under the same lock: at 48 h "overdue" supersedes
    "approaching" before its round of that moment could start, whichever job runs first."""
    deadline_id = session.scalar(select(Alert.deadline_id).where(Alert.id == alert_id))
    if deadline_id is None:
        return []
    attempt_ids = escalate_deadline(session, deadline_id, now=now)
    alert = session.execute(
        select(Alert)
        .where(Alert.id == alert_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if alert.status is not AlertStatus.OPEN:
        return attempt_ids  # acknowledged, superseded, or stopped with its met deadline
    if alert.next_round_at is None or alert.next_round_at > now:
        return attempt_ids
    case = session.get_one(Case, alert.case_id)
    step = session.get_one(Escalation, alert.escalation_id)
    repeat_every = timedelta(seconds=step.repeat_every_seconds)
    # After an outage only the round due now is sent, not every one missed.
    number = max(alert.rounds, alert_rules.due_round(alert.fired_at, now, repeat_every))
    return attempt_ids + _start_round(session, alert, step, case, number=number, now=now)


# --- trying attempts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Everything one try needs, read inside the claim, so the provider call needs no database."""

    attempt_id: int
    try_number: int
    channel: AlertChannel
    to: str
    from_: str | None
    token: str | None
    text: AlertText
    base_url: str


@dataclass(frozen=True)
class Claim:
    delivery: Delivery | None
    # New attempts (fallbacks) to try.
    follow_ups: list[int]


@dataclass(frozen=True)
class Outcome:
    provider_id: str | None = None
    status: str | None = None
    error: SendFailed | None = None


def _locked(session: Session, attempt_id: int) -> tuple[Deadline, Alert, AlertAttempt] | None:
    """The attempt with its alert and deadline, locked in the engine's order."""
    ids = session.execute(
        select(Alert.deadline_id, Alert.id)
        .join(AlertAttempt, AlertAttempt.alert_id == Alert.id)
        .where(AlertAttempt.id == attempt_id)
    ).one_or_none()
    if ids is None:
        return None
    deadline = session.execute(
        select(Deadline)
        .where(Deadline.id == ids.deadline_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).scalar_one()
    # Re-read under the lock: bulk stops (alert_stop) do not refresh objects a session holds.
    alert = session.execute(
        select(Alert)
        .where(Alert.id == ids.id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).scalar_one()
    attempt = session.execute(
        select(AlertAttempt)
        .where(AlertAttempt.id == attempt_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return deadline, alert, attempt


def claim_try(
    session: Session,
    attempt_id: int,
    *,
    now: datetime,
    base_url: str,
    configured_caller_id: str | None,
) -> Claim:
    """Mark the attempt `sending` for one try (the caller commits before calling `deliver`),
    or settle it: cancelled (alert closed), unknown (an earlier try was interrupted), failed
    (the person cannot be reached on it). Anything not due is left alone."""
    found = _locked(session, attempt_id)
    if found is None:
        return Claim(None, [])
    deadline, alert, attempt = found
    case = session.get_one(Case, alert.case_id)
    settled = _settle(session, deadline, case, alert, attempt, now=now)
    if settled is not None:
        return settled
    person = contacts(session, [attempt.recipient_id])[attempt.recipient_id]
    to = person.email if attempt.channel is AlertChannel.EMAIL else person.phone_e164
    from_ = None
    if attempt.channel is not AlertChannel.EMAIL:
        hotline = session.get_one(Hotline, case.hotline_id)
        from_ = caller_id(configured_caller_id, hotline.phone_numbers)
    problem = (
        "unreachable"
        if to is None or not alert_rules.reachable(attempt.channel, person)
        else "no_caller_id"
        if attempt.channel is not AlertChannel.EMAIL and from_ is None
        else None
    )
    if problem is not None or to is None:
        return Claim(None, _give_up(session, alert, attempt, problem, now))
    attempt.status = AttemptStatus.SENDING
    attempt.tries += 1
    attempt.attempted_at = now
    attempt.next_try_at = now + alert_rules.SENDING_TIMEOUT
    text = AlertText(
        reference=case.reference,
        deadline=alert.deadline_kind,
        step=alert.step_kind,
        code=alert.code,
        link=case_link(base_url, case.id),
    )
    delivery = Delivery(
        attempt.id, attempt.tries, attempt.channel, to, from_, attempt.token, text, base_url
    )
    return Claim(delivery, [])


def _settle(
    session: Session,
    deadline: Deadline,
    case: Case,
    alert: Alert,
    attempt: AlertAttempt,
    *,
    now: datetime,
) -> Claim | None:
    """What becomes of an attempt that is not to be tried now; None: try it."""
    if attempt.status is AttemptStatus.SENDING:
        if attempt.next_try_at is None or attempt.next_try_at > now:
            return Claim(None, [])  # in flight
        log.warning("alert_attempt_interrupted", attempt_id=attempt.id, tries=attempt.tries)
        return Claim(None, _give_up(session, alert, attempt, "interrupted", now, unknown=True))
    if attempt.status is not AttemptStatus.PENDING:
        return Claim(None, [])
    if alert.status is not AlertStatus.OPEN or deadline.met_at or case.closed_at:
        attempt.status = AttemptStatus.CANCELLED
        attempt.next_try_at = None
        attempt.finished_at = now
        return Claim(None, [])
    if attempt.tries > 0 and attempt.next_try_at is not None and attempt.next_try_at > now:
        return Claim(None, [])  # waiting for its retry
    return None


def deliver(
    delivery: Delivery,
    *,
    sms: SmsSender,
    email: EmailSender | None,
    caller: AlertCaller | None,
) -> Outcome:
    """One provider call for a claimed try (no database; never raises)."""
    try:
        if delivery.channel is AlertChannel.SMS:
            assert delivery.from_ is not None
            assert delivery.token is not None
            sent = sms.send(
                to=delivery.to,
                from_=delivery.from_,
                body=alert_rules.sms_body(delivery.text),
                status_callback=delivery.base_url + SMS_STATUS_PATH.format(token=delivery.token),
            )
            return Outcome(sent.provider_id, sent.status)
        if delivery.channel is AlertChannel.VOICE:
            assert delivery.from_ is not None
            assert delivery.token is not None
            if caller is None:
                raise SendFailed("no_caller", "no alert caller configured", retryable=False)
            urls = alert_call_urls(delivery.base_url, delivery.token)
            placed = caller.place_call(
                to=delivery.to,
                from_=delivery.from_,
                attempt_token=delivery.token,
                status_callback=urls.status_callback,
                twiml_url=urls.twiml_url,
            )
            return Outcome(placed.provider_id, placed.status)
        if email is None:
            raise SendFailed("no_mailer", "no e-mail sender configured", retryable=False)
        mailed = email.send(alert_rules.email_message(delivery.text, delivery.to))
        return Outcome(None, mailed.status)
    except SendFailed as exc:
        return Outcome(error=exc)
    except Exception as exc:  # an adapter bug: counted as a failed try, never a lost alert
        log.exception("alert_attempt_error", attempt_id=delivery.attempt_id)
        return Outcome(error=SendFailed("error", type(exc).__name__, retryable=True))


def record_try(
    session: Session, attempt_id: int, try_number: int, outcome: Outcome, *, now: datetime
) -> list[int]:
    """Store what a try came back with; returns fallback attempts to try."""
    found = _locked(session, attempt_id)
    if found is None:
        return []
    _deadline, alert, attempt = found
    if outcome.provider_id and attempt.provider_id is None:
        attempt.provider_id = outcome.provider_id[:64]
    if attempt.status is not AttemptStatus.SENDING or attempt.tries != try_number:
        # Counted as interrupted meanwhile (it took longer than SENDING_TIMEOUT): its fallback
        # is on its way; only the provider's id is kept.
        return []
    if outcome.error is not None:
        return _failed_try(session, alert, attempt, outcome.error, now)
    attempt.next_try_at = None
    attempt.finished_at = now
    attempt.error_code = attempt.error_message = None
    if outcome.status in _CONSOLE_STATUSES:
        attempt.status = AttemptStatus.NOT_SENT
        log.info("alert_attempt_not_sent", attempt_id=attempt.id, channel=attempt.channel.value)
        return _fallback(session, alert, attempt, now)
    attempt.status = AttemptStatus.SENT
    if attempt.provider_status is None and outcome.status:
        attempt.provider_status = _our_word(outcome.status)
    log.info("alert_attempt_sent", attempt_id=attempt.id, channel=attempt.channel.value)
    if attempt.provider_status in PROVIDER_FAILURES:
        # The provider's callback reported the failure before this try was recorded.
        return _give_up(session, alert, attempt, attempt.provider_status, now)
    return []


def _failed_try(
    session: Session, alert: Alert, attempt: AlertAttempt, error: SendFailed, now: datetime
) -> list[int]:
    attempt.error_code = error.code[:32]
    attempt.error_message = error.message[:255]
    delay = alert_rules.retry_delay(attempt.tries) if error.retryable else None
    if delay is None:
        return _give_up(session, alert, attempt, None, now)
    attempt.status = AttemptStatus.PENDING
    attempt.next_try_at = now + delay
    log.info("alert_attempt_retry", attempt_id=attempt.id, tries=attempt.tries)
    return []


def _give_up(
    session: Session,
    alert: Alert,
    attempt: AlertAttempt,
    code: str | None,
    now: datetime,
    *,
    unknown: bool = False,
) -> list[int]:
    attempt.status = AttemptStatus.UNKNOWN if unknown else AttemptStatus.FAILED
    attempt.next_try_at = None
    attempt.finished_at = now
    if code is not None:
        attempt.error_code = code
    log.warning(
        "alert_attempt_failed",
        attempt_id=attempt.id,
        channel=attempt.channel.value,
        code=attempt.error_code,
    )
    return _fallback(session, alert, attempt, now)


def _fallback(session: Session, alert: Alert, attempt: AlertAttempt, now: datetime) -> list[int]:
    """The next channel for this recipient and round, unless the alert is closed or none is
    left. Returns the new attempt's id, to try."""
    if alert.status is not AlertStatus.OPEN:
        return []
    person = contacts(session, [attempt.recipient_id]).get(attempt.recipient_id)
    if person is None:
        return []
    used = set(
        session.scalars(
            select(AlertAttempt.channel).where(
                AlertAttempt.alert_id == alert.id,
                AlertAttempt.round == attempt.round,
                AlertAttempt.recipient_id == attempt.recipient_id,
            )
        )
    )
    channel = alert_rules.fallback_channel(attempt.channel, person, used)
    if channel is None:
        log.warning("alert_no_channel_left", alert_id=alert.id, attempt_id=attempt.id)
        return []
    new = _new_attempt(
        alert.id,
        attempt.round,
        attempt.recipient_id,
        channel=channel,
        now=now,
        fallback_of=attempt.id,
    )
    try:
        with session.begin_nested():  # another failure of the round may have added it first
            session.add(new)
    except IntegrityError:
        return []
    log.info("alert_fallback", attempt_id=attempt.id, channel=channel.value)
    return [new.id]


# --- what the provider reports later -------------------------------------------------------


def _our_word(status: str) -> str:
    return status.strip().lower().replace("-", "_")[:24]


def record_provider_status(
    session: Session,
    token: str,
    *,
    provider_id: str,
    status: str,
    error_code: str | None,
    now: datetime,
) -> list[int]:
    """A status callback for an attempt's call or SMS (repeated, crossed or early: idempotent,
    forward only). A failure the provider reports hands over to the next channel."""
    attempt_id = session.scalar(select(AlertAttempt.id).where(AlertAttempt.token == token))
    if attempt_id is None:
        return []
    found = _locked(session, attempt_id)
    if found is None:
        return []
    _deadline, alert, attempt = found
    word = _our_word(status)
    if word not in _PROVIDER_RANK:
        return []
    if attempt.provider_id is None:
        attempt.provider_id = provider_id[:64]
    known = _PROVIDER_RANK.get(attempt.provider_status or "", -1)
    if _PROVIDER_RANK[word] < known or (
        _PROVIDER_RANK[word] == known and attempt.provider_status in PROVIDER_FAILURES
    ):
        return []
    attempt.provider_status = word
    if error_code:
        attempt.error_code = error_code[:32]
    if word in PROVIDER_FAILURES and attempt.status is AttemptStatus.SENT:
        return _give_up(session, alert, attempt, error_code or word, now)
    return []


# --- acknowledgements ----------------------------------------------------------------------


def acknowledge(
    session: Session,
    alert: Alert,
    *,
    how: AckMethod,
    staff_id: int | None,
    now: datetime,
    reference: str | None = None,
    attempt_id: int | None = None,
) -> None:
    """Record the acknowledgement of an open alert (locked by the caller): who, how, when; no
    further round, no untried attempt."""
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by = staff_id
    alert.acknowledged_how = how
    alert.acknowledged_reference = reference[:64] if reference else None
    alert.acknowledged_attempt_id = attempt_id
    alert.next_round_at = None
    session.execute(
        alert_stop.cancel_untried(alert.id, now), execution_options={"synchronize_session": False}
    )
    log.info("alert_acknowledged", alert_id=alert.id, how=how.value)
