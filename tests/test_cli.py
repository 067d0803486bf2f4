"""The command lines, each in a process of its own: ``alembic`` (with the small ``alembic.ini``) and ``agno-alembic``
(forked from a server that has imported them, :mod:`tests.forked_cli`; ``AGNO_ALEMBIC_TEST_SPAWN=1`` starts the
installed scripts instead).

* alembic verbs on every backend: ``heads``, ``upgrade agno_sessions@head``, ``upgrade heads``, ``current``,
  ``check``, ``downgrade agno_memories@-1``, ``history``; a plain ``head`` gets the friendly message;
* ``agno-alembic``'s own verbs on every backend: ``up``, ``down``, ``status`` (table, ``--json``, ``--check``),
  ``adopt``, ``up --sql`` and ``adopt --sql`` (whose scripts are then run), and the exit codes;
* offline SQL: ``alembic upgrade heads --sql`` per dialect against ``tests/expected_sql/<dialect>.sql``
  (timestamps masked), and the script run on each live backend equals Agno's fresh create.

``AGNO_ALEMBIC_UPDATE_EXPECTED=1`` rewrites the expected SQL files (and fails, so the diff gets reviewed).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from agno_alembic import commands, plan, registry
from agno_alembic.naming import Names
from tests import forked_cli
from tests.golden.reflect import diff, load_snapshot, reflect

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ALEMBIC = BIN / "alembic"
AGNO_ALEMBIC = BIN / "agno-alembic"
EXPECTED = Path(__file__).resolve().parent / "expected_sql"
TIMEOUT = 600

#: Offline URLs, one per dialect; nothing connects to them.
OFFLINE_URLS = {
    "postgresql": "postgresql+psycopg://user@host/db",
    "mysql": "mysql+pymysql://root@host/db",
    "singlestore": "singlestoredb://root@host/db",
    "sqlite": "sqlite:///agno.db",
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ALEMBIC_CONFIG",)}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run(tool: Path, *args: str, cwd: Path, rc: int | None = 0, stdin: str | None = None) -> subprocess.CompletedProcess:
    proc = forked_cli.run(tool, args, cwd=cwd, env=_env(), stdin=stdin, timeout=TIMEOUT)
    if rc is not None and proc.returncode != rc:
        pytest.fail(f"{tool.name} {' '.join(args)} exited {proc.returncode}, expected {rc}\n"
                    f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}", pytrace=False)
    return proc


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory holding only the README's small alembic.ini (for the plain ``alembic`` command)."""
    d = tmp_path / "work"
    d.mkdir()
    (d / "alembic.ini").write_text((REPO / "alembic.ini").read_text())
    return d


@pytest.fixture
def emptydir(tmp_path: Path) -> Path:
    """An empty directory: ``agno-alembic`` uses its own environment there."""
    d = tmp_path / "empty"
    d.mkdir()
    return d


def xargs(backend) -> list[str]:
    """``-x`` arguments pointing an alembic verb at the test's database (and schema)."""
    out = ["-x", f"url={backend.url}"]
    out += ["-x", f"schema={backend.schema}"] if backend.schema else []
    return out


def dbargs(backend) -> list[str]:
    """``--db-url`` / ``--schema`` of the facade verbs."""
    return ["--db-url", backend.url, "--schema", backend.schema or "none"]


def tables(backend) -> set[str]:
    with backend.engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names(schema=backend.schema))


def version_rows(backend, names: Names | None = None) -> dict[str, str]:
    names = names or backend.names
    t = sa.table(names.versions_table, sa.column("table_name"), sa.column("version"), schema=names.schema)
    with backend.engine.connect() as conn:
        return {r.table_name: r.version for r in conn.execute(sa.select(t.c.table_name, t.c.version))}


def alembic_rows(backend, version_table: str = "agno_alembic_version") -> set[str]:
    t = sa.table(version_table, sa.column("version_num"), schema=backend.schema)
    with backend.engine.connect() as conn:
        return {r[0] for r in conn.execute(sa.select(t.c.version_num))}


def backend_key(backend) -> str:
    return {"postgres": registry.POSTGRESQL, "mysql": registry.MYSQL, "sqlite": registry.SQLITE}[backend.kind]


def agno_tables(backend, names: Names | None = None) -> set[str]:
    names = names or backend.names
    return {names.table(tt.name) for tt in registry.TABLE_TYPES if tt.on(backend_key(backend))}


