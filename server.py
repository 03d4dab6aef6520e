"""The web server: `create_app(deps)` builds the aiohttp application; `main` runs it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Sequence
from importlib import resources

import structlog
from aiohttp import web
from sqlalchemy import text

import access.views
import intake.chat_views
import intake.message_views
import intake.recording_views
import intake.views
import integrations.twilio.alert_message_webhooks
import integrations.twilio.alert_webhooks
import integrations.twilio.messaging_webhooks
import integrations.twilio.voice_webhooks
import metrics
import notifications.alert_views
import notifications.oncall_api
import notifications.oncall_views
import notifications.staff_contact_views
import triage.assignment_views
import triage.case_action_views
import triage.case_api
import triage.case_views
import triage.deadline_views
import triage.link_views
import triage.partner_unit_views
import triage.queue_stream
import triage.routing_api
import triage.routing_views
import triage.triage_views
import triage.views
from access.guard import access_middleware
from bootstrap import Deps, build_deps
from jobqueue import send_alert_attempts
from migrations import runner
from notifications.alert_acks import AlertEvents
from settings import Settings, SettingsError
from triage.timeline import note_message
from web import api_docs, rendering
from web.appkeys import deps_key, rate_limiter_key
from web.csrf import csrf_middleware
from web.middleware import error_middleware, language_middleware, security_headers_middleware
from web.policy import public
from web.ratelimit import RateLimiter, rate_limit_middleware
from worker import InProcessWorker

log = structlog.get_logger(__name__)


@public
async def health(request: web.Request) -> web.Response:
    """Liveness for load balancers: the database must answer; a missing queue only degrades."""
    deps = request.app[deps_key]
    async with deps.sessions() as session:
        await session.execute(text("SELECT 1"))
    try:
        await asyncio.to_thread(deps.redis.ping)
        queue = "ok"
    except Exception:  # the sweeper covers for Redis; intake keeps working
        queue = "unavailable"
    return web.json_response({"database": "ok", "queue": queue})


async def _enqueuer(app: web.Application) -> AsyncIterator[None]:
    deps = app[deps_key]
    enqueuer_task = asyncio.create_task(deps.enqueuer.run(), name="enqueuer")
    yield
    # Give queued enqueues a moment; anything left is found by the sweeper.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(deps.enqueuer.drain(), timeout=5)
    enqueuer_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await enqueuer_task


async def _in_process_worker(app: web.Application) -> AsyncIterator[None]:
    worker = InProcessWorker(app[deps_key])
    worker.start()
    yield
    await asyncio.to_thread(worker.stop)


def _alert_events(deps: Deps) -> AlertEvents:
    def enqueue(attempt_ids: Sequence[int]) -> None:
        for attempt_id in attempt_ids:
            deps.enqueuer.submit(send_alert_attempts, attempt_id)

    return AlertEvents(enqueue=enqueue)


def create_app(deps: Deps, *, in_process_worker: bool | None = None) -> web.Application:
    """The application; with an in-process queue its jobs run in a thread here, unless told not."""
    app = web.Application(
        client_max_size=deps.settings.max_body_kib * 1024,
        # Outermost first: headers on every answer; errors rendered in the user's language.
        middlewares=[
            security_headers_middleware,
            error_middleware,
            language_middleware,
            rate_limit_middleware,
            access_middleware,
            csrf_middleware,
        ],
    )
    app[deps_key] = deps
    app[rate_limiter_key] = RateLimiter()
    rendering.setup(app)
    intake.views.register(app, timeline=note_message)
    intake.message_views.register(app)
    intake.recording_views.register(app)
    intake.chat_views.register(app)
    integrations.twilio.messaging_webhooks.register(app)
    integrations.twilio.voice_webhooks.register(app)
    integrations.twilio.alert_webhooks.register(app, events=_alert_events(deps))
    integrations.twilio.alert_message_webhooks.register(app)
    triage.views.register(app)
    triage.queue_stream.register(app)
    triage.assignment_views.register(app)
    triage.link_views.register(app)
    triage.case_views.register(app)
    triage.triage_views.register(app)
    triage.routing_views.register(app)
    triage.routing_api.register(app)
    triage.partner_unit_views.register(app)
    triage.case_action_views.register(app)
    triage.case_api.register(app)
    triage.deadline_views.register(app)
    notifications.oncall_views.register(app)
    notifications.alert_views.register(app)
    notifications.oncall_api.register(app)
    notifications.staff_contact_views.register(app)
    access.views.register(app)
    api_docs.register(app)
    app.router.add_get("/healthz", health, name="health")
    metrics.register(app)
    app.router.add_static("/static", str(resources.files("web").joinpath("static")), name="static")
    app.cleanup_ctx.append(_enqueuer)
    if deps.settings.embedded_queue if in_process_worker is None else in_process_worker:
        app.cleanup_ctx.append(_in_process_worker)
    return app


async def _freeze_startup_heap(_app: web.Application) -> None:
    # Everything loaded so far (libraries, metadata, templates) lives as long as the process.
    # Moving it out of the collector's sight stops each full collection from rescanning it,
    # which otherwise costs the request path more than the requests' own work.
    gc.collect()
    gc.freeze()


async def _close_deps(app: web.Application) -> None:
    await app[deps_key].aclose()


def prepare_database(settings: Settings) -> None:
    """Migrate on start (embedded) or refuse to start on an outdated schema (PostgreSQL)."""
    url = settings.resolved_database_url
    if settings.embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.should_migrate_on_start:
        runner.upgrade(url)
    elif runner.pending_revisions(url):
        raise SettingsError("the database schema is not up to date: run `hotline db upgrade` first")


def main(settings: Settings) -> None:
    # Configuration (keys) is checked before the database is touched: a missing key is named
    # even when the database is unreachable, and nothing is migrated for a server that cannot run.
    deps = build_deps(settings)
    prepare_database(settings)
    log.info(
        "server_starting",
        url=f"http://{settings.host}:{settings.port}/",
        database="sqlite" if settings.embedded_database else "postgresql",
        queue="in-process" if settings.embedded_queue else "redis",
    )
    app = create_app(deps)
    app.on_cleanup.append(_close_deps)
    app.on_startup.append(_freeze_startup_heap)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=None,
        reuse_port=not settings.embedded_queue,
        shutdown_timeout=10,
    )
