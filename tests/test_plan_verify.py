"""``plan`` and ``verify`` (docs/plan.md), on every backend.

* verify: 0 differences on every golden database (built as tests/test_golden.py builds them); each deliberate
  drift of :data:`DRIFTS` found by name; ``fix`` repairs those it may and lists the rest.
* plan: the statements it lists are the ones the step then runs; rows within the statistics' error; PostgreSQL's
  lock modes as observed in ``pg_locks`` while the step runs; each data check finds its seeded problem, its SQL
  lists exactly the offending rows, and after its fix ``up()`` succeeds; exit codes 0 / 1 / 3.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import MigrationManager, SyncMigrationManager, commands, plan, registry, shapes
from agno_alembic.cli import CommandLine
from agno_alembic.data.checks import Finding
from agno_alembic.dialects import locks
from agno_alembic.errors import ConfigurationError
from agno_alembic.naming import Names
from tests.conftest import Backend

BACKEND_OF = {"sqlite": registry.SQLITE, "postgres": registry.POSTGRESQL, "mysql": registry.MYSQL}
SESSIONS, MEMORIES, VERSIONS = "agno_sessions", "agno_memories", "agno_schema_versions"
BASE_TS = 1_735_689_600


def _mm(backend: Backend, db: Any = None) -> SyncMigrationManager:
    return SyncMigrationManager(db if db is not None else backend.url, db_schema=backend.schema)


def _cli(backend: Backend, *args: str) -> int:
    schema = backend.schema or "none"
    return CommandLine().run([args[0], "--db-url", backend.url, "--schema", schema, "-q", *args[1:]])


def _q(backend: Backend, name: str) -> str:
    quote = "`" if backend.kind == "mysql" else '"'
    return f"{quote}{backend.schema}{quote}.{name}" if backend.schema else name


def _table(conn: sa.Connection, backend: Backend, name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=conn, schema=backend.schema)


def _insert(backend: Backend, name: str, rows: list[dict[str, Any]]) -> None:
    with backend.engine.begin() as conn:
        t = _table(conn, backend, name)
        for row in rows:
            if backend.kind == "mysql":  # MariaDB reflects JSON as LONGTEXT: the JSON goes in as text
                row = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}
            conn.execute(t.insert().values(**row))


def _session(sid: str | None, n: int, **extra: Any) -> dict[str, Any]:
    return {"session_id": sid, "session_type": "agent", "user_id": f"user-{n}", "created_at": BASE_TS + n,
            "updated_at": BASE_TS + n, **extra}


def _run_sql(backend: Backend, text: str) -> None:
    with backend.engine.begin() as conn:
        for statement in (s.strip() for s in re.split(r";\s*$", text, flags=re.MULTILINE)):
            if statement:
                conn.exec_driver_sql(statement.replace("%", "%%") if backend.kind != "sqlite" else statement)


def _select(backend: Backend, sql: str) -> list[dict[str, Any]]:
    with backend.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.exec_driver_sql(sql.rstrip(";").replace("%", "%%")
                                                                 if backend.kind != "sqlite" else sql.rstrip(";"))]


# ================================================================== verify


@pytest.mark.parametrize("version", registry.SCHEMA_VERSIONS)
def test_verify_finds_no_difference_on_every_golden_database(backend, version):
    config = commands.make_config(backend.url, names=backend.names, target_version=version)
    script = commands.script_directory(config)
    commands.upgrade(config, [r for tt in registry.TABLE_TYPES if (r := plan.revision_at(script, tt, version))])
    report = _mm(backend).verify()
    assert report.ok, "\n".join(map(str, report.differences))
    assert [t.version for t in report.tables if t.exists and t.table_type != "versions"]
    assert {t.version for t in report.tables if t.exists and t.table_type == "sessions"} == {version}
    assert _cli(backend, "verify") == 0


def _change_type_sqlite(conn: sa.Connection, table: str, column: str, new_type: str) -> None:
    """SQLite cannot ALTER a type: the table is made again from its own DDL with the one type changed."""
    ddl = conn.exec_driver_sql(f"SELECT sql FROM sqlite_master WHERE type='table' AND name='{table}'").scalar_one()
    indexes = conn.exec_driver_sql(
        f"SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name='{table}' AND sql IS NOT NULL").scalars().all()
    changed, n = re.subn(rf"\b{column} \w+", f"{column} {new_type}", ddl, count=1)
    assert n == 1
    conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO old_{table}")
    conn.exec_driver_sql(changed)
    conn.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM old_{table}")
    conn.exec_driver_sql(f"DROP TABLE old_{table}")
    for sql in indexes:
        conn.exec_driver_sql(sql)


#: The deliberate drifts: (kind, table, name, fixable).
DRIFTS = [
    ("missing_index", MEMORIES, "idx_agno_memories_user_id", True),
    ("missing_column", MEMORIES, "team_id", True),
    ("extra_column", MEMORIES, "my_extra", False),
    ("type", SESSIONS, "summary", False),
    ("stamp", MEMORIES, None, True),
]


def _drift(backend: Backend) -> None:
    with backend.engine.begin() as conn:
        if backend.kind == "mysql":
            conn.exec_driver_sql(f"DROP INDEX idx_agno_memories_user_id ON {_q(backend, MEMORIES)}")
        else:
            conn.exec_driver_sql(f"DROP INDEX {_q(backend, 'idx_agno_memories_user_id')}")
        conn.exec_driver_sql(f"ALTER TABLE {_q(backend, MEMORIES)} DROP COLUMN team_id")
        conn.exec_driver_sql(f"ALTER TABLE {_q(backend, MEMORIES)} ADD COLUMN my_extra VARCHAR(20)")
        if backend.kind == "postgres":
            conn.exec_driver_sql(f"ALTER TABLE {_q(backend, SESSIONS)} ALTER COLUMN summary TYPE TEXT")
        elif backend.kind == "mysql":
            conn.exec_driver_sql(f"ALTER TABLE {_q(backend, SESSIONS)} MODIFY summary TEXT NULL")
        else:
            _change_type_sqlite(conn, SESSIONS, "summary", "TEXT")
        conn.exec_driver_sql(f"UPDATE {_q(backend, VERSIONS)} SET version = '2.0.0' WHERE table_name = '{MEMORIES}'")


def test_verify_finds_each_drift_by_name_and_fix_repairs_those_it_may(backend, capsys):
    mm = _mm(backend)
    mm.up(table_type=["sessions", "memories"], create_missing=True)
    _insert(backend, MEMORIES, [{"memory_id": "m1", "memory": {"a": 1}, "user_id": "u1", "created_at": BASE_TS,
                                 "updated_at": BASE_TS}])
    assert mm.verify(table_type=["sessions", "memories"]).ok
    _drift(backend)

    report = mm.verify(table_type=["sessions", "memories"])
    found = {(d.kind, d.table, d.name): d for d in report.differences}
    for kind, table, name, fixable in DRIFTS:
        assert (kind, table, name) in found, (kind, name, sorted(found))
        assert found[(kind, table, name)].fixable == fixable
    # PostgreSQL: a JSONB column turned TEXT is also what 2.3.0 changed, so the table reads as older than its
    # record; the record stays (moving it would mend nothing), the difference is listed, not fixable.
    extra = [("branch", SESSIONS, None, False)] if backend.kind == "postgres" else []
    for kind, table, name, fixable in extra:
        assert found[(kind, table, name)].fixable == fixable
    drifts = DRIFTS + extra
    assert len(report.differences) == len(drifts), "\n".join(map(str, report.differences))
    assert found[("stamp", MEMORIES, None)].actual == "2.0.0"
    assert report.exit_code == 1
    capsys.readouterr()
    assert _cli(backend, "verify", "--table-type", "sessions,memories", "--json") == 1
    listed = json.loads(capsys.readouterr().out)
    assert listed["differences"] == len(drifts) and not listed["ok"]

    fixed = mm.verify(table_type=["sessions", "memories"], fix=True)
    assert sorted((d.kind, d.name) for d in fixed.fixed) == sorted(
        (k, n) for k, _, n, fixable in drifts if fixable)
    left = sorted((d.kind, d.name or "") for d in fixed.differences)
    assert left == sorted((k, n or "") for k, _, n, fixable in drifts if not fixable), left
    assert mm.status(table_type="sessions")[0].revision == "agno_sessions_3_0_0"
    with backend.engine.connect() as conn:
        insp = sa.inspect(conn)
        assert "idx_agno_memories_user_id" in {i["name"] for i in insp.get_indexes(MEMORIES, schema=backend.schema)}
        assert "team_id" in {c["name"] for c in insp.get_columns(MEMORIES, schema=backend.schema)}
        assert conn.execute(sa.select(_table(conn, backend, MEMORIES).c.memory_id)).scalars().all() == ["m1"]
        versions = _table(conn, backend, VERSIONS)
        row = conn.execute(sa.select(versions.c.version).where(versions.c.table_name == MEMORIES)).scalar_one()
    assert row == registry.LATEST_VERSION
    assert _cli(backend, "verify", "--table-type", "sessions,memories", "--fix") == 1  # the manual ones remain


def test_verify_reports_a_branch_record_that_claims_a_step_the_table_lacks(backend):
    mm = _mm(backend)
    mm.up(target_version="2.0.0", table_type="memories", create_missing=True)
    config = commands.make_config(backend.url, names=backend.names)
    commands.stamp(config, "agno_memories_2_3_0")  # recorded at 2.3.0, the table is still 2.0.0's
    report = mm.verify(table_type="memories")
    kinds = {d.kind for d in report.differences}
    assert "branch" in kinds and "missing_column" in kinds, kinds  # 2.3.0's created_at is not there
    fixed = mm.verify(table_type="memories", fix=True)
    assert fixed.ok, "\n".join(map(str, fixed.differences))
    assert mm.status(table_type="memories")[0].revision == "agno_memories_2_0_0"


def test_verify_and_plan_from_the_async_facade(backend):
    mm = MigrationManager(backend.async_url(), db_schema=backend.schema)
    asyncio.run(mm.up(target_version="2.0.0", table_type="sessions", create_missing=True))
    report = asyncio.run(mm.verify(table_type="sessions"))
    assert report.ok, "\n".join(map(str, report.differences))
    result = asyncio.run(mm.plan(table_type="sessions"))
    assert result.exit_code == 1 and result.steps[-1].revision == "agno_sessions_3_0_0" and result.online
    offline = asyncio.run(mm.plan(table_type="sessions", online=False))
    assert not offline.online and offline.steps[-1].statements != result.steps[-1].statements
    with pytest.raises(ConfigurationError):
        asyncio.run(mm.plan(online="no"))  # type: ignore[arg-type]
    json.dumps(result.to_dict())
    json.dumps(report.to_dict())


# ================================================================== plan


def test_plan_exit_codes_nothing_pending_and_usage(backend, capsys):
    _mm(backend).up(table_type="memories", create_missing=True)
    assert _cli(backend, "plan", "--table-type", "memories") == 0
    assert "Nothing pending" in capsys.readouterr().out
    assert _cli(backend, "plan", "--table-type", "nonsense") == 2
    assert _mm(backend).plan(table_type="memories").steps == ()


def test_plan_covers_the_tables_up_touches_with_the_same_create_missing(backend, capsys):
    """As ``up()``: the tables that exist by default, every selected one with ``create_missing``."""
    mm = _mm(backend)
    mm.up(target_version="2.0.0", table_type="memories", create_missing=True)
    both = ["memories", "sessions"]
    assert "sessions" not in {s.table_type for s in mm.plan(table_type=both).steps}
    assert {"memories", "sessions"} <= {s.table_type for s in mm.plan(table_type=both, create_missing=True).steps}
    mm.up(table_type=both)  # migrates memories only: sessions does not exist, Agno creates it when needed
    assert mm.plan(table_type=both).exit_code == 0
    assert _cli(backend, "plan", "--table-type", "memories,sessions") == 0
    assert _cli(backend, "plan", "--table-type", "memories,sessions", "--create-missing") == 1
    capsys.readouterr()


def _target(text: str) -> str | None:
    """The table a DDL statement is on (for DROP INDEX without ON: the index's name)."""
    for pattern in (r"^CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?\S+ ON (\S+)", r"^(?:CREATE|ALTER|DROP) TABLE (\S+)",
                    r"^DROP INDEX \S+ ON (\S+)", r"^DROP INDEX (\S+)"):
        m = re.match(pattern, text)
        if m:
            return m.group(1).split(".")[-1]
    return None


def _ddl(statements: list[str], tables: set[str]) -> list[str]:
    """The DDL statements on ``tables`` (or on their indexes), normalised, in order."""
    out = []
    for sql in statements:
        text = locks.normalise(sql)
        target = _target(text)
        if target is not None and any(target == t.upper() or target.startswith(f"IDX_{t.upper()}_")
                                      for t in tables):
            out.append(text)
    return out


def _executed(engine: sa.Engine) -> list[str]:
    """The statements ``engine`` runs from now on that the server accepted (after SQLAlchemy's hooks: online mode's
    ALGORITHM clauses included; a try refused or timed out is not in it)."""
    ran: list[str] = []
    sa.event.listen(engine, "after_cursor_execute", lambda c, cur, stmt, *a: ran.append(stmt))
    return ran


def _batch_sql(text: str) -> str:
    """A statement without its comment lines, parameters written ``:name`` (as the plan writes them)."""
    return locks.normalise(re.sub(r"%\((\w+)\)s|\?", lambda m: f":{m.group(1)}" if m.group(1) else "?", text))


@pytest.mark.parametrize("online", [True, False], ids=["online", "offline"])
def test_plan_statements_are_the_ones_up_then_runs(backend, online):
    """plan, in the mode up() runs (online by default; offline with ``online=False``), lists the DDL statements up()
    then runs on the step's tables, in order and in the form it runs them (online: CREATE INDEX CONCURRENTLY,
    CHECK ... NOT VALID and VALIDATE, ALGORITHM=INSTANT / INPLACE, LOCK=NONE); online, the runs copy is planned as
    the batch it repeats, and that batch's statement is the one each batch runs (PostgreSQL)."""
    engine = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    mm = SyncMigrationManager(engine, db_schema=backend.schema, online=online)
    mm.up(target_version="2.0.0", table_type=["sessions", "memories"], create_missing=True)
    _insert(backend, SESSIONS, [_session(f"s{i}", i, runs=[{"run_id": f"r{i}", "agent_id": "a"}])
                                for i in range(5)])
    _insert(backend, MEMORIES, [{"memory_id": f"m{i}", "memory": {"i": i}, "user_id": "u", "updated_at": BASE_TS}
                                for i in range(5)])
    result = mm.plan(table_type=["sessions", "memories"])
    assert result.exit_code == 1 and result.online is online
    assert mm.plan(table_type=["sessions", "memories"], online=not online).online is not online
    own = {SESSIONS, MEMORIES, "agno_runs", "_agno_alembic_rebuild_agno_memories"}
    planned = _ddl([s.sql for step in result.steps for s in step.statements if step.table_name in own], own)
    assert planned or backend.kind == "sqlite"
    forms = {"postgres": ["CREATE INDEX CONCURRENTLY", "NOT VALID", "VALIDATE CONSTRAINT"],
             "mysql": ["ALGORITHM=INSTANT", "ALGORITHM=INPLACE, LOCK=NONE", "ALGORITHM=INPLACE LOCK=NONE"],
             "sqlite": []}[backend.kind]
    for form in forms:  # online forms in online mode only
        assert any(form in p for p in planned) is online, (form, planned)
    copy = next(s for s in mm.plan(table_type="sessions").steps if s.revision == "agno_sessions_3_0_0")
    batches = [s for s in copy.statements if s.lock is not None and "batch" in s.lock.operation]
    assert bool(batches) is online, [s.lock for s in copy.statements]
    ran = _executed(engine)
    mm.up(table_type=["sessions", "memories"], create_missing=True)
    assert _ddl(ran, own) == planned
    if online and backend.kind == "postgres":
        batch = "\n".join(line for line in batches[0].sql.splitlines() if not line.startswith("--"))
        assert _batch_sql(batch) in {_batch_sql(r) for r in ran}
    assert mm.plan(table_type=["sessions", "memories"]).exit_code == 0
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_plan_refuses_a_large_rewrite_online_as_online_mode_does(backend, capsys):
    """PostgreSQL, online: the 2.3.0 JSON to JSONB rewrite of a table above REWRITE_MOMENT_ROWS rows runs through a
    shadow table (no finding); where the table has what a shadow cannot carry (an index the shapes do not know), the
    in-place rewrite is a blocking finding (exit 3), and online up() refuses it; accepted (allow_rewrite) or
    offline, it is not."""
    from agno_alembic.dialects.online import REWRITE_MOMENT_ROWS
    from agno_alembic.errors import RewriteRefusedError

    mm = _mm(backend)
    mm.up(target_version="2.0.0", table_type="sessions", create_missing=True)
    _insert(backend, SESSIONS, [_session(f"s{i:05}", i) for i in range(REWRITE_MOMENT_ROWS + 1)])
    shadow = mm.plan(target_version="2.3.0", table_type="sessions", exact=True)
    assert shadow.exit_code == 1 and not [f for s in shadow.steps for f in s.findings if f.check == "online_rewrite"]
    assert any("_agno_alembic_shadow_" in s.sql for step in shadow.steps for s in step.statements)
    with backend.engine.begin() as c:
        c.exec_driver_sql(f"CREATE INDEX mine ON {backend.schema}.{SESSIONS} (user_id, created_at)")
    result = mm.plan(target_version="2.3.0", table_type="sessions", exact=True)
    found = _finding(result, "agno_sessions_2_3_0", "online_rewrite")
    assert found.blocking and found.rows == REWRITE_MOMENT_ROWS + 1 and result.exit_code == 3
    assert _select(backend, found.sql) == [{"count": REWRITE_MOMENT_ROWS + 1}]
    assert _cli(backend, "plan", "--to", "2.3.0", "--table-type", "sessions") == 3
    assert _cli(backend, "plan", "--to", "2.3.0", "--table-type", "sessions", "--allow-rewrite") == 1
    assert _cli(backend, "plan", "--to", "2.3.0", "--table-type", "sessions", "--offline") == 1
    capsys.readouterr()
    with pytest.raises(RewriteRefusedError):
        mm.up(target_version="2.3.0", table_type="sessions")
    assert SyncMigrationManager(backend.url, db_schema=backend.schema, allow_rewrite=True).plan(
        target_version="2.3.0", table_type="sessions").exit_code == 1


def test_plan_rows_are_within_the_statistics_error_and_exact_counts(backend):
    mm = _mm(backend)
    mm.up(target_version="2.5.6", table_type="sessions", create_missing=True)
    _insert(backend, SESSIONS, [_session(f"s{i:04}", i, runs=[{"run_id": f"r{i}"}, {"run_id": f"q{i}"}])
                                for i in range(400)])
    with backend.engine.begin() as conn:
        conn.exec_driver_sql({"postgres": f"ANALYZE {_q(backend, SESSIONS)}", "mysql": f"ANALYZE TABLE "
                              f"{_q(backend, SESSIONS)}", "sqlite": "ANALYZE"}[backend.kind])
    step = next(s for s in mm.plan(table_type="sessions").steps if s.revision == "agno_sessions_3_0_0")
    assert step.rows is not None and abs(step.rows - 400) <= 400 * 0.25, step.rows
    assert step.rows_exact == (backend.kind == "sqlite")
    assert step.rows_read == step.rows and step.rows_written == 800
    assert 0 < step.seconds[0] < step.seconds[1]
    exact = next(s for s in mm.plan(table_type="sessions", exact=True).steps if s.revision == step.revision)
    assert exact.rows == 400 and exact.rows_exact


def _finding(result: Any, revision: str, check: str) -> Finding:
    step = next(s for s in result.steps if s.revision == revision)
    found = [f for f in step.findings if f.check == check]
    assert found, [f.check for f in step.findings]
    return found[0]


def _relax_sessions_key(backend: Backend) -> None:
    """Let the 2.0.0 sessions table take NULL and repeated session_ids, as some legacy tables did (the 2.0.0 key
    is the 2.3.0 one: a unique constraint on PostgreSQL and MySQL, the primary key on SQLite)."""
    from tests.test_data_steps import _no_key_sessions

    _no_key_sessions(backend)


def test_plan_stops_on_null_and_duplicate_session_ids_lists_them_and_its_fix_lets_up_run(backend, capsys):
    mm = _mm(backend)
    mm.up(target_version="2.0.0", table_type="sessions", create_missing=True)
    _relax_sessions_key(backend)
    _insert(backend, SESSIONS, [_session(None, 0), _session("dup-x", 1), _session("dup-x", 2),
                                _session("ok-1", 3), _session("ok-2", 4)])
    capsys.readouterr()
    assert _cli(backend, "plan", "--table-type", "sessions") == 3
    out = capsys.readouterr().out
    assert "STOPS THE STEP" in out and "NULL session_id" in out and "'dup-x'" in out

    result = mm.plan(table_type="sessions")
    assert result.exit_code == 3
    step = next(s for s in result.steps if s.revision == "agno_sessions_2_5_0")
    assert step.blocked and all(f.blocking for f in step.findings)
    listed = {f.problem.split(" ")[-1]: f for f in step.findings}
    assert len(step.findings) == 2, listed
    nulls, dupes = step.findings
    assert sorted(r["user_id"] for r in _select(backend, nulls.sql)) == ["user-0"]
    assert sorted(r["user_id"] for r in _select(backend, dupes.sql)) == ["user-1", "user-2"]
    assert (nulls.rows, dupes.rows) == (1, 2)
    for f in step.findings:
        _run_sql(backend, f.fix)
    after = mm.plan(table_type="sessions")
    assert after.exit_code == 1, [f.problem for s in after.steps for f in s.findings]
    mm.up(table_type="sessions", create_missing=True)
    with backend.engine.connect() as conn:
        t = _table(conn, backend, SESSIONS)
        kept = sorted(conn.execute(sa.select(t.c.user_id)).scalars())
    assert kept == ["user-2", "user-3", "user-4"]  # the newest dup-x stays; nothing else went
    assert mm.status(table_type="sessions")[0].detected_version == registry.LATEST_VERSION


@pytest.mark.parametrize("backend", [k for k in ("sqlite", "postgres", "mysql")
                                     if registry.table_type("schedules").on(BACKEND_OF[k])], indirect=True)
def test_plan_finds_duplicate_schedule_names_lists_them_and_its_fix_lets_up_run(backend):
    mm = _mm(backend)
    mm.up(target_version="2.5.6", table_type="schedules", create_missing=True)
    names = ["nightly", "nightly", "hourly", "hourly", "hourly", "unique-1"]
    base = shapes.spec("schedules", BACKEND_OF[backend.kind], "2.5.6", Names(schema=backend.schema))
    required = {c for c, col in base.columns.items() if not col.is_nullable(base.backend)}
    rows = []
    for n, name in enumerate(names):
        row = {"id": f"sched-{n}", "name": name, "cron_expr": "0 * * * *", "endpoint": "/x", "method": "POST",
               "timezone": "UTC", "enabled": True, "created_at": BASE_TS + n}
        for c in required - set(row):
            row[c] = 1 if "INT" in repr(base.columns[c].type) else "x"
        rows.append(row)
    _insert(backend, "agno_schedules", rows)
    result = mm.plan(table_type="schedules")
    assert result.exit_code == 3
    found = _finding(result, "agno_schedules_3_0_0", "unique_schedule_names")
    assert sorted(r["id"] for r in _select(backend, found.sql)) == [f"sched-{n}" for n in range(5)]
    _run_sql(backend, found.fix)
    assert mm.plan(table_type="schedules").exit_code == 1
    mm.up(table_type="schedules", create_missing=True)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_plan_finds_json_that_jsonb_refuses_on_postgresql(backend):
    """PostgreSQL only: the 2.3.0 JSON -> JSONB conversion exists there alone."""
    mm = _mm(backend)
    mm.up(target_version="2.0.0", table_type="sessions", create_missing=True)
    with backend.engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO {_q(backend, SESSIONS)} (session_id, session_type, created_at, session_data) VALUES "
            "('bad', 'agent', 1, '{\"a\": \"x\\u0000y\"}'), ('good', 'agent', 2, '{\"a\": 1}')")
    result = mm.plan(table_type="sessions")
    assert result.exit_code == 3
    found = _finding(result, "agno_sessions_2_3_0", "jsonb_convertible")
    assert [r["session_id"] for r in _select(backend, found.sql)] == ["bad"]
    _run_sql(backend, found.fix)
    assert mm.plan(table_type="sessions").exit_code == 1
    mm.up(table_type="sessions", create_missing=True)