def execute_script(backend, script: str) -> None:
    """Run an offline SQL script on the backend, statement by statement (SQLite: as one script)."""
    if backend.kind == "sqlite":
        con = sqlite3.connect(sa.make_url(backend.url).database)
        try:
            con.executescript(script)
        finally:
            con.close()
        return
    statements = [s.strip() for s in re.split(r";\s*\n", script) if s.strip()]
    statements = [s for s in ("\n".join(ln for ln in st.splitlines() if not ln.startswith("--")) for st in statements)
                  if s.strip()]
    raw = backend.engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement in statements:
            cur.execute(statement)
        raw.commit()
    finally:
        raw.close()


# -- the alembic verbs ---------------------------------------------------------------------------------------


def test_alembic_verbs_on_every_backend(backend, workdir):
    x = xargs(backend)
    heads = run(ALEMBIC, *x, "heads", cwd=workdir).stdout.split("\n")
    assert len([h for h in heads if h.strip()]) == len(registry.TABLE_TYPES) + len(registry.VECTOR_TYPES)

    run(ALEMBIC, *x, "upgrade", "agno_sessions@head", cwd=workdir)
    names = backend.names
    # sessions 3.0.0 depends on runs 3.0.0 (runs' foreign key binds to sessions' key), and everything at 2.3.0 on
    # Agno's versions table; nothing else is created.
    assert tables(backend) == {names.table("sessions"), names.table("runs"), names.versions_table,
                               names.alembic_version_table}
    assert "agno_sessions_3_0_0" in run(ALEMBIC, *x, "current", cwd=workdir).stdout

    run(ALEMBIC, *x, "upgrade", "heads", cwd=workdir)
    assert agno_tables(backend) <= tables(backend)
    rows = version_rows(backend)
    assert rows[names.table("sessions")] == registry.LATEST_VERSION
    assert rows[names.table("memories")] == registry.LATEST_VERSION
    assert rows[names.table("culture")] == "2.5.6"
    check = run(ALEMBIC, *x, "check", cwd=workdir)
    assert "No new upgrade operations detected" in check.stdout

    run(ALEMBIC, *x, "downgrade", "agno_memories@-1", cwd=workdir)
    assert version_rows(backend)[names.table("memories")] == "2.0.0"
    with backend.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns(names.table("memories"), schema=backend.schema)}
    assert "created_at" not in columns and "feedback" not in columns
    assert "agno_memories_2_0_0" in run(ALEMBIC, *x, "current", cwd=workdir).stdout
    not_up_to_date = run(ALEMBIC, *x, "check", cwd=workdir, rc=255)
    assert "Target database is not up to date" in not_up_to_date.stdout

    history = run(ALEMBIC, *x, "history", cwd=workdir).stdout
    assert re.search(r"^agno_memories_2_0_0 (\([^)]*\) )?-> agno_memories_2_3_0 ", history, re.MULTILINE), history

    plain = run(ALEMBIC, *x, "upgrade", "head", cwd=workdir, rc=255)
    assert "'heads'" in plain.stdout and "agno_sessions@head" in plain.stdout
    assert "Multiple head revisions" not in plain.stdout


def test_check_reports_a_difference_in_an_agno_table(backend, workdir):
    x = xargs(backend)
    run(ALEMBIC, *x, "upgrade", "heads", cwd=workdir)
    with backend.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {'' if not backend.schema else _q(backend, backend.schema) + '.'}"
                             "app_other (id INTEGER PRIMARY KEY)"))
    assert "No new upgrade operations" in run(ALEMBIC, *x, "check", cwd=workdir).stdout  # not Agno's: ignored
    table = backend.names.table("memories")
    qualified = f"{_q(backend, backend.schema)}.{_q(backend, table)}" if backend.schema else _q(backend, table)
    with backend.engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE {qualified} ADD COLUMN extra_col INTEGER"))
    found = run(ALEMBIC, *x, "check", cwd=workdir, rc=255)
    assert "remove_column" in found.stdout and "extra_col" in found.stdout
    assert run(AGNO_ALEMBIC, *x, "check", cwd=workdir, rc=1).returncode == 1


def _q(backend, name: str) -> str:
    return backend.engine.dialect.identifier_preparer.quote(name)


