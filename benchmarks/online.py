"""Benchmark online migrations: a live Agno application while its tables go from 2.5.6 to 3.0.0 (issue 13).

Usage (with the project's interpreter)::

    python benchmarks/online.py --backends sqlite postgres mysql --sessions 10000 [--runs 5] [--seed 42]
    python benchmarks/online.py --quick                 # 2,000 sessions

Per backend and size, the Agno 2.5.6 database of ``benchmarks/runs_copy.py`` (``benchmarks/seeding.py``: N sessions
x K runs) is cloned for each contender: ours online (the default), ours offline (``--offline``), Agno 3.1.10's own
``MigrationManager`` (its venv). For each, application threads run throughout, each op its own transaction on its
own connection, as Agno does (SQLite: the default 5 s busy timeout):

* readers and updaters of sessions (``SELECT`` by id; ``UPDATE session_data, updated_at``);
* Agno 2.x replicas: inserting sessions that carry a legacy runs list, appending a run to a session's list;
* an Agno 3.x replica adding runs to the runs table, once it exists.

After ``--warmup`` seconds of traffic (the "before" latencies) the contender's ``up()`` runs as its own process
(``benchmarks/children.py``); traffic stops a moment after it ends; ``up()`` runs again (quiet), and the legacy runs
missing from the runs table are counted with the package's own check (``agno_alembic.data.batched.missing_runs``).
Printed per backend, size and contender: migration seconds, longest application stall (slowest op while ``up()``
ran), p99 op latency before and during, failed application ops, legacy runs missing after the second ``up()``.

Databases: ``agno_alembic_bench_online_*`` (PostgreSQL, MariaDB), files under ``${TMPDIR}/agno-alembic-bench``;
dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import processes, seeding

seeding.use("agno_alembic_bench_online_", seeding.SCRATCH / "online")  # never another benchmark's databases
CONTENDERS = ("online", "offline", "agno")
TARGETS = {"postgres": 0.1, "mysql": 0.1, "sqlite": 0.25}


@dataclass
class Op:
    kind: str
    started: float
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class Traffic:
    """The application: ``threads`` Agno 2.x-style workers and one Agno 3.x runs writer."""

    backend: Any
    role: str
    threads: int
    ops: list[Op] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    workers: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        from agno_alembic import shapes
        from agno_alembic.naming import Names

        kind = {"postgres": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}[self.backend.kind]
        names = Names(schema=self.backend.schema(self.role))
        self.sessions = shapes.spec("sessions", kind, "2.5.6", names).sa_table()
        self.runs = shapes.spec("runs", kind, "3.0.0", names).sa_table()
        engine = self.engine()
        with engine.connect() as c:
            self.ids = list(c.execute(sa.select(self.sessions.c.session_id).limit(5000)).scalars())
        engine.dispose()

    def engine(self) -> sa.Engine:
        kw = {"connect_args": {"timeout": 5}} if self.backend.kind == "sqlite" else {}
        return sa.create_engine(self.backend.url(self.role), poolclass=sa.pool.NullPool, **kw)

    def start(self) -> None:
        for i in range(self.threads):
            self.workers.append(threading.Thread(target=self._v2, args=(i,), daemon=True))
        self.workers.append(threading.Thread(target=self._v3, daemon=True))
        for w in self.workers:
            w.start()

    def finish(self) -> None:
        self.stop.set()
        for w in self.workers:
            w.join(60)

    def _record(self, kind: str, started: float, ok: bool, error: str = "") -> None:
        with self.lock:
            self.ops.append(Op(kind, started, time.monotonic() - started, ok, error))

    def _v2(self, seed: int) -> None:
        rnd = random.Random(seed)
        engine = self.engine()
        s = self.sessions
        try:
            with engine.connect() as c:
                while not self.stop.is_set():
                    roll, sid, started = rnd.random(), rnd.choice(self.ids), time.monotonic()
                    kind = "read" if roll < 0.5 else "update" if roll < 0.7 else "insert" if roll < 0.85 else "append"
                    try:
                        if kind == "read":
                            c.execute(sa.select(s.c.session_id, s.c.session_data).where(s.c.session_id == sid)).all()
                        elif kind == "update":
                            c.execute(s.update().where(s.c.session_id == sid).values(
                                session_data={"state": rnd.random()}, updated_at=int(time.time())))
                        elif kind == "insert":
                            new = f"app-{uuid.uuid4().hex}"
                            c.execute(s.insert().values(
                                session_id=new, session_type="agent", agent_id="bench", user_id="app",
                                created_at=int(time.time()), updated_at=int(time.time()),
                                runs=[{"run_id": f"{new}-{j}", "agent_id": "bench", "status": "COMPLETED",
                                       "created_at": int(time.time())} for j in range(2)]))
                            self.ids.append(new)
                        else:  # an Agno 2.x replica appends a run to the session's legacy list
                            blob = c.execute(sa.select(s.c.runs).where(s.c.session_id == sid)).scalar()
                            legacy = json.loads(blob) if isinstance(blob, str | bytes) else (blob or [])
                            legacy.append({"run_id": f"app-run-{uuid.uuid4().hex}", "agent_id": "bench",
                                           "status": "COMPLETED", "created_at": int(time.time())})
                            c.execute(s.update().where(s.c.session_id == sid).values(
                                runs=legacy, updated_at=int(time.time())))
                        c.commit()
                        self._record(kind, started, True)
                    except sa.exc.DBAPIError as exc:
                        c.rollback()
                        self._record(kind, started, False, str(exc.orig)[:200])
                    time.sleep(0.005)
        finally:
            engine.dispose()

    def _v3(self) -> None:
        """An Agno 3.x replica: writes runs into the runs table once it exists (before: not an op, not a failure)."""
        rnd = random.Random(99)
        engine = self.engine()
        r = self.runs
        exists = False
        try:
            with engine.connect() as c:
                while not self.stop.is_set():
                    if not exists:
                        exists = sa.inspect(c).has_table(r.name, schema=r.schema)
                        c.rollback()
                        if not exists:
                            time.sleep(0.05)
                            continue
                    started = time.monotonic()
                    try:
                        c.execute(r.insert().values(
                            run_id=f"v3-{uuid.uuid4().hex}", session_id=rnd.choice(self.ids[:1000]), run_type="agent",
                            agent_id="bench", run_data={"by": "agno 3.x"}, run_index=0, created_at=int(time.time()),
                            updated_at=int(time.time())))
                        c.commit()
                        self._record("v3-run", started, True)
                    except sa.exc.DBAPIError as exc:
                        c.rollback()
                        self._record("v3-run", started, False, str(exc.orig)[:200])
                    time.sleep(0.01)
        finally:
            engine.dispose()

    def window(self, since: float, until: float) -> list[Op]:
        with self.lock:
            return [o for o in self.ops if since <= o.started < until or since <= o.started + o.seconds < until]


def p99(ops: list[Op], q: float = 0.99) -> float:
    values = sorted(o.seconds for o in ops if o.ok)
    return values[min(len(values) - 1, int(len(values) * q))] if values else 0.0


def over(ops: list[Op], seconds: float) -> int:
    """How many of ``ops`` took longer than ``seconds``: one run's longest stall is the tail of a single op, this
    is the tail's weight."""
    return sum(o.seconds > seconds for o in ops)