def test_plan_notes_run_ids_held_by_two_sessions_without_stopping(backend):
    mm = _mm(backend)
    mm.up(target_version="2.5.6", table_type="sessions", create_missing=True)
    _insert(backend, SESSIONS, [_session("a", 1, runs=[{"run_id": "shared"}, {"run_id": "r-a"}]),
                                _session("b", 2, runs=[{"run_id": "shared"}]),
                                _session("c", 3, runs=[{"run_id": "r-c"}]),
                                _session("d", 4, runs={"not": "a list"})])
    result = mm.plan(table_type="sessions")
    assert result.exit_code == 1
    found = _finding(result, "agno_sessions_3_0_0", "shared_run_ids")
    assert not found.blocking and "'shared'" in found.problem
    assert sorted(r["session_id"] for r in _select(backend, found.sql)) == ["a", "b"]
    odd = _finding(result, "agno_sessions_3_0_0", "legacy_runs_json")
    assert not odd.blocking and [r["session_id"] for r in _select(backend, odd.sql)] == ["d"]


def test_find_duplicate_keys_lists_exactly_the_rows_a_unique_index_rejects(backend):
    from agno_alembic.data import checks

    _mm(backend).up(table_type="memories", create_missing=True)
    _insert(backend, MEMORIES, [{"memory_id": f"m{i}", "memory": {}, "user_id": u, "agent_id": a, "created_at": i}
                                for i, (u, a) in enumerate([("u1", "a"), ("u1", "a"), ("u1", "b"), ("u2", "a")])])
    spec = shapes.spec("memories", BACKEND_OF[backend.kind], registry.LATEST_VERSION, Names(schema=backend.schema))
    with backend.engine.connect() as conn:
        (found,) = checks.find_duplicate_keys(conn, spec, "uq_test", ["user_id", "agent_id"])
    assert found.blocking and found.rows == 2
    assert sorted(r["memory_id"] for r in _select(backend, found.sql)) == ["m0", "m1"]


