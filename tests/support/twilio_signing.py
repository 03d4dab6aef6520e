"""Signing requests exactly as Twilio signs its webhooks (twilio-python's own RequestValidator)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from twilio.request_validator import RequestValidator

AUTH_TOKEN = "test-twilio-auth-token-0123456789ab"
ACCOUNT_SID = "AC" + "0" * 32
PUBLIC_BASE_URL = "https://hotline.example.dk"


def sign_form(url: str, fields: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature for a form-encoded POST to the public `url` (with its query)."""
    return str(RequestValidator(token).compute_signature(url, dict(fields)))


def json_url(url: str, body: str) -> str:
    """The URL Twilio calls for a JSON body: it carries the body's SHA-256."""
    digest = hashlib.sha256(body.encode()).hexdigest()
    return f"{url}{'&' if '?' in url else '?'}bodySHA256={digest}"


def sign_json(url_with_body_hash: str, token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url_with_body_hash, {}))


def twilio_environ() -> dict[str, str]:
    """HOTLINE_* settings for a configured Twilio account (REST calls go nowhere unless a stub
    URL is added as HOTLINE_TWILIO_API_URL)."""
    return {
        "HOTLINE_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "HOTLINE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "HOTLINE_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    }
