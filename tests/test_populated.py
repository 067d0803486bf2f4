"""Every revision keeps the rows of a populated table, and refuses to destroy data on the way down."""

from __future__ import annotations

import datetime
import json

import pytest
import sqlalchemy as sa

from agno_alembic import commands, plan, registry, shapes
from agno_alembic.errors import DowngradeRefusedError

ROWS = {
    "sessions": [
        {"session_id": "s1", "session_type": "agent", "agent_id": "a", "user_id": "u1",
         "runs": [{"run_id": "r1", "agent_id": "a"}], "created_at": 10, "updated_at": 11},
        {"session_id": "s2", "session_type": "team", "team_id": "t", "runs": None, "created_at": 20},
    ],
    "memories": [
        {"memory_id": "m1", "memory": {"memory": "likes tea"}, "user_id": "u1", "updated_at": 1700000000},
        {"memory_id": "m2", "memory": {"memory": "no date"}, "user_id": "u2", "updated_at": None},
    ],
    "metrics": [
        {"id": "x1", "agent_runs_count": 1, "team_runs_count": 0, "workflow_runs_count": 0,
         "agent_sessions_count": 1, "team_sessions_count": 0, "workflow_sessions_count": 0, "users_count": 1,
         "token_metrics": {}, "model_metrics": {}, "date": datetime.date(2026, 1, 1), "aggregation_period": "daily",
         "created_at": 1, "completed": True},
    ],
    "evals": [{"run_id": "e1", "eval_type": "accuracy", "eval_data": {"a": 1}, "eval_input": {"b": 2},
               "created_at": 5}],
    "knowledge": [{"id": "k1", "name": "doc", "description": "a document", "metadata": {"k": "v"}}],
}


def _table(backend, table_type: str, version: str) -> sa.Table:
    return shapes.spec(table_type, _kind(backend), version, backend.names).sa_table()


def _kind(backend) -> str:
    return {"postgres": registry.POSTGRESQL, "mysql": registry.MYSQL, "sqlite": registry.SQLITE}[backend.kind]


def _upgrade(backend, version: str | None) -> None:
    config = commands.make_config(backend.url, names=backend.names, target_version=version)
    if version is None:
        commands.upgrade(config, ["heads"])
        return
    script = commands.script_directory(config)
    commands.upgrade(config, [r for tt in registry.TABLE_TYPES if (r := plan.revision_at(script, tt, version))])


def _rows(backend, table_type: str, version: str, order_by: str) -> list[dict]:
    t = _table(backend, table_type, version)
    with backend.engine.connect() as c:
        rows = [dict(r._mapping) for r in c.execute(sa.select(t).order_by(t.c[order_by]))]
    for r in rows:  # MariaDB hands JSON back as text
        for k, v in r.items():
            if isinstance(v, str) and v.startswith(("[", "{")):
                r[k] = json.loads(v)
    return rows


def _seed(backend) -> None:
    with backend.engine.begin() as c:
        for table_type, rows in ROWS.items():
            for row in rows:
                c.execute(sa.insert(_table(backend, table_type, "2.0.0")).values(row))


def test_upgrade_keeps_every_row_and_fills_new_columns_as_agno_does(backend):
    _upgrade(backend, "2.0.0")
    _seed(backend)
    _upgrade(backend, None)

    memories = _rows(backend, "memories", "3.0.0", "memory_id")
    assert [m["memory_id"] for m in memories] == ["m1", "m2"]
    assert memories[0]["created_at"] == 1700000000  # COALESCE(updated_at, now)
    assert memories[1]["created_at"] > 1700000000
    assert memories[0]["memory"] == {"memory": "likes tea"}

    metrics = _rows(backend, "metrics", "3.0.0", "id")
    assert [(m["id"], m["user_id"]) for m in metrics] == [("x1", "")]

    evals = _rows(backend, "evals", "3.0.0", "run_id")
    assert [(e["run_id"], e["user_id"], e["eval_data"]) for e in evals] == [("e1", None, {"a": 1})]

    # The legacy runs column holds data, so it stays (as in Agno); its values are intact.
    sessions = _table(backend, "sessions", "2.5.6")
    with backend.engine.connect() as c:
        got = c.execute(sa.select(sessions.c.session_id, sessions.c.runs).order_by("session_id")).all()
    runs = [json.loads(r) if isinstance(r, str) else r for _, r in got]
    assert [s for s, _ in got] == ["s1", "s2"]
    assert runs == [[{"run_id": "r1", "agent_id": "a"}], None]