def test_find_nulls_lists_exactly_the_rows_a_not_null_column_rejects(backend):
    from agno_alembic.data import checks

    _mm(backend).up(table_type="memories", create_missing=True)
    _insert(backend, MEMORIES, [{"memory_id": f"m{i}", "memory": {}, "user_id": u, "created_at": i}
                                for i, u in enumerate(["u1", None, "u2", None])])
    spec = shapes.spec("memories", BACKEND_OF[backend.kind], registry.LATEST_VERSION, Names(schema=backend.schema))
    with backend.engine.connect() as conn:
        (found,) = checks.find_nulls(conn, spec, "user_id")
        assert checks.find_nulls(conn, spec, "memory_id") == []
    assert found.blocking and found.rows == 2
    assert sorted(r["memory_id"] for r in _select(backend, found.sql)) == ["m1", "m3"]


# ================================================================== locks


@pytest.mark.parametrize(("backend_name", "sql", "lock", "rewrite"), [
    ("postgresql", "ALTER TABLE ai.agno_sessions ALTER COLUMN summary TYPE JSONB USING summary::JSONB", "ACCESS "
     "EXCLUSIVE", True),
    ("postgresql", "CREATE INDEX idx_x ON ai.t (a)", "SHARE", False),
    ("postgresql", "CREATE INDEX CONCURRENTLY idx_x ON ai.t (a)", "SHARE UPDATE EXCLUSIVE", False),
    ("postgresql", "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY(a) REFERENCES s (a) NOT VALID", "SHARE ROW "
     "EXCLUSIVE", False),
    ("postgresql", "ALTER TABLE t ADD COLUMN a VARCHAR", "ACCESS EXCLUSIVE", False),
    ("mysql", "ALTER TABLE t ADD COLUMN a TEXT", "NONE", False),
    ("mysql", "ALTER TABLE t MODIFY a TEXT NULL", "SHARED", True),
    ("mysql", "ALTER TABLE t MODIFY a TEXT NULL, ALGORITHM=INPLACE, LOCK=NONE", "NONE", True),
    ("mysql", "CREATE INDEX i ON t (a)", "NONE", False),
    ("sqlite", "INSERT INTO _agno_alembic_rebuild_t (a) SELECT a FROM t", "database write lock", True),
    ("sqlite", "CREATE INDEX i ON t (a)", "database write lock", False),
])
def test_lock_descriptions(backend_name, sql, lock, rewrite):
    info = locks.describe(backend_name, sql)
    assert (info.lock, info.rewrite) == (lock, rewrite), info


