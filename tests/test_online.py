"""Online mode: DDL under a live application, on every backend, with real locks held by real sessions.

An "application" session holds a lock on the table a step alters (an open transaction that read it on PostgreSQL
and MariaDB, a write transaction on SQLite) while ``up()`` runs; a prober keeps querying the table meanwhile.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import DDLLockTimeoutError, RewriteRefusedError, SyncMigrationManager, shapes
from tests.conftest import Backend

HOLD = 2.0


def _manager(backend: Backend, **kw: Any) -> SyncMigrationManager:
    return SyncMigrationManager(backend.url, db_schema=backend.schema or "", **kw)


def _memories_at_2_0_0(backend: Backend, rows: int = 20) -> sa.Table:
    _manager(backend).up(target_version="2.0.0", table_type="memories", create_missing=True)
    # the versions table first: the step's only DDL is then on memories
    _manager(backend).up(target_version="2.3.0", table_type="versions", create_missing=True)
    kind = {"postgres": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}[backend.kind]
    table = shapes.spec("memories", kind, "2.0.0", backend.names).sa_table()
    with backend.engine.begin() as c:
        c.execute(table.insert(), [
            {"memory_id": f"m{i:05d}", "memory": {"memory": f"fact {i}"}, "user_id": f"u{i % 7}", "updated_at": i}
            for i in range(rows)
        ])
    return table


def _qualified(backend: Backend, name: str) -> str:
    q = backend.engine.dialect.identifier_preparer
    return q.format_table(sa.table(name, schema=backend.schema))


class _Holder(threading.Thread):
    """An application session holding a lock on ``table``: its id is ``session_id``.

    It holds for ``seconds``; with ``until_waited``, for ``seconds`` after the migration first logs that it waits
    for this lock (at most 30 s): a loaded machine can take longer than a fixed hold to reach the step, which would
    then find the lock already released. ``held`` is when it took the lock and when it let go (monotonic clock).
    """

    WAITED = "waits for a lock held by the application"

    def __init__(self, backend: Backend, table: str, seconds: float, *, until_waited: bool = False) -> None:
        super().__init__(daemon=True)
        self.backend, self.table, self.seconds = backend, table, seconds
        self.holding = threading.Event()
        self.waited = threading.Event() if until_waited else None
        self.session_id: int | None = None
        self.error: BaseException | None = None
        self.held = (0.0, 0.0)

    def _hold(self) -> None:
        if self.waited is None:
            time.sleep(self.seconds)
            return
        waited = self.waited

        class Seen(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if _Holder.WAITED in record.getMessage():
                    waited.set()

        handler, logger = Seen(logging.INFO), logging.getLogger("agno_alembic")
        logger.addHandler(handler)
        try:
            if waited.wait(30):
                time.sleep(self.seconds)
        finally:
            logger.removeHandler(handler)

    def run(self) -> None:
        engine = sa.create_engine(self.backend.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as c:
                if self.backend.kind == "sqlite":
                    c.connection.driver_connection.isolation_level = None
                    c.exec_driver_sql("BEGIN IMMEDIATE")
                    c.exec_driver_sql(f"UPDATE {self.table} SET updated_at = updated_at")
                else:
                    query = "SELECT pg_backend_pid()" if self.backend.kind == "postgres" else "SELECT CONNECTION_ID()"
                    self.session_id = int(c.exec_driver_sql(query).scalar_one())
                    c.exec_driver_sql(f"SELECT COUNT(*) FROM {self.table}").scalar_one()  # holds its lock
                took = time.monotonic()
                self.holding.set()
                self._hold()
                if self.backend.kind == "sqlite":
                    c.exec_driver_sql("COMMIT")
                else:
                    c.rollback()
                self.held = (took, time.monotonic())
        except BaseException as exc:
            self.error = exc
            self.holding.set()
        finally:
            engine.dispose()


class _Prober(threading.Thread):
    """The rest of the application: reads the table every 20 ms (``query``, ``{table}`` the table's qualified name;
    by default one memory); ``longest`` is its slowest read, ``failures`` the errors its reads met, and
    :meth:`longest_during` its slowest read among those that overlap a span of time."""

    def __init__(self, backend: Backend, table: str,
                 query: str = "SELECT memory_id FROM {table} WHERE memory_id = 'm00001'") -> None:
        super().__init__(daemon=True)
        self.backend, self.table, self.query = backend, table, query.format(table=table)
        self.stop = threading.Event()
        self.longest = 0.0
        self.reads = 0
        self.failures: list[str] = []
        self.spans: list[tuple[float, float]] = []

    def longest_during(self, start: float, end: float) -> float:
        """The slowest read that was under way at some moment between ``start`` and ``end`` (monotonic clock)."""
        return max((e - s for s, e in self.spans if s <= end and e >= start), default=0.0)

    def run(self) -> None:
        engine = sa.create_engine(self.backend.url, poolclass=sa.pool.NullPool,
                                  connect_args={"timeout": 5} if self.backend.kind == "sqlite" else {})
        try:
            with engine.connect() as c:
                while not self.stop.is_set():
                    started = time.monotonic()
                    try:
                        c.exec_driver_sql(self.query).all()
                        c.commit()
                    except sa.exc.DBAPIError as exc:
                        self.failures.append(str(exc.orig))
                        c.rollback()
                    ended = time.monotonic()
                    self.spans.append((started, ended))
                    self.longest = max(self.longest, ended - started)
                    self.reads += 1
                    time.sleep(0.02)
        finally:
            engine.dispose()


@pytest.fixture
def traffic() -> Iterator[list[threading.Thread]]:
    threads: list[threading.Thread] = []
    yield threads
    for t in threads:
        if isinstance(t, _Prober):
            t.stop.set()
        t.join(timeout=30)


def _columns(backend: Backend, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(backend.engine).get_columns(table, schema=backend.schema)}


def test_ddl_under_a_held_application_lock_waits_retries_and_never_blocks_other_queries(
    backend: Backend, traffic: list[threading.Thread], caplog: pytest.LogCaptureFixture
) -> None:
    table = _memories_at_2_0_0(backend)
    qualified = _qualified(backend, table.name)
    holder, prober = _Holder(backend, qualified, HOLD, until_waited=True), _Prober(backend, qualified)
    traffic += [holder, prober]
    prober.start()
    holder.start()
    assert holder.holding.wait(10) and holder.error is None, holder.error
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="agno_alembic"):
        changes = _manager(backend, ddl_deadline=60).up(target_version="2.3.0", table_type="memories")
    took = time.monotonic() - started
    holder.join(30)
    prober.stop.set()
    prober.join(30)
    assert [(c.table_type, c.after) for c in changes] == [("memories", "2.3.0")]
    assert {"created_at", "feedback"} <= _columns(backend, table.name)
    assert took >= HOLD * 0.5, f"the step did not wait for the application's lock ({took:.2f}s)"
    assert "waits for a lock held by the application" in caplog.text
    assert prober.reads > 10 and not prober.failures, prober.failures
    # Offline, the ALTER would queue in front of these reads for the whole hold (2 s); online each try gives up
    # after ddl_lock_wait (50 ms), so no read waits long while the application holds its lock. (What follows the
    # hold, on PostgreSQL the small table's JSONB rewrite under its short exclusive lock, is not this test's claim:
    # on a loaded machine it has taken 0.9 s; the benchmark measures the stall of a whole step.)
    longest = prober.longest_during(*holder.held)
    assert holder.held[1] > holder.held[0] and longest < HOLD / 4, f"a read waited {longest:.2f}s behind the migration"


def test_ddl_gives_up_at_the_deadline_naming_the_blocking_session(
    backend: Backend, traffic: list[threading.Thread]
) -> None:
    table = _memories_at_2_0_0(backend)
    holder = _Holder(backend, _qualified(backend, table.name), 8.0)
    traffic.append(holder)
    holder.start()
    assert holder.holding.wait(10) and holder.error is None, holder.error
    started = time.monotonic()
    with pytest.raises(DDLLockTimeoutError) as info:
        _manager(backend, ddl_deadline=1.5).up(target_version="2.3.0", table_type="memories")
    took = time.monotonic() - started
    error = info.value
    assert 1.5 <= took < 7.0
    assert error.table == table.name and error.attempts > 1 and error.deadline == 1.5
    if backend.kind == "sqlite":
        assert error.blockers == ()  # SQLite cannot tell who holds its lock
    else:
        assert any(str(holder.session_id) in b for b in error.blockers), error.blockers
        assert str(holder.session_id) in str(error)
    holder.join(30)
    # nothing half-applied that a rerun cannot finish: it converges once the application lets go
    _manager(backend).up(target_version="2.3.0", table_type="memories")
    assert {"created_at", "feedback"} <= _columns(backend, table.name)


def test_offline_mode_runs_the_same_step(backend: Backend) -> None:
    table = _memories_at_2_0_0(backend)
    changes = _manager(backend, online=False).up(target_version="2.3.0", table_type="memories")
    assert [(c.table_type, c.after) for c in changes] == [("memories", "2.3.0")]
    assert {"created_at", "feedback"} <= _columns(backend, table.name)


@pytest.fixture
def postgres_backend(tmp_path) -> Iterator[Backend]:
    from tests.conftest import make_backend

    with make_backend("postgres", tmp_path) as b:
        yield b


def test_postgresql_index_is_built_concurrently_and_an_invalid_one_rebuilt(postgres_backend: Backend) -> None:
    backend = postgres_backend
    table = _memories_at_2_0_0(backend)
    qualified = _qualified(backend, table.name)
    # An interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index under the name the step builds.
    with backend.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c, \
            pytest.raises(sa.exc.IntegrityError):
        c.exec_driver_sql(f"CREATE UNIQUE INDEX CONCURRENTLY idx_agno_memories_created_at ON {qualified} (user_id)")
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        SyncMigrationManager(engine, db_schema=backend.schema).up(target_version="2.3.0", table_type="memories")
    finally:
        engine.dispose()
    assert any(s.startswith("DROP INDEX CONCURRENTLY") for s in statements), statements
    assert any(s.startswith("CREATE INDEX CONCURRENTLY idx_agno_memories_created_at") for s in statements)
    with backend.engine.connect() as c:
        valid = c.execute(sa.text(
            "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_namespace n ON n.oid = x.relnamespace "
            "WHERE x.relname = 'idx_agno_memories_created_at' "
            "AND n.nspname = :s"), {"s": backend.schema}).one()
    assert valid[0] is True and "(created_at)" in valid[1]


def test_postgresql_json_to_jsonb_rewrite_a_shadow_cannot_carry_is_refused_online_unless_accepted(
    postgres_backend: Backend,
) -> None:
    """A big table is rewritten online through a shadow table (tests/test_online_rewrite.py); one with something
    the shadow would lose (here an index the shapes do not know) falls back to the in-place rewrite, refused online
    unless accepted."""
    backend = postgres_backend
    from agno_alembic.dialects.online import REWRITE_MOMENT_ROWS

    table = _memories_at_2_0_0(backend, rows=REWRITE_MOMENT_ROWS + 1)
    with backend.engine.begin() as c:
        c.exec_driver_sql(f"CREATE INDEX mine ON {_qualified(backend, table.name)} (user_id, updated_at)")
    with pytest.raises(RewriteRefusedError) as info:
        _manager(backend).up(target_version="2.3.0", table_type="memories")
    assert info.value.rows == REWRITE_MOMENT_ROWS + 1 and info.value.allow_option == "allow_rewrite"
    assert set(info.value.columns) == {"memory", "input", "topics"} and "mine" in str(info.value)
    types = {c["name"]: str(c["type"]) for c in sa.inspect(backend.engine).get_columns(table.name, backend.schema)}
    assert types["memory"] == "JSON" and "created_at" not in types  # nothing changed
    _manager(backend, allow_rewrite=True).up(target_version="2.3.0", table_type="memories")
    types = {c["name"]: str(c["type"]) for c in sa.inspect(backend.engine).get_columns(table.name, backend.schema)}
    assert types["memory"] == "JSONB" and "created_at" in types


# -- data steps: committed batches, the application's writes kept ------------------------------------------------


def _sessions_at_2_5_6(backend: Backend, count: int, runs_each: int = 3) -> tuple[sa.Table, sa.Table]:
    _manager(backend).up(target_version="2.5.6", table_type=["sessions", "versions"], create_missing=True)
    kind = {"postgres": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}[backend.kind]
    sessions = shapes.spec("sessions", kind, "2.5.6", backend.names).sa_table()
    runs = shapes.spec("runs", kind, "3.0.0", backend.names).sa_table()
    with backend.engine.begin() as c:
        c.execute(sessions.insert(), [
            {"session_id": f"s{i:05d}", "session_type": "agent", "user_id": f"u{i % 5}", "created_at": 1,
             "updated_at": 1,
             "runs": [{"run_id": f"r{i:05d}-{j}", "agent_id": "a", "status": "COMPLETED", "created_at": 10 + j}
                      for j in range(runs_each)]}
            for i in range(count)
        ])
    return sessions, runs


def test_online_copy_commits_batches_and_keeps_what_the_application_writes_meanwhile(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agno_alembic.data import batched

    monkeypatch.setattr(batched, "MAX_BATCH", 50)  # several batches whatever the machine's speed
    sessions, runs = _sessions_at_2_5_6(backend, 400)
    app = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    migration = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    seen = {"progress": 0, "armed": False, "fired": False}

    def committed(conn: Any) -> None:
        seen["armed"] = seen["armed"] or seen["progress"] >= 2

    def application_writes(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Between two committed batches (after the second batch's commit: the migration holds no lock then), as an
        # Agno app would: a 3.x replica writes a run of a session not copied yet; a 2.x replica appends a run to a
        # session copied already.
        if batched.PROGRESS_TABLE in statement and statement.lstrip().upper().startswith("UPDATE"):
            seen["progress"] += 1
        if seen["armed"] and not seen["fired"] and statement.lstrip().upper().startswith("SELECT"):
            seen["fired"] = True
            with app.begin() as c:
                c.execute(runs.insert().values(
                    run_id="r00390-0", session_id="s00390", run_type="agent", run_data={"written": "by the app"},
                    run_index=0, created_at=5, updated_at=5))
                legacy = [{"run_id": f"r00001-{j}", "agent_id": "a", "created_at": 10 + j} for j in range(3)]
                legacy.append({"run_id": "late-run", "agent_id": "a", "created_at": 99})
                c.execute(sessions.update().where(sessions.c.session_id == "s00001")
                          .values(runs=legacy, updated_at=int(time.time())))

    sa.event.listen(migration, "before_cursor_execute", application_writes)
    sa.event.listen(migration, "commit", committed)
    try:
        SyncMigrationManager(migration, db_schema=backend.schema).up(table_type=["sessions", "runs"],
                                                                     create_missing=True)
    finally:
        migration.dispose()
    assert seen["fired"], "the copy ran in fewer than three batches"
    with backend.engine.connect() as c:
        data = dict(c.execute(sa.select(runs.c.run_id, runs.c.run_data)).all())
        left = sa.inspect(c).has_table(batched.PROGRESS_TABLE, schema=backend.schema)
    data = {k: json.loads(v) if isinstance(v, str) else v for k, v in data.items()}
    assert data["r00390-0"] == {"written": "by the app"}  # the application's row wins
    assert "late-run" in data  # appended by a 2.x replica after its session was copied: caught up
    assert len(data) == 400 * 3 + 1
    assert not left  # no step in progress any more: the bookkeeping table is gone


# -- expand, then contract ---------------------------------------------------------------------------------------


def _append_legacy_run(backend: Backend, sessions: sa.Table, session_id: str, run_id: str) -> None:
    """What an Agno 2.x replica does after the copy: append a run to a session's legacy list."""
    with backend.engine.begin() as c:
        blob = c.execute(sa.select(sessions.c.runs).where(sessions.c.session_id == session_id)).scalar_one()
        legacy = json.loads(blob) if isinstance(blob, str) else blob
        legacy.append({"run_id": run_id, "agent_id": "a", "created_at": 77})
        c.execute(sessions.update().where(sessions.c.session_id == session_id)
                  .values(runs=legacy, updated_at=int(time.time())))


