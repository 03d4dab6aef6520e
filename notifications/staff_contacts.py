"""Staff contact details: the phone number and e-mail address on-call alerts reach them at.

Checked at entry, wherever they are entered (an admin's page or the API, the staff member's own
profile page, `hotline staff add/set`): a phone number is normalised by intake/phone.py's rules
(Danish numbers with or without +45, foreign ones with their country code) and only its E.164
form is stored; an e-mail address must look like one and is stored in lower case. An empty value
clears the detail. A change is audited by the names of the fields it changed, never the values.

Staff contact details are read without an audit entry: they are the team's own work contacts,
shown to every colleague on the on-call page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.models import AuditEntry, StaffUser
from intake import phone
from intake.concern_form import INVALID_EMAIL, INVALID_PHONE
from notifications.problems import Invalid, Problem

FIELDS = ("phone", "email")
EMAIL_LIMIT = 254
PHONE_LIMIT = phone.MAX_INPUT_LENGTH
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffNotFound(LookupError):
    pass


@dataclass(frozen=True)
class StaffContact:
    """A staff member as an alert needs them: who, and how to reach them."""

    id: int
    username: str
    display_name: str
    phone_e164: str | None
    email: str | None
    active: bool

    @property
    def pageable(self) -> bool:
        """An active account with a phone number: SMS and voice alerts can reach them."""
        return self.active and self.phone_e164 is not None

    @classmethod
    def of(cls, user: StaffUser) -> StaffContact:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            phone_e164=user.phone_e164,
            email=user.email,
            active=user.active,
        )


def check(changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """The columns to set for the given fields ("phone", "email"; "" or None clears), or
    `Invalid` naming every field that is wrong."""
    problems: dict[str, Problem] = {}
    clean: dict[str, str | None] = {}
    if "phone" in changes:
        typed = (changes["phone"] or "").strip()
        number = phone.normalise(typed) if typed else None
        if number is None:
            clean["phone_e164"] = None
        elif number.kind is phone.PhoneKind.VALID and number.e164 is not None:
            clean["phone_e164"] = number.e164
        else:
            problems["phone"] = Problem(INVALID_PHONE)
    if "email" in changes:
        typed = (changes["email"] or "").strip()
        if not typed:
            clean["email"] = None
        elif len(typed) > EMAIL_LIMIT or not _EMAIL.match(typed):
            problems["email"] = Problem(INVALID_EMAIL)
        else:
            clean["email"] = typed.lower()
    if problems:
        raise Invalid(problems)
    return clean


def set_contact(
    session: Session,
    staff_id: int,
    changes: Mapping[str, str | None],
    *,
    actor_id: int | None,
    now: datetime,
) -> StaffContact:
    """Check and store the given fields of one staff member's contact details."""
    user = session.get(StaffUser, staff_id, with_for_update=True)
    if user is None:
        raise StaffNotFound(staff_id)
    clean = check(changes)
    changed = sorted(name for name, value in clean.items() if getattr(user, name) != value)
    for name in changed:
        setattr(user, name, clean[name])
    if changed:
        session.add(
            AuditEntry(
                at=now,
                actor_id=actor_id,
                action="staff_contact_changed",
                subject_kind="staff",
                subject_id=str(staff_id),
                detail={"fields": changed},
            )
        )
    session.flush()
    return StaffContact.of(user)


def contacts(session: Session, ids: Iterable[int]) -> dict[int, StaffContact]:
    """The named staff members (those that exist), by id, in one query."""
    wanted = set(ids)
    if not wanted:
        return {}
    users = session.scalars(select(StaffUser).where(StaffUser.id.in_(wanted))).all()
    return {user.id: StaffContact.of(user) for user in users}


def everyone(session: Session) -> list[StaffContact]:
    """Every staff account, by name: the admin's list and the on-call forms' choices."""
    users = session.scalars(select(StaffUser).order_by(StaffUser.display_name, StaffUser.id))
    return [StaffContact.of(user) for user in users]
