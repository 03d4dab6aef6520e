"""What arrives at a hotline: the hotlines themselves and each inbound contact."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from db import Base, BigId, EncryptedJSON, EncryptedText, UTCDateTime, enum_column


class Channel(StrEnum):
    WEB_FORM = "web_form"
    PHONE = "phone"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    WEB_CHAT = "web_chat"


class ReporterRole(StrEnum):
    PROFESSIONAL = "professional"
    RELATIVE = "relative"
    FRIEND = "friend"
    OTHER = "other"
    UNKNOWN = "unknown"


class PhoneStatus(StrEnum):
    """What we know about the reporter's number; `withheld` means nothing is stored."""

    NONE = "none"
    PENDING = "pending"
    VALID = "valid"
    INVALID = "invalid"
    WITHHELD = "withheld"


# A hotline's deadline defaults (see Hotline): 24 hours to triage, 48 to visitation, counted in
# calendar time; the business-hours calendar is open weekdays 08:00–16:00, Copenhagen time.
DEFAULT_TRIAGE_MINUTES = 24 * 60
DEFAULT_VISITATION_MINUTES = 48 * 60
CLOCK_MODES = ("calendar", "business_hours")
BUSINESS_HOURS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = tuple(
    (day, (("08:00", "16:00"),)) for day in ("mon", "tue", "wed", "thu", "fri")
)
_BUSINESS_HOURS_JSON = json.dumps(
    {day: [list(span) for span in spans] for day, spans in BUSINESS_HOURS}
)