#: SingleStore's documented online ALTER (its ALTER TABLE page): reads and writes go on but for a short wait at the
#: start; no ALGORITHM/LOCK clause; ADD/DROP PRIMARY KEY are not in its documented grammar (Agno's 2.5.0 step issues
#: them): described as the worst case. (statement, operation, online)
SINGLESTORE_DOCUMENTED = [
    ("CREATE TABLE agno_x (a INT)", "create table", True),
    ("CREATE INDEX idx_x ON agno_x (a)", "create index", True),
    ("ALTER TABLE agno_x ADD UNIQUE KEY uq_x (a)", "create index", True),
    ("ALTER TABLE agno_x ADD COLUMN b TEXT", "add column", True),
    ("ALTER TABLE agno_x DROP COLUMN b", "drop column", True),
    ("ALTER TABLE agno_x DROP INDEX uq_x", "drop index", True),
    ("DROP INDEX idx_x ON agno_x", "drop index", True),
    ("ALTER TABLE agno_x MODIFY a BIGINT NOT NULL", "change column", True),
    ("ALTER TABLE agno_x RENAME TO agno_y", "rename table", True),
    ("ALTER TABLE agno_x ADD PRIMARY KEY (a)", _S2_PK := "change primary key (not in SingleStore's documented ALTER "
                                                         "grammar)", False),
    ("ALTER TABLE agno_x DROP PRIMARY KEY", _S2_PK, False),
    ("DROP TABLE agno_x", "drop table", False),
]