def test_agno_alembic_runs_alembic_verbs_without_an_ini(sqlite_backend, emptydir):
    x = xargs(sqlite_backend)
    assert not any(emptydir.iterdir())
    run(AGNO_ALEMBIC, *x, "upgrade", "heads", cwd=emptydir)
    assert agno_tables(sqlite_backend) <= tables(sqlite_backend)
    assert "No new upgrade operations" in run(AGNO_ALEMBIC, *x, "check", cwd=emptydir).stdout
    run(AGNO_ALEMBIC, *x, "downgrade", "agno_memories@base", cwd=emptydir)
    assert sqlite_backend.names.table("memories") not in tables(sqlite_backend)
    assert run(AGNO_ALEMBIC, *x, "check", cwd=emptydir, rc=1).returncode == 1
    plain = run(AGNO_ALEMBIC, *x, "upgrade", "head", cwd=emptydir, rc=2)
    assert "FAILED:" in plain.stderr and "'heads'" in plain.stderr
    history = run(AGNO_ALEMBIC, "history", cwd=emptydir).stdout
    assert re.search(r"^agno_memories_2_0_0 (\([^)]*\) )?-> agno_memories_2_3_0 ", history, re.MULTILINE), history
    assert not (emptydir / "agno.db").exists()  # the URL came from -x


def test_table_names_from_x_options(backend, workdir):
    x = [*xargs(backend), "-x", "session_table=my_sessions", "-x", "memory_table=my_memories"]
    run(ALEMBIC, *x, "upgrade", "heads", cwd=workdir)
    names = Names(schema=backend.schema, tables={"sessions": "my_sessions", "memories": "my_memories"})
    found = tables(backend)
    assert {"my_sessions", "my_memories", names.alembic_version_table} <= found
    assert "agno_sessions" not in found and "agno_memories" not in found
    assert names.alembic_version_table.startswith("agno_alembic_version_")
    assert version_rows(backend, names)["my_memories"] == registry.LATEST_VERSION


# -- agno-alembic's own verbs --------------------------------------------------------------------------------


def _status(backend, emptydir, *extra: str, rc: int = 0) -> list[dict]:
    return json.loads(run(AGNO_ALEMBIC, "status", *dbargs(backend), "--json", *extra, cwd=emptydir, rc=rc).stdout)


def test_up_status_down(backend, emptydir):
    db = dbargs(backend)
    run(AGNO_ALEMBIC, "status", *db, "--check", cwd=emptydir, rc=0)  # as up(): missing tables are Agno's to create
    empty = run(AGNO_ALEMBIC, "status", *db, "--check", "--create-missing", cwd=emptydir, rc=1)
    assert empty.stdout.splitlines()[0].split() == ["TABLE", "TYPE", "TABLE", "REVISION", "RECORDED", "DETECTED",
                                                    "PENDING"]
    assert "pending" in empty.stdout

    up = run(AGNO_ALEMBIC, "up", *db, "--to", "2.3.0", "--create-missing", cwd=emptydir)
    assert "memories" in up.stdout and "-> 2.3.0" in up.stdout
    # Progress on stderr, one line per step in a reproducible order (each branch together, dependencies first).
    lines = up.stderr.splitlines()
    assert re.fullmatch(r"\[1\] upgrade -> agno_sessions_2_0_0, sessions 2\.0\.0 \.\.\. \d+\.\d\ds", lines[0]), lines
    assert lines[1].startswith("[2] upgrade -> agno_versions_2_3_0, versions 2.3.0 ..."), lines
    assert re.fullmatch(r"\d+ step\(s\) in \d+\.\ds", lines[-1]), lines
    status = {s["table_type"]: s for s in _status(backend, emptydir)}
    assert status["memories"]["revision"] == "agno_memories_2_3_0"
    assert status["memories"]["recorded_version"] == "2.3.0"
    script = commands.script_directory(commands.make_config())
    sessions = plan.revisions_of(script, registry.table_type("sessions"))
    assert status["sessions"]["pending"] == [r for r, v in sessions if registry.version_index(v) > 1]
    run(AGNO_ALEMBIC, "status", *db, "--check", cwd=emptydir, rc=1)

    run(AGNO_ALEMBIC, "up", *db, "--create-missing", cwd=emptydir)
    after = run(AGNO_ALEMBIC, "status", *db, "--check", "--create-missing", cwd=emptydir, rc=0)
    assert " 0 pending" in after.stdout
    again = run(AGNO_ALEMBIC, "up", *db, cwd=emptydir)
    assert again.stdout.startswith("Nothing to do")

    down = run(AGNO_ALEMBIC, "down", *db, "--to", "2.0.0", "--table-type", "memory", cwd=emptydir)
    assert re.search(r"^memories\s+agno_memories: 3\.0\.0 -> 2\.0\.0$", down.stdout, re.MULTILINE), down.stdout
    assert version_rows(backend)["agno_memories"] == "2.0.0"
    status = {s["table_type"]: s for s in _status(backend, emptydir, "--table-type", "memory,sessions")}
    assert set(status) == {"memories", "sessions"}
    assert status["memories"]["revision"] == "agno_memories_2_0_0" and status["memories"]["pending"]
    assert not status["sessions"]["pending"]


