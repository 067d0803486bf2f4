"""The migration lock on every backend, and the tools the safety tests share.

* **Lock tests** (this file): a second migration waits for the first and times out with
  :class:`~agno_alembic.errors.LockTimeoutError` naming the holder, changing nothing; ``break_lock`` clears a stale
  SingleStore row and refuses (or, with ``force``, terminates) a live PostgreSQL/MySQL holder; a killed holder's
  lock frees itself (SingleStore after its TTL); threads and tasks of one process are serialised; the lock is
  reentrant on one connection; ``-x lock_timeout`` reaches the environment.
* **Shared tools** (imported by ``test_concurrency``, ``test_faults``, ``test_hostile_names``, ``test_bad_input``):
  :class:`Target` (a database on one of the four backends; SingleStore is the ``singlestoredb://`` driver against
  MariaDB with ``SHARD KEY`` left out, as in ``tests/test_singlestore.py``), the worker processes that race, hold
  locks, fail and get killed (:class:`Worker`: forked from the warm test process, so eight start at once; each is
  a process of its own with its own connections), sample rows for every table (:func:`insert_rows`), and
  :func:`dump` (a database's schema and every row, comparable).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import decimal
import json
import logging
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests import forked_cli

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("sqlite", "postgres", "postgres18", "mysql", "singlestore")
BACKEND_OF = {"sqlite": "sqlite", "postgres": "postgresql", "mysql": "mysql", "singlestore": "singlestore"}


# ===================================================================================== targets


@dataclass
class Target:
    """One database on one backend, for one test."""

    kind: str  # sqlite | postgres | mysql | singlestore
    url: str
    schema: str | None
    """The schema our tables live in (``None``: the connection's own)."""

    @property
    def backend(self) -> str:
        return BACKEND_OF[self.kind]

    @property
    def db_schema(self) -> str:
        """What ``MigrationManager(db_schema=)`` takes for :attr:`schema` (``""``: the connection's own)."""
        return self.schema or ""

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url, poolclass=sa.pool.NullPool)

    def tables(self) -> set[str]:
        engine = self.engine()
        try:
            with engine.connect() as c:
                if self.schema and self.schema not in sa.inspect(c).get_schema_names():
                    return set()
                return set(sa.inspect(c).get_table_names(schema=self.schema))
        finally:
            engine.dispose()

    def worker(self, **spec: Any) -> dict[str, Any]:
        """A worker spec for this database."""
        return {"url": self.url, "schema": self.db_schema, "no_shard_keys": self.kind == "singlestore", **spec}


def _singlestore_url(server: str, database: str) -> str:
    return sa.make_url(server).set(drivername="singlestoredb", database=database).render_as_string(hide_password=False)


@contextlib.contextmanager
def make_target(kind: str, tmp_path: Path, *, schema: str | None = None) -> Iterator[Target]:
    """A fresh database of ``kind``; ``schema`` overrides the per-test schema name (PostgreSQL, MySQL)."""
    from tests.conftest import MYSQL_DATABASE_CHARSET, _need, make_backend

    if kind != "singlestore":
        where = tmp_path / uuid.uuid4().hex[:6]
        where.mkdir()
        with make_backend(kind, where) as b:  # postgres18: a Target of kind postgres, on PostgreSQL 18
            target = Target(b.kind, b.url, b.schema if schema is None else schema)
            try:
                yield target
            finally:
                if schema is not None and b.kind != "sqlite":
                    _drop_schema(b.kind, b.url, schema)
        return
    server = _need("mysql")
    from agno_alembic.dialects import singlestore

    database = f"agno_alembic_ss_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{database}` {MYSQL_DATABASE_CHARSET}")
    saved = singlestore.SHARD_KEYS
    singlestore.SHARD_KEYS = {}  # MariaDB cannot parse SHARD KEY (tests/test_singlestore.py shows it)
    try:
        yield Target("singlestore", _singlestore_url(server, database), None)
    finally:
        singlestore.SHARD_KEYS = saved
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
        admin.dispose()


