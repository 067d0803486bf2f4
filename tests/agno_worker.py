"""Runs INSIDE an Agno release's venv (started by ``tests/agno_harness.py``), never in the project venv.

Modes, each writing a JSON report to ``--out``:

* ``seed``: the release's own ``_get_table(<type>, create_table_if_not_found=True)`` creates every table it
  knows (the table types are read from its source, as ``tests/golden/generate.py`` does), then a few rows are
  INSERTed into every table but Agno's versions table.  The rows are built from the ``Table`` objects Agno
  returns (so JSON columns get JSON, dates get dates...), with realistic values for sessions (a legacy ``runs``
  list of run dicts), memories, metrics, evals, knowledge and culture, and filler values elsewhere.  Foreign keys
  point at the parents' seeded rows.
* ``agno-up``: ``asyncio.run(MigrationManager(db).up())`` (``agno.db.migrations.manager``).
* ``validate``: Agno's own checks of existing tables: ``is_valid_table`` and ``_get_table(t)`` for every table
  type, then ``_create_all_tables()``, the call AgentOS makes at startup.
* ``agno-up-tables`` / ``agno-down-tables``: ``MigrationManager(db).up(target_version, table_type=t)`` (or
  ``down``) for each ``--table-type`` in turn, once per ``--db-config`` (a JSON object of extra keyword arguments of
  the Db class, such as ``{"metrics_table": "m_open"}``); each configuration's outcome is reported separately.

Only Agno's public behaviour is exercised; no Agno code is copied.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import inspect
import json
import re
import sys
import traceback
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from generate import table_types  # reads the release's _get_table source, as the golden generator does

BACKENDS = ("sqlite", "postgres", "mysql")
BASE_TS = 1_735_689_600  # 2025-01-01T00:00:00Z
ROWS_PER_TABLE = 2
VERSIONS_TYPE = "versions"  # Agno's bookkeeping table: Agno fills it, the seeding does not


# ------------------------------------------------------------------ the release's Db


def make_db(backend: str, target: str, db_schema: str | None) -> Any:
    if backend == "sqlite":
        from agno.db.sqlite import SqliteDb

        return SqliteDb(db_file=target)
    if backend == "postgres":
        from agno.db.postgres import PostgresDb

        return PostgresDb(db_url=target, db_schema=db_schema)
    if backend == "mysql":
        from agno.db.mysql import MySQLDb

        return MySQLDb(db_url=target, db_schema=db_schema)
    raise ValueError(backend)


# ------------------------------------------------------------------ seeding


def _run(session_id: str, index: int, *, agent_id: str | None, team_id: str | None, user_id: str) -> dict:
    created = BASE_TS + 60 * index
    run = {
        "run_id": f"{session_id}-run-{index}",
        "session_id": session_id,
        "user_id": user_id,
        "agent_id": agent_id,
        "status": "COMPLETED",
        "content": f"answer {index}",
        "content_type": "str",
        "messages": [
            {"role": "user", "content": f"question {index}", "created_at": created},
            {"role": "assistant", "content": f"answer {index}", "created_at": created + 1},
        ],
        "metrics": {"input_tokens": 12, "output_tokens": 34, "total_tokens": 46},
        "created_at": created,
    }
    if team_id:
        run["team_id"] = team_id
    return run


def realistic_rows(table_type: str, with_runs: bool) -> list[dict[str, Any]] | None:
    """Rows for the table types whose content matters; ``None``: filler rows only."""
    if table_type == "sessions":
        rows = []
        for i, (kind, agent_id, team_id) in enumerate((("agent", "agent-1", None), ("team", "agent-1", "team-1"))):
            sid, uid = f"session-{i}", f"user-{i}"
            runs = [_run(sid, k, agent_id=agent_id, team_id=team_id, user_id=uid) for k in range(2)]
            rows.append({
                "session_id": sid, "session_type": kind, "agent_id": agent_id, "team_id": team_id,
                "workflow_id": None, "user_id": uid,
                "session_data": {"session_state": {"turns": 2}, "session_name": f"chat {i}"},
                "agent_data": {"agent_id": agent_id, "name": "Helper", "model": {"id": "gpt-4o", "provider": "OpenAI"}},
                "team_data": {"team_id": team_id, "name": "Crew"} if team_id else None,
                "workflow_data": None,
                "metadata": {"source": "agno-alembic tests"},
                "runs": runs if with_runs else None,
                "summary": {"summary": f"talked about topic {i}", "topics": ["tea"]},
                "created_at": BASE_TS + 3600 * i, "updated_at": BASE_TS + 3600 * i + 120,
            })
        return rows
    if table_type == "memories":
        return [
            {"memory_id": f"memory-{i}", "memory": text, "topics": topics, "user_id": f"user-{i}",
             "agent_id": "agent-1", "team_id": None, "input": f"I said something {i}",
             "feedback": None, "created_at": BASE_TS + i, "updated_at": BASE_TS + 10 + i}
            for i, (text, topics) in enumerate((("User likes green tea", ["preferences", "drinks"]),
                                                ("User lives in Lisbon", ["location"])))
        ]
    if table_type == "metrics":
        # two completed days and the newest day still open, as Agno's metrics job leaves them
        return [
            {"id": f"metrics-{i}", "agent_runs_count": 4 + i, "team_runs_count": i, "workflow_runs_count": 0,
             "agent_sessions_count": 2, "team_sessions_count": 1, "workflow_sessions_count": 0, "users_count": 2,
             "token_metrics": {"input_tokens": 100 * (i + 1), "output_tokens": 50, "total_tokens": 100 * (i + 1) + 50},
             "model_metrics": {"OpenAI:gpt-4o": {"input_tokens": 100 * (i + 1)}},
             "date": datetime.date(2025, 1, 1 + i), "aggregation_period": "daily",
             "created_at": BASE_TS + 86400 * i, "updated_at": BASE_TS + 86400 * i + 60, "completed": i < 2}
            for i in range(3)
        ]
    if table_type == "evals":
        return [
            {"run_id": f"eval-{i}", "eval_type": kind, "name": f"{kind} check",
             "eval_data": {"avg_score": 8.5, "results": [{"score": 8}, {"score": 9}]},
             "eval_input": {"input": "What is 2+2?", "expected_output": "4"},
             "agent_id": "agent-1", "model_id": "gpt-4o", "model_provider": "OpenAI",
             "evaluated_component_name": "Helper", "created_at": BASE_TS + i, "updated_at": BASE_TS + i}
            for i, kind in enumerate(("accuracy", "performance"))
        ]
    if table_type == "knowledge":
        return [
            {"id": f"content-{i}", "name": f"doc-{i}.pdf", "description": f"manual part {i}",
             "metadata": {"author": "ops", "pages": 12 + i}, "type": "pdf", "size": 2048 * (i + 1),
             "linked_to": None, "access_count": i, "status": "completed", "status_message": "",
             "external_id": None, "created_at": BASE_TS + i, "updated_at": BASE_TS + i}
            for i in range(2)
        ]
    if table_type == "culture":
        return [
            {"id": f"culture-{i}", "name": f"principle {i}", "summary": "be concise",
             "content": {"principle": "Answer briefly", "examples": ["short"]}, "metadata": {"origin": "team"},
             "input": "keep answers short", "agent_id": "agent-1", "team_id": None,
             "created_at": BASE_TS + i, "updated_at": BASE_TS + i}
            for i in range(2)
        ]
    return None


def filler(column: sa.Column, table_name: str, i: int) -> Any:
    """A value of the column's type, distinct per row (keys and unique constraints stay satisfied)."""
    t = column.type
    name = column.name
    if isinstance(t, sa.Boolean):
        return i % 2 == 0
    if isinstance(t, (sa.Integer, sa.BigInteger, sa.SmallInteger)):
        if name.endswith(("_at", "_time")) or name in ("created_at", "updated_at"):
            return BASE_TS + i
        return i + 1
    if isinstance(t, (sa.Float, sa.Numeric)):
        return 1.5 + i
    if isinstance(t, sa.DateTime):
        return datetime.datetime(2025, 1, 1 + i, 12, 0, 0)
    if isinstance(t, sa.Date):
        return datetime.date(2025, 1, 1 + i)
    if isinstance(t, sa.JSON):
        return {"field": name, "row": i}
    if isinstance(t, sa.LargeBinary):
        return f"{name}-{i}".encode()
    if isinstance(t, sa.String):
        if name.endswith(("_at", "_time")):
            return f"2025-01-0{1 + i}T12:00:00+00:00"
        value = f"{name}-{i}"
        length = getattr(t, "length", None)
        if length and len(value) > length:
            value = value[: length - 3] + f"-{i}"
        return value
    return f"{name}-{i}"


