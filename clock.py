"""The one source of "now": injectable so tests can move time instead of waiting for it."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; for tests and demo data."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            # astimezone() would silently read a naive value as the machine's local time.
            raise ValueError("FrozenClock.set needs a timezone-aware moment")
        self._now = moment.astimezone(UTC)


class FileClock:
    """Tests only: "now" is the instant written in a file (ISO 8601 with an offset), re-read
    whenever it changes, so a test can move time in real `hotline serve/worker` processes.

    Built only when HOTLINE_TEST_CLOCK_FILE is set, which settings refuse unless
    HOTLINE_ALLOW_TEST_CLOCK=true is set too. Never for production."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: tuple[int, int, int] | None = None
        self._now: datetime | None = None

    def now(self) -> datetime:
        stat = self._path.stat()
        # Each write is a new file (os.replace), so its inode tells a change apart.
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if stamp != self._seen or self._now is None:
            moment = datetime.fromisoformat(self._path.read_text().strip())
            if moment.tzinfo is None:
                raise ValueError(f"{self._path}: the test clock needs a time with an offset")
            self._now, self._seen = moment.astimezone(UTC), stamp
        return self._now

    @staticmethod
    def write(path: Path, moment: datetime) -> None:
        """Set the clock of every process reading `path` (atomically: no half-written time)."""
        if moment.tzinfo is None:
            raise ValueError("the test clock needs a timezone-aware moment")
        temporary = path.with_name(path.name + ".new")
        temporary.write_text(moment.astimezone(UTC).isoformat())
        os.replace(temporary, path)