def test_down_refuses_to_destroy_data_with_exit_3(backend, emptydir):
    db = dbargs(backend)
    run(AGNO_ALEMBIC, "up", *db, "--table-type", "memory", "--create-missing", cwd=emptydir)
    memories = sa.table("agno_memories", sa.column("memory_id"), sa.column("memory"), sa.column("feedback"),
                        sa.column("created_at"), schema=backend.schema)
    with backend.engine.begin() as conn:
        conn.execute(memories.insert().values(memory_id="m1", memory='{"m": 1}', feedback="great", created_at=1))
    refused = run(AGNO_ALEMBIC, "down", *db, "--to", "2.0.0", "--table-type", "memory", cwd=emptydir, rc=3)
    assert "FAILED:" in refused.stderr and "feedback" in refused.stderr
    run(AGNO_ALEMBIC, "down", *db, "--to", "2.0.0", "--table-type", "memory", "--allow-data-loss", cwd=emptydir)
    with backend.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(memories)).scalar() == 1


def _forget_records(backend) -> None:
    """Make the database look as Agno left it: tables and agno_schema_versions, no record of ours."""
    with backend.engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {_qualified(backend, 'agno_alembic_version')}"))


def _qualified(backend, table: str) -> str:
    return f"{_q(backend, backend.schema)}.{_q(backend, table)}" if backend.schema else _q(backend, table)


def test_adopt_sql_prints_the_records_and_the_script_adopts(backend, emptydir):
    db = dbargs(backend)
    run(AGNO_ALEMBIC, "up", *db, "--create-missing", cwd=emptydir)
    _forget_records(backend)
    status = run(AGNO_ALEMBIC, "status", *db, cwd=emptydir).stdout
    assert "(not adopted)" in status
    run(AGNO_ALEMBIC, "status", *db, "--check", cwd=emptydir, rc=0)  # adopting would run nothing

    script = run(AGNO_ALEMBIC, "adopt", *db, "--sql", cwd=emptydir).stdout
    assert "INSERT INTO" in script and "agno_sessions_3_0_0" in script
    assert "CREATE TABLE" in script  # our version table, which the database lacks
    execute_script(backend, script)
    adopted = {s["table_type"]: s for s in _status(backend, emptydir)}
    assert all(s["adopted"] and not s["pending"] for s in adopted.values()), adopted
    assert adopted["memories"]["revision"] == "agno_memories_2_3_0"
    assert adopted["sessions"]["revision"] == "agno_sessions_3_0_0"
    assert run(AGNO_ALEMBIC, "adopt", *db, "--sql", cwd=emptydir).stdout.startswith("-- Nothing to adopt")


def test_adopt_records_every_table_where_it_is(backend, emptydir):
    db = dbargs(backend)
    run(AGNO_ALEMBIC, "up", *db, "--create-missing", cwd=emptydir)
    _forget_records(backend)
    out = run(AGNO_ALEMBIC, "adopt", *db, cwd=emptydir).stdout
    assert re.search(r"^memories\s+agno_memories: recorded at agno_memories_2_3_0", out, re.MULTILINE), out
    adopted = {s["table_type"]: s for s in _status(backend, emptydir)}
    wrong = {k: (s["revision"], s["recorded_version"], s["pending"]) for k, s in adopted.items()
             if not s["adopted"] or s["pending"]}
    assert not wrong, f"adopt left tables below where they are: {wrong}"
    assert run(AGNO_ALEMBIC, "adopt", *db, cwd=emptydir).stdout.startswith("Nothing to adopt")


