"""Staff accounts, the partner units coordinators belong to, login sessions, and the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db import Base, BigId, UTCDateTime, enum_column


class Role(StrEnum):
    HOTLINE = "hotline"  # hotline staff: intake and triage
    COORDINATOR = "coordinator"  # the coordination unit / Infohus
    ADMIN = "admin"


class UnitKind(StrEnum):
    # Copenhagen's coordination unit (Infohus København), for concerns about Copenhagen residents.
    COORDINATION_UNIT = "coordination_unit"
    # A municipality's Infohus (Infohus Kommune) with its police district.
    INFOHUS = "infohus"


class PartnerUnit(Base):
    """A unit justified concerns are routed to, with the mailbox told of each routing.

    Configuration kept by an administrator (/admin/partner-units). A municipality is covered by
    at most one active unit (checked by triage/partner_units.py, not by the schema: the codes
    are a list on the row).
    """

    __tablename__ = "partner_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, "unit_kind"))
    # The unit's functional mailbox, not a person's: it gets a link, never personal data.
    email: Mapped[str] = mapped_column(String(254))
    # Municipality codes (denmark/municipalities.csv) whose residents' concerns go here.
    municipalities: Mapped[list[int]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Coordinators: the partner unit they work for; they see only its routings.
    partner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_units.id"), index=True)
    # How on-call alerts reach this person (notifications/staff_contacts.py checks them at
    # entry): a phone number in E.164 only, and an e-mail address. Kept in plain text: a
    # colleague's work contact, shown to every staff member on the on-call page, and what an
    # alert's reply is matched against; never a reporter's.
    phone_e164: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))


class StaffSession(Base):
    """A server-side login session: revocable at logout, unlike a self-contained cookie."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # SHA-256 of the cookie's token; a stolen database does not yield live cookies.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who did or read what, when, and why. Rows are only ever inserted."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    action: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str | None] = mapped_column(String(24))
    subject_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
