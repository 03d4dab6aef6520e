"""Sweeps: turn database rows that still need work into jobs, whatever Redis has forgotten."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.models import Contact
from jobqueue import PlannedJob, take_in_contact

SWEEP_BATCH = 1000


def unprocessed_contacts(session: Session, *, now: datetime, grace: timedelta) -> list[PlannedJob]:
    """Jobs for contacts that waited longer than `grace` without being taken in."""
    ids = session.scalars(
        select(Contact.id)
        .where(Contact.processed_at.is_(None), Contact.received_at <= now - grace)
        .order_by(Contact.received_at)
        .limit(SWEEP_BATCH)
    ).all()
    return [take_in_contact(contact_id) for contact_id in ids]
