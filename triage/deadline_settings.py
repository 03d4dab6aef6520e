"""Reading and changing a hotline's deadline configuration (the admin page, its API, the CLI).

Changes are checked whole by `deadline_config.check` under a lock on the hotline row: either
every field is stored or, with `Invalid` naming each wrong field, nothing is. Deadlines already
running keep their stored due time and clock mode; only deadlines started afterwards follow the
new configuration. Each change is audited by the names of the fields that changed.

Sync functions on a `Session` (the CLI's transaction); the web runs them through
`AsyncSession.run_sync`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.service import Staff, audit
from intake.models import Hotline
from triage.deadline_config import (
    DeadlineConfig,
    DeadlineDraft,
    DeadlineValues,
    check,
    config_of,
    values_of,
)
from triage.models import DeadlineKind


class UnknownHotline(LookupError):
    pass


@dataclass(frozen=True)
class HotlineDeadlines:
    hotline: Hotline
    values: DeadlineValues
    config: DeadlineConfig


def _loaded(hotline: Hotline) -> HotlineDeadlines:
    values = values_of(hotline)
    return HotlineDeadlines(
        hotline, values, config_of(values, hotline_id=hotline.id, timezone=hotline.timezone)
    )


def load(session: Session, hotline_id: str) -> HotlineDeadlines:
    hotline = session.get(Hotline, hotline_id)
    if hotline is None:
        raise UnknownHotline(hotline_id)
    return _loaded(hotline)


def load_all(session: Session) -> list[HotlineDeadlines]:
    return [_loaded(h) for h in session.scalars(select(Hotline).order_by(Hotline.id))]


def change(
    session: Session,
    hotline_id: str,
    draft: DeadlineDraft,
    *,
    actor: Staff | None,
    now: datetime,
) -> HotlineDeadlines:
    """Store the checked draft; raises UnknownHotline or Invalid (nothing stored then)."""
    hotline = session.get(Hotline, hotline_id, with_for_update=True)
    if hotline is None:
        raise UnknownHotline(hotline_id)
    values = check(draft, timezone=hotline.timezone)
    changed = _store(hotline, values)
    if changed:
        audit(
            session,
            at=now,
            actor=actor,
            action="deadlines_changed",
            subject_kind="hotline",
            subject_id=hotline.id,
            detail={"fields": changed},
        )
    return _loaded(hotline)


def _store(hotline: Hotline, values: DeadlineValues) -> list[str]:
    """Set the hotline's columns; returns the names of those that changed."""
    wanted = {
        "triage_minutes": values.triage_minutes,
        "visitation_minutes": values.visitation_minutes,
        "deadline_clock_mode": values.clock_mode.value,
        "business_hours": values.business_hours,
        "closed_on_constitution_day": values.closures.constitution_day,
        "closed_on_christmas_eve": values.closures.christmas_eve,
        "closed_on_new_years_eve": values.closures.new_years_eve,
        "triage_policy": values.policies.get(DeadlineKind.TRIAGE),
        "visitation_policy": values.policies.get(DeadlineKind.VISITATION),
    }
    changed = [name for name, value in wanted.items() if getattr(hotline, name) != value]
    for name in changed:
        setattr(hotline, name, wanted[name])
    return changed
