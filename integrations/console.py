"""Console implementations of the provider ports: nothing leaves the machine (embedded defaults).

Messages and e-mails are written to the log without their text, the full number or the
address, and reported to the caller as "not_sent", so the UI can say "not sent (console mode)".
Alert calls are logged without any number and reported as "not_placed" ("not placed (console
mode)").
"""

from __future__ import annotations

import io
import wave

import structlog

from notifications.ports import OutgoingEmail, PlacedCall, RecordingAudio, SentEmail, SentMessage

log = structlog.get_logger(__name__)


def masked(address: str) -> str:
    """Enough of a number to tell messages apart in a log, not enough to call it."""
    return "…" + address[-2:] if len(address) > 2 else "…"


class ConsoleSmsSender:
    def send(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        log.info("message_not_sent_console_mode", to=masked(to), from_=from_, characters=len(body))
        return SentMessage(provider_id=None, status="not_sent")


class ConsoleEmailSender:
    """Without a mail server: the e-mail is logged by its domain and size, never its text."""

    def send(self, message: OutgoingEmail) -> SentEmail:
        log.info(
            "email_not_sent_console_mode",
            to_domain=message.to.rpartition("@")[2],
            characters=len(message.text),
        )
        return SentEmail(status="not_sent")


def _silence(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(rate * seconds))
    return buffer.getvalue()


class ConsoleRecordingStore:
    """Without a voice provider no real recordings exist: a second of silence stands in."""

    def download(self, recording_id: str) -> RecordingAudio:
        log.info("recording_console_mode", recording_id=recording_id)
        return RecordingAudio(content=_silence(), content_type="audio/x-wav")

    def delete(self, recording_id: str) -> None:
        log.info("recording_delete_console_mode", recording_id=recording_id)


class ConsoleAlertCaller:
    def place_call(
        self, *, to: str, from_: str, attempt_token: str, status_callback: str, twiml_url: str
    ) -> PlacedCall:
        # No number (not even masked): an on-call phone is a staff member's own.
        log.info("alert_call_not_placed_console_mode")
        return PlacedCall(provider_id=None, status="not_placed")