@pytest.mark.parametrize(("sql", "operation", "online"), SINGLESTORE_DOCUMENTED)
def test_singlestore_locks_follow_its_documented_online_alter(sql, operation, online):
    info = locks.describe(registry.SINGLESTORE, sql)
    assert (info.operation, info.online, info.algorithm) == (operation, online, None), info
    assert info.blocks == ("nothing" if online else "reads and writes")
    assert locks.online_statement(registry.SINGLESTORE, sql) == sql  # online mode sends it as it is


def test_singlestore_every_statement_of_its_upgrade_script_is_described():
    """Every DDL statement of the SingleStore upgrade script (tests/expected_sql, compared with the script by
    test_offline) has a rule; only the primary key changes of sessions 2.5.0 are not online."""
    from pathlib import Path

    from agno_alembic.preview import split_statements

    text = (Path(__file__).parent / "expected_sql" / "singlestore.sql").read_text()
    ddl = [s for s in split_statements(re.sub(r"^--.*$", "", text, flags=re.MULTILINE))
           if re.match(r"^(CREATE|ALTER|DROP)\b", locks.normalise(s)) and "AGNO_ALEMBIC_VERSION" not in
           locks.normalise(s)]
    assert len(ddl) > 20
    described = {locks.normalise(s): locks.describe(registry.SINGLESTORE, s) for s in ddl}
    assert not [s for s, i in described.items() if i.operation == "unclassified statement"]
    offline = sorted(s for s, i in described.items() if not i.online)
    assert offline and all("PRIMARY KEY" in s for s in offline), offline


