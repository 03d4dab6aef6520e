"""A staff reply from start to finish: stored, audited, committed, then handed to the send job.

The JSON API (intake/message_views.py) and the case page (triage/case_views.py) both answer
reporters through this one function, so they cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from access.service import Staff, audit
from intake import messaging
from intake.models import Contact
from jobqueue import send_messages

if TYPE_CHECKING:
    from bootstrap import Deps


async def reply(
    deps: Deps, *, contact_id: int, body: str, staff: Staff | None, case_id: int | None = None
) -> messaging.QueuedReply:
    """Queue a reply to a contact (of `case_id`, when given).

    Raises messaging.ContactNotFound (also for a contact of another case), ReplyBodyInvalid or
    ReplyRefused; nothing is stored then.
    """
    async with deps.sessions() as session, session.begin():
        if case_id is not None:
            owner = await session.get(Contact, contact_id)
            if owner is None or owner.case_id != case_id:
                raise messaging.ContactNotFound(contact_id)
        queued = await messaging.queue_reply(
            session,
            contact_id,
            body,
            staff_id=staff.id if staff else None,
            now=deps.clock.now(),
        )
        audit(
            session,
            at=deps.clock.now(),
            actor=staff,
            action="reply_queued",
            subject_kind="contact",
            subject_id=contact_id,
            detail={"message_id": queued.message_id, "status": queued.status},
        )
    if queued.to_send:
        # Committed: the reply cannot be lost; the job sends it (the sweeper covers a lost
        # enqueue). A web-form reply is complete as stored: it waits on the follow-up page.
        deps.enqueuer.submit(send_messages, queued.message_id)
    return queued
