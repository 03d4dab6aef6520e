"""Entries other domains add to a case's timeline, without importing triage themselves.

`note_message` fits intake.messaging.CaseTimeline: the messaging adapter passes it to
`receive_message`, which calls it when a message joins a contact that already has a case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from intake.models import Channel
from triage.models import ActorKind, CaseEvent


def note_message(
    session: Session | AsyncSession,
    *,
    case_id: int,
    contact_id: int,
    message_id: int,
    channel: Channel,
    at: datetime,
) -> None:
    """The reporter wrote again in the thread; the detail names the message, not its body."""
    session.add(
        CaseEvent(
            case_id=case_id,
            at=at,
            actor_kind=ActorKind.REPORTER,
            kind="message_received",
            contact_id=contact_id,
            detail={"channel": channel.value, "message_id": message_id},
        )
    )
