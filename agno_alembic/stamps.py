"""Read and write Agno's bookkeeping table, ``agno_schema_versions``, in Agno's own formats.

One row per table, keyed by the table's actual name: ``version`` is the schema version as ``Version.public``
(``"2.3.0"``), ``created_at`` / ``updated_at`` are local, timezone-naive ISO-8601 text as Agno's
``datetime.now().isoformat()`` writes them.  ``created_at`` is kept on update.
"""

from __future__ import annotations

import datetime as _dt
import logging

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy.dialects import mysql, postgresql, sqlite

from agno_alembic import registry, runtime, shapes

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
    t = _versions_table(state)
    now = _now()
    values = {"table_name": table_name, "version": version, "created_at": now, "updated_at": now}
    update = {"version": version, "updated_at": now}
    if state.backend == registry.POSTGRESQL:
        stmt = postgresql.insert(t).values(values).on_conflict_do_update(index_elements=["table_name"], set_=update)
    elif state.backend == registry.SQLITE:
        stmt = sqlite.insert(t).values(values).on_conflict_do_update(index_elements=["table_name"], set_=update)
    else:
        stmt = mysql.insert(t).values(values).on_duplicate_key_update(update)
    connection.execute(stmt)


def delete(connection: sa.Connection, state: runtime.RunState, table_name: str) -> None:
    t = _versions_table(state)
    connection.execute(t.delete().where(t.c.table_name == table_name))


def _revision_versions(ctx: MigrationContext, label: str) -> list[tuple[str, str]]:
    """``(revision id, schema version)`` of a branch, oldest first."""
    script = ctx.script
    assert script is not None
    revs = [r for r in script.revision_map.iterate_revisions(f"{label}@head", "base") if label in r.branch_labels]
    out = [(r.revision, getattr(r.module, "agno_version")) for r in revs]
    return sorted(out, key=lambda rv: registry.version_index(rv[1]))


def version_of(ctx: MigrationContext, table_type: registry.TableType, revision: str, target: str | None) -> str:
    """The schema version a table is at once its branch stands at ``revision``.

    A revision gives its table the shape of every schema version from its own up to the next revision's; the
    table is at the newest of those, or at the caller's target when that lies in the range.
    """
    revs = _revision_versions(ctx, table_type.label)
    ids = [r for r, _ in revs]
    i = ids.index(revision)
    first = revs[i][1]
    top = (
        table_type.last_version
        if i + 1 == len(revs)
        else registry.SCHEMA_VERSIONS[registry.version_index(revs[i + 1][1]) - 1]
    )
    if target is not None and registry.version_index(first) <= registry.version_index(target):
        return target if registry.version_index(target) <= registry.version_index(top) else top
    return top


def on_version_apply(ctx: MigrationContext, step: MigrationInfo, heads: set[str], run_args: dict) -> None:
    """Alembic's ``on_version_apply`` hook: keep ``agno_schema_versions`` in step with each applied revision.

    It runs inside the revision's own transaction, so on PostgreSQL and SQLite the step and its stamp commit
    together or not at all.
    """
    state = runtime.state(ctx)
    for table_type, revision in _positions(ctx, step):
        if not table_type.on(state.backend) or table_type.name == "versions":
            continue
        name = state.names.table(table_type.name)
        connection = ctx.connection
        assert connection is not None
        has_versions = state.offline or sa.inspect(connection).has_table(
            state.names.versions_table, schema=state.names.schema
        )
        if revision is None:
            if has_versions:
                delete(connection, state, name)
            continue
        version = version_of(ctx, table_type, revision, state.target_version)
        if has_versions:
            write(connection, state, name, version)
        elif version != registry.SCHEMA_VERSIONS[0]:
            log.warning("%s is at %s but %s does not exist; not recorded", name, version, state.names.versions_table)


def _positions(ctx: MigrationContext, step: MigrationInfo) -> list[tuple[registry.TableType, str | None]]:
    """The branch position each table of ``step`` ends at (``None``: its table no longer exists)."""
    out = []
    for rev in step.up_revisions:
        tt = _table_type_of(rev)
        if rev is None or tt is None:
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
