"""Which escalation policy and business calendar a deadline is escalated by: the one place the
alert engine asks.

For now every deadline gets `default_policy` scaled to its own duration (24/36/44/48 h for the
48-hour visitation clock, 12/18/22/24 h for a 24-hour triage clock), and business-hours
deadlines count on weekdays 08:00–16:00 in Copenhagen time. The per-hotline configuration
(durations, clock mode, calendar, policy) is read here once it exists; nothing else changes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from notifications.escalation import EscalationPolicy, default_policy
from triage.deadline_clock import BusinessCalendar, elapsed
from triage.models import Deadline

DEFAULT_CALENDAR = BusinessCalendar.from_hours(
    {day: [["08:00", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
)


def policy_for(session: Session, hotline_id: str, deadline: Deadline) -> EscalationPolicy:
    """The policy for one deadline of a case of `hotline_id`: the defaults scaled to the
    deadline's duration in its own clock mode (48 business hours, not the days they span)."""
    calendar = calendar_for(session, hotline_id)
    return default_policy(
        elapsed(deadline.started_at, deadline.due_at, deadline.clock_mode, calendar)
    )


def calendar_for(session: Session, hotline_id: str) -> BusinessCalendar:
    """The business calendar a hotline's business-hours deadlines count in."""
    return DEFAULT_CALENDAR