def _run_ids(backend: Backend, runs: sa.Table) -> set[str]:
    with backend.engine.connect() as c:
        return set(c.execute(sa.select(runs.c.run_id)).scalars())


def test_up_expands_then_contract_refuses_while_anything_would_be_lost_and_drops_after_catch_up(
    backend: Backend,
) -> None:
    from agno_alembic import DowngradeRefusedError

    sessions, runs = _sessions_at_2_5_6(backend, 30)
    mm = _manager(backend)
    mm.up(table_type=["sessions", "runs"], create_missing=True)
    assert "runs" in _columns(backend, sessions.name)  # expand only: Agno 2.x replicas keep working
    status = {s.table_type: s for s in mm.status(table_type=["sessions"])}
    assert status["sessions"].contract_pending == f"{sessions.name}.runs"
    # an Agno 2.x replica appends a run after the copy: a second up() catches it up
    _append_legacy_run(backend, sessions, "s00003", "late-1")
    assert "late-1" not in _run_ids(backend, runs)
    mm.up(table_type=["sessions", "runs"])
    assert "late-1" in _run_ids(backend, runs)
    # the runs table lacks a legacy run (a replica wrote it, then the table lost it): the drop is refused with ids
    _append_legacy_run(backend, sessions, "s00004", "late-2")
    with backend.engine.begin() as c:
        c.execute(runs.delete().where(runs.c.run_id == "late-1"))
    # contract copies both back first, then drops
    assert mm.contract() == [f"{sessions.name}.runs"]
    assert {"late-1", "late-2"} <= _run_ids(backend, runs)
    assert "runs" not in _columns(backend, sessions.name)
    assert mm.status(table_type=["sessions"])[0].contract_pending is None
    assert mm.contract() == []
    # the refusal itself: the legacy column back with a run the runs table lacks, and no catch-up possible (the
    # cleanup verb checks without copying)
    with backend.engine.begin() as c:
        c.execute(sa.text(f"ALTER TABLE {_qualified(backend, sessions.name)} ADD COLUMN runs "
                          f"{'JSONB' if backend.kind == 'postgres' else 'JSON'}"))
        c.execute(sessions.update().where(sessions.c.session_id == "s00005")
                  .values(runs=[{"run_id": "only-here", "agent_id": "a"}]))
    with pytest.raises(DowngradeRefusedError) as info:
        mm.cleanup_legacy_runs_column()
    assert "only-here" in str(info.value) and "1 legacy run(s)" in str(info.value)
    assert "runs" in _columns(backend, sessions.name)