def _drop_schema(kind: str, url: str, schema: str) -> None:
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            q = c.dialect.identifier_preparer.quote(schema)
            c.exec_driver_sql(f"DROP SCHEMA IF EXISTS {q} CASCADE" if kind == "postgres" else
                              f"DROP DATABASE IF EXISTS {q}")
    finally:
        admin.dispose()


# Tests of this file get their own SQLite directory (the lock file sits beside the database).
@pytest.fixture(params=KINDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with make_target(request.param, tmp_path) as t:
        yield t


# ===================================================================================== workers


@dataclass
class Result:
    returncode: int
    report: dict[str, Any]
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and bool(self.report.get("ok"))

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


class Worker:
    """A worker process: forked from this (already warm) interpreter, so eight of them start at once.

    It is a process of its own (own pid, own connections); it reports through a JSON file and ends with
    ``os._exit``.  The Popen-like methods are the ones the tests use.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        _warm(spec)
        handle, out = tempfile.mkstemp(prefix="agno-alembic-worker-", suffix=".json")
        os.close(handle)
        self.out = Path(out)
        self.proc = _FORK.Process(target=_child, args=(dict(spec), out), daemon=False)
        self.proc.start()

    @property
    def pid(self) -> int:
        assert self.proc.pid is not None
        return self.proc.pid

    def poll(self) -> int | None:
        return self.proc.exitcode

    def send_signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int | None:
        self.proc.join(timeout)
        if self.proc.exitcode is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
        return self.proc.exitcode

    def communicate(self) -> None:
        self.proc.join()


_FORK = multiprocessing.get_context("fork")


def _warm(spec: Mapping[str, Any]) -> None:
    """Import in the parent what a worker needs, so forked workers start at once."""
    import agno_alembic.manager  # noqa: F401

    url = sa.make_url(spec["url"])
    url.get_dialect()
    if url.get_backend_name() == "singlestoredb" and not _WARMED:  # its driver loads most of itself on connect
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with contextlib.suppress(Exception), engine.connect():
            _WARMED.append(True)
        engine.dispose()


_WARMED: list[bool] = []


def _child(spec: dict[str, Any], out: str) -> None:
    code = 1
    try:
        code = _worker(spec, out)
    except BaseException:
        import traceback

        Path(out).write_text(json.dumps({"ok": False, "crash": traceback.format_exc()}))
    finally:
        os._exit(code)


def start_worker(spec: Mapping[str, Any]) -> Worker:
    return Worker(spec)


def finish(proc: Worker, timeout: float = 300) -> Result:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)
        raise AssertionError(f"worker {proc.pid} timed out after {timeout}s") from None
    text = proc.out.read_text() if proc.out.exists() else ""
    with contextlib.suppress(OSError):
        proc.out.unlink()
    report: dict[str, Any] = json.loads(text) if text.strip() else {}
    return Result(proc.poll() or 0, report, report.get("crash", "") if isinstance(report, dict) else "")


def run_workers(specs: list[dict[str, Any]], tmp_path: Path, *, timeout: float = 300) -> list[Result]:
    """Start every worker, let them all begin at the same moment (a file barrier after imports), collect them."""
    gate = tmp_path / f"gate-{uuid.uuid4().hex[:6]}"
    gate.mkdir()
    procs = [start_worker({**spec, "ready": str(gate / f"ready-{i}"), "go": str(gate / "go")})
             for i, spec in enumerate(specs)]
    deadline = time.monotonic() + 120
    while sum(1 for p in gate.iterdir() if p.name.startswith("ready")) < len(procs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            break
        time.sleep(0.02)
    (gate / "go").write_text("go")
    return [finish(p, timeout) for p in procs]


def run_worker(spec: dict[str, Any], timeout: float = 300) -> Result:
    return finish(start_worker(spec), timeout)


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout}s")
        time.sleep(0.01)


@contextlib.contextmanager
def holding(target: Target, tmp_path: Path, **spec: Any) -> Iterator[Worker]:
    """A worker process holding ``target``'s migration lock for the block (released when the block ends)."""
    held, release = tmp_path / f"held-{uuid.uuid4().hex[:6]}", tmp_path / f"release-{uuid.uuid4().hex[:6]}"
    proc = start_worker(target.worker(mode="hold", held=str(held), release=str(release), **spec))
    try:
        deadline = time.monotonic() + 60
        while not held.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"lock holder did not start: {finish(proc).report}")
            time.sleep(0.01)
        yield proc
    finally:
        release.write_text("")
        if proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


