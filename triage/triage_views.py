"""The triage form as a staff page and as JSON, and child welfare notifications marked as sent.

GET  /cases/{id}/triage                                  the form (hotline role; audited)
POST /cases/{id}/triage                                  action=save → draft, 303 back to the form
                                                         action=submit → submitted, 303 to the case
POST /cases/{id}/child-notifications/{n}/sent            from the case page → 303 to the case
GET  /api/v1/triage-form                                 the current form, labels translated
GET  /api/v1/cases/{id}/triage                           draft + history (audited)
PUT  /api/v1/cases/{id}/triage                           save the draft {revision, answers}
POST /api/v1/cases/{id}/triage/submit                    submit {revision, answers?}
POST /api/v1/child-notifications/{n}/sent                {how}

Invalid answers answer 400 naming every field (pages: the form again, in the user's language, with
what was typed); a stale revision or a case that is not in triage answers 409.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from pydantic import Field as Constraint
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import Role
from access.service import audit
from denmark.municipalities import all_municipalities, find
from intake.concern_form import FieldProblem
from triage import triage_form, triage_service
from triage.case_views import show_case
from triage.models import ChildWelfareNotification, TriageRecord
from triage.states import IllegalTransition
from triage.triage_service import TriageState
from web.api import operation, read_body
from web.appkeys import deps_key, staff_key
from web.handlers import current_staff, json_model
from web.i18n import N_
from web.path_ids import path_id
from web.policy import requires_role
from web.rendering import add_globals, gettext_for, render, see_other

FORM_ID = "triage-form"  # the <form>'s id: where a problem of the whole form links to
SAVED = N_("The draft is saved. It is not submitted yet.")
STALE = N_(
    "Someone else saved this form since you opened it. Reload the page to see their version; "
    "copy what you wrote first."
)
FORM_CHANGED = N_("The triage form has changed since you opened it. Reload the page.")
NOT_IN_TRIAGE = N_(
    "This case is not in triage now, so it cannot be triaged. A closed case can be reopened first."
)
ALREADY_SENT = N_("This notification was already marked as sent.")
# Short names for outcomes on the case page (the form's options say what each one does).
OUTCOME_LABELS = {
    triage_form.TriageOutcome.JUSTIFIED: N_("Justified concern"),
    triage_form.TriageOutcome.NOT_JUSTIFIED: N_("Not a justified concern"),
    triage_form.TriageOutcome.ADVICE_ONLY: N_("Advice only"),
    triage_form.TriageOutcome.POLICE: N_("Handled by the police"),
}


def _id(request: web.Request, name: str) -> int:
    return path_id(request, name, missing="no such id")


def _int(value: object, default: int | None = None) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() and len(text) < 10 else default


# --- the page ------------------------------------------------------------------------------------


def _initial_values(state: TriageState) -> dict[str, Any]:
    if state.draft is not None:
        return triage_form.input_values(state.draft.form_version, state.draft.answers)
    # A new triage starts from what intake already knows about the reporter.
    return {"reporter_role": state.case.reporter_role.value}


async def _read_state(session: AsyncSession, request: web.Request, case_id: int) -> TriageState:
    """The case's triage state, its reading audited; 404 if there is no such case."""
    state = await triage_service.load_state(session, case_id)
    if state is None:
        raise web.HTTPNotFound(reason="no case has this id")
    audit(
        session,
        at=request.app[deps_key].clock.now(),
        actor=request[staff_key],
        action="read_triage",
        subject_kind="case",
        subject_id=case_id,
        detail={"draft": state.draft is not None, "submitted": len(state.history)},
    )
    return state


async def _show_form(
    request: web.Request,
    case_id: int,
    *,
    status: int = 200,
    errors: dict[str, FieldProblem] | None = None,
    values: dict[str, Any] | None = None,
    revision: int | None = None,
    form_version: int | None = None,
    notice: str | None = None,
) -> web.Response:
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        state = await _read_state(session, request, case_id)
        context = {
            "state": state,
            "form": triage_form.definition(form_version or state.form_version),
            "values": _initial_values(state) if values is None else values,
            "errors": errors or {},
            "revision": state.revision if revision is None else revision,
            "show_form": state.triageable or values is not None,
            "notice": notice,
            "municipalities": all_municipalities(),
        }
        # Rendered inside the session: the draft's encrypted answers are read here.
        return render(request, "triage/triage_form.html", context, status=status)


