"""Web chat, the use cases on a session (the caller commits; chat_views.py is the adapter).

- The visitor is known only by a random chat token their browser tab keeps (sessionStorage);
  the database holds its SHA-256. Nothing personal is asked for.
- The first message opens a contact (channel web_chat, reporter role unknown, anonymous) and
  its chat; every message is a `Message` row on the contact (body encrypted), stored as it
  arrives: inbound from the visitor, outbound (with the staff member) from staff.
- Accepting is a conditional UPDATE (waiting → active): exactly one staff member wins.
- A chat nobody accepts in time, or one opened outside the hotline's opening hours, is
  `missed`: the transcript stays on the contact and the visitor may leave a call-back number
  (normalised, stored encrypted with its lookup hash).
- The contact is handed to the take-in job when the chat ends, however it ends.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import DataCipher
from intake import delivery, opening_hours, phone
from intake.models import (
    Channel,
    Chat,
    ChatStatus,
    Contact,
    Hotline,
    Message,
    MessageDirection,
    PhoneStatus,
    ReporterRole,
)

MAX_MESSAGE_CHARS = 2000
MIN_TOKEN_CHARS = 20
MAX_TOKEN_CHARS = 128
CHAT_ANSWERS = {"form_version": 1, "chat": True}
# Outbound chat messages reach the visitor at once (or wait in the transcript): no provider.
CHAT_DELIVERED = "delivered"


class ChatRefused(Exception):
    """The request does not fit the chat's state (ended, not yours, …)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ChatLine:
    id: int
    direction: str  # "visitor" or "staff"
    body: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        """The line as both sides' sockets receive it."""
        return {"id": self.id, "from": self.direction, "body": self.body, "at": self.at.isoformat()}


@dataclass(frozen=True)
class ChatSummary:
    id: int
    contact_id: int
    hotline_id: str
    status: str
    started_at: datetime
    accepted_by: int | None


def token_hash(token: str) -> str:
    return hashlib.sha256(f"chat:{token}".encode()).hexdigest()


def valid_token(token: object) -> bool:
    return (
        isinstance(token, str)
        and MIN_TOKEN_CHARS <= len(token) <= MAX_TOKEN_CHARS
        and token.replace("-", "").replace("_", "").isalnum()
        and token.isascii()
    )