# -- the worker itself (runs in a subprocess) ----------------------------------------------------------------------


class _Events:
    """Counts the statements and commits a worker issues; kills it (SIGKILL) at one of them, or records them all."""

    def __init__(self, kill_at: int | None, trace: str | None, steps: list[str], fail_at: int | None = None,
                 pause_on: str | None = None, paused: str | None = None) -> None:
        self.n = 0
        self.pause_on = re.compile(pause_on, re.I | re.S) if pause_on else None
        self.paused = paused
        self.kill_at = kill_at
        self.fail_at = fail_at
        self.trace = trace
        self.steps = steps
        self.events: list[dict[str, Any]] = []
        self.kill_at_sql: list[str] = []
        """Kill before the ``kill_at_nth`` statement holding every one of these words (case-insensitive)."""
        self.kill_at_nth = 1
        self.matched = 0

    def _event(self, kind: str, sql: str) -> None:
        if "agno_alembic_lock" in sql:
            return  # the SingleStore lock row's own statements (and its heartbeat) are not the migration's
        if self.kill_at_sql and all(w.lower() in sql.lower() for w in self.kill_at_sql):
            self.matched += 1
            if self.matched == self.kill_at_nth:
                os.kill(os.getpid(), signal.SIGKILL)
        self.n += 1
        if self.trace is not None:
            self.events.append({"n": self.n, "type": kind, "step": self.steps[-1] if self.steps else None,
                                "sql": " ".join(sql.split())[:120], "t": time.time()})
        if self.kill_at is not None and self.n == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if self.pause_on is not None and self.paused and self.pause_on.search(sql):
            self.pause_on = None  # once: write the file, then sleep while the test does its harm
            Path(self.paused).write_text(str(os.getpid()))
            time.sleep(30)
        if self.fail_at is not None and self.n == self.fail_at:
            raise sa.exc.OperationalError(sql[:200], None, RuntimeError("injected failure"))

    def install(self) -> None:
        sa.event.listen(sa.engine.Engine, "before_cursor_execute",
                        lambda conn, cursor, statement, *a: self._event("statement", statement))
        sa.event.listen(sa.engine.Engine, "commit", lambda conn: self._event("commit", "COMMIT"))

    def write(self) -> None:
        if self.trace is not None:
            Path(self.trace).write_text(json.dumps(self.events))


