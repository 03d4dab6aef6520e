"""The staff queue's filters: parsed from a query string, checked, and written back canonically.

Pure: no session, no clock. The same parsing serves the page (`/queue?hotline=…`) and the API
(`/api/v1/queue?hotline=…`). An empty value means "not filtered" (a form's "all" choice).
A cursor remembers the filters it was made for through `QueueFilters.tag`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from intake.models import Channel
from triage.models import CaseStatus

MINE = "mine"
UNASSIGNED = "unassigned"
# The largest staff id (staff_users.id is a 32-bit INTEGER).
MAX_STAFF_ID = 2**31 - 1

# The query parameters, in the order they are written back.
FILTER_NAMES = ("hotline", "channel", "status", "assignee", "due")


class Due(StrEnum):
    OVERDUE = "overdue"
    AT_RISK = "at_risk"


class InvalidFilter(ValueError):
    """A filter's value is not one it allows: `choices` lists them (None for the assignee,
    which is `mine`, `unassigned` or a staff id). The views word the message."""

    def __init__(self, field: str, choices: Collection[str] | None = None) -> None:
        super().__init__(field)
        self.field = field
        self.choices = sorted(choices) if choices is not None else None


@dataclass(frozen=True)
class QueueFilters:
    hotline: str | None = None
    channel: Channel | None = None
    # Any CaseStatus: the set grows with the triage state machine, and the parser follows it.
    status: CaseStatus | None = None
    # MINE, UNASSIGNED or a staff id.
    assignee: str | int | None = None
    due: Due | None = None

    def items(self) -> list[tuple[str, str]]:
        """The filters that are set, as query parameters in a fixed order."""
        values = {
            "hotline": self.hotline,
            "channel": self.channel.value if self.channel else None,
            "status": self.status.value if self.status else None,
            "assignee": None if self.assignee is None else str(self.assignee),
            "due": self.due.value if self.due else None,
        }
        return [(name, value) for name in FILTER_NAMES if (value := values[name]) is not None]

    @property
    def active(self) -> bool:
        return bool(self.items())

    def tag(self) -> str:
        """A short fingerprint of the filters, carried by cursors; empty without filters."""
        items = self.items()
        if not items:
            return ""
        canonical = "&".join(f"{name}={value}" for name, value in items)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


NO_FILTERS = QueueFilters()


def _choice(field: str, value: str, choices: Collection[str]) -> str:
    if value not in choices:
        raise InvalidFilter(field, choices)
    return value


def _assignee(value: str) -> str | int:
    if value in (MINE, UNASSIGNED):
        return value
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_STAFF_ID:
        return int(value)
    raise InvalidFilter("assignee")


def parse_filters(query: Mapping[str, str], *, hotlines: Collection[str]) -> QueueFilters:
    """The filters in `query` (other parameters are left alone); InvalidFilter names the first
    one that is wrong. `hotlines` are the hotline ids that exist."""
    raw = {name: query.get(name, "").strip() for name in FILTER_NAMES}
    hotline = _choice("hotline", raw["hotline"], hotlines) if raw["hotline"] else None
    channel = raw["channel"] and _choice("channel", raw["channel"], [c.value for c in Channel])
    status = raw["status"] and _choice("status", raw["status"], [s.value for s in CaseStatus])
    due = raw["due"] and _choice("due", raw["due"], [d.value for d in Due])
    return QueueFilters(
        hotline=hotline,
        channel=Channel(channel) if channel else None,
        status=CaseStatus(status) if status else None,
        assignee=_assignee(raw["assignee"]) if raw["assignee"] else None,
        due=Due(due) if due else None,
    )
