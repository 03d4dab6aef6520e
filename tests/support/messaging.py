"""SMS/WhatsApp threads in tests: a recording SmsSender, webhooks signed as Twilio signs them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from notifications.ports import SendFailed, SentMessage
from tests.support.twilio_signing import ACCOUNT_SID, PUBLIC_BASE_URL, sign_form

NATIONAL_NUMBER = "+4541749090"
COPENHAGEN_NUMBER = "+4533172929"
REPORTER = "+4520123456"
INBOUND_PATH = "/twilio/messages"
STATUS_PATH = "/twilio/messages/status"


@dataclass
class RecordingSender:
    """The SmsSender port, recording every call; `outcomes` decides the next answers in turn.

    An outcome of None is a success; a SendFailed is raised. Successes get sids SM000…1, 2, …
    """

    calls: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[SendFailed | None] = field(default_factory=list)
    accepted: int = 0

    def send(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        self.calls.append(
            {"to": to, "from_": from_, "body": body, "status_callback": status_callback}
        )
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        sid = self.next_sid()
        self.accepted += 1
        return SentMessage(provider_id=sid, status="queued")

    def next_sid(self) -> str:
        """The sid the next successful send will get."""
        return sid_for(self.accepted + 1)


def sid_for(number: int) -> str:
    return f"SM{number:032x}"


_inbound_sids = itertools.count(1)


def inbound_fields(
    body: str,
    *,
    sender: str = REPORTER,
    to: str = NATIONAL_NUMBER,
    whatsapp: bool = False,
    sid: str | None = None,
) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS (or WhatsApp message)."""
    prefix = "whatsapp:" if whatsapp else ""
    fields = {
        "MessageSid": sid or f"SMin{next(_inbound_sids):030x}",
        "AccountSid": ACCOUNT_SID,
        "From": prefix + sender,
        "To": prefix + to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    if whatsapp:
        fields["ProfileName"] = "Afsender"
        fields["WaId"] = sender.lstrip("+")
    return fields


def status_fields(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    fields = {
        "MessageSid": sid,
        "MessageStatus": status,
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        fields["ErrorCode"] = error_code
    return fields


async def post_signed(
    client: Any, path: str, fields: dict[str, str], *, signature: str | None = None
) -> Any:
    """POST a form to the test client, signed for the public URL Twilio would have called."""
    sig = sign_form(PUBLIC_BASE_URL + path, fields) if signature is None else signature
    return await client.post(path, data=fields, headers={"X-Twilio-Signature": sig})


async def post_reply(client: Any, contact_id: int, body: str, headers: dict[str, str]) -> Any:
    """A staff reply through the API (headers from tests.support.staff.staff_api_headers)."""
    return await client.post(
        f"/api/v1/contacts/{contact_id}/replies", json={"body": body}, headers=headers
    )


async def read_thread(client: Any, contact_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/contacts/{contact_id}/messages")
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body
