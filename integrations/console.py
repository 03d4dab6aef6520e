"""Console implementations of the messaging ports: nothing leaves the machine (embedded defaults).

Messages are written to the log without their text or the full number, and reported to the
caller as "not_sent", so the UI can say "not sent (console mode)".
"""

from __future__ import annotations

import structlog

from notifications.ports import SentMessage

log = structlog.get_logger(__name__)


def masked(address: str) -> str:
    """Enough of a number to tell messages apart in a log, not enough to call it."""
    return "…" + address[-2:] if len(address) > 2 else "…"


class ConsoleSmsSender:
    def send(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        log.info("message_not_sent_console_mode", to=masked(to), from_=from_, characters=len(body))
        return SentMessage(provider_id=None, status="not_sent")
