"""The timed processes of ``benchmarks/runs_copy.py``, one mode per process, stdlib-only at import.

Each mode runs in its own process so its peak RSS is its own: ``ours`` and ``baseline`` in the project venv,
``agno`` in the Agno 3.1.10 venv (``tests/golden/generate.py``'s ``ensure_venv``).  A mode writes a JSON report
to ``--out``: the seconds of its work (``work_s``), ``VmHWM`` at exit, and what it did.

* ``ours``: ``SyncMigrationManager(url, db_schema=...).up(table_type=...)`` (``--table-type all``: every table);
* ``agno``: ``asyncio.run(MigrationManager(db).up(table_type=...))`` with ``PostgresDb``/``MySQLDb``/``SqliteDb``;
* ``baseline``: the runs table is created through our facade (untimed), then ONE ``INSERT INTO runs SELECT ...``
  (our dialect statement from ``agno_alembic.data.runs`` over every session at once) is timed with its commit;
  ``--toast lz4`` runs it with ``SET default_toast_compression = lz4`` on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def vm_hwm_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _table_type(value: str) -> str | None:
    return None if value == "all" else value


def ours(args: argparse.Namespace) -> dict:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    from agno_alembic import SyncMigrationManager

    started = time.perf_counter()
    # create_missing: "--table-type all" sets up (then no-ops on) every table, as before up() left that to Agno
    changes = SyncMigrationManager(args.url, db_schema=args.schema, online=not args.offline).up(
        table_type=_table_type(args.table_type), create_missing=True)
    return {"work_s": time.perf_counter() - started, "changes": [repr(c) for c in changes]}


def agno(args: argparse.Namespace) -> dict:
    import asyncio

    from agno.db.migrations.manager import MigrationManager

    if args.backend == "sqlite":
        from agno.db.sqlite import SqliteDb

        db = SqliteDb(db_file=args.url)
    elif args.backend == "postgres":
        from agno.db.postgres import PostgresDb

        db = PostgresDb(db_url=args.url, db_schema=args.schema)
    else:
        from agno.db.mysql import MySQLDb

        db = MySQLDb(db_url=args.url, db_schema=args.schema)
    started = time.perf_counter()
    asyncio.run(MigrationManager(db).up(table_type=_table_type(args.table_type)))
    return {"work_s": time.perf_counter() - started}


def baseline(args: argparse.Namespace) -> dict:
    import sqlalchemy as sa

    from agno_alembic import SyncMigrationManager, registry, shapes
    from agno_alembic.data import runs as runs_data
    from agno_alembic.naming import Names

    backend = {"postgres": registry.POSTGRESQL, "mysql": registry.MYSQL, "sqlite": registry.SQLITE}[args.backend]
    # Untimed setup: the runs table as our upgrade creates it (every index and the foreign key in place).
    SyncMigrationManager(args.url, db_schema=args.schema).up(table_type="runs", create_missing=True)
    names = Names(schema=args.schema)
    sessions = shapes.spec("sessions", backend, "2.5.6", names)
    runs = shapes.spec("runs", backend, registry.LATEST_VERSION, names)
    engine = sa.create_engine(args.url, poolclass=sa.pool.NullPool)
    try:
        statement = sa.text(runs_data._STATEMENTS[backend](runs_data._Names(engine.dialect, sessions, runs)))
        with engine.connect() as conn:
            s = sa.table(sessions.name, sa.column("session_id"), schema=sessions.schema)
            upto = conn.execute(sa.select(sa.func.max(s.c.session_id))).scalar_one()
        with engine.begin() as conn:
            if args.toast:
                conn.exec_driver_sql(f"SET default_toast_compression = {args.toast}")
            started = time.perf_counter()
            inserted = conn.execute(statement, {"now": int(time.time()), "after": "", "upto": upto}).rowcount
        # leaving the block committed; the commit is part of the timed work
        return {"work_s": time.perf_counter() - started, "inserted": inserted}
    finally:
        engine.dispose()


MODES = {"ours": ours, "agno": agno, "baseline": baseline}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="children.py")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--backend", required=True, choices=("sqlite", "postgres", "mysql"))
    parser.add_argument("--url", required=True, help="SQLAlchemy URL (agno on SQLite: the file path)")
    parser.add_argument("--schema")
    parser.add_argument("--table-type", default="sessions", help="'all' for every table")
    parser.add_argument("--toast", help="baseline on PostgreSQL: default_toast_compression for the session")
    parser.add_argument("--offline", action="store_true", help="ours: offline mode (default: online)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    report = {"ok": True}
    try:
        report |= MODES[args.mode](args)
    except BaseException as exc:  # reported, not raised: the parent prints it
        import traceback

        report = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    report["vm_hwm_kb"] = vm_hwm_kb()
    args.out.write_text(json.dumps(report), encoding="utf-8")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
