"""Read and write Agno's bookkeeping table, ``agno_schema_versions``, in Agno's own formats.

One row per table, keyed by the table's actual name: ``version`` is the schema version as ``Version.public``
(``"2.3.0"``), ``created_at`` / ``updated_at`` are local, timezone-naive ISO-8601 text as Agno's
``datetime.now().isoformat()`` writes them.  ``created_at`` is kept on update.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script.revision import Revision
from sqlalchemy.dialects import mysql, postgresql, sqlite

from agno_alembic import plan, registry, runtime, shapes

log = logging.getLogger("agno_alembic")


def _now() -> str:
    return _dt.datetime.now().isoformat()


def _versions_table(state: runtime.RunState) -> sa.Table:
    spec = shapes.spec("versions", state.backend, registry.LATEST_VERSION, state.names)
    return spec.sa_table()


def read(connection: sa.Connection, state: runtime.RunState) -> dict[str, str]:
    """Every row of ``agno_schema_versions`` as ``{table name: version}``; empty when the table is missing."""
    names = state.names
    if not sa.inspect(connection).has_table(names.versions_table, schema=names.schema):
        return {}
    t = _versions_table(state)
    return {row.table_name: row.version for row in connection.execute(sa.select(t.c.table_name, t.c.version))}


def write(connection: sa.Connection, state: runtime.RunState, table_name: str, version: str) -> None:
    """Record that ``table_name`` is at schema ``version``, keeping ``created_at`` of an existing row."""
    connection.execute(upsert(state, table_name, version))


def upsert(state: runtime.RunState, table_name: str, version: str) -> sa.Executable:
    """The statement recording ``table_name`` at ``version``, in the backend's own upsert form."""
    t = _versions_table(state)
    now = _now()
    values = {"table_name": table_name, "version": version, "created_at": now, "updated_at": now}
    # The update takes the new row's values (no bound parameters, so --sql output is complete).
    if state.backend == registry.POSTGRESQL:
        pg = postgresql.insert(t).values(values)
        return pg.on_conflict_do_update(
            index_elements=["table_name"], set_={"version": pg.excluded.version, "updated_at": pg.excluded.updated_at}
        )
    if state.backend == registry.SQLITE:
        lite = sqlite.insert(t).values(values)
        return lite.on_conflict_do_update(
            index_elements=["table_name"],
            set_={"version": lite.excluded.version, "updated_at": lite.excluded.updated_at},
        )
    my = mysql.insert(t).values(values)
    return my.on_duplicate_key_update(version=my.inserted.version, updated_at=my.inserted.updated_at)


def delete(connection: sa.Connection, state: runtime.RunState, table_name: str) -> None:
    t = _versions_table(state)
    connection.execute(t.delete().where(t.c.table_name == table_name))


def each(hooks: Sequence[Callable[..., None]]) -> Callable[..., None]:
    """One ``on_version_apply`` hook that calls ``hooks`` in order (Alembic calls it with keywords)."""

    def apply(**kw: Any) -> None:
        for hook in hooks:
            hook(**kw)

    return apply


def on_version_apply(ctx: MigrationContext, step: MigrationInfo, heads: set[str], run_args: dict[str, Any]) -> None:
    """Alembic's ``on_version_apply`` hook: keep ``agno_schema_versions`` in step with each applied revision.

    It runs inside the revision's own transaction, so on PostgreSQL and SQLite the step and its stamp commit
    together or not at all.
    """
    state = runtime.state(ctx)
    if state.offline:
        _offline(ctx, step, state)
        return
    for table_type, revision in _positions(ctx, step):
        if not table_type.on(state.backend) or table_type.name == "versions":
            continue
        name = state.names.table(table_type.name)
        connection = ctx.connection
        assert connection is not None
        has_versions = sa.inspect(connection).has_table(
            state.names.versions_table, schema=state.names.schema
        )
        if revision is None:
            if has_versions:
                delete(connection, state, name)
            continue
        assert ctx.script is not None
        version = plan.version_at(ctx.script, table_type, revision, state.target_version)
        if has_versions:
            write(connection, state, name, version)
        elif version != registry.SCHEMA_VERSIONS[0]:
            log.warning("%s is at %s but %s does not exist; not recorded", name, version, state.names.versions_table)


def _offline(ctx: MigrationContext, step: MigrationInfo, state: runtime.RunState) -> None:
    """``--sql``: emit the stamp writes into the script (with values inlined) instead of running them.

    A table brought up (or stamped) to 2.0.0 gets no row: before 2.3.0 there is no versions table, and a missing
    row means 2.0.0.  One brought down to 2.0.0 had a row, which is rewritten.
    """
    assert ctx.script is not None
    versions = state.names.versions_table
    for table_type, revision in _positions(ctx, step):
        if not table_type.on(state.backend) or table_type.name == "versions":
            continue
        name = state.names.table(table_type.name)
        if revision is None:
            t = _versions_table(state)
            ctx.impl.execute(t.delete().where(t.c.table_name == name))
            continue
        version = plan.version_at(ctx.script, table_type, revision, state.target_version)
        if version == registry.SCHEMA_VERSIONS[0] and (step.is_upgrade or step.is_stamp):
            ctx.impl.static_output(f"-- {name} is at 2.0.0: no row in {versions} (a missing row means 2.0.0)")
            continue
        # A downgrade to 2.0.0 comes from a version that had a row (the versions table outlives every revision
        # depending on it): it is rewritten, as online.
        ctx.impl.execute(upsert(state, name, version))


def _positions(ctx: MigrationContext, step: MigrationInfo) -> list[tuple[registry.TableType, str | None]]:
    """The branch position each table of ``step`` ends at (``None``: its table no longer exists)."""
    if step.is_stamp:
        only = runtime.state(ctx).stamp_tables
        moved = {tt.name: tt for rev in (*step.up_revisions, *step.down_revisions) if (tt := _table_type_of(rev))}
        dest = {tt.name: rev.revision for rev in step.destination_revisions
                if isinstance(rev, Revision) and (tt := _table_type_of(rev))}
        return [(tt, dest.get(name)) for name, tt in moved.items() if only is None or name in only]
    out: list[tuple[registry.TableType, str | None]] = []
    for rev in step.up_revisions:
        tt = _table_type_of(rev)
        if not isinstance(rev, Revision) or tt is None:
            continue
        if step.is_upgrade:
            out.append((tt, rev.revision))
        else:
            down = rev.down_revision
            out.append((tt, down if isinstance(down, str) else None))
    return out


def _table_type_of(rev: object) -> registry.TableType | None:
    module = getattr(rev, "module", None)
    name = getattr(module, "agno_table_type", None)
    return registry.table_type(name) if name else None
