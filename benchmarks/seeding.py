"""The benchmarks' shared ground: the seeded Agno 2.5.6 database (N sessions x K runs of ~3 KB), the backends
that build, clone and drop it, and where their files and databases go.

``benchmarks/runs_copy.py``, ``benchmarks/online.py`` and ``benchmarks/plan_rates.py`` build the same source
database with :func:`build` (same seed, same data; ``--reuse`` keeps it between runs of one benchmark), each under
its own database prefix and scratch folder (:func:`use`), so two benchmarks never touch each other's databases.
Table names, the schema and the sessions columns come from the package (its registry and shapes).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from agno_alembic import registry, shapes
from agno_alembic.naming import AGNO_DEFAULT_SCHEMA, Names

SCRATCH = Path(tempfile.gettempdir()) / "agno-alembic-bench"
DB_PREFIX = "agno_alembic_bench_"
PG_SCHEMA = AGNO_DEFAULT_SCHEMA
SESSIONS_TABLE = registry.table_type("sessions").default_table
RUNS_TABLE = registry.table_type("runs").default_table
QUICK_SESSIONS = 2000
GENERATOR_VERSION = 1  # bump when the generated data changes (invalidates --reuse)
BACKENDS = ("sqlite", "postgres", "mysql")


def use(prefix: str, scratch: Path) -> None:
    """Put this benchmark's databases under ``prefix`` (``agno_alembic_bench_<name>_``) and its files in ``scratch``."""
    global DB_PREFIX, SCRATCH
    if not prefix.startswith("agno_alembic_bench_"):
        raise ValueError(f"a benchmark's databases are named agno_alembic_bench_*, not {prefix!r}")
    DB_PREFIX, SCRATCH = prefix, scratch


def server_arguments(parser: argparse.ArgumentParser, *, sessions: int | list[int] | None = None) -> None:
    """The arguments every benchmark takes: backends, data size and seed, reuse/keep, server URLs."""
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    if isinstance(sessions, list):
        parser.add_argument("--sessions", nargs="+", type=int, default=sessions)
    elif sessions is not None:
        parser.add_argument("--sessions", type=int, default=sessions)
    parser.add_argument("--runs", type=int, default=5, help="runs per session")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse", action="store_true", help="reuse the kept source database when it holds the "
                                                             "same data")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--pg-url", default=os.environ.get("AGNO_ALEMBIC_BENCH_PG_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432"))
    parser.add_argument("--mysql-url", default=os.environ.get("AGNO_ALEMBIC_BENCH_MYSQL_URL",
                                                              "mysql+pymysql://root@127.0.0.1:3306"))