def test_up_sql_prints_what_remains_and_the_script_completes_the_database(backend, emptydir):
    db = dbargs(backend)
    run(AGNO_ALEMBIC, "up", *db, "--to", "2.3.0", "--create-missing", cwd=emptydir)
    script = run(AGNO_ALEMBIC, "up", *db, "--sql", "--create-missing", cwd=emptydir).stdout
    assert "-> agno_sessions_2_5_0" in script and "-> agno_memories_2_0_0" not in script
    assert "agno_memories_2_3_0 ->" not in script  # memories' last revision is 2.3.0: nothing left for it
    before = alembic_rows(backend)
    execute_script(backend, script)
    assert alembic_rows(backend) != before
    run(AGNO_ALEMBIC, "status", *db, "--check", "--create-missing", cwd=emptydir, rc=0)
    assert run(AGNO_ALEMBIC, "up", *db, "--sql", "--create-missing", cwd=emptydir).stdout.startswith(
        "-- Nothing to do")


def test_down_sql_prints_one_table_types_downgrade_and_the_script_runs(backend, emptydir):
    db = dbargs(backend)
    run(AGNO_ALEMBIC, "up", *db, "--create-missing", cwd=emptydir)
    # The memories table holds no row: the columns the downgrade drops hold no data (test_offline_equals_online
    # shows the refusal when they do).
    script = run(AGNO_ALEMBIC, "down", *db, "--sql", "--to", "2.0.0", "--table-type", "memory", cwd=emptydir).stdout
    assert "-- Running downgrade agno_memories_2_3_0 -> agno_memories_2_0_0" in script
    assert "Running downgrade agno_sessions" not in script
    execute_script(backend, script)
    (memories,) = _status(backend, emptydir, "--table-type", "memory")
    assert memories["revision"] == "agno_memories_2_0_0" and memories["recorded_version"] == "2.0.0"
    assert memories["detected_version"] == "2.0.0"
    again = run(AGNO_ALEMBIC, "down", *db, "--sql", "--to", "2.0.0", "--table-type", "memory", cwd=emptydir)
    assert again.stdout.startswith("-- Nothing to do")
    several = run(AGNO_ALEMBIC, "down", *db, "--sql", "--to", "2.0.0", cwd=emptydir, rc=2)
    assert "one table type at a time" in several.stderr


def test_up_sql_refuses_tables_it_has_no_record_of(sqlite_backend, emptydir):
    db = dbargs(sqlite_backend)
    run(AGNO_ALEMBIC, "up", *db, "--to", "2.3.0", "--create-missing", cwd=emptydir)
    _forget_records(sqlite_backend)
    refused = run(AGNO_ALEMBIC, "up", *db, "--sql", cwd=emptydir, rc=2)
    assert "adopt" in refused.stderr and "agno_memories" in refused.stderr


def test_unknown_version_rows_are_named(backend, workdir, emptydir):
    x = xargs(backend)
    run(ALEMBIC, *x, "upgrade", "agno_memories@head", cwd=workdir)
    with backend.engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO {_qualified(backend, 'agno_alembic_version')} (version_num) "
                             "VALUES ('billing_0007'), ('agno_memories_9_9_9')"))
    for tool, rc, stream in ((ALEMBIC, 255, "stdout"), (AGNO_ALEMBIC, 2, "stderr")):
        for verb in (["current"], ["upgrade", "heads"], ["downgrade", "agno_memories@-1"]):
            proc = run(tool, *x, *verb, cwd=workdir, rc=rc)
            out = getattr(proc, stream)
            assert "billing_0007" in out and "agno_memories_9_9_9" in out, out
            assert "Can't locate revision" not in out
            assert "newer agno-alembic" in out and "another Alembic project" in out
    facade = run(AGNO_ALEMBIC, "status", *dbargs(backend), cwd=emptydir, rc=2)
    assert "billing_0007" in facade.stderr and "Can't locate revision" not in facade.stderr


