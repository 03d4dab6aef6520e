"""Phone calls, vendor-neutral: a call opens a contact, menu choices update it, the call ends.

The provider's adapter (integrations/twilio/voice_webhooks.py) translates its webhooks into
these calls and commits; then it enqueues the take-in job (`jobqueue.take_in_contacts`) when a
function here says so, like every other channel. Rules:

- The contact is stored at the call's first webhook (channel phone). A withheld caller ID
  stores no number at all (PhoneStatus WITHHELD); choosing anonymity in the menu clears a
  stored number at once, everywhere it was (number, lookup hash, raw form).
- Every function is idempotent by the provider's call id: retried webhooks change nothing new.
- Who answered is the on-duty phone's label ("duty-1"), never its number; so are the logs.
- A call that ends unanswered without a voicemail is a missed call: its contact says so
  (`answers["call_back"]`: whether there is a number to call back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import DataCipher
from intake import opening_hours, phone
from intake.models import (
    Call,
    CallerRole,
    CallOutcome,
    Channel,
    Contact,
    Hotline,
    PhoneStatus,
    Recording,
    ReporterRole,
)

log = structlog.get_logger(__name__)

DEFAULT_LANGUAGE = "da"
CALL_ANSWERS = {"form_version": 1, "call": True}
# Provider call statuses after which the call is over.
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Dial results that mean a phone picked up (whether its holder accepted is checked separately).
PICKED_UP = frozenset({"completed", "answered"})
ROLE_DIGITS = {"1": CallerRole.PROFESSIONAL, "2": CallerRole.CITIZEN}
REPORTER_ROLES = {
    CallerRole.PROFESSIONAL: ReporterRole.PROFESSIONAL,
    # The menu only tells professionals from private persons (relatives, friends, citizens).
    CallerRole.CITIZEN: ReporterRole.OTHER,
}
ENGLISH_DIGIT = "9"


class UnknownHotlineNumber(Exception):
    """The call was made to a number that is none of our hotlines'."""


class CallNotFound(Exception):
    pass


@dataclass(frozen=True)
class IncomingCall:
    provider_id: str
    # As the provider sent it: "+4520123456", "anonymous", "+266696687", …
    from_address: str
    to_address: str


@dataclass(frozen=True)
class CallState:
    call: Call
    contact: Contact
    hotline: Hotline


def duty_label(index: int) -> str:
    return f"duty-{index + 1}"


async def hotline_for_number(session: AsyncSession, to_address: str) -> Hotline:
    to = phone.normalise(to_address)
    if to.kind is phone.PhoneKind.VALID:
        for hotline in (await session.scalars(select(Hotline).order_by(Hotline.id))).all():
            if to.e164 in {phone.normalise(n).e164 for n in hotline.phone_numbers}:
                return hotline
    raise UnknownHotlineNumber("the call was not made to a hotline number")


async def _state(session: AsyncSession, provider_id: str, *, lock: bool = True) -> CallState:
    query = select(Call).where(Call.provider_id == provider_id)
    call = await session.scalar(query.with_for_update() if lock else query)
    if call is None:
        raise CallNotFound(provider_id)
    contact = await session.get_one(Contact, call.contact_id)
    hotline = await session.get_one(Hotline, contact.hotline_id)
    return CallState(call, contact, hotline)


async def state(session: AsyncSession, provider_id: str) -> CallState:
    return await _state(session, provider_id, lock=False)


async def start_call(
    session: AsyncSession,
    incoming: IncomingCall,
    *,
    now: datetime,
    cipher: DataCipher,
    closed_dates: frozenset[date] = frozenset(),
) -> tuple[CallState, bool]:
    """Store the call and its contact (the caller commits); returns (state, new).

    A retried webhook for the same call finds what is stored and stores nothing.
    """
    hotline = await hotline_for_number(session, incoming.to_address)
    existing = await session.scalar(select(Call).where(Call.provider_id == incoming.provider_id))
    if existing is not None:
        return await _state(session, incoming.provider_id), False
    number = phone.normalise(incoming.from_address)
    e164 = number.e164 if number.kind is phone.PhoneKind.VALID else None
    status = {
        phone.PhoneKind.VALID: PhoneStatus.VALID,
        phone.PhoneKind.WITHHELD: PhoneStatus.WITHHELD,
        phone.PhoneKind.INVALID: PhoneStatus.INVALID,
    }[number.kind]
    contact = Contact(
        hotline_id=hotline.id,
        channel=Channel.PHONE,
        received_at=now,
        language=DEFAULT_LANGUAGE,
        reporter_role=ReporterRole.UNKNOWN,
        anonymous=number.kind is phone.PhoneKind.WITHHELD,
        is_acute=False,
        reporter_phone_e164=e164,
        reporter_phone_lookup=cipher.lookup_hash("phone", e164) if e164 else None,
        reporter_phone_status=status,
        answers=dict(CALL_ANSWERS),
        hotline_address=phone.normalise(incoming.to_address).e164,
    )
    session.add(contact)
    await session.flush()
    open_now = opening_hours.is_open(
        hotline.opening_hours, hotline.timezone, now, closed_dates=closed_dates
    )
    call = Call(
        contact_id=contact.id,
        provider_id=incoming.provider_id,
        status="ringing",
        started_at=now,
        outside_hours=not open_now,
        language=DEFAULT_LANGUAGE,
    )
    session.add(call)
    await session.flush()
    log.info(
        "call_started",
        call_id=call.id,
        contact_id=contact.id,
        hotline=hotline.id,
        withheld=number.kind is phone.PhoneKind.WITHHELD,
        outside_hours=call.outside_hours,
    )
    return CallState(call, contact, hotline), True


