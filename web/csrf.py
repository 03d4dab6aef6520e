"""CSRF protection: a random per-browser cookie and a form token derived from it with HMAC.

Unsafe requests must carry the token (form field `csrf_token` or header `X-CSRF-Token`) and, if
the browser sends an Origin header, come from our own origin. Cookies are also SameSite=Lax.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler

from web.appkeys import csrf_failed_key, deps_key
from web.policy import csrf_mode

# What browsers post forms as (the token then travels in the form, not in a header).
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
COOKIE = "csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NONCE_KEY: web.RequestKey[str] = web.RequestKey("csrf_nonce")


class CsrfFailure(web.HTTPForbidden):
    pass


def _token(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def token_for(request: web.Request) -> str:
    """The token to put in this page's forms (sets the cookie on the response if it is new)."""
    nonce = request.get(_NONCE_KEY) or request.cookies.get(COOKIE)
    if not nonce:
        nonce = secrets.token_urlsafe(24)
    request[_NONCE_KEY] = nonce
    return _token(request.app[deps_key].secret_key, nonce)


def expected_origin(request: web.Request) -> str:
    base = request.app[deps_key].settings.public_base_url
    return base if base else f"{request.scheme}://{request.host}"


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    mode = csrf_mode(request.match_info.handler)
    if request.method in UNSAFE_METHODS and mode != "exempt":
        ok = await _valid(request)
        if not ok and mode != "keep-input":
            raise CsrfFailure(reason="missing or expired form token")
        request[csrf_failed_key] = not ok
    response = await handler(request)
    nonce = request.get(_NONCE_KEY)
    if nonce and nonce != request.cookies.get(COOKIE):
        response.set_cookie(
            COOKIE,
            nonce,
            httponly=True,
            samesite="Lax",
            secure=request.app[deps_key].settings.cookie_secure,
            path="/",
        )
    return response


async def _valid(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None and origin != expected_origin(request):
        return False
    nonce = request.cookies.get(COOKIE)
    if not nonce:
        return False
    sent = request.headers.get(HEADER)
    if sent is None and request.content_type in FORM_CONTENT_TYPES:
        form = await request.post()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    expected = _token(request.app[deps_key].secret_key, nonce)
    return sent is not None and hmac.compare_digest(sent, expected)
