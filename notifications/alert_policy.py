"""Which escalation policy and business calendar a deadline is escalated by: the one place the
alert engine asks. Both come from the hotline's deadline configuration (triage/deadline_config.py:
`hotline deadlines set`, /admin/deadlines); a policy left unset is `default_policy` scaled to the
kind's duration (24/36/44/48 h for the 48-hour visitation clock). Steps are planned when a
deadline starts, so a later change of the configuration does not move them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake.models import Hotline
from notifications.escalation import EscalationPolicy
from triage.deadline_clock import BusinessCalendar
from triage.deadline_config import DeadlineConfig, deadline_config
from triage.models import Deadline


def _config(session: Session, hotline_id: str) -> DeadlineConfig:
    return deadline_config(session.get_one(Hotline, hotline_id))


def policy_for(session: Session, hotline_id: str, deadline: Deadline) -> EscalationPolicy:
    """The policy for one deadline of a case of `hotline_id`, by the deadline's kind."""
    return _config(session, hotline_id).policy(deadline.kind)


def calendar_for(session: Session, hotline_id: str) -> BusinessCalendar:
    """The business calendar a hotline's business-hours deadlines count in."""
    return _config(session, hotline_id).calendar