def _worker(spec: dict[str, Any], out: str) -> int:
    from agno_alembic import SyncMigrationManager, commands, lock
    from agno_alembic.errors import AgnoAlembicError
    from agno_alembic.naming import Names

    if spec.get("no_shard_keys"):
        from agno_alembic.dialects import singlestore

        singlestore.SHARD_KEYS = {}
    if spec.get("lock_ttl"):
        lock.DEFAULT_TTL = float(spec["lock_ttl"])
    if spec.get("old_mysql_lock"):  # the GET_LOCK design, even on a Galera node (tests/test_galera.py shows it fail)
        lock._db_lock = lambda connection, backend, schema, ttl: lock._MySQLLock(connection, schema)
    steps: list[str] = []

    class Steps(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if message.startswith(("Running upgrade", "Running downgrade")):
                steps.append(message.split(",")[0].replace("Running ", ""))

    alembic_log = logging.getLogger("alembic.runtime.migration")
    alembic_log.setLevel(logging.INFO)
    alembic_log.addHandler(Steps())
    alembic_log.propagate = False
    events = _Events(spec.get("kill_at"), spec.get("trace"), steps, spec.get("fail_at"), spec.get("pause_on"),
                     spec.get("paused"))
    events.kill_at_sql, events.kill_at_nth = spec.get("kill_at_sql") or [], spec.get("kill_at_nth", 1)
    events.install()
    if spec.get("ready"):
        Path(spec["ready"]).write_text("")
        _wait_for(Path(spec["go"]), 120)
    report: dict[str, Any] = {"ok": True, "pid": os.getpid()}
    began = time.time()
    url, schema = spec["url"], spec.get("schema", "")
    tables = spec.get("tables") or {}
    try:
        mode = spec["mode"]
        if mode in ("up", "down"):
            mm = SyncMigrationManager(url, db_schema=schema, lock_timeout=spec.get("lock_timeout"),
                                      online=spec.get("online", True), **tables)
            if mode == "up":
                changes = mm.up(target_version=spec.get("target_version"), table_type=spec.get("table_type"),
                                create_missing=spec.get("create_missing", True))
            else:
                changes = mm.down(spec["target_version"], table_type=spec.get("table_type"),
                                  allow_data_loss=bool(spec.get("allow_data_loss")))
            report["changes"] = [[c.table_type, c.before, c.after] for c in changes]
        elif mode == "hold":
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            with engine.connect() as conn, lock.hold(conn, schema=schema or None, timeout=spec.get("lock_timeout")):
                Path(spec["held"]).write_text(str(os.getpid()))
                deadline = time.monotonic() + float(spec.get("hold_seconds", 120))
                while not Path(spec["release"]).exists() and time.monotonic() < deadline:
                    time.sleep(0.02)
            engine.dispose()
        elif mode == "alembic-upgrade":
            config = commands.make_config(url, names=Names(schema=schema or None), **spec.get("attributes", {}))
            commands.upgrade(config, spec["destinations"])
        else:
            raise ValueError(mode)
    except AgnoAlembicError as exc:
        report = {"ok": False, "pid": os.getpid(), "error": {"type": type(exc).__name__, "message": str(exc)}}
    report["steps"] = steps
    report["began"], report["ended"] = began, time.time()
    events.write()
    Path(out).write_text(json.dumps(report, default=str))
    return 0 if report["ok"] else 3


# ===================================================================================== dumps


def norm(value: Any) -> Any:
    """A column value as comparable data: JSON text parsed, numbers and booleans unified, bytes decoded."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str) and (value[:1] in ("{", "[", '"') or value == "null"):
        try:
            return norm(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == int(value) else float(value)
    if isinstance(value, dict):
        return {k: norm(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _key_columns(insp: Any, table: str, schema: str | None, columns: list[str]) -> list[str]:
    pk = insp.get_pk_constraint(table, schema=schema).get("constrained_columns") or []
    if pk:
        return list(pk)
    for unique in insp.get_unique_constraints(table, schema=schema):
        return list(unique["column_names"])
    return columns


def rows(engine_or_conn: Any, schema: str | None, *, exclude: set[str] = frozenset()) -> dict[str, dict[Any, dict]]:
    """Every row of every table of ``schema``: ``{table: {key: {column: value}}}`` (key: the primary key)."""
    out: dict[str, dict[Any, dict]] = {}
    with contextlib.ExitStack() as stack:
        conn = engine_or_conn if isinstance(engine_or_conn, sa.Connection) else stack.enter_context(
            engine_or_conn.connect())
        insp = sa.inspect(conn)
        for table in sorted(set(insp.get_table_names(schema=schema)) - set(exclude)):
            columns = [c["name"] for c in insp.get_columns(table, schema=schema)]
            keys = _key_columns(insp, table, schema, columns)
            t = sa.table(table, *[sa.column(c) for c in columns], schema=schema)
            found: dict[Any, dict] = {}
            for row in conn.execute(sa.select(t)):
                values = {c: norm(v) for c, v in row._mapping.items()}
                key = tuple(json.dumps(values[k], sort_keys=True, default=str) for k in keys)
                if key in found:  # a table without keys: count duplicates
                    key = (*key, f"#{sum(1 for k in found if k[: len(key)] == key)}")
                found[key] = values
            out[table] = found
    return out


@dataclass
class Dump:
    schema: dict[str, Any]
    rows: dict[str, dict[Any, dict]]
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return sum(len(r) for r in self.rows.values())


def dump(target: Target, *, masked: Mapping[str, set[str]] | None = None) -> Dump:
    """``target``'s schema (reflected as the golden tests do) and rows; ``masked`` blanks migration-time columns.

    The lock table of SingleStore and the timestamps of ``agno_schema_versions`` are left out.
    """
    from agno_alembic.lock import LOCK_TABLE
    from tests.golden.reflect import reflect

    engine = target.engine()
    try:
        schema = reflect(engine, target.schema, exclude={LOCK_TABLE})
        stamped = schema.get("agno_schema_versions")
        versions = {r["table_name"]: r["version"] for r in stamped or []}
        if stamped is not None:  # the stamps' timestamps are the migration's time
            schema["agno_schema_versions"] = [{"table_name": t, "version": v} for t, v in sorted(versions.items())]
        data = rows(engine, target.schema, exclude={LOCK_TABLE})
    finally:
        engine.dispose()
    data.pop("agno_schema_versions", None)
    for table, columns in (masked or {}).items():
        for row in data.get(table, {}).values():
            for c in columns:
                if c in row:
                    row[c] = "<masked>"
    return Dump(schema, data, versions)


def differences(expected: Dump, actual: Dump) -> list[str]:
    """What differs between two dumps, schema first, then rows (by table and key)."""
    from tests.golden.reflect import diff

    out = diff(expected.schema, actual.schema)
    for table in sorted(expected.rows.keys() | actual.rows.keys()):
        exp, act = expected.rows.get(table, {}), actual.rows.get(table, {})
        for key in sorted(exp.keys() - act.keys(), key=str)[:5]:
            out.append(f"{table}: row {key} missing")
        for key in sorted(act.keys() - exp.keys(), key=str)[:5]:
            out.append(f"{table}: row {key} extra")
        changed = [k for k in exp.keys() & act.keys() if exp[k] != act[k]]
        for key in sorted(changed, key=str)[:5]:
            cols = sorted(c for c in exp[key].keys() | act[key].keys() if exp[key].get(c) != act[key].get(c))
            out.append(f"{table}: row {key} differs in {cols}: {[exp[key].get(c) for c in cols]} != "
                       f"{[act[key].get(c) for c in cols]}")
    return out


# ===================================================================================== sample data

BASE_TS = 1_735_689_600


def _legacy_runs(session_id: str, count: int, i: int) -> list[dict[str, Any]]:
    return [
        {"run_id": f"{session_id}-run-{k}", "session_id": session_id, "agent_id": "agent-1" if i % 3 else None,
         "team_id": "team-1" if i % 3 == 0 else None, "status": "COMPLETED", "content": f"answer {k}",
         "messages": [{"role": "user", "content": f"q{k}"}], "created_at": BASE_TS + 60 * k + i}
        for k in range(count)
    ]


def _filler(column: sa.Column, i: int) -> Any:
    t, name = column.type, column.name
    if isinstance(t, sa.Boolean):
        return True  # metrics: completed days only (3.0.0 drops an unfinished unowned newest day, as Agno does)
    if isinstance(t, sa.Integer | sa.BigInteger):
        return BASE_TS + 10 * i + 1
    if isinstance(t, sa.Date):
        return dt.date(2025, 1, 1) + dt.timedelta(days=i)
    if isinstance(t, sa.DateTime):
        return dt.datetime(2025, 1, 1, 12) + dt.timedelta(minutes=i)
    if isinstance(t, sa.JSON):
        return {"field": name, "row": i, "nested": {"list": [i, "x"]}}
    if isinstance(t, sa.LargeBinary):
        return f"{name}-{i}".encode()
    value = f"{name}-{i:05d}"
    length = getattr(t, "length", None)
    return value[-length:] if length and len(value) > length else value


def sample_rows(table_type: str, backend: str, version: str, names: Any, count: int,
                parents: Mapping[str, list[dict[str, Any]]] | None = None, *, runs_per_session: int = 2,
                ) -> list[dict[str, Any]]:
    """``count`` rows for ``table_type``'s table as it is at ``version``: distinct keys, values of each column's
    type, foreign keys pointing at ``parents`` (rows by table type); sessions hold legacy runs where the column
    exists."""
    from agno_alembic import shapes

    spec = shapes.spec(table_type, backend, version, names)
    table = spec.sa_table()
    out = []
    for i in range(count):
        row = {c.name: _filler(c, i) for c in table.columns}
        if table_type == "sessions":
            row["session_id"] = f"session-{i:05d}"
            row["session_type"] = "agent"
            if "runs" in row:
                row["runs"] = _legacy_runs(row["session_id"], runs_per_session, i) if runs_per_session else None
        if table_type == "memories":
            row["memory"] = {"memory": f"fact {i}"}
        if table_type == "metrics":
            row["aggregation_period"] = "daily"
        for fk in spec.foreign_keys:
            rows_of_parent = (parents or {}).get(fk.referred_type) or []
            if not rows_of_parent:
                raise AssertionError(f"{table_type} needs rows of {fk.referred_type} first")
            parent = rows_of_parent[i % len(rows_of_parent)]
            for column, referred in zip(fk.columns, fk.referred_columns, strict=True):
                row[column] = parent[referred]
        out.append(row)
    return out


def insert_rows(target: Target, names: Any, version_of: Mapping[str, str], count: int,
                parents: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> dict[str, list[dict]]:
    """Fill the tables of ``version_of`` (table type -> its schema version now), parents first."""
    from agno_alembic import registry, shapes

    parents = {} if parents is None else parents
    order = [t.name for t in registry.TABLE_TYPES if t.name in version_of]
    done: set[str] = set()
    engine = target.engine()
    try:
        with engine.begin() as c:
            while len(done) < len(order):
                for name in order:
                    spec = shapes.spec(name, target.backend, version_of[name], names)
                    needs = {f.referred_type for f in spec.foreign_keys}
                    if name in done or not needs <= (done | set(parents)):
                        continue
                    made = sample_rows(name, target.backend, version_of[name], names, count, parents, **kw)
                    c.execute(sa.insert(spec.sa_table()), made)
                    parents[name] = made
                    done.add(name)
    finally:
        engine.dispose()
    return parents


# ===================================================================================== the lock tests


def _sync(target: Target, **kw: Any) -> Any:
    from agno_alembic import SyncMigrationManager

    return SyncMigrationManager(target.url, db_schema=target.db_schema, **kw)


def test_a_second_migration_waits_then_times_out_naming_the_holder_and_changes_nothing(target, tmp_path):
    from agno_alembic.errors import LockTimeoutError

    with holding(target, tmp_path) as holder:
        before = target.tables()
        started = time.monotonic()
        with pytest.raises(LockTimeoutError) as info:
            _sync(target, lock_timeout=1.5).up(create_missing=True)
        waited = time.monotonic() - started
        assert target.tables() == before  # nothing ran: not even our version table or the schema
        error = info.value
        assert 1.5 <= waited < 15, waited
        assert error.timeout == 1.5 and error.holder is not None
        assert str(error.holder) in str(error) and "break-lock" in str(error)
        if target.kind in ("sqlite", "singlestore"):  # the holder recorded its OS process
            assert error.holder.pid == holder.pid
            assert error.holder.host and not error.holder.stale
        else:  # the holding session, as the server reports it
            assert error.holder.session is not None
            assert ("PostgreSQL backend pid" if target.kind == "postgres" else "MySQL connection id") in str(error)
    _sync(target, lock_timeout=30).up(create_missing=True)  # released: the next one runs
    assert "agno_sessions" in target.tables()


def alembic_cli(target: Target, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``alembic`` command line with our ``alembic.ini``, ``-x url=`` and ``-x schema=`` for ``target``."""
    args = ("-c", str(ROOT / "alembic.ini"), "-x", f"url={target.url}", "-x", f"schema={target.schema or 'none'}",
            *args)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return forked_cli.run(Path(sys.executable).parent / "alembic", args, cwd=ROOT, env=env, timeout=300)


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "postgres18", "singlestore"])
def test_alembic_command_line_waits_for_the_lock_and_reports_the_holder(kind, tmp_path):
    """The environment takes the lock too (what the ``alembic`` CLI runs); ``-x lock_timeout`` reaches it.

    (The lock itself is the facade's, tested on every backend above; MySQL's differs from PostgreSQL's only there.)
    """
    with make_target(kind, tmp_path) as target:
        with holding(target, tmp_path) as holder:
            started = time.monotonic()
            proc = alembic_cli(target, "-x", "lock_timeout=1", "upgrade", "agno_memories@head")
            said = proc.stdout + proc.stderr
            assert proc.returncode != 0
            assert "FAILED: Timed out after 1s" in said and "held by" in said, said[-2000:]
            if target.kind in ("sqlite", "singlestore"):
                assert f"pid {holder.pid} on host" in said
            assert time.monotonic() - started < 30
            assert "agno_memories" not in target.tables()
        proc = alembic_cli(target, "-x", "lock_timeout=30", "upgrade", "agno_memories@head")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "agno_memories" in target.tables()


