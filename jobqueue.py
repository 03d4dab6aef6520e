"""How work reaches the worker: rq on Redis, and what jobs may rely on when they run.

Redis is only a transport. Everything a job does is decided by database state, so a job that is
lost (Redis restarted empty) is found again by the sweeper, and a job that runs twice changes
nothing the second time. Jobs receive ids, never objects.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from redis import Redis
from rq import Queue
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from clock import Clock
    from crypto import DataCipher
    from notifications.ports import AlertCaller, EmailSender, RecordingStore, SmsSender
    from settings import Settings

log = structlog.get_logger(__name__)

QUEUE_NAME = "hotline"
R = TypeVar("R")


@dataclass(frozen=True)
class PlannedJob:
    # The job function's dotted path: rq imports it by name in the worker, so the code that
    # enqueues (e.g. intake) need not import the domain that runs it (e.g. triage).
    function: str
    args: tuple[Any, ...]
    # Deterministic ids make a job findable and show duplicates in rq's registries.
    job_id: str


# At most this many ids in one job, so several workers share a burst.
MAX_IDS_PER_JOB = 100


def _batch(function: str, name: str, row_ids: Sequence[int]) -> PlannedJob:
    ids = list(row_ids)
    if not 1 <= len(ids) <= MAX_IDS_PER_JOB:
        raise ValueError(f"a {name} job carries 1 to {MAX_IDS_PER_JOB} ids")
    return PlannedJob(function, (ids,), f"{name}-{ids[0]}-{ids[-1]}-{len(ids)}")


def take_in_contacts(contact_ids: Sequence[int]) -> PlannedJob:
    """The job that turns committed contacts into cases (triage/jobs.py)."""
    return _batch("triage.jobs.take_in_contacts", "take-in-contacts", contact_ids)


def send_messages(message_ids: Sequence[int]) -> PlannedJob:
    """The job that sends queued outbound SMS/WhatsApp messages (intake/jobs.py)."""
    return _batch("intake.jobs.send_messages", "send-messages", message_ids)


def fetch_recordings(recording_ids: Sequence[int]) -> PlannedJob:
    """The job that fetches voicemails into our storage and deletes them at the provider."""
    return _batch("intake.jobs.fetch_recordings", "fetch-recordings", recording_ids)


def send_routing_notices(routing_ids: Sequence[int]) -> PlannedJob:
    """The job that e-mails partner units the link to a routing (triage/jobs.py)."""
    return _batch("triage.jobs.send_routing_notices", "send-routing-notices", routing_ids)


def escalate_deadlines(deadline_ids: Sequence[int]) -> PlannedJob:
    """The job that plans deadlines' escalation steps and fires the due ones
    (notifications/jobs.py)."""
    return _batch("notifications.jobs.escalate_deadlines", "escalate-deadlines", deadline_ids)


def start_alert_rounds(alert_ids: Sequence[int]) -> PlannedJob:
    """The job that repeats unacknowledged alerts (or stops those whose deadline was met)."""
    return _batch("notifications.jobs.start_alert_rounds", "start-alert-rounds", alert_ids)


def send_alert_attempts(attempt_ids: Sequence[int]) -> PlannedJob:
    """The job that tries alert attempts: a retry's time has come, a lost first try, a try
    that was interrupted."""
    return _batch("notifications.jobs.send_alert_attempts", "send-alert-attempts", attempt_ids)


def in_chunks(ids: Sequence[int], size: int = MAX_IDS_PER_JOB) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


class JobQueue:
    """A thin, synchronous face on one rq queue."""

    def __init__(self, redis: Redis, *, on_enqueued: Callable[[], None] | None = None) -> None:
        self.redis = redis
        self.rq = Queue(QUEUE_NAME, connection=redis)
        self._on_enqueued = on_enqueued

    def enqueue(self, job: PlannedJob) -> None:
        self.enqueue_many([job])

    def enqueue_many(self, jobs: list[PlannedJob]) -> None:
        """Put jobs on the queue in one round trip."""
        if not jobs:
            return
        self.rq.enqueue_many(
            [
                Queue.prepare_data(j.function, args=j.args, job_id=j.job_id, result_ttl=3600)
                for j in jobs
            ]
        )
        if self._on_enqueued is not None:
            self._on_enqueued()


# Builds the job for a batch of row ids, e.g. `take_in_contacts`.
BatchJob = Callable[[Sequence[int]], PlannedJob]


class Enqueuer:
    """Enqueues off the request's critical path, coalescing ids into batch jobs.

    A request commits its row, hands the row's id here and answers at once; a background task
    turns whatever has gathered into one job per kind (rq's per-job cost, paid by the server
    process, is shared by the batch) and sends them to Redis. If Redis is down the jobs are
    dropped with a warning: the rows are committed, and the sweeper enqueues them when it can.
    """

    def __init__(self, queue: JobQueue, *, max_batch: int = 2000, linger: float = 0.05) -> None:
        self._queue = queue
        self._max_batch = max_batch
        # Wait this long after the first id so a burst leaves as one batch: each send is a hop
        # to a thread and a Redis pipeline, costs paid by the server process.
        self._linger = linger
        self._pending: asyncio.Queue[tuple[BatchJob, int]] = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, job: BatchJob, row_id: int) -> None:
        self._idle.clear()
        self._pending.put_nowait((job, row_id))

    async def run(self) -> None:
        while True:
            items = [await self._pending.get()]
            await asyncio.sleep(self._linger)
            while len(items) < self._max_batch and not self._pending.empty():
                items.append(self._pending.get_nowait())
            grouped: dict[BatchJob, list[int]] = {}
            for job, row_id in items:
                grouped.setdefault(job, []).append(row_id)
            await self._send(
                [job(chunk) for job, ids in grouped.items() for chunk in in_chunks(ids)]
            )
            if self._pending.empty():
                self._idle.set()

    async def _send(self, jobs: list[PlannedJob]) -> None:
        try:
            await asyncio.to_thread(self._queue.enqueue_many, jobs)
        except Exception as exc:  # any Redis failure: the sweeper is the guarantee
            log.warning(
                "enqueue_failed_sweeper_will_retry", jobs=len(jobs), error=type(exc).__name__
            )

    async def drain(self) -> None:
        """Wait until everything submitted so far has been sent (or given up on)."""
        await self._idle.wait()


class BatchFailed(Exception):
    """Some rows of a batch job hit an unexpected error; they stay due for the sweeper."""


def for_each_row(ids: Sequence[int], handle: Callable[[int], R], *, failure: str) -> list[R | None]:
    """Run a batch job's `handle` on each row id; one row's error does not stop the others.

    The job still fails at the end (rq records it, with `failure` and the ids) when any row
    failed; those rows were left as they were, so the sweeper finds them again.
    """
    results: list[R | None] = []
    failed: list[int] = []
    for row_id in ids:
        try:
            results.append(handle(row_id))
        except Exception:
            log.exception("batch_row_failed", failure=failure, row_id=row_id)
            failed.append(row_id)
            results.append(None)
    if failed:
        raise BatchFailed(f"{failure}: {failed}")
    return results


@dataclass
class JobContext:
    """What job functions may use: built by the composition root, set once per worker process."""

    settings: Settings
    clock: Clock
    cipher: DataCipher
    engine: Engine
    queue: JobQueue
    sms: SmsSender
    recordings: RecordingStore | None = None
    email: EmailSender | None = None
    # Alert calls to staff (the alert engine's jobs).
    alert_caller: AlertCaller | None = None
    # The composition root's session class: its commits announce queue changes.
    session_class: type[Session] = Session
    # The process that built the engine; a forked rq work horse has another pid.
    _pid: int = field(default_factory=os.getpid)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction, committed on success, rolled back on error."""
        # rq forks a work horse per job; pooled connections must not cross a fork.
        if self._pid != os.getpid():
            self.engine.dispose(close=False)
            self._pid = os.getpid()
        with (
            self.session_class(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session


_context_lock = threading.Lock()
_context: JobContext | None = None


def set_job_context(context: JobContext | None) -> None:
    global _context  # noqa: PLW0603  (rq calls plain functions; this is their only way in)
    with _context_lock:
        _context = context


def job_context() -> JobContext:
    if _context is None:
        raise RuntimeError("no job context: jobs run only inside `hotline worker` or the server")
    return _context
