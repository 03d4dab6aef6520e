"""rq jobs of the intake domain. Each takes ids; each row is handled in its own transaction."""

from __future__ import annotations

import structlog

from intake import outbound, recordings
from intake.messaging import STATUS_CALLBACK_PATH
from jobqueue import job_context

log = structlog.get_logger(__name__)


class SendJobFailed(Exception):
    """Some messages of a batch hit an unexpected error; they stay pending for the sweeper."""


def send_messages(message_ids: list[int]) -> list[str | None]:
    """Send queued outbound messages; returns each one's status afterwards (None if missing).

    Provider failures are not job failures: they are recorded on the message (retry later, or
    failed with the reason). Only unexpected errors fail the job, after the rest of the batch.
    """
    context = job_context()
    base_url = context.settings.public_base_url
    status_callback = base_url + STATUS_CALLBACK_PATH if base_url else None
    statuses: list[str | None] = []
    failed: list[int] = []
    for message_id in message_ids:
        try:
            with context.transaction() as session:
                statuses.append(
                    outbound.send_message(
                        session,
                        message_id,
                        sms=context.sms,
                        now=context.clock.now(),
                        status_callback=status_callback,
                    )
                )
        except Exception:
            log.exception("send_message_failed", message_id=message_id)
            failed.append(message_id)
            statuses.append(None)
    if failed:
        raise SendJobFailed(f"messages not handled: {failed}")
    return statuses


class RecordingJobFailed(Exception):
    """Some recordings of a batch hit an unexpected error; the sweeper runs them again."""


def fetch_recordings(recording_ids: list[int]) -> list[bool]:
    """Fetch voicemails into our storage and delete them at the provider; returns, per id,
    whether both are done. Provider failures wait for the sweeper (next_attempt_at)."""
    context = job_context()
    if context.recordings is None:
        raise RuntimeError("no recording store in this job context")
    store, data_dir = context.recordings, context.settings.data_dir
    done: list[bool] = []
    failed: list[int] = []
    for recording_id in recording_ids:
        try:
            with context.transaction() as session:
                due = recordings.fetch(
                    session, recording_id, store=store, data_dir=data_dir, now=context.clock.now()
                )
            finished = False
            if due:
                with context.transaction() as session:
                    finished = recordings.delete_at_provider(
                        session, recording_id, store=store, now=context.clock.now()
                    )
            done.append(finished)
        except Exception:
            log.exception("fetch_recording_failed", recording_id=recording_id)
            failed.append(recording_id)
            done.append(False)
    if failed:
        raise RecordingJobFailed(f"recordings not handled: {failed}")
    return done