def test_a_killed_holder_never_blocks_for_long(target, tmp_path):
    """kill -9 of the holder: the server / kernel frees the lock at once; SingleStore's row expires after its TTL."""
    from agno_alembic.errors import LockTimeoutError

    ttl = 3
    held, release = tmp_path / "held", tmp_path / "release"
    proc = start_worker(target.worker(mode="hold", held=str(held), release=str(release), lock_ttl=ttl))
    _wait_for(held)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    started = time.monotonic()
    if target.kind == "singlestore":  # the row outlives its holder until it expires
        with pytest.raises(LockTimeoutError) as info:
            _sync(target, lock_timeout=0.5).up(table_type="memories", create_missing=True)
        assert info.value.holder is not None and info.value.holder.stale  # its pid is gone on this host
        import agno_alembic.lock as lock_module

        saved = lock_module.DEFAULT_TTL
        lock_module.DEFAULT_TTL = ttl
        try:
            _sync(target, lock_timeout=30).up(table_type="memories", create_missing=True)
        finally:
            lock_module.DEFAULT_TTL = saved
        assert time.monotonic() - started < ttl + 10
    else:
        _sync(target, lock_timeout=5).up(table_type="memories", create_missing=True)
        assert time.monotonic() - started < 10
    assert "agno_memories" in target.tables()


