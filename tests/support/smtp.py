"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for notice tests."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Capture:
    """aiosmtpd handler: accepts mail and keeps it; can refuse addresses or defer a delivery."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        # Recipient addresses containing a key are refused with its reply (e.g. "550 …").
        self.refuse: dict[str, str] = {}
        # This many deliveries answer "451 try again later" first.
        self.defer = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        for part, reply in self.refuse.items():
            if part in address:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.defer:
            self.defer -= 1
            return "451 4.3.0 Try again later"
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


class SmtpServer:
    def __init__(self) -> None:
        self.capture = Capture()
        self.port = free_port()
        self._controller = Controller(self.capture, hostname=HOST, port=self.port)
        self.running = False

    def start(self) -> None:
        self._controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._controller.stop()
            self.running = False

    def environ(self) -> dict[str, str]:
        """HOTLINE_* settings that send routing notices to this server."""
        return {
            "HOTLINE_SMTP_HOST": HOST,
            "HOTLINE_SMTP_PORT": str(self.port),
            "HOTLINE_SMTP_SECURITY": "none",
            "HOTLINE_SMTP_FROM_ADDRESS": "hotline@hotline.example.dk",
            "HOTLINE_SMTP_TIMEOUT_SECONDS": "5",
        }