def build_rows(table: sa.Table, table_type: str, with_runs: bool, seeded: dict[str, list[dict]]) -> list[dict]:
    wanted = realistic_rows(table_type, with_runs)
    count = len(wanted) if wanted else ROWS_PER_TABLE
    rows = []
    for i in range(count):
        base = wanted[i] if wanted else {}
        row = {c.name: base[c.name] if c.name in base else filler(c, table.name, i) for c in table.columns}
        rows.append(row)
    for fk in table.foreign_key_constraints:
        parents = seeded.get(fk.referred_table.name)
        if not parents:
            raise RuntimeError(f"{table.name}: parent {fk.referred_table.name} has no rows")
        for i, row in enumerate(rows):
            parent = parents[i % len(parents)]
            for element in fk.elements:
                row[element.parent.name] = parent[element.column.name]
    return rows


def seed(db: Any, with_runs: bool) -> dict[str, Any]:
    tables: dict[str, sa.Table] = {}
    names: dict[str, str] = {}
    for table_type in table_types(db):
        table = db._get_table(table_type=table_type, create_table_if_not_found=True)
        if table is None:
            raise RuntimeError(f"_get_table({table_type!r}) returned None")
        names[table_type] = table.name
        if table_type != VERSIONS_TYPE:
            tables[table.name] = table
    type_of = {name: tt for tt, name in names.items()}
    seeded: dict[str, list[dict]] = {}
    run_ids: list[str] = []
    with db.db_engine.begin() as conn:
        for table in sa.schema.sort_tables(tables.values()):
            rows = build_rows(table, type_of[table.name], with_runs, seeded)
            conn.execute(sa.insert(table), rows)
            seeded[table.name] = rows
            if type_of[table.name] == "sessions":
                run_ids += [r["run_id"] for row in rows for r in (row.get("runs") or [])]
    return {
        "tables": names,
        "seeded": {name: len(rows) for name, rows in seeded.items()},
        "run_ids": run_ids,
        "sessions_with_runs": sum(1 for row in seeded.get(names.get("sessions", ""), []) if row.get("runs")),
    }