@dataclass
class _Background:
    """An ``up()`` running in a thread of its own: what it raised lands in ``errors``."""

    thread: threading.Thread
    errors: list[BaseException]


def _up_in_background(mm: SyncMigrationManager, **kw: Any) -> _Background:
    """Start ``mm.up(**kw)`` in a thread (the test watches the locks it takes meanwhile, then joins it)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            mm.up(**kw)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return _Background(thread, errors)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgresql_locks_observed_in_pg_locks_are_the_planned_ones(backend):
    """The step runs while a second connection holds EXCLUSIVE on the bookkeeping tables (reads go on, writes
    wait): the step does all its DDL, then waits to record itself, holding every lock it took; a third connection
    reads them from pg_locks."""
    mm = SyncMigrationManager(backend.url, db_schema=backend.schema, online=False)  # plan: offline statements
    mm.up(target_version="2.0.0", table_type=["sessions", "memories"], create_missing=True)
    mm.up(target_version="2.3.0", table_type="versions", create_missing=True)
    _insert(backend, SESSIONS, [_session(f"s{i}", i) for i in range(20)])
    result = mm.plan(target_version="2.3.0", table_type=["sessions", "memories"])
    planned: dict[str, set[str]] = {}
    for step in result.steps:
        for s in step.statements:
            if s.lock is not None and step.table_name in (SESSIONS, MEMORIES):
                planned.setdefault(step.table_name, set()).add(s.lock.lock)
    assert planned, [s.revision for s in result.steps]
    blocker = backend.engine.connect()
    blocker.begin()
    for name in (mm.names.alembic_version_table, VERSIONS):
        blocker.exec_driver_sql(f"LOCK TABLE {_q(backend, name)} IN EXCLUSIVE MODE")
    up = _up_in_background(mm, target_version="2.3.0", table_type=["sessions", "memories"], create_missing=True)
    seen: dict[str, set[str]] = {}
    try:
        deadline = time.monotonic() + 60
        with backend.engine.connect() as watcher:
            while time.monotonic() < deadline and not up.errors:
                rows = watcher.exec_driver_sql(
                    "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s AND l.granted "
                    "AND l.pid <> pg_backend_pid() AND l.pid IN (SELECT pid FROM pg_locks WHERE NOT granted)",
                    {"s": backend.schema}).all()
                watcher.rollback()
                for rel, mode in rows:
                    seen.setdefault(rel, set()).add(mode)
                if seen.get(SESSIONS):
                    break
                time.sleep(0.05)
    finally:
        blocker.rollback()
        blocker.close()
        up.thread.join(120)
    assert not up.thread.is_alive() and not up.errors, up.errors
    assert SESSIONS in seen, seen
    want = {m.split(" (")[0] for m in planned[SESSIONS]}
    got = {_pg_mode(m) for m in seen[SESSIONS]}
    strongest = max(want, key=locks.lock_mode_rank)
    assert max(got, key=locks.lock_mode_rank) == strongest, (got, want)
    assert want <= got, (got, want)


def _pg_mode(mode: str) -> str:
    """pg_locks' ``AccessExclusiveLock`` as the plan writes it: ``ACCESS EXCLUSIVE``."""
    return re.sub(r"(?<!^)([A-Z])", r" \1", mode).upper().replace(" LOCK", "")


