"""``--sql`` of ``up``, ``down`` and ``adopt``: the script of what the verb would run, read from where each table
is now (the database is read, never changed).  ``plan --sql`` shows the same statements with their locks and rows
(:mod:`agno_alembic.preview`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config

from agno_alembic import commands, detect, errors, guard, naming, plan, registry
from agno_alembic.cli import options
from agno_alembic.exits import EXIT_OK
from agno_alembic.manager import SyncMigrationManager, wants_vectors

__all__ = ["adopt_sql", "down_sql", "read_state", "up_sql"]


def read_state(url: str, names: naming.Names, backend: str, types: Sequence[registry.TableType],
                detect_types: bool) -> tuple[tuple[str, ...] | None, set[str], dict[str, str | None]]:
    """Read-only: our version table's rows (``None``: no such table), which selected tables exist, and (optionally)
    their detected revision."""
    parsed = sa.make_url(url)
    if backend == registry.SQLITE and parsed.database not in (None, "", ":memory:") and not Path(
        parsed.database).exists():
        return None, set(), {}
    script = commands.script_directory(commands.make_config())
    engine = sa.create_engine(parsed.set(drivername=sync_driver(parsed)), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            heads: tuple[str, ...] | None = None
            if insp.has_table(names.alembic_version_table, schema=names.schema):
                table = sa.table(names.alembic_version_table, sa.column("version_num"), schema=names.schema)
                heads = tuple(r[0] for r in conn.execute(sa.select(table.c.version_num)))
            existing = {tt.name for tt in [*types, registry.table_type("versions")]
                        if insp.has_table(names.table(tt.name), schema=names.schema)}
            found = {tt.name: detect.detect_revision(conn, script, backend, names, tt) for tt in types
                     if detect_types and tt.name in existing}
            conn.rollback()
    finally:
        engine.dispose()
    return heads, existing, found


def sync_driver(url: sa.URL) -> str:
    """A sync driver for reading (the async ones need an event loop)."""
    name = url.drivername
    return {"sqlite+aiosqlite": "sqlite", "postgresql+psycopg_async": "postgresql+psycopg",
            "postgresql+asyncpg": "postgresql+psycopg", "mysql+asyncmy": "mysql+pymysql",
            "mysql+aiomysql": "mysql+pymysql"}.get(name, name)


def offline(config: Config, fn: Any, heads: Sequence[str], destinations: Sequence[str], *,
            version_table: str | None) -> None:
    """Print the script of ``fn`` (:func:`agno_alembic.commands.offline_script`), reading the database it is for;
    ``version_table``: the existing, empty version table (not to be created again)."""
    given = config.get_main_option("sqlalchemy.url")
    assert given is not None  # every caller's config comes from commands.make_config(url, ...)
    url = sa.make_url(given)
    engine = sa.create_engine(url.set(drivername=sync_driver(url)), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as reader:
            text = commands.offline_script(config, fn, heads, destinations, version_table=version_table,
                                           reader=reader)
            reader.rollback()
    finally:
        engine.dispose()
    sys.stdout.write(text)
    sys.stdout.flush()


def _with_vector_branch(url: str, names: naming.Names, script: Any, types: list[registry.TableType],
                        heads: list[str], positions: dict[str, str | None]) -> list[registry.TableType]:
    """The pgvector tables' branch as ``up()`` moves it (:func:`agno_alembic.preview._with_vector_branch`, as
    ``plan``), read on a read-only connection: only when there is a knowledge table, from where the oldest one
    stands when the branch is recorded (a script cannot stamp; the UPDATE of a recorded head matches no row and the
    row stays at the later head), else from its base (the script records it)."""
    from agno_alembic import preview

    recorded = plan.branch_position(script, heads, registry.VECTORS) is not None
    given = sa.make_url(url)
    engine = sa.create_engine(given.set(drivername=sync_driver(given)), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as reader:
            types, _ = preview._with_vector_branch(reader, script, names, types, heads if recorded else [*heads],
                                                   positions)
            reader.rollback()
    finally:
        engine.dispose()
    if not recorded and registry.VECTORS.name in positions:
        positions[registry.VECTORS.name] = None
    return types


def up_sql(args: argparse.Namespace, mm: SyncMigrationManager, url: str, backend: str, target: str) -> int:
    names = mm.names
    types = options.selected(args, backend)
    recorded, existing, _ = read_state(url, names, backend, types, detect_types=False)
    heads = list(recorded or ())
    config = commands.make_config(url, names=names, target_version=target)
    script = commands.script_directory(config)
    guard.check_known(script, heads, names.alembic_version_table, own_environment=True)
    positions = {tt.name: plan.branch_position(script, heads, tt) for tt in types}
    unadopted = [names.table(tt.name) for tt in types if positions[tt.name] is None and tt.name in existing
                 and tt.name != "versions"]
    if unadopted:
        raise errors.ConfigurationError(
            f"{', '.join(unadopted)} exist(s) but agno-alembic has no record of them: run 'agno-alembic adopt' "
            "first (or 'agno-alembic up' without --sql, which adopts), then 'up --sql' prints what remains",
            option="sql",
        )
    gone = [names.table(tt.name) for tt in types if positions[tt.name] is not None and tt.name not in existing]
    if gone:
        raise errors.ConfigurationError(
            f"{', '.join(gone)} no longer exist(s) but agno-alembic recorded them: run 'agno-alembic up' without "
            "--sql, which rebuilds them, then 'up --sql' prints what remains", option="sql",
        )
    if not args.create_missing:  # as the online up: only the tables that exist (and the recorded ones)
        types = [tt for tt in types if tt.name in existing or positions[tt.name] is not None]
    if wants_vectors(backend, options.table_types(args)):
        # as up(): the pgvector tables' branch with every call (or one naming vectors), placed where the oldest
        # knowledge table stands, when there is one; its script reads which tables there are and what each has
        types = _with_vector_branch(url, names, script, list(types), heads, positions)
    destinations = [
        rev for tt in types
        if (rev := plan.revision_at(script, tt, target))
        and plan.order(script, tt, positions[tt.name]) < plan.order(script, tt, rev)
    ]
    if not destinations:
        print(f"-- Nothing to do: every selected table is at {target} or later.")
        return EXIT_OK
    targets = commands._without_ancestors(script, destinations)
    # Alembic's (private) _upgrade_revs takes several destinations (upgrade a@x b@y), typed as one.
    offline(config, lambda rev, context: script._upgrade_revs(targets, rev), heads, targets,  # type: ignore[arg-type]
             version_table=None if recorded is None else names.alembic_version_table)
    return EXIT_OK


def down_sql(args: argparse.Namespace, mm: SyncMigrationManager, url: str, backend: str, target: str) -> int:
    names = mm.names
    types = options.selected(args, backend) if options.table_types(args) else []
    if len(types) != 1:
        raise errors.ConfigurationError(
            "down --sql prints the downgrade of one table type at a time (its dependents come along): give one "
            "--table-type", option="sql")
    (tt,) = types
    recorded, _, _ = read_state(url, names, backend, types, detect_types=False)
    heads = recorded or ()
    config = commands.make_config(url, names=names, target_version=target,
                                  allow_data_loss=options.allow_data_loss(args))
    script = commands.script_directory(config)
    guard.check_known(script, heads, names.alembic_version_table, own_environment=True)
    position = plan.branch_position(script, heads, tt)
    destination = plan.revision_at(script, tt, target)
    if plan.order(script, tt, position) <= plan.order(script, tt, destination):
        print(f"-- Nothing to do: {names.table(tt.name)} is at {target} or below.")
        return EXIT_OK
    dest = destination or f"{tt.label}@base"
    offline(config, lambda rev, context: script._downgrade_revs(dest, rev), heads, [dest],
             version_table=None if recorded is None else names.alembic_version_table)
    return EXIT_OK


def adopt_sql(args: argparse.Namespace, mm: SyncMigrationManager, url: str, backend: str) -> int:
    names = mm.names
    types = [t for t in options.selected(args, backend) if t.name != "versions"]
    recorded, existing, found = read_state(url, names, backend, types, detect_types=True)
    heads = recorded or ()
    config = commands.make_config(url, names=names)
    script = commands.script_directory(config)
    guard.check_known(script, heads, names.alembic_version_table, own_environment=True)
    versions_tt = registry.table_type("versions")
    dests: list[str] = []
    notes: list[str] = []
    if plan.branch_position(script, heads, versions_tt) is None and "versions" in existing:
        dests.append(versions_tt.revision_id(versions_tt.since))
    for tt in types:
        position = plan.branch_position(script, heads, tt)
        if position is not None and tt.name in existing and not args.force:
            continue
        rev = found.get(tt.name)
        if rev == position:
            continue
        if rev is None:
            notes.append(f"-- {names.table(tt.name)}: recorded at {position} but the table does not exist; "
                         "'agno-alembic adopt' (without --sql) clears the record")
            continue
        dests.append(rev)
    needs_versions = any(registry.version_index(dict(plan.revisions_of(script, registry.table_type(
        script.get_revision(d).module.agno_table_type)))[d]) >= registry.version_index("2.3.0") for d in dests)
    if needs_versions and "versions" not in existing:
        raise errors.ConfigurationError(
            f"Adopting these tables records rows in {names.versions_table}, which does not exist: run "
            "'agno-alembic adopt' without --sql (it creates it), or 'agno-alembic upgrade agno_versions@head' first",
            option="sql",
        )
    for note in notes:
        print(note)
    if not dests:
        print("-- Nothing to adopt: every selected table's branch is recorded where the table is.")
        return EXIT_OK
    targets = tuple(dict.fromkeys(dests))
    offline(config, lambda rev, context: script._stamp_revs(targets, rev), heads, targets,
             version_table=None if recorded is None else names.alembic_version_table)
    return EXIT_OK
