"""Online mode: migrate while the application keeps reading and writing.

Every DDL statement runs in a short transaction of its own (PostgreSQL: autocommit, so ``CREATE INDEX
CONCURRENTLY`` can run too; MySQL/MariaDB: DDL commits by itself; SQLite: its own transaction) with a server-side
bound on its lock wait (:func:`agno_alembic.dialects.online.bound_statements`).  A try that runs out of that bound
gave up without queueing in front of the application's queries; it is retried with exponential backoff and jitter
until the run's ``ddl_deadline``, then :class:`~agno_alembic.errors.DDLLockTimeoutError` names the sessions the
server says block it.  On MySQL/MariaDB each ALTER asks for ``ALGORITHM=INSTANT``, then ``INPLACE, LOCK=NONE``,
and says in the log when the server allows neither.

Offline mode (``online=False``, ``--offline``, ``-x online=false``) and ``--sql`` scripts run the statements as they
are, one transaction per step.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op
from alembic.runtime.migration import MigrationContext

from agno_alembic import registry, runtime
from agno_alembic.dialects import online as dialect
from agno_alembic.errors import DDLLockTimeoutError

log = logging.getLogger("agno_alembic")

BACKOFF_FIRST = 0.05
"""Seconds before the first retry; doubled per try up to :data:`BACKOFF_MAX`, with jitter."""
BACKOFF_MAX = 2.0


NOWAIT_BACKOFF_MAX = 0.2
"""The cap where a try does not wait at all (MariaDB's ``lock_wait_timeout = 0``, NOWAIT): such a try queues in
front of none of the application's queries, so trying often costs the application nothing, and finds a gap between
its transactions sooner (a table written all the time has only short ones)."""


def backoff(attempt: int, most: float = BACKOFF_MAX) -> float:
    """The pause before retry number ``attempt`` (1-based): exponential, capped, with jitter (half to full)."""
    cap = min(most, BACKOFF_FIRST * 2 ** (attempt - 1))
    return random.uniform(cap / 2, cap)


def commit(ctx: MigrationContext | None = None) -> None:
    """Commit what the step has done so far; what follows runs in a new transaction (online data batches)."""
    ctx = ctx or op.get_context()
    conn = ctx.connection
    assert conn is not None
    transaction = ctx._transaction
    if transaction is not None and transaction.is_active:
        transaction.commit()
        ctx._transaction = conn.begin()
    elif conn.in_transaction():
        conn.commit()


def _rollback(ctx: MigrationContext) -> None:
    conn = ctx.connection
    assert conn is not None
    transaction = ctx._transaction
    if transaction is not None:
        # a COMMIT that failed (a Galera certification conflict) leaves the transaction inactive but still the
        # connection's: it must be rolled back too before anything else runs
        if transaction.is_active or conn.get_transaction() is transaction:
            transaction.rollback()
        if conn.get_transaction() is not None:
            conn.rollback()
        ctx._transaction = conn.begin()
    elif conn.get_transaction() is not None:  # in_transaction() is false for such an inactive one
        conn.rollback()


def _rollback_any(connection: sa.Connection) -> None:
    """Roll back the current transaction, inside a migration step (its transaction begins again) or not."""
    try:
        ctx = op.get_context()
    except (NameError, AttributeError):
        ctx = None
    if ctx is not None and ctx.connection is connection:
        _rollback(ctx)
    elif connection.get_transaction() is not None:  # active, or inactive after a COMMIT that failed
        connection.rollback()


@contextlib.contextmanager
def _alone(ctx: MigrationContext, backend: str) -> Iterator[None]:
    """The statement(s) inside run in a transaction of their own: the step's work so far is committed first."""
    conn = ctx.connection
    assert conn is not None
    if backend != registry.POSTGRESQL:
        commit(ctx)
        try:
            yield
        except BaseException:
            _rollback(ctx)
            raise
        commit(ctx)
        return
    # PostgreSQL: autocommit, each statement its own transaction (and CONCURRENTLY is allowed).
    had_step_transaction = ctx._transaction is not None
    if had_step_transaction:
        if ctx._transaction.is_active:  # type: ignore[union-attr]
            ctx._transaction.commit()  # type: ignore[union-attr]
        ctx._transaction = None
    elif conn.in_transaction():
        conn.commit()
    level = conn.get_isolation_level()
    if conn.in_transaction():
        conn.commit()
    conn.execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield
    finally:
        if conn.in_transaction():
            conn.commit()  # SQLAlchemy's own bookkeeping: autocommit sent everything already
        conn.execution_options(isolation_level=level)
        if had_step_transaction:
            ctx._transaction = conn.begin()


@contextlib.contextmanager
def _bounded(conn: sa.Connection, backend: str, seconds: float) -> Iterator[None]:
    saved = tuple(conn.exec_driver_sql(dialect.settings_query(backend)).one())
    for statement in dialect.bound_statements(backend, seconds):
        conn.exec_driver_sql(statement)
    try:
        yield
    finally:
        with contextlib.suppress(sa.exc.DBAPIError):
            for statement in dialect.restore_statements(backend, saved):
                conn.exec_driver_sql(statement)


_SQLITE_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
_SQLITE_NEUTRAL = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE", "END")


class SQLiteWritesWait:
    """SQLite, online: every write transaction of the migration waits for the application's writers with the busy
    timeout, as their own do, and says how long it held the database's write lock.

    SQLite calls the busy handler when a transaction's first statement needs the write lock, but answers
    "database is locked" at once when a transaction that has read already needs it while an application writer
    holds it (waiting could deadlock). So when the migration is about to write in a transaction, the part before
    (nothing, or only reads: nothing of it to lose) is committed and the transaction begins again with
    ``BEGIN IMMEDIATE``, which takes the write lock at once, waiting for it with the busy timeout. The reads before
    a write are then not of the same snapshot as the write; online, everything the migration reads and writes again
    is its own (schema, bookkeeping) or copied with "rows already there win", as on PostgreSQL's READ COMMITTED.

    From ``BEGIN IMMEDIATE`` to the end of its ``COMMIT`` (sent here, so that its journal writes and syncs count)
    or ``ROLLBACK`` the transaction holds the write lock: each such hold is a debug line of the ``agno_alembic``
    logger, ``sqlite write lock held <s>s (waited <s>s): <first statement>``; :attr:`last_hold` feeds the online data
    steps' batch sizing and :attr:`longest` is the run's longest.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.state = "none"  # in the current transaction: "none" (no statement yet), "read" or "write"
        self.locked_at = 0.0
        self.waited = 0.0
        self.what = ""
        self.last_hold = 0.0
        """Seconds the last write transaction held the write lock, its ``COMMIT`` included."""
        self.longest = 0.0
        """The longest of this run's write-lock holds, seconds."""
        self.holds = 0
        """How many write transactions held the lock."""
        self.since_turn = 0.0
        """Seconds of write-lock holds since the migration last gave the application a turn (:func:`sqlite_turn`)."""
        self.version: int | None = None
        self.seen = time.monotonic()  # when another connection was last seen writing (at the start: presumed)
        sa.event.listen(connection, "begin", self._begin)
        sa.event.listen(connection, "before_cursor_execute", self._before)
        sa.event.listen(connection, "commit", self._commit)
        sa.event.listen(connection, "rollback", self._rollback)
        connection.info[_SQLITE_WAITS] = self

    def remove(self) -> None:
        sa.event.remove(self.connection, "begin", self._begin)
        sa.event.remove(self.connection, "before_cursor_execute", self._before)
        sa.event.remove(self.connection, "commit", self._commit)
        sa.event.remove(self.connection, "rollback", self._rollback)
        if self.connection.info.get(_SQLITE_WAITS) is self:
            del self.connection.info[_SQLITE_WAITS]

    def _begin(self, conn: sa.Connection) -> None:
        self.state = "none"

    def _raw(self, conn: sa.Connection, statement: str) -> None:
        # the statements go through the DBAPI cursor, which SQLAlchemy's aiosqlite adapter runs to completion (the
        # aiosqlite connection's own execute() is a coroutine)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]  # open: in use
        try:
            cursor.execute(statement)
        finally:
            cursor.close()

    def _before(self, conn: sa.Connection, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        head = statement.lstrip().upper()
        if self.state == "write" or head.startswith(_SQLITE_NEUTRAL):
            return
        if not head.startswith(_SQLITE_WRITES):
            self.state = "read" if self.state == "none" else self.state
            return
        # the driver's own connection tells whether a transaction is open (sqlite3, aiosqlite)
        raw = conn.connection.driver_connection
        if conn.in_transaction() and not conn.in_nested_transaction() and raw is not None and raw.in_transaction:
            self._raw(conn, "COMMIT")
            started = time.monotonic()
            self._raw(conn, "BEGIN IMMEDIATE")  # raises "database is locked" when the busy timeout ran out
            self.locked_at = time.monotonic()
            self.waited = self.locked_at - started
        else:  # autocommit, or a savepoint: the statement takes the lock itself
            self.locked_at, self.waited = time.monotonic(), 0.0
        self.what = " ".join(statement.split())[:80]
        self.state = "write"

    def _commit(self, conn: sa.Connection) -> None:
        if self.state != "write":
            return
        raw = conn.connection.driver_connection
        if raw is not None and raw.in_transaction:
            try:
                self._raw(conn, "COMMIT")  # the driver's commit() that follows finds no transaction left
            except conn.dialect.loaded_dbapi.Error as exc:  # busy: readers kept it from writing; still open
                raise sa.exc.DBAPIError.instance("COMMIT", None, exc, conn.dialect.loaded_dbapi.Error) from exc
        self._held()

    def _rollback(self, conn: sa.Connection) -> None:
        if self.state == "write":
            self._held()

    def _held(self) -> None:
        held = self.last_hold = time.monotonic() - self.locked_at
        self.longest = max(self.longest, held)
        self.holds += 1
        self.since_turn += held
        self.state = "none"
        log.debug("sqlite write lock held %.3fs (waited %.3fs): %s", held, self.waited, self.what)


_SQLITE_WAITS = "agno_alembic_sqlite_writes_wait"


def sqlite_turn(ctx: MigrationContext, waits: SQLiteWritesWait) -> None:
    """SQLite, between two DDL statements: once the migration held the write lock for a batch's worth
    (``dialects.online.SQLITE_BATCH_SECONDS``) since the application's last turn, it gives way as a batch does
    (:class:`agno_alembic.data.batched._Turns`): a run of short DDL transactions back to back would otherwise keep
    a writer sleeping in its busy handler waiting through all of them."""
    if waits.since_turn < dialect.SQLITE_BATCH_SECONDS:
        return
    waits.since_turn = 0.0
    conn = ctx.connection
    assert conn is not None
    try:
        version: int | None = int(conn.exec_driver_sql("PRAGMA data_version").scalar_one())
    except sa.exc.DBAPIError:  # the application holds the database: it is writing
        version = None
        _rollback(ctx)
    else:
        commit(ctx)
    if version is None or version != waits.version or waits.waited > dialect.SQLITE_WAITED:
        waits.seen = time.monotonic()
    waits.version = version
    if time.monotonic() - waits.seen <= dialect.SQLITE_WRITING_FOR:
        log.debug("sqlite: giving way %.2fs to the application's writers", dialect.SQLITE_GIVE_WAY)
        time.sleep(dialect.SQLITE_GIVE_WAY)


def sqlite_writes(connection: sa.Connection) -> SQLiteWritesWait | None:
    """The :class:`SQLiteWritesWait` watching ``connection`` (online SQLite runs), else ``None``."""
    found = connection.info.get(_SQLITE_WAITS)
    return found if isinstance(found, SQLiteWritesWait) else None


class _MySQLClauses:
    """Appends the online ALGORITHM/LOCK clause of the current level to each MySQL DDL statement."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.level = 0
        self.used: list[tuple[str, str]] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                 executemany: bool) -> tuple[str, Any]:
        clauses = dialect.mysql_clauses(statement)
        if len(clauses) > 1:
            clause = clauses[min(self.level, len(clauses) - 1)]
            self.used.append((" ".join(statement.split())[:200], clause.strip(", ") or "none"))
            statement = statement.rstrip().rstrip(";") + clause
        return statement, parameters

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        sa.event.listen(self.conn, "before_cursor_execute", self, retval=True)
        try:
            yield
        finally:
            sa.event.remove(self.conn, "before_cursor_execute", self)


def ddl(fn: Callable[[], Any], *, kind: str, table: str | None, schema: str | None = None,
        patient: bool = False, lock_wait: float | None = None) -> None:
    """Run one DDL operation (``fn``, usually one ``op.*`` call) the way the run's mode says.

    ``patient``: the statement's locks block none of the application's reads and writes (PostgreSQL's
    ``CREATE INDEX CONCURRENTLY``, ``VALIDATE CONSTRAINT``), so one try may wait until the deadline.
    ``lock_wait``: each try's bound instead of the run's ``ddl_lock_wait`` (MariaDB: the deferred build of the runs
    table's indexes, whose try that fails at its end throws the whole build away, see ``ops.copy_legacy_runs``).
    """
    run = runtime.state()
    if not run.live:
        fn()
        return
    ctx = op.get_context()
    conn = ctx.connection
    assert conn is not None
    backend = run.backend
    deadline = time.monotonic() + run.ddl_deadline
    clauses = _MySQLClauses(conn) if backend == registry.MYSQL else None
    attempt = 0
    started = time.monotonic()
    while True:
        attempt += 1
        try:
            wait = max(run.ddl_lock_wait, deadline - time.monotonic()) if patient else \
                run.ddl_lock_wait if lock_wait is None else lock_wait
            with _alone(ctx, backend), _bounded(conn, backend, wait), \
                    clauses.active() if clauses is not None else contextlib.nullcontext():
                fn()
        except sa.exc.DBAPIError as exc:
            if clauses is not None and clauses.used and clauses.used[-1][1] != "none" \
                    and dialect.is_unsupported_clause(exc):
                log.info("%s: the server refuses %s for %s (%s); trying the next algorithm", table,
                         clauses.used[-1][1], clauses.used[-1][0], exc.orig)
                clauses.level += 1
                clauses.used.clear()
                attempt -= 1
                continue
            if not dialect.is_lock_timeout(backend, exc):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                statement = " ".join(str(getattr(exc, "statement", "") or "").split())[:300]
                raise _timed_out(conn, backend, statement, kind=kind, table=table, schema=schema,
                                 deadline=run.ddl_deadline, attempts=attempt, lock_wait=run.ddl_lock_wait,
                                 rerun="run the migration again (it resumes)") from exc
            nowait = backend == registry.MYSQL and not patient and (run.ddl_lock_wait if lock_wait is None
                                                                    else lock_wait) < 1
            _wait(table, kind, attempt, min(left, backoff(attempt, NOWAIT_BACKOFF_MAX if nowait else BACKOFF_MAX)))
            continue
        if clauses is not None:
            for statement, clause in clauses.used:
                if clause == "none":
                    log.warning("%s: not online on this server (neither ALGORITHM=INSTANT nor INPLACE, LOCK=NONE): "
                                "%s", table, statement)
                else:
                    log.debug("%s: %s (%s)", table, statement, clause)
        if attempt > 1:
            log.info("%s: %s done after %d tries (%.2fs)", table, kind, attempt, time.monotonic() - started)
        waits = sqlite_writes(conn) if backend == registry.SQLITE else None
        if waits is not None:
            sqlite_turn(ctx, waits)
        return


def ddl_statement(connection: sa.Connection, backend: str, statement: str, *, kind: str, table: str,
                  schema: str | None = None, lock_wait: float = 0.05, deadline: float = 300.0) -> None:
    """Outside a migration step (``contract()``): run one DDL ``statement`` in a transaction of its own, its lock
    wait bounded by ``lock_wait`` seconds, retried with backoff and jitter until ``deadline`` as :func:`ddl` does,
    then :class:`~agno_alembic.errors.DDLLockTimeoutError` naming the blocking sessions."""
    if connection.in_transaction():
        connection.commit()
    until = time.monotonic() + deadline
    attempt = 0
    while True:
        attempt += 1
        try:
            # (PostgreSQL: a SET in a transaction rolled back is undone with it)
            with connection.begin(), _bounded(connection, backend, lock_wait):
                connection.exec_driver_sql(statement)
            return
        except sa.exc.DBAPIError as exc:
            if connection.in_transaction():
                connection.rollback()
            if not dialect.is_lock_timeout(backend, exc):
                raise
            left = until - time.monotonic()
            if left <= 0:
                raise _timed_out(connection, backend, statement, kind=kind, table=table, schema=schema,
                                 deadline=deadline, attempts=attempt, lock_wait=lock_wait,
                                 rerun="run it again") from exc
            _wait(table, kind, attempt, min(left, backoff(attempt)))


def _wait(table: str | None, kind: str, attempt: int, pause: float) -> None:
    """Log that ``kind`` on ``table`` met the application's lock, then sleep ``pause`` seconds before the next try."""
    log.info("%s: %s waits for a lock held by the application (try %d); retrying in %.2fs", table, kind, attempt,
             pause)
    time.sleep(pause)


def _timed_out(connection: sa.Connection, backend: str, statement: str, *, kind: str, table: str | None,
               schema: str | None, deadline: float, attempts: int, lock_wait: float,
               rerun: str) -> DDLLockTimeoutError:
    """The error of a DDL statement that could not get its lock before ``deadline``, naming who holds it."""
    blockers = dialect.blockers(connection, backend, table, schema)
    who = "\n".join(f"  - {b}" for b in blockers) or "  (the server cannot tell which session)"
    return DDLLockTimeoutError(
        f"{table}: could not get the lock for {kind} within {deadline:g}s ({attempts} tries of {lock_wait:g}s "
        f"each, the application kept the table busy): {statement}\n"
        f"Holding locks on it or keeping a transaction open:\n{who}\n"
        f"Nothing of this statement was applied; {rerun}, allow a longer wait (ddl_deadline), or end those "
        "transactions.",
        statement=statement, table=table, deadline=deadline, attempts=attempts, blockers=blockers, backend=backend,
    )