def test_usage_errors_exit_2(sqlite_backend, emptydir):
    db = dbargs(sqlite_backend)
    cases = [
        (["up", *db, "--table-type", "nope"], "Unknown Agno table type 'nope'"),
        (["up", *db, "--to", "9.9.9"], "Unknown Agno schema version"),
        (["down", *db], "down needs --to"),
        (["up", *db, "--table", "session"], "--table takes TYPE=NAME"),
        (["up", "--db-url", "not a url"], "Not a database URL"),
        (["up", "--db-url", "oracle://u@h/db"], "Unsupported database backend"),
        (["-x", "nope=1", "up", *db], "Unknown option 'nope'"),
        (["-x", f"url={sqlite_backend.url}", "-x", "nope=1", "upgrade", "heads"], "Unknown option 'nope'"),
        (["-x", f"url={sqlite_backend.url}", "upgrade", "agno_nothing@head"], ""),
        (["-x", "online=maybe", "up", *db], "-x online='maybe' is not a yes/no value"),
        (["-x", f"url={sqlite_backend.url}", "-x", "allow_rewrite=maybe", "upgrade", "heads"],
         "-x allow_rewrite='maybe' is not a yes/no value"),
        (["no-such-verb"], "invalid choice"),
    ]
    for args, message in cases:
        proc = run(AGNO_ALEMBIC, *args, cwd=emptydir, rc=2)
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)


def test_database_failure_exits_4(emptydir):
    proc = run(AGNO_ALEMBIC, "status", "--db-url", "postgresql+psycopg://nobody@127.0.0.1:9/none", cwd=emptydir,
               rc=4)
    assert proc.stderr.startswith("FAILED: ") and "connection" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr


def test_lock_held_exits_5_and_break_lock(sqlite_backend, emptydir):
    from agno_alembic import lock

    x = xargs(sqlite_backend)
    run(AGNO_ALEMBIC, *x, "upgrade", "agno_memories@head", cwd=emptydir)
    with sqlite_backend.engine.connect() as conn, lock.hold(conn, schema=None, timeout=5):
        held = run(AGNO_ALEMBIC, *x, "-x", "lock_timeout=1", "upgrade", "heads", cwd=emptydir, rc=5)
        assert f"pid {os.getpid()}" in held.stderr, held.stderr
        refused = run(AGNO_ALEMBIC, "break-lock", "--db-url", sqlite_backend.url, cwd=emptydir, rc=5)
        assert f"pid {os.getpid()}" in refused.stderr
    free = run(AGNO_ALEMBIC, "break-lock", "--db-url", sqlite_backend.url, cwd=emptydir)
    assert free.stdout.startswith("Nobody held the migration lock")
    run(AGNO_ALEMBIC, *x, "-x", "lock_timeout=1", "upgrade", "heads", cwd=emptydir)


def test_help_and_version(emptydir):
    out = run(AGNO_ALEMBIC, "--help", cwd=emptydir).stdout
    for verb in ("up", "down", "status", "adopt", "break-lock", "upgrade", "downgrade", "history", "current",
                 "heads", "check", "stamp"):
        assert re.search(rf"^\s+{re.escape(verb)}\s", out, re.MULTILINE), verb
    version = run(AGNO_ALEMBIC, "--version", cwd=emptydir).stdout
    assert version.startswith("agno-alembic ") and "(alembic " in version
    up_help = run(AGNO_ALEMBIC, "up", "--help", cwd=emptydir).stdout
    for option in ("--db-url", "--schema", "--table-type", "--to", "--force", "--sql", "--table"):
        assert option in up_help, option


# -- offline SQL -----------------------------------------------------------------------------------------------


def normalise_sql(text: str) -> str:
    """Mask what changes from run to run: stamp times and the epoch a NOT NULL backfill falls back to."""
    text = re.sub(r"'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?'", "'<now>'", text)
    text = re.sub(r"\b1[6-9]\d{8}\b", "<epoch>", text)
    return text


@pytest.mark.parametrize("dialect", sorted(OFFLINE_URLS))
def test_offline_sql_equals_the_expected_file(dialect, workdir):
    proc = run(ALEMBIC, "-x", f"url={OFFLINE_URLS[dialect]}", "upgrade", "heads", "--sql", cwd=workdir)
    actual = normalise_sql(proc.stdout)
    path = EXPECTED / f"{dialect}.sql"
    if os.environ.get("AGNO_ALEMBIC_UPDATE_EXPECTED"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual)
        pytest.fail(f"rewrote {path.relative_to(REPO)}: review the diff, then run without AGNO_ALEMBIC_UPDATE_EXPECTED")
    expected = path.read_text()
    if actual != expected:
        delta = "".join(list(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                                  str(path.name), "alembic upgrade heads --sql"))[:120])
        pytest.fail(f"offline SQL for {dialect} differs from {path.relative_to(REPO)}:\n{delta}", pytrace=False)
    # Reviewable: the DDL and the stamp writes are all there.
    assert "CREATE TABLE" in actual and "agno_schema_versions" in actual
    assert len(re.findall(r"INSERT INTO [^\n]*agno_schema_versions", actual)) >= len(
        [tt for tt in registry.TABLE_TYPES if tt.on(dialect)]) - 1


