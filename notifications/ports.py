"""What the core needs from a messaging provider, without naming one.

Implementations: `integrations.twilio.sms.TwilioSmsSender`,
`integrations.twilio.recordings.TwilioRecordingStore`,
`integrations.twilio.alert_calls.TwilioAlertCaller` and `integrations.smtp.SmtpEmailSender`
(real), `integrations.console`'s `ConsoleSmsSender`, `ConsoleRecordingStore`,
`ConsoleAlertCaller` and `ConsoleEmailSender` (embedded defaults: nothing leaves the machine).
Jobs call these; they are synchronous because jobs are.
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


@dataclass(frozen=True)
class OutgoingEmail:
    """A plain-text e-mail to one address. Callers keep personal data out of it."""

    to: str
    subject: str
    text: str


@dataclass(frozen=True)
class SentEmail:
    # "sent": the mail server accepted it; "not_sent": console mode, only logged.
    status: str


class EmailSender(Protocol):
    def send(self, message: OutgoingEmail) -> SentEmail:
        """Hand one e-mail to the mail server; raises SendFailed (retryable or not)."""
        ...


@dataclass(frozen=True)
class RecordingAudio:
    content: bytes
    content_type: str


class RecordingUnavailable(Exception):
    """The provider could not hand over (or delete) a recording now; try again later."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class RecordingStore(Protocol):
    """A voice provider's recordings: fetched into our own storage, then deleted there."""

    def download(self, recording_id: str) -> RecordingAudio:
        """The recording's audio (WAV); raises RecordingUnavailable."""
        ...

    def delete(self, recording_id: str) -> None:
        """Delete the recording at the provider; one already gone counts as deleted."""
        ...


@dataclass(frozen=True)
class PlacedCall:
    """What the provider said when it accepted an outbound call."""

    provider_id: str | None
    # Provider status at acceptance: "queued", … or "not_placed" in console mode.
    status: str


class AlertCaller(Protocol):
    """Outbound alert calls to staff (notifications.alert_calls has the rest of the channel)."""

    def place_call(
        self, *, to: str, from_: str, attempt_token: str, status_callback: str, twiml_url: str
    ) -> PlacedCall:
        """Ring `to` from `from_`; when answered, the call plays what `twiml_url` answers.

        `status_callback` receives the call's progress. Both URLs are absolute and carry the
        attempt's token (`notifications.alert_calls.alert_call_urls`). Raises SendFailed:
        retryable for timeouts, throttling and server errors, not for refusals such as an
        invalid number.
        """
        ...
