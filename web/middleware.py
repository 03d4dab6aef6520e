"""Cross-cutting request handling: language, security headers, and errors as clear answers.

Every error, raised anywhere, leaves as a page in the user's language or, under /api/ (but for
its pages), as JSON `{"error": {"code": ..., "message": ..., "field": ...}}`. Never a stack trace.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from web.appkeys import deps_key, language_key
from web.csrf import FORM_CONTENT_TYPES
from web.i18n import LANGUAGE_COOKIE, LANGUAGES, N_, negotiate
from web.rendering import gettext_for, render

log = structlog.get_logger(__name__)

API_PREFIX = "/api/"
# Pages for people under /api/ (the API's reference): their errors are pages too, and an
# anonymous visitor is sent to the login form rather than answered 401.
API_REFERENCE_PAGE = "/api/docs"
API_PAGES = frozenset({API_REFERENCE_PAGE})


class FieldError(Exception):
    """A request field is missing or invalid; carried to a 400 answer that names it."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status


_MESSAGES = {
    400: N_("The request could not be understood."),
    401: N_("Please log in to see this page."),
    403: N_(
        "You are not allowed to do this. If you were filling in a form, reload the page and try again."  # noqa: E501
    ),
    404: N_("This page does not exist."),
    405: N_("This address does not accept that kind of request."),
    413: N_("What you sent is too large. Please shorten the text and try again."),
    415: N_("This address expects a web form (application/x-www-form-urlencoded)."),
    429: N_("Too many requests. Please wait a moment and try again."),
    500: N_(
        "Something went wrong on our side. Nothing you did caused it; please try again. In acute danger call 112."  # noqa: E501
    ),
}


def wants_json(request: web.Request) -> bool:
    return request.path.startswith(API_PREFIX) and request.path not in API_PAGES


def error_response(
    request: web.Request, status: int, *, reason: str | None = None, field: str | None = None
) -> web.StreamResponse:
    if wants_json(request):
        message = reason or _MESSAGES.get(status, "error")
        body: dict[str, object] = {"code": status, "message": message}
        if field:
            body["field"] = field
        return web.json_response({"error": body}, status=status)
    _ = gettext_for(request)
    message = _(_MESSAGES.get(status, _MESSAGES[400]))
    return render(
        request, "errors/error.html", {"status": status, "message": message}, status=status
    )


async def _posted_language(request: web.Request) -> str | None:
    """The `lang` field a form page posts along, so the answer keeps the page's language."""
    if request.method != "POST" or request.content_type not in FORM_CONTENT_TYPES:
        return None
    value = (await request.post()).get("lang")
    return value if isinstance(value, str) else None


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    posted = None if request.query.get("lang") in LANGUAGES else await _posted_language(request)
    language = posted if posted in LANGUAGES else negotiate(request)
    request[language_key] = language
    response = await handler(request)
    if request.query.get("lang") == language and request.cookies.get(LANGUAGE_COOKIE) != language:
        response.set_cookie(LANGUAGE_COOKIE, language, samesite="Lax", path="/", max_age=31536000)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except FieldError as exc:
        return error_response(request, exc.status, reason=exc.message, field=exc.field)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        reason = exc.reason if wants_json(request) else None
        response = error_response(request, exc.status, reason=reason)
        for header in ("Allow", "Location", "WWW-Authenticate", "Retry-After"):
            if header in exc.headers:
                response.headers[header] = exc.headers[header]
        return response
    except Exception:
        log.exception("unhandled_error", method=request.method, route=_route_name(request))
        return error_response(request, 500)


def _route_name(request: web.Request) -> str:
    # The route's pattern, not the concrete path: paths may carry references.
    info = request.match_info.route.resource
    return info.canonical if info is not None else "?"


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects and the like get the headers too
        _secure(request, exc)
        raise
    _secure(request, response)
    return response


def _secure(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Never send our URLs (case references) to other sites. Not "no-referrer": with it browsers
    # send `Origin: null` on form posts, which the CSRF origin check must refuse.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    )
    if not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")
    base = request.app[deps_key].settings.public_base_url
    if base and base.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
