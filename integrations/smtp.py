"""The e-mail port on a mail server (stdlib smtplib): one connection per message.

Notices are rare (a few a day), so nothing is pooled. Failures become SendFailed: a 4xx reply,
a timeout or a connection that fails are retryable (the sweeper tries again later); a 5xx reply
(the server refuses the sender, the recipient or the message) is final. The error's message is
the server's reply, which names at most the unit's mailbox, never the case.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

import structlog

from notifications.ports import OutgoingEmail, SendFailed, SentEmail
from settings import Settings

log = structlog.get_logger(__name__)

Security = Literal["starttls", "ssl", "none"]


class SmtpEmailSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: Security,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 20,
    ) -> None:
        self._host = host
        self._port = port
        self._security = security
        self._from = from_address
        self._username = username
        self._password = password
        self._timeout = timeout

    def send(self, message: OutgoingEmail) -> SentEmail:
        email = self._compose(message)
        try:
            with self._connect() as smtp:
                if self._security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (-1, b""))
            raise _reply_failure(code, reply) from None
        except smtplib.SMTPResponseException as exc:
            raise _reply_failure(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPNotSupportedError:
            raise SendFailed(
                "starttls_unsupported",
                "the mail server does not offer STARTTLS (see HOTLINE_SMTP_SECURITY)",
                retryable=False,
            ) from None
        except TimeoutError:
            raise SendFailed(
                "timeout", "the mail server did not answer in time", retryable=True
            ) from None
        except ssl.SSLError as exc:
            raise SendFailed("tls", f"TLS failed: {exc.reason or exc}", retryable=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            # Refused or dropped connections, unknown hosts, a server hanging up mid-way.
            raise SendFailed("connection", type(exc).__name__, retryable=True) from None
        log.info("email_sent", to_domain=message.to.rpartition("@")[2])
        return SentEmail(status="sent")

    def _compose(self, message: OutgoingEmail) -> EmailMessage:
        email = EmailMessage()
        try:
            email["From"] = self._from
            email["To"] = message.to
            email["Subject"] = message.subject
        except ValueError as exc:  # a line break in a header: refused, never sent
            raise SendFailed("invalid_message", str(exc)[:200], retryable=False) from None
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = make_msgid(domain=self._from.rpartition("@")[2])
        email.set_content(message.text)
        return email

    def _connect(self) -> smtplib.SMTP:
        if self._security == "ssl":
            return smtplib.SMTP_SSL(
                self._host,
                self._port,
                timeout=self._timeout,
                context=ssl.create_default_context(),
            )
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout)


def _reply_failure(code: int, reply: bytes | str) -> SendFailed:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    # 5xx: refused for good (unknown mailbox, bad sender, rejected login); the rest may pass later.
    final = 500 <= code < 600
    return SendFailed(f"smtp_{code}", " ".join(text.split())[:200], retryable=not final)


def smtp_sender(settings: Settings) -> SmtpEmailSender:
    if settings.smtp_host is None or settings.smtp_from_address is None:
        raise ValueError("HOTLINE_SMTP_HOST and HOTLINE_SMTP_FROM_ADDRESS are not set")
    return SmtpEmailSender(
        host=settings.smtp_host,
        port=settings.resolved_smtp_port,
        security=settings.smtp_security,
        from_address=settings.smtp_from_address,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout=settings.smtp_timeout_seconds,
    )
