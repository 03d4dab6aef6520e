"""The shifts of an on-call schedule between two moments, as people read them (pure).

Built on `oncall.next_change`: a shift runs from one change of who is on call to the next, so a
rotation week cut by a day's override reads as three shifts. Each says whether an override put
its person there (and which), or the rotation did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from notifications.oncall import Override, Schedule, next_change, on_call_at

# A schedule with hourly overrides could make a long list; a page shows at most this many.
MAX_SHIFTS = 200


@dataclass(frozen=True)
class Shift:
    starts_at: datetime
    ends_at: datetime
    staff_id: int | None  # None: nobody (before the rotation starts)
    override: Override | None  # the override in force at the shift's start, if any


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call from `start` to `end`, one entry per change of person (times in UTC)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start, end: must be timezone-aware")
    found: list[Shift] = []
    moment, end = start.astimezone(UTC), end.astimezone(UTC)
    while moment < end and len(found) < MAX_SHIFTS:
        change = next_change(schedule, moment)
        until = end if change is None else min(change[0], end)
        found.append(
            Shift(moment, until, on_call_at(schedule, moment), _override_at(schedule, moment))
        )
        moment = until
    return found


def _override_at(schedule: Schedule, moment: datetime) -> Override | None:
    # The winner where overrides overlap, as on_call_at chooses it: the last listed.
    for override in reversed(schedule.overrides):
        if override.covers(moment):
            return override
    return None
