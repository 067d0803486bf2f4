"""Benchmark: the batched 3.0.0 runs copy on a Galera cluster, by batch limit (issue 15: batches small enough for
flow control).

Usage (with the project's interpreter; needs root and galera-4, as ``tests/servers/galera.py``)::

    python benchmarks/galera_batches.py [--sessions 5000] [--runs 5] [--run-bytes 4000] [--limits 500 5000]

Starts a 3-node cluster (or takes ``AGNO_ALEMBIC_TEST_GALERA_URLS``), and for each batch limit
(``agno_alembic.data.batched.GALERA_MAX_BATCH``) seeds a database with N sessions x K legacy runs of about
``--run-bytes`` bytes each through node 1, runs ``up()`` through node 1 while an application on node 2 updates a
row every 10 ms, and prints: copy seconds, batches, the largest write set node 1 replicated
(``wsrep_replicated_bytes`` per batch), flow-control pauses the nodes sent and the time the cluster was paused
(``wsrep_flow_control_sent``, ``wsrep_flow_control_paused_ns``), and the application's slowest write on node 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agno_alembic import SyncMigrationManager, registry, shapes
from agno_alembic.data import batched
from agno_alembic.naming import Names


def _status(url: str, names: tuple[str, ...]) -> dict[str, int]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            rows = c.exec_driver_sql("SHOW GLOBAL STATUS WHERE Variable_name IN ("
                                     + ", ".join(f"'{n}'" for n in names) + ")").all()
    finally:
        engine.dispose()
    return {k: int(float(v)) for k, v in rows}


FC = ("wsrep_flow_control_sent", "wsrep_flow_control_recv", "wsrep_flow_control_paused_ns", "wsrep_replicated_bytes")


def one(nodes: list[str], sessions: int, runs: int, run_bytes: int, limit: int) -> dict[str, float]:
    name = f"agno_alembic_bench_galera_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(nodes[0], poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{name}`")
    urls = [sa.make_url(u).set(database=name).render_as_string(hide_password=False) for u in nodes]
    try:
        SyncMigrationManager(urls[0], db_schema=name).up(target_version="2.5.6", table_type=["sessions", "versions"],
                                                          create_missing=True)
        spec = shapes.spec("sessions", registry.MYSQL, "2.5.6", Names(schema=name)).sa_table()
        seed = sa.create_engine(urls[0], poolclass=sa.pool.NullPool)
        pad = "x" * run_bytes
        for start in range(0, sessions, 200):
            with seed.begin() as c:
                c.execute(spec.insert(), [
                    {"session_id": f"s{i:06d}", "session_type": "agent", "user_id": "u", "created_at": 1,
                     "updated_at": 1,
                     "runs": [{"run_id": f"r{i:06d}-{j}", "agent_id": "a", "status": "COMPLETED",
                               "content": pad, "created_at": 10 + j} for j in range(runs)]}
                    for i in range(start, min(sessions, start + 200))])
        with seed.begin() as c:
            c.exec_driver_sql("CREATE TABLE app_heartbeat (id INT PRIMARY KEY, n INT NOT NULL)")
            c.exec_driver_sql("INSERT INTO app_heartbeat VALUES (1, 0)")
        seed.dispose()
        time.sleep(2)
        stop, slowest = threading.Event(), [0.0]

        def application() -> None:
            engine = sa.create_engine(urls[1], poolclass=sa.pool.NullPool)
            with engine.connect() as c:
                while not stop.is_set():
                    began = time.monotonic()
                    c.exec_driver_sql("UPDATE app_heartbeat SET n = n + 1 WHERE id = 1")
                    c.commit()
                    slowest[0] = max(slowest[0], time.monotonic() - began)
                    time.sleep(0.01)
            engine.dispose()

        batches = [0]
        migration = sa.create_engine(urls[0], poolclass=sa.pool.NullPool)

        @sa.event.listens_for(migration, "before_cursor_execute")
        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if batched.PROGRESS_TABLE in statement and statement.lstrip().upper().startswith("UPDATE"):
                batches[0] += 1

        batched.GALERA_MAX_BATCH = limit
        before = {i: _status(u, FC) for i, u in enumerate(urls)}
        app = threading.Thread(target=application, daemon=True)
        app.start()
        began = time.monotonic()
        SyncMigrationManager(migration, db_schema=name).up(table_type=["sessions", "runs"])
        took = time.monotonic() - began
        stop.set()
        app.join()
        migration.dispose()
        after = {i: _status(u, FC) for i, u in enumerate(urls)}
        d = {k: sum(after[i][k] - before[i][k] for i in after) for k in FC}
        replicated = after[0]["wsrep_replicated_bytes"] - before[0]["wsrep_replicated_bytes"]
        return {"limit": limit, "seconds": round(took, 1), "batches": batches[0],
                "bytes_per_batch": replicated // max(1, batches[0]), "fc_sent": d["wsrep_flow_control_sent"],
                "fc_paused_s": round(d["wsrep_flow_control_paused_ns"] / 1e9, 2),
                "app_slowest_write_s": round(slowest[0], 3)}
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--run-bytes", type=int, default=4000)
    parser.add_argument("--limits", type=int, nargs="+", default=[500, 5000])
    args = parser.parse_args()
    given = [u.strip() for u in os.environ.get("AGNO_ALEMBIC_TEST_GALERA_URLS", "").split(",") if u.strip()]
    cluster = None
    if not given:
        from tests.servers import galera as server

        cluster = server.start()
        given = cluster.urls()
    try:
        for limit in args.limits:
            print(one(given, args.sessions, args.runs, args.run_bytes, limit), flush=True)
    finally:
        if cluster is not None:
            server.stop(cluster)
    return 0


if __name__ == "__main__":
    sys.exit(main())