def log(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


# ====================================================================== data


SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


class Generator:
    """Seeded Agno-like sessions: about 100 users, agent/team/workflow sessions, ~3 KB run dicts."""

    AGENTS = tuple(f"agent-{n}" for n in ("support", "research", "sales", "coder", "writer", "analyst", "ops", "hr"))
    TEAMS = ("team-helpdesk", "team-research", "team-content")
    WORKFLOWS = ("workflow-onboarding", "workflow-report")
    TOOLS = ("search_web", "get_weather", "query_database", "read_file", "send_email", "lookup_order")

    def __init__(self, seed: int, users: int = 100) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        words = sorted({"".join(rng.choices(SYLLABLES, k=rng.choice((1, 2, 2, 3, 3, 4)))) for _ in range(4000)})
        rng.shuffle(words)
        words = words[:3000]
        # Zipf-like frequencies (so the JSON compresses about like real transcripts), with punctuation variants
        vocab, weights = [], []
        for rank, w in enumerate(words):
            base = 1.0 / (rank + 20)
            vocab += [w, w + ",", w + ".", w.capitalize()]
            weights += [base * 0.82, base * 0.05, base * 0.08, base * 0.05]
        self.words = words
        self.vocab = vocab
        self.cum = list(_accumulate(weights))
        self.users = [f"user-{i:03d}@example.com" for i in range(users)]
        self.prompts = {a: self.text(18, 30) for a in self.AGENTS + self.TEAMS + self.WORKFLOWS}
        self.clock = 1_735_689_600  # 2025-01-01

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def text(self, low: int, high: int) -> str:
        words = self.rng.choices(self.vocab, cum_weights=self.cum, k=self.rng.randint(low, high))
        return " ".join(words).capitalize().rstrip(",.") + "."

    def _metrics(self) -> dict[str, Any]:
        rng = self.rng
        i, o = rng.randint(200, 4000), rng.randint(50, 900)
        return {
            "input_tokens": i, "output_tokens": o, "total_tokens": i + o, "audio_input_tokens": 0,
            "audio_output_tokens": 0, "cache_read_tokens": rng.choice((0, 0, 128, 256)), "cache_write_tokens": 0,
            "reasoning_tokens": 0, "time_to_first_token": round(rng.uniform(0.2, 1.5), 6),
            "duration": round(rng.uniform(0.8, 20.0), 6),
        }

    def _message(self, role: str, content: str | None, created: int, **extra: Any) -> dict[str, Any]:
        message = {"id": self.uid(), "role": role, "content": content, "from_history": False,
                   "stop_after_tool_call": False, "created_at": created}
        message.update(extra)
        return message

    def run(self, session: dict[str, Any], index: int, parent: str | None, kind: str) -> dict[str, Any]:
        rng = self.rng
        created = session["created_at"] + 90 * index + rng.randint(0, 60)
        owner = session["agent_id"] if kind == "agent" else session["team_id"] or session["workflow_id"]
        question, answer = self.text(8, 22), self.text(20, 50)
        messages = [self._message("system", self.prompts.get(owner) or self.prompts[self.AGENTS[0]], created),
                    self._message("user", question, created)]
        tools = []
        if rng.random() < 0.6:
            call_id = f"call_{self.uid().replace('-', '')[:24]}"
            name = rng.choice(self.TOOLS)
            args = {"query": self.text(3, 8), "limit": rng.randint(1, 20)}
            messages.append(self._message(
                "assistant", None, created + 1, metrics=self._metrics(),
                tool_calls=[{"id": call_id, "type": "function",
                             "function": {"name": name, "arguments": json.dumps(args)}}]))
            result = self.text(15, 45)
            messages.append(self._message("tool", result, created + 2, tool_call_id=call_id, tool_name=name,
                                          tool_args=args, tool_call_error=False))
            tools.append({"tool_call_id": call_id, "tool_name": name, "tool_args": args, "tool_call_error": False,
                          "result": result, "created_at": created + 2,
                          "metrics": {"duration": round(rng.uniform(0.01, 2.0), 6)}})
        messages.append(self._message("assistant", answer, created + 3, metrics=self._metrics()))
        run: dict[str, Any] = {
            "run_id": self.uid(),
            "session_id": session["session_id"],
            "user_id": session["user_id"],
            "input": {"input_content": question},
            "content": answer,
            "content_type": "str",
            "model": rng.choice(("gpt-4o", "gpt-4.1-mini", "claude-sonnet-4-5")),
            "model_provider": "OpenAI",
            "messages": messages,
            "metrics": self._metrics(),
            "session_state": {"turn": index + 1},
            "status": "COMPLETED" if rng.random() < 0.97 else "ERROR",
            "created_at": created,
        }
        if tools:
            run["tools"] = tools
        if kind == "agent":
            run["agent_id"] = session["agent_id"] or rng.choice(self.AGENTS)
            run["agent_name"] = run["agent_id"].removeprefix("agent-").title()
        if kind == "team":
            run["team_id"] = session["team_id"]
            run["team_name"] = session["team_id"].removeprefix("team-").title()
        if session["workflow_id"]:
            run["workflow_id"] = session["workflow_id"]
        if parent:
            run["parent_run_id"] = parent
        return run

    def session(self, runs_per_session: int) -> dict[str, Any]:
        rng = self.rng
        self.clock += rng.randint(1, 400)
        kind = rng.choices(("agent", "team", "workflow"), weights=(70, 20, 10))[0]
        session: dict[str, Any] = {
            "session_id": self.uid(),
            "session_type": kind,
            "agent_id": rng.choice(self.AGENTS) if kind == "agent" else None,
            "team_id": rng.choice(self.TEAMS) if kind == "team" else None,
            "workflow_id": rng.choice(self.WORKFLOWS) if kind == "workflow" else None,
            "user_id": rng.choice(self.users),
            "created_at": self.clock,
        }
        runs, leader = [], None
        for k in range(runs_per_session):
            if kind == "team" and k % 2 == 1 and leader:  # a member run under the team's run
                runs.append(self.run(session | {"agent_id": rng.choice(self.AGENTS)}, k, leader, "agent"))
            elif kind == "workflow":  # a workflow's step runs are agents' runs of the workflow
                runs.append(self.run(session | {"agent_id": rng.choice(self.AGENTS)}, k, None,
                                     "agent" if k % 2 else "workflow"))
            else:
                runs.append(self.run(session, k, None, kind))
                leader = runs[-1]["run_id"] if kind == "team" else None
        owner = session["agent_id"] or session["team_id"] or session["workflow_id"]
        session.update(
            session_data={"session_name": self.text(3, 6), "session_state": {"turns": runs_per_session}},
            agent_data={"agent_id": session["agent_id"], "name": owner, "model": {"id": "gpt-4o",
                        "provider": "OpenAI"}} if session["agent_id"] else None,
            team_data={"team_id": session["team_id"], "name": owner} if session["team_id"] else None,
            workflow_data={"workflow_id": session["workflow_id"], "name": owner} if session["workflow_id"] else None,
            metadata={"source": "benchmark", "channel": rng.choice(("web", "slack", "api"))},
            runs=runs,
            summary={"summary": self.text(30, 60), "topics": rng.sample(self.words[:50], 3),
                     "updated_at": runs[-1]["created_at"] if runs else self.clock},
            updated_at=runs[-1]["created_at"] + 5 if runs else self.clock,
        )
        return session


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


_SESSIONS_2_5_6 = shapes.spec("sessions", registry.POSTGRESQL, "2.5.6", Names()).columns
#: The 2.5.6 sessions table's columns, in the package's own order, and the JSON ones among them.
SESSION_COLUMNS = tuple(_SESSIONS_2_5_6)
JSON_COLUMNS = {name for name, column in _SESSIONS_2_5_6.items() if column.type.name == "JSON"}


@dataclass
class DataStats:
    sessions: int = 0
    runs: int = 0
    run_bytes: int = 0
    users: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        return {"sessions": self.sessions, "runs": self.runs, "users": len(self.users),
                "avg_run_bytes": round(self.run_bytes / max(self.runs, 1))}


def session_batches(sessions: int, runs: int, seed: int, batch: int, stats: DataStats) -> Iterator[list[tuple]]:
    """Rows of the sessions table (JSON columns as JSON text), ``batch`` at a time."""
    gen = Generator(seed)
    rows: list[tuple] = []
    for _ in range(sessions):
        s = gen.session(runs)
        stats.sessions += 1
        stats.runs += len(s["runs"])
        row = tuple(json.dumps(s[c]) if c in JSON_COLUMNS and s[c] is not None else s[c] for c in SESSION_COLUMNS)
        stats.run_bytes += len(row[SESSION_COLUMNS.index("runs")]) - 2 * len(s["runs"])  # less "[", "]" and ", "
        stats.users.add(s["user_id"])
        rows.append(row)
        if len(rows) >= batch:
            yield rows
            rows = []
    if rows:
        yield rows


# ====================================================================== backends


def url_with_database(server_url: str, database: str) -> str:
    return sa.make_url(server_url).set(database=database).render_as_string(hide_password=False)


def _safe(name: str) -> str:
    if not re.fullmatch(r"agno_alembic_bench_[a-z0-9_]+", name):
        raise ValueError(f"refusing to touch database {name!r}")
    return name


class Backend:
    """Where the contenders' databases live, and how to build, clone and drop them."""

    kind: str

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    # names --------------------------------------------------------------------------------------------------
    def url(self, role: str) -> str:
        raise NotImplementedError

    def schema(self, role: str) -> str | None:
        raise NotImplementedError

    def agno_target(self, role: str) -> str:
        return self.url(role)

    def engine(self, role: str) -> sa.Engine:
        return sa.create_engine(self.url(role), poolclass=sa.pool.NullPool)

    def admin(self) -> sa.Engine:
        """A server-level engine (creating and dropping the benchmark's databases); servers only."""
        raise NotImplementedError

    def _admin(self, *statements: str) -> list[Any]:
        engine = self.admin()
        try:
            with engine.connect() as conn:
                return [_fetch(conn.exec_driver_sql(s)) for s in statements]
        finally:
            engine.dispose()

    # lifecycle ----------------------------------------------------------------------------------------------
    def create(self, role: str) -> None:
        raise NotImplementedError

    def drop(self, role: str) -> None:
        raise NotImplementedError

    def exists(self, role: str) -> bool:
        raise NotImplementedError

    def insert(self, role: str, batches: Iterator[list[tuple]]) -> None:
        raise NotImplementedError

    def after_build(self, role: str) -> None:
        """Leave the built database as a production one would be (statistics, no pending writes)."""

    def clone(self, source: str, role: str) -> None:
        raise NotImplementedError

    def settle(self) -> None:
        """Before a timed run: let the server write out what the previous step left dirty."""

    def table_bytes(self, role: str, table: str) -> int | None:
        return None


class Sqlite(Backend):
    kind = "sqlite"

    def path(self, role: str) -> Path:
        return SCRATCH / "sqlite" / f"{role}.sqlite"

    def url(self, role: str) -> str:
        return f"sqlite:///{self.path(role)}"

    def schema(self, role: str) -> str | None:
        return None

    def agno_target(self, role: str) -> str:
        return str(self.path(role))

    def create(self, role: str) -> None:
        self.drop(role)
        self.path(role).parent.mkdir(parents=True, exist_ok=True)

    def drop(self, role: str) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path(role)}{suffix}").unlink(missing_ok=True)

    def exists(self, role: str) -> bool:
        return self.path(role).exists()

    def insert(self, role: str, batches: Iterator[list[tuple]]) -> None:
        import sqlite3

        conn = sqlite3.connect(self.path(role))
        try:
            marks = ", ".join("?" * len(SESSION_COLUMNS))
            sql = f"INSERT INTO {SESSIONS_TABLE} ({', '.join(SESSION_COLUMNS)}) VALUES ({marks})"
            for rows in batches:
                conn.executemany(sql, rows)
            conn.commit()
        finally:
            conn.close()

    def after_build(self, role: str) -> None:
        import sqlite3

        conn = sqlite3.connect(self.path(role))
        conn.execute("ANALYZE")
        conn.commit()
        conn.close()

    def clone(self, source: str, role: str) -> None:
        self.create(role)
        shutil.copyfile(self.path(source), self.path(role))

    def settle(self) -> None:
        os.sync()

    def table_bytes(self, role: str, table: str) -> int | None:
        import sqlite3

        conn = sqlite3.connect(self.path(role))
        try:
            return conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ?", (table,)).fetchone()[0]
        except sqlite3.DatabaseError:
            return None
        finally:
            conn.close()