async def choose_language(session: AsyncSession, provider_id: str, language: str) -> CallState:
    found = await _state(session, provider_id)
    found.call.language = language
    found.contact.language = language
    return found


async def choose_role(session: AsyncSession, provider_id: str, digits: str) -> CallState:
    """1 professional, 2 private person; anything else leaves the role unknown."""
    found = await _state(session, provider_id)
    role = ROLE_DIGITS.get(digits.strip())
    if role is not None:
        found.call.chosen_role = role
        found.contact.reporter_role = REPORTER_ROLES[role]
    return found


def _forget_number(contact: Contact) -> None:
    contact.reporter_phone_e164 = None
    contact.reporter_phone_lookup = None
    contact.reporter_phone_raw = None
    contact.reporter_phone_status = PhoneStatus.WITHHELD


async def choose_anonymity(session: AsyncSession, provider_id: str, digits: str) -> CallState:
    """1 anonymous (the number is forgotten at once), 2 not; anything else: not asked."""
    found = await _state(session, provider_id)
    choice = {"1": True, "2": False}.get(digits.strip())
    if choice is not None:
        found.call.chose_anonymous = choice
    if choice:
        found.contact.anonymous = True
        _forget_number(found.contact)
        answers = dict(found.contact.answers)
        answers.pop("call_back", None)
        found.contact.answers = answers
    return found


async def accept_leg(
    session: AsyncSession, provider_id: str, *, leg_id: str, label: str, now: datetime
) -> bool:
    """An on-duty phone pressed 1: it takes the call. Returns False if another leg already did."""
    found = await _state(session, provider_id)
    if found.call.accepted_leg_id not in (None, leg_id):
        return False
    found.call.accepted_leg_id = leg_id
    found.call.answered_by = label
    found.call.answered_at = found.call.answered_at or now
    log.info("call_accepted", call_id=found.call.id, answered_by=label)
    return True


async def dial_result(
    session: AsyncSession,
    provider_id: str,
    *,
    dial_status: str,
    leg_id: str | None,
    duration: int | None,
) -> CallState:
    """The put-through ended: answered only if a phone picked up and its holder pressed 1.

    Anything else (no answer, busy, failed, a phone's own voicemail picking up) is not answered:
    the caller is offered our voicemail, and the outcome waits for it or for the call's end.
    """
    found = await _state(session, provider_id)
    call = found.call
    accepted = (
        dial_status.strip().lower() in PICKED_UP
        and call.accepted_leg_id is not None
        and (leg_id is None or leg_id == call.accepted_leg_id)
    )
    if accepted:
        call.outcome = CallOutcome.ANSWERED
        call.duration_seconds = duration
    log.info("call_dial_result", call_id=call.id, accepted=accepted)
    return found


def answered(found: CallState) -> bool:
    return found.call.outcome is CallOutcome.ANSWERED


async def record_status(
    session: AsyncSession, provider_id: str, status: str, duration: int | None, *, now: datetime
) -> CallState | None:
    """A call status report; returns the state when the call (and so its outcome) just ended.

    Idempotent: a repeated or late report changes nothing once the call has ended.
    """
    try:
        found = await _state(session, provider_id)
    except CallNotFound:
        log.info("call_status_unknown_call")
        return None
    call = found.call
    status = status.strip().lower()[:20]
    if call.ended_at is not None:
        return None
    call.status = status
    if status not in FINAL_STATUSES:
        return None
    call.ended_at = now
    if call.duration_seconds is None:
        call.duration_seconds = duration
    if call.outcome is None:
        call.outcome = CallOutcome.OUTSIDE_HOURS if call.outside_hours else CallOutcome.MISSED
        # A missed call is a contact to call back, if there is a number to call.
        answers = dict(found.contact.answers)
        answers["call_back"] = found.contact.reporter_phone_e164 is not None
        found.contact.answers = answers
    log.info("call_ended", call_id=call.id, outcome=call.outcome.value)
    return found


async def recording_available(
    session: AsyncSession,
    provider_id: str,
    *,
    recording_id: str,
    duration: int | None,
    now: datetime,
) -> int | None:
    """A recording exists at the provider: a voicemail, or an answered call of a hotline that
    records calls. Store its row; the fetch job takes it from there.

    Returns the recording's row id when it is new, None for a repeated report.
    """
    found = await _state(session, provider_id)
    exists = await session.scalar(select(Recording.id).where(Recording.provider_id == recording_id))
    if exists is not None:
        return None
    if found.call.outcome is not CallOutcome.ANSWERED:
        # Not a recording of an answered call: the caller left a voicemail.
        found.call.outcome = CallOutcome.VOICEMAIL
        answers = dict(found.contact.answers)
        answers["voicemail"] = True
        found.contact.answers = answers
    recording = Recording(
        contact_id=found.contact.id,
        call_id=found.call.id,
        provider_id=recording_id,
        duration_seconds=duration,
        received_at=now,
        attempts=0,
    )
    session.add(recording)
    await session.flush()
    log.info("recording_received", call_id=found.call.id, recording_id=recording.id)
    return recording.id