@pytest.mark.parametrize("backend", ["postgres", "postgres18"], indirect=True)
def test_postgresql_locks_observed_in_pg_locks_during_an_online_step_are_the_planned_ones(backend):
    """Online mode: each statement takes its lock alone, so the locks are seen while they wait. A blocker per table
    reads it (ACCESS SHARE) until an ACCESS EXCLUSIVE statement of the step is seen asking for its lock (it gives
    up after the bounded wait and retries). Another holds a snapshot without touching Agno's tables:
    CREATE INDEX CONCURRENTLY holds its SHARE UPDATE EXCLUSIVE while it waits for that snapshot (seen, granted).
    The strongest table lock mode the migration held or asked for at each moment, reads (ACCESS SHARE) aside, is
    one the online plan listed for that table, its strongest included; the memories index is planned and built
    CONCURRENTLY (SHARE, offline mode's lock, is neither planned nor seen)."""
    mm = SyncMigrationManager(backend.url, db_schema=backend.schema)  # online: the default
    mm.up(target_version="2.0.0", table_type=["sessions", "memories"], create_missing=True)
    mm.up(target_version="2.3.0", table_type="versions", create_missing=True)
    _insert(backend, SESSIONS, [_session(f"s{i}", i) for i in range(20)])
    _insert(backend, MEMORIES, [{"memory_id": f"m{i}", "memory": {"i": i}, "user_id": "u", "updated_at": BASE_TS}
                                for i in range(20)])
    result = mm.plan(target_version="2.3.0", table_type=["sessions", "memories"])
    assert result.online
    planned: dict[str, set[str]] = {}
    for step in result.steps:
        for s in step.statements:
            if s.lock is not None and step.table_name in (SESSIONS, MEMORIES):
                planned.setdefault(step.table_name, set()).add(s.lock.lock.split(" (")[0])
    assert "SHARE UPDATE EXCLUSIVE" in planned[MEMORIES] and "SHARE" not in planned[MEMORIES], planned
    readers = {table: backend.engine.connect() for table in (SESSIONS, MEMORIES)}
    for table, reader in readers.items():
        reader.begin()
        reader.exec_driver_sql(f"SELECT count(*) FROM {_q(backend, table)}")
    snapshot = backend.engine.connect()
    snapshot.execution_options(isolation_level="REPEATABLE READ").begin()
    snapshot.exec_driver_sql("SELECT count(*) FROM pg_class")
    ours = {c.exec_driver_sql("SELECT pg_backend_pid()").scalar() for c in [*readers.values(), snapshot]}
    up = _up_in_background(mm, target_version="2.3.0", table_type=["sessions", "memories"], create_missing=True)
    seen: dict[str, set[tuple[str, bool]]] = {}
    try:
        began = time.monotonic()
        with backend.engine.connect() as watcher:
            while up.thread.is_alive() and time.monotonic() - began < 120:
                rows = watcher.exec_driver_sql(
                    "SELECT c.relname, l.mode, l.granted, l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s AND l.pid <> "
                    "pg_backend_pid()", {"s": backend.schema}).all()
                watcher.rollback()
                strongest: dict[tuple[str, int], tuple[str, bool]] = {}
                for rel, mode, granted, pid in rows:  # a statement holds weaker modes beside its own (an index
                    if pid in ours:                   # rebuilt under ALTER TYPE's ACCESS EXCLUSIVE takes SHARE)
                        continue
                    now = strongest.get((rel, pid))
                    if now is None or locks.lock_mode_rank(_pg_mode(mode)) > locks.lock_mode_rank(now[0]):
                        strongest[(rel, pid)] = (_pg_mode(mode), granted)
                for (rel, _), found in strongest.items():
                    seen.setdefault(rel, set()).add(found)
                for table, reader in list(readers.items()):
                    if ("ACCESS EXCLUSIVE", False) in seen.get(table, set()) or time.monotonic() - began > 20:
                        reader.rollback()  # an ALTER on the table was seen waiting (it gives up and retries)
                        reader.close()
                        del readers[table]
                if ("SHARE UPDATE EXCLUSIVE", True) in seen.get(MEMORIES, set()) or time.monotonic() - began > 20:
                    snapshot.rollback()  # CREATE INDEX CONCURRENTLY was seen waiting for it
                time.sleep(0.01)
    finally:
        for reader in readers.values():
            reader.rollback()
            reader.close()
        snapshot.rollback()
        snapshot.close()
        up.thread.join(120)
    assert not up.thread.is_alive() and not up.errors, up.errors
    for table in (SESSIONS, MEMORIES):
        assert ("ACCESS EXCLUSIVE", False) in seen.get(table, set()), seen  # waited, gave up, retried
    assert ("SHARE UPDATE EXCLUSIVE", True) in seen.get(MEMORIES, set()), seen
    for table in (SESSIONS, MEMORIES):
        asked = {mode for mode, _ in seen[table]} - {"ACCESS SHARE"}
        assert asked <= planned[table], (table, seen[table], planned[table])
        assert max(asked, key=locks.lock_mode_rank) == max(planned[table], key=locks.lock_mode_rank)


# ================================================================== HTTP