def missing_legacy_runs(backend: Any, role: str) -> int:
    from agno_alembic import shapes
    from agno_alembic.data import batched
    from agno_alembic.naming import Names

    kind = {"postgres": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}[backend.kind]
    names = Names(schema=backend.schema(role))
    engine = backend.engine(role)
    try:
        with engine.connect() as c:
            columns = {x["name"] for x in sa.inspect(c).get_columns("agno_sessions", schema=names.schema)}
            if "runs" not in columns:
                return -1  # dropped: nothing left to compare
            if not sa.inspect(c).has_table("agno_runs", schema=names.schema):
                return -2  # the migration never created it
            return len(batched.missing_runs(c, shapes.spec("sessions", kind, "2.5.6", names),
                                            shapes.spec("runs", kind, "3.0.0", names)))
    finally:
        engine.dispose()


def contend(backend: Any, args: argparse.Namespace, contender: str, agno_python: Path) -> dict[str, Any]:
    role = f"{contender}"
    backend.clone("src", role)
    traffic = Traffic(backend, role, args.threads)
    traffic.start()
    time.sleep(args.warmup)
    python = agno_python if contender == "agno" else Path(sys.executable)
    mode = "agno" if contender == "agno" else "ours"
    extra = ["--offline"] if contender == "offline" else []
    began, began_at = time.monotonic(), time.time()
    first = processes.run_child(python, mode, backend, role, f"online-{backend.kind}-{contender}-1", *extra)
    ended = time.monotonic()
    time.sleep(args.cooldown)
    traffic.finish()
    second = processes.run_child(python, mode, backend, role, f"online-{backend.kind}-{contender}-2", *extra)
    before = [o for o in traffic.ops if o.started < began]
    during = traffic.window(began, ended)
    failed = [o for o in traffic.ops if not o.ok]
    result = {
        "contender": contender, "ok": first.ok and second.ok, "up_s": round(first.seconds, 2),
        "second_up_s": round(second.seconds, 2),
        "stall_s": round(max((o.seconds for o in during), default=0.0), 3),
        # the same application's slowest op before up() began: this machine's own noise
        "stall_before_s": round(max((o.seconds for o in before), default=0.0), 3),
        "p99_before_ms": round(p99(before) * 1000, 1), "p99_during_ms": round(p99(during) * 1000, 1),
        "p999_during_ms": round(p99(during, 0.999) * 1000, 1),
        # ops over the stall target (issue 13) before and while up() ran
        "over_target_before": over(before, TARGETS[backend.kind]),
        "over_target_during": over(during, TARGETS[backend.kind]),
        "ops": len(traffic.ops), "ops_during": len(during), "failed_ops": len(failed),
        "failures": sorted({f"{o.kind}: {o.error}" for o in failed})[:3],
        # when up() began (wall clock, seconds since the epoch), to compare the slowest ops with the migration's log
        "began_at": round(began_at, 3),
        # the slowest ops while up() ran: kind, start (seconds after up() began), seconds
        "slowest": [(o.kind, round(o.started - began, 2), round(o.seconds, 3))
                    for o in sorted(during, key=lambda o: -o.seconds)[:5]],
        "legacy_missing": missing_legacy_runs(backend, role),
        "error": None if first.ok else first.report.get("error"),
    }
    if not args.keep:
        backend.drop(role)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="online.py", description=__doc__.split("\n\n")[0])
    seeding.server_arguments(parser, sessions=[10_000])
    parser.add_argument("--quick", action="store_true", help=f"{seeding.QUICK_SESSIONS:,} sessions")
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--threads", type=int, default=4, help="Agno 2.x application threads (plus one 3.x writer)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of traffic before up()")
    parser.add_argument("--cooldown", type=float, default=1.0, help="seconds of traffic after up()")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sizes = [seeding.QUICK_SESSIONS] if args.quick else args.sessions
    agno_python = processes.agno_python()
    results: list[dict[str, Any]] = []
    for name in args.backends:
        backend = seeding.BACKEND_CLASSES[name](args)
        for size in sizes:
            seeding.build(backend, args, size)
            for contender in args.contenders:
                seeding.log(f"{name} {size:,}: {contender} under traffic")
                result = {"backend": name, "sessions": size, **contend(backend, args, contender, agno_python)}
                seeding.log(f"  {json.dumps(result)}")
                results.append(result)
            if not args.keep:
                backend.drop("src")
    header = ("backend", "sessions", "contender", "up s", "2nd up s", "stall s", "stall before s", "p99 before ms",
              "p99 during ms", "failed ops", "legacy missing")
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for r in results:
        target = TARGETS[r["backend"]]
        stall = f"{r['stall_s']}" + (" (over target)" if r["contender"] == "online" and r["stall_s"] > target else "")
        print(f"| {r['backend']} | {r['sessions']:,} | {r['contender']}{'' if r['ok'] else ' (FAILED)'} | "
              f"{r['up_s']} | {r['second_up_s']} | {stall} | {r['stall_before_s']} | {r['p99_before_ms']} | "
              f"{r['p99_during_ms']} | "
              f"{r['failed_ops']} | {r['legacy_missing']} |")
    for r in results:
        if r["failures"] or r["error"]:
            print(f"{r['backend']} {r['contender']}: {r['error'] or ''} {r['failures']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
