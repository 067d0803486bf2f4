"""Measure what each step costs per row, and check ``plan``'s time ranges against the measured times (issue 16).

Usage (with the project's interpreter)::

    python benchmarks/plan_rates.py --backends sqlite postgres mysql --sessions 10000 --memories 10000 [--reuse]

Per backend:

1. A 10,000-session 2.5.6 database built as ``benchmarks/runs_copy.py`` builds its own (5 runs of ~3 KB per
   session; reused with ``--reuse``), cloned; a memories table at 2.0.0 with ``--memories`` rows added to the clone (the
   2.3.0 memories step rewrites the table: a NOT NULL ``created_at`` filled from ``updated_at``, JSON to JSONB on
   PostgreSQL, a rebuild on SQLite).
2. ``SyncMigrationManager.plan()`` for sessions and memories, with the table statistics refreshed first (ANALYZE).
3. Each planned step run on its own (``up(target_version=<step's version>, table_type=<step's table>)``), timed
   as a whole call (the facade's own reads included), in the plan's order.
4. A line per step: rows, the planned range, the measured seconds, whether the range holds it, and the per-row
   rate it implies (``(seconds - fixed) / rows``): the figures kept in ``agno_alembic/dialects/rates.py``.

Exit 1 when a measured time falls outside its planned range.  Databases: ``agno_alembic_bench_*`` (PostgreSQL,
MariaDB) and files under ``${TMPDIR:-/tmp}/agno-alembic-bench/plan_rates``; the clone is dropped unless ``--keep``
(the source stays for ``--reuse``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agno_alembic import SyncMigrationManager, dialects, registry, shapes
from agno_alembic.dialects import rates
from agno_alembic.naming import Names
from benchmarks import seeding
from benchmarks.processes import wait_quiet

ROLE = "plan"


def _memories(backend: seeding.Backend, count: int, seed: int) -> None:
    """A 2.0.0 memories table with ``count`` rows in the clone."""
    mm = SyncMigrationManager(backend.url(ROLE), db_schema=backend.schema(ROLE))
    mm.up(target_version="2.0.0", table_type="memories")
    rng = random.Random(seed)
    engine = backend.engine(ROLE)
    try:
        with engine.begin() as conn:
            backend_key = dialects.backend_of(conn.dialect)
            t = shapes.spec("memories", backend_key, "2.0.0", Names(schema=backend.schema(ROLE))).sa_table()
            rows = [{"memory_id": f"mem-{i:07}", "memory": {"memory": f"likes {rng.random():.6f}"},
                     "input": "x" * rng.randint(20, 200), "user_id": f"user-{i % 100}", "topics": ["a"],
                     "updated_at": 1_735_689_600 + i} for i in range(count)]
            for start in range(0, count, 1000):
                conn.execute(t.insert(), rows[start:start + 1000])
    finally:
        engine.dispose()


def _analyze(backend: seeding.Backend) -> None:
    engine = backend.engine(ROLE)
    schema = backend.schema(ROLE)
    try:
        with engine.begin() as conn:
            for table in ("agno_sessions", "agno_memories"):
                if backend.kind == "postgres":
                    conn.exec_driver_sql(f'ANALYZE "{schema}".{table}')
                elif backend.kind == "mysql":
                    conn.exec_driver_sql(f"ANALYZE TABLE `{schema}`.{table}")
            if backend.kind == "sqlite":
                conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def measure(backend: seeding.Backend, args: argparse.Namespace) -> list[dict[str, Any]]:
    seeding.build(backend, args, args.sessions)
    backend.drop(ROLE)
    backend.clone("src", ROLE)
    _memories(backend, args.memories, args.seed)
    _analyze(backend)
    mm = SyncMigrationManager(backend.url(ROLE), db_schema=backend.schema(ROLE))
    planned = mm.plan(table_type=["sessions", "memories"])
    out = []
    for step in planned.steps:
        wait_quiet(args.quiet_wait)
        started = time.perf_counter()
        mm.up(target_version=step.to_version, table_type=step.table_type)
        seconds = time.perf_counter() - started
        low, high = step.seconds
        fixed = rates.estimate(planned.backend, step.table_type, step.to_version, 0, step.statements)
        out.append({
            "backend": backend.kind, "step": step.revision, "rows": step.rows, "rows_written": step.rows_written,
            "planned": [low, high], "seconds": round(seconds, 3), "within": low <= seconds <= high,
            "per_row": round((seconds - fixed) / step.rows, 9) if step.rows else None,
            "locks": sorted({s.lock.lock for s in step.statements if s.lock is not None}),
        })
        row = out[-1]
        seeding.log(f"{backend.kind:8} {step.revision:28} rows {step.rows or 0:>7}  planned {low:8.2f}-{high:8.2f}s"
                      f"  took {seconds:8.2f}s  {'ok' if row['within'] else 'OUTSIDE'}  per row {row['per_row']}")
    if not args.keep:
        backend.drop(ROLE)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="plan_rates.py", description=__doc__.split("\n\n")[0])
    seeding.server_arguments(parser, sessions=10_000)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--quiet-wait", type=float, default=30.0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    # Databases and files of their own, apart from a runs_copy.py run going on at the same time.
    seeding.use("agno_alembic_bench_plan_", seeding.SCRATCH / "plan_rates")
    results = []
    for name in args.backends:
        backend = seeding.BACKEND_CLASSES[name](args)
        results += measure(backend, args)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "latest": registry.LATEST_VERSION}, indent=1))
    outside = [r for r in results if not r["within"]]
    seeding.log(f"{len(results)} step(s) timed, {len(outside)} outside their planned range")
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
