"""Escalation under faults, with the real `hotline worker` processes on PostgreSQL and Redis:
killing a worker in the middle of a send and starting another, two workers side by side (and
the same jobs enqueued again and again), Redis losing every job while the walk goes on, the
Twilio stub failing with 500s — and in every case each step fired exactly once, each round once,
each provider request a recorded try of exactly one attempt row, nothing missed.

Time is the test's: the processes read it from a file (HOTLINE_TEST_CLOCK_FILE, allowed only with
HOTLINE_ALLOW_TEST_CLOCK), so 48 hours pass in seconds. Alerts go to the Twilio stub (SMS and
calls) and to the console (e-mail: "not sent", which hands over to nothing further).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from clock import FileClock
from crypto import DataCipher
from db import make_sync_engine
from jobqueue import JobQueue, escalate_deadlines, start_alert_rounds
from notifications.alert_models import Alert, AlertAttempt, AttemptStatus
from tests.conftest import DATA_KEY, SECRET_KEY
from tests.support.escalation import Snapshot, Team, make_team, snapshot, visitation_case
from tests.support.processes import Processes
from tests.support.services import Backend
from tests.support.twilio_stub import (
    Delay,
    ServerError,
    ThreadedTwilioStub,
    stub_environ,
)

pytestmark = pytest.mark.e2e

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # Monday: Bo is on call, Carl next, Lise leads
STEPS = ["reminder", "warning", "approaching", "overdue"]


@dataclass
class Rig:
    """The database, Redis, the clock file and the stub the worker processes share."""

    engine: Engine
    redis: Redis
    clock_file: Path
    env: dict[str, str]
    stub: ThreadedTwilioStub
    processes: Processes
    team: Team
    case_id: int
    deadline_id: int

    def at(self, hours: float, minutes: float = 0, seconds: float = 0) -> datetime:
        return START + timedelta(hours=hours, minutes=minutes, seconds=seconds)

    def set_clock(self, moment: datetime) -> None:
        FileClock.write(self.clock_file, moment)

    def state(self) -> Snapshot:
        with Session(self.engine) as session:
            return snapshot(session, self.case_id)

    def until(self, what: str, check: Callable[[Snapshot], bool], timeout: float = 45) -> Snapshot:
        def probe() -> Snapshot | None:
            shot = self.state()
            return shot if check(shot) else None

        return self.processes.poll(probe, what, timeout=timeout)

    def worker(self, name: str, **extra: str) -> Any:
        return self.processes.worker({**self.env, **extra}, name=name)


@pytest.fixture
def rig(
    backend: Backend,
    test_environ: dict[str, str],
    clean_database: None,
    processes: Processes,
    tmp_path: Path,
) -> Iterator[Rig]:
    if not backend.real:
        pytest.skip(
            "needs PostgreSQL and Redis on 127.0.0.1 (this run fell back to SQLite; "
            "in CI the suite always runs on the real services)"
        )
    stub = ThreadedTwilioStub().start()
    clock_file = tmp_path / "clock"
    FileClock.write(clock_file, START)
    env = {
        **test_environ,
        **stub_environ(stub.url),
        "HOTLINE_TEST_CLOCK_FILE": str(clock_file),
        "HOTLINE_ALLOW_TEST_CLOCK": "true",
        "HOTLINE_SWEEP_SECONDS": "0.5",
        "HOTLINE_LOG_LEVEL": "info",
    }
    cipher = DataCipher([DATA_KEY], lookup_secret=SECRET_KEY.encode())
    engine = make_sync_engine(test_environ["HOTLINE_DATABASE_URL"], cipher)
    redis = Redis.from_url(test_environ["HOTLINE_REDIS_URL"])
    try:
        with Session(engine) as session, session.begin():
            team = make_team(session, START)
        with Session(engine) as session, session.begin():
            case_id, deadline_id = visitation_case(session, started_at=START, assignee_id=team.anne)
        yield Rig(engine, redis, clock_file, env, stub, processes, team, case_id, deadline_id)
    finally:
        redis.close()
        engine.dispose()
        stub.stop()


# --- what every run must end with --------------------------------------------------------------


def fired(shot: Snapshot, *names: str) -> bool:
    status = {s["name"]: s["status"] for s in shot.steps}
    return all(status.get(n) == "fired" for n in names)


def settled(shot: Snapshot) -> bool:
    """No attempt waiting for or in the middle of a try."""
    return all(a["status"] not in ("pending", "sending") for a in shot.attempts)


def caught_up(now: datetime) -> Callable[[Snapshot], bool]:
    """Every try due by `now` made (retries due later may wait)."""

    def check(shot: Snapshot) -> bool:
        return all(
            a["status"] not in ("pending", "sending")
            or (a["status"] == "pending" and a["next_try_at"] > now)
            for a in shot.attempts
        )

    return check


def exactly_once(rig: Rig, shot: Snapshot) -> None:
    """Each step fired once, one alert each, each round once per person and channel, and every
    SMS and call the stub was asked for is one recorded try of one attempt row."""
    assert [s["name"] for s in shot.steps] == STEPS
    assert [a["step"] for a in shot.alerts] == [s["name"] for s in shot.steps if s["fired_at"]]
    keys = [(a["alert_id"], a["round"], a["recipient"], a["channel"]) for a in shot.attempts]
    assert len(keys) == len(set(keys))
    for alert in shot.alerts:
        rounds = sorted({a["round"] for a in shot.attempts_of(alert["id"])})
        assert len(rounds) == alert["rounds"] or alert["status"] != "open", alert
    stub = rig.stub.stub
    for channel, route, made in (
        ("sms", "messages.create", stub.messages),
        ("voice", "calls.create", stub.calls),
    ):
        rows = [a for a in shot.attempts if a["channel"] == channel]
        assert len(stub.requests_to(route)) == sum(a["tries"] for a in rows), channel
        ids = [a["provider_id"] for a in rows if a["provider_id"]]
        assert len(ids) == len(set(ids)), channel
        assert set(ids) == set(made), channel


def walk_to_overdue(rig: Rig, *, meanwhile: Callable[[], None] = lambda: None) -> Snapshot:
    """24, 36, 44 h (and its first repeat), 48 h: at each point the step fires and every
    attempt has its say (retries included)."""
    points: list[tuple[datetime, Callable[[Snapshot], bool], str]] = [
        (rig.at(24), lambda s: fired(s, "reminder"), "the reminder"),
        (rig.at(36), lambda s: fired(s, "warning"), "the warning"),
        (rig.at(44), lambda s: fired(s, "approaching"), "approaching"),
        (
            rig.at(44, 15),
            lambda s: s.alert("approaching")["rounds"] == 2,
            "approaching, round 2",
        ),
        (rig.at(48), lambda s: fired(s, "overdue"), "overdue"),
    ]
    shot = rig.state()
    for moment, done, what in points:
        rig.set_clock(moment)
        meanwhile()
        rig.until(what, done)
        shot = settle(rig, moment, what)
    return shot


def settle(rig: Rig, now: datetime, what: str) -> Snapshot:
    """Let every attempt finish: wait for the tries due now, then move the clock to the next
    retry's time, until none is left (a retry waits 15 s, then 45 s)."""
    for _ in range(6):
        shot = rig.until(f"{what}: the tries due", caught_up(now))
        waiting = [a["next_try_at"] for a in shot.attempts if a["status"] == "pending"]
        if not waiting:
            return rig.until(f"{what}: every attempt done", settled)
        now = max(now, min(waiting))
        rig.set_clock(now)
    raise AssertionError(f"{what}: attempts still retrying: {shot.attempts}")


