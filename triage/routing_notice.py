"""The e-mail that tells a partner unit's mailbox about a routing, and the job step sending it.

The e-mail holds the unit's name, the case reference and a link to the routing page, in Danish
and English, and **no personal data**: no name, number, address, answers or municipality. The
recipient logs in to read the case (and that read is audited).

Sending works like intake/outbound.py: the routing row is locked and re-checked, so a job that
runs twice sends once; a retryable failure leaves the notice pending with the next attempt's
time (the sweeper enqueues it then), a final one, or the last attempt, marks it failed with the
reason, which the case page shows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.models import PartnerUnit
from notifications.ports import EmailSender, OutgoingEmail, SendFailed
from triage.models import Case, NoticeStatus, Routing

log = structlog.get_logger(__name__)

# A retryable failure waits this long before the next attempt; the attempt after the last
# delay is the last one, and its failure is final.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1-based)."""
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


def routing_path(routing_id: int) -> str:
    return f"/routings/{routing_id}"


def compose(*, unit_name: str, to: str, reference: str, link: str) -> OutgoingEmail:
    """The notice: whom it is for, which case, where to read it. Nothing about the person."""
    text = f"""\
Til {unit_name}

Hotline mod radikalisering har sendt jer en henvisning: sag {reference}.
Log ind og læs den her, og kvittér for modtagelsen:
{link}

Af hensyn til fortroligheden står der ingen personoplysninger i denne e-mail.
Svar ikke på den; skriv i stedet på sagen.

---

To {unit_name}

The hotline against radicalisation has sent you a referral: case {reference}.
Log in to read it here, and acknowledge receipt:
{link}

For confidentiality, this e-mail contains no personal data.
Please do not reply to it; write on the case instead.
"""
    return OutgoingEmail(
        to=to,
        subject=f"Ny henvisning / New referral: {reference}",
        text=text,
    )


def send_notice(
    session: Session, routing_id: int, *, email: EmailSender, now: datetime, base_url: str
) -> NoticeStatus | None:
    """Send a routing's pending notice if it is due; returns the notice status afterwards."""
    routing = session.execute(
        select(Routing).where(Routing.id == routing_id).with_for_update()
    ).scalar_one_or_none()
    if routing is None:
        log.warning("routing_missing", routing_id=routing_id)
        return None
    if not _due(routing, now):
        return routing.notice_status
    unit = session.get_one(PartnerUnit, routing.unit_id)
    case = session.get_one(Case, routing.case_id)
    message = compose(
        unit_name=unit.name,
        to=unit.email,
        reference=case.reference,
        link=base_url + routing_path(routing.id),
    )
    try:
        sent = email.send(message)
    except SendFailed as exc:
        _failed_attempt(routing, exc, now)
        return routing.notice_status
    except Exception as exc:  # an adapter bug must not make the sweeper resend forever
        log.exception("routing_notice_error", routing_id=routing.id)
        _failed_attempt(routing, SendFailed("error", type(exc).__name__, retryable=True), now)
        return routing.notice_status
    routing.notice_attempts += 1
    routing.notice_status = (
        NoticeStatus.SENT if sent.status == NoticeStatus.SENT else NoticeStatus.NOT_SENT
    )
    routing.notice_sent_at = now
    routing.notice_next_attempt_at = None
    routing.notice_error_code = None
    routing.notice_error_message = None
    log.info("routing_notice_done", routing_id=routing.id, status=routing.notice_status.value)
    return routing.notice_status


def _due(routing: Routing, now: datetime) -> bool:
    return routing.notice_status is NoticeStatus.PENDING and (
        routing.notice_next_attempt_at is None or routing.notice_next_attempt_at <= now
    )


def _failed_attempt(routing: Routing, exc: SendFailed, now: datetime) -> None:
    routing.notice_attempts += 1
    routing.notice_error_code = exc.code[:32]
    routing.notice_error_message = exc.message[:255]
    if exc.retryable and routing.notice_attempts < MAX_ATTEMPTS:
        routing.notice_next_attempt_at = now + retry_delay(routing.notice_attempts)
        log.info(
            "routing_notice_retry",
            routing_id=routing.id,
            attempts=routing.notice_attempts,
            code=routing.notice_error_code,
        )
        return
    routing.notice_status = NoticeStatus.FAILED
    routing.notice_next_attempt_at = None
    log.warning("routing_notice_failed", routing_id=routing.id, code=routing.notice_error_code)
