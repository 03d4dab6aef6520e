"""Where a justified concern goes: the partner unit covering the person's municipality.

The rule (domain research §1, §6 items 4–5): route by the municipality the person of concern
lives in: a Copenhagen resident to the coordination unit (Infohus København), anyone else to
their municipality's Infohus. Police districts do not decide it: Frederiksberg, Tårnby and
Dragør share Copenhagen's police but have Infohuse of their own. If the person's residence is
unknown, route by the reporter's, and flag it for staff to check.

Pure: no database, no clock. The caller passes the active and inactive units it has; inactive
ones are ignored here, so the rule does not depend on how they were loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from denmark.municipalities import find

NO_MUNICIPALITY = "no_municipality"
NO_UNIT = "no_unit"


class CoveringUnit(Protocol):
    """What the rule reads of a partner unit (access.models.PartnerUnit has these)."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def municipalities(self) -> Sequence[int]: ...

    @property
    def active(self) -> bool: ...


@dataclass(frozen=True)
class Proposal:
    unit_id: int
    unit_name: str
    # The municipality code the unit was chosen by.
    municipality: int
    # The person's residence is unknown: chosen by the reporter's; staff should check.
    by_reporter_residence: bool


class RoutingRefused(ValueError):
    """No unit can be proposed; `code` is NO_MUNICIPALITY or NO_UNIT, `message` says what to do."""

    def __init__(self, code: str, message: str, *, municipality: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # For NO_UNIT: the municipality nobody covers.
        self.municipality = municipality


def municipality_name(code: int) -> str:
    found = find(code)
    return found.name if found is not None else f"municipality {code}"


def propose(
    subject_municipality: int | None,
    reporter_municipality: int | None,
    units: Iterable[CoveringUnit],
) -> Proposal:
    """The unit for a case, or RoutingRefused saying what staff or an administrator must do."""
    if subject_municipality is not None:
        municipality, by_reporter = subject_municipality, False
    elif reporter_municipality is not None:
        municipality, by_reporter = reporter_municipality, True
    else:
        raise RoutingRefused(
            NO_MUNICIPALITY,
            "record the person's or the reporter's municipality in triage first",
        )
    covering = sorted(
        (u for u in units if u.active and municipality in u.municipalities), key=lambda u: u.id
    )
    if not covering:
        raise RoutingRefused(
            NO_UNIT,
            f"no partner unit covers {municipality_name(municipality)}; "
            "an administrator adds one under Partner units",
            municipality=municipality,
        )
    # The admin pages let one active unit cover a municipality; should two ever do, the older.
    unit = covering[0]
    return Proposal(unit.id, unit.name, municipality, by_reporter)