class Postgres(Backend):
    kind = "postgres"

    def db(self, role: str) -> str:
        return _safe(f"{DB_PREFIX}{role}")

    def url(self, role: str) -> str:
        return url_with_database(self.args.pg_url, self.db(role))

    def schema(self, role: str) -> str | None:
        return PG_SCHEMA

    def admin(self) -> sa.Engine:
        return sa.create_engine(url_with_database(self.args.pg_url, "postgres"), isolation_level="AUTOCOMMIT",
                                poolclass=sa.pool.NullPool)

    def create(self, role: str) -> None:
        self.drop(role)
        self._admin(f'CREATE DATABASE "{self.db(role)}"')

    def drop(self, role: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.db(role)}" WITH (FORCE)')

    def exists(self, role: str) -> bool:
        return bool(self._admin(f"SELECT 1 FROM pg_database WHERE datname = '{self.db(role)}'")[0])

    def insert(self, role: str, batches: Iterator[list[tuple]]) -> None:
        import psycopg

        u = sa.make_url(self.url(role))
        conn = psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                               dbname=u.database)
        try:
            with conn.cursor() as cur:
                for rows in batches:
                    with cur.copy(f'COPY "{PG_SCHEMA}"."{SESSIONS_TABLE}" ({", ".join(SESSION_COLUMNS)}) '
                                  "FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                    conn.commit()
        finally:
            conn.close()

    def after_build(self, role: str) -> None:
        engine = sa.create_engine(self.url(role), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'VACUUM (FREEZE, ANALYZE) "{PG_SCHEMA}"."{SESSIONS_TABLE}"')
                conn.exec_driver_sql("CHECKPOINT")
        finally:
            engine.dispose()

    def clone(self, source: str, role: str) -> None:
        self.drop(role)
        self._admin(f'CREATE DATABASE "{self.db(role)}" TEMPLATE "{self.db(source)}"')

    def settle(self) -> None:
        self._admin("CHECKPOINT")

    def table_bytes(self, role: str, table: str) -> int | None:
        engine = self.engine(role)
        try:
            with engine.connect() as conn:
                return conn.exec_driver_sql(
                    f"SELECT pg_total_relation_size('\"{PG_SCHEMA}\".\"{table}\"')").scalar()
        finally:
            engine.dispose()


class Mysql(Backend):
    kind = "mysql"

    def db(self, role: str) -> str:
        return _safe(f"{DB_PREFIX}{role}")

    def url(self, role: str) -> str:
        return url_with_database(self.args.mysql_url, self.db(role))

    def schema(self, role: str) -> str | None:
        return self.db(role)

    def admin(self) -> sa.Engine:
        return sa.create_engine(self.args.mysql_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)

    def create(self, role: str) -> None:
        self.drop(role)
        self._admin(f"CREATE DATABASE `{self.db(role)}`")

    def drop(self, role: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS `{self.db(role)}`")

    def exists(self, role: str) -> bool:
        return bool(self._admin(f"SELECT 1 FROM information_schema.schemata WHERE schema_name = '{self.db(role)}'")[0])

    def insert(self, role: str, batches: Iterator[list[tuple]]) -> None:
        import pymysql

        u = sa.make_url(self.url(role))
        conn = pymysql.connect(host=u.host, port=u.port or 3306, user=u.username, password=u.password or "",
                               database=u.database, charset="utf8mb4", autocommit=False)
        try:
            with conn.cursor() as cur:
                sql = (f"INSERT INTO `{SESSIONS_TABLE}` ({', '.join(f'`{c}`' for c in SESSION_COLUMNS)}) "
                       f"VALUES ({', '.join(['%s'] * len(SESSION_COLUMNS))})")
                for rows in batches:
                    cur.executemany(sql, rows)
                    conn.commit()
        finally:
            conn.close()

    def after_build(self, role: str) -> None:
        self._admin(f"ANALYZE TABLE `{self.db(role)}`.`{SESSIONS_TABLE}`")
        self.settle()

    def clone(self, source: str, role: str) -> None:
        self.create(role)
        src, dst = self.db(source), self.db(role)
        tables = [r[0] for r in self._admin(
            f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{src}'")[0]]
        for t in tables:
            self._admin(f"CREATE TABLE `{dst}`.`{t}` LIKE `{src}`.`{t}`",
                        f"INSERT INTO `{dst}`.`{t}` SELECT * FROM `{src}`.`{t}`")
        self._admin(f"ANALYZE TABLE `{dst}`.`{SESSIONS_TABLE}`")

    def settle(self, limit: float = 30.0) -> None:
        """Wait (up to ``limit`` s) until InnoDB has flushed most pages the previous step left dirty."""
        total = self._admin("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_total'")[0]
        threshold = max(100, int(total[0][1]) // 20) if total else 100
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            rows = self._admin("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")[0]
            if not rows or int(rows[0][1]) < threshold:
                return
            time.sleep(1)

    def table_bytes(self, role: str, table: str) -> int | None:
        # information_schema's sizes are the table's statistics: stale right after a bulk insert until analysed
        rows = self._admin(
            f"ANALYZE TABLE `{self.db(role)}`.`{table}`",
            "SELECT data_length + index_length FROM information_schema.tables "
            f"WHERE table_schema = '{self.db(role)}' AND table_name = '{table}'")[1]
        return int(rows[0][0]) if rows else None


def _fetch(result: sa.CursorResult) -> list[Any] | None:
    return result.fetchall() if result.returns_rows else None


BACKEND_CLASSES: dict[str, type[Backend]] = {"sqlite": Sqlite, "postgres": Postgres, "mysql": Mysql}


def build(backend: Backend, args: argparse.Namespace, sessions: int) -> dict[str, Any]:
    """The 2.5.6 source database (reused with --reuse when it holds the same data)."""
    state_file = SCRATCH / "state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    wanted = {"sessions": sessions, "runs": args.runs, "seed": args.seed, "generator": GENERATOR_VERSION}
    kept = state.get(backend.kind)
    if args.reuse and kept and {k: kept.get(k) for k in wanted} == wanted and backend.exists("src"):
        log(f"{backend.kind}: reusing the 2.5.6 source database ({sessions:,} x {args.runs})")
        return kept["data"]
    from agno_alembic import SyncMigrationManager

    started = time.perf_counter()
    backend.create("src")
    SyncMigrationManager(backend.url("src"), db_schema=backend.schema("src")).up(
        target_version="2.5.6", table_type="sessions", create_missing=True)
    stats = DataStats()
    backend.insert("src", session_batches(sessions, args.runs, args.seed, 1000, stats))
    backend.after_build("src")
    data = stats.summary() | {
        "build_s": round(time.perf_counter() - started, 1),
        "sessions_table_mb": round((backend.table_bytes("src", SESSIONS_TABLE) or 0) / 2**20, 1),
    }
    state[backend.kind] = wanted | {"data": data}
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=1))
    log(f"{backend.kind}: built {sessions:,} sessions x {args.runs} runs in {data['build_s']}s "
        f"({data['users']} users, {data['avg_run_bytes']} B per run, sessions table {data['sessions_table_mb']} MB)")
    return data
