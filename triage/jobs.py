"""rq jobs of the triage domain. Each takes ids; each contact is handled in its own transaction."""

from __future__ import annotations

from jobqueue import for_each_row, job_context
from triage import intake_flow


def take_in_contacts(contact_ids: list[int]) -> list[int | None]:
    """Open cases for committed contacts; returns their case ids (None for a missing contact)."""
    context = job_context()

    def take_in(contact_id: int) -> int | None:
        with context.transaction() as session:
            return intake_flow.take_in_contact(
                session,
                contact_id,
                now=context.clock.now(),
                triage_hours=context.settings.triage_deadline_hours,
                cipher=context.cipher,
            )

    return for_each_row(contact_ids, take_in, failure="contacts not taken in")