# ------------------------------------------------------------------ Agno's own migration and validation


def agno_up(db: Any) -> dict[str, Any]:
    from agno.db.migrations.manager import MigrationManager

    asyncio.run(MigrationManager(db).up())
    return {}


def make_configured_db(backend: str, target: str, db_schema: str | None, options: dict[str, Any]) -> Any:
    """Like :func:`make_db`, with extra keyword arguments for the Db class (custom table names)."""
    if backend == "sqlite":
        from agno.db.sqlite import SqliteDb

        return SqliteDb(db_file=target, **options)
    if backend == "postgres":
        from agno.db.postgres import PostgresDb

        return PostgresDb(db_url=target, db_schema=db_schema, **options)
    if backend == "mysql":
        from agno.db.mysql import MySQLDb

        return MySQLDb(db_url=target, db_schema=db_schema, **options)
    raise ValueError(backend)


def agno_migrate_tables(
    backend: str, target: str, db_schema: str | None, *, direction: str, table_types: list[str],
    target_version: str | None, configs: list[dict[str, Any]],
) -> dict[str, Any]:
    """``MigrationManager(db).up/down(...)`` per table type, per Db configuration; errors reported, not raised."""
    from agno.db.migrations.manager import MigrationManager

    results = []
    for options in configs:
        entry: dict[str, Any] = {"config": options, "ok": True}
        try:
            db = make_configured_db(backend, target, db_schema, options)
            for table_type in table_types:
                manager = MigrationManager(db)
                if direction == "up":
                    asyncio.run(manager.up(target_version=target_version, table_type=table_type))
                else:
                    asyncio.run(manager.down(target_version=target_version, table_type=table_type))
        except Exception as exc:
            entry = {**entry, "ok": False, "error": _error(exc)}
        results.append(entry)
    return {"results": results}


