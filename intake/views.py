"""Public pages: choose a hotline, report a concern, get a receipt, check a report by its code."""

from __future__ import annotations

from aiohttp import web

from db import RowInserter
from denmark.municipalities import all_municipalities
from intake import concern_form, follow_up, service
from intake.messaging import CaseTimeline
from intake.models import contacts_table
from intake.receipts import InvalidReceiptCode
from jobqueue import take_in_contacts
from web.appkeys import (
    case_timeline_key,
    contact_inserter_key,
    csrf_failed_key,
    deps_key,
    language_key,
)
from web.csrf import FORM_CONTENT_TYPES
from web.i18n import N_
from web.policy import csrf_keeps_input, public, rate_limited
from web.ratelimit import RECEIPT_CHECKS, REPORTS
from web.rendering import render

HOTLINES = ("national", "copenhagen")

CSRF_EXPIRED = N_(
    "The form had been open for a long time, so we could not accept it safely. "
    "Your answers are kept below: please check them and send again."
)
RECEIPT_FORMAT = N_("A receipt code has 20 letters and digits, like ABCD-EFGH-JKMN-PQRS-TVWX.")
RECEIPT_UNKNOWN = N_("No report has this receipt code. Check that it is typed correctly.")


@public
async def landing(request: web.Request) -> web.Response:
    return render(request, "intake/landing.html")


def _hotline_id(request: web.Request) -> str:
    hotline_id = request.match_info["hotline"]
    if hotline_id not in HOTLINES:
        raise web.HTTPNotFound()
    return hotline_id


def _form_context(
    hotline_id: str, values: dict[str, str], errors: dict[str, concern_form.FieldProblem]
) -> dict[str, object]:
    return {
        "hotline": hotline_id,
        "values": values,
        "errors": errors,
        "municipalities": all_municipalities(),
        "roles": concern_form.REPORTER_ROLES,
        "age_bands": concern_form.AGE_BANDS,
        "safety_questions": concern_form.SAFETY_QUESTIONS,
        "limits": concern_form.LIMITS,
    }


@public
async def concern_form_page(request: web.Request) -> web.Response:
    hotline_id = _hotline_id(request)
    return render(request, "intake/concern_form.html", _form_context(hotline_id, {}, {}))


@public
@csrf_keeps_input
@rate_limited(REPORTS)
async def submit_concern(request: web.Request) -> web.Response:
    hotline_id = _hotline_id(request)
    if request.content_type not in FORM_CONTENT_TYPES:
        raise web.HTTPUnsupportedMediaType(
            reason="send the form as application/x-www-form-urlencoded"
        )
    posted = await request.post()
    values = {key: value for key, value in posted.items() if isinstance(value, str)}
    values.pop("csrf_token", None)
    if request.get(csrf_failed_key):
        context = _form_context(hotline_id, values, {})
        context["notice"] = CSRF_EXPIRED
        return render(request, "intake/concern_form.html", context, status=403)

    result = concern_form.validate(values)
    if result.report is None:
        return render(
            request,
            "intake/concern_form.html",
            _form_context(hotline_id, values, result.errors),
            status=400,
        )
    deps = request.app[deps_key]
    stored = await service.record_concern(
        request.app[contact_inserter_key],
        result.report,
        hotline_id=hotline_id,
        language=request[language_key],
        now=deps.clock.now(),
        cipher=deps.cipher,
    )
    # Committed: from here the contact cannot be lost. Enqueue without making the reporter wait;
    # if Redis is down, the sweeper picks the contact up.
    deps.enqueuer.submit(take_in_contacts, stored.contact_id)
    return render(
        request,
        "intake/receipt.html",
        {"code": stored.receipt_code, "acute": result.report.is_acute, "hotline": hotline_id},
    )


