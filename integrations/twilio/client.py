"""Building the twilio-python REST client from settings (region, edge, credentials)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from settings import Settings


# twilio-python ships no type information, so its classes are Any to mypy.
class RedirectingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends every request to another base URL, keeping path and query (a local stub in tests).

    Rewriting after the client built the regional hostname keeps region and edge handling real.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        target = urlsplit(base_url)
        self._scheme, self._netloc = target.scheme, target.netloc

    def target(self, url: str) -> str:
        """Where a request for `url` actually goes."""
        parts = urlsplit(url)
        return urlunsplit((self._scheme, self._netloc, parts.path, parts.query, parts.fragment))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, self.target(url), *args, **kwargs)


def rest_client(settings: Settings, *, timeout: float = 10) -> Client:
    """A client for the configured account; API key credentials are preferred when set."""
    if settings.twilio_account_sid is None:
        raise ValueError("HOTLINE_TWILIO_ACCOUNT_SID is not set")
    http_client: TwilioHttpClient = (
        RedirectingHttpClient(settings.twilio_api_url, timeout=timeout)
        if settings.twilio_api_url
        else TwilioHttpClient(timeout=timeout)
    )
    if settings.twilio_api_key_sid and settings.twilio_api_key_secret:
        username, password = (
            settings.twilio_api_key_sid,
            settings.twilio_api_key_secret.get_secret_value(),
        )
    elif settings.twilio_auth_token:
        username, password = (
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
        )
    else:
        raise ValueError("set HOTLINE_TWILIO_AUTH_TOKEN or an API key to call Twilio")
    return Client(
        username,
        password,
        account_sid=settings.twilio_account_sid,
        region=settings.twilio_region,
        edge=settings.twilio_edge,
        http_client=http_client,
    )
