"""Detect a table's schema version by inspecting the table itself.

Agno stamps steps that did nothing, so ``agno_schema_versions`` is never trusted alone: a table is at the newest
revision whose changes are all present in it (columns with their types, nullability and no leftover default,
primary key, unique constraints and indexes by name, dropped columns and keys gone).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine.interfaces import ReflectedColumn

from agno_alembic import dialects, plan, registry, shapes
from agno_alembic.naming import Names
from agno_alembic.ops import _diff
from agno_alembic.shapes._dsl import TableSpec


@dataclass(frozen=True)
class Observed:
    """What a table looks like in the database."""

    name: str
    schema: str | None
    columns: dict[str, ReflectedColumn]
    primary_key: tuple[str, ...]
    uniques: frozenset[str]
    indexes: frozenset[str]

    @classmethod
    def read(cls, connection: sa.Connection, name: str, schema: str | None) -> Observed | None:
        insp = sa.inspect(connection)
        if not insp.has_table(name, schema=schema):
            return None
        indexes = frozenset(n for i in insp.get_indexes(name, schema=schema) if (n := i.get("name")))
        uniques = frozenset(
            n for u in insp.get_unique_constraints(name, schema=schema) if (n := u.get("name")))
        return cls(
            name=name,
            schema=schema,
            columns={c["name"]: c for c in insp.get_columns(name, schema=schema)},
            primary_key=tuple(insp.get_pk_constraint(name, schema=schema).get("constrained_columns") or ()),
            uniques=uniques | indexes,
            indexes=indexes,
        )


def _runs_copied(connection: sa.Connection, seen: Observed, names: Names) -> bool:
    """sessions 3.0.0 is done when no legacy ``runs`` column is left, or every run in it is in the runs table."""
    from agno_alembic.data import runs as runs_data

    if "runs" not in seen.columns:
        return True
    if not sa.inspect(connection).has_table(names.table("runs"), schema=names.schema):
        return False
    backend = dialects.backend_of(connection.dialect)
    sessions = shapes.spec("sessions", backend, "2.5.6", names)
    runs = shapes.spec("runs", backend, registry.LATEST_VERSION, names)
    return runs_data.runs_missing_from_table(connection, sessions, runs) == 0


#: Steps whose completion shows outside the table's own shape: (table type, version) -> check.
def _learnings_rekeyed(connection: sa.Connection, seen: Observed, names: Names) -> bool:
    """learnings 3.0.0 changes no shape: it is done when no entity row is left on a pre-3.0 shared key."""
    from agno_alembic.data import learnings

    return learnings.step_applied(connection, seen, names)


_SPECIAL: dict[tuple[str, str], Callable[[sa.Connection, Observed, Names], bool]] = {
    ("sessions", "3.0.0"): _runs_copied,
    ("learnings", "3.0.0"): _learnings_rekeyed,
}


def _column_ok(seen: Observed, spec: TableSpec, name: str, dialect: sa.engine.Dialect) -> bool:
    col = seen.columns.get(name)
    want = spec.columns[name]
    return (
        col is not None
        and dialects.type_matches(col["type"], want.type.on(spec.backend, spec.version), dialect)
        and bool(col["nullable"]) == want.is_nullable(spec.backend)
        and col.get("default") is None
    )


def step_applied(
    connection: sa.Connection,
    seen: Observed,
    old: TableSpec,
    new: TableSpec,
    names: Names,
    last: TableSpec | None = None,
) -> bool:
    """Whether every change from ``old`` to ``new`` is present in the observed table.

    A column a later version drops (``last`` lacks it) proves nothing by its absence.
    """
    special = _SPECIAL.get((new.table_type, new.version))
    d = _diff(old, new)
    dialect = connection.dialect
    changed = [
        c for c in [*d.add_columns, *d.alter_columns]
        if c in seen.columns or last is None or c in last.columns
    ]
    checks = [
        all(_column_ok(seen, new, c, dialect) for c in changed),
        special(connection, seen, names) if special else not any(c in seen.columns for c in d.drop_columns),
        not d.pk_changed or seen.primary_key == new.primary_key,
        all(n in seen.uniques for n in d.add_uniques),
        not any(n in seen.uniques for n in d.drop_uniques),
        all(n in seen.indexes for n in d.add_indexes),
        not any(n in seen.indexes for n in d.drop_indexes),
        not any(i.replaces and i.replaces.format(T=new.name) in seen.indexes for i in new.indexes.values()),
    ]
    return all(checks)


def _unfinished_create(connection: sa.Connection, seen: Observed, base: TableSpec) -> bool:
    """MySQL, SingleStore (DDL commits by itself): the table has exactly its first revision's columns and primary
    key but lacks some of that revision's indexes, as a run killed between its CREATE TABLE and CREATE INDEX
    leaves it (``ops.create_table`` then adds what is missing)."""
    if dialects.capabilities(base.backend).transactional_ddl or all(n in seen.indexes for n in base.indexes):
        return False
    return (
        set(seen.columns) == set(base.columns)
        and set(seen.primary_key) == set(base.primary_key)
        and all(_column_ok(seen, base, c, connection.dialect) for c in base.columns)
    )


def detect_revision(
    connection: sa.Connection, script: ScriptDirectory, backend: str, names: Names, table_type: registry.TableType
) -> str | None:
    """The revision the table is at, judged from the table; ``None`` when it does not exist."""
    seen = Observed.read(connection, names.table(table_type.name), names.schema)
    if seen is None:
        return None
    revisions = plan.revisions_of(script, table_type)
    if _unfinished_create(connection, seen, shapes.spec(table_type.name, backend, revisions[0][1], names)):
        return None  # a CREATE TABLE step an interrupted run left half done: running it again completes it
    last = shapes.spec(table_type.name, backend, table_type.last_version, names)
    found = revisions[0][0]
    for (_, before), (rev, version) in itertools.pairwise(revisions):
        old = shapes.spec(table_type.name, backend, before, names)
        new = shapes.spec(table_type.name, backend, version, names)
        if not step_applied(connection, seen, old, new, names, last):
            break
        found = rev
    return found
