"""Run queued rq jobs now, the way the worker would, and fail loudly if one failed."""

from __future__ import annotations

import asyncio

from rq.registry import FailedJobRegistry

from bootstrap import Deps
from jobqueue import set_job_context
from worker import ThreadWorker


class JobFailed(AssertionError):
    pass


def run_jobs_now(deps: Deps) -> None:
    set_job_context(deps.job_context())
    try:
        ThreadWorker([deps.queue.rq], connection=deps.redis).work(burst=True, logging_level="ERROR")
    finally:
        set_job_context(None)
    failed = FailedJobRegistry(queue=deps.queue.rq)
    job_ids = failed.get_job_ids()
    if job_ids:
        job = deps.queue.rq.fetch_job(job_ids[0])
        result = job.latest_result() if job else None
        raise JobFailed(f"job {job_ids[0]} failed:\n{result.exc_string if result else '?'}")


async def run_jobs(deps: Deps) -> None:
    """Send what the app has handed to the enqueuer, then run every queued job."""
    await deps.enqueuer.drain()
    await asyncio.to_thread(run_jobs_now, deps)
