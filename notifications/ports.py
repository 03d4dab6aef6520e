"""What the core needs from a messaging provider, without naming one.

Implementations: `integrations.twilio.sms.TwilioSmsSender` (real) and
`integrations.console.ConsoleSmsSender` (embedded defaults: logged, not sent). Jobs call these;
they are synchronous because jobs are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SentMessage:
    """What the provider said when it accepted a message."""

    provider_id: str | None
    # Provider status at acceptance: "queued", "sent", … or "not_sent" in console mode.
    status: str


class SendFailed(Exception):
    """The provider refused or could not be reached; `retryable` says whether to try again."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


class SmsSender(Protocol):
    def send(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        """Send one SMS or WhatsApp message (`whatsapp:` addresses); raises SendFailed."""
        ...
