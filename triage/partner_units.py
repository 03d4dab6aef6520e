"""Partner units (coordination unit, Infohuse) as an administrator keeps them: add, edit,
deactivate, each checked the same way for the admin pages and the API.

A municipality may be covered by at most one active unit, so the routing rule (triage/routing.py)
always has one answer. Concurrent edits take turns on a transaction lock, so two administrators
cannot both give a municipality to a unit at the same moment. Units are never deleted: routings
refer to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import PartnerUnit, UnitKind
from access.service import Staff, audit
from db import transaction_lock
from denmark.municipalities import by_code
from settings import is_email_address
from triage.routing import municipality_name
from web.i18n import N_

NAME_MAX_CHARS = 120

# Messages are English ids: the API answers with them as they are, pages translate them.
NAME_MISSING = N_("Give the unit a name of 1 to 120 characters.")
NAME_TAKEN = N_("Another unit is already called %(name)s.")
KIND_INVALID = N_("Choose whether the unit is a coordination unit or an Infohus.")
EMAIL_INVALID = N_("Give the unit's mailbox as an e-mail address, like infohus@kommune.dk.")
NO_MUNICIPALITY = N_("Choose at least one municipality the unit covers.")
UNKNOWN_MUNICIPALITY = N_("%(code)s is not the code of one of Denmark's 98 municipalities.")
ALREADY_COVERED = N_(
    "%(municipality)s is already covered by %(unit)s. A municipality can have only one active "
    "unit: remove it there first."
)


class UnitInvalid(ValueError):
    """A field of a partner unit is wrong; `message` % `params` says how (English id)."""

    def __init__(self, field: str, message: str, **params: str) -> None:
        super().__init__(f"{field}: {message % params if params else message}")
        self.field = field
        self.message = message
        self.params = params

    @property
    def text(self) -> str:
        return self.message % self.params if self.params else self.message


@dataclass(frozen=True)
class UnitData:
    name: str
    kind: str
    email: str
    municipalities: tuple[int, ...]
    active: bool = True


def clean(data: UnitData) -> UnitData:
    """The data tidied (spaces, sorted codes), or UnitInvalid for the first wrong field."""
    name = " ".join(data.name.split())
    if not 1 <= len(name) <= NAME_MAX_CHARS:
        raise UnitInvalid("name", NAME_MISSING)
    if data.kind not in {k.value for k in UnitKind}:
        raise UnitInvalid("kind", KIND_INVALID)
    email = data.email.strip()
    if not is_email_address(email):
        raise UnitInvalid("email", EMAIL_INVALID)
    if not data.municipalities:
        raise UnitInvalid("municipalities", NO_MUNICIPALITY)
    known = by_code()
    for code in data.municipalities:
        if code not in known:
            raise UnitInvalid("municipalities", UNKNOWN_MUNICIPALITY, code=str(code))
    return UnitData(name, data.kind, email, tuple(sorted(set(data.municipalities))), data.active)


async def list_units(session: AsyncSession) -> list[PartnerUnit]:
    return list(await session.scalars(select(PartnerUnit).order_by(PartnerUnit.name)))


async def create_unit(
    session: AsyncSession, data: UnitData, *, staff: Staff | None, now: datetime
) -> PartnerUnit:
    cleaned = clean(data)
    await _check_against_others(session, cleaned, unit_id=None)
    unit = PartnerUnit(
        name=cleaned.name,
        kind=UnitKind(cleaned.kind),
        email=cleaned.email,
        municipalities=list(cleaned.municipalities),
        active=cleaned.active,
        created_at=now,
        updated_at=now,
    )
    session.add(unit)
    await session.flush()
    _audit(session, "partner_unit_created", unit, staff=staff, now=now)
    return unit


async def update_unit(
    session: AsyncSession, unit_id: int, data: UnitData, *, staff: Staff | None, now: datetime
) -> PartnerUnit | None:
    """Replace a unit's settings; None if there is no such unit."""
    cleaned = clean(data)
    unit = await session.get(PartnerUnit, unit_id, with_for_update=True)
    if unit is None:
        return None
    await _check_against_others(session, cleaned, unit_id=unit_id)
    unit.name = cleaned.name
    unit.kind = UnitKind(cleaned.kind)
    unit.email = cleaned.email
    unit.municipalities = list(cleaned.municipalities)
    unit.active = cleaned.active
    unit.updated_at = now
    _audit(session, "partner_unit_updated", unit, staff=staff, now=now)
    return unit


async def deactivate_unit(
    session: AsyncSession, unit_id: int, *, staff: Staff | None, now: datetime
) -> PartnerUnit | None:
    """Stop routing to a unit (its routings and coordinators stay); None if there is none."""
    unit = await session.get(PartnerUnit, unit_id, with_for_update=True)
    if unit is None:
        return None
    if unit.active:
        unit.active = False
        unit.updated_at = now
        _audit(session, "partner_unit_updated", unit, staff=staff, now=now)
    return unit


async def _check_against_others(
    session: AsyncSession, data: UnitData, *, unit_id: int | None
) -> None:
    lock = transaction_lock(session, "partner-units", "coverage")
    if lock is not None:
        await session.execute(lock)
    others = [u for u in await session.scalars(select(PartnerUnit)) if u.id != unit_id]
    for other in others:
        if other.name.casefold() == data.name.casefold():
            raise UnitInvalid("name", NAME_TAKEN, name=other.name)
    if data.active:
        overlap = _first_overlap(data.municipalities, (u for u in others if u.active))
        if overlap is not None:
            code, other = overlap
            raise UnitInvalid(
                "municipalities",
                ALREADY_COVERED,
                municipality=municipality_name(code),
                unit=other.name,
            )


def _first_overlap(
    codes: Iterable[int], others: Iterable[PartnerUnit]
) -> tuple[int, PartnerUnit] | None:
    covered = {code: unit for unit in others for code in unit.municipalities}
    for code in codes:
        if code in covered:
            return code, covered[code]
    return None


def _audit(
    session: AsyncSession, action: str, unit: PartnerUnit, *, staff: Staff | None, now: datetime
) -> None:
    audit(
        session,
        at=now,
        actor=staff,
        action=action,
        subject_kind="partner_unit",
        subject_id=unit.id,
        detail={"active": unit.active, "municipalities": len(unit.municipalities)},
    )
