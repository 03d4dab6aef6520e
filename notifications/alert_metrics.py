"""What the alert engine reports to /metrics (metrics.py reads it at scrape time)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def failed_alert_attempts_by_channel(session: Session) -> dict[str, int]:
    """How many alert delivery attempts have failed, by channel ("sms", "voice", "email",
    "in_app"), counted in the database so every server process answers alike.

    A stand-in: the alert engine (alerts and alert_attempts tables) fills this in with one
    indexed count grouped by channel. Until then no attempt exists, so there is nothing to count.
    """
    del session  # the engine's query will use it
    return {}