# --- the faults ----------------------------------------------------------------------------------


def test_a_worker_killed_in_the_middle_of_a_call_and_restarted_misses_nothing(
    rig: Rig,
) -> None:
    first = rig.worker("worker-1")
    rig.set_clock(rig.at(24))
    rig.until("the reminder", lambda s: fired(s, "reminder") and settled(s))
    rig.set_clock(rig.at(36))
    rig.until("the warning", lambda s: fired(s, "warning") and settled(s))

    # The call hangs at Twilio; the worker dies (SIGKILL, its whole process group) meanwhile.
    rig.stub.stub.fail_next("calls.create", Delay(8))
    rig.set_clock(rig.at(44))
    shot = rig.until(
        "the call in flight",
        lambda s: any(a["channel"] == "voice" and a["status"] == "sending" for a in s.attempts),
    )
    first.kill()
    approaching = shot.alert("approaching")

    second = rig.worker("worker-2")
    # The SMS the dead worker never reached: tried by the sweeper once its grace is over.
    rig.set_clock(rig.at(44, 0, 30))
    rig.until(
        "Bo's SMS",
        lambda s: (
            [a["status"] for a in s.attempts_of(approaching["id"], channel="sms")] == ["sent"]
        ),
    )
    # The call cut off by the crash: never placed again, the e-mail takes over.
    rig.set_clock(rig.at(44, 2))
    shot = rig.until(
        "the interrupted call handed over",
        lambda s: (
            [a["status"] for a in s.attempts_of(approaching["id"], channel="voice")] == ["unknown"]
            and len(s.attempts_of(approaching["id"], channel="email")) == 1
            and settled(s)
        ),
    )
    [voice] = shot.attempts_of(approaching["id"], channel="voice")
    assert (voice["tries"], voice["error_code"]) == (1, "interrupted")
    assert rig.stub.stub.calls == {}  # the hung request never became a call

    # The second worker goes on: the repeat, then overdue, each once.
    rig.set_clock(rig.at(44, 15))
    rig.until("round 2", lambda s: s.alert("approaching")["rounds"] == 2 and settled(s))
    rig.set_clock(rig.at(48))
    shot = rig.until("overdue", lambda s: fired(s, "overdue") and settled(s))
    exactly_once(rig, shot)
    assert second.running()