def test_sessions_runs_column_is_dropped_when_it_holds_nothing(backend):
    _upgrade(backend, "2.5.6")
    with backend.engine.begin() as c:
        c.execute(sa.insert(_table(backend, "sessions", "2.5.6")), [dict(ROWS["sessions"][1])])
    _upgrade(backend, None)
    cols = {c["name"] for c in sa.inspect(backend.engine).get_columns("agno_sessions", schema=backend.schema)}
    assert "runs" not in cols


def test_downgrade_refuses_to_destroy_data_unless_allowed(backend):
    _upgrade(backend, "2.0.0")
    _seed(backend)
    _upgrade(backend, None)
    config = commands.make_config(backend.url, names=backend.names, target_version="2.0.0")
    with pytest.raises(DowngradeRefusedError) as info:
        commands.downgrade_table(config, registry.table_type("memories"), "2.0.0")
    assert info.value.table == "agno_memories"
    assert "created_at" in str(info.value) and info.value.allow_option == "allow_data_loss"
    # Nothing changed: memories still has created_at and its rows.
    assert len(_rows(backend, "memories", "3.0.0", "memory_id")) == 2

    allowed = commands.make_config(backend.url, names=backend.names, target_version="2.0.0", allow_data_loss=True)
    commands.downgrade_table(allowed, registry.table_type("memories"), "2.0.0")
    assert [m["memory_id"] for m in _rows(backend, "memories", "2.0.0", "memory_id")] == ["m1", "m2"]


def test_metrics_downgrade_refuses_while_owned_rows_exist(backend):
    _upgrade(backend, None)
    row = dict(ROWS["metrics"][0], user_id="u1")
    with backend.engine.begin() as c:
        c.execute(sa.insert(_table(backend, "metrics", "3.0.0")), [row])
    config = commands.make_config(backend.url, names=backend.names, target_version="2.5.6")
    with pytest.raises(DowngradeRefusedError, match="user_id"):
        commands.downgrade_table(config, registry.table_type("metrics"), "2.5.6")


def test_unowned_metrics_downgrade_and_upgrade_again_keeps_rows(backend):
    _upgrade(backend, None)
    with backend.engine.begin() as c:
        c.execute(sa.insert(_table(backend, "metrics", "3.0.0")), [dict(ROWS["metrics"][0], user_id="")])
    config = commands.make_config(backend.url, names=backend.names, target_version="2.5.6")
    commands.downgrade_table(config, registry.table_type("metrics"), "2.5.6")
    assert [m["id"] for m in _rows(backend, "metrics", "2.5.6", "id")] == ["x1"]
    _upgrade(backend, None)
    assert [(m["id"], m["user_id"]) for m in _rows(backend, "metrics", "3.0.0", "id")] == [("x1", "")]


def test_legacy_runs_are_copied_and_the_column_dropped_only_on_request(backend):
    from agno_alembic import SyncMigrationManager

    _upgrade(backend, "2.0.0")
    _seed(backend)
    mm = SyncMigrationManager(backend.url, db_schema=backend.schema or "")
    mm.up()
    runs = _rows(backend, "runs", "3.0.0", "run_id")
    assert [(r["run_id"], r["session_id"], r["run_type"], r["user_id"], r["run_index"]) for r in runs] == [
        ("r1", "s1", "agent", "u1", 0)
    ]
    # The legacy column still holds the runs (a backup, as in Agno) until asked to go.
    assert "runs" in {c["name"] for c in sa.inspect(backend.engine).get_columns("agno_sessions", schema=backend.schema)}
    with backend.engine.begin() as c:
        c.execute(sa.delete(_table(backend, "runs", "3.0.0")))
    with pytest.raises(DowngradeRefusedError, match="1 legacy run"):
        mm.cleanup_legacy_runs_column()
    mm.up(force=True)  # re-detects: sessions is at 3.0.0 only while the runs table holds the copies
    assert mm.cleanup_legacy_runs_column() is True
    assert "runs" not in {c["name"] for c in sa.inspect(backend.engine).get_columns(
        "agno_sessions", schema=backend.schema)}
    assert not mm.cleanup_legacy_runs_column()
