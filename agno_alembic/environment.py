"""The Alembic environment: ``env.py`` calls :func:`run`.

Online and offline, sync and async drivers.  It resolves the names in play, prepares the connection (schema,
SQLite's transactional DDL, our wide version table) and installs the ``agno_schema_versions`` stamp hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any, cast

import sqlalchemy as sa
from alembic.runtime.environment import EnvironmentContext

from agno_alembic import dialects, identifiers, lock, naming, online, plan, registry, settings, stamps, steps
from agno_alembic.dialects import mysql
from agno_alembic.errors import ConfigurationError
from agno_alembic.ops import OFFLINE_PREVIEW, OFFLINE_READER
from agno_alembic.runtime import RUN_STATE_KEY, RunState

log = logging.getLogger("agno_alembic")

#: Keys of ``config.attributes`` this environment reads (the Python front passes these).
ATTR_CONNECTION = "connection"
ATTR_NAMES = "agno_names"
ATTR_TARGET = "agno_target_version"
ATTR_ALLOW_DATA_LOSS = "agno_allow_data_loss"
ATTR_STAMP_TABLES = "agno_stamp_tables"
"""Table types whose ``agno_schema_versions`` rows an ``alembic stamp`` rewrites (adoption); default: all stamped."""
ATTR_SYNC_STAMPS = "agno_sync_stamps"
"""Table types whose ``agno_schema_versions`` row is rewritten after the run even if no revision ran."""
ATTR_LOCK_TIMEOUT = "agno_lock_timeout"
"""Seconds to wait for the migration lock (``-x lock_timeout=``); :data:`agno_alembic.lock.DEFAULT_TIMEOUT`."""
ATTR_LOCK_TTL = "agno_lock_ttl"
"""SingleStore: seconds a lock row lives without its heartbeat (``-x lock_ttl=``)."""
ATTR_ONLINE = "agno_online"
"""Live-application mode (default ``True``; ``-x online=false``): see :mod:`agno_alembic.online`."""
ATTR_DDL_LOCK_WAIT = "agno_ddl_lock_wait"
"""Online: seconds one DDL try waits for its lock (``-x ddl_lock_wait=``)."""
ATTR_DDL_DEADLINE = "agno_ddl_deadline"
"""Online: seconds a DDL statement keeps retrying (``-x ddl_deadline=``)."""
ATTR_ALLOW_REWRITE = "agno_allow_rewrite"
"""Online: accept a table rewrite under an exclusive lock (``-x allow_rewrite=true``)."""
ONLINE_OPTIONS = ("online", "ddl_lock_wait", "ddl_deadline", "allow_rewrite")
"""``-x`` options of the online mode."""
ATTR_OFFLINE_READER = OFFLINE_READER
"""``--sql``: a connection to read the database the script is written for (which tables and columns hold rows)."""
VERSION_NUM_LENGTH = 128
"""Our revision ids are up to 35 characters; Alembic's default column holds 32."""


def run(context: EnvironmentContext) -> None:
    """Run the migrations Alembic asked for, online or offline."""
    if context.is_offline_mode():
        _run_offline(context)
        return
    connection = context.config.attributes.get(ATTR_CONNECTION)
    if connection is not None:
        _run_on_connection(context, connection)
        return
    url = _url(context)
    if url.get_dialect().is_async:
        asyncio.run(_run_async(context, url))
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            _run_on_connection(context, conn)
    finally:
        engine.dispose()


