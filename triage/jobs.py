"""rq jobs of the triage domain. Each takes ids and does its work in one transaction."""

from __future__ import annotations

from jobqueue import job_context
from triage import intake_flow


def take_in_contact(contact_id: int) -> int | None:
    context = job_context()
    with context.transaction() as session:
        return intake_flow.take_in_contact(
            session,
            contact_id,
            now=context.clock.now(),
            triage_hours=context.settings.triage_deadline_hours,
            cipher=context.cipher,
        )