def test_break_lock(target, tmp_path):
    from agno_alembic import lock
    from agno_alembic.errors import LockError

    assert lock.break_lock(target.url, db_schema=target.db_schema) is None  # nothing held, nothing to break
    with holding(target, tmp_path):
        current = lock.current_holder(target.url, db_schema=target.db_schema)
        assert current is not None
        with pytest.raises(LockError) as info:  # a live holder is never broken without force
            lock.break_lock(target.url, db_schema=target.db_schema)
        assert str(current.owner) in str(info.value)
        if target.kind == "sqlite":
            with pytest.raises(LockError, match="cannot be broken"):
                lock.break_lock(target.url, db_schema=target.db_schema, force=True)
            return
        broken = lock.break_lock(target.url, db_schema=target.db_schema, force=True)
        assert broken is not None and broken.owner == current.owner
        assert lock.current_holder(target.url, db_schema=target.db_schema) is None
        # nobody waits for the broken holder
        _sync(target, lock_timeout=5).up(table_type="memories", create_missing=True)
    assert "agno_memories" in target.tables()


def test_break_lock_clears_a_dead_holders_singlestore_row_without_force(tmp_path):
    from agno_alembic import lock

    with make_target("singlestore", tmp_path) as target:
        held, release = tmp_path / "held", tmp_path / "release"
        proc = start_worker(target.worker(mode="hold", held=str(held), release=str(release), lock_ttl=600))
        _wait_for(held)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        holder = lock.current_holder(target.url, db_schema="")
        assert holder is not None and holder.stale and holder.pid == proc.pid
        assert holder.expires is not None
        cleared = lock.break_lock(target.url, db_schema="")  # stale: no force needed
        assert cleared is not None and cleared.pid == proc.pid
        assert lock.current_holder(target.url, db_schema="") is None
        _sync(target, lock_timeout=2).up(table_type="memories", create_missing=True)
        engine = target.engine()
        try:
            with engine.connect() as c:  # the lock row is gone once the migration is over
                assert c.execute(sa.select(sa.func.count()).select_from(lock.lock_table(None))).scalar() == 0
        finally:
            engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite"])