async def _run_async(context: EnvironmentContext, url: sa.URL) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine  # needs greenlet: the "async" extra

    engine = create_async_engine(url, poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(lambda sync_conn: _run_on_connection(context, sync_conn))
    finally:
        await engine.dispose()


def _x(context: EnvironmentContext) -> dict[str, str]:
    return dict(context.get_x_argument(as_dictionary=True))


def _url(context: EnvironmentContext) -> sa.URL:
    url = _x(context).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise ConfigurationError(
            "No database URL: pass -x url=<url>, set sqlalchemy.url in alembic.ini, or give a connection",
            option="url",
        )
    # Offline, only the dialect is needed: a script may be written for a database whose driver is not here.
    return dialects.checked_url(url) if not context.is_offline_mode() else _parsed(url)


def _parsed(url: str) -> sa.URL:
    try:
        return sa.make_url(url)
    except sa.exc.ArgumentError:
        return dialects.checked_url(url)  # raises the ConfigurationError naming the URL


def state_for(context: EnvironmentContext, backend: str, *, offline: bool) -> RunState:
    """The :class:`RunState` of this run, from ``config.attributes`` and ``-x`` arguments."""
    attrs: Mapping[str, Any] = context.config.attributes
    every = _x(context)
    x = {k: v for k, v in every.items() if k not in lock.OPTIONS and k not in ONLINE_OPTIONS}
    names = attrs.get(ATTR_NAMES) or naming.from_options(x, backend)
    target = attrs.get(ATTR_TARGET) or x.get("agno_version")
    if target is not None:
        target = registry.resolve_version(target)
    allow = _yes_no(attrs.get(ATTR_ALLOW_DATA_LOSS), every, "allow_data_loss", False)
    only = attrs.get(ATTR_STAMP_TABLES)
    defaults = RunState(names=names, backend=backend)
    wait = lock.parse_seconds(_given(attrs.get(ATTR_DDL_LOCK_WAIT), every, "ddl_lock_wait"), "ddl_lock_wait")
    deadline = lock.parse_seconds(_given(attrs.get(ATTR_DDL_DEADLINE), every, "ddl_deadline"), "ddl_deadline")
    return RunState(
        names=names, backend=backend, target_version=target, allow_data_loss=allow, offline=offline,
        stamp_tables=frozenset(only) if only is not None else None,
        online=_yes_no(attrs.get(ATTR_ONLINE), every, "online", True),
        ddl_lock_wait=defaults.ddl_lock_wait if wait is None else wait,
        ddl_deadline=defaults.ddl_deadline if deadline is None else deadline,
        allow_rewrite=_yes_no(attrs.get(ATTR_ALLOW_REWRITE), every, "allow_rewrite", False),
    )


def _given(value: object, x: Mapping[str, str], option: str) -> object:
    return x.get(option) if value is None else value


def _yes_no(value: object, x: Mapping[str, str], option: str, default: bool) -> bool:
    """A yes/no setting: the Python value when given, else ``-x option=``, else ``default``."""
    if value is not None:
        return bool(value)
    given = x.get(option)
    if given is None:
        return default
    return settings.yes_no(given, option)


def _opts(context: EnvironmentContext) -> dict[str, Any]:
    """The command's options (``fn``, ``dont_mutate``...): ``alembic.context`` is a proxy of the EnvironmentContext."""
    return getattr(getattr(context, "_proxy", context), "context_opts", {})


def _lock_setting(context: EnvironmentContext, attribute: str, option: str) -> float | None:
    value = context.config.attributes.get(attribute)
    return lock.parse_seconds(_x(context).get(option) if value is None else value, option)


def _configure(
    context: EnvironmentContext, state: RunState, tracker: steps.StepTracker | None = None, **kw: Any
) -> None:
    hooks: list[Callable[..., None]] = [stamps.on_version_apply]
    if tracker is not None:  # DDL commits by itself here: know the step in progress and what of it committed
        hooks.append(tracker.after_step)
        kw["fn"] = tracker.wrap(_opts(context).get("fn"))
    kw[RUN_STATE_KEY] = state
    context.configure(
        version_table=state.names.alembic_version_table,
        version_table_schema=state.names.schema,
        transaction_per_migration=True,
        on_version_apply=stamps.each(hooks),
        **kw,
    )
    cast(sa.String, context.get_context()._version.c.version_num.type).length = VERSION_NUM_LENGTH


def _run_offline(context: EnvironmentContext) -> None:
    url = _url(context)
    backend = dialects.backend_of(url.get_backend_name())
    state = state_for(context, backend, offline=True)
    identifiers.check(state.names, backend)
    # The script is printed once complete: a step refused offline (OfflineSQLError) leaves no partial script.
    buffer = io.StringIO()
    passed = {key: context.config.attributes[key] for key in (OFFLINE_READER, OFFLINE_PREVIEW)
              if context.config.attributes.get(key) is not None}
    _configure(context, state, url=url, literal_binds=True, dialect_opts={"paramstyle": "named"},
               output_buffer=buffer, **passed)
    with context.begin_transaction():
        if state.names.schema and backend == registry.POSTGRESQL:
            context.execute(sa.schema.CreateSchema(state.names.schema, if_not_exists=True))
        context.run_migrations()
    sys.stdout.write(buffer.getvalue())
    sys.stdout.flush()


def _run_on_connection(context: EnvironmentContext, connection: sa.Connection) -> None:
    backend = dialects.backend_of(connection.dialect)
    state = state_for(context, backend, offline=False)
    identifiers.check(state.names, backend)  # before any DDL, the schema's creation included
    timeout = _lock_setting(context, ATTR_LOCK_TIMEOUT, "lock_timeout")
    ttl = _lock_setting(context, ATTR_LOCK_TTL, "lock_ttl")
    # Everything that may change the database runs under the migration lock (reentrant: the facade holds it
    # already on its connection); a read-only run (``alembic current``, ``dont_mutate``) does not wait for it.
    guarded = contextlib.nullcontext() if _opts(context).get("dont_mutate") else lock.hold(
        connection, schema=state.names.schema, backend=backend, timeout=timeout, ttl=ttl
    )
    with guarded:
        _ensure_schema(connection, state)
        transactional = dialects.capabilities(backend).transactional_ddl
        # Online, every backend commits each DDL statement by itself: know what of a failed step committed.
        tracker = None if transactional and not state.online else steps.StepTracker(connection, backend)
        restore = _sqlite_transactional_ddl(connection) if backend == registry.SQLITE else None
        # online on SQLite: the migration's writes wait for the application's with the busy timeout
        waits = online.SQLiteWritesWait(connection) if backend == registry.SQLITE and state.live else None
        try:
            _configure(context, state, tracker, connection=connection)
            with tracker.watching() if tracker is not None else contextlib.nullcontext(), \
                    context.begin_transaction():
                context.run_migrations()
            sync = context.config.attributes.get(ATTR_SYNC_STAMPS)
            if sync:
                with context.begin_transaction():
                    _sync_stamps(context, state, sync)
            if connection.in_transaction():
                connection.commit()
        finally:
            if waits is not None:
                waits.remove()
            if restore is not None:
                restore()


def _sync_stamps(context: EnvironmentContext, state: RunState, table_types: list[str]) -> None:
    """Make each listed table's row say the version its branch position gives (under the run's target)."""
    ctx = context.get_context()
    assert ctx.script is not None and ctx.connection is not None
    heads = ctx.get_current_heads()
    recorded = stamps.read(ctx.connection, state)
    for name in table_types:
        tt = registry.table_type(name)
        if not tt.on(state.backend) or tt.name == "versions":
            continue
        table = state.names.table(tt.name)
        position = plan.branch_position(ctx.script, heads, tt)
        if position is None:
            if table in recorded:
                stamps.delete(ctx.connection, state, table)
            continue
        version = plan.version_at(ctx.script, tt, position, state.target_version)
        if recorded and recorded.get(table) != version:
            stamps.write(ctx.connection, state, table, version)


def _ensure_schema(connection: sa.Connection, state: RunState) -> None:
    schema = state.names.schema
    if not schema or state.backend == registry.SQLITE:
        return
    if schema in sa.inspect(connection).get_schema_names():
        return
    log.info("Creating schema %s", schema)
    connection.execute(mysql.CreateSchema(schema))
    connection.commit()


def _sqlite_transactional_ddl(connection: sa.Connection) -> Callable[[], None]:
    """Make pysqlite run DDL inside real transactions (it autocommits DDL by default) with FKs off.

    Returns a callable that restores the connection as it was.
    """
    if connection.in_transaction():
        connection.commit()
    raw: Any = connection.connection.driver_connection
    previous = getattr(raw, "isolation_level", None)
    fk_on = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    if fk_on:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    if connection.in_transaction():
        connection.commit()
    raw.isolation_level = None

    def begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    sa.event.listen(connection, "begin", begin)

    def restore() -> None:
        sa.event.remove(connection, "begin", begin)
        raw.isolation_level = previous
        if fk_on:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            if connection.in_transaction():
                connection.commit()

    return restore
