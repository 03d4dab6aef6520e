"""Queue changes, noted during a transaction and announced after it commits.

Every change that alters a case's queue row (a new case, a status change, an assignment) calls
`note_case_changed` on the session doing it; nothing is announced for a rolled-back change.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

CHANGED_CASES = "hotline_changed_cases"


def note_case_changed(session: Session | AsyncSession, case_id: int) -> None:
    """Remember that this case's queue row changed in the session's current transaction."""
    changed: set[int] = session.info.setdefault(CHANGED_CASES, set())
    changed.add(case_id)