def test_threads_and_tasks_of_one_process_are_serialised(kind, tmp_path):
    """Alembic's ``op``/``context`` are process-global: concurrent calls in one process must not interleave."""
    from agno_alembic import MigrationManager

    with make_target(kind, tmp_path) as target:
        errors: list[BaseException] = []
        results: list[Any] = []

        def up() -> None:
            try:
                results.append(_sync(target, lock_timeout=120).up(create_missing=True))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=up) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        applied = [c for changes in results for c in changes]
        assert len({c.table_type for c in applied}) == len(applied)  # every table moved by exactly one call
        assert sum(1 for changes in results if changes) == 1

        _sync(target).down("2.0.0", table_type="memories")

        async def gather() -> list[Any]:
            async_url = target.url.replace("sqlite://", "sqlite+aiosqlite://").replace(
                "postgresql+psycopg://", "postgresql+psycopg_async://")
            mms = [MigrationManager(async_url, db_schema=target.db_schema, lock_timeout=120) for _ in range(4)]
            return await asyncio.gather(
                mms[0].up(table_type="memories"), mms[1].up(table_type="memories"), mms[2].status("memories"),
                asyncio.to_thread(_sync(target, lock_timeout=120).up, None, "memories"),
            )

        *ups, status, threaded = asyncio.run(gather())
        assert sorted(len(changes) for changes in (*ups, threaded)) == [0, 0, 1]  # exactly one call upgraded it
        assert [c.after for changes in (*ups, threaded) for c in changes] == ["3.0.0"]
        assert status[0].table_type == "memories"