def clean_body(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ChatRefused("empty")
    if len(body) > MAX_MESSAGE_CHARS:
        raise ChatRefused("too_long")
    return body.strip()


def summary(chat: Chat) -> ChatSummary:
    return ChatSummary(
        chat.id, chat.contact_id, chat.hotline_id, chat.status, chat.started_at, chat.accepted_by
    )


async def hotline_open(
    session: AsyncSession, hotline_id: str, now: datetime, closed_dates: frozenset[date]
) -> bool:
    hotline = await session.get(Hotline, hotline_id)
    if hotline is None:
        return False
    return opening_hours.is_open(
        hotline.opening_hours, hotline.timezone, now, closed_dates=closed_dates
    )


async def find_chat(session: AsyncSession, hotline_id: str, token: str) -> Chat | None:
    return await session.scalar(
        select(Chat).where(Chat.token_hash == token_hash(token), Chat.hotline_id == hotline_id)
    )


async def start_chat(
    session: AsyncSession,
    *,
    hotline_id: str,
    token: str,
    language: str,
    now: datetime,
    open_now: bool,
) -> Chat:
    """A contact and its chat, at the visitor's first message (waiting, or missed if closed)."""
    contact = Contact(
        hotline_id=hotline_id,
        channel=Channel.WEB_CHAT,
        received_at=now,
        language=language,
        reporter_role=ReporterRole.UNKNOWN,
        anonymous=True,
        is_acute=False,
        reporter_phone_status=PhoneStatus.NONE,
        answers=dict(CHAT_ANSWERS),
    )
    session.add(contact)
    await session.flush()
    chat = Chat(
        contact_id=contact.id,
        hotline_id=hotline_id,
        token_hash=token_hash(token),
        status=ChatStatus.WAITING.value if open_now else ChatStatus.MISSED.value,
        started_at=now,
        ended_at=None if open_now else now,
        end_reason=None if open_now else "closed",
    )
    session.add(chat)
    await session.flush()
    return chat


async def add_message(
    session: AsyncSession,
    chat: Chat,
    body: str,
    *,
    now: datetime,
    staff_id: int | None = None,
) -> ChatLine:
    """Store one message of the chat (from the visitor unless `staff_id` is given)."""
    if staff_id is not None and (chat.status != ChatStatus.ACTIVE or chat.accepted_by != staff_id):
        raise ChatRefused("not_yours")
    if staff_id is None and chat.status == ChatStatus.ENDED:
        raise ChatRefused("ended")
    inbound = staff_id is None
    message = Message(
        contact_id=chat.contact_id,
        direction=MessageDirection.INBOUND if inbound else MessageDirection.OUTBOUND,
        body=body,
        created_at=now,
        status=delivery.RECEIVED if inbound else CHAT_DELIVERED,
        status_at=now,
        staff_id=staff_id,
        attempts=0,
    )
    session.add(message)
    await session.flush()
    return ChatLine(message.id, "visitor" if inbound else "staff", body, now)


async def chat_of_contact(
    session: AsyncSession, contact_id: int, *, lock: bool = False
) -> Chat | None:
    query = select(Chat).where(Chat.contact_id == contact_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def transcript(session: AsyncSession, chat: Chat) -> list[ChatLine]:
    rows = await session.scalars(
        select(Message).where(Message.contact_id == chat.contact_id).order_by(Message.id)
    )
    return [
        ChatLine(
            m.id,
            "visitor" if m.direction is MessageDirection.INBOUND else "staff",
            m.body,
            m.created_at,
        )
        for m in rows
    ]


async def accept(session: AsyncSession, chat_id: int, *, staff_id: int, now: datetime) -> bool:
    """Whether this staff member got the chat (a conditional UPDATE: one winner)."""
    result = await session.execute(
        update(Chat)
        .where(Chat.id == chat_id, Chat.status == ChatStatus.WAITING.value)
        .values(status=ChatStatus.ACTIVE.value, accepted_by=staff_id, accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def end(
    session: AsyncSession,
    chat_id: int,
    *,
    reason: str,
    now: datetime,
    staff_id: int | None = None,
) -> bool:
    """End a waiting or active chat (staff only their own); whether this call ended it."""
    condition = [Chat.id == chat_id]
    if staff_id is not None:
        condition += [Chat.status == ChatStatus.ACTIVE.value, Chat.accepted_by == staff_id]
    else:
        condition.append(Chat.status.in_([ChatStatus.WAITING.value, ChatStatus.ACTIVE.value]))
    result = await session.execute(
        update(Chat)
        .where(*condition)
        .values(status=ChatStatus.ENDED.value, ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def miss(session: AsyncSession, chat_id: int, *, now: datetime) -> bool:
    """Nobody accepted in time: waiting → missed; whether this call changed it."""
    result = await session.execute(
        update(Chat)
        .where(Chat.id == chat_id, Chat.status == ChatStatus.WAITING.value)
        .values(status=ChatStatus.MISSED.value, ended_at=now, end_reason="no_staff")
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def save_call_back(
    session: AsyncSession, chat: Chat, raw: object, cipher: DataCipher
) -> bool:
    """Store the visitor's call-back number on the contact; False if it is not a valid number."""
    if chat.status not in (ChatStatus.MISSED, ChatStatus.ENDED):
        raise ChatRefused("not_missed")
    number = phone.normalise(raw if isinstance(raw, str) else None)
    if number.kind is not phone.PhoneKind.VALID or number.e164 is None:
        return False
    contact = await session.get(Contact, chat.contact_id, with_for_update=True)
    if contact is None:
        raise ChatRefused("unknown")
    contact.reporter_phone_e164 = number.e164
    contact.reporter_phone_lookup = cipher.lookup_hash("phone", number.e164)
    contact.reporter_phone_status = PhoneStatus.VALID
    # Giving a number to be called back on is choosing to be reachable.
    contact.anonymous = False
    return True


async def open_chats(session: AsyncSession) -> list[ChatSummary]:
    rows = await session.scalars(
        select(Chat)
        .where(Chat.status.in_([ChatStatus.WAITING.value, ChatStatus.ACTIVE.value]))
        .order_by(Chat.id)
    )
    return [summary(c) for c in rows]
