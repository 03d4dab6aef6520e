"""`twilio_webhook`: Twilio's signature is checked against the PUBLIC URL, and it fails closed.

Requests really go to a local server on http://127.0.0.1:PORT while they are signed for
https://hotline.example.dk/…, as behind the production reverse proxy. Every refusal is a 403
before the handler runs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import MultiDict
from twilio.request_validator import RequestValidator
from yarl import URL

from bootstrap import Deps
from integrations.twilio.client import rest_client
from integrations.twilio.sms import TwilioSmsSender
from integrations.twilio.webhooks import FORM_TYPE, SIGNATURE_HEADER, twilio_webhook
from settings import load_settings
from tests.support.twilio_signing import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    json_url,
    sign_form,
    sign_json,
    twilio_environ,
)
from tests.support.twilio_stub import (
    message_status_fields,
    running_stub,
    send_status_callback,
    stub_environ,
)
from web.appkeys import deps_key
from web.policy import csrf_mode, is_public

STATUS_PATH = "/twilio/messages/status"
EVENTS_PATH = "/twilio/events"
# Percent-escapes and a plus sign must be signed exactly as sent.
QUERY = "?thread=t%201&note=a+b&%C3%A6=%C3%B8"
MESSAGE_SID = "SM" + "a" * 32
FIELDS = message_status_fields(
    MESSAGE_SID, "undelivered", to="+4520123456", from_="+4570203040", error_code=30003
)


@dataclass
class Hotline:
    """A tiny app with Twilio routes; `seen` is what the handlers got (only when they ran)."""

    url: str
    seen: list[Any] = field(default_factory=list)

    def local(self, path_and_query: str) -> URL:
        return URL(self.url + path_and_query, encoded=True)


Serve = Callable[[dict[str, str]], Awaitable[Hotline]]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[TestServer] = []

    async def start(environ: dict[str, str]) -> Hotline:
        settings = load_settings(environ)
        app = web.Application()
        # The decorator only needs the settings from the app's dependencies.
        app[deps_key] = cast(Deps, SimpleNamespace(settings=settings))
        hotline = Hotline(url="")

        @twilio_webhook
        async def status(request: web.Request) -> web.StreamResponse:
            form = await request.post()
            hotline.seen.append([(k, str(v)) for k, v in form.items()])
            return web.Response(text="<Response/>", content_type="text/xml")

        @twilio_webhook
        async def events(request: web.Request) -> web.StreamResponse:
            hotline.seen.append(json.loads(await request.text()))
            return web.Response(status=204)

        app.router.add_route("*", STATUS_PATH, status)
        app.router.add_post(EVENTS_PATH, events)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        hotline.url = str(server.make_url("")).rstrip("/")
        return hotline

    yield start
    for server in servers:
        await server.close()


async def post(
    url: URL, body: str | list[tuple[str, str]], headers: dict[str, str]
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def post_form(
    url: URL, fields: Iterable[tuple[str, str]], signature: str | None
) -> tuple[int, str]:
    headers = {} if signature is None else {SIGNATURE_HEADER: signature}
    return await post(url, list(fields), headers)


def public(path_and_query: str) -> str:
    return PUBLIC_BASE_URL + path_and_query


# --- form posts -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_signed_form_post_passes_through_the_reverse_proxy_setup(serve: Serve) -> None:
    hotline = await serve(twilio_environ())

    result = await send_status_callback(
        str(hotline.local(STATUS_PATH + QUERY)), public(STATUS_PATH + QUERY), FIELDS
    )

    assert result.status == 200
    assert hotline.url.startswith("http://127.0.0.1:")
    assert hotline.seen == [list(FIELDS.items())]


@pytest.mark.asyncio
async def test_repeated_fields_are_signed_and_checked(serve: Serve) -> None:
    hotline = await serve(twilio_environ())
    fields = [
        ("CallSid", "CA" + "b" * 32),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "initiated"),
    ]
    signature = str(
        RequestValidator(AUTH_TOKEN).compute_signature(public(STATUS_PATH), MultiDict(fields))
    )

    passed = await post_form(hotline.local(STATUS_PATH), fields, signature)
    one_dropped = await post_form(hotline.local(STATUS_PATH), fields[:2], signature)
    one_changed = await post_form(
        hotline.local(STATUS_PATH), [*fields[:2], ("StatusCallbackEvent", "completed")], signature
    )

    assert passed[0] == 200
    assert (one_dropped[0], one_changed[0]) == (403, 403)
    assert hotline.seen == [fields]


@pytest.mark.asyncio
async def test_the_stub_signs_repeated_fields_too(serve: Serve) -> None:
    hotline = await serve(twilio_environ())
    fields = [("CallSid", "CA" + "b" * 32), ("Event", "a"), ("Event", "b")]

    result = await send_status_callback(
        str(hotline.local(STATUS_PATH)), public(STATUS_PATH), fields
    )

    assert result.status == 200
    assert hotline.seen == [fields]


@pytest.mark.asyncio
async def test_a_tampered_field_is_refused(serve: Serve) -> None:
    hotline = await serve(twilio_environ())
    signature = sign_form(public(STATUS_PATH), FIELDS)
    tampered = {**FIELDS, "MessageStatus": "delivered"}

    status, _ = await post_form(hotline.local(STATUS_PATH), tampered.items(), signature)
    added, _ = await post_form(
        hotline.local(STATUS_PATH), [*FIELDS.items(), ("Extra", "x")], signature
    )

    assert (status, added) == (403, 403)
    assert hotline.seen == []


@pytest.mark.asyncio
async def test_a_tampered_query_is_refused(serve: Serve) -> None:
    hotline = await serve(twilio_environ())
    signature = sign_form(public(STATUS_PATH + "?thread=t1"), FIELDS)

    status, _ = await post_form(
        hotline.local(STATUS_PATH + "?thread=t2"), FIELDS.items(), signature
    )

    assert status == 403
    assert hotline.seen == []


@pytest.mark.asyncio
async def test_a_missing_or_empty_signature_header_is_refused(serve: Serve) -> None:
    hotline = await serve(twilio_environ())

    missing, _ = await post_form(hotline.local(STATUS_PATH), FIELDS.items(), None)
    empty, _ = await post_form(hotline.local(STATUS_PATH), FIELDS.items(), "")

    assert (missing, empty) == (403, 403)
    assert hotline.seen == []


@pytest.mark.asyncio
async def test_a_signature_made_with_another_token_is_refused(serve: Serve) -> None:
    hotline = await serve(twilio_environ())

    result = await send_status_callback(
        str(hotline.local(STATUS_PATH)), public(STATUS_PATH), FIELDS, auth_token="other-token"
    )

    assert result.status == 403
    assert hotline.seen == []


@pytest.mark.asyncio
async def test_without_an_auth_token_everything_is_refused(serve: Serve) -> None:
    environ = twilio_environ()
    del environ["HOTLINE_TWILIO_AUTH_TOKEN"]
    hotline = await serve(environ)

    # Signed with the token Twilio would use: still refused, there is nothing to check against.
    result = await send_status_callback(
        str(hotline.local(STATUS_PATH)), public(STATUS_PATH), FIELDS
    )

    assert result.status == 403
    assert hotline.seen == []


@pytest.mark.asyncio
async def test_an_empty_auth_token_counts_as_none(serve: Serve) -> None:
    # HOTLINE_TWILIO_AUTH_TOKEN= (set but empty) must not turn into a key anyone can sign with.
    hotline = await serve({**twilio_environ(), "HOTLINE_TWILIO_AUTH_TOKEN": ""})

    result = await send_status_callback(
        str(hotline.local(STATUS_PATH)), public(STATUS_PATH), FIELDS, auth_token=""
    )

    assert result.status == 403
    assert hotline.seen == []


@pytest.mark.asyncio
async def test_without_a_public_base_url_everything_is_refused(serve: Serve) -> None:
    environ = twilio_environ()
    del environ["HOTLINE_PUBLIC_BASE_URL"]
    hotline = await serve(environ)

    signed_public = await send_status_callback(
        str(hotline.local(STATUS_PATH)), public(STATUS_PATH), FIELDS
    )
    signed_internal = await send_status_callback(
        str(hotline.local(STATUS_PATH)), str(hotline.local(STATUS_PATH)), FIELDS
    )

    assert (signed_public.status, signed_internal.status) == (403, 403)
    assert hotline.seen == []


@pytest.mark.asyncio
async def test_a_signature_for_the_internal_url_is_refused(serve: Serve) -> None:
    """Only the public URL counts: what the app sees of its own address is not trusted."""
    hotline = await serve(twilio_environ())

    result = await send_status_callback(
        str(hotline.local(STATUS_PATH)), str(hotline.local(STATUS_PATH)), FIELDS
    )

    assert result.status == 403
    assert hotline.seen == []


@pytest.mark.asyncio
async def test_a_signed_get_webhook_passes_and_its_query_is_checked(serve: Serve) -> None:
    hotline = await serve(twilio_environ())
    path = STATUS_PATH + "?CallSid=CA1&Digits=1"
    signature = sign_form(public(path), {})

    async with aiohttp.ClientSession() as session:
        async with session.get(
            hotline.local(path), headers={SIGNATURE_HEADER: signature}
        ) as response:
            passed = response.status
        async with session.get(
            hotline.local(STATUS_PATH + "?CallSid=CA1&Digits=2"),
            headers={SIGNATURE_HEADER: signature},
        ) as response:
            tampered = response.status

    assert (passed, tampered) == (200, 403)
    assert hotline.seen == [[]]


@pytest.mark.asyncio
async def test_a_form_that_is_not_utf8_or_multipart_is_refused_not_an_error(serve: Serve) -> None:
    hotline = await serve(twilio_environ())
    signature = sign_form(public(STATUS_PATH), FIELDS)
    multipart = aiohttp.FormData(list(FIELDS.items()))
    multipart.add_field("MediaUrl0", b"\x00\x01", filename="x.bin")

    async with aiohttp.ClientSession() as session:
        async with session.post(
            hotline.local(STATUS_PATH),
            data=b"Body=\xff\xfe&MessageSid=SM1",
            headers={SIGNATURE_HEADER: signature, "Content-Type": FORM_TYPE},
        ) as response:
            not_utf8 = response.status
        async with session.post(
            hotline.local(STATUS_PATH), data=multipart, headers={SIGNATURE_HEADER: signature}
        ) as response:
            as_multipart = response.status

    assert (not_utf8, as_multipart) == (403, 403)
    assert hotline.seen == []


# --- JSON bodies ------------------------------------------------------------------------------

EVENT = json.dumps([{"type": "com.twilio.messaging.message.delivered", "data": {"to": "+4520"}}])


def json_headers(signature: str, content_type: str = "application/json") -> dict[str, str]:
    return {SIGNATURE_HEADER: signature, "Content-Type": content_type}


@pytest.mark.asyncio
async def test_a_json_body_with_its_hash_passes_and_a_tampered_one_is_refused(
    serve: Serve,
) -> None:
    hotline = await serve(twilio_environ())
    signed_url = json_url(public(EVENTS_PATH), EVENT)
    local = hotline.local(signed_url.removeprefix(PUBLIC_BASE_URL))
    signature = sign_json(signed_url)

    passed, _ = await post(local, EVENT, json_headers(signature))
    tampered, _ = await post(local, EVENT.replace("+4520", "+4599"), json_headers(signature))

    assert (passed, tampered) == (204, 403)
    assert hotline.seen == [json.loads(EVENT)]


@pytest.mark.asyncio
async def test_a_json_body_without_a_body_hash_is_refused(serve: Serve) -> None:
    """Twilio always adds bodySHA256 to JSON posts; without it the body is not covered."""
    hotline = await serve(twilio_environ())
    signature = sign_json(public(EVENTS_PATH))

    status, _ = await post(hotline.local(EVENTS_PATH), EVENT, json_headers(signature))
    # Even a signature over URL + body text as if it were a form is no use.
    weird = sign_form(public(EVENTS_PATH), {})
    empty, _ = await post(hotline.local(EVENTS_PATH), "", json_headers(weird))

    assert (status, empty) == (403, 403)
    assert hotline.seen == []


@pytest.mark.asyncio
async def test_a_json_signature_replayed_with_another_content_type_is_refused(
    serve: Serve,
) -> None:
    """The body hash in the URL is checked whatever Content-Type the request claims."""
    hotline = await serve(twilio_environ())
    signed_url = json_url(public(EVENTS_PATH), EVENT)
    local = hotline.local(signed_url.removeprefix(PUBLIC_BASE_URL))
    signature = sign_json(signed_url)
    forged = EVENT.replace("+4520", "+4599")

    as_text, _ = await post(local, forged, json_headers(signature, "text/plain"))
    as_form, _ = await post(local, "", json_headers(signature, "application/x-www-form-urlencoded"))

    assert (as_text, as_form) == (403, 403)
    assert hotline.seen == []


@pytest.mark.asyncio
async def test_a_body_that_is_not_utf8_is_refused_not_an_error(serve: Serve) -> None:
    hotline = await serve(twilio_environ())
    signed_url = json_url(public(EVENTS_PATH), EVENT)
    local = hotline.local(signed_url.removeprefix(PUBLIC_BASE_URL))

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            local, data=b"\xff\xfe\x00", headers=json_headers(sign_json(signed_url))
        ) as response,
    ):
        status = response.status

    assert status == 403
    assert hotline.seen == []


# --- the decorator and the stub together ------------------------------------------------------


def test_twilio_routes_are_public_and_csrf_exempt_but_signature_checked() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response()

    wrapped = twilio_webhook(handler)

    assert is_public(wrapped)
    assert csrf_mode(wrapped) == "exempt"
    assert wrapped is not handler
    assert wrapped.__name__ == "handler"


@pytest.mark.asyncio
async def test_a_status_callback_for_a_message_sent_through_the_stub(serve: Serve) -> None:
    """Send with the real client, then let the stub report delivery to the message's callback."""
    hotline = await serve(twilio_environ())
    callback = public(STATUS_PATH + QUERY)
    async with running_stub() as stub:
        client = rest_client(load_settings(stub_environ(stub.url)))
        try:
            sent = await asyncio.to_thread(
                TwilioSmsSender(client).send,
                to="+4520123456",
                from_="+4570203040",
                body="Hej",
                status_callback=callback,
            )
        finally:
            client.http_client.session.close()
        assert sent.provider_id is not None
        result = await stub.send_message_status(
            sent.provider_id, "failed", local_base_url=hotline.url, error_code=30008
        )

    assert result.status == 200
    [fields] = hotline.seen
    assert dict(fields) == {
        "MessageSid": sent.provider_id,
        "SmsSid": sent.provider_id,
        "AccountSid": ACCOUNT_SID,
        "MessageStatus": "failed",
        "SmsStatus": "failed",
        "To": "+4520123456",
        "From": "+4570203040",
        "ApiVersion": "2010-04-01",
        "ErrorCode": "30008",
    }
