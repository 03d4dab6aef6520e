"""Authenticating Twilio's webhooks: every Twilio route is wrapped by `twilio_webhook`.

Twilio signs each request with HMAC-SHA1 of the public URL it called plus every posted field
(form posts) or of the URL carrying `bodySHA256` (JSON posts). We check that signature against
HOTLINE_PUBLIC_BASE_URL + the path and query exactly as received, so it works behind a reverse
proxy. It fails closed: no auth token or no public URL configured, a missing or wrong signature,
or a tampered body all get 403, before the handler runs and so before anything is stored.
"""

from __future__ import annotations

import functools

import structlog
from aiohttp import web
from twilio.request_validator import RequestValidator

from web.appkeys import deps_key
from web.policy import Handler, csrf_exempt, public

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


async def signature_is_valid(request: web.Request) -> bool:
    settings = request.app[deps_key].settings
    token = settings.twilio_auth_token
    signature = request.headers.get(SIGNATURE_HEADER)
    if token is None or settings.public_base_url is None or not signature:
        return False
    validator = RequestValidator(token.get_secret_value())
    url = settings.public_base_url + str(request.rel_url)
    if request.content_type == "application/json":
        # The body hash in the URL is only checked when the raw body is passed as text.
        return bool(validator.validate(url, await request.text(), signature))
    # Every field as received (repeated ones too): Twilio adds fields without notice.
    return bool(validator.validate(url, await request.post(), signature))


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
