"""Authenticating Twilio's webhooks: every Twilio route is wrapped by `twilio_webhook`.

Twilio signs each request with HMAC-SHA1 of the public URL it called plus every posted field
(form posts) or of the URL carrying `bodySHA256` (JSON posts). We check that signature against
HOTLINE_PUBLIC_BASE_URL + the path and query exactly as received, so it works behind a reverse
proxy. It fails closed: no auth token or no public URL configured, a missing or wrong signature,
or a tampered body all get 403, before the handler runs and so before anything is stored.
"""

from __future__ import annotations

import functools
from urllib.parse import parse_qs, urlsplit

import structlog
from aiohttp import web
from twilio.request_validator import RequestValidator

from web.appkeys import deps_key
from web.policy import Handler, csrf_exempt, public

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
# Twilio's form posts are always URL-encoded (never multipart, which could carry files).
FORM_TYPE = "application/x-www-form-urlencoded"


async def signature_is_valid(request: web.Request) -> bool:
    settings = request.app[deps_key].settings
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    signature = request.headers.get(SIGNATURE_HEADER)
    # An empty token (HOTLINE_TWILIO_AUTH_TOKEN= set but blank) is no key: anyone could sign.
    if not token or settings.public_base_url is None or not signature:
        return False
    validator = RequestValidator(token)
    url = settings.public_base_url + str(request.rel_url)
    # Parsed as the validator parses it, so both agree on whether a body hash is present.
    if "bodySHA256" in parse_qs(urlsplit(url).query):
        # JSON posts: the URL carries the body's SHA-256, checked only when the raw body is
        # passed as text. Whatever the Content-Type says: a form or text/plain replay of a
        # JSON signature must not skip the hash.
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            return False
        return bool(validator.validate(url, body, signature))
    if request.content_type == "application/json" or (
        request.body_exists and request.content_type != FORM_TYPE
    ):
        # Twilio signs other bodies (JSON) only through bodySHA256: this one is not covered.
        return False
    try:
        fields = await request.post()
    except (UnicodeDecodeError, ValueError):
        return False
    # Every field as received (repeated ones too): Twilio adds fields without notice.
    # (GET webhooks: no fields, the URL with its query is what is signed.)
    return bool(validator.validate(url, fields, signature))


async def form_fields(request: web.Request) -> dict[str, str]:
    """A (signed) Twilio webhook's fields; anything but a URL-encoded form is refused with 415."""
    if request.content_type != FORM_TYPE:
        raise web.HTTPUnsupportedMediaType(reason="Twilio posts URL-encoded forms")
    posted = await request.post()
    return {key: value for key, value in posted.items() if isinstance(value, str)}


def twilio_webhook(handler: Handler) -> Handler:
    """Mark a route as Twilio's: public, no CSRF token, but only with a valid signature."""

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        if not await signature_is_valid(request):
            log.warning(
                "twilio_signature_refused",
                route=request.match_info.route.resource.canonical
                if request.match_info.route.resource
                else "?",
            )
            raise web.HTTPForbidden(reason="invalid or missing Twilio signature")
        return await handler(request)

    return public(csrf_exempt(checked))