@pytest.mark.parametrize("dialect", sorted(OFFLINE_URLS))
def test_agno_alembic_prints_the_same_offline_sql(dialect, emptydir, workdir):
    via_alembic = run(ALEMBIC, "-x", f"url={OFFLINE_URLS[dialect]}", "upgrade", "heads", "--sql", cwd=workdir)
    via_ours = run(AGNO_ALEMBIC, "-x", f"url={OFFLINE_URLS[dialect]}", "upgrade", "heads", "--sql", cwd=emptydir)
    assert normalise_sql(via_ours.stdout) == normalise_sql(via_alembic.stdout)
    assert via_ours.stderr == ""  # no progress lines in --sql mode


def test_offline_sql_run_on_the_backend_equals_agno_fresh_create(backend, workdir):
    proc = run(ALEMBIC, *xargs(backend), "upgrade", "heads", "--sql", cwd=workdir)
    execute_script(backend, proc.stdout)
    actual = reflect(backend.engine, backend.schema, exclude={backend.names.alembic_version_table})
    actual["agno_schema_versions"] = [r for r in actual["agno_schema_versions"] if r["table_name"] != "agno_culture"]
    problems = diff(load_snapshot(registry.LATEST_VERSION, backend.snapshot_backend), actual,
                    ignore_tables={"agno_culture"})
    # The script created agno_sessions, so it knows sessions.runs holds nothing and drops it, as an online run does.
    assert problems == []
    # And the version table records every head, as an online upgrade does.
    with backend.engine.connect() as conn:
        online = sa.inspect(conn).get_table_names(schema=backend.schema)
    assert backend.names.alembic_version_table in online
    assert {"agno_sessions_3_0_0", "agno_memories_2_3_0"} <= alembic_rows(backend)


# -- the plain alembic command line (issue 12, item 3) -----------------------------------------------------------


@pytest.mark.parametrize("tool", ["alembic", "agno-alembic"])
def test_relative_targets_across_many_heads_are_refused(backend, workdir, tool):
    x = xargs(backend)
    exe = ALEMBIC if tool == "alembic" else AGNO_ALEMBIC
    run(exe, *x, "upgrade", "agno_memories@head", cwd=workdir)
    before = alembic_rows(backend)
    # Alembic reports its CommandError itself (exit 255); agno-alembic's exit code for it is 2 (usage).
    rc = 255 if tool == "alembic" else 2
    for verb, step in (("downgrade", "-1"), ("upgrade", "+1"), ("downgrade", "-2")):
        proc = run(exe, *x, verb, step, cwd=workdir, rc=rc)
        out = proc.stdout + proc.stderr
        assert f"'{step}' is ambiguous" in out and f"agno_sessions@{step}" in out, out
        assert "Traceback" not in out and "UserWarning" not in out
        assert alembic_rows(backend) == before, (verb, step)
    # A labelled relative step is what works.
    run(exe, *x, "downgrade", "agno_memories@-1", cwd=workdir)
    assert "agno_memories_2_0_0" in alembic_rows(backend)


def test_plain_alembic_prints_its_progress_lines(sqlite_backend, workdir):
    x = xargs(sqlite_backend)
    up = run(ALEMBIC, *x, "upgrade", "agno_memories@head", cwd=workdir)
    assert "Running upgrade  -> agno_memories_2_0_0" in up.stderr, up.stderr
    assert "Running upgrade agno_memories_2_0_0 -> agno_memories_2_3_0" in up.stderr
    down = run(ALEMBIC, *x, "downgrade", "agno_memories@-1", cwd=workdir)
    assert "Running downgrade agno_memories_2_3_0 -> agno_memories_2_0_0" in down.stderr, down.stderr
    # agno-alembic prints its own progress instead, once per step (no logging lines on top).
    ours = run(AGNO_ALEMBIC, *x, "upgrade", "agno_memories@head", cwd=workdir)
    assert "[1] upgrade agno_memories_2_0_0 -> agno_memories_2_3_0" in ours.stderr, ours.stderr
    assert "INFO  [alembic" not in ours.stderr