def test_two_workers_side_by_side_with_every_job_enqueued_again_fire_each_step_once(
    rig: Rig,
) -> None:
    rig.worker("worker-1")
    rig.worker("worker-2")
    queue = JobQueue(rig.redis)

    def duplicates() -> None:
        # As if both sweepers (and a stale rq retry) had enqueued the same work: four times over.
        with Session(rig.engine) as session:
            alert_ids = list(session.scalars(select(Alert.id).where(Alert.case_id == rig.case_id)))
        for _ in range(4):
            queue.enqueue(escalate_deadlines([rig.deadline_id]))
            if alert_ids:
                queue.enqueue(start_alert_rounds(alert_ids))

    # And Twilio failing now and then: 500s, retried with backoff (the clock is moved past it).
    rig.stub.stub.enqueue_faults("calls.create", ServerError(500))
    rig.stub.stub.enqueue_faults("messages.create", ServerError(503), ServerError(500))
    shot = walk_to_overdue(rig, meanwhile=duplicates)
    exactly_once(rig, shot)
    assert {a["status"] for a in shot.attempts if a["channel"] in ("sms", "voice")} == {"sent"}
    # The 500s were retried: three failed tries more than attempts made.
    sent = [a for a in shot.attempts if a["channel"] in ("sms", "voice")]
    assert sum(a["tries"] for a in sent) == len(sent) + 3


def test_redis_losing_every_job_mid_run_loses_no_step(rig: Rig) -> None:
    rig.worker("worker-1")
    flushes = 0

    def lose_everything() -> None:
        # Enqueued jobs vanish before (or while) the worker takes them; the sweeper finds the
        # work again in the database.
        nonlocal flushes
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            rig.redis.flushdb()
            flushes += 1
            time.sleep(0.05)

    shot = walk_to_overdue(rig, meanwhile=lose_everything)
    assert flushes > 50
    exactly_once(rig, shot)
    assert {a["status"] for a in shot.attempts if a["channel"] in ("sms", "voice")} == {"sent"}


def test_a_step_fires_within_60_seconds_of_its_due_time_at_the_default_sweep_interval(
    rig: Rig,
) -> None:
    env = {k: v for k, v in rig.env.items() if k != "HOTLINE_SWEEP_SECONDS"}
    rig.processes.worker(env, name="worker-default")
    rig.until("planned", lambda s: len(s.steps) == 4)
    rig.set_clock(rig.at(24))
    started = time.monotonic()
    rig.until("the reminder", lambda s: fired(s, "reminder"), timeout=60)
    assert time.monotonic() - started < 60
    # The step commits before its send job runs: wait for the e-mail's try to finish.
    rig.until(
        "the reminder's e-mail tried",
        lambda s: any(a["channel"] == "email" and a["status"] != "sending" for a in s.attempts),
    )
    with Session(rig.engine) as session:
        attempts = list(session.scalars(select(AlertAttempt)))
    assert [a.status for a in attempts if a.channel == "email"] == [AttemptStatus.NOT_SENT]
