"""Voicemail recordings: fetched from the provider into our own storage, then deleted there.

Run by the `fetch_recordings` job (intake/jobs.py), one recording at a time, in two steps with a
commit between them, so the audio is ours (file written, row committed) before the provider's
copy is deleted. Each step re-checks the row: running the job twice changes nothing. A failure
leaves the row with `next_attempt_at`, and the sweeper (triage/sweeps.py) runs it again: never
given up on, never lost.

Files: settings.data_dir / "recordings" / "<provider id>.wav", mode 0600, written to a temporary
name first and renamed, so a half-written file is never taken for the recording.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.models import Recording
from notifications.ports import RecordingStore, RecordingUnavailable

log = structlog.get_logger(__name__)

FOLDER = "recordings"
# After the n-th failed attempt, wait this long (the last one repeats: never given up on).
RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EXTENSIONS = {"audio/mpeg": ".mp3"}


def retry_delay(attempts: int) -> timedelta:
    return RETRY_AFTER[min(max(attempts, 1), len(RETRY_AFTER)) - 1]


def relative_path(recording: Recording, content_type: str) -> str:
    name = (
        recording.provider_id if _SAFE_NAME.match(recording.provider_id) else f"rec-{recording.id}"
    )
    return f"{FOLDER}/{name}{EXTENSIONS.get(content_type, '.wav')}"


def _write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _lock(session: Session, recording_id: int) -> Recording | None:
    return session.scalar(select(Recording).where(Recording.id == recording_id).with_for_update())


def _failed(recording: Recording, exc: RecordingUnavailable, now: datetime) -> None:
    recording.attempts += 1
    recording.next_attempt_at = now + retry_delay(recording.attempts)
    recording.last_error = str(exc)[:255]
    log.warning(
        "recording_attempt_failed",
        recording_id=recording.id,
        attempts=recording.attempts,
        code=exc.code,
    )


def fetch(
    session: Session, recording_id: int, *, store: RecordingStore, data_dir: Path, now: datetime
) -> bool:
    """Step 1: store the audio (once). Returns whether step 2 (delete at provider) is due."""
    recording = _lock(session, recording_id)
    if recording is None or recording.deleted_at_provider is not None:
        return False
    if recording.fetched_at is not None:
        return True
    try:
        audio = store.download(recording.provider_id)
    except RecordingUnavailable as exc:
        _failed(recording, exc, now)
        return False
    relative = relative_path(recording, audio.content_type)
    _write_private(data_dir / relative, audio.content)
    recording.file_path = relative
    recording.content_type = audio.content_type
    recording.fetched_at = now
    recording.last_error = None
    log.info("recording_fetched", recording_id=recording.id, size=len(audio.content))
    return True


def delete_at_provider(
    session: Session, recording_id: int, *, store: RecordingStore, now: datetime
) -> bool:
    """Step 2: delete the provider's copy of a stored recording. Returns whether it is done."""
    recording = _lock(session, recording_id)
    if recording is None or recording.fetched_at is None:
        return False
    if recording.deleted_at_provider is not None:
        return True
    try:
        store.delete(recording.provider_id)
    except RecordingUnavailable as exc:
        _failed(recording, exc, now)
        return False
    recording.deleted_at_provider = now
    recording.next_attempt_at = None
    recording.last_error = None
    log.info("recording_deleted_at_provider", recording_id=recording.id)
    return True