def test_a_copy_killed_between_batches_shows_in_status_and_resumes(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agno_alembic.data import batched
    from tests.test_lock import Target, run_worker

    for name in ("FIRST_BATCH", "MAX_BATCH", "MIN_BATCH"):  # the worker is forked: it inherits these
        monkeypatch.setattr(batched, name, 50)

    _, runs = _sessions_at_2_5_6(backend, 300)
    target = Target(backend.kind, backend.url, backend.schema)
    spec = {"mode": "up", "table_type": ["sessions", "runs"], "lock_timeout": 60}
    # killed before the third batch's progress update: two batches committed, the third's copy rolled back
    killed = run_worker(target.worker(**spec, kill_at_sql=["UPDATE ", " SET ", batched.PROGRESS_TABLE], kill_at_nth=3))
    assert killed.killed, killed.report
    mm = _manager(backend)
    status = mm.status(table_type=["sessions"])[0]
    assert status.in_progress and "/300 sessions copied" in status.in_progress[0], status
    done = int(status.in_progress[0].split(": ")[1].split("/")[0])
    assert 0 < done < 300
    copied = _run_ids(backend, runs)
    assert 0 < len(copied) < 900  # the committed batches are there
    assert run_worker(target.worker(**spec)).ok
    assert len(_run_ids(backend, runs)) == 900
    assert mm.status(table_type=["sessions"])[0].in_progress == ()
    # MariaDB builds the runs table's indexes after the copy: the resumed run built those the first one dropped
    kind = {"postgres": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}[backend.kind]
    spec_runs = shapes.spec("runs", kind, "3.0.0", backend.names)
    assert set(_indexes(backend, spec_runs.name)) >= set(spec_runs.indexes)


class _LegacyWriter(threading.Thread):
    """An Agno 2.x replica still running during ``contract()``: appends a legacy run to a session in a loop (read
    the list, append, write it back with ``updated_at``, commit).  ``committed``: the run ids whose write
    committed; ``failed``: the writes the database refused (a legacy column no longer writable)."""

    def __init__(self, backend: Backend, sessions: sa.Table, count: int) -> None:
        super().__init__(daemon=True)
        self.backend, self.sessions, self.count = backend, sessions, count
        self.stop = threading.Event()
        self.committed: list[str] = []
        self.failed: list[str] = []
        self.one_at_a_time = threading.Lock()  # the loop and the test's own appends: no lost update between them
        self.engine = sa.create_engine(backend.url, poolclass=sa.pool.NullPool,
                                       connect_args={"timeout": 5} if backend.kind == "sqlite" else {})

    def append(self, run_id: str) -> None:
        with self.one_at_a_time:
            self._append(run_id)

    def _append(self, run_id: str) -> None:
        s = self.sessions
        session_id = f"s{len(self.committed) % self.count:05d}"
        try:
            with self.engine.begin() as c:
                blob = c.execute(sa.select(s.c.runs).where(s.c.session_id == session_id)).scalar_one()
                legacy = json.loads(blob) if isinstance(blob, str) else blob
                legacy.append({"run_id": run_id, "agent_id": "a", "created_at": 77})
                c.execute(s.update().where(s.c.session_id == session_id)
                          .values(runs=legacy, updated_at=int(time.time())))
        except sa.exc.DBAPIError as exc:
            self.failed.append(f"{run_id}: {exc.orig}")
            return
        self.committed.append(run_id)

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            self.append(f"w{i:05d}")
            i += 1
            time.sleep(0.005)


def test_contract_never_drops_a_run_a_replica_appends_meanwhile(backend: Backend) -> None:
    """A 2.x replica appends legacy runs in a loop while contract() runs, once more right before the legacy column
    is guarded (after the catch-up) and once more right before the DROP statement (where a check done before it
    cannot see the run).  Every run here can be copied, so contract succeeds, and every run whose write committed
    is in the runs table; the writes it refused were never committed.  (A refusal naming the runs is
    test_up_expands_then_contract_refuses_...)"""
    from agno_alembic.data import batched

    sessions, runs = _sessions_at_2_5_6(backend, 20)
    _manager(backend).up(table_type=["sessions", "runs"], create_missing=True)
    writer = _LegacyWriter(backend, sessions, 20)
    at_drop: list[str] = []

    def append_before_the_drop(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "DROP COLUMN" in statement.upper() and not at_drop:
            at_drop.append("at-the-drop")
            writer.append("at-the-drop")
        elif batched.LEGACY_RUNS_GUARD in statement and "at-the-guard" not in writer.committed:
            writer.append("at-the-guard")  # just before the column is guarded: after the catch-up

    migration = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    sa.event.listen(migration, "before_cursor_execute", append_before_the_drop)
    writer.start()
    try:
        while len(writer.committed) < 5 and writer.is_alive():
            time.sleep(0.01)
        assert SyncMigrationManager(migration, db_schema=backend.schema).contract() == [f"{sessions.name}.runs"]
        time.sleep(0.2)
    finally:
        writer.stop.set()
        writer.join(30)
        migration.dispose()
        writer.engine.dispose()
    assert at_drop, "the DROP statement never ran"
    assert "runs" not in _columns(backend, sessions.name)
    assert "at-the-guard" in writer.committed  # copied from the guarded column
    assert "at-the-drop" not in writer.committed and writer.failed  # refused by the database: not lost
    lost = [r for r in writer.committed if r not in _run_ids(backend, runs)]
    assert not lost, f"contract dropped {len(lost)} committed legacy run(s): {lost}"
    assert len(writer.committed) >= 5  # the replica did write during the test


def test_a_contract_interrupted_after_its_guard_shows_pending_and_finishes(backend: Backend) -> None:
    """Killed between the guard (the column renamed) and the drop: status still shows the contract pending, up()
    leaves the guarded column alone, and contract() starts again from the column as replicas know it."""
    from agno_alembic.data import batched

    sessions, runs = _sessions_at_2_5_6(backend, 10)
    mm = _manager(backend)
    mm.up(table_type=["sessions", "runs"], create_missing=True)
    _append_legacy_run(backend, sessions, "s00002", "late-guarded")
    q = backend.engine.dialect.identifier_preparer
    with backend.engine.begin() as c:
        c.exec_driver_sql(f"ALTER TABLE {_qualified(backend, sessions.name)} RENAME COLUMN runs TO "
                          f"{q.quote(batched.LEGACY_RUNS_GUARD)}")
    assert mm.status(table_type=["sessions"])[0].contract_pending == f"{sessions.name}.runs"
    mm.up(table_type=["sessions", "runs"])
    assert batched.LEGACY_RUNS_GUARD in _columns(backend, sessions.name)
    assert mm.contract() == [f"{sessions.name}.runs"]
    assert not {"runs", batched.LEGACY_RUNS_GUARD} & _columns(backend, sessions.name)
    assert "late-guarded" in _run_ids(backend, runs) and len(_run_ids(backend, runs)) == 31


@pytest.fixture
def mysql_backend(tmp_path) -> Iterator[Backend]:
    from tests.conftest import make_backend

    with make_backend("mysql", tmp_path) as b:
        yield b


#: The kind of each MySQL DDL statement online mode runs, and the row of
#: docs/online.md's table that describes it.
_MYSQL_KINDS = (
    (r"^CREATE (UNIQUE )?INDEX|^ALTER TABLE \S+ ADD (UNIQUE )?INDEX", "create_index", "new index on a populated table"),
    (r"ADD CONSTRAINT \S+ PRIMARY KEY", "primary_key", "other ALTERs"),
    (r"ADD CONSTRAINT \S+ UNIQUE", "add_unique", "other ALTERs"),
    (r"ADD CONSTRAINT \S+ FOREIGN KEY", "add_foreign_key", "foreign key"),
    (r"DROP INDEX", "drop_index", "other ALTERs"),
    (r"MODIFY \S+ .* NOT NULL", "set_not_null", "new NOT NULL column"),
    (r"ADD COLUMN", "add_column", "other ALTERs"),
    (r"DROP COLUMN", "drop_column", "other ALTERs"),
)


def _docs_mysql_cells() -> dict[str, str]:
    """docs/online.md's table of what online means: row label -> its MySQL / MariaDB cell."""
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "online.md").read_text()
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    column = header.index("MySQL / MariaDB")
    cells = {}
    for line in lines[2:]:
        parts = [c.strip() for c in line.strip("|").split("|")]
        if len(parts) == len(header):
            cells[parts[0]] = parts[column]
    return cells


def test_mariadb_runs_each_online_statement_with_the_algorithm_the_docs_and_plan_name(
    mysql_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """Every DDL statement of the whole chain (every table from 2.0.0 to the latest) on the real server: the
    algorithm MariaDB accepted (the debug line of agno_alembic.online) is the one docs/online.md's table and
    dialects.locks (what plan shows) say, and none ran without INSTANT or INPLACE, LOCK=NONE."""
    from agno_alembic.dialects import locks

    backend = mysql_backend
    _manager(backend).up(target_version="2.0.0", create_missing=True)
    with caplog.at_level(logging.DEBUG, logger="agno_alembic"):
        _manager(backend).up(create_missing=True)
    used = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG
            and re.search(r"\((ALGORITHM=[^)]*)\)$", r.getMessage())]
    assert not [r.getMessage() for r in caplog.records if "not online on this server" in r.getMessage()]
    cells = _docs_mysql_cells()
    seen: dict[str, set[str]] = {}
    for line in used:
        statement, clause = re.match(r"^[^:]+: (.*) \((ALGORITHM=[^)]*)\)$", line).groups()  # type: ignore[union-attr]
        kind, row = next(((k, r) for pattern, k, r in _MYSQL_KINDS if re.search(pattern, statement)), (None, None))
        assert kind is not None, f"a statement of no known kind: {statement}"
        algorithm = clause.replace("ALGORITHM=", "")  # INSTANT | INPLACE, LOCK=NONE | INPLACE LOCK=NONE
        assert algorithm.split(",")[0].split(" ")[0] in cells[row], (statement, clause, cells[row])
        if kind == "create_index":
            assert clause in cells[row].replace("`", ""), (statement, clause, cells[row])
        # what plan shows for this kind of statement names the algorithm that ran
        assert locks.describe("mysql", statement).algorithm == algorithm.split(",")[0].split(" ")[0], (
            statement, clause)
        seen.setdefault(kind, set()).add(algorithm)
    print({k: sorted(v) for k, v in seen.items()})
    assert {"create_index", "add_column", "set_not_null", "add_unique", "drop_index", "primary_key"} <= set(seen)


def test_mariadb_online_copy_locks_the_sessions_of_at_most_its_run_budget_per_transaction(
    mysql_backend: Backend,
) -> None:
    """On MariaDB each run a batch inserts locks its session (InnoDB's foreign key check takes a shared lock on the
    session row, which the application's updates of it wait for) until the batch commits. A stretch of cheap
    sessions (one small run each) followed by expensive ones (20 runs each): no transaction of the online copy
    inserts more than ``MAX_LOCKED_RUNS`` runs, however fast the cheap batches were (batches sized in sessions grew
    over the cheap ones and then locked thousands of runs' sessions at once); the copy is exact all the same."""
    from agno_alembic.data import batched

    backend = mysql_backend
    _manager(backend).up(target_version="2.5.6", table_type=["sessions", "versions"], create_missing=True)
    sessions = shapes.spec("sessions", "mysql", "2.5.6", backend.names).sa_table()
    runs = shapes.spec("runs", "mysql", "3.0.0", backend.names).sa_table()
    cheap, dear, each = 400, 150, 20
    with backend.engine.begin() as c:
        c.execute(sessions.insert(), [
            {"session_id": f"s{i:05d}", "session_type": "agent", "user_id": "u", "created_at": 1, "updated_at": 1,
             "runs": [{"run_id": f"r{i:05d}-{j}", "agent_id": "a", "created_at": 10 + j}
                      for j in range(1 if i < cheap else each)]}
            for i in range(cheap + dear)
        ])
    migration = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    per_transaction: list[tuple[int, int]] = []  # (runs inserted, sessions they belong to) per transaction
    current: dict[str, set[str]] = {"runs": set(), "sessions": set()}

    def inserts(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO") and runs.name in statement.split("(")[0] \
                and isinstance(parameters, dict) and "meta" in parameters:
            document = json.loads(parameters["meta"])  # the batch's runs: [run_id, session_id, ...] each
            current["runs"].update(r[0] for r in document)
            current["sessions"].update(r[1] for r in document)

    def committed(conn: Any) -> None:
        if current["runs"]:
            per_transaction.append((len(current["runs"]), len(current["sessions"])))
        current["runs"], current["sessions"] = set(), set()

    sa.event.listen(migration, "before_cursor_execute", inserts)
    sa.event.listen(migration, "commit", committed)
    try:
        SyncMigrationManager(migration, db_schema=backend.schema).up(table_type=["sessions", "runs"])
    finally:
        migration.dispose()
    assert sum(n for n, _ in per_transaction) == cheap + dear * each, per_transaction  # every run, once
    assert len(_run_ids(backend, runs)) == cheap + dear * each
    # a single session may exceed the budget on its own; these do not
    assert max(n for n, _ in per_transaction) <= batched.MAX_LOCKED_RUNS, per_transaction
    assert max(k for _, k in per_transaction) <= batched.MAX_LOCKED_RUNS, per_transaction


def test_mariadb_catch_up_asks_the_server_which_sessions_lack_runs_and_copies_exactly_those(
    mysql_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """A later ``up()`` on MariaDB reads and sends only the lists of sessions the server names as lacking a run
    (:class:`agno_alembic.data.runs.Lacking`): every odd list a legacy column can hold (JSON text encoded twice, a
    numeric ``run_id``, an id with characters outside the BMP, a ``null`` id, entries that are not objects) is
    named or skipped as the copy's rules say, and the catch-up ends with no legacy run missing."""
    from agno_alembic.data import batched
    from agno_alembic.data import runs as runs_data

    backend = mysql_backend
    sessions, runs = _sessions_at_2_5_6(backend, 60)
    _manager(backend).up(table_type=["sessions", "runs"])
    qualified = _qualified(backend, sessions.name)
    odd = {
        "s00010": json.dumps(json.dumps([{"run_id": "twice-1", "agent_id": "a"}])),  # JSON text encoded twice
        "s00011": json.dumps([{"run_id": 4711, "agent_id": "a"}]),  # a number: the copy stores "4711"
        "s00012": json.dumps([{"run_id": "emoji-\U0001F600-1", "agent_id": "a"}], ensure_ascii=False),
        "s00013": json.dumps([{"run_id": None}, "text", 5, [1], {"no": "id"}]),  # nothing to copy
        "s00014": json.dumps([{"run_id": "r00014-0", "agent_id": "a"}, {"run_id": "late-14", "agent_id": "a"}]),
    }
    with backend.engine.begin() as c:
        for sid, text in odd.items():
            c.exec_driver_sql(f"UPDATE {qualified} SET runs = %s WHERE session_id = %s", (text, sid))
        c.execute(runs.delete().where(runs.c.run_id == "r00020-1"))  # the runs table lost a row
    specs = (shapes.spec("sessions", "mysql", "2.5.6", backend.names),
             shapes.spec("runs", "mysql", "3.0.0", backend.names))
    with backend.engine.connect() as c:
        named = runs_data.Lacking(c, *specs).range("", "t")
    # every session that lacks a run, and no complete one (s00013 holds no run to copy)
    assert named == ["s00010", "s00011", "s00012", "s00014", "s00020"], named
    with caplog.at_level(logging.INFO, logger="agno_alembic"):
        _manager(backend).up(table_type=["sessions", "runs"])
    with backend.engine.connect() as c:
        assert batched.missing_runs(c, *specs) == []
    assert {"twice-1", "4711", "emoji-\U0001F600-1", "late-14", "r00020-1"} <= _run_ids(backend, runs)
    assert any("caught up the legacy runs of 60 session(s)" in r.getMessage() for r in caplog.records)


def test_mariadb_online_ddl_never_queues_for_a_metadata_lock_unbounded(mysql_backend: Backend) -> None:
    """MariaDB queues new shared metadata locks behind a waiting exclusive one, so a DDL statement that waits for
    the application's transactions stalls every query of the table behind it. Every DDL statement of the online
    chain, 2.0.0 to the latest (the 3.0.0 runs copy's bookkeeping table included), runs with ``lock_wait_timeout``
    of 0 (NOWAIT: it gives up at once and is retried) and ``innodb_lock_wait_timeout`` of at most 1 s, read from
    the server on the statement's own connection right before it is sent; but the build of the runs table's
    indexes after the copy, with 1 s (the least above NOWAIT)."""
    backend = mysql_backend
    _manager(backend).up(target_version="2.0.0", create_missing=True)
    _sessions_at_2_5_6(backend, 20)
    migration = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    seen: list[tuple[str, int, int]] = []

    def bounds(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"):
            probe = conn.connection.dbapi_connection.cursor()
            try:
                probe.execute("SELECT @@SESSION.lock_wait_timeout, @@SESSION.innodb_lock_wait_timeout")
                wait, row_wait = probe.fetchone()
            finally:
                probe.close()
            seen.append((" ".join(statement.split())[:80], int(wait), int(row_wait)))

    sa.event.listen(migration, "before_cursor_execute", bounds)
    try:
        SyncMigrationManager(migration, db_schema=backend.schema).up(create_missing=True)
    finally:
        migration.dispose()
    assert any("agno_runs" in s for s, _, _ in seen) and any("agno_alembic_progress" in s for s, _, _ in seen)
    # but the runs table's indexes built after the copy: a try that fails at its end loses the whole build, so it
    # waits up to the least whole second for the application's open transactions (ops.INDEX_BUILD_LOCK_WAIT)
    waited = [s for s in seen if s[1] != 0 or s[2] > 1]
    build = [s for s in waited if re.match(r"ALTER TABLE \S*agno_runs ADD INDEX", s[0]) and s[1:] == (1, 1)]
    assert build, seen  # (its tries: INSTANT refused, then INPLACE)
    unbounded = [s for s in waited if s not in build]
    assert not unbounded, unbounded


def _indexes(backend: Backend, table: str) -> dict[str, tuple[str, ...]]:
    with backend.engine.connect() as c:
        return {str(i["name"]): tuple(str(col) for col in i["column_names"])
                for i in sa.inspect(c).get_indexes(table, schema=backend.schema)}


def test_mariadb_online_copy_builds_the_runs_tables_indexes_after_it_in_one_online_alter(
    mysql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run a batch inserts would land on a page of each of the runs table's nine secondary indexes, mostly not
    in the buffer pool once they outgrow it: the online copy drops them first (but the foreign key's), copies, then
    builds them all in one ``ALTER TABLE ... ADD INDEX ..., ALGORITHM=INPLACE, LOCK=NONE``. The application's row
    written between two batches is kept, and the table ends with the shape's indexes, names and columns."""
    from agno_alembic.data import batched

    backend = mysql_backend
    monkeypatch.setattr(batched, "MAX_BATCH", 50)
    _, runs = _sessions_at_2_5_6(backend, 300)
    spec = shapes.spec("runs", "mysql", "3.0.0", backend.names)
    expected = {name: index.columns for name, index in spec.indexes.items()}
    migration = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    during: list[dict[str, tuple[str, ...]]] = []
    sent: list[str] = []

    def between_batches(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if batched.PROGRESS_TABLE in statement and statement.lstrip().upper().startswith("UPDATE") and not during:
            during.append(_indexes(backend, spec.name))
            with backend.engine.begin() as c:  # an Agno 3.x replica writes a run meanwhile
                c.execute(runs.insert().values(
                    run_id="app-run", session_id="s00299", run_type="agent", run_data={"by": "the app"},
                    run_index=9, created_at=5, updated_at=5))

    sa.event.listen(migration, "before_cursor_execute", between_batches)
    # what the server accepted (a try it refused, ALGORITHM=INSTANT, is not in it)
    sa.event.listen(migration, "after_cursor_execute", lambda c, cur, statement, *a: sent.append(" ".join(
        statement.split())))
    try:
        SyncMigrationManager(migration, db_schema=backend.schema).up(table_type=["sessions", "runs"],
                                                                     create_missing=True)
    finally:
        migration.dispose()
    kept = next(name for name, columns in expected.items() if columns == ("session_id",))
    assert during == [{kept: ("session_id",)}]  # the foreign key's index only
    # after the last batch, one statement builds the indexes the copy dropped (the table's creation built them all
    # in one statement too)
    copied = max(i for i, s in enumerate(sent) if s.startswith("UPDATE") and batched.PROGRESS_TABLE in s)
    builds = [s for s in sent[copied:] if s.startswith("ALTER TABLE") and "ADD INDEX" in s]
    assert len(builds) == 1 and builds[0].endswith("ALGORITHM=INPLACE, LOCK=NONE"), builds
    assert set(re.findall(r"ADD INDEX (\S+)", builds[0])) == set(expected) - {kept}
    assert _indexes(backend, spec.name) == expected
    assert len(_run_ids(backend, runs)) == 300 * 3 + 1


@pytest.fixture(params=["postgres", "mysql"])
def server_backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[Backend]:
    from tests.conftest import make_backend

    with make_backend(request.param, tmp_path) as b:
        yield b


def test_a_new_not_null_columns_fill_commits_batches_and_resumes_after_a_kill(
    server_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2.3.0's memories.created_at (NOT NULL, filled from updated_at): online, the fill walks the table in
    committed batches; killed before its third batch, two batches are kept (the column nullable, partly
    filled), and the next up() fills the rest and makes it NOT NULL.  (SQLite rebuilds the table in one
    transaction instead: there is no fill statement there.)"""
    from agno_alembic.data import batched
    from tests.test_lock import Target, run_worker

    for name in ("FIRST_BATCH", "MAX_BATCH", "MIN_BATCH"):  # the worker is forked: it inherits these
        monkeypatch.setattr(batched, name, 50)
    backend = server_backend
    table = _memories_at_2_0_0(backend, rows=300)
    target = Target(backend.kind, backend.url, backend.schema)
    spec = {"mode": "up", "table_type": "memories", "target_version": "2.3.0", "lock_timeout": 60}
    killed = run_worker(target.worker(**spec, kill_at_sql=["UPDATE ", table.name, " SET ", "created_at"],
                                      kill_at_nth=3))
    assert killed.killed, killed.report
    t = sa.table(table.name, sa.column("memory_id"), sa.column("created_at"), sa.column("updated_at"),
                 schema=backend.schema)

    def filled() -> int:
        with backend.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).where(t.c.created_at.is_not(None))).scalar_one())

    columns = {c["name"]: c for c in sa.inspect(backend.engine).get_columns(table.name, schema=backend.schema)}
    assert columns["created_at"]["nullable"] and filled() == 100  # two committed batches of 50
    # status shows the fill in progress, as the runs copy: where it is of how many rows
    [status] = _manager(backend).status(table_type="memories")
    assert status.in_progress == (f"{table.name}.created_at fill: 100/300 rows filled",), status
    with backend.engine.connect() as c:
        [progress] = batched.read_progress(c, backend.schema)
    assert json.loads(progress.position) == ["m00099"]  # the last key of the second batch
    assert run_worker(target.worker(**spec)).ok
    with backend.engine.connect() as c:
        assert not sa.inspect(c).has_table(batched.PROGRESS_TABLE, schema=backend.schema)  # nothing left behind
    columns = {c["name"]: c for c in sa.inspect(backend.engine).get_columns(table.name, schema=backend.schema)}
    assert not columns["created_at"]["nullable"]
    with backend.engine.connect() as c:
        pairs = c.execute(sa.select(t.c.created_at, t.c.updated_at)).all()
    assert len(pairs) == 300 and all(created == updated for created, updated in pairs)


def test_a_contract_that_fails_after_its_guard_gives_the_column_its_name_back(backend: Backend) -> None:
    """An error between the guard and the drop (here: no runs table to check against) leaves the legacy column
    under the name Agno 2.x replicas write, not guarded."""
    from agno_alembic.data import batched

    sessions, _ = _sessions_at_2_5_6(backend, 3)
    seen: list[str] = []

    def watch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    sa.event.listen(engine, "before_cursor_execute", watch)
    try:
        with pytest.raises(Exception, match="agno_runs"):
            SyncMigrationManager(engine, db_schema=backend.schema).cleanup_legacy_runs_column()
    finally:
        engine.dispose()
    assert any(batched.LEGACY_RUNS_GUARD in s and "RENAME" in s.upper() for s in seen)  # it was guarded
    assert "runs" in _columns(backend, sessions.name)
    assert batched.LEGACY_RUNS_GUARD not in _columns(backend, sessions.name)


class _Writer(threading.Thread):
    """An Agno 2.x application thread on SQLite, as Agno's ``SqliteDb`` opens its database (a plain engine: the
    driver's 5 s busy timeout, each write its own transaction that begins with the write): upserts a session's
    data and appends runs to its legacy list, and reads sessions in between."""

    def __init__(self, backend: Backend, sessions: sa.Table, seed: int) -> None:
        super().__init__(daemon=True)
        self.backend, self.sessions, self.seed = backend, sessions, seed
        self.stop = threading.Event()
        self.writes = 0
        self.failures: list[str] = []

    def run(self) -> None:
        s, n = self.sessions, 0
        engine = sa.create_engine(self.backend.url, poolclass=sa.pool.NullPool)
        try:
            while not self.stop.is_set():
                n += 1
                sid = f"s{(self.seed * 97 + n * 31) % 600:05d}"
                try:
                    with engine.connect() as c:
                        blob = c.execute(sa.select(s.c.runs).where(s.c.session_id == sid)).scalar()
                    legacy = (json.loads(blob) if isinstance(blob, str) else blob or [])
                    legacy.append({"run_id": f"app-{self.seed}-{n}", "agent_id": "a", "created_at": 50})
                    with engine.begin() as c:
                        c.execute(s.update().where(s.c.session_id == sid).values(
                            runs=legacy, session_data={"n": n}, updated_at=int(time.time())))
                    self.writes += 1
                except sa.exc.DBAPIError as exc:
                    self.failures.append(str(exc.orig))
                time.sleep(0.002)
        finally:
            engine.dispose()


def _up_while_writing(backend: Backend, sessions: sa.Table, threads: int) -> tuple[list[_Writer], int]:
    """Online ``up()`` of sessions and runs while ``threads`` :class:`_Writer` threads write; returns them (stopped)
    and how many writes they committed while ``up()`` ran."""
    writers = [_Writer(backend, sessions, i) for i in range(threads)]
    for w in writers:
        w.start()
    try:
        time.sleep(0.3)
        _manager(backend).up(table_type=["sessions", "runs"], create_missing=True)
        during = sum(w.writes for w in writers)
    finally:
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(30)
    return writers, during


def test_sqlite_online_copy_makes_progress_under_writing_application_threads_and_they_see_no_error(
    sqlite_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four threads write all the time while up() copies: the copy's write transactions wait for theirs with the
    busy timeout (instead of "database is locked" at once, retried forever), and let them in between batches."""
    from agno_alembic.data import batched

    backend = sqlite_backend
    monkeypatch.setattr(batched, "MAX_BATCH", 50)  # many batches, each one a chance to meet a writer
    monkeypatch.setattr(batched, "RETRY_SECONDS", 20.0)  # a copy that cannot get the lock fails instead of hanging
    sessions, runs = _sessions_at_2_5_6(backend, 600)
    writers, during = _up_while_writing(backend, sessions, 4)
    assert [f for w in writers for f in w.failures] == []
    assert during > 0
    _manager(backend).up(table_type=["sessions", "runs"])  # quiet: catches up what was appended since
    with backend.engine.connect() as c:
        assert batched.missing_runs(c, shapes.spec("sessions", "sqlite", "2.5.6", backend.names),
                                    shapes.spec("runs", "sqlite", "3.0.0", backend.names)) == []
    assert len(_run_ids(backend, runs)) >= 600 * 3


def test_sqlite_online_copy_gives_the_application_a_turn_after_every_write_transaction_and_holds_the_lock_briefly(
    sqlite_backend: Backend, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Application writers with the busy timeout write all the time while up() copies a populated database: after
    each of the copy's and catch-up's write transactions the migration holds nothing
    for longer than SQLite's busy handler sleeps between two tries (so every waiting writer gets a turn), and each
    write transaction's hold of the write lock, COMMIT included, is logged and short."""
    from agno_alembic.data import batched

    backend = sqlite_backend
    monkeypatch.setattr(batched, "MAX_BATCH", 50)  # many batches
    sessions, _ = _sessions_at_2_5_6(backend, 400)
    caplog.set_level(logging.DEBUG, logger="agno_alembic")
    writers, _ = _up_while_writing(backend, sessions, 3)
    assert [f for w in writers for f in w.failures] == []
    lines = [r.getMessage() for r in caplog.records if r.name == "agno_alembic"]
    held = [(i, float(m.split()[4].rstrip("s"))) for i, m in enumerate(lines) if m.startswith("sqlite write lock held")]
    gave = [i for i, m in enumerate(lines) if m.startswith("sqlite: giving way")]
    batches = [i for i, m in enumerate(lines)
               if m.startswith("sqlite write lock held") and "UPDATE agno_alembic_progress" in m]
    assert len(batches) >= 400 // 50 and held and gave
    for this, following in itertools.pairwise(batches):  # the application's turn between two batches
        assert any(this < g < following for g in gave), lines[this:following + 1]
    assert max(h for _, h in held) < 1.0, max(held, key=lambda x: x[1])  # each hold short (0.08 s sized; margin)


def test_sqlite_online_check_reads_each_range_of_lists_in_a_read_transaction_of_its_own(
    sqlite_backend: Backend,
) -> None:
    """The check after the SQLite copy reads the legacy lists of a range of sessions in a transaction that ends
    as soon as they are fetched: decoding them and looking their ids up in the runs table happen after it. While a
    reader holds the database no application writer can commit, and a writer waiting for its COMMIT keeps the
    application's readers out too: a read held while a range's lists were decoded (0.2-0.6 s per 200 sessions of the
    benchmark's lists) queued the writers up behind it, 0.93 s for the longest of them."""
    backend = sqlite_backend
    _sessions_at_2_5_6(backend, 300)  # two ranges at least (100 sessions in the first, 200 in the old code's)
    engine = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    transactions: list[list[str]] = []

    def begin(conn: Any) -> None:
        transactions.append([])

    def statement(conn: Any, cursor: Any, text: str, *args: Any) -> None:
        if transactions and text.strip() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            transactions[-1].append(" ".join(text.split()))

    sa.event.listen(engine, "begin", begin)
    sa.event.listen(engine, "before_cursor_execute", statement)
    try:
        SyncMigrationManager(engine).up(table_type=["sessions", "runs"], create_missing=True)
    finally:
        engine.dispose()
    # the check's reads of the lists: sessions not updated since the catch-up
    checked = [t for t in transactions if any("runs IS NOT NULL" in s and "updated_at IS NULL OR" in s for s in t)]
    assert len(checked) >= 2, checked
    for t in checked:
        assert len(t) == 1, t  # neither the range's keys nor the runs table's ids read in the same transaction


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_a_list_the_application_rewrites_during_its_batch_is_copied_as_it_ends_up(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Agno 2.x replica rewrites a session's whole list (its first run grew) between the copy's read of the list
    and its INSERT: no run is written with text cut at the old positions (MySQL slices each run out of the stored
    list by position); the session is caught up, every run as the list ends up."""
    from agno_alembic.data import batched

    monkeypatch.setattr(batched, "MAX_BATCH", 50)
    sessions, runs = _sessions_at_2_5_6(backend, 120)
    app = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    migration = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    final = [{"run_id": f"r00010-{j}", "agent_id": "a", "status": "COMPLETED", "created_at": 10 + j,
              **({"content": "grown " * 40} if j == 0 else {})} for j in range(3)]
    seen = {"fired": False}

    def rewrite(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = statement.lstrip()
        if not seen["fired"] and head.startswith("INSERT INTO") and runs.name in head.split("(")[0]:
            seen["fired"] = True
            with app.begin() as c:
                c.execute(sessions.update().where(sessions.c.session_id == "s00010")
                          .values(runs=final, updated_at=int(time.time())))

    sa.event.listen(migration, "before_cursor_execute", rewrite)
    try:
        SyncMigrationManager(migration, db_schema=backend.schema).up(table_type=["sessions", "runs"],
                                                                     create_missing=True)
    finally:
        migration.dispose()
        app.dispose()
    assert seen["fired"]
    with backend.engine.connect() as c:
        data = dict(c.execute(sa.select(runs.c.run_id, runs.c.run_data)
                              .where(runs.c.session_id == "s00010")).all())
    data = {k: json.loads(v) if isinstance(v, str) else v for k, v in data.items()}
    assert data == {entry["run_id"]: entry for entry in final}


def test_sqlite_online_check_is_not_fooled_by_a_session_deleted_between_its_reads(sqlite_backend: Backend) -> None:
    """The check's reads are transactions of their own (see above): the application deletes a session and its
    runs after the check read the session's list and before it looks the runs up. The shortfall that reading shows
    is read again in one transaction, where the session is gone too: the step is stamped."""
    backend = sqlite_backend
    sessions, runs = _sessions_at_2_5_6(backend, 120)
    app = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    engine = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    deleted: list[str] = []

    def delete(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if deleted or not statement.lstrip().startswith(f"SELECT {runs.name}.run_id, {runs.name}.session_id"):
            return
        sid = "s" + str(parameters[0]).split("-")[0][1:]  # the session of the first run id looked up
        with app.begin() as c:
            c.execute(runs.delete().where(runs.c.session_id == sid))
            c.execute(sessions.delete().where(sessions.c.session_id == sid))
        deleted.append(sid)

    sa.event.listen(engine, "before_cursor_execute", delete)
    try:
        SyncMigrationManager(engine).up(table_type=["sessions", "runs"], create_missing=True)
    finally:
        engine.dispose()
        app.dispose()
    assert deleted
    [status] = _manager(backend).status(table_type="sessions")
    assert (status.recorded_version, status.pending, status.in_progress) == ("3.0.0", (), ())


@pytest.mark.parametrize("statement,first", [
    ("ALTER TABLE `a b` ADD INDEX `i, ADD COLUMN x` (x), ADD UNIQUE INDEX j (y(20), z)",
     ", ALGORITHM=INPLACE, LOCK=NONE"),
    ("ALTER TABLE t ADD KEY i (x)", ", ALGORITHM=INPLACE, LOCK=NONE"),
    ("ALTER TABLE t ADD INDEX i (x), ADD COLUMN y INT", ", ALGORITHM=INSTANT"),
    ("ALTER TABLE t ADD COLUMN y INT", ", ALGORITHM=INSTANT"),
    ("ALTER TABLE t ADD INDEX i (x, algorithm)", ", ALGORITHM=INSTANT"),  # unsure: the safe order
    ("CREATE INDEX i ON t (x)", " ALGORITHM=INPLACE LOCK=NONE"),
])
def test_mysql_online_clauses_never_try_instant_for_an_alter_that_only_adds_indexes(statement, first):
    """InnoDB builds no index INSTANT: such an ALTER starts at INPLACE, LOCK=NONE (a refused INSTANT try was logged
    as a progress line of every table created online); anything else starts at INSTANT; quoted names holding
    keywords do not fool it."""
    from agno_alembic.dialects.online import mysql_clauses

    clauses = mysql_clauses(statement)
    assert clauses[0] == first and clauses[-1] == ""
