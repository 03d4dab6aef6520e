"""Public pages: choose a hotline, report a concern, get a receipt, check a report by its code."""

from __future__ import annotations

from aiohttp import web

from db import RowInserter
from denmark.municipalities import all_municipalities
from intake import concern_form, service
from intake.models import contacts_table
from intake.receipts import InvalidReceiptCode
from jobqueue import take_in_contacts
from web.appkeys import contact_inserter_key, csrf_failed_key, deps_key, language_key
from web.i18n import N_
from web.policy import csrf_keeps_input, public, rate_limited
from web.ratelimit import RECEIPT_CHECKS, REPORTS
from web.rendering import render

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
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


@public
async def follow_up_page(request: web.Request) -> web.Response:
    return render(request, "intake/follow_up.html", {"code": "", "error": None, "status": None})


@public
@rate_limited(RECEIPT_CHECKS)
async def follow_up(request: web.Request) -> web.Response:
    if request.content_type not in FORM_CONTENT_TYPES:
        raise web.HTTPUnsupportedMediaType(
            reason="send the form as application/x-www-form-urlencoded"
        )
    posted = await request.post()
    code = str(posted.get("code", ""))[:64]
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session:
            status = await service.status_for_receipt(session, code)
    except InvalidReceiptCode:
        return render(
            request,
            "intake/follow_up.html",
            {"code": code, "error": RECEIPT_FORMAT, "status": None},
            status=400,
        )
    if status is None:
        return render(
            request,
            "intake/follow_up.html",
            {"code": code, "error": RECEIPT_UNKNOWN, "status": None},
            status=404,
        )
    return render(request, "intake/follow_up.html", {"code": "", "error": None, "status": status})


def register(app: web.Application) -> None:
    inserter = RowInserter(app[deps_key].engine, contacts_table)
    app[contact_inserter_key] = inserter

    async def close_inserter(_app: web.Application) -> None:
        await inserter.close()

    app.on_cleanup.append(close_inserter)
    app.router.add_get("/", landing, name="landing")
    app.router.add_get("/report/{hotline}", concern_form_page, name="concern_form")
    app.router.add_post("/report/{hotline}", submit_concern)
    app.router.add_get("/follow-up", follow_up_page, name="follow_up")
    app.router.add_post("/follow-up", follow_up)
