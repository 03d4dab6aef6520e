"""rq jobs of the triage domain. Each takes ids; each contact is handled in its own transaction."""

from __future__ import annotations

import structlog

from jobqueue import job_context
from triage import intake_flow

log = structlog.get_logger(__name__)


class TakeInFailed(Exception):
    """Some contacts of a batch could not be taken in; the sweeper will try them again."""


def take_in_contacts(contact_ids: list[int]) -> list[int | None]:
    """Open cases for committed contacts; returns their case ids (None for a missing contact).

    One contact's failure does not hold up the rest of the batch; the job still fails at the end,
    so rq records it, and the failed contacts stay unprocessed for the sweeper.
    """
    context = job_context()
    case_ids: list[int | None] = []
    failed: list[int] = []
    for contact_id in contact_ids:
        try:
            with context.transaction() as session:
                case_ids.append(
                    intake_flow.take_in_contact(
                        session,
                        contact_id,
                        now=context.clock.now(),
                        triage_hours=context.settings.triage_deadline_hours,
                        cipher=context.cipher,
                    )
                )
        except Exception:
            log.exception("take_in_failed", contact_id=contact_id)
            failed.append(contact_id)
            case_ids.append(None)
    if failed:
        raise TakeInFailed(f"contacts not taken in: {failed}")
    return case_ids