def test_plan_and_verify_over_http(backend):
    pytest.importorskip("fastapi")
    from agno_alembic.http import create_app
    from tests.test_http import serve

    mm = _mm(backend)
    mm.up(target_version="2.0.0", table_type="sessions", create_missing=True)
    _insert(backend, SESSIONS, [_session("s1", 1, runs=[{"run_id": "r1", "agent_id": "a"}])])
    app = create_app({"db": (backend.url, {"db_schema": backend.schema or ""})}, token="t0ken")
    auth = {"Authorization": "Bearer t0ken"}
    with serve(app) as client:
        planned = client.get("/databases/db/plan", params={"table_type": "sessions"}, headers=auth)
        assert planned.status_code == 200, planned.text
        body = planned.json()
        assert body["exit_code"] == 1 and body["steps"][-1]["revision"] == "agno_sessions_3_0_0"
        assert all("lock" in s for step in body["steps"] for s in step["statements"])
        copy = body["steps"][-1]["statements"]
        assert body["mode"] == "online" and any("batch" in (s["lock"] or {}).get("operation", "") for s in copy)
        offline = client.get("/databases/db/plan", params={"table_type": "sessions", "online": "false"},
                             headers=auth).json()
        assert offline["mode"] == "offline" and offline["steps"][-1]["statements"] != copy
        assert client.get("/databases/db/plan", params={"target_version": "9.9.9"}, headers=auth).status_code == 400
        assert client.get("/databases/nope/plan", headers=auth).status_code == 404
        assert client.get("/databases/db/plan", headers={}).status_code == 401
        verified = client.get("/databases/db/verify", params={"table_type": "sessions"}, headers=auth)
        assert verified.status_code == 200 and verified.json()["ok"], verified.text
        with backend.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP INDEX {_q(backend, 'idx_agno_sessions_created_at')}" if backend.kind != "mysql"
                                 else f"DROP INDEX idx_agno_sessions_created_at ON {_q(backend, SESSIONS)}")
        drifted = client.get("/databases/db/verify", params={"table_type": "sessions"}, headers=auth).json()
        listed = {(d["kind"], d["name"]) for t in drifted["tables"] for d in t["differences"]}
        # MySQL, MariaDB: a table with its first version's columns but not all its indexes is what an interrupted
        # CREATE TABLE step leaves (DDL commits by itself), so the table also reads as not yet created.
        assert listed - {("branch", None)} == {("missing_index", "idx_agno_sessions_created_at")}, listed
        assert (("branch", None) in listed) == (backend.kind == "mysql")
        fixed = client.post("/databases/db/verify", params={"table_type": "sessions"}, headers=auth).json()
        assert fixed["ok"] and [d["kind"] for d in fixed["fixed"]] == ["missing_index"], fixed


def test_attach_serves_plan_and_verify_inside_agentos_once(backend):
    """AgentOS (agno[os] 3.1.10): attach() brings the plan and verify routes along, behind AgentOS's auth; attaching
    again (after a resync) replaces them instead of adding a second set."""
    pytest.importorskip("agno.os")
    from fastapi.testclient import TestClient

    from agno_alembic.http import attach
    from tests.test_agentos import AUTH, agent_os, agno_db

    _mm(backend).up(target_version="2.0.0", table_type="sessions", create_missing=True)
    agentos = agent_os(agno_db(backend))
    app = agentos.get_app()
    attach(agentos, app)
    attach(agentos, app)

    def walk(routes: list[Any]) -> list[tuple[str, str]]:
        out = []
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                out += walk(inner.routes)
            elif getattr(route, "path", "").endswith(("/plan", "/verify")):
                out += [(route.path, m) for m in sorted(route.methods)]
        return out

    assert sorted(walk(app.router.routes)) == [("/databases/{db_id}/plan", "GET"),
                                               ("/databases/{db_id}/verify", "GET"),
                                               ("/databases/{db_id}/verify", "POST")]
    client = TestClient(app)
    assert client.get("/databases/main/plan", params={"table_type": "sessions"}).status_code == 401
    planned = client.get("/databases/main/plan", params={"table_type": "sessions"}, headers=AUTH)
    assert planned.status_code == 200, planned.text
    assert planned.json()["exit_code"] == 1
    verified = client.get("/databases/main/verify", params={"table_type": "sessions"}, headers=AUTH)
    assert verified.status_code == 200 and verified.json()["ok"], verified.text


# ================================================================== databases real Agno releases built


@pytest.mark.parametrize("release", ["2.2.13", "2.4.8", "2.5.5", "2.9.0", "3.1.10"])
def test_verify_and_plan_on_a_database_agno_built(backend, release):
    """Agno ``release`` creates and fills its tables (not adopted yet): verify lists only the missing branch
    records, --fix adopts them and then nothing differs; the plan, read before adoption, is the DDL up() runs."""
    from tests import agno_harness as harness

    harness.seed(release, harness.Target.of(backend))
    engine = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    mm = SyncMigrationManager(engine, db_schema=backend.schema, online=False)  # plan: offline statements
    report = mm.verify()
    assert report.differences and {(d.kind, d.fixable, d.actual) for d in report.differences} == {
        ("branch", True, None)}, "\n".join(map(str, report.differences))
    result = mm.plan(create_missing=True)  # every table, as up(create_missing=True) below
    assert not result.blocked and result.exit_code == (1 if result.steps else 0)
    assert release == "3.1.10" or result.steps
    fixed = mm.verify(fix=True)
    assert fixed.ok, "\n".join(map(str, fixed.differences))
    every = {step.table_name for step in result.steps}
    assert _ddl([x.sql for s in mm.plan(create_missing=True).steps for x in s.statements], every) == _ddl(
        [x.sql for s in result.steps for x in s.statements], every)  # adoption changes nothing that is planned
    own = {SESSIONS, MEMORIES, "agno_runs"}
    planned = _ddl([s.sql for step in result.steps for s in step.statements if step.table_name in own], own)
    ran: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda c, cur, stmt, *a: ran.append(stmt))
    mm.up(create_missing=True)  # the plan counts every table, as up(create_missing=True) does
    assert _ddl(ran, own) == planned
    assert mm.verify().ok and mm.plan().exit_code == 0
    engine.dispose()