def test_the_lock_is_reentrant_on_one_connection_and_separate_per_schema(tmp_path):
    from agno_alembic import lock
    from tests.conftest import _need

    server = _need("postgres")
    engine = sa.create_engine(server, poolclass=sa.pool.NullPool)
    s1, s2 = (f"s_{uuid.uuid4().hex[:10]}" for _ in range(2))  # never a name another test run may lock
    try:
        with engine.connect() as a, engine.connect() as b:
            with lock.hold(a, schema=s1, timeout=1):
                with lock.hold(a, schema=s1, timeout=1), lock.hold(b, schema=s2, timeout=1):
                    pass  # the same lock again on its connection; another schema's lock on another
                holder = lock.current_holder(b, db_schema=s1)  # still held after the inner block
                assert holder is not None and holder.session == a.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                a.commit()
            assert lock.current_holder(b, db_schema=s1) is None  # released once, after the outer block
            assert not a.in_transaction()
    finally:
        engine.dispose()


def test_lock_options_are_validated():
    from agno_alembic import SyncMigrationManager, lock
    from agno_alembic.errors import ConfigurationError

    for bad in ("soon", -1, float("nan"), float("inf"), True, [1]):
        with pytest.raises(ConfigurationError, match="lock_timeout"):
            SyncMigrationManager("sqlite://", lock_timeout=bad)
    with pytest.raises(ConfigurationError, match="lock_ttl"):
        lock.parse_seconds("0.5", "lock_ttl")
    assert lock.parse_seconds("2.5", "lock_timeout") == 2.5 and lock.parse_seconds(None, "lock_timeout") is None
    with pytest.raises(ConfigurationError, match="db_schema"):
        lock.break_lock("sqlite://", db_schema=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="force"):
        lock.break_lock("sqlite://", force="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="break_lock takes"):
        lock.break_lock(42)




def test_sqlite_lock_file_stays_out_of_git_status(tmp_path):
    """The lock file sits beside the database in .agno-alembic/, whose .gitignore hides it from git status."""
    import shutil

    from agno_alembic import SyncMigrationManager
    from agno_alembic.lock import sqlite_lock_file

    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "project"
    repo.mkdir()
    subprocess.run([git, "init", "-q", str(repo)], check=True)
    SyncMigrationManager(f"sqlite:///{repo / 'agno.db'}").up(table_type="memory")
    lock_file = Path(sqlite_lock_file(str(repo / "agno.db")))
    assert lock_file == repo / ".agno-alembic" / "agno.db.lock" and lock_file.is_file()
    assert not list(repo.glob("*.agno-alembic.lock"))
    status = subprocess.run([git, "status", "--porcelain", "--untracked-files=all"], cwd=repo, check=True,
                            capture_output=True, text=True).stdout.splitlines()
    assert status == ["?? agno.db"], status  # the database is the user's business; the lock file is not listed
