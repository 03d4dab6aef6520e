"""The worker: runs rq jobs and the sweeper that re-enqueues whatever Redis lost.

`hotline worker` runs rq's forking Worker in the main thread and the sweeper in a second thread.
On embedded defaults the server runs `InProcessWorker` instead: the same jobs, on the in-process
Redis stand-in, in a thread of the server.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import structlog
from rq import SimpleWorker, Worker
from rq.timeouts import TimerDeathPenalty

from bootstrap import Deps, build_deps
from jobqueue import QUEUE_NAME, JobContext, in_chunks, set_job_context
from notifications import alert_sweeps
from settings import Settings
from triage import sweeps

log = structlog.get_logger(__name__)

SWEEP_LOCK_KEY = "hotline:sweep-lock"
# Every sweep the worker runs: intake and triage work, then the alert engine's.
SWEEPS = (*sweeps.SWEEPS, *alert_sweeps.SWEEPS)


class Sweeper:
    """Finds rows that need a job and enqueues them; at most one sweep per interval cluster-wide."""

    def __init__(self, context: JobContext) -> None:
        self._context = context
        self._interval = context.settings.sweep_seconds
        self._grace = timedelta(seconds=context.settings.sweep_grace_seconds)
        # The last sweep's rows by sweep name (for tests and logs).
        self.found: dict[str, int] = {}

    def sweep(self, *, take_turn: bool = True) -> int:
        """One sweep; returns how many rows it enqueued (0 if another worker swept just now).

        With `take_turn`, workers take turns through a short Redis lock (SET NX PX: no Lua, and it
        expires by itself if its holder dies), so N workers do not sweep N times per interval.
        """
        redis = self._context.queue.redis
        turn_ms = max(1, int(self._interval * 900))
        if take_turn and not redis.set(SWEEP_LOCK_KEY, "1", nx=True, px=turn_ms):
            return 0
        self.found = {}
        for sweep in SWEEPS:
            with self._context.transaction() as session:
                ids = sweep.find(session, now=self._context.clock.now(), grace=self._grace)
            self._context.queue.enqueue_many([sweep.job(chunk) for chunk in in_chunks(ids)])
            if ids:
                log.info("sweeper_enqueued", sweep=sweep.name, rows=len(ids))
            self.found[sweep.name] = len(ids)
        return sum(self.found.values())

    def sweep_safely(self) -> None:
        try:
            self.sweep()
        except Exception:  # a sweep must never kill the worker; the next one tries again
            log.exception("sweep_failed")

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.sweep_safely()
            stop.wait(self._interval)


class ThreadWorker(SimpleWorker):
    """An rq SimpleWorker that can run outside the main thread (no signals there)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


class InProcessWorker:
    """Jobs and sweeps in a thread of the server process (embedded defaults)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._context = deps.job_context()
        self._sweeper = Sweeper(self._context)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="in-process-worker", daemon=True)

    def start(self) -> None:
        set_job_context(self._context)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._deps.work_available is not None:
            self._deps.work_available.set()
        self._thread.join(timeout=30)
        set_job_context(None)

    def _run(self) -> None:
        wake = self._deps.work_available
        next_sweep = 0.0
        while not self._stop.is_set():
            # Wall time paces the loop; the job clock (maybe a test's) decides what is due.
            now = time.monotonic()
            if now >= next_sweep:
                self._sweeper.sweep_safely()
                next_sweep = now + self._context.settings.sweep_seconds
            try:
                ThreadWorker([self._deps.queue.rq], connection=self._deps.redis).work(
                    burst=True, logging_level="WARNING"
                )
            except Exception:
                log.exception("in_process_worker_failed")
            if wake is not None:
                wake.wait(timeout=1.0)
                wake.clear()


def main(settings: Settings) -> None:
    """`hotline worker`: jobs from Redis plus the sweeper, until SIGTERM/SIGINT."""
    if settings.embedded_queue:
        raise SystemExit(
            "hotline worker needs HOTLINE_REDIS_URL: on embedded defaults `hotline serve` "
            "runs the jobs itself"
        )
    deps = build_deps(settings)
    context = deps.job_context()
    set_job_context(context)
    # Built first: rq raises the client's socket timeout above its blocking dequeue's, which
    # reaches only connections opened afterwards. A connection the sweeper opened before would
    # keep the short timeout, and rq quits when its dequeue times out on it.
    rq_worker = Worker([deps.queue.rq], connection=deps.redis)
    stop = threading.Event()
    sweeper_thread = threading.Thread(
        target=Sweeper(context).run_forever, args=(stop,), name="sweeper", daemon=True
    )
    sweeper_thread.start()
    log.info("worker_started", queue=QUEUE_NAME)
    try:
        rq_worker.work(with_scheduler=True, logging_level=settings.log_level.upper())
    finally:
        stop.set()
        sweeper_thread.join(timeout=5)
