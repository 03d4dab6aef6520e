"""Queue changes, noted during a transaction and announced after it commits.

Every change that alters a case's queue row (a new case, a status change, an assignment) calls
`note_case_changed` on the session doing it; nothing is announced for a rolled-back change.

`QueueAnnouncer` is the one place that announces: the composition root has it watch the session
class behind every session factory (the server's async sessions and the jobs' sync sessions),
and after a commit it publishes the noted case ids, ids only, on Redis pub/sub
(`queue_channel`). A failed publish is logged and fails nothing: the change is committed, and
the queue pages catch up on their next refresh.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection

import structlog
from redis import Redis
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

log = structlog.get_logger(__name__)

CHANGED_CASES = "hotline_changed_cases"
# No announcement carries more ids than this (a bulk change says "refresh", not every id).
MAX_IDS = 500


def note_case_changed(session: Session | AsyncSession, case_id: int) -> None:
    """Remember that this case's queue row changed in the session's current transaction."""
    changed: set[int] = session.info.setdefault(CHANGED_CASES, set())
    changed.add(case_id)


def queue_channel(redis: Redis) -> str:
    """`hotline:<db>:queue`. Pub/sub ignores database numbers, so the channel names the one the
    client uses: deployments and parallel test runs on one Redis server do not hear each other."""
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"hotline:{db}:queue"


def encode_ids(case_ids: Collection[int]) -> str:
    return json.dumps(sorted(case_ids)[:MAX_IDS])


def decode_ids(data: bytes | str) -> list[int]:
    """The case ids of an announcement; anything else on the channel counts as none."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(value, list):
        return []
    return [item for item in value if type(item) is int and item > 0]


class QueueAnnouncer:
    """Publishes the case ids a transaction noted, once it has committed."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.channel = queue_channel(redis)
        # Publishes handed to a thread by sessions on an event loop, until they are done.
        self._pending: set[asyncio.Future[None]] = set()

    def watch(self, session_class: type[Session]) -> None:
        """Announce for every session of this class (AsyncSession runs one inside)."""
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_transaction_end", self._after_transaction_end)

    def _after_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released: the transaction around it may still roll back
        case_ids: set[int] | None = session.info.pop(CHANGED_CASES, None)
        if not case_ids:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # A job's thread or work horse: one short blocking call, after the commit.
            self.publish(case_ids)
            return
        # A session on the server's event loop: the blocking client runs in a thread, so the
        # loop never waits on Redis and the commit does not wait for the publish.
        future = loop.run_in_executor(None, self.publish, case_ids)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _after_transaction_end(self, session: Session, transaction: SessionTransaction) -> None:
        # The outermost transaction is over; whatever a commit did not take was rolled back.
        if transaction.parent is None:
            session.info.pop(CHANGED_CASES, None)

    def publish(self, case_ids: Collection[int]) -> None:
        """Publish now; on failure log the ids (never anything else) and carry on."""
        try:
            self._redis.publish(self.channel, encode_ids(case_ids))
        except Exception as exc:  # Redis is a transport: its failure must not fail the change
            log.warning(
                "queue_announce_failed", case_ids=sorted(case_ids), error=type(exc).__name__
            )

    async def drain(self) -> None:
        """Wait for publishes handed to threads (at shutdown, and in tests)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
