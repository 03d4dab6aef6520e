"""Staff API for a contact's thread (SMS, WhatsApp, web form): read it (audited), reply.

GET  /api/v1/contacts/{id}/messages  the thread, oldest first, and whether a reply is possible
POST /api/v1/contacts/{id}/replies   {"body": "…"} → 202 {"id", "status": "pending"}; sent by a job
                                     web form: 201 {"id", "status": "available"}; sent nowhere,
                                     the reporter reads it on the follow-up page (receipt code)
                                     web chat: 201 {"id", "status": "delivered"}, into the chat
                                     (only while it is active and accepted by the one replying)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from access.models import Role
from access.service import audit
from intake import delivery, messaging, replies
from intake.delivery import Refusal
from intake.models import Channel, Message, MessageDirection
from web.api import operation, read_body
from web.appkeys import chat_bus_key, deps_key, staff_key
from web.middleware import FieldError
from web.path_ids import path_id
from web.policy import requires_role


class ReplyRefusal(BaseModel):
    """Why no reply can be sent to this contact."""

    code: str = Field(description="A stable code, e.g. opted_out or no_number.")
    message: str = Field(description="The reason in a sentence for staff.")


class DeliveryError(BaseModel):
    """Why a message was not delivered, as the provider (or this service) said."""

    code: str = Field(description="The provider's error code (e.g. 30003) or our own code.")
    message: str | None


class ThreadMessage(BaseModel):
    id: int
    direction: MessageDirection
    body: str = Field(description="The text as written.")
    created_at: datetime
    status: str = Field(
        description="received (inbound); outbound: pending, then as the provider reports it "
        "(queued, sent, delivered, read, undelivered, failed, …); web form: available, then "
        "read; not_sent when no provider is configured."
    )
    status_at: datetime
    error: DeliveryError | None
    attempts: int = Field(description="Send attempts so far (outbound).")
    next_attempt_at: datetime | None = Field(description="When a failed send is tried again.")


class Thread(BaseModel):
    """A contact's messages, oldest first, and whether staff can reply."""

    contact_id: int
    channel: Channel
    opted_out: bool = Field(description="The number has opted out (STOP/AFMELD).")
    can_reply: bool
    reply_refused: ReplyRefusal | None = Field(description="Why not, when can_reply is false.")
    messages: list[ThreadMessage]


class ReplyBody(BaseModel):
    body: str = Field(
        description="The reply's text (surrounding spaces are trimmed).",
        json_schema_extra={"minLength": 1, "maxLength": delivery.MAX_REPLY_CHARS},
    )


class QueuedReply(BaseModel):
    id: int = Field(description="The message's id in the thread.")
    status: str = Field(description="pending (to be sent) or available (web form).")


def _contact_id(request: web.Request) -> int:
    return path_id(request, "contact_id", missing="no contact has this id")


def _refusal(refusal: Refusal | None) -> dict[str, str] | None:
    return None if refusal is None else {"code": refusal.code, "message": refusal.message}


def _message(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "direction": message.direction.value,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
        "status": message.status,
        "status_at": message.status_at.isoformat(),
        "error": None
        if message.error_code is None
        else {"code": message.error_code, "message": message.error_message},
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at.isoformat() if message.next_attempt_at else None,
    }


# Message bodies are the reporters' own words: hotline staff only, every read audited.
@operation(
    "Read a contact's thread (audited)",
    tag="messages",
    response=Thread,
    errors=(404,),
)
@requires_role(Role.HOTLINE)
async def thread_api(request: web.Request) -> web.Response:
    contact_id = _contact_id(request)
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        try:
            found = await messaging.thread(session, contact_id)
        except messaging.ContactNotFound:
            raise web.HTTPNotFound(reason="no contact has this id") from None
        audit(
            session,
            at=deps.clock.now(),
            actor=request[staff_key],
            action="read_messages",
            subject_kind="contact",
            subject_id=contact_id,
            detail={"messages": len(found.messages)},
        )
    return web.json_response(
        {
            "contact_id": found.contact.id,
            "channel": found.contact.channel.value,
            "opted_out": found.opted_out,
            "can_reply": found.refusal is None,
            "reply_refused": _refusal(found.refusal),
            "messages": [_message(m) for m in found.messages],
        }
    )


@operation(
    "Reply to a contact",
    tag="messages",
    body=ReplyBody,
    response=QueuedReply,
    status=202,
    other_statuses=(201,),
    errors=(404, 409),
    description="SMS and WhatsApp: 202, stored as pending and sent by a job. Web form: 201, "
    "stored as available; the reporter reads it on the follow-up page with the receipt code. "
    "409 when the contact cannot be replied to (reason: a code as in reply_refused).",
)
@requires_role(Role.HOTLINE)
async def reply_api(request: web.Request) -> web.Response:
    contact_id = _contact_id(request)
    body = (await read_body(request, ReplyBody)).body
    try:
        queued = await replies.reply(
            request.app[deps_key],
            contact_id=contact_id,
            body=body,
            staff=request[staff_key],
            chat_bus=request.app[chat_bus_key],
        )
    except messaging.ContactNotFound:
        raise web.HTTPNotFound(reason="no contact has this id") from None
    except messaging.ReplyBodyInvalid as exc:
        raise FieldError("body", str(exc)) from None
    except messaging.ReplyRefused as exc:
        return web.json_response(
            {"error": {"code": 409, "message": exc.message, "reason": exc.code}}, status=409
        )
    # 201: complete as stored (a web-form reply waits on the follow-up page); 202: to be sent.
    status = 202 if queued.to_send else 201
    return web.json_response({"id": queued.message_id, "status": queued.status}, status=status)


def register(app: web.Application) -> None:
    app.router.add_get(
        r"/api/v1/contacts/{contact_id:\d+}/messages", thread_api, name="api_contact_messages"
    )
    app.router.add_post(
        r"/api/v1/contacts/{contact_id:\d+}/replies", reply_api, name="api_contact_replies"
    )