def _failures() -> list[tuple[str, int, str]]:
    return [
        ("postgresql+psycopg://nobody@127.0.0.1:9/none", 4, "connection"),
        ("mysql+pymysql://root:wrong-password@127.0.0.1:3306/mysql", 4, "access denied"),
        ("mysql://root@127.0.0.1:3306/mysql", 2, "use mysql+pymysql:// or install the driver"),
        ("not a url", 2, "not a database url"),
        ("oracle://u@h/db", 2, "unsupported database backend"),
    ]


@pytest.mark.parametrize("url,rc,message", _failures())
def test_plain_alembic_failures_are_one_line_with_agno_alembic_exit_codes(workdir, url, rc, message):
    import importlib.util

    if "mysql://" in url and importlib.util.find_spec("MySQLdb") is not None:
        pytest.skip("mysqlclient is installed here: mysql:// has its driver")
    plain = run(ALEMBIC, "-x", f"url={url}", "upgrade", "heads", cwd=workdir, rc=rc)
    ours = run(AGNO_ALEMBIC, "-x", f"url={url}", "upgrade", "heads", cwd=workdir, rc=rc)
    failed = [ln for ln in plain.stdout.splitlines() if ln.startswith("FAILED: ")]
    assert len(failed) == 1 and message in failed[0].lower(), plain.stdout
    assert "Traceback" not in plain.stdout + plain.stderr, plain.stderr
    assert "FAILED: " in ours.stderr and "Traceback" not in ours.stderr
    assert failed[0] == ours.stderr.strip().splitlines()[-1]  # the same message, word for word


def test_alembic_current_lists_branches_by_label(sqlite_backend, workdir):
    x = xargs(sqlite_backend)
    run(ALEMBIC, *x, "upgrade", "heads", cwd=workdir)
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**_env(), "PYTHONHASHSEED": seed}
        proc = subprocess.run([str(ALEMBIC), *x, "current"], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, check=True)
        outputs.add(proc.stdout)
    assert len(outputs) == 1  # the same order whatever the hash seed
    lines = [ln.split()[0] for ln in outputs.pop().splitlines() if ln.strip()]
    heads = commands.script_directory(commands.make_config()).get_heads()
    assert len(lines) == len(heads)  # every branch is recorded, those of other backends too
    labels = [re.sub(r"_\d+_\d+_\d+$", "", rev) for rev in lines]
    assert labels == sorted(labels)


# -- small things (issue 12, item 6) -----------------------------------------------------------------------------


def test_status_has_a_legend_and_explains_recorded_below_detected(sqlite_backend, emptydir):
    db = dbargs(sqlite_backend)
    run(AGNO_ALEMBIC, "up", *db, "--to", "2.3.0", "--table-type", "memory", "--create-missing", cwd=emptydir)
    out = run(AGNO_ALEMBIC, "status", *db, "--table-type", "memory", "--check", cwd=emptydir).stdout
    memories = next(ln.split() for ln in out.splitlines() if ln.startswith("memories"))
    assert memories[3:] == ["2.3.0", "3.0.0", "-"], out  # recorded 2.3.0, shape of 2.3.0..3.0.0, nothing pending
    for term in ("RECORDED", "DETECTED", "PENDING"):
        assert re.search(rf"^{term}  ", out, re.MULTILINE), (term, out)
    assert "memories at 2.3.0 has 3.0.0's shape" in out
    as_json = run(AGNO_ALEMBIC, "status", *db, "--json", cwd=emptydir).stdout
    assert json.loads(as_json)  # the legend is for people: JSON stays JSON


def test_import_v1_is_in_the_top_level_help(emptydir):
    out = run(AGNO_ALEMBIC, "--help", cwd=emptydir).stdout
    assert re.search(r"^\s+import-v1\s", out, re.MULTILINE), out
    description = out[out.index("Alembic migrations"):out.index("Exit codes")]
    assert "import-v1" in description, description  # the description names it with the other verbs
