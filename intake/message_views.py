"""Staff API for a contact's thread (SMS, WhatsApp, web form): read it (audited), reply.

GET  /api/v1/contacts/{id}/messages  the thread, oldest first, and whether a reply is possible
POST /api/v1/contacts/{id}/replies   {"body": "…"} → 202 {"id", "status": "pending"}; sent by a job
                                     web form: 201 {"id", "status": "available"}; sent nowhere,
                                     the reporter reads it on the follow-up page (receipt code)
                                     web chat: 201 {"id", "status": "delivered"}, into the chat
                                     (only while it is active and accepted by the one replying)
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from access.models import Role
from access.service import audit
from intake import messaging, replies
from intake.delivery import Refusal
from intake.models import Message
from web.appkeys import chat_bus_key, deps_key, staff_key
from web.middleware import FieldError
from web.policy import requires_role

MAX_ID = 2**63 - 1


def _contact_id(request: web.Request) -> int:
    contact_id = int(request.match_info["contact_id"])
    if contact_id > MAX_ID:
        raise web.HTTPNotFound(reason="no contact has this id")
    return contact_id


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


async def _reply_body(request: web.Request) -> str:
    try:
        posted = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FieldError("body", 'send JSON like {"body": "…"}') from None
    body = posted.get("body") if isinstance(posted, dict) else None
    if not isinstance(body, str):
        raise FieldError("body", 'send JSON like {"body": "…"}: the reply text is missing')
    return body


@requires_role(Role.HOTLINE)
async def reply_api(request: web.Request) -> web.Response:
    contact_id = _contact_id(request)
    body = await _reply_body(request)
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
