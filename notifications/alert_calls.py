"""The voice alert channel, vendor-neutral: what an alert call says and what its webhooks report.

An alert call is one attempt of an alert (the alert engine's row). Outside this service the
attempt is known only by its **attempt token**: an unguessable random string (never a row id)
carried in the call's URLs, so a webhook finds its attempt without trusting a guessable number.
The engine makes a token with `new_attempt_token`, stores it on the attempt, builds the URLs with
`alert_call_urls` and hands both to `notifications.ports.AlertCaller.place_call`.

While the call runs, the provider's webhooks (integrations/twilio/alert_webhooks.py) ask the
engine, through the `AlertCallEvents` port it implements, for the call's script and tell it
about a keypress and every status. The adapter opens the transaction and commits; the engine
works on the session it is given. Twilio retries webhooks and may send a status twice or out of
order: the engine's methods must be idempotent (each carries the provider's call id for that).

Privacy: a script holds a case reference and the kind of alert, nothing else — the reference's
shape is checked, so a name or a phone number cannot end up spoken on a staff member's phone
(or in their voicemail box).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol

from notifications.escalation import StepKind
from triage.deadline_clock import DeadlineKind

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# The webhooks, each with the attempt token as the last path segment (registered as is).
VOICE_PATH = "/twilio/alerts/voice/{token}"
KEYPRESS_PATH = "/twilio/alerts/keypress/{token}"
STATUS_PATH = "/twilio/alerts/status/{token}"

# secrets.token_urlsafe's alphabet; 24 random bytes are 32 characters.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")
# Case references as triage.intake_flow.case_reference makes them (NAT-2026-00042): the
# hotline's prefix, the year, the case number. Anything else is refused, not spoken.
_REFERENCE = re.compile(r"[A-Z][A-Z0-9]{0,7}-\d{4}-\d{1,10}")
REFERENCE_MAX_LENGTH = 24

Language = Literal["da", "en"]


def new_attempt_token() -> str:
    return secrets.token_urlsafe(24)


def is_attempt_token(value: str) -> bool:
    return _TOKEN.fullmatch(value) is not None


@dataclass(frozen=True)
class AlertCallUrls:
    # Answers the TwiML the called phone hears.
    twiml_url: str
    # Receives the call's status callbacks.
    status_callback: str


def alert_call_urls(public_base_url: str, attempt_token: str) -> AlertCallUrls:
    """The absolute URLs for `AlertCaller.place_call` (`HOTLINE_PUBLIC_BASE_URL` + path)."""
    if not is_attempt_token(attempt_token):
        raise ValueError("not an attempt token (use new_attempt_token)")
    base = public_base_url.rstrip("/")
    return AlertCallUrls(
        twiml_url=base + VOICE_PATH.format(token=attempt_token),
        status_callback=base + STATUS_PATH.format(token=attempt_token),
    )


def caller_id(configured: str | None, hotline_numbers: Sequence[str]) -> str | None:
    """The number alert calls come from: HOTLINE_ALERT_CALLER_ID if set, else the first number
    of the hotline the case belongs to (None: the hotline has no number to call from)."""
    if configured:
        return configured
    return hotline_numbers[0] if hotline_numbers else None


@dataclass(frozen=True)
class AlertCallScript:
    """What the called staff member hears: the case reference and the kind of alert.

    `language`: None says everything in Danish, then in English; "da" or "en" only that one.
    """

    reference: str
    deadline: DeadlineKind
    step: StepKind
    language: Language | None = None

    def __post_init__(self) -> None:
        if len(self.reference) > REFERENCE_MAX_LENGTH or not _REFERENCE.fullmatch(self.reference):
            raise ValueError("reference: not a case reference (e.g. NAT-2026-00042)")
        if self.language not in (None, "da", "en"):
            raise ValueError("language: must be da, en or None")


class AlertCallStatus(StrEnum):
    """An alert call's progress, as the provider reports it.

    COMPLETED means the call was answered and has ended — by a person **or a voicemail box**.
    It never means acknowledged: only `AlertCallEvents.acknowledged_by_keypress` does.
    """

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"  # answered
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def final(self) -> bool:
        """The call is over; no later status follows."""
        return self in _FINAL


_FINAL = frozenset(
    {
        AlertCallStatus.COMPLETED,
        AlertCallStatus.BUSY,
        AlertCallStatus.NO_ANSWER,
        AlertCallStatus.FAILED,
        AlertCallStatus.CANCELED,
    }
)


class AlertCallScripts(Protocol):
    async def script_for(self, session: AsyncSession, attempt_token: str) -> AlertCallScript | None:
        """The script of this attempt's call; None when the token is unknown or the alert needs
        no action any more (acknowledged, deadline met): the call then says so and ends."""
        ...


class AlertCallEvents(AlertCallScripts, Protocol):
    """What the alert engine does when an alert call's webhooks arrive (it implements this and
    hands it to `integrations.twilio.alert_webhooks.register`)."""

    async def acknowledged_by_keypress(
        self, session: AsyncSession, *, attempt_token: str, provider_call_id: str, at: datetime
    ) -> bool:
        """The person on the call pressed 1. True when the acknowledgement is recorded (now or
        by an earlier delivery of the same keypress); False when this attempt cannot acknowledge
        (unknown token, alert closed or acknowledged by someone else)."""
        ...

    async def call_status(
        self,
        session: AsyncSession,
        *,
        attempt_token: str,
        provider_call_id: str,
        status: AlertCallStatus,
        error_code: str | None,
        at: datetime,
    ) -> None:
        """Record a status of the call (may repeat or arrive out of order)."""
        ...
