"""Rules for outbound messages: who can be replied to, retries, and the order of statuses.

No session and no clock: the service (async, intake/messaging.py) and the send job (sync,
intake/outbound.py) both apply these to rows they loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from intake.models import Channel, ChatStatus, Contact, Message, PhoneStatus

PENDING = "pending"
RECEIVED = "received"
FAILED = "failed"
# A reply to a web-form contact is sent nowhere: it waits on the follow-up page (AVAILABLE)
# until the reporter opens that page with the receipt code (READ, status_at is when).
AVAILABLE = "available"
READ = "read"

MAX_REPLY_CHARS = 1600
# A retryable failure waits this long before the next attempt; the attempt after the last
# delay is the last one, and its failure is final.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

# Statuses only move forward. Providers report them out of order and more than once (a
# "delivered" can overtake its "sent"), so a report lower than or equal to the current status
# changes nothing. Among the final ones: read (WhatsApp) proves delivery, so it wins over all;
# failures outrank "delivered" so a late failure report is not hidden. Ties cannot happen, so
# the end state does not depend on the order the reports came in.
STATUS_RANKS: dict[str, int] = {
    PENDING: 0,
    "accepted": 10,
    "scheduled": 15,
    "queued": 20,
    "sending": 30,
    "sent": 40,
    # Web form: on the follow-up page, for the reporter to read with the receipt code.
    AVAILABLE: 45,
    "delivered": 50,
    "undelivered": 60,
    "canceled": 65,
    FAILED: 70,
    READ: 80,
    # Console mode: logged, never sent; nothing will report on it.
    "not_sent": 90,
}
FAILURE_STATUSES = frozenset({"undelivered", "canceled", FAILED})
MESSAGE_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})
# Channels whose replies are read on the follow-up page (by receipt code), never sent.
FOLLOW_UP_CHANNELS = frozenset({Channel.WEB_FORM})


def is_known(status: str) -> bool:
    return status in STATUS_RANKS


def advances(current: str, reported: str) -> bool:
    """Whether `reported` moves a message on from `current` (unknown statuses never do)."""
    if reported not in STATUS_RANKS:
        return False
    return STATUS_RANKS[reported] > STATUS_RANKS.get(current, -1)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1-based)."""
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


def apply_status(
    message: Message,
    reported: str,
    *,
    error_code: str | None,
    error_message: str | None,
    now: datetime,
) -> bool:
    """Move a message on to a reported status if that is forward; returns whether it moved."""
    if not advances(message.status, reported):
        return False
    message.status = reported
    message.status_at = now
    if reported in FAILURE_STATUSES:
        message.error_code = (error_code or reported)[:16]
        message.error_message = (error_message or f"the provider reported {reported}")[:255]
    return True


@dataclass(frozen=True)
class Refusal:
    """Why a contact cannot be messaged: a stable code and a sentence for staff."""

    code: str
    message: str


NOT_A_MESSAGE_CHANNEL = Refusal(
    "not_a_message_channel",
    "this contact did not come by SMS, WhatsApp or the web form, so there is no thread to reply in",
)
NO_RECEIPT = Refusal(
    "no_receipt_code",
    "this web-form contact has no receipt code, so the reporter could not read a reply",
)
NO_NUMBER = Refusal(
    "no_number",
    "the sender's number was withheld or could not be read, so a reply cannot be sent",
)
NO_SENDER = Refusal(
    "no_sender_address",
    "it is not known which of our numbers the sender wrote to, so a reply cannot be sent",
)
OPTED_OUT = Refusal(
    "opted_out",
    "the number has opted out of messages (STOP/AFMELD); nothing is sent to it until it "
    "writes START",
)


# A web chat is answered in the chat itself, by the staff member who accepted it, while it lasts.
CHAT_WAITING = Refusal(
    "chat_waiting",
    "the visitor is waiting in the chat: accept it on the chats page to answer",
)
CHAT_TAKEN = Refusal(
    "chat_taken",
    "another staff member has accepted this chat; only they can write in it",
)
CHAT_ENDED = Refusal(
    "chat_ended",
    "the chat has ended: a web chat leaves no address to write to, so the visitor cannot be "
    "reached in it any more",
)


def chat_reply_refusal(
    status: str, accepted_by: int | None, staff_id: int | None
) -> Refusal | None:
    """None if this staff member may write in the chat now (it is active and theirs)."""
    if status == ChatStatus.WAITING:
        return CHAT_WAITING
    if status != ChatStatus.ACTIVE:
        return CHAT_ENDED
    if staff_id is None or accepted_by != staff_id:
        return CHAT_TAKEN
    return None


def on_follow_up_page(contact: Contact) -> bool:
    """Whether replies to this contact wait on the follow-up page instead of being sent."""
    return contact.channel in FOLLOW_UP_CHANNELS


def reply_status(contact: Contact) -> str:
    """The status a new reply starts in: pending (the send job's) or available (web form)."""
    return AVAILABLE if on_follow_up_page(contact) else PENDING


def reply_refusal(contact: Contact, *, opted_out: bool) -> Refusal | None:
    """None if a reply to this contact may be stored (and sent, or shown), else why not."""
    if on_follow_up_page(contact):
        return NO_RECEIPT if not contact.receipt_hash else None
    if contact.channel not in MESSAGE_CHANNELS:
        return NOT_A_MESSAGE_CHANNEL
    if (
        contact.anonymous
        or contact.reporter_phone_status is not PhoneStatus.VALID
        or not contact.reporter_phone_e164
        or not contact.reporter_phone_lookup
    ):
        return NO_NUMBER
    if not contact.hotline_address:
        return NO_SENDER
    if opted_out:
        return OPTED_OUT
    return None


def recipient_address(contact: Contact) -> str:
    """The address a reply goes to: the E.164 number, `whatsapp:`-prefixed on WhatsApp."""
    if contact.reporter_phone_e164 is None:
        raise ValueError("the contact has no number")
    if contact.channel is Channel.WHATSAPP:
        return f"whatsapp:{contact.reporter_phone_e164}"
    return contact.reporter_phone_e164