def _follow_up_context(
    code: str = "",
    *,
    error: str | None = None,
    thread: follow_up.FollowUp | None = None,
    information: str = "",
    errors: dict[str, concern_form.FieldProblem] | None = None,
    added: bool = False,
    notice: str | None = None,
) -> dict[str, object]:
    return {
        # With a thread the code travels only in the add form's hidden field, never in a URL.
        "code": code,
        "error": error,
        "status": thread.status if thread else None,
        "thread": thread,
        "values": {"information": information},
        "errors": errors or {},
        "limits": concern_form.FOLLOW_UP_LIMITS,
        "added": added,
        "notice": notice,
        # The language link leads to the empty page: the code is never put in a URL.
        "path": "/follow-up",
    }


def _bad_code(request: web.Request, code: str, *, unknown: bool) -> web.Response:
    return render(
        request,
        "intake/follow_up.html",
        _follow_up_context(code, error=RECEIPT_UNKNOWN if unknown else RECEIPT_FORMAT),
        status=404 if unknown else 400,
    )


async def _posted_form(request: web.Request) -> dict[str, str]:
    if request.content_type not in FORM_CONTENT_TYPES:
        raise web.HTTPUnsupportedMediaType(
            reason="send the form as application/x-www-form-urlencoded"
        )
    posted = await request.post()
    return {key: value for key, value in posted.items() if isinstance(value, str)}


@public
async def follow_up_page(request: web.Request) -> web.Response:
    return render(request, "intake/follow_up.html", _follow_up_context())


@public
@rate_limited(RECEIPT_CHECKS)
async def check_receipt(request: web.Request) -> web.Response:
    code = (await _posted_form(request)).get("code", "")[:64]
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            thread = await follow_up.open_thread(session, code, now=deps.clock.now())
    except InvalidReceiptCode:
        return _bad_code(request, code, unknown=False)
    if thread is None:
        return _bad_code(request, code, unknown=True)
    return render(request, "intake/follow_up.html", _follow_up_context(code, thread=thread))


@public
@csrf_keeps_input
@rate_limited(RECEIPT_CHECKS)
async def follow_up_add(request: web.Request) -> web.Response:
    """The reporter adds information to their report (the code comes in a hidden field)."""
    values = await _posted_form(request)
    code = values.get("code", "")[:64]
    information = values.get("information", "")
    if request.get(csrf_failed_key):
        # Nothing is read or stored on an unsafe request; the text is kept for sending again.
        context = _follow_up_context(code, information=information, notice=CSRF_EXPIRED)
        return render(request, "intake/follow_up.html", context, status=403)
    text, problem = concern_form.validate_information(information)
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            if problem is None:
                thread = await follow_up.add_information(
                    session,
                    code,
                    text,
                    now=deps.clock.now(),
                    timeline=request.app[case_timeline_key],
                )
            else:
                thread = await follow_up.open_thread(session, code, now=deps.clock.now())
    except InvalidReceiptCode:
        return _bad_code(request, code, unknown=False)
    if thread is None:
        return _bad_code(request, code, unknown=True)
    if problem is not None:
        context = _follow_up_context(
            code, thread=thread, information=information, errors={"information": problem}
        )
        return render(request, "intake/follow_up.html", context, status=400)
    context = _follow_up_context(code, thread=thread, added=True)
    return render(request, "intake/follow_up.html", context)


@public
async def follow_up_add_page(request: web.Request) -> web.Response:
    """A GET of the add address (a reload, a bookmark): the empty follow-up page."""
    raise web.HTTPSeeOther("/follow-up")


def register(app: web.Application, *, timeline: CaseTimeline) -> None:
    """The public pages; `timeline` notes added information on the case (triage's port)."""
    app[case_timeline_key] = timeline
    inserter = RowInserter(app[deps_key].engine, contacts_table)
    app[contact_inserter_key] = inserter

    async def close_inserter(_app: web.Application) -> None:
        await inserter.close()

    app.on_cleanup.append(close_inserter)
    app.router.add_get("/", landing, name="landing")
    app.router.add_get("/report/{hotline}", concern_form_page, name="concern_form")
    app.router.add_post("/report/{hotline}", submit_concern)
    app.router.add_get("/follow-up", follow_up_page, name="follow_up")
    app.router.add_post("/follow-up", check_receipt)
    app.router.add_get("/follow-up/add", follow_up_add_page)
    app.router.add_post("/follow-up/add", follow_up_add, name="follow_up_add")
