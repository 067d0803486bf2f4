"""The application's env.py, with agno-alembic's branches merged in: one call, agno_alembic.host.configure()."""

import sqlalchemy as sa
from alembic import context

from agno_alembic import host
from app.models import metadata

config = context.config
x = context.get_x_argument(as_dictionary=True)
url = x.get("url") or config.get_main_option("sqlalchemy.url")
# Where the application's Agno db object keeps its tables (PostgresDb(db_schema=...)); this app keeps them next to
# its own. Agno's default is "ai": pass -x agno_schema=ai, or host.configure(..., schema=host.AGNO_DEFAULT_SCHEMA).
agno_schema = x.get("agno_schema") or None

if config.config_file_name is not None:
    from logging.config import fileConfig

    fileConfig(config.config_file_name)


def run_migrations_offline() -> None:
    host.configure(context, url=url, target_metadata=metadata, schema=agno_schema,
                   dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    # One migration at a time: agno-alembic's migration lock, as its own environment and MigrationManager take it.
    with engine.connect() as connection, host.locked(connection, schema=agno_schema, timeout=x.get("lock_timeout")):
        host.configure(context, connection=connection, target_metadata=metadata, schema=agno_schema,
                       render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
