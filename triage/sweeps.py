"""Sweeps: turn database rows that still need work into jobs, whatever Redis has forgotten.

Each sweep names a query for the ids of rows that are due, and the batch job that handles them.
The worker's Sweeper runs every sweep in the list: contacts not yet taken in, and outbound
messages not yet sent (including retries after a failed attempt: the sweep is the retry timer),
voicemails not yet fetched into our storage or deleted at the provider, and routing notices
(e-mails to partner units) not yet sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, literal_column, or_, select
from sqlalchemy.orm import Session

from intake.models import Call, Contact, Message, Recording
from jobqueue import (
    BatchJob,
    fetch_recordings,
    send_messages,
    send_routing_notices,
    take_in_contacts,
)
from triage.models import Routing

SWEEP_BATCH = 1000


# A call still in its menu is taken in when the caller has chosen (or hung up), so its case
# gets the role they chose; only a call whose end Twilio never reported is swept after this.
LONGEST_CALL = timedelta(hours=1)


def unprocessed_contacts(session: Session, *, now: datetime, grace: timedelta) -> list[int]:
    """Contacts that waited longer than `grace` without being taken in (oldest first)."""
    call_in_progress = (
        select(Call.id)
        .where(
            Call.contact_id == Contact.id,
            Call.ended_at.is_(None),
            Call.started_at > now - LONGEST_CALL,
        )
        .exists()
    )
    return list(
        session.scalars(
            select(Contact.id)
            .where(
                Contact.processed_at.is_(None),
                Contact.received_at <= now - grace,
                ~call_in_progress,
            )
            .order_by(Contact.received_at)
            .limit(SWEEP_BATCH)
        ).all()
    )


def pending_messages(session: Session, *, now: datetime, grace: timedelta) -> list[int]:
    """Outbound messages due for a send attempt: a retry whose time has come, or a new reply
    whose job has not run within `grace` (oldest first)."""
    return list(
        session.scalars(
            select(Message.id)
            # A literal, matching the partial index ix_messages_pending's predicate.
            .where(Message.status == literal_column("'pending'"))
            .where(
                or_(
                    Message.next_attempt_at <= now,
                    and_(Message.next_attempt_at.is_(None), Message.created_at <= now - grace),
                )
            )
            .order_by(Message.created_at)
            .limit(SWEEP_BATCH)
        ).all()
    )


def unfinished_recordings(session: Session, *, now: datetime, grace: timedelta) -> list[int]:
    """Voicemails not yet fetched into our storage or not yet deleted at the provider: a retry
    whose time has come, or a new one whose job has not run within `grace` (oldest first)."""
    return list(
        session.scalars(
            select(Recording.id)
            .where(Recording.deleted_at_provider.is_(None))
            .where(
                or_(
                    Recording.next_attempt_at <= now,
                    and_(Recording.next_attempt_at.is_(None), Recording.received_at <= now - grace),
                )
            )
            .order_by(Recording.received_at)
            .limit(SWEEP_BATCH)
        ).all()
    )


def pending_routing_notices(session: Session, *, now: datetime, grace: timedelta) -> list[int]:
    """Routing notices due for a send attempt: a retry whose time has come, or a new one whose
    job has not run within `grace` (oldest first)."""
    return list(
        session.scalars(
            select(Routing.id)
            # A literal, matching the partial index ix_routings_notice_pending's predicate.
            .where(Routing.notice_status == literal_column("'pending'"))
            .where(
                or_(
                    Routing.notice_next_attempt_at <= now,
                    and_(Routing.notice_next_attempt_at.is_(None), Routing.sent_at <= now - grace),
                )
            )
            .order_by(Routing.sent_at)
            .limit(SWEEP_BATCH)
        ).all()
    )


@dataclass(frozen=True)
class Sweep:
    name: str
    find: Callable[..., list[int]]
    job: BatchJob


SWEEPS = (
    Sweep("unprocessed_contacts", unprocessed_contacts, take_in_contacts),
    Sweep("pending_messages", pending_messages, send_messages),
    Sweep("unfinished_recordings", unfinished_recordings, fetch_recordings),
    Sweep("pending_routing_notices", pending_routing_notices, send_routing_notices),
)
