"""Which PostgreSQL and Redis the tests use, and the CI rule: real services or a loud failure.

With CI=true the suite must run against PostgreSQL and Redis on 127.0.0.1; if they are installed
but stopped they are started, and if they still cannot be reached the run fails. Outside CI the
suite uses them when they answer and otherwise falls back to SQLite and the in-process Redis
stand-in, saying so in pytest's header.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Parallel runs on one machine each claim a Redis database number of their own (2..15) with a
# key in database 0 that expires, so a run that died does not hold its number for long.
REDIS_DBS = range(2, 16)
REDIS_CLAIM_SECONDS = 3 * 3600


@dataclass(frozen=True)
class Backend:
    real: bool
    # postgresql+asyncpg URL of this run's own database, or None for SQLite.
    database_url: str | None
    redis_url: str | None
    note: str


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _start_services() -> None:
    """Start PostgreSQL and Redis if installed here but not running."""
    if not _answers(PG_HOST, PG_PORT) and shutil.which("pg_ctlcluster"):
        for version in sorted(glob.glob("/etc/postgresql/*")):
            subprocess.run(
                [
                    "pg_ctlcluster",
                    "--skip-systemctl-redirect",
                    os.path.basename(version),
                    "main",
                    "start",
                ],
                check=False,
                capture_output=True,
            )
    if not _answers(REDIS_HOST, REDIS_PORT) and shutil.which("redis-server"):
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(REDIS_PORT),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=False,
            capture_output=True,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if _answers(PG_HOST, PG_PORT) and _answers(REDIS_HOST, REDIS_PORT):
            return
        time.sleep(0.2)


def choose_backend() -> Backend:
    if in_ci():
        _start_services()
    pg, redis = _answers(PG_HOST, PG_PORT), _answers(REDIS_HOST, REDIS_PORT)
    if pg and redis:
        name = f"hotline_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        redis_db = claim_redis_db()
        return Backend(
            True,
            f"postgresql+asyncpg://{PG_HOST}:{PG_PORT}/{name}",
            f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
            f"PostgreSQL {PG_HOST}:{PG_PORT} (database {name}) and "
            f"Redis {REDIS_HOST}:{REDIS_PORT}/{redis_db}",
        )
    missing = [n for n, ok in (("PostgreSQL", pg), ("Redis", redis)) if not ok]
    if in_ci():
        raise RuntimeError(
            f"CI=true but {' and '.join(missing)} on 127.0.0.1 cannot be reached "
            "(tried to start them); the suite never falls back silently in CI"
        )
    return Backend(
        False,
        None,
        None,
        f"SQLite + in-process Redis stand-in ({', '.join(missing)} not reachable)",
    )


def _claim_key(db: int) -> str:
    return f"hotline-test-run:{db}"


def claim_redis_db() -> int:
    from redis import Redis

    with Redis(host=REDIS_HOST, port=REDIS_PORT, db=0) as client:
        for db in REDIS_DBS:
            if client.set(_claim_key(db), os.getpid(), nx=True, ex=REDIS_CLAIM_SECONDS):
                return db
    raise RuntimeError(
        f"every test Redis database ({REDIS_DBS.start}..{REDIS_DBS.stop - 1}) is claimed by "
        "another run; wait for one to finish or delete its hotline-test-run:* key in database 0"
    )


def release_redis_db(redis_url: str) -> None:
    from redis import Redis

    db = int(redis_url.rsplit("/", 1)[1])
    with Redis(host=REDIS_HOST, port=REDIS_PORT, db=0) as client:
        if client.get(_claim_key(db)) == str(os.getpid()).encode():
            client.delete(_claim_key(db))


def admin_dsn() -> str:
    user = os.environ.get("PGUSER") or _pg_user()
    return f"host={PG_HOST} port={PG_PORT} dbname=postgres user={user}"


def _pg_user() -> str:
    import getpass

    return getpass.getuser()


def create_database(async_url: str) -> None:
    import psycopg

    name = async_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn(), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(async_url: str) -> None:
    import psycopg

    name = async_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
