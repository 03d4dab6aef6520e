"""Database plumbing: the declarative base, column types, engines and session factories.

The server uses async engines (asyncpg, aiosqlite); rq jobs and the CLI use sync engines
(psycopg, sqlite3) on the same database. Both are built only when asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import asyncpg
from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Enum,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import Executable

from crypto import DataCipher

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# BIGINT ids on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A VARCHAR with a CHECK constraint: no native enum type, so a new value is one migration."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
    )


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as timezone-aware UTC.

    SQLite has no timezone type; without this, values would come back naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_CIPHER_ATTRIBUTE = "hotline_cipher"


def _cipher(dialect: Dialect) -> DataCipher:
    cipher = getattr(dialect, _CIPHER_ATTRIBUTE, None)
    if cipher is None:
        raise RuntimeError("no data cipher attached to this engine (use db.attach_cipher)")
    return cipher  # type: ignore[no-any-return]


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the engine's data cipher before it is written."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _cipher(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _cipher(dialect).decrypt(value)


class EncryptedJSON(TypeDecorator[dict[str, Any]]):
    """A JSON object encrypted as a whole."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _cipher(dialect).encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        decoded: dict[str, Any] = json.loads(_cipher(dialect).decrypt(value))
        return decoded


def transaction_lock(
    session: Session | AsyncSession, namespace: str, key: str
) -> Executable | None:
    """A statement that holds a lock on (namespace, key) until the transaction ends.

    Execute it before the reads it protects, so concurrent transactions about the same thing
    (one phone number, one provider message id) take turns. PostgreSQL: a transaction-level
    advisory lock on a hash of the key. SQLite locks the whole database for writing: a write
    that changes nothing takes that lock (waiting for it up to busy_timeout), so the reads after
    it see every commit before it and nobody commits in between.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        digest = hashlib.sha256(f"{namespace}\x00{key}".encode()).digest()
        return select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True)))
    if dialect == "sqlite":
        return text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0")
    return None


def sync_url(async_url: str) -> str:
    """The sync driver's URL for the same database: psycopg for asyncpg, pysqlite for aiosqlite."""
    url = make_url(async_url)
    driver = {"asyncpg": "psycopg", "aiosqlite": "pysqlite"}.get(url.drivername.split("+")[-1])
    if driver is None:
        raise ValueError(f"unsupported database driver {url.drivername}")
    return url.set(drivername=f"{url.get_backend_name()}+{driver}").render_as_string(
        hide_password=False
    )


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the in-process worker write while the server reads; busy_timeout waits for locks
    # instead of failing; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def attach_cipher(engine: Engine | AsyncEngine, cipher: DataCipher) -> None:
    dialect = engine.sync_engine.dialect if isinstance(engine, AsyncEngine) else engine.dialect
    setattr(dialect, _CIPHER_ATTRIBUTE, cipher)


def make_async_engine(url: str, cipher: DataCipher, *, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
    else:
        # No pre-ping: it costs a round trip per checkout on the hot path. A connection that died
        # (database restart) fails that one request before anything is acknowledged, and the
        # pool replaces it; recycling keeps connections from growing stale behind firewalls.
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
        )
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
    attach_cipher(engine, cipher)
    return engine


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN instead of the sqlite3 module's implicit one.
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Any) -> None:
    # Jobs read then write. A deferred transaction would fail with "database is locked" when a
    # concurrent writer got there first; IMMEDIATE takes the write lock up front and waits for it.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sync_engine(async_url: str, cipher: DataCipher) -> Engine:
    url = sync_url(async_url)
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "connect", _sqlite_manual_transactions)
        event.listen(engine, "begin", _begin_immediate)
    else:
        engine = create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
    attach_cipher(engine, cipher)
    return engine


def session_class() -> type[Session]:
    """A Session subclass of its own: session events listened on it reach only the sessions
    built from it (the async factory's and the jobs'), not every Session in the process."""
    return type("HotlineSession", (Session,), {})


def async_session_factory(
    engine: AsyncEngine, *, sync_session_class: type[Session] = Session
) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=sync_session_class)


def sync_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


async def _keep_connection_as_is(_connection: Any) -> None:
    return None


class RowInserter:
    """Inserts single rows into one table as cheaply as the driver allows: for hot paths.

    On PostgreSQL it runs one prepared `INSERT ... RETURNING id` on a small asyncpg pool of its
    own, passing each value through its column's own bind processor, so encryption, enums and
    UTC handling stay defined by the column types. That skips SQLAlchemy's pool and execution
    machinery, which cost several times the insert itself. Other drivers use a Core statement.
    The insert is its own transaction: committed when `insert` returns. Call `close` at shutdown.
    """

    def __init__(self, engine: AsyncEngine, table: Table, *, pool_size: int = 10) -> None:
        self._engine = engine
        self._columns = [column for column in table.columns if not column.primary_key]
        self._column_names = {column.name for column in self._columns}
        self._url = engine.url
        self._pool_size = pool_size
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()
        names = ", ".join(column.name for column in self._columns)
        placeholders = ", ".join(f"${index}" for index in range(1, len(self._columns) + 1))
        self._sql = f"INSERT INTO {table.name} ({names}) VALUES ({placeholders}) RETURNING id"  # noqa: S608  (names from our own table)
        self._core = insert(table).returning(table.c.id)
        dialect = engine.sync_engine.dialect
        self._processors = [column.type.bind_processor(dialect) for column in self._columns]

    async def insert(self, row: dict[str, Any]) -> int:
        unknown = set(row) - self._column_names
        if unknown:
            raise ValueError(f"not columns of this table: {sorted(unknown)}")
        if self._engine.dialect.driver != "asyncpg":
            async with self._engine.begin() as connection:
                return int((await connection.execute(self._core, row)).scalar_one())
        values = [
            processor(row.get(column.name)) if processor else row.get(column.name)
            for column, processor in zip(self._columns, self._processors, strict=True)
        ]
        pool = self._pool or await self._open_pool()
        return int(await pool.fetchval(self._sql, *values))

    async def _open_pool(self) -> Any:
        async with self._pool_lock:
            if self._pool is None:
                url = self._url
                self._pool = await asyncpg.create_pool(
                    host=url.host,
                    port=url.port,
                    user=url.username,
                    password=url.password,
                    database=url.database,
                    ssl=url.query.get("ssl"),
                    min_size=1,
                    max_size=self._pool_size,
                    # This pool only ever runs the autocommitted INSERT: there is no session state
                    # to reset, and asyncpg's default reset costs a round trip per release.
                    reset=_keep_connection_as_is,
                )
            return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
