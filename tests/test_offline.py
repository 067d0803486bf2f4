"""Offline SQL is complete or refused (issue 12, item 4).

For each backend, two databases are brought to the same starting point (same tables, same rows).  On the first,
the ``--sql`` script of a command is generated and applied; on the second, the command runs online.  Then both
must hold the same schema (every table, column, index, key, as reflected), the same ``agno_schema_versions`` rows,
the same Alembic version rows, and the same rows in the tables a step moves data between.  Where a script cannot
be written (data to merge back, columns to drop that hold data), it is refused by the step's name and nothing is
printed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import registry, shapes
from agno_alembic.naming import Names
from tests import forked_cli
from tests.conftest import Backend, make_backend
from tests.golden.reflect import reflect
from tests.test_cli import AGNO_ALEMBIC, ALEMBIC, REPO, _env, alembic_rows, dbargs, execute_script, run, xargs

BACKEND_OF = {"sqlite": registry.SQLITE, "postgres": registry.POSTGRESQL, "mysql": registry.MYSQL}
TS = 1_700_000_000


@pytest.fixture
def pair(backend: Backend, tmp_path: Path) -> Iterator[tuple[Backend, Backend]]:
    """The test's database (the script's) and a second one of the same kind (the online command's)."""
    other = tmp_path / "online"
    other.mkdir()
    with make_backend(backend.kind, other) as online:
        yield backend, online


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """Where the commands run: a folder holding only the small alembic.ini (agno-alembic's verbs ignore it)."""
    (tmp_path / "cwd").mkdir()
    (tmp_path / "cwd" / "alembic.ini").write_text((REPO / "alembic.ini").read_text())
    return tmp_path / "cwd"


def _insert(backend: Backend, table_type: str, version: str, rows: list[dict[str, Any]]) -> None:
    table = shapes.spec(table_type, BACKEND_OF[backend.kind], version, Names(schema=backend.schema)).sa_table()
    with backend.engine.begin() as conn:
        for row in rows:
            conn.execute(table.insert().values(**row))


def _session(session_id: str, runs: Any) -> dict[str, Any]:
    return {"session_id": session_id, "session_type": "agent", "agent_id": "agent-1", "user_id": "user-1",
            "session_data": {"session_name": session_id}, "runs": runs, "created_at": TS, "updated_at": TS + 1}


def _run(run_id: str) -> dict[str, Any]:
    return {"run_id": run_id, "agent_id": "agent-1", "status": "COMPLETED", "content": f"ünï 😀 {run_id}",
            "created_at": TS}


def _rows(backend: Backend, table_type: str, key: str) -> dict[str, dict[str, Any]]:
    name = backend.names.table(table_type)
    with backend.engine.connect() as conn:
        if not sa.inspect(conn).has_table(name, schema=backend.schema):
            return {}
        table = sa.Table(name, sa.MetaData(), schema=backend.schema, autoload_with=conn)
        rows = [dict(r._mapping) for r in conn.execute(sa.select(table))]
    out = {}
    for row in rows:
        row.pop("updated_at", None)  # the copy writes the time it ran
        for k, v in row.items():
            if isinstance(v, str) and v[:1] in ("[", "{"):
                row[k] = json.loads(v)
        out[row[key]] = row
    return out


def _state(backend: Backend) -> dict[str, Any]:
    names = backend.names
    snapshot = reflect(backend.engine, backend.schema, exclude={names.alembic_version_table})
    stamps = {r["table_name"]: r["version"] for r in snapshot.pop("agno_schema_versions") or []}
    return {
        "schema": snapshot["tables"],
        "stamps": stamps,
        "alembic": alembic_rows(backend),
        "runs": _rows(backend, "runs", "run_id"),
        "sessions": _rows(backend, "sessions", "session_id"),
        "memories": _rows(backend, "memories", "memory_id"),
    }


def _assert_same(scripted: Backend, online: Backend) -> dict[str, Any]:
    a, b = _state(scripted), _state(online)
    for key in b:
        assert a[key] == b[key], f"{key}: the applied script left\n{a[key]}\nthe online command\n{b[key]}"
    return a


def _both(pair: tuple[Backend, Backend], cwd: Path, *args: str) -> None:
    for db in pair:
        run(AGNO_ALEMBIC, *xargs(db), *args, cwd=cwd)


# -- scripts that are complete --------------------------------------------------------------------------------


def test_upgrade_heads_from_an_empty_database(pair, cwd):
    scripted, online = pair
    script = run(ALEMBIC, *xargs(scripted), "upgrade", "heads", "--sql", cwd=cwd).stdout
    execute_script(scripted, script)
    run(ALEMBIC, *xargs(online), "upgrade", "heads", cwd=cwd)
    state = _assert_same(scripted, online)
    assert "runs" not in state["schema"][scripted.names.table("sessions")]["columns"]


@pytest.mark.parametrize("with_runs", [True, False], ids=["sessions-hold-runs", "no-runs"])
def test_up_sessions_across_the_runs_copy(pair, cwd, with_runs):
    _both(pair, cwd, "upgrade", "agno_sessions_2_3_0")
    sessions = [_session("s-1", [_run("r-1"), _run("r-2")] if with_runs else []),
                _session("s-2", [_run("r-3")] if with_runs else None), _session("s-3", None)]
    for db in pair:
        _insert(db, "sessions", "2.3.0", sessions)
    scripted, online = pair
    script = run(AGNO_ALEMBIC, "up", *dbargs(scripted), "--sql", "--table-type", "sessions", cwd=cwd).stdout
    execute_script(scripted, script)
    run(AGNO_ALEMBIC, "up", *dbargs(online), "--table-type", "sessions", cwd=cwd)
    state = _assert_same(scripted, online)
    assert set(state["runs"]) == ({"r-1", "r-2", "r-3"} if with_runs else set())
    # Kept while it holds runs (as Agno keeps it), dropped otherwise: the script decided as the online run did.
    assert ("runs" in state["schema"][scripted.names.table("sessions")]["columns"]) is with_runs
    assert state["stamps"][scripted.names.table("sessions")] == registry.LATEST_VERSION


def test_down_sessions_whose_runs_table_is_empty(pair, cwd):
    _both(pair, cwd, "upgrade", "agno_sessions@head")
    for db in pair:
        _insert(db, "sessions", "3.0.0", [{k: v for k, v in _session("s-1", None).items() if k != "runs"}])
    scripted, online = pair
    script = run(AGNO_ALEMBIC, "down", *dbargs(scripted), "--sql", "--to", "2.3.0", "--table-type", "sessions",
                 cwd=cwd).stdout
    execute_script(scripted, script)
    run(AGNO_ALEMBIC, "down", *dbargs(online), "--to", "2.3.0", "--table-type", "sessions", cwd=cwd)
    state = _assert_same(scripted, online)
    assert scripted.names.table("runs") not in state["schema"]
    assert "runs" in state["schema"][scripted.names.table("sessions")]["columns"]


def test_down_memories_with_data_needs_allow_data_loss_and_then_equals_online(pair, cwd):
    _both(pair, cwd, "upgrade", "agno_memories@head")
    for db in pair:
        _insert(db, "memories", "3.0.0", [{"memory_id": "m-1", "memory": {"memory": "likes tea"}, "user_id": "u",
                                           "created_at": TS, "updated_at": TS, "feedback": "good"}])
    scripted, online = pair
    down = ("down", *dbargs(scripted), "--sql", "--to", "2.0.0", "--table-type", "memory")
    refused = run(AGNO_ALEMBIC, *down, cwd=cwd, rc=2)
    assert refused.stdout == ""
    assert "downgrade agno_memories_2_3_0" in refused.stderr and "--allow-data-loss" in refused.stderr
    assert "agno_memories.created_at" in refused.stderr or "agno_memories.feedback" in refused.stderr
    script = run(AGNO_ALEMBIC, *down, "--allow-data-loss", cwd=cwd).stdout
    execute_script(scripted, script)
    run(AGNO_ALEMBIC, "down", *dbargs(online), "--to", "2.0.0", "--table-type", "memory", "--allow-data-loss",
        cwd=cwd)
    state = _assert_same(scripted, online)
    assert set(state["memories"]) == {"m-1"}


# -- scripts that are refused ---------------------------------------------------------------------------------


def test_down_sessions_with_runs_is_refused_by_step(pair, cwd):
    scripted, _ = pair
    run(AGNO_ALEMBIC, *xargs(scripted), "upgrade", "agno_sessions_2_5_6", cwd=cwd)
    _insert(scripted, "sessions", "2.5.6", [_session("s-1", [_run("r-1")])])
    run(AGNO_ALEMBIC, "up", *dbargs(scripted), "--table-type", "sessions", cwd=cwd)
    before = _state(scripted)
    refused = run(AGNO_ALEMBIC, "down", *dbargs(scripted), "--sql", "--to", "2.3.0", "--table-type", "sessions",
                  cwd=cwd, rc=2)
    assert refused.stdout == "" and "Traceback" not in refused.stderr
    assert "downgrade agno_sessions_3_0_0" in refused.stderr, refused.stderr
    assert _state(scripted) == before  # generating changed nothing


def test_plain_alembic_sql_across_a_data_step_is_refused_without_a_partial_script(pair, cwd):
    """``alembic upgrade from:to --sql`` reads no database: the runs copy's outcome is unknown, so it is refused."""
    scripted, _ = pair
    proc = forked_cli.run(ALEMBIC, [*xargs(scripted), "upgrade", "agno_sessions_2_5_6:agno_sessions@head", "--sql"],
                          cwd=cwd, env=_env(), timeout=600)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("FAILED: --sql cannot write upgrade agno_sessions_3_0_0"), lines
    assert "Traceback" not in proc.stderr