@requires_role(Role.HOTLINE)
async def form_page(request: web.Request) -> web.Response:
    notice = SAVED if request.query.get("saved") == "1" else None
    return await _show_form(request, _id(request, "case_id"), notice=notice)


def _posted_answers(form: Any, definition: triage_form.FormDefinition) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for spec in definition.fields():
        if spec.kind is triage_form.Kind.MULTI_CHOICE:
            answers[spec.name] = [str(v) for v in form.getall(spec.name, [])]
        else:
            answers[spec.name] = str(form.get(spec.name, ""))
    return answers


@requires_role(Role.HOTLINE)
async def form_post(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    form = await request.post()
    revision = _int(form.get("revision"), 0) or 0
    version = _int(form.get("form_version"))
    try:
        definition = triage_form.definition(version)
    except triage_form.UnknownVersion:
        raise web.HTTPBadRequest(reason="unknown form version") from None
    answers = _posted_answers(form, definition)
    submitting = form.get("action") == "submit"
    deps = request.app[deps_key]
    staff = current_staff(request)
    problem: tuple[int, dict[str, FieldProblem]] | None = None
    try:
        async with deps.sessions() as session, session.begin():
            use_case = triage_service.submit if submitting else triage_service.save_draft
            await use_case(
                session,
                case_id,
                answers,
                revision=revision,
                staff_id=staff.id,
                now=deps.clock.now(),
                form_version=definition.version,
            )
    except triage_service.CaseNotFound:
        raise web.HTTPNotFound(reason="no case has this id") from None
    except triage_service.TriageInvalid as invalid:
        problem = (400, invalid.errors)
    except triage_service.StaleRevision:
        problem = (409, {FORM_ID: FieldProblem(STALE)})
    except triage_service.FormVersionChanged:
        problem = (409, {FORM_ID: FieldProblem(FORM_CHANGED)})
    except IllegalTransition:
        problem = (409, {FORM_ID: FieldProblem(NOT_IN_TRIAGE)})
    if problem is not None:
        return await _show_form(
            request,
            case_id,
            status=problem[0],
            errors=problem[1],
            values=answers,
            revision=revision,
            form_version=definition.version,
        )
    if submitting:
        return see_other(f"/cases/{case_id}#triage")
    return see_other(f"/cases/{case_id}/triage?saved=1")


@requires_role(Role.HOTLINE)
async def notification_sent_page(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    notification_id = _id(request, "notification_id")
    how = str((await request.post()).get("how", ""))
    deps = request.app[deps_key]
    name = f"notification-{notification_id}"
    errors: dict[str, FieldProblem] = {}
    status = 400
    try:
        async with deps.sessions() as session, session.begin():
            await triage_service.mark_notification_sent(
                session,
                notification_id,
                how=how,
                staff_id=current_staff(request).id,
                now=deps.clock.now(),
                case_id=case_id,
            )
    except triage_service.NotificationNotFound:
        raise web.HTTPNotFound(reason="this case has no such notification") from None
    except triage_service.TriageInvalid as invalid:
        errors = {name: invalid.errors["how"]}
    except triage_service.AlreadySent:
        errors, status = {"child-notifications": FieldProblem(ALREADY_SENT)}, 409
    if errors:
        return await show_case(request, case_id, status=status, errors=errors, values={name: how})
    return see_other(f"/cases/{case_id}#child-notifications")


# --- the API -------------------------------------------------------------------------------------


class OptionOut(BaseModel):
    value: str
    label: str


class ShownWhenOut(BaseModel):
    field: str
    values: list[str]


class FieldOut(BaseModel):
    name: str
    kind: triage_form.Kind
    label: str
    help: str | None
    required: bool
    options: list[OptionOut]
    max_length: int | None
    shown_when: ShownWhenOut | None


class SectionOut(BaseModel):
    name: str
    legend: str
    help: str | None
    fields: list[FieldOut]


class FormOut(BaseModel):
    version: int
    sections: list[SectionOut]


class RecordOut(BaseModel):
    id: int
    form_version: int
    status: str
    outcome: str | None
    revision: int
    answers: dict[str, Any]
    created_by: int
    created_at: datetime
    updated_by: int
    updated_at: datetime
    submitted_by: int | None
    submitted_at: datetime | None


class NotificationOut(BaseModel):
    id: int
    case_id: int
    municipality: int
    municipality_name: str | None
    status: str
    created_by: int
    created_at: datetime
    sent_by: int | None
    sent_at: datetime | None
    sent_how: str | None


class TriageOut(BaseModel):
    case_id: int
    case_status: str
    # What the next save or submission names: the draft's revision (0: no draft) and version.
    revision: int
    form_version: int
    draft: RecordOut | None
    history: list[RecordOut]
    child_notifications: list[NotificationOut]


class SaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Constraint(ge=0, description="the draft's revision; 0 when there is none")
    form_version: int | None = None
    answers: dict[str, Any]


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Constraint(ge=0)
    form_version: int | None = None
    # Left out: the stored draft is submitted as it is.
    answers: dict[str, Any] | None = None


class SubmitOut(BaseModel):
    record: RecordOut
    case_status: str
    closed_reason: str | None
    acute: bool
    child_notification: NotificationOut | None


class SentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    how: str = Constraint(description="how the notification was sent, e.g. digital post")


def _form_out(definition: triage_form.FormDefinition, _: Callable[[str], str]) -> FormOut:
    def shown(spec: triage_form.Field) -> ShownWhenOut | None:
        when = spec.shown_when
        return None if when is None else ShownWhenOut(field=when.field, values=list(when.values))

    return FormOut(
        version=definition.version,
        sections=[
            SectionOut(
                name=section.name,
                legend=_(section.legend),
                help=_(section.help) if section.help else None,
                fields=[
                    FieldOut(
                        name=spec.name,
                        kind=spec.kind,
                        label=_(spec.label),
                        help=_(spec.help) if spec.help else None,
                        required=spec.required,
                        options=[OptionOut(value=o.value, label=_(o.label)) for o in spec.options],
                        max_length=spec.max_length,
                        shown_when=shown(spec),
                    )
                    for spec in section.fields
                ],
            )
            for section in definition.sections
        ],
    )


def _record_out(record: TriageRecord) -> RecordOut:
    return RecordOut(
        id=record.id,
        form_version=record.form_version,
        status=record.status.value,
        outcome=record.outcome.value if record.outcome else None,
        revision=record.revision,
        answers=record.answers,
        created_by=record.created_by,
        created_at=record.created_at,
        updated_by=record.updated_by,
        updated_at=record.updated_at,
        submitted_by=record.submitted_by,
        submitted_at=record.submitted_at,
    )


def _notification_out(notification: ChildWelfareNotification) -> NotificationOut:
    municipality = find(notification.municipality)
    return NotificationOut(
        id=notification.id,
        case_id=notification.case_id,
        municipality=notification.municipality,
        municipality_name=municipality.name if municipality else None,
        status=notification.status.value,
        created_by=notification.created_by,
        created_at=notification.created_at,
        sent_by=notification.sent_by,
        sent_at=notification.sent_at,
        sent_how=notification.sent_how,
    )


def _invalid(errors: dict[str, FieldProblem]) -> web.Response:
    """400 naming every field with a problem; `field` is the first, as in every API error."""
    messages = {
        name: problem.message % {"limit": problem.limit} if problem.limit else problem.message
        for name, problem in errors.items()
    }
    first = next(iter(messages))
    return web.json_response(
        {
            "error": {
                "code": 400,
                "message": f"{first}: {messages[first]}",
                "field": first,
                "fields": messages,
            }
        },
        status=400,
    )


def _conflict(exc: Exception) -> web.HTTPConflict:
    message = exc.message if isinstance(exc, IllegalTransition) else getattr(exc, "message", "")
    return web.HTTPConflict(reason=message or "conflict")


@requires_role(Role.HOTLINE)
@operation(
    "The current triage form, labels in the request's language", tag="triage", response=FormOut
)
async def form_api(request: web.Request) -> web.Response:
    return json_model(_form_out(triage_form.definition(), gettext_for(request)))


@requires_role(Role.HOTLINE)
@operation(
    "A case's triage: its draft, its submitted history and child welfare notifications",
    tag="triage",
    response=TriageOut,
    errors=(404,),
)
async def triage_api(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        state = await _read_state(session, request, case_id)
        answer = TriageOut(
            case_id=case_id,
            case_status=state.case.status.value,
            revision=state.revision,
            form_version=state.form_version,
            draft=_record_out(state.draft) if state.draft else None,
            history=[_record_out(r) for r in state.history],
            child_notifications=[_notification_out(n) for n in state.notifications],
        )
    return json_model(answer)


async def _write(
    request: web.Request,
    write: Callable[[AsyncSession, int, datetime], Awaitable[BaseModel]],
) -> web.Response:
    """A save or a submission in one transaction, by the staff member, at the clock's time."""
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            answer = await write(session, current_staff(request).id, deps.clock.now())
    except triage_service.CaseNotFound:
        raise web.HTTPNotFound(reason="no case has this id") from None
    except triage_service.TriageInvalid as invalid:
        return _invalid(invalid.errors)
    except (
        triage_service.StaleRevision,
        triage_service.FormVersionChanged,
        IllegalTransition,
    ) as exc:
        raise _conflict(exc) from None
    return json_model(answer)


@requires_role(Role.HOTLINE)
@operation(
    "Save the case's triage draft (moves a new case into triage)",
    tag="triage",
    body=SaveIn,
    response=RecordOut,
    errors=(400, 404, 409),
)
async def save_api(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    body = await read_body(request, SaveIn)

    async def save(session: AsyncSession, staff_id: int, now: datetime) -> RecordOut:
        record = await triage_service.save_draft(
            session,
            case_id,
            body.answers,
            revision=body.revision,
            staff_id=staff_id,
            now=now,
            form_version=body.form_version,
        )
        return _record_out(record)

    return await _write(request, save)


@requires_role(Role.HOTLINE)
@operation(
    "Submit the case's triage: the case is justified or closed by the outcome",
    tag="triage",
    body=SubmitIn,
    response=SubmitOut,
    errors=(400, 404, 409),
)
async def submit_api(request: web.Request) -> web.Response:
    case_id = _id(request, "case_id")
    body = await read_body(request, SubmitIn)

    async def submit(session: AsyncSession, staff_id: int, now: datetime) -> SubmitOut:
        done = await triage_service.submit(
            session,
            case_id,
            body.answers,
            revision=body.revision,
            staff_id=staff_id,
            now=now,
            form_version=body.form_version,
        )
        case = done.case
        return SubmitOut(
            record=_record_out(done.record),
            case_status=case.status.value,
            closed_reason=case.closed_reason.value if case.closed_reason else None,
            acute=case.is_acute,
            child_notification=_notification_out(done.notification) if done.notification else None,
        )

    return await _write(request, submit)


@requires_role(Role.HOTLINE)
@operation(
    "Mark a child welfare notification (underretning) as sent",
    tag="triage",
    body=SentIn,
    response=NotificationOut,
    errors=(400, 404, 409),
)
async def notification_sent_api(request: web.Request) -> web.Response:
    notification_id = _id(request, "notification_id")
    body = await read_body(request, SentIn)
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            notification = await triage_service.mark_notification_sent(
                session,
                notification_id,
                how=body.how,
                staff_id=current_staff(request).id,
                now=deps.clock.now(),
            )
            answer = _notification_out(notification)
    except triage_service.NotificationNotFound:
        raise web.HTTPNotFound(reason="no such notification") from None
    except triage_service.TriageInvalid as invalid:
        return _invalid(invalid.errors)
    except triage_service.AlreadySent as exc:
        raise _conflict(exc) from None
    return json_model(answer)


def register(app: web.Application) -> None:
    add_globals(
        app,
        triage_definition=triage_form.definition,
        triage_moment=datetime.fromisoformat,
        triage_outcome_labels=OUTCOME_LABELS,
    )
    app.router.add_get(r"/cases/{case_id:\d+}/triage", form_page, name="triage_form")
    app.router.add_post(r"/cases/{case_id:\d+}/triage", form_post)
    app.router.add_post(
        r"/cases/{case_id:\d+}/child-notifications/{notification_id:\d+}/sent",
        notification_sent_page,
    )
    app.router.add_get("/api/v1/triage-form", form_api)
    app.router.add_get(r"/api/v1/cases/{case_id:\d+}/triage", triage_api)
    app.router.add_put(r"/api/v1/cases/{case_id:\d+}/triage", save_api)
    app.router.add_post(r"/api/v1/cases/{case_id:\d+}/triage/submit", submit_api)
    app.router.add_post(
        r"/api/v1/child-notifications/{notification_id:\d+}/sent", notification_sent_api
    )
