"""db: the UTC timestamp column type and the async-to-sync URL mapping (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url

from db import UTCDateTime, sync_url

COPENHAGEN_WINTER = timezone(timedelta(hours=1))
SQLITE: Dialect = sqlite.dialect()
POSTGRESQL: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRESQL], ids=["sqlite", "postgresql"])
def test_naive_datetime_is_refused(dialect: Dialect) -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 3, 2, 9, 30), dialect)  # noqa: DTZ001


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRESQL], ids=["sqlite", "postgresql"])
def test_none_passes_through(dialect: Dialect) -> None:
    column = UTCDateTime()

    assert column.process_bind_param(None, dialect) is None
    assert column.process_result_value(None, dialect) is None


def test_sqlite_stores_the_utc_wall_time() -> None:
    local = datetime(2026, 3, 2, 10, 30, tzinfo=COPENHAGEN_WINTER)

    stored = UTCDateTime().process_bind_param(local, SQLITE)

    assert stored is not None
    assert stored.tzinfo is None
    assert stored.replace(tzinfo=UTC) == local


def test_postgresql_stores_an_aware_utc_value() -> None:
    local = datetime(2026, 3, 2, 10, 30, tzinfo=COPENHAGEN_WINTER)

    stored = UTCDateTime().process_bind_param(local, POSTGRESQL)

    assert stored == local
    assert stored is not None
    assert stored.utcoffset() == timedelta(0)


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRESQL], ids=["sqlite", "postgresql"])
def test_values_read_back_are_aware_utc_and_the_same_instant(dialect: Dialect) -> None:
    column = UTCDateTime()
    local = datetime(2026, 7, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))

    stored = column.process_bind_param(local, dialect)
    read = column.process_result_value(stored, dialect)

    assert read == local
    assert read is not None
    assert read.utcoffset() == timedelta(0)


def test_an_aware_value_from_the_driver_is_converted_to_utc() -> None:
    read = UTCDateTime().process_result_value(
        datetime(2026, 3, 2, 10, 30, tzinfo=COPENHAGEN_WINTER), POSTGRESQL
    )

    assert read is not None
    assert read.utcoffset() == timedelta(0)
    assert (read.hour, read.minute) == (9, 30)


def test_asyncpg_maps_to_psycopg_keeping_everything_else() -> None:
    original = "postgresql+asyncpg://hotline:s3cr%40t@db.example:5433/hotline_prod?sslmode=require"

    mapped = make_url(sync_url(original))

    before = make_url(original)
    assert mapped.drivername == "postgresql+psycopg"
    assert mapped.username == before.username == "hotline"
    assert mapped.password == before.password == "s3cr@t"
    assert mapped.host == "db.example"
    assert mapped.port == 5433
    assert mapped.database == "hotline_prod"
    assert dict(mapped.query) == {"sslmode": "require"}


def test_the_password_is_not_masked() -> None:
    assert "***" not in sync_url("postgresql+asyncpg://u:pw@db/hotline")
    assert ":pw@" in sync_url("postgresql+asyncpg://u:pw@db/hotline")


def test_aiosqlite_maps_to_pysqlite_keeping_the_path(tmp_path: Path) -> None:
    path = tmp_path / "hotline.db"

    mapped = make_url(sync_url(f"sqlite+aiosqlite:///{path}"))

    assert mapped.drivername == "sqlite+pysqlite"
    assert mapped.database == str(path)


@pytest.mark.parametrize(
    "url", ["postgresql://u:p@db/hotline", "mysql+aiomysql://u:p@db/hotline", "sqlite:///x.db"]
)
def test_unsupported_drivers_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        sync_url(url)
