"""The composition root: the one function that builds every dependency from settings.

`server.py`, `worker.py`, the CLI and the tests all call `build_deps` (tests with overrides).
Nothing here connects to anything: engines and Redis clients connect on first use.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

import fakeredis
import fakeredis.aioredis
import redis.asyncio as aredis
import structlog
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from clock import Clock, FileClock, SystemClock
from crypto import DataCipher, new_data_key
from db import async_session_factory, make_async_engine, make_sync_engine, session_class
from integrations.console import (
    ConsoleAlertCaller,
    ConsoleEmailSender,
    ConsoleRecordingStore,
    ConsoleSmsSender,
)
from integrations.smtp import smtp_sender
from integrations.twilio.alert_calls import TwilioAlertCaller
from integrations.twilio.client import rest_client
from integrations.twilio.recordings import TwilioRecordingStore
from integrations.twilio.sms import TwilioSmsSender
from jobqueue import Enqueuer, JobContext, JobQueue
from notifications.ports import AlertCaller, EmailSender, RecordingStore, SmsSender
from settings import Settings, SettingsError
from triage.queue_events import QueueAnnouncer

log = structlog.get_logger(__name__)


@dataclass
class Deps:
    settings: Settings
    clock: Clock
    cipher: DataCipher
    secret_key: bytes
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    queue: JobQueue
    # SMS and WhatsApp out: Twilio, or the console (logged, not sent) when it is not configured.
    sms: SmsSender
    # Voicemail audio from the voice provider (Twilio), or silence in console mode.
    recordings: RecordingStore
    # Routing notices to partner units: a mail server (SMTP), or the console (logged, not sent).
    email: EmailSender
    # Alert calls to staff: Twilio, or the console (logged, not placed) when it is not configured.
    alert_caller: AlertCaller
    # Set when jobs run inside this process (embedded defaults): wakes the in-process worker.
    work_available: threading.Event | None
    # Publishes the queue changes a transaction noted once it commits; it watches the session
    # class below, which both the async sessions and the jobs' sync sessions are built from.
    announcer: QueueAnnouncer
    session_class: type[Session]
    # Embedded defaults: the in-process Redis stand-in's server, shared by the sync client above
    # and the chat's async pub/sub (`chat_redis`).
    fake_server: fakeredis.FakeServer | None = None
    _sync_engine: Engine | None = field(default=None, repr=False)
    _enqueuer: Enqueuer | None = field(default=None, repr=False)

    @property
    def enqueuer(self) -> Enqueuer:
        # Built on first use so it belongs to the running event loop.
        if self._enqueuer is None:
            self._enqueuer = Enqueuer(self.queue)
        return self._enqueuer

    @property
    def sync_engine(self) -> Engine:
        if self._sync_engine is None:
            self._sync_engine = make_sync_engine(self.settings.resolved_database_url, self.cipher)
        return self._sync_engine

    def chat_redis(self) -> aredis.Redis:
        """A new asyncio Redis client for pub/sub: the chat's and the live queue's subscriptions
        (the caller closes it)."""
        if self.fake_server is not None:
            client: aredis.Redis = fakeredis.aioredis.FakeRedis(server=self.fake_server)
            return client
        return aredis.Redis.from_url(
            str(self.settings.redis_url), socket_connect_timeout=3, health_check_interval=30
        )

    def job_context(self) -> JobContext:
        return JobContext(
            self.settings,
            self.clock,
            self.cipher,
            self.sync_engine,
            self.queue,
            self.sms,
            recordings=self.recordings,
            email=self.email,
            alert_caller=self.alert_caller,
            session_class=self.session_class,
        )

    async def aclose(self) -> None:
        await self.announcer.drain()
        await self.engine.dispose()
        if self._sync_engine is not None:
            self._sync_engine.dispose()
        self.redis.close()


def _key_file(settings: Settings, name: str, make: str) -> str:
    """Read a generated key from the data folder, creating it (owner-only) the first time."""
    path: Path = settings.data_dir / "keys" / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(make + "\n")
    return make


def _secrets(settings: Settings) -> tuple[str, list[str]]:
    """The secret key and the data keys: configured, or generated into the data folder.

    On PostgreSQL several processes (maybe on several hosts) must share the keys, so they have to
    be configured; a key generated on one host would make the others unable to read the data.
    """
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    data = settings.data_key.get_secret_value() if settings.data_key else None
    if not settings.embedded_database and (secret is None or data is None):
        missing = [
            name
            for name, value in (("HOTLINE_SECRET_KEY", secret), ("HOTLINE_DATA_KEY", data))
            if value is None
        ]
        raise SettingsError(
            f"{' and '.join(missing)} must be set when HOTLINE_DATABASE_URL is PostgreSQL "
            "(every server and worker needs the same keys); `hotline keys` prints new ones"
        )
    if secret is None:
        secret = _key_file(settings, "secret_key", secrets.token_urlsafe(48))
    if data is None:
        data = _key_file(settings, "data_key", new_data_key())
    return secret, [key for key in data.split(",") if key.strip()]


def _sms_sender(settings: Settings) -> SmsSender:
    if not settings.twilio_enabled:
        return ConsoleSmsSender()
    return TwilioSmsSender(rest_client(settings))


def _recording_store(settings: Settings) -> RecordingStore:
    if not settings.twilio_enabled:
        return ConsoleRecordingStore()
    return TwilioRecordingStore(rest_client(settings, timeout=30))


def _email_sender(settings: Settings) -> EmailSender:
    if not settings.email_enabled:
        return ConsoleEmailSender()
    return smtp_sender(settings)


def _alert_caller(settings: Settings) -> AlertCaller:
    if not settings.twilio_enabled:
        return ConsoleAlertCaller()
    return TwilioAlertCaller(rest_client(settings))


def build_deps(
    settings: Settings,
    *,
    clock: Clock | None = None,
    redis: Redis | None = None,
    sms: SmsSender | None = None,
    recordings: RecordingStore | None = None,
    email: EmailSender | None = None,
    alert_caller: AlertCaller | None = None,
    fake_server: fakeredis.FakeServer | None = None,
) -> Deps:
    if settings.embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret, data_keys = _secrets(settings)
    try:
        cipher = DataCipher(data_keys, lookup_secret=secret.encode())
    except ValueError as exc:
        raise SettingsError(f"HOTLINE_DATA_KEY: not a valid Fernet key ({exc})") from exc

    work_available: threading.Event | None = None
    if redis is None:
        if settings.embedded_queue:
            # The in-process Redis stand-in: the same rq code path, without a Redis server.
            fake_server = fake_server or fakeredis.FakeServer()
            redis = fakeredis.FakeRedis(server=fake_server)
        else:
            redis = Redis.from_url(
                str(settings.redis_url), socket_timeout=5, socket_connect_timeout=3
            )
    if settings.embedded_queue:
        work_available = threading.Event()
        fake_server = fake_server or fakeredis.FakeServer()
    queue = JobQueue(redis, on_enqueued=work_available.set if work_available else None)

    engine = make_async_engine(settings.resolved_database_url, cipher)
    announcer = QueueAnnouncer(redis)
    sessions_class = session_class()
    announcer.watch(sessions_class)
    if clock is None and settings.test_clock_file is not None:
        # Tests only (settings refuse it unless HOTLINE_ALLOW_TEST_CLOCK is set): say so loudly.
        log.warning("test_clock_in_use", file=str(settings.test_clock_file))
        clock = FileClock(settings.test_clock_file)
    return Deps(
        settings=settings,
        clock=clock or SystemClock(),
        cipher=cipher,
        secret_key=secret.encode(),
        engine=engine,
        sessions=async_session_factory(engine, sync_session_class=sessions_class),
        redis=redis,
        queue=queue,
        sms=sms or _sms_sender(settings),
        recordings=recordings or _recording_store(settings),
        email=email or _email_sender(settings),
        alert_caller=alert_caller or _alert_caller(settings),
        work_available=work_available,
        announcer=announcer,
        session_class=sessions_class,
        fake_server=fake_server if settings.embedded_queue else None,
    )
