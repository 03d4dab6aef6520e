"""rq jobs of the triage domain. Each takes ids; each contact is handled in its own transaction."""

from __future__ import annotations

from jobqueue import for_each_row, job_context
from triage import intake_flow, routing_notice
from triage.models import NoticeStatus


def take_in_contacts(contact_ids: list[int]) -> list[int | None]:
    """Open cases for committed contacts; returns their case ids (None for a missing contact)."""
    context = job_context()

    def take_in(contact_id: int) -> int | None:
        with context.transaction() as session:
            return intake_flow.take_in_contact(
                session,
                contact_id,
                now=context.clock.now(),
                cipher=context.cipher,
            )

    return for_each_row(contact_ids, take_in, failure="contacts not taken in")


def send_routing_notices(routing_ids: list[int]) -> list[NoticeStatus | None]:
    """E-mail partner units the link to their new routings; returns each notice's status.

    Mail failures are recorded on the routing (retry later, or failed with the reason); only
    unexpected errors fail the job, after the rest of the batch.
    """
    context = job_context()
    if context.email is None:
        raise RuntimeError("no e-mail sender in this job context")
    email, base_url = context.email, context.settings.base_url

    def send(routing_id: int) -> NoticeStatus | None:
        with context.transaction() as session:
            return routing_notice.send_notice(
                session, routing_id, email=email, now=context.clock.now(), base_url=base_url
            )

    return for_each_row(routing_ids, send, failure="routing notices not handled")
