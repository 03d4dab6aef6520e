"""What the alert engine reports to /metrics (metrics.py reads it at scrape time)."""

from __future__ import annotations

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from notifications.alert_models import AlertAttempt, AlertChannel, AttemptStatus


def failed_alert_attempts_by_channel(session: Session) -> dict[str, int]:
    """Failed attempts by channel (given up on, or interrupted with the outcome unknown), every
    channel named (0 when none failed), counted in the database so every server process answers
    alike: one scan of the partial index of failures."""
    counts = dict.fromkeys((c.value for c in AlertChannel if c is not AlertChannel.APP), 0)
    found = session.execute(
        select(AlertAttempt.channel, func.count())
        .where(
            AlertAttempt.status.in_(
                [
                    literal_column(f"'{AttemptStatus.FAILED.value}'"),
                    literal_column(f"'{AttemptStatus.UNKNOWN.value}'"),
                ]
            )
        )
        .group_by(AlertAttempt.channel)
    )
    for channel, number in found.all():
        counts[channel.value] = int(number)
    return counts
