"""Staff accounts, logins and the audit log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from access.models import AuditEntry, PartnerUnit, Role, StaffSession, StaffUser
from access.passwords import hash_password, needs_rehash, verify_password

# After this many wrong passwords in a row the account locks for LOCK_DURATION (a guess-limit,
# in the spirit of the Danish security rules' "block after 3 failed logins").
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)


class AccountExists(Exception):
    pass


@dataclass(frozen=True)
class Staff:
    """The logged-in staff member, as the rest of the application sees them."""

    id: int
    username: str
    display_name: str
    role: Role
    session_id: int
    # Coordinators: their partner unit (None for other roles, or a coordinator not yet placed).
    partner_unit_id: int | None = None


def normalise_username(username: str) -> str:
    return username.strip().lower()


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    now: datetime,
    partner_unit_id: int | None = None,
) -> StaffUser:
    name = normalise_username(username)
    if not name or len(name) > 64:
        raise ValueError("a username needs 1 to 64 characters")
    if partner_unit_id is not None:
        if role is not Role.COORDINATOR:
            raise ValueError("only coordinators belong to a partner unit")
        if session.get(PartnerUnit, partner_unit_id) is None:
            raise ValueError(f"no partner unit has id {partner_unit_id}")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == name)) is not None:
        raise AccountExists(name)
    user = StaffUser(
        username=name,
        display_name=display_name.strip() or name,
        password_hash=hash_password(password),
        role=role,
        active=True,
        created_at=now,
        failed_logins=0,
        partner_unit_id=partner_unit_id,
    )
    session.add(user)
    session.flush()
    session.add(
        AuditEntry(
            at=now, action="staff_created", subject_kind="staff", subject_id=str(user.id), detail={}
        )
    )
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def log_in(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    now: datetime,
    lifetime: timedelta,
) -> str | None:
    """Check a password; on success open a session and return its cookie token."""
    user = await session.scalar(
        select(StaffUser)
        .where(StaffUser.username == normalise_username(username))
        .with_for_update()
    )
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not user.active or locked or not ok:
        if user is not None and not locked:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + LOCK_DURATION
                user.failed_logins = 0
        session.add(
            AuditEntry(
                at=now,
                actor_id=None,
                action="login_refused",
                subject_kind="staff",
                subject_id=str(user.id) if user else None,
                detail={"locked": locked},
            )
        )
        return None
    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.add(AuditEntry(at=now, actor_id=user.id, action="login", detail={}))
    return token


async def staff_for_token(
    session: AsyncSession, token: str, *, now: datetime, lifetime: timedelta
) -> Staff | None:
    """The staff member behind a session cookie, sliding the session's expiry forward."""
    row = (
        await session.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.token_hash == _token_hash(token))
        )
    ).one_or_none()
    if row is None:
        return None
    staff_session, user = row
    if staff_session.expires_at <= now or not user.active:
        return None
    # Extend only now and then, so an ordinary page view does not write.
    if staff_session.expires_at - now < lifetime / 2:
        staff_session.expires_at = now + lifetime
    return Staff(
        user.id,
        user.username,
        user.display_name,
        user.role,
        staff_session.id,
        partner_unit_id=user.partner_unit_id,
    )


async def login_is_active(session: AsyncSession, session_id: int, *, now: datetime) -> bool:
    """Whether a login session is still valid, without extending it: for long-lived streams,
    which must end with their login but must not keep it alive."""
    row = (
        await session.execute(
            select(StaffSession.expires_at, StaffUser.active)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.id == session_id)
        )
    ).one_or_none()
    return row is not None and row.expires_at > now and row.active


async def log_out(session: AsyncSession, staff: Staff, *, now: datetime) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.id == staff.session_id))
    session.add(AuditEntry(at=now, actor_id=staff.id, action="logout", detail={}))


def audit(
    session: Session | AsyncSession,
    *,
    at: datetime,
    actor: Staff | None,
    action: str,
    subject_kind: str | None = None,
    subject_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record an access to personal data or a change; no personal data goes into `detail`."""
    session.add(
        AuditEntry(
            at=at,
            actor_id=actor.id if actor else None,
            action=action,
            subject_kind=subject_kind,
            subject_id=None if subject_id is None else str(subject_id),
            detail=detail or {},
        )
    )