def _error(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc(limit=-12)}


def _validity_checker(db: Any) -> Any:
    """The release's ``is_valid_table`` for this Db class (the function ``_resolve_table`` calls)."""
    module = importlib.import_module(type(db).__module__)
    return module.is_valid_table


def validate(backend: str, target: str, db_schema: str | None) -> dict[str, Any]:
    db = make_db(backend, target, db_schema)  # one instance: each table is resolved (and validated) once
    is_valid_table = _validity_checker(db)
    checks: dict[str, Any] = {}
    for table_type in table_types(db):
        name = _table_name(db, table_type)
        entry: dict[str, Any] = {"table": name, "exists": bool(name) and db.table_exists(name)}
        if entry["exists"]:
            kwargs = {"db_engine": db.db_engine, "table_name": name, "table_type": table_type}
            if backend != "sqlite":
                kwargs["db_schema"] = db.db_schema
            try:
                entry["is_valid_table"] = bool(is_valid_table(**kwargs))
            except Exception as exc:
                entry["is_valid_table"] = False
                entry["is_valid_table_error"] = _error(exc)
        try:
            table = db._get_table(table_type=table_type, create_table_if_not_found=False)
            entry["get_table"] = None if table is None else table.name
        except Exception as exc:
            entry["get_table_error"] = _error(exc)
        checks[table_type] = entry
    db = make_db(backend, target, db_schema)  # a fresh instance, as at startup
    startup: dict[str, Any] = {"ok": True}
    try:
        db._create_all_tables()
    except Exception as exc:
        startup = {"ok": False, "error": _error(exc)}
    return {"checks": checks, "startup": startup}


def _table_name(db: Any, table_type: str) -> str | None:
    """The configured table name of a type, from the attribute ``_get_table`` itself reads."""
    source = inspect.getsource(type(db)._get_table)
    block = re.search(rf'table_type\s*==\s*"{table_type}"(.*?)(?:\n\s*if table_type|\Z)', source, re.S)
    if block:
        attr = re.search(r"table_name\s*=\s*self\.(\w+)", block.group(1))
        if attr:
            return getattr(db, attr.group(1), None)
    module = sys.modules[type(db)._get_table.__module__]
    for mapping_name in re.findall(r"table_type\s+in\s+([A-Za-z_]\w*)", source):
        mapping = getattr(module, mapping_name, None)
        if isinstance(mapping, dict) and table_type in mapping:
            return getattr(db, mapping[table_type], None)
    return None


# ------------------------------------------------------------------ command line


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="agno_worker.py")
    parser.add_argument("mode", choices=("seed", "agno-up", "validate", "agno-up-tables", "agno-down-tables"))
    parser.add_argument("--backend", required=True, choices=BACKENDS)
    parser.add_argument("--target", required=True, help="sqlite file or database URL")
    parser.add_argument("--db-schema")
    parser.add_argument("--no-runs", action="store_true", help="seed sessions with runs = NULL")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--table-type", action="append", default=[], help="agno-up/down-tables: a table type")
    parser.add_argument("--target-version", help="agno-up/down-tables: the target schema version")
    parser.add_argument("--db-config", action="append", default=[], type=json.loads,
                        help="agno-up/down-tables: a JSON object of Db keyword arguments (repeatable)")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"ok": True}
    try:
        if args.mode == "seed":
            report |= seed(make_db(args.backend, args.target, args.db_schema), not args.no_runs)
        elif args.mode == "agno-up":
            report |= agno_up(make_db(args.backend, args.target, args.db_schema))
        elif args.mode in ("agno-up-tables", "agno-down-tables"):
            report |= agno_migrate_tables(
                args.backend, args.target, args.db_schema, direction=args.mode.split("-")[1],
                table_types=args.table_type, target_version=args.target_version, configs=args.db_config or [{}],
            )
        else:
            report |= validate(args.backend, args.target, args.db_schema)
    except Exception as exc:
        report = {"ok": False, "error": _error(exc)}
    args.out.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
