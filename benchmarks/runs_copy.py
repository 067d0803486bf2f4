"""Benchmark the 3.0.0 sessions -> runs copy: our upgrade against Agno 3.1.10's own, side by side (issue 4).

Usage (with the project's interpreter)::

    python benchmarks/runs_copy.py --backends sqlite postgres mysql --sessions 50000 --runs 5 [--seed 42]
    python benchmarks/runs_copy.py --quick                      # 2,000 sessions x 5 runs
    python benchmarks/runs_copy.py --sessions 10000 50000       # several sizes: also checks RSS does not grow

Per backend and size:

1. A 2.5.6 database is built once: the sessions table through our facade
   (``SyncMigrationManager(url, db_schema=...).up(target_version="2.5.6", table_type="sessions")``), then N
   sessions of K runs each (seeded; about 100 users; each run an Agno-like ``RunOutput`` dict of ~3 KB: messages,
   tool calls, metrics, content) inserted in bulk (PostgreSQL ``COPY``, MariaDB/SQLite ``executemany``).
2. It is cloned for each contender (PostgreSQL ``CREATE DATABASE ... TEMPLATE``; MariaDB a database filled by
   ``INSERT ... SELECT``; SQLite a file copy), so all start identical.
3. Each contender runs as its own process (``benchmarks/children.py``), timed as a whole process by this one,
   peak RSS from ``wait4`` (the child's own ``ru_maxrss``):

   * ours: ``SyncMigrationManager(url, db_schema=...).up(table_type="sessions")`` (project venv);
   * agno: ``asyncio.run(MigrationManager(db).up(table_type="sessions"))`` of agno 3.1.10 (its venv), which
     creates the runs table itself;
   * baseline: the runs table created through our facade, then ONE ``INSERT INTO runs SELECT ...`` (our dialect
     statement over every session at once); its statement+commit time is what ``ours/base`` divides by. On
     PostgreSQL it is run a second time with ``SET default_toast_compression = lz4`` (``base lz4``, for
     information).
4. The runs tables of ours and Agno's are compared row by row, streamed in ``run_id`` order by keyset pages
   (all columns but ``updated_at``; ``created_at`` where the run carries its own), run_data as parsed JSON.
5. A no-op ``up()`` (every table, on a database already at the latest version) is timed as a whole process,
   ours against Agno's ``MigrationManager(db).up()``: one warm-up each, then ``--noop-repeats`` interleaved runs;
   the median seconds and the largest peak RSS are reported.

Only databases named ``agno_alembic_bench_*`` (PostgreSQL and MariaDB) and files under
``${TMPDIR:-/tmp}/agno-alembic-bench`` are touched; they are dropped at the end unless ``--keep``. Server URLs:
``--pg-url`` / ``--mysql-url`` (defaults: the local servers, ``postgresql+psycopg://postgres@127.0.0.1:5432``
and ``mysql+pymysql://root@127.0.0.1:3306``). Agno's venv is made by ``tests/golden/generate.py`` on first use.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHILDREN = HERE / "children.py"
sys.path.insert(0, str(ROOT))

from tests.golden import generate  # noqa: E402  (ensure_venv: the Agno release venvs the tests use)

AGNO_RELEASE = "3.1.10"
SCRATCH = Path(tempfile.gettempdir()) / "agno-alembic-bench"
DB_PREFIX = "agno_alembic_bench_"
PG_SCHEMA = "ai"
SESSIONS_TABLE = "agno_sessions"
RUNS_TABLE = "agno_runs"
QUICK_SESSIONS = 2000
GENERATOR_VERSION = 1  # bump when the generated data changes (invalidates --reuse)
BACKENDS = ("sqlite", "postgres", "mysql")
CONTENDERS = ("ours", "agno", "base")

# Targets of issue 4.
SPEEDUP_TARGET = {"postgres": 2.0, "mysql": 2.0, "sqlite": 1.3}
BASELINE_FACTOR = 1.2
RSS_LIMIT_MB = 120.0
RSS_GROWTH_TOLERANCE_MB = 5.0


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


SESSION_COLUMNS = (
    "session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data", "agent_data",
    "team_data", "workflow_data", "metadata", "runs", "summary", "created_at", "updated_at",
)
JSON_COLUMNS = {"session_data", "agent_data", "team_data", "workflow_data", "metadata", "runs", "summary"}


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


# ====================================================================== processes


@dataclass
class ProcessResult:
    ok: bool
    seconds: float  # the whole process, as the parent saw it
    rss_mb: float  # the child's own peak RSS: VmHWM, read by the child at exit
    report: dict[str, Any]
    log_path: str
    foreign_cpu_s: float = 0.0  # CPU other processes (not ours, not the database servers) used meanwhile
    child_cpu_s: float = 0.0  # the child's own CPU (user + system)
    server_cpu_s: float = 0.0  # the database server's CPU for it (see CpuMeter)

    @property
    def work_s(self) -> float | None:
        return self.report.get("work_s")


DB_SERVERS = ("postgres", "mariadbd", "mysqld")
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_table() -> dict[int, tuple[str, int, float]]:
    """pid -> (comm, ppid, cpu seconds) of every process, from /proc."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1: raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        out[int(entry)] = (comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class CpuMeter:
    """Samples /proc every quarter second while a timed process runs, and adds up CPU seconds of:

    * ``foreign``: processes that are neither this benchmark (with its children) nor a database server, i.e.
      other work on the machine that skews a timing;
    * ``server``: the database server's share of the work: on PostgreSQL the backends connected to
      ``database`` (their process title names it), on MariaDB the whole ``mariadbd`` (every connection, so
      approximate when other clients are busy).

    Processes that start and end between two samples are missed, and a backend's last quarter second too.
    """

    def __init__(self, database: str | None = None) -> None:
        import threading

        self.database = f" {database} " if database else None
        self.foreign = 0.0
        self.server = 0.0
        self._titles: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _ours(self, table: dict[int, tuple[str, int, float]], pid: int) -> bool:
        me = os.getpid()
        seen = 0
        while pid > 1 and seen < 64:
            if pid == me:
                return True
            pid, seen = table.get(pid, ("", 0, 0.0))[1], seen + 1
        return False

    def _server_share(self, pid: int, comm: str) -> bool:
        if comm in ("mariadbd", "mysqld"):
            return True
        if comm == "postgres" and self.database:
            if pid not in self._titles:
                self._titles[pid] = _cmdline(pid)
            return self.database in self._titles[pid]
        return False

    def _run(self) -> None:
        before = _proc_table()
        while not self._stop.wait(0.25):
            now = _proc_table()
            for pid, (comm, _, cpu) in now.items():
                delta = max(0.0, cpu - before[pid][2]) if pid in before and before[pid][0] == comm else 0.0
                if not delta:
                    continue
                if comm in DB_SERVERS:
                    if self._server_share(pid, comm):
                        self.server += delta
                elif not self._ours(now, pid):
                    self.foreign += delta
            before = now

    def __enter__(self) -> CpuMeter:
        if Path("/proc/self/stat").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def wait_quiet(limit: float) -> float:
    """Wait (up to ``limit`` s) until other processes use under a quarter of a core; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        with CpuMeter() as load:
            time.sleep(3.1)
        if load.foreign / 3.0 < 0.25:
            break
        time.sleep(5)
    waited = time.monotonic() - started
    if waited > 10:
        log(f"  waited {waited:.0f}s for other processes to quieten")
    return waited


def run_child(python: Path, mode: str, backend: Backend, role: str, tag: str, *extra: str,
              quiet: float = 0.0) -> ProcessResult:
    SCRATCH.joinpath("logs").mkdir(parents=True, exist_ok=True)
    out = SCRATCH / "logs" / f"{tag}.json"
    log_path = SCRATCH / "logs" / f"{tag}.log"
    out.unlink(missing_ok=True)
    target = backend.agno_target(role) if mode == "agno" else backend.url(role)
    cmd = [str(python), "-B", str(CHILDREN), mode, "--backend", backend.kind, "--url", target, "--out", str(out),
           *extra]
    schema = backend.schema(role)
    if schema:
        cmd += ["--schema", schema]
    if quiet:
        wait_quiet(quiet)
    database = getattr(backend, "db", None)
    with open(log_path, "w", encoding="utf-8") as logfile, CpuMeter(database(role) if database else None) as load:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=logfile, stderr=subprocess.STDOUT, cwd=str(SCRATCH))
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {"ok": False, "error": "no report"}
    ok = proc.returncode == 0 and bool(report.get("ok"))
    if not ok:
        tail = Path(log_path).read_text(encoding="utf-8", errors="replace")[-3000:]
        log(f"  !! {tag} failed (exit {proc.returncode}): {report.get('error')}\n{report.get('traceback', '')}\n{tail}")
    # ru_maxrss of a child started by fork/vfork+exec carries the parent's pre-exec high-water mark on Linux,
    # so the child's own VmHWM is the figure; ru_maxrss is the fallback where /proc is missing.
    rss_kb = report.get("vm_hwm_kb") or usage.ru_maxrss
    return ProcessResult(ok, seconds, rss_kb / 1024, report, str(log_path), round(load.foreign, 1),
                         round(usage.ru_utime + usage.ru_stime, 1), round(load.server, 1))


def copy_loop_seconds(log_path: str) -> float | None:
    """The copy's own time, from our per-chunk log lines (the last chunk's elapsed seconds)."""
    found = None
    for line in Path(log_path).read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.search(r"copied runs of \d+/\d+ sessions into \S+ \(([0-9.]+)s\)", line)
        if m:
            found = float(m.group(1))
    return found


# ====================================================================== comparison

RUN_COLS = ("run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id", "parent_run_id",
            "status", "run_index", "run_data", "created_at")


def _parse(value: Any) -> Any:
    for _ in range(2):
        if isinstance(value, bytes | bytearray):
            value = value.decode()
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value
    return value


def _pages(engine: sa.Engine, schema: str | None, page: int) -> Iterator[dict[str, Any]]:
    t = sa.table(RUNS_TABLE, *[sa.column(c) for c in RUN_COLS], schema=schema)
    last = None
    with engine.connect() as conn:
        while True:
            q = sa.select(*t.c).order_by(t.c.run_id).limit(page)
            if last is not None:
                q = q.where(t.c.run_id > last)
            rows = conn.execute(q).mappings().all()
            if not rows:
                return
            for row in rows:
                yield dict(row)
            last = rows[-1]["run_id"]
            conn.rollback()  # no long-lived snapshot


def compare_runs(backend: Backend, left: str, right: str, page: int = 2000) -> dict[str, Any]:
    """Stream both runs tables in run_id order and compare them row by row (memory stays flat)."""
    a_engine, b_engine = backend.engine(left), backend.engine(right)
    n = mismatches = 0
    examples: list[str] = []
    sentinel = object()
    try:
        a_rows, b_rows = _pages(a_engine, backend.schema(left), page), _pages(b_engine, backend.schema(right), page)
        while True:
            a, b = next(a_rows, sentinel), next(b_rows, sentinel)
            if a is sentinel and b is sentinel:
                break
            if a is sentinel or b is sentinel:
                mismatches += 1
                extra = b if a is sentinel else a
                examples.append(f"only in {'agno' if a is sentinel else 'ours'}: {extra['run_id']}")  # type: ignore[index]
                # count the rest of the longer side
                rest = b_rows if a is sentinel else a_rows
                mismatches += sum(1 for _ in rest)
                break
            n += 1
            assert isinstance(a, dict) and isinstance(b, dict)
            diffs = _row_diff(a, b)
            if diffs:
                mismatches += 1
                if len(examples) < 5:
                    examples.append(f"{a['run_id']} / {b['run_id']}: {', '.join(diffs)}")
    finally:
        a_engine.dispose()
        b_engine.dispose()
    return {"equal": mismatches == 0, "rows": n, "mismatches": mismatches, "examples": examples}


def _row_diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    diffs = []
    data_a, data_b = _parse(a["run_data"]), _parse(b["run_data"])
    for c in RUN_COLS:
        if c == "run_data":
            if data_a != data_b:
                diffs.append("run_data")
        elif c == "created_at":
            own = data_a.get("created_at") if isinstance(data_a, dict) else None
            if isinstance(own, int | float) and not isinstance(own, bool) and own and a[c] != b[c]:
                diffs.append(f"created_at {a[c]!r} != {b[c]!r}")
        elif a[c] != b[c]:
            diffs.append(f"{c} {a[c]!r} != {b[c]!r}")
    return diffs


def count_rows(backend: Backend, role: str, table: str) -> int:
    engine = backend.engine(role)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(
                sa.table(table, schema=backend.schema(role)))).scalar_one())
    finally:
        engine.dispose()


# ====================================================================== the benchmark


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


def bench_copy(backend: Backend, args: argparse.Namespace, sessions: int, agno_python: Path) -> dict[str, Any]:
    data = build(backend, args, sessions)
    roles = [role for role in CONTENDERS if role in args.contenders]
    started = time.perf_counter()
    for role in roles:
        backend.clone("src", role)
    log(f"{backend.kind}: cloned for {', '.join(roles)} in {time.perf_counter() - started:.1f}s")
    here = Path(sys.executable)
    tag = f"{backend.kind}-{sessions}"
    result: dict[str, Any] = {"backend": backend.kind, "sessions": sessions, "runs_per_session": args.runs,
                              "data": data}
    procs: dict[str, ProcessResult] = {}
    for role, python, mode, label in (("ours", here, "ours", "ours"),
                                      ("agno", agno_python, "agno", f"agno {AGNO_RELEASE}"),
                                      ("base", here, "baseline", "baseline INSERT ... SELECT")):
        if role not in roles:
            result[role] = {"ok": False, "skipped": True}
            continue
        backend.settle()
        log(f"{backend.kind}: {label} ...")
        p = procs[role] = run_child(python, mode, backend, role, f"{tag}-{role}", quiet=args.quiet_wait)
        result[role] = _proc(p)
        statement = "" if mode != "baseline" else f" (its statement {p.work_s or float('nan'):.1f}s)"
        log(f"{backend.kind}: {label} {p.seconds:.1f}s{statement}, {p.rss_mb:.0f} MB")
    ours, agno = procs.get("ours"), procs.get("agno")
    if ours is not None:
        result["ours"]["copy_loop_s"] = copy_loop_seconds(ours.log_path)
    if "base" in roles and backend.kind == "postgres" and not args.no_lz4:
        engine = backend.engine("base")
        with engine.begin() as conn:  # untimed: empty the runs table again
            conn.exec_driver_sql(f'TRUNCATE "{PG_SCHEMA}"."{RUNS_TABLE}"')
        engine.dispose()
        backend.settle()
        lz4 = run_child(here, "baseline", backend, "base", f"{tag}-base-lz4", "--toast", "lz4",
                        quiet=args.quiet_wait)
        result["base_lz4"] = _proc(lz4)
        log(f"{backend.kind}: baseline with lz4 {lz4.work_s or float('nan'):.1f}s")

    result["rows"] = {role: count_rows(backend, role, RUNS_TABLE) for role in ("ours", "agno") if role in roles}
    result["runs_table_mb"] = {role: round((backend.table_bytes(role, RUNS_TABLE) or 0) / 2**20, 1)
                               for role in roles}
    started = time.perf_counter()
    if ours is not None and agno is not None and ours.ok and agno.ok:
        result["compare"] = compare_runs(backend, "ours", "agno")
        c = result["compare"]
        log(f"{backend.kind}: row-equal: {'yes' if c['equal'] else 'no'} ({c['rows']:,} rows, "
            f"{time.perf_counter() - started:.1f}s){'' if c['equal'] else ' ' + '; '.join(c['examples'])}")
    else:
        ran = ours is not None and agno is not None
        result["compare"] = {"equal": False, "rows": 0, "mismatches": None, "skipped": not ran,
                             "examples": ["a contender failed" if ran else "not compared: a contender was not run"]}
    if not args.keep:
        for role in roles:
            backend.drop(role)
    return result


def bench_noop(backend: Backend, args: argparse.Namespace, agno_python: Path) -> dict[str, Any]:
    """A no-op up() of every table, as a whole process, on a database already at the latest version."""
    here = Path(sys.executable)
    backend.create("noop")
    setup = run_child(here, "ours", backend, "noop", f"{backend.kind}-noop-setup", "--table-type", "all")
    if not setup.ok:
        return {"ok": False}
    warm_agno = run_child(agno_python, "agno", backend, "noop", f"{backend.kind}-noop-agno-warmup",
                          "--table-type", "all")
    warm_ours = run_child(here, "ours", backend, "noop", f"{backend.kind}-noop-ours-warmup", "--table-type", "all")
    runs: dict[str, list[ProcessResult]] = {"ours": [], "agno": []}
    for i in range(args.noop_repeats):
        runs["ours"].append(run_child(here, "ours", backend, "noop", f"{backend.kind}-noop-ours-{i}",
                                      "--table-type", "all", quiet=args.quiet_wait))
        runs["agno"].append(run_child(agno_python, "agno", backend, "noop", f"{backend.kind}-noop-agno-{i}",
                                      "--table-type", "all", quiet=args.quiet_wait))
    agno_steps = sum(Path(p.log_path).read_text(errors="replace").count("Applying migration") for p in runs["agno"])
    ours_changes = sum(len(p.report.get("changes") or []) for p in runs["ours"])
    out = {
        "ok": all(p.ok for ps in runs.values() for p in ps) and warm_agno.ok and warm_ours.ok,
        "setup_s": round(setup.seconds, 2),
        "agno_warmup_steps": Path(warm_agno.log_path).read_text(errors="replace").count("Applying migration"),
        "agno_steps": agno_steps,
        "ours_changes": ours_changes,
    }
    for who, ps in runs.items():
        out[who] = {"seconds": round(statistics.median(p.seconds for p in ps), 3),
                    "all_seconds": [round(p.seconds, 3) for p in ps],
                    "work_s": round(statistics.median(p.work_s or 0 for p in ps), 3),
                    "rss_mb": round(max(p.rss_mb for p in ps), 1)}
    log(f"{backend.kind}: no-op up(): ours {out['ours']['seconds']}s {out['ours']['rss_mb']} MB, "
        f"agno {out['agno']['seconds']}s {out['agno']['rss_mb']} MB")
    if not args.keep:
        backend.drop("noop")
    return out


def _proc(p: ProcessResult) -> dict[str, Any]:
    out = {"ok": p.ok, "seconds": round(p.seconds, 2), "rss_mb": round(p.rss_mb, 1), "log": p.log_path,
           "foreign_cpu_s": p.foreign_cpu_s, "child_cpu_s": p.child_cpu_s, "server_cpu_s": p.server_cpu_s}
    if p.work_s is not None:
        out["work_s"] = round(p.work_s, 2)
    if not p.ok:
        out["error"] = p.report.get("error")
    return out


# ====================================================================== report


def _cpu_s(p: dict[str, Any]) -> float | None:
    return p["child_cpu_s"] + p["server_cpu_s"] if p.get("ok") else None


def _cpu(p: dict[str, Any]) -> str:
    if p.get("skipped"):
        return "not run"
    return f"{p['child_cpu_s']:.1f}+{p['server_cpu_s']:.1f}" if p.get("ok") else "failed"


def _equal(c: dict[str, Any]) -> str:
    if c.get("skipped"):
        return "not compared"
    return f"{'yes' if c['equal'] else 'no'} ({c['rows']:,} rows)"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def _f(value: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def report(results: list[dict[str, Any]], noop: dict[str, dict[str, Any]]) -> tuple[str, list[tuple[str, bool]]]:
    lines: list[str] = []
    verdicts: list[tuple[str, bool]] = []
    sizes = sorted({r["sessions"] for r in results})
    for size in sizes:
        rows = [r for r in results if r["sessions"] == size]
        k = rows[0]["runs_per_session"]
        lines.append(f"\n{size:,} sessions x {k} runs")
        header = ("| backend | ours s | ours MB | agno s | agno MB | agno/ours | base s | ours/base | base lz4 s "
                  "| ours copy loop s | row-equal | other CPU s (ours/agno/base) |")
        lines += [header, "|" + "---|" * (header.count("|") - 1)]
        for r in rows:
            o, a, b, lz = r["ours"], r["agno"], r["base"], r.get("base_lz4")
            speedup = a["seconds"] / o["seconds"] if o["ok"] and a["ok"] else None
            vs_base = o["seconds"] / b["work_s"] if o["ok"] and b.get("work_s") else None
            c = r["compare"]
            lines.append(
                f"| {r['backend']} | {_f(o.get('seconds'))} | {_f(o.get('rss_mb'), '{:.0f}')} | {_f(a.get('seconds'))} "
                f"| {_f(a.get('rss_mb'), '{:.0f}')} | {_f(speedup, '{:.2f}x')} | {_f(b.get('work_s'))} "
                f"| {_f(vs_base, '{:.2f}x')} | {_f(lz.get('work_s')) if lz else '-'} "
                f"| {_f(o.get('copy_loop_s'))} | {_equal(c)} "
                f"| {'/'.join(_f(p.get('foreign_cpu_s'), '{:.0f}') for p in (o, a, b))} |"
            )
            need = SPEEDUP_TARGET[r["backend"]]
            if not a.get("skipped") and not o.get("skipped"):
                verdicts.append((f"{size:,} {r['backend']}: agno/ours {_f(speedup, '{:.2f}')}x >= {need}x",
                                 speedup is not None and speedup >= need))
            if not b.get("skipped") and not o.get("skipped"):
                verdicts.append((f"{size:,} {r['backend']}: ours/base {_f(vs_base, '{:.2f}')}x <= {BASELINE_FACTOR}x",
                                 vs_base is not None and vs_base <= BASELINE_FACTOR))
            if not o.get("skipped"):
                verdicts.append((f"{size:,} {r['backend']}: ours peak RSS {_f(o.get('rss_mb'), '{:.0f}')} MB <= "
                                 f"{RSS_LIMIT_MB:.0f} MB", o["ok"] and o["rss_mb"] <= RSS_LIMIT_MB))
            if not a.get("skipped") and not o.get("skipped"):
                verdicts.append((f"{size:,} {r['backend']}: row-equal ({c['rows']:,} rows)", bool(c["equal"])))
        lines.append("  CPU seconds, process + its database server work (a cross-check that load from other "
                     "processes cannot inflate): " + "; ".join(
            f"{r['backend']}: ours {_cpu(r['ours'])}, agno {_cpu(r['agno'])}, base {_cpu(r['base'])}"
            f" (agno/ours {_ratio(_cpu_s(r['agno']), _cpu_s(r['ours']))})" for r in rows))
        lines.append("  data: " + "; ".join(
            f"{r['backend']}: {r['data']['users']} users, {r['data']['avg_run_bytes']} B/run, sessions table "
            f"{r['data']['sessions_table_mb']} MB, runs table ours {r['runs_table_mb'].get('ours', '-')} MB / agno "
            f"{r['runs_table_mb'].get('agno', '-')} MB" for r in rows))
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for backend in dict.fromkeys(r["backend"] for r in results):
            a = next((r for r in results if r["backend"] == backend and r["sessions"] == small), None)
            b = next((r for r in results if r["backend"] == backend and r["sessions"] == large), None)
            if a and b and a["ours"]["ok"] and b["ours"]["ok"]:
                grow = b["ours"]["rss_mb"] - a["ours"]["rss_mb"]
                verdicts.append((f"{backend}: ours peak RSS {a['ours']['rss_mb']:.0f} MB at {small:,} -> "
                                 f"{b['ours']['rss_mb']:.0f} MB at {large:,} (growth {grow:+.1f} MB <= "
                                 f"{RSS_GROWTH_TOLERANCE_MB} MB)", grow <= RSS_GROWTH_TOLERANCE_MB))
    if noop:
        lines.append("\nno-op up() (every table, database already at the latest version; whole process, median)")
        lines += ["| backend | ours s | ours MB | agno s | agno MB | agno/ours | runs (ours; agno) |",
                  "|---|---|---|---|---|---|---|"]
        for backend, n in noop.items():
            if not n.get("ok"):
                lines.append(f"| {backend} | failed | | | | |")
                verdicts.append((f"no-op {backend}", False))
                continue
            o, a = n["ours"], n["agno"]
            lines.append(f"| {backend} | {o['seconds']:.2f} | {o['rss_mb']:.0f} | {a['seconds']:.2f} "
                         f"| {a['rss_mb']:.0f} | {a['seconds'] / o['seconds']:.2f}x "
                         f"| {', '.join(map(str, o['all_seconds']))}; {', '.join(map(str, a['all_seconds']))} |")
            verdicts.append((f"no-op {backend}: ours {o['seconds']:.2f}s <= agno {a['seconds']:.2f}s",
                             o["seconds"] <= a["seconds"]))
    lines.append("\ntargets:")
    lines += [f"  [{'met' if ok else 'NOT MET'}] {what}" for what, ok in verdicts]
    return "\n".join(lines), verdicts


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlalchemy": sa.__version__,
    }
    try:
        import importlib.metadata as md

        info["alembic"] = md.version("alembic")
        info["agno_alembic"] = md.version("agno-alembic")
    except Exception:
        pass
    import sqlite3

    info["sqlite"] = sqlite3.sqlite_version
    return info


def server_versions(backends: dict[str, Backend]) -> dict[str, str]:
    out = {}
    for name, b in backends.items():
        if name == "postgres":
            out[name] = b._admin("SELECT version()")[0][0][0].split(" on ")[0]
        elif name == "mysql":
            out[name] = b._admin("SELECT version()")[0][0][0]
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="runs_copy.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--sessions", nargs="+", type=int, default=[10_000],
                        help="sessions (several sizes: each is run, and peak RSS growth is checked)")
    parser.add_argument("--runs", type=int, default=5, help="runs per session")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SESSIONS:,} sessions")
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS),
                        help="which copies to time (default all; the report marks the others as not run)")
    parser.add_argument("--no-noop", action="store_true", help="skip the no-op up() timing")
    parser.add_argument("--noop-repeats", type=int, default=3)
    parser.add_argument("--no-lz4", action="store_true", help="skip the PostgreSQL lz4 baseline")
    parser.add_argument("--quiet-wait", type=float, default=60.0,
                        help="before each timed process, wait up to this many seconds for other processes to "
                             "quieten (0: do not wait)")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept source database with the same data")
    parser.add_argument("--keep", action="store_true", help="keep every database (with --reuse the source is kept)")
    parser.add_argument("--pg-url", default=os.environ.get("AGNO_ALEMBIC_BENCH_PG_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432"))
    parser.add_argument("--mysql-url", default=os.environ.get("AGNO_ALEMBIC_BENCH_MYSQL_URL",
                                                              "mysql+pymysql://root@127.0.0.1:3306"))
    parser.add_argument("--mysql-buffer-pool", metavar="SIZE",
                        help="run with the MariaDB/MySQL server's innodb_buffer_pool_size set to SIZE (e.g. 2G; "
                             "SET GLOBAL, restored at the end); default: the server's own setting")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    sizes = [QUICK_SESSIONS] if args.quick else args.sessions

    started = time.perf_counter()
    agno_python = generate.ensure_venv(AGNO_RELEASE)
    backends = {name: BACKEND_CLASSES[name](args) for name in args.backends}
    restore = None
    if args.mysql_buffer_pool and "mysql" in backends:
        mysql = backends["mysql"]
        restore = mysql._admin("SELECT @@innodb_buffer_pool_size")[0][0][0]
        size = _bytes(args.mysql_buffer_pool)
        mysql._admin(f"SET GLOBAL innodb_buffer_pool_size = {size}")
        log(f"mysql: innodb_buffer_pool_size {int(restore) >> 20} MB -> {size >> 20} MB for this run")
    try:
        return _main(args, backends, sizes, agno_python, started)
    finally:
        if restore is not None:
            backends["mysql"]._admin(f"SET GLOBAL innodb_buffer_pool_size = {int(restore)}")
            log(f"mysql: innodb_buffer_pool_size restored to {int(restore) >> 20} MB")


def _bytes(size: str) -> int:
    m = re.fullmatch(r"(\d+)([KMG]?)", size.strip().upper())
    if not m:
        raise SystemExit(f"--mysql-buffer-pool: {size!r} is not a size like 512M or 2G")
    return int(m[1]) << {"": 0, "K": 10, "M": 20, "G": 30}[m[2]]


def _main(args: argparse.Namespace, backends: dict[str, Backend], sizes: list[int], agno_python: Path,
          started: float) -> int:
    env = environment() | {"servers": server_versions(backends), "agno": AGNO_RELEASE}
    if "mysql" in backends:
        env["mysql_buffer_pool_mb"] = int(
            backends["mysql"]._admin("SELECT @@innodb_buffer_pool_size")[0][0][0]) >> 20
    log(f"environment: {json.dumps(env)}")
    results = []
    for size in sizes:
        for backend in backends.values():
            results.append(bench_copy(backend, args, size, agno_python))
    noop = {} if args.no_noop else {name: bench_noop(b, args, agno_python) for name, b in backends.items()}
    text, verdicts = report(results, noop)
    print(text, flush=True)
    elapsed = time.perf_counter() - started
    log(f"done in {elapsed:.0f}s")
    out = {"environment": env, "results": results, "noop": noop,
           "verdicts": [{"target": w, "met": ok} for w, ok in verdicts], "elapsed_s": round(elapsed, 1)}
    path = args.json or SCRATCH / f"results-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, default=str))
    log(f"results: {path}")
    if not args.keep and not args.reuse:
        for b in backends.values():
            b.drop("src")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