class Hotline(Base):
    """A hotline with its own numbers and opening hours (the Copenhagen line, the national line)."""

    __tablename__ = "hotlines"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_da: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    case_prefix: Mapped[str] = mapped_column(String(8), unique=True)
    phone_numbers: Mapped[list[str]] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64))
    # {"mon": [["08:00", "22:00"]], ...}; local time in `timezone`.
    opening_hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON)
    # The on-duty phones calls are put through to (E.164, normalised at entry by
    # `hotline duty set`); rung at once, first to accept wins. Shown and logged as labels
    # ("duty-1", "duty-2", …), never as numbers. On-call schedules replace this later.
    duty_numbers: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # Record answered calls too (not only voicemail). Off unless the hotline decides otherwise.
    record_calls: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    # Deadlines (read as one `triage.deadline_config.DeadlineConfig`; changed only through
    # `triage.deadline_settings`, which checks them). Each deadline row stores the clock mode
    # and due time it was given, so changing these never moves a running deadline.
    triage_minutes: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_TRIAGE_MINUTES, server_default=text(str(DEFAULT_TRIAGE_MINUTES))
    )
    visitation_minutes: Mapped[int] = mapped_column(
        Integer,
        default=DEFAULT_VISITATION_MINUTES,
        server_default=text(str(DEFAULT_VISITATION_MINUTES)),
    )
    # "calendar" (real elapsed time) or "business_hours" (triage.deadline_clock.ClockMode; named
    # here as text because intake does not import triage).
    deadline_clock_mode: Mapped[str] = mapped_column(
        Enum(
            *CLOCK_MODES,
            name="clock_mode",
            native_enum=False,
            create_constraint=True,
            length=24,
        ),
        default=CLOCK_MODES[0],
        server_default=CLOCK_MODES[0],
    )
    # The business-hours calendar: open spans per weekday, local time in `timezone`
    # ({"mon": [["08:00", "16:00"]], …}; a day left out is closed), closed on Danish public
    # holidays and on the customary closures switched on here.
    business_hours: Mapped[dict[str, list[list[str]]]] = mapped_column(
        JSON,
        default=lambda: {day: [list(span) for span in spans] for day, spans in BUSINESS_HOURS},
        server_default=text(f"'{_BUSINESS_HOURS_JSON}'"),
    )
    closed_on_constitution_day: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    closed_on_christmas_eve: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    closed_on_new_years_eve: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    # Escalation policies as checked plain data (notifications.escalation.policy_to_data);
    # None: the default policy for the deadline's duration.
    triage_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    visitation_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Contact(Base):
    """One inbound call, message thread, chat or form. Personal fields are encrypted at rest."""

    __tablename__ = "contacts"
    __table_args__ = (
        # The sweeper's query: contacts whose job has not run yet.
        Index(
            "ix_contacts_unprocessed",
            "received_at",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hotline_id: Mapped[str] = mapped_column(ForeignKey("hotlines.id"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    language: Mapped[str] = mapped_column(String(5))
    reporter_role: Mapped[ReporterRole] = mapped_column(enum_column(ReporterRole, "reporter_role"))
    anonymous: Mapped[bool] = mapped_column(Boolean)
    is_acute: Mapped[bool] = mapped_column(Boolean, default=False)

    reporter_name: Mapped[str | None] = mapped_column(EncryptedText)
    reporter_organisation: Mapped[str | None] = mapped_column(EncryptedText)
    # As given; cleared once normalised, kept only when it could not be understood.
    reporter_phone_raw: Mapped[str | None] = mapped_column(EncryptedText)
    reporter_phone_e164: Mapped[str | None] = mapped_column(EncryptedText)
    reporter_phone_status: Mapped[PhoneStatus] = mapped_column(
        enum_column(PhoneStatus, "phone_status")
    )
    reporter_phone_lookup: Mapped[str | None] = mapped_column(String(64), index=True)
    reporter_email: Mapped[str | None] = mapped_column(EncryptedText)
    reporter_email_lookup: Mapped[str | None] = mapped_column(String(64), index=True)
    # The channel's content in structured form (form answers, later transcripts' metadata).
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)

    # SHA-256 of the receipt code given to the reporter; the code itself is never stored.
    receipt_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The hotline's own number the reporter contacted (`whatsapp:+45…` for WhatsApp): replies go
    # from it. Ours, not personal data.
    hotline_address: Mapped[str | None] = mapped_column(String(64))


# The table itself, typed as one, for Core-level writers (db.RowInserter).
contacts_table: Table = Contact.__table__  # type: ignore[assignment]


class MessageDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Message(Base):
    """One message in a contact's conversation (SMS, WhatsApp; later chat). Body encrypted.

    Outbound messages are rows first and sent by a job, so a message that cannot be sent is
    still here, with the reason, never lost.
    """

    __tablename__ = "messages"
    __table_args__ = (
        # The sweeper's query: outbound messages still waiting to be sent (or sent again).
        Index(
            "ix_messages_pending",
            "next_attempt_at",
            "created_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    direction: Mapped[MessageDirection] = mapped_column(
        enum_column(MessageDirection, "message_direction")
    )
    body: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The provider's id (Twilio MessageSid): status callbacks and retried webhooks match on it.
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # inbound: received; outbound: pending → queued → sent → delivered/read, or failed/undelivered;
    # not_sent in console mode.
    status: Mapped[str] = mapped_column(String(20))
    status_at: Mapped[datetime] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(String(255))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Outbound: send attempts so far, and when the next may run (None: now). After a retryable
    # failure the message stays pending with the reason in error_code/error_message.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PhoneOptOut(Base):
    """A number that asked not to be messaged (STOP, AFMELD…); keyed by its lookup hash."""

    __tablename__ = "phone_opt_outs"

    phone_lookup: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime)
    keyword: Mapped[str] = mapped_column(String(16))


class ProviderStatusEvent(Base):
    """A delivery status the provider reported before we knew which message it belongs to.

    The send job stores the provider's id after the provider answered; a status callback can
    arrive first. It waits here and is applied (then deleted) when the job stores the id.
    """

    __tablename__ = "provider_status_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    MISSED = "missed"
    VOICEMAIL = "voicemail"
    OUTSIDE_HOURS = "outside_hours"


class CallerRole(StrEnum):
    """What the caller chose in the phone menu (1 professional, 2 private person)."""

    PROFESSIONAL = "professional"
    CITIZEN = "citizen"


class Call(Base):
    """One inbound phone call; its contact holds the reporter's number (unless withheld).

    No phone number is stored here: who answered is the on-duty phone's label ("duty-1").
    """

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    # The provider's id of the caller's leg (Twilio CallSid): every webhook matches on it.
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    # The provider's latest call status (ringing, in-progress, completed, no-answer, …).
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # Whether the call arrived outside the hotline's opening hours.
    outside_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    # The on-duty phone's label that pressed 1 to take the call, and the provider's id of that leg.
    answered_by: Mapped[str | None] = mapped_column(String(32))
    accepted_leg_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[CallOutcome | None] = mapped_column(
        enum_column(CallOutcome, "call_outcome"), nullable=True
    )
    language: Mapped[str] = mapped_column(String(5))
    chose_anonymous: Mapped[bool | None] = mapped_column(Boolean)
    chosen_role: Mapped[CallerRole | None] = mapped_column(
        enum_column(CallerRole, "caller_role"), nullable=True
    )


class Recording(Base):
    """A voicemail: fetched from the provider into our own storage, then deleted there.

    `fetched_at` and `deleted_at_provider` say how far that got; the sweeper retries the rest
    (`next_attempt_at`), so a recording is never lost to a failed fetch.
    """

    __tablename__ = "recordings"
    __table_args__ = (
        Index(
            "ix_recordings_unfinished",
            "next_attempt_at",
            "received_at",
            postgresql_where=text("deleted_at_provider IS NULL"),
            sqlite_where=text("deleted_at_provider IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    # The provider's id (Twilio RecordingSid).
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Below settings.data_dir / "recordings"; set once the audio is stored (mode 0600).
    file_path: Mapped[str | None] = mapped_column(String(500))
    content_type: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at_provider: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(255))


class ChatStatus(StrEnum):
    """A web chat's life: waiting for staff → active → ended; or missed (nobody accepted in time,
    or the hotline was closed)."""

    WAITING = "waiting"
    ACTIVE = "active"
    ENDED = "ended"
    MISSED = "missed"


class Chat(Base):
    """One web chat: its contact holds the transcript (Message rows, bodies encrypted).

    The visitor is known only by a random chat token kept in their browser tab; only its
    SHA-256 is stored. Accepting is a conditional UPDATE (status waiting → active), so exactly
    one staff member wins.
    """

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    hotline_id: Mapped[str] = mapped_column(ForeignKey("hotlines.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # visitor, staff, no_staff (nobody accepted in time) or closed (outside opening hours).
    end_reason: Mapped[str | None] = mapped_column(String(16))
