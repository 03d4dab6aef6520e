"""Database plumbing: the declarative base, column types, engines and session factories.

The server uses async engines (asyncpg, aiosqlite); rq jobs and the CLI use sync engines
(psycopg, sqlite3) on the same database. Both are built only when asked for.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Enum,
    Integer,
    MetaData,
    Text,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

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


def async_session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def sync_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
