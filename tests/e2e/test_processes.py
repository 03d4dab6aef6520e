"""The real `hotline` processes, over real HTTP: server, workers, the CLI, and losing Redis."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from redis import Redis
from rq import Queue

from jobqueue import QUEUE_NAME
from tests.support.forms import valid_answers
from tests.support.processes import Processes
from tests.support.services import Backend
from tests.support.visitor import TIMEOUT, log_in, queue_items, submit_concern

pytestmark = pytest.mark.e2e

STAFF = "e2e-hotline"
PASSWORD = "correct horse battery staple"
# Long enough that the sweeper cannot be what hands a contact to the worker.
NO_SWEEP = {"HOTLINE_SWEEP_GRACE_SECONDS": "3600"}


def _new_case(
    staff: requests.Session, base_url: str, known: set[int]
) -> Callable[[], dict[str, Any] | None]:
    """A probe for `Processes.poll`: the one case in the queue whose id is not in `known`."""

    def probe() -> dict[str, Any] | None:
        fresh = [item for item in queue_items(staff, base_url) if item["id"] not in known]
        assert len(fresh) <= 1, f"more new cases than expected: {fresh}"
        return fresh[0] if fresh else None

    return probe


def _check_new_web_case(case: dict[str, Any]) -> None:
    assert case["hotline"] == "national"
    assert case["channel"] == "web_form"
    assert case["reporter_role"] == "relative"
    assert case["status"] == "new"
    assert case["acute"] is False
    assert case["assignee"] is None
    assert re.fullmatch(r"NAT-\d{4}-\d{5}", case["reference"]), case["reference"]
    received = datetime.fromisoformat(case["received_at"])
    due = datetime.fromisoformat(case["due_at"])
    assert received.tzinfo is not None
    assert due - received == timedelta(hours=24)


def _queued_jobs(redis: Redis) -> int:
    return int(Queue(QUEUE_NAME, connection=redis).count)


def _receipt_ok(code: str) -> None:
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){4}", code), code


def test_postgresql_redis_server_and_workers_lose_nothing(
    backend: Backend,
    test_environ: dict[str, str],
    clean_database: None,
    processes: Processes,
) -> None:
    if not backend.real:
        pytest.skip(
            "needs PostgreSQL and Redis on 127.0.0.1 (this run fell back to SQLite; "
            "in CI the suite always runs on the real services)"
        )
    env = {**test_environ, "HOTLINE_LOG_LEVEL": "info"}
    redis = Redis.from_url(test_environ["HOTLINE_REDIS_URL"])
    try:
        server = processes.serve(env)
        base = str(server.base_url)
        worker = processes.worker(env, name="worker-1")
        processes.add_staff(env, STAFF, PASSWORD)

        with requests.Session() as visitor, requests.Session() as staff:
            # 1. Form → commit → job on Redis → separate worker → case in the queue.
            _receipt_ok(submit_concern(visitor, base, valid_answers()))
            log_in(staff, base, STAFF, PASSWORD)
            first = processes.poll(_new_case(staff, base, set()), "the first case in the queue")
            _check_new_web_case(first)
            page = staff.get(f"{base}/queue", timeout=TIMEOUT)
            assert page.status_code == 200
            assert first["reference"] in page.text
            known = {first["id"]}

            # 2. The worker crashes; a form arrives; its job waits on Redis for the next worker.
            worker.kill()
            _receipt_ok(submit_concern(visitor, base, valid_answers(reporter_role="relative")))
            processes.poll(lambda: _queued_jobs(redis) == 1, "the second job on Redis")
            assert [i["id"] for i in queue_items(staff, base)] == [first["id"]]
            processes.worker({**env, **NO_SWEEP}, name="worker-2")
            second = processes.poll(_new_case(staff, base, known), "the second case (from Redis)")
            _check_new_web_case(second)
            known.add(second["id"])
            assert processes.started[-1].stop() == 0, processes.explain("worker-2 stop")

            # 3. Redis loses every job while no worker runs: the sweeper finds the contact again.
            redis.flushdb()
            _receipt_ok(submit_concern(visitor, base, valid_answers()))
            processes.poll(lambda: _queued_jobs(redis) == 1, "the third job on Redis")
            redis.flushdb()
            assert _queued_jobs(redis) == 0
            processes.worker(
                {**env, "HOTLINE_SWEEP_SECONDS": "1", "HOTLINE_SWEEP_GRACE_SECONDS": "0"},
                name="worker-3-sweeping",
            )
            third = processes.poll(_new_case(staff, base, known), "the third case (via sweeper)")
            _check_new_web_case(third)
            assert len({first["reference"], second["reference"], third["reference"]}) == 3
            assert len(queue_items(staff, base)) == 3
    finally:
        redis.close()


def test_embedded_defaults_are_a_whole_system(tmp_path: Path, processes: Processes) -> None:
    data_dir = tmp_path / "var"
    env = {"HOTLINE_DATA_DIR": str(data_dir), "HOTLINE_COOKIE_SECURE": "false"}
    # `serve` migrates SQLite on start, so the staff account can only be added after it.
    server = processes.serve(env)
    base = str(server.base_url)
    processes.add_staff(env, STAFF, PASSWORD)

    with requests.Session() as visitor, requests.Session() as staff:
        _receipt_ok(submit_concern(visitor, base, valid_answers()))
        log_in(staff, base, STAFF, PASSWORD)
        case = processes.poll(_new_case(staff, base, set()), "the case (in-process jobs)")
        _check_new_web_case(case)
        page = staff.get(f"{base}/queue", timeout=TIMEOUT)
        assert page.status_code == 200
        assert case["reference"] in page.text
        health = requests.get(f"{base}/healthz", timeout=TIMEOUT)
        assert health.json() == {"database": "ok", "queue": "ok"}

    assert (data_dir / "hotline.db").is_file()
    keys = data_dir / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) & 0o077 == 0, oct(keys.stat().st_mode)
    for name in ("secret_key", "data_key"):
        key_file = keys / name
        assert key_file.is_file(), f"{key_file} was not generated"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, oct(key_file.stat().st_mode)
        assert key_file.read_text().strip()


def test_help_lists_every_command(processes: Processes) -> None:
    result = processes.run(["--help"], {})
    assert result.returncode == 0, result.stderr
    for command in ("serve", "worker", "db", "staff", "demo", "keys", "config"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), (
            f"{command} missing from --help:\n{result.stdout}"
        )


def test_worker_on_embedded_defaults_names_redis_url(tmp_path: Path, processes: Processes) -> None:
    result = processes.run(["worker"], {"HOTLINE_DATA_DIR": str(tmp_path / "var")})
    assert result.returncode != 0
    assert "HOTLINE_REDIS_URL" in result.stderr, result.stderr


def test_invalid_port_is_named(tmp_path: Path, processes: Processes) -> None:
    result = processes.run(
        ["serve"], {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_PORT": "abc"}
    )
    assert result.returncode == 2, result.stderr
    assert "HOTLINE_PORT" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_postgresql_without_data_key_refuses_to_start(
    backend: Backend, test_environ: dict[str, str], processes: Processes
) -> None:
    env = {k: v for k, v in test_environ.items() if k != "HOTLINE_DATA_KEY"}
    if not backend.real:
        # No PostgreSQL here: the keys are checked before any connection, so any URL will do.
        env["HOTLINE_DATABASE_URL"] = "postgresql+asyncpg://127.0.0.1:9/hotline"
    result = processes.run(["serve"], env)
    assert result.returncode == 2, result.stderr
    assert "HOTLINE_DATA_KEY" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
