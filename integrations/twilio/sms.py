"""The SMS/WhatsApp port (notifications.ports.SmsSender) on Twilio's Messages API."""

from __future__ import annotations

from twilio.rest import Client

from integrations.twilio.errors import send_failures
from notifications.ports import SentMessage


class TwilioSmsSender:
    def __init__(self, client: Client) -> None:
        self._client = client

    def send(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        # Failures leave as SendFailed (integrations/twilio/errors.py decides what is retried).
        with send_failures():
            message = self._client.messages.create(
                to=to, from_=from_, body=body, status_callback=status_callback
            )
        return SentMessage(provider_id=message.sid, status=str(message.status or "queued"))
