"""On-call schedules as stored: one per hotline, its rotation and its overrides.

The rules (who is on call when) are `notifications.oncall`'s; these rows are only what an admin
chose. `notifications.oncall_service` turns them into its `Schedule`.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column

from db import Base, BigId, UTCDateTime, enum_column
from notifications.oncall import DEFAULT_TIMEZONE, OverrideReason


class OncallSchedule(Base):
    """A hotline's on-call line: a weekly (or n-daily) rotation, its team lead, on or off.

    One per hotline (`hotline_id` is unique): alerts about a case ask its hotline's schedule. A
    unit that staffs two hotlines with the same people keeps two schedules with the same list.
    """

    __tablename__ = "oncall_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hotline_id: Mapped[str] = mapped_column(ForeignKey("hotlines.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Staff ids in the order they take their shifts; at least one, each once (checked at entry).
    participants: Mapped[list[int]] = mapped_column(JSON)
    start_date: Mapped[date] = mapped_column(Date)
    handoff_weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday
    handoff_time: Mapped[time] = mapped_column(Time)  # local wall-clock time in `timezone`
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    shift_days: Mapped[int] = mapped_column(SmallInteger, default=7)
    # Alerts go "to the team lead" of the hotline: the last in the escalation chain. Need not
    # take shifts.
    team_lead_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Off: nobody is on call from this schedule (rotation and overrides are kept, not used);
    # the team lead still is the team lead.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OncallOverride(Base):
    """Someone on call for [starts_at, ends_at) whatever the rotation says; the newest wins
    where overrides overlap. The reason never says why someone is absent (health data)."""

    __tablename__ = "oncall_overrides"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        # Loading a schedule: its overrides that have not ended yet.
        Index("ix_oncall_overrides_schedule_id_ends_at", "schedule_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("oncall_schedules.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    reason: Mapped[OverrideReason] = mapped_column(enum_column(OverrideReason, "override_reason"))
    created_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
