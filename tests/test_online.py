"""Online mode: DDL under a live application, on every backend, with real locks held by real sessions.

An "application" session holds a lock on the table a step alters (an open transaction that read it on PostgreSQL
and MariaDB, a write transaction on SQLite) while ``up()`` runs; a prober keeps querying the table meanwhile.
"""

from __future__ import annotations

import logging
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
    _manager(backend).up(target_version="2.0.0", table_type="memories")
    _manager(backend).up(target_version="2.3.0", table_type="versions")  # the step's only DDL is on memories
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
    """An application session holding a lock on ``table`` for ``seconds``: its id is ``session_id``."""

    def __init__(self, backend: Backend, table: str, seconds: float) -> None:
        super().__init__(daemon=True)
        self.backend, self.table, self.seconds = backend, table, seconds
        self.holding = threading.Event()
        self.session_id: int | None = None
        self.error: BaseException | None = None

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
                self.holding.set()
                time.sleep(self.seconds)
                if self.backend.kind == "sqlite":
                    c.exec_driver_sql("COMMIT")
                else:
                    c.rollback()
        except BaseException as exc:
            self.error = exc
            self.holding.set()
        finally:
            engine.dispose()


class _Prober(threading.Thread):
    """The rest of the application: reads the table every 20 ms; ``longest`` is its slowest read."""

    def __init__(self, backend: Backend, table: str) -> None:
        super().__init__(daemon=True)
        self.backend, self.table = backend, table
        self.stop = threading.Event()
        self.longest = 0.0
        self.reads = 0
        self.failures: list[str] = []

    def run(self) -> None:
        engine = sa.create_engine(self.backend.url, poolclass=sa.pool.NullPool,
                                  connect_args={"timeout": 5} if self.backend.kind == "sqlite" else {})
        try:
            with engine.connect() as c:
                while not self.stop.is_set():
                    started = time.monotonic()
                    try:
                        c.exec_driver_sql(f"SELECT memory_id FROM {self.table} WHERE memory_id = 'm00001'").all()
                        c.commit()
                    except sa.exc.DBAPIError as exc:
                        self.failures.append(str(exc.orig))
                        c.rollback()
                    self.longest = max(self.longest, time.monotonic() - started)
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
    holder, prober = _Holder(backend, qualified, HOLD), _Prober(backend, qualified)
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
    # after ddl_lock_wait (50 ms), so no read waits long.
    assert prober.longest < HOLD / 4, f"a read waited {prober.longest:.2f}s behind the migration"


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


def test_postgresql_json_to_jsonb_rewrite_of_a_big_table_is_refused_online_unless_accepted(
    postgres_backend: Backend,
) -> None:
    backend = postgres_backend
    from agno_alembic.dialects.online import REWRITE_MOMENT_ROWS

    table = _memories_at_2_0_0(backend, rows=REWRITE_MOMENT_ROWS + 1)
    with pytest.raises(RewriteRefusedError) as info:
        _manager(backend).up(target_version="2.3.0", table_type="memories")
    assert info.value.rows == REWRITE_MOMENT_ROWS + 1 and info.value.allow_option == "allow_rewrite"
    assert set(info.value.columns) == {"memory", "input", "topics"}
    types = {c["name"]: str(c["type"]) for c in sa.inspect(backend.engine).get_columns(table.name, backend.schema)}
    assert types["memory"] == "JSON" and "created_at" not in types  # nothing changed
    _manager(backend, allow_rewrite=True).up(target_version="2.3.0", table_type="memories")
    types = {c["name"]: str(c["type"]) for c in sa.inspect(backend.engine).get_columns(table.name, backend.schema)}
    assert types["memory"] == "JSONB" and "created_at" in types
