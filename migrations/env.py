"""Alembic environment: runs migrations on the sync driver of the configured database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

# Imported for their side effect: each registers its tables on Base.metadata (autogenerate).
import access.models  # noqa: F401
import intake.models  # noqa: F401
import notifications.alert_models
import notifications.models  # noqa: F401
import triage.models  # noqa: F401
from db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(str(config.get_main_option("sqlalchemy.url")), poolclass=pool.NullPool)
    with engine.connect() as new_connection:
        _run(new_connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables there.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
