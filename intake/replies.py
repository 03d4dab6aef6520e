"""A staff reply from start to finish: stored, audited, committed, then handed on.

The JSON API (intake/message_views.py) and the case page (triage/case_views.py) both answer
reporters through this one function, so they cannot drift apart. The channel decides where a
reply goes: SMS/WhatsApp to the send job, a web form to the follow-up page (the reporter reads it
with the receipt code), a web chat into the chat itself while it is active and accepted by the
one replying (published on the chat bus after commit, as the chats page does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from access.service import Staff, audit
from intake import chat, delivery, messaging
from intake.chat_bus import ChatBus
from intake.models import Channel, Contact
from jobqueue import send_messages

if TYPE_CHECKING:
    from bootstrap import Deps


async def reply(
    deps: Deps,
    *,
    contact_id: int,
    body: str,
    staff: Staff | None,
    case_id: int | None = None,
    chat_bus: ChatBus | None = None,
) -> messaging.QueuedReply:
    """Queue a reply to a contact (of `case_id`, when given).

    Raises messaging.ContactNotFound (also for a contact of another case), ReplyBodyInvalid or
    ReplyRefused; nothing is stored then. A web-chat reply needs `chat_bus` to reach the visitor.
    """
    chat_line: tuple[int, chat.ChatLine] | None = None
    async with deps.sessions() as session, session.begin():
        owner = await session.get(Contact, contact_id)
        if owner is None or (case_id is not None and owner.case_id != case_id):
            raise messaging.ContactNotFound(contact_id)
        if owner.channel is Channel.WEB_CHAT and chat_bus is not None:
            chat_line = await _into_chat(session, contact_id, body, staff, deps)
            queued = messaging.QueuedReply(chat_line[1].id, chat.CHAT_DELIVERED)
        else:
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
    if chat_line is not None and chat_bus is not None:
        # Committed first, like every chat message; then both sides' sockets hear it.
        chat_id, line = chat_line
        await chat_bus.to_chat(chat_id, {"type": "message", "message": line.as_json()})
    if queued.to_send:
        # Committed: the reply cannot be lost; the job sends it (the sweeper covers a lost
        # enqueue). A web-form reply is complete as stored: it waits on the follow-up page.
        deps.enqueuer.submit(send_messages, queued.message_id)
    return queued


async def _into_chat(
    session: AsyncSession, contact_id: int, body: str, staff: Staff | None, deps: Deps
) -> tuple[int, chat.ChatLine]:
    # Locked: accepting and ending are conditional UPDATEs, which wait for this transaction.
    found = await chat.chat_of_contact(session, contact_id, lock=True)
    staff_id = staff.id if staff else None
    refusal = (
        delivery.NOT_A_MESSAGE_CHANNEL
        if found is None
        else delivery.chat_reply_refusal(found.status, found.accepted_by, staff_id)
    )
    if refusal is not None or found is None or staff_id is None:
        raise messaging.ReplyRefused(refusal or delivery.CHAT_TAKEN)
    text = body.strip()
    if not 1 <= len(text) <= min(delivery.MAX_REPLY_CHARS, chat.MAX_MESSAGE_CHARS):
        raise messaging.ReplyBodyInvalid(f"must be 1 to {delivery.MAX_REPLY_CHARS} characters")
    line = await chat.add_message(session, found, text, now=deps.clock.now(), staff_id=staff_id)
    return found.id, line
