"""Intake throughput: the real form endpoint beside baselines measured in the same run.

    .venv/bin/python -m bench.intake [--seconds 8] [--max-requests 40000] [--concurrency 32]

Starts, one after another, on 127.0.0.1 only:
  parse    a bare aiohttp app that parses the same 10-field form and answers (no storage);
  insert   the same plus one INSERT through an asyncpg pool (the raw durable floor);
  hotline  the real `hotline serve` on PostgreSQL + Redis (validation, encryption, commit,
           receipt page, enqueue off the request path).
Each is loaded from a second process (this one) for a bounded time and request count, and the
figures are printed as requests per second and as ratios to the raw-insert baseline. The goal
(issue 2) is hotline >= 0.5 x insert. Needs PostgreSQL and Redis on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql://127.0.0.1:5432/postgres"
BENCH_DB = "hotline_bench"
REDIS_URL = "redis://127.0.0.1:6379/12"

FORM = {
    "reporter_role": "relative",
    "relation": "min søn",
    "phone": "20 12 34 56",
    "person_age": "under_18",
    "municipality": "101",
    "observed": "Han har trukket sig fra vennerne og deler voldsforherligende videoer. " * 4,
    "observed_when": "siden sommer",
    "safety_threats": "no",
    "safety_violence": "no",
    "safety_weapons": "unknown",
    "safety_travel": "no",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- baseline servers (run as `python -m bench.intake --baseline parse|insert --port N`) ---


def run_baseline(kind: str, port: int) -> None:
    from aiohttp import web

    async def pool_ctx(app: web.Application) -> Any:
        import asyncpg

        pool = await asyncpg.create_pool(
            f"postgresql://127.0.0.1:5432/{BENCH_DB}", min_size=10, max_size=10
        )
        app[POOL] = pool
        yield
        await pool.close()

    POOL: web.AppKey[Any] = web.AppKey("pool")

    async def handle(request: web.Request) -> web.Response:
        form = await request.post()
        fields = {k: str(v) for k, v in form.items()}
        if kind == "insert":
            async with request.app[POOL].acquire() as connection:
                await connection.execute(
                    "INSERT INTO bench_contacts (received_at, role, observed) "
                    "VALUES (now(), $1, $2)",
                    fields.get("reporter_role", ""),
                    fields.get("observed", ""),
                )
        return web.Response(text="<p>ok</p>", content_type="text/html")

    app = web.Application()
    app.router.add_post("/report/national", handle)
    if kind == "insert":
        app.cleanup_ctx.append(pool_ctx)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- load generator ---


async def load(
    url: str,
    *,
    seconds: float,
    max_requests: int,
    concurrency: int,
    token: str | None,
    cookies: dict[str, str],
) -> tuple[int, int, float]:
    """POST the form as fast as `concurrency` clients can; returns (ok, failed, elapsed)."""
    body = dict(FORM)
    if token:
        body["csrf_token"] = token
    ok = failed = sent = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, cookies=cookies) as session:

        async def client() -> None:
            nonlocal ok, failed, sent
            while time.monotonic() < deadline and sent < max_requests:
                sent += 1
                async with session.post(url, data=body) as response:
                    await response.read()
                    if response.status == 200:
                        ok += 1
                    else:
                        failed += 1

        start = time.monotonic()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return ok, failed, time.monotonic() - start


async def form_token(base: str) -> tuple[str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base}/report/national") as response,
    ):
        page = await response.text()
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, "no CSRF token on the form page"
        cookies = {key: morsel.value for key, morsel in response.cookies.items()}
        return match.group(1), cookies


async def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def psql(sql: str, database: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port=5432 dbname={database}", autocommit=True) as conn:
        conn.execute(sql)


def prepare_database() -> None:
    psql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{BENCH_DB}"')
    psql(
        "CREATE TABLE bench_contacts (id bigserial PRIMARY KEY, received_at timestamptz, "
        "role text, observed text)",
        BENCH_DB,
    )


def hotline_env(port: int) -> dict[str, str]:
    from crypto import new_data_key

    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_DATABASE_URL=f"postgresql+asyncpg://127.0.0.1:5432/{BENCH_DB}",
        HOTLINE_REDIS_URL=REDIS_URL,
        HOTLINE_SECRET_KEY="bench-secret-bench-secret-bench-secret-bench",
        HOTLINE_DATA_KEY=new_data_key(),
        HOTLINE_PORT=str(port),
        HOTLINE_COOKIE_SECURE="false",
        # One load generator is one client: the per-client limit would measure itself.
        HOTLINE_RATE_LIMITS="false",
        HOTLINE_LOG_LEVEL="warning",
    )
    return env


async def measure(
    name: str,
    command: list[str],
    env: dict[str, str],
    port: int,
    args: argparse.Namespace,
    *,
    needs_token: bool,
) -> float:
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        await wait_ready(f"{base}/healthz" if needs_token else f"{base}/", process)
        token, cookies = await form_token(base) if needs_token else (None, {})
        # A short warm-up so connection pools and caches are filled.
        await load(
            f"{base}/report/national",
            seconds=1,
            max_requests=500,
            concurrency=args.concurrency,
            token=token,
            cookies=cookies,
        )
        ok, failed, elapsed = await load(
            f"{base}/report/national",
            seconds=args.seconds,
            max_requests=args.max_requests,
            concurrency=args.concurrency,
            token=token,
            cookies=cookies,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    rate = ok / elapsed
    print(
        f"{name:<8} {ok:>7} ok {failed:>5} failed in {elapsed:5.1f} s = {rate:8.0f} req/s",
        flush=True,
    )
    if failed:
        raise SystemExit(f"{name}: {failed} requests failed")
    return rate


async def main_async(args: argparse.Namespace) -> None:
    prepare_database()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    subprocess.run(
        [str(ROOT / ".venv/bin/hotline"), "db", "upgrade"],
        env=hotline_env(8080),
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    python = sys.executable
    rates = {}
    for kind in ("parse", "insert"):
        port = free_port()
        rates[kind] = await measure(
            kind,
            [python, "-m", "bench.intake", "--baseline", kind, "--port", str(port)],
            dict(os.environ),
            port,
            args,
            needs_token=False,
        )
    port = free_port()
    rates["hotline"] = await measure(
        "hotline",
        [str(ROOT / ".venv/bin/hotline"), "serve"],
        hotline_env(port),
        port,
        args,
        needs_token=True,
    )
    print()
    for name, rate in rates.items():
        print(f"{name:<8} {rate / rates['insert']:5.2f} x raw insert")
    verdict = "meets" if rates["hotline"] >= 0.5 * rates["insert"] else "MISSES"
    print(f"hotline intake {verdict} the goal of >= 0.5 x raw insert")
    psql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8, help="load time per server (bounded)")
    parser.add_argument("--max-requests", type=int, default=40000, help="request cap per server")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--baseline", choices=["parse", "insert"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        run_baseline(args.baseline, args.port)
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
