"""Taking a new contact in: normalise what it carries, open its case, start the triage clock
(the hotline's triage duration and clock mode, `triage.deadline_config`).

Runs in the worker. Idempotent: the contact row is locked and re-checked, so running it twice
(rq may, after a crash) changes nothing the second time.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import DataCipher
from intake import phone
from intake.models import Contact, Hotline, PhoneStatus
from notifications import alert_engine
from triage import linking
from triage.deadline_config import deadline_config
from triage.models import ActorKind, Case, CaseEvent, CaseStatus, Deadline, DeadlineKind
from triage.queue_events import note_case_changed

log = structlog.get_logger(__name__)

QUEUE_RANK_ACUTE = 0
QUEUE_RANK_NORMAL = 1


def take_in_contact(
    session: Session,
    contact_id: int,
    *,
    now: datetime,
    cipher: DataCipher,
) -> int | None:
    """Open a case for a committed contact; returns the case id (None if the contact is gone)."""
    contact = session.execute(
        select(Contact).where(Contact.id == contact_id).with_for_update()
    ).scalar_one_or_none()
    if contact is None:
        log.warning("contact_missing", contact_id=contact_id)
        return None
    if contact.processed_at is not None:
        return contact.case_id

    _normalise_phone(contact, cipher)
    hotline = session.get_one(Hotline, contact.hotline_id)
    case = _open_case(session, contact, hotline, now=now)
    contact.case_id = case.id
    contact.processed_at = now
    linking.propose_links(session, contact, case, now=now)
    # The staff queue pages show the new case (and alert on an acute one) once this commits.
    note_case_changed(session, case.id)
    log.info("case_opened", contact_id=contact.id, case_id=case.id, acute=case.is_acute)
    return case.id


def _normalise_phone(contact: Contact, cipher: DataCipher) -> None:
    if contact.reporter_phone_status is not PhoneStatus.PENDING:
        return
    result = phone.normalise(contact.reporter_phone_raw)
    if result.kind is phone.PhoneKind.VALID and result.e164 is not None:
        contact.reporter_phone_e164 = result.e164
        contact.reporter_phone_lookup = cipher.lookup_hash("phone", result.e164)
        contact.reporter_phone_raw = None
        contact.reporter_phone_status = PhoneStatus.VALID
    elif result.kind is phone.PhoneKind.WITHHELD:
        # A withheld number leaves no trace, not even the sentinel it arrived as.
        contact.reporter_phone_raw = None
        contact.reporter_phone_status = PhoneStatus.WITHHELD
    else:
        contact.reporter_phone_status = PhoneStatus.INVALID


def _open_case(session: Session, contact: Contact, hotline: Hotline, *, now: datetime) -> Case:
    # The hotline's triage rule; the deadline row keeps the due time and clock mode it gives.
    config = deadline_config(hotline)
    due_at = config.triage.due_at(contact.received_at)
    case = Case(
        # A unique placeholder until the id is known; the reference is derived from the id.
        reference=f"pending-{contact.id}",
        hotline_id=hotline.id,
        status=CaseStatus.NEW,
        received_at=contact.received_at,
        channel=contact.channel,
        reporter_role=contact.reporter_role,
        opened_at=now,
        is_acute=contact.is_acute,
        queue_rank=QUEUE_RANK_ACUTE if contact.is_acute else QUEUE_RANK_NORMAL,
        queue_due_at=due_at,
        queue_deadline_kind=DeadlineKind.TRIAGE,
    )
    session.add(case)
    session.flush()
    case.reference = case_reference(hotline, case.id, contact.received_at)
    # New, so nothing to look up: the case's queue fields above are already its own.
    deadline = Deadline(
        case_id=case.id,
        kind=DeadlineKind.TRIAGE,
        clock_mode=config.triage.mode,
        started_at=contact.received_at,
        due_at=due_at,
    )
    session.add(deadline)
    session.flush()
    # Its escalation steps, planned at once (the sweeper would plan a deadline left unplanned).
    alert_engine.plan(session, deadline, case, now=now)
    session.add_all(
        [
            CaseEvent(
                case_id=case.id,
                at=contact.received_at,
                actor_kind=ActorKind.REPORTER,
                kind="contact_received",
                contact_id=contact.id,
                detail={"channel": contact.channel.value, "acute": contact.is_acute},
            ),
            CaseEvent(
                case_id=case.id,
                at=now,
                actor_kind=ActorKind.SYSTEM,
                kind="case_opened",
                contact_id=contact.id,
                detail={"triage_due_at": due_at.isoformat()},
            ),
        ]
    )
    return case


def case_reference(hotline: Hotline, case_id: int, received_at: datetime) -> str:
    """`NAT-2026-00042`: hotline, local year of receipt, case number."""
    year = received_at.astimezone(ZoneInfo(hotline.timezone)).year
    return f"{hotline.case_prefix}-{year}-{case_id:05d}"
