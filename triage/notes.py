"""Internal notes on a case: staff's own words, stored encrypted, shown on the case's timeline.

A note is never shown to the reporter. Its timeline entry (`note_added`) names the note by id
only; the text stays in `case_notes.body` (EncryptedText), read when the page or API shows it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from triage.models import ActorKind, Case, CaseEvent, CaseNote

MAX_NOTE_CHARS = 4000


class NoteInvalid(ValueError):
    """The text is empty or longer than MAX_NOTE_CHARS."""


class CaseNotFound(LookupError):
    pass


def clean_body(body: object) -> str:
    """The note's text, trimmed; NoteInvalid if it is empty or too long."""
    if not isinstance(body, str) or not body.strip():
        raise NoteInvalid(f"write a note of 1 to {MAX_NOTE_CHARS} characters")
    text = body.strip()
    if len(text) > MAX_NOTE_CHARS:
        raise NoteInvalid(f"a note may have at most {MAX_NOTE_CHARS} characters")
    return text


def new_note(case_id: int, body: str, *, staff_id: int, now: datetime) -> CaseNote:
    """A note row, unsaved (for callers that record it as part of another change)."""
    return CaseNote(case_id=case_id, author_id=staff_id, at=now, body=clean_body(body))


async def add_note(
    session: AsyncSession, case_id: int, body: str, *, staff_id: int, now: datetime
) -> CaseNote:
    """Store a note and its timeline entry; CaseNotFound or NoteInvalid store nothing."""
    note = new_note(case_id, body, staff_id=staff_id, now=now)
    if await session.get(Case, case_id) is None:
        raise CaseNotFound(case_id)
    session.add(note)
    await session.flush()
    session.add(
        CaseEvent(
            case_id=case_id,
            at=now,
            actor_kind=ActorKind.STAFF,
            actor_id=staff_id,
            kind="note_added",
            detail={"note_id": note.id},
        )
    )
    return note


async def notes_for_case(session: AsyncSession, case_id: int) -> list[CaseNote]:
    return list(
        await session.scalars(
            select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.at, CaseNote.id)
        )
    )
