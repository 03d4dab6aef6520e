"""Sweeps: turn database rows that still need work into jobs, whatever Redis has forgotten.

Each sweep names a query for the ids of rows that are due, and the batch job that handles them.
The worker's Sweeper runs every sweep in the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.models import Contact
from jobqueue import BatchJob, take_in_contacts

SWEEP_BATCH = 1000


def unprocessed_contacts(session: Session, *, now: datetime, grace: timedelta) -> list[int]:
    """Contacts that waited longer than `grace` without being taken in (oldest first)."""
    return list(
        session.scalars(
            select(Contact.id)
            .where(Contact.processed_at.is_(None), Contact.received_at <= now - grace)
            .order_by(Contact.received_at)
            .limit(SWEEP_BATCH)
        ).all()
    )


@dataclass(frozen=True)
class Sweep:
    name: str
    find: Callable[..., list[int]]
    job: BatchJob


SWEEPS = (Sweep("unprocessed_contacts", unprocessed_contacts, take_in_contacts),)
