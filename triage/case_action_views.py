"""The case page's own actions: internal notes, moving a contact, merging, closing or reopening.

POST /cases/{id}/notes                         a note (body) → 303 to the timeline
POST /cases/{id}/contacts/{contact_id}/move    (reference: the case it belongs to) → 303 back
POST /cases/{id}/merge                         (reference: the case to merge into) → 303 there
POST /cases/{id}/status                        (status, reason, note) → 303 back
Hotline role, like the page. A refusal shows the page again with the message in the page's
language next to the form (4xx) and what was typed; nothing is stored then.
The JSON equivalents are in triage/case_api.py.
"""

from __future__ import annotations

from aiohttp import web

from access.models import Role
from intake.concern_form import FieldProblem
from triage import manual_status, moves, notes, states
from triage.case_views import _id
from triage.case_views import show_case as show_page
from triage.labels import DEADLINE_LABELS, refusal_text
from triage.models import CaseStatus, CloseReason
from web.appkeys import deps_key
from web.handlers import current_staff
from web.i18n import N_
from web.policy import requires_role
from web.rendering import add_globals, gettext_for, see_other

NOTE_LENGTH = N_("Write a note of 1 to %(limit)d characters.")
MOVE_REFUSALS = {
    moves.UNKNOWN_REFERENCE: N_(
        "No case has this reference. Write it exactly as the case shows it, e.g. NAT-2026-00042."
    ),
    moves.SAME_CASE: N_("That is this case's own reference. Give the other case's reference."),
    moves.TARGET_CLOSED: N_("That case is closed. Reopen it first, or choose an open case."),
}
# Refusals of what was typed (400); the others are refusals of the move itself (409).
BAD_REFERENCE = frozenset({moves.UNKNOWN_REFERENCE, moves.SAME_CASE})
LEFT_EMPTY = N_(
    "This is the case's last contact, so the case would be closed as merged, but: %(refusal)s"
)
STATUS_PROBLEMS = {
    "status": N_("Choose whether to close the case or to reopen it."),
    "reason": N_(
        "This form closes a case only as “No concern to triage”. Triage records the other "
        "outcomes, and a merge closes a case as merged."
    ),
    "reason_not_taken": N_("Only closing a case takes a reason."),
    "note_required": N_("Write why the case is reopened."),
    "note_length": NOTE_LENGTH,
}
NOT_THIS_FORM = N_(
    "This form only closes a case that has nothing to triage, or reopens a closed case. The "
    "other moves belong to triage and routing."
)
NOTE_FIELD = "note-body"
MERGE_FIELD = "merge-reference"
STATUS_FIELD = "case-status"


def move_allowed(status: CaseStatus, target: str, reason: str | None = None) -> bool:
    """Whether the state machine allows this move now (templates use it to offer forms)."""
    try:
        states.check(status, CaseStatus(target), CloseReason(reason) if reason else None)
    except states.IllegalTransition:
        return False
    return True


@requires_role(Role.HOTLINE)
async def add_note(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    body = str((await request.post()).get("body", ""))
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            await notes.add_note(
                session, case_id, body, staff_id=current_staff(request).id, now=deps.clock.now()
            )
    except notes.CaseNotFound:
        raise web.HTTPNotFound(reason="no case has this id") from None
    except notes.NoteInvalid:
        return await show_page(
            request,
            case_id,
            status=400,
            errors={NOTE_FIELD: FieldProblem(NOTE_LENGTH, notes.MAX_NOTE_CHARS)},
            values={NOTE_FIELD: body},
        )
    return see_other(f"/cases/{case_id}#timeline-title")


def _move_problem(request: web.Request, exc: moves.MoveRefused, *, last_contact: bool) -> str:
    gettext = gettext_for(request)
    if exc.refused is not None:
        said = refusal_text(exc.refused, gettext)
        return str(gettext(LEFT_EMPTY) % {"refusal": said}) if last_contact else said
    return str(gettext(MOVE_REFUSALS.get(exc.code, exc.message)))


@requires_role(Role.HOTLINE)
async def move_contact(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    contact_id = _id(request, "contact_id")
    reference = str((await request.post()).get("reference", ""))
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            await moves.move_contact(
                session,
                case_id,
                contact_id,
                to_reference=reference,
                staff_id=current_staff(request).id,
                now=deps.clock.now(),
            )
    except moves.NotFound:
        raise web.HTTPNotFound(reason="this case has no such contact") from None
    except moves.MoveRefused as exc:
        field = f"move-{contact_id}"
        return await show_page(
            request,
            case_id,
            status=400 if exc.code in BAD_REFERENCE else 409,
            errors={field: FieldProblem(_move_problem(request, exc, last_contact=True))},
            values={field: reference},
        )
    return see_other(f"/cases/{case_id}")


@requires_role(Role.HOTLINE)
async def merge(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    reference = str((await request.post()).get("reference", ""))
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            merged = await moves.merge_cases(
                session,
                case_id,
                into_reference=reference,
                staff_id=current_staff(request).id,
                now=deps.clock.now(),
            )
    except moves.NotFound:
        raise web.HTTPNotFound(reason="no case has this id") from None
    except moves.MoveRefused as exc:
        return await show_page(
            request,
            case_id,
            status=400 if exc.code in BAD_REFERENCE else 409,
            errors={MERGE_FIELD: FieldProblem(_move_problem(request, exc, last_contact=False))},
            values={MERGE_FIELD: reference},
        )
    return see_other(f"/cases/{merged.target.id}")


@requires_role(Role.HOTLINE)
async def change_status(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    form = await request.post()
    status, reason, note = (str(form.get(name, "")) for name in ("status", "reason", "note"))
    # The two forms (close, reopen) each have their own note field.
    note_field = "reopen-note" if status == CaseStatus.IN_TRIAGE else "close-note"
    deps = request.app[deps_key]
    code, where, problem = 409, STATUS_FIELD, None
    try:
        wanted = manual_status.parse(status, reason or None, note)
        async with deps.sessions() as session, session.begin():
            changed = await manual_status.change(
                session,
                case_id,
                wanted,
                staff_id=current_staff(request).id,
                now=deps.clock.now(),
            )
    except manual_status.StatusRequestInvalid as exc:
        code = 400
        where = note_field if exc.field == "note" else STATUS_FIELD
        limit = notes.MAX_NOTE_CHARS if exc.code == "note_length" else None
        problem = FieldProblem(STATUS_PROBLEMS.get(exc.code, exc.message), limit)
    except states.IllegalTransition as exc:
        problem = FieldProblem(refusal_text(exc, gettext_for(request)))
    except manual_status.NotThisForm:
        problem = FieldProblem(NOT_THIS_FORM)
    if problem is not None:
        return await show_page(
            request, case_id, status=code, errors={where: problem}, values={note_field: note}
        )
    if changed is None:
        raise web.HTTPNotFound(reason="no case has this id")
    return see_other(f"/cases/{case_id}")


def register(app: web.Application) -> None:
    add_globals(app, deadline_labels=DEADLINE_LABELS, move_allowed=move_allowed)
    app.router.add_post(r"/cases/{case_id:\d+}/notes", add_note)
    app.router.add_post(r"/cases/{case_id:\d+}/contacts/{contact_id:\d+}/move", move_contact)
    app.router.add_post(r"/cases/{case_id:\d+}/merge", merge)
    app.router.add_post(r"/cases/{case_id:\d+}/status", change_status)
