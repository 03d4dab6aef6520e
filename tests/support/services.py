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
# A Redis database number of its own per run, flushed between tests.
REDIS_DB = 2 + os.getpid() % 10  # one of 2..11, so parallel runs rarely share one


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
        return Backend(
            True,
            f"postgresql+asyncpg://{PG_HOST}:{PG_PORT}/{name}",
            f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
            f"PostgreSQL {PG_HOST}:{PG_PORT} (database {name}) and "
            f"Redis {REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
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
