"""How work reaches the worker: rq on Redis, and what jobs may rely on when they run.

Redis is only a transport. Everything a job does is decided by database state, so a job that is
lost (Redis restarted empty) is found again by the sweeper, and a job that runs twice changes
nothing the second time. Jobs receive ids, never objects.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog
from redis import Redis
from rq import Queue
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from clock import Clock
    from crypto import DataCipher
    from settings import Settings

log = structlog.get_logger(__name__)

QUEUE_NAME = "hotline"


@dataclass(frozen=True)
class PlannedJob:
    # The job function's dotted path: rq imports it by name in the worker, so the code that
    # enqueues (e.g. intake) need not import the domain that runs it (e.g. triage).
    function: str
    args: tuple[Any, ...]
    # Deterministic ids make a job findable and show duplicates in rq's registries.
    job_id: str


def take_in_contact(contact_id: int) -> PlannedJob:
    return PlannedJob("triage.jobs.take_in_contact", (contact_id,), f"take-in-contact-{contact_id}")


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


class Enqueuer:
    """Enqueues off the request's critical path, in batches.

    A request commits its row, hands the job here and answers at once; a background task sends
    batches to Redis. If Redis is down the job is dropped with a warning: the row is already
    committed, and the sweeper enqueues it once Redis is back.
    """

    def __init__(self, queue: JobQueue, *, batch_size: int = 500) -> None:
        self._queue = queue
        self._batch_size = batch_size
        self._pending: asyncio.Queue[PlannedJob] = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, job: PlannedJob) -> None:
        self._idle.clear()
        self._pending.put_nowait(job)

    async def run(self) -> None:
        while True:
            batch = [await self._pending.get()]
            while len(batch) < self._batch_size and not self._pending.empty():
                batch.append(self._pending.get_nowait())
            await self._send(batch)
            if self._pending.empty():
                self._idle.set()

    async def _send(self, batch: list[PlannedJob]) -> None:
        try:
            await asyncio.to_thread(self._queue.enqueue_many, batch)
        except Exception as exc:  # any Redis failure: the sweeper is the guarantee
            log.warning(
                "enqueue_failed_sweeper_will_retry", jobs=len(batch), error=type(exc).__name__
            )

    async def drain(self) -> None:
        """Wait until everything submitted so far has been sent (or given up on)."""
        await self._idle.wait()


@dataclass
class JobContext:
    """What job functions may use: built by the composition root, set once per worker process."""

    settings: Settings
    clock: Clock
    cipher: DataCipher
    engine: Engine
    queue: JobQueue
    # The process that built the engine; a forked rq work horse has another pid.
    _pid: int = field(default_factory=os.getpid)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction, committed on success, rolled back on error."""
        # rq forks a work horse per job; pooled connections must not cross a fork.
        if self._pid != os.getpid():
            self.engine.dispose(close=False)
            self._pid = os.getpid()
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
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
