"""The staff case page: one case with its contacts, threads, calls, link proposals and timeline.

GET  /cases/{id}                                     the page (staff; one audit entry per view)
POST /cases/{id}/contacts/{contact_id}/reply          a reply (hotline role; form + CSRF) → 303;
                                                      SMS/WhatsApp sent, web form on the
                                                      follow-up page, web chat into the chat
POST /cases/{id}/link-proposals/{proposal_id}/confirm  triage.linking.decide → 303
POST /cases/{id}/link-proposals/{proposal_id}/reject
Refusals and invalid replies show the page again with the message and the typed text (4xx).
The page's note, move, merge and status forms are in triage/case_action_views.py and use
`_show` the same way.
"""

from __future__ import annotations

from aiohttp import web

from access.models import Role
from access.service import audit
from denmark.municipalities import by_code
from intake import delivery, messaging, replies
from intake.concern_form import FieldProblem
from triage import assignment, case_page, linking, timeline_view
from web.appkeys import chat_bus_key, deps_key, language_key, staff_key
from web.i18n import N_
from web.path_ids import path_id
from web.policy import requires_role
from web.rendering import gettext_for, local_time, render, see_other

# The refusals of intake/delivery.py, in words the page translates.
REFUSALS = {
    delivery.NOT_A_MESSAGE_CHANNEL.code: N_("This contact has no thread to reply in."),
    delivery.NO_RECEIPT.code: N_(
        "This web-form contact has no receipt code, so the reporter could not read a reply."
    ),
    delivery.NO_NUMBER.code: N_(
        "The sender's number was withheld or could not be read, so a reply cannot be sent."
    ),
    delivery.NO_SENDER.code: N_(
        "It is not known which of our numbers the sender wrote to, so a reply cannot be sent."
    ),
    delivery.OPTED_OUT.code: N_(
        "The number has opted out of messages (STOP/AFMELD). Nothing is sent to it until it "
        "writes START."
    ),
    delivery.CHAT_WAITING.code: N_(
        "The visitor is waiting in the chat. Accept the chat on the chats page to answer."
    ),
    delivery.CHAT_TAKEN.code: N_(
        "Another staff member has accepted this chat; only they can write in it."
    ),
    delivery.CHAT_ENDED.code: N_(
        "The chat has ended. A web chat leaves no address to write to, so the visitor cannot "
        "be reached in it any more."
    ),
}
REPLY_LENGTH = N_("Write a reply of 1 to %(limit)d characters.")
ALREADY_DECIDED = N_("This link proposal was already decided, or its case has closed since.")


def _id(request: web.Request, name: str) -> int:
    return path_id(request, name, missing="no such case")


def refusal_text(refusal: delivery.Refusal | None) -> str | None:
    return None if refusal is None else REFUSALS.get(refusal.code, refusal.message)


async def show_case(
    request: web.Request,
    case_id: int,
    *,
    status: int = 200,
    errors: dict[str, FieldProblem] | None = None,
    values: dict[str, str] | None = None,
) -> web.Response:
    deps = request.app[deps_key]
    staff = request[staff_key]
    language = request[language_key]
    async with deps.sessions() as session, session.begin():
        page = await case_page.load(session, case_id, viewer_id=staff.id if staff else None)
        if page is None:
            raise web.HTTPNotFound(reason="no case has this id")
        audit(
            session,
            at=deps.clock.now(),
            actor=staff,
            action="read_case",
            subject_kind="case",
            subject_id=case_id,
            detail={"contacts": len(page.contacts), "messages": page.message_count},
        )
        context = {
            "page": page,
            "errors": errors or {},
            "values": values or {},
            "municipalities": by_code(),
            "refusal_text": refusal_text,
            "now": deps.clock.now(),
            "timeline": timeline_view.entries(
                page,
                gettext=gettext_for(request),
                format_time=lambda moment: local_time(moment, language),
                now=deps.clock.now(),
            ),
            # For the assignment partial (triage/_assignment.html).
            "assignees": await assignment.eligible_assignees(session),
        }
        # Rendered inside the session: the rows' encrypted fields are read here.
        return render(request, "triage/case.html", context, status=status)


# Decrypted reporter details, messages and voicemails: hotline staff only, like the thread API.
@requires_role(Role.HOTLINE)
async def case_view(request: web.Request) -> web.Response:
    return await show_case(request, _id(request, "case_id"))


@requires_role(Role.HOTLINE)
async def reply(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    contact_id = _id(request, "contact_id")
    form = await request.post()
    body = str(form.get("body", ""))
    field_name = f"reply-{contact_id}"
    problem: FieldProblem | None = None
    status = 400
    try:
        await replies.reply(
            request.app[deps_key],
            contact_id=contact_id,
            body=body,
            staff=request[staff_key],
            case_id=case_id,
            chat_bus=request.app[chat_bus_key],
        )
    except messaging.ContactNotFound:
        raise web.HTTPNotFound(reason="this case has no such contact") from None
    except messaging.ReplyBodyInvalid:
        problem = FieldProblem(REPLY_LENGTH, delivery.MAX_REPLY_CHARS)
    except messaging.ReplyRefused as exc:
        problem = FieldProblem(REFUSALS.get(exc.code, exc.message))
        status = 409
    if problem is not None:
        return await show_case(
            request, case_id, status=status, errors={field_name: problem}, values={field_name: body}
        )
    return see_other(f"/cases/{case_id}#contact-{contact_id}")


async def _decide(request: web.Request, *, confirm: bool) -> web.Response:
    case_id = _id(request, "case_id")
    proposal_id = _id(request, "proposal_id")
    deps = request.app[deps_key]
    staff = request[staff_key]
    assert staff is not None  # the access guard lets only staff reach here
    try:
        async with deps.sessions() as session, session.begin():
            involved = {p.id for p in await linking.proposals_for_case(session, case_id)}
            if proposal_id not in involved:
                raise linking.LinkNotPossible("not an open proposal of this case")
            await linking.decide(
                session, proposal_id, confirm=confirm, staff_id=staff.id, now=deps.clock.now()
            )
    except linking.LinkNotPossible:
        return await show_case(
            request,
            case_id,
            status=409,
            errors={"proposals": FieldProblem(ALREADY_DECIDED)},
        )
    return see_other(f"/cases/{case_id}")


async def confirm_link(request: web.Request) -> web.Response:
    return await _decide(request, confirm=True)


async def reject_link(request: web.Request) -> web.Response:
    return await _decide(request, confirm=False)


def register(app: web.Application) -> None:
    app.router.add_get(r"/cases/{case_id:\d+}", case_view, name="case")
    app.router.add_post(r"/cases/{case_id:\d+}/contacts/{contact_id:\d+}/reply", reply)
    app.router.add_post(
        r"/cases/{case_id:\d+}/link-proposals/{proposal_id:\d+}/confirm", confirm_link
    )
    app.router.add_post(
        r"/cases/{case_id:\d+}/link-proposals/{proposal_id:\d+}/reject", reject_link
    )
