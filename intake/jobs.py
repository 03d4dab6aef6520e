"""rq jobs of the intake domain. Each takes ids; each row is handled in its own transaction."""

from __future__ import annotations

from intake import outbound, recordings
from intake.messaging import STATUS_CALLBACK_PATH
from jobqueue import for_each_row, job_context


def send_messages(message_ids: list[int]) -> list[str | None]:
    """Send queued outbound messages; returns each one's status afterwards (None if missing).

    Provider failures are not job failures: they are recorded on the message (retry later, or
    failed with the reason). Only unexpected errors fail the job, after the rest of the batch.
    """
    context = job_context()
    base_url = context.settings.public_base_url
    status_callback = base_url + STATUS_CALLBACK_PATH if base_url else None

    def send(message_id: int) -> str | None:
        with context.transaction() as session:
            return outbound.send_message(
                session,
                message_id,
                sms=context.sms,
                now=context.clock.now(),
                status_callback=status_callback,
            )

    return for_each_row(message_ids, send, failure="messages not handled")


def fetch_recordings(recording_ids: list[int]) -> list[bool | None]:
    """Fetch voicemails into our storage and delete them at the provider; returns, per id,
    whether both are done. Provider failures wait for the sweeper (next_attempt_at)."""
    context = job_context()
    if context.recordings is None:
        raise RuntimeError("no recording store in this job context")
    store, data_dir = context.recordings, context.settings.data_dir

    def fetch_and_delete(recording_id: int) -> bool:
        with context.transaction() as session:
            due = recordings.fetch(
                session, recording_id, store=store, data_dir=data_dir, now=context.clock.now()
            )
        if not due:
            return False
        with context.transaction() as session:
            return recordings.delete_at_provider(
                session, recording_id, store=store, now=context.clock.now()
            )

    return for_each_row(recording_ids, fetch_and_delete, failure="recordings not handled")
