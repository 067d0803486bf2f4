"""The migration lock: one migration at a time per database schema.

**The lock.**  One migration at a time per database schema, across threads, processes and hosts.  Every entry
point takes it: the ``MigrationManager`` facade for a whole ``up()``/``down()``, and the environment
(:func:`agno_alembic.environment.run`, so the ``alembic`` command line and anything else running our ``env.py``)
around each run that may change the database.  It is reentrant on one connection: the facade holds it, the
environment runs it starts on that connection find it held.

==============  ==================================================================================================
backend         lock
==============  ==================================================================================================
PostgreSQL      session advisory lock ``pg_try_advisory_lock(NAMESPACE, crc32(schema))``; the server releases it
                when the session ends, so a killed migration never leaves it behind
MySQL/MariaDB   ``GET_LOCK('agno_alembic.<sha1 of database and schema>', 0)``; released when the session ends
Galera cluster  (``GET_LOCK`` is local to a node) the lock row below, in the migrated database: its insert is
                certified by every node in one total order, so one migrator in the whole cluster holds it; taken
                only on a node of the primary component; expires like SingleStore's when its holder's node is lost
SQLite          an exclusive ``flock`` on ``.agno-alembic/<database file name>.lock`` beside the database (the
                file stays; it holds the holder's host, pid and start time; the folder's ``.gitignore`` keeps it
                out of ``git status``); released by the kernel when the process ends.  An in-memory database
                is private to its connection and only takes the in-process lock
SingleStore     (no ``GET_LOCK``) a row in ``agno_alembic_lock`` of the schema: owner ``<pid>@<host>``, a random
                token, acquired and expiry times from the server's clock.  A heartbeat thread (own connection)
                pushes the expiry forward every ``ttl / 3`` seconds; a row whose expiry passed is taken over by
                the next waiter, so a killed migration blocks others for at most ``ttl`` seconds
==============  ==================================================================================================

Plus an in-process lock, taken first: Alembic's ``op`` and ``context`` are module-level proxies, so two threads
(or two tasks of one event loop) running migrations at once in one process would corrupt each other, whatever
database they target.

Waiters poll (every 50-500 ms) until ``timeout`` seconds have passed (:data:`DEFAULT_TIMEOUT`; ``-x
lock_timeout=``, ``MigrationManager(..., lock_timeout=)``), then raise :class:`~agno_alembic.errors.LockTimeoutError`
whose ``holder`` (a :class:`LockHolder`) says who holds the lock.  :func:`break_lock` clears a stale lock.

Step tracking (a step's committed statements where DDL commits by itself) lives in :mod:`agno_alembic.steps`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as _dt
import hashlib
import json
import logging
import os
import random
import socket
import threading
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa

from agno_alembic import dialects, naming, registry
from agno_alembic.dialects import galera, mysql
from agno_alembic.errors import ConfigurationError, LockError, LockHolder, LockTimeoutError
from agno_alembic.steps import StepTracker as StepTracker  # its home before agno_alembic.steps; kept importable

log = logging.getLogger("agno_alembic")
_T = TypeVar("_T")

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_TTL",
    "LOCK_TABLE",
    "OPTIONS",
    "LockHolder",
    "break_lock",
    "current_holder",
    "hold",
    "parse_seconds",
    "process_lock",
    "process_lock_async",
    "sqlite_lock_file",
]

DEFAULT_TIMEOUT = 300.0
"""Seconds a migration waits for another one to finish before raising :class:`LockTimeoutError`."""
DEFAULT_TTL = 60.0
"""SingleStore: seconds a lock row stays valid without a heartbeat (a killed holder blocks others this long)."""
LOCK_TABLE = "agno_alembic_lock"
"""SingleStore: the table holding the lock row, in the migrated schema."""
OPTIONS = ("lock_timeout", "lock_ttl")
"""The ``-x`` options of the lock."""

_PG_NAMESPACE = zlib.crc32(b"agno_alembic") - 2**31
"""The first key of our PostgreSQL advisory locks (a signed int4); the second is the schema's crc32."""
_ROW_NAME = "migrations"
_INFO_KEY = "agno_alembic_locks"
_POLL_MIN, _POLL_MAX = 0.05, 0.25


def parse_seconds(value: object, option: str) -> float | None:
    """A timeout or TTL in seconds from an option value (``None`` and ``""`` mean the default)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ConfigurationError(f"Option {option!r} takes a number of seconds, got {value!r}", option=option)
    try:
        # The type-ignore below: any option value is tried; what float() refuses is a ConfigurationError
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigurationError(f"Option {option!r} takes a number of seconds, got {value!r}", option=option) from None
    if not seconds >= 0 or seconds == float("inf"):
        raise ConfigurationError(f"Option {option!r} takes a finite number of seconds >= 0, got {value!r}",
                                 option=option)
    if option == "lock_ttl" and seconds < 1:
        raise ConfigurationError(f"Option 'lock_ttl' must be at least 1 second, got {value!r}", option=option)
    return seconds


# -- the in-process lock -----------------------------------------------------------------------------------------

_PROCESS_LOCK = threading.Lock()
_process_holder: LockHolder | None = None
_IN_PROCESS: contextvars.ContextVar[bool] = contextvars.ContextVar("agno_alembic_process_lock", default=False)


def _me() -> LockHolder:
    thread = threading.current_thread().name
    return LockHolder("process", "agno-alembic in-process migration lock",
                      f"thread {thread!r} of pid {os.getpid()} on host {socket.gethostname()}", since=_now_text(),
                      pid=os.getpid(), host=socket.gethostname())


def _now_text() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def _timeout_error(holder: LockHolder | None, timeout: float, what: str) -> LockTimeoutError:
    who = str(holder) if holder is not None else "an unknown holder (it may have just released it)"
    hint = "" if holder is None or holder.backend == "process" else (
        " If that holder is gone for good, clear the lock with `agno-alembic break-lock` "
        "(agno_alembic.lock.break_lock)."
    )
    return LockTimeoutError(
        f"Timed out after {timeout:g}s waiting for {what}; it is held by {who}.{hint}",
        holder=holder, timeout=timeout,
    )


@contextlib.contextmanager
def process_lock(timeout: float | None = None) -> Iterator[None]:
    """Hold the in-process migration lock (reentrant within one thread's or task's context)."""
    global _process_holder
    if _IN_PROCESS.get():
        yield
        return
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    if not _PROCESS_LOCK.acquire(timeout=timeout):
        raise _timeout_error(_process_holder, timeout, "the in-process migration lock")
    _process_holder = _me()
    token = _IN_PROCESS.set(True)
    try:
        yield
    finally:
        _IN_PROCESS.reset(token)
        _process_holder = None
        _PROCESS_LOCK.release()


@contextlib.asynccontextmanager
async def process_lock_async(timeout: float | None = None) -> AsyncIterator[None]:
    """:func:`process_lock` for a coroutine: waits in a worker thread, never blocking the event loop."""
    global _process_holder
    if _IN_PROCESS.get():
        yield
        return
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    waiting = asyncio.get_running_loop().run_in_executor(None, lambda: _PROCESS_LOCK.acquire(timeout=timeout))
    try:
        acquired = await asyncio.shield(waiting)
    except asyncio.CancelledError:
        # Cancelled while a worker thread waits: whatever it gets is released, never leaked.
        def release_if_acquired(f: asyncio.Future[bool]) -> None:
            if not f.cancelled() and f.exception() is None and f.result():
                _PROCESS_LOCK.release()

        waiting.add_done_callback(release_if_acquired)
        raise
    if not acquired:
        raise _timeout_error(_process_holder, timeout, "the in-process migration lock")
    _process_holder = _me()
    token = _IN_PROCESS.set(True)
    try:
        yield
    finally:
        _IN_PROCESS.reset(token)
        _process_holder = None
        _PROCESS_LOCK.release()


# -- database locks ------------------------------------------------------------------------------------------


def _statement(connection: sa.Connection, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on ``connection``; end the transaction it began, leave a caller's transaction alone."""
    began = not connection.in_transaction()
    try:
        result = fn()
    except BaseException:
        if began and connection.in_transaction():
            connection.rollback()
        raise
    if began and connection.in_transaction():
        connection.commit()
    return result


def _sleep(seconds: float) -> None:
    """Sleep without blocking an event loop when running inside SQLAlchemy's asyncio bridge."""
    try:
        # The type-ignore below: not in sqlalchemy.util's stubs
        from sqlalchemy.util import await_only, in_greenlet  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - older SQLAlchemy
        time.sleep(seconds)
        return
    if in_greenlet():
        await_only(asyncio.sleep(seconds))
    else:
        time.sleep(seconds)


class _DbLock:
    """One backend's lock for one schema: try, release, and say who holds it."""

    key: str
    description: str

    def try_acquire(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def holder(self) -> LockHolder | None:
        raise NotImplementedError

    def clear(self, holder: LockHolder) -> None:
        """Break ``holder``'s lock (the caller decided it may)."""
        raise NotImplementedError


class _NoLock(_DbLock):
    """A private database (SQLite in memory): the in-process lock is all there is to take."""

    def __init__(self, backend: str) -> None:
        self.key = f"{backend}:private"
        self.description = "the migration lock of a private in-memory database"

    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None

    def holder(self) -> LockHolder | None:
        return None

    def clear(self, holder: LockHolder) -> None:
        return None


def _schema_label(connection: sa.Connection, schema: str | None, current: str) -> str:
    if schema:
        return schema
    return _statement(connection, lambda: connection.exec_driver_sql(current).scalar()) or ""


class _PostgresLock(_DbLock):
    def __init__(self, connection: sa.Connection, schema: str | None) -> None:
        self.connection = connection
        label = _schema_label(connection, schema, "SELECT current_schema()")
        self.k1 = _PG_NAMESPACE
        self.k2 = zlib.crc32(label.encode()) - 2**31
        self.key = f"postgresql:{self.k1}:{self.k2}"
        self.description = f"the PostgreSQL advisory lock ({self.k1}, {self.k2}) of schema {label!r}"

    def try_acquire(self) -> bool:
        c = self.connection
        return bool(_statement(c, lambda: c.execute(sa.text("SELECT pg_try_advisory_lock(:a, :b)"),
                                                    {"a": self.k1, "b": self.k2}).scalar()))

    def release(self) -> None:
        c = self.connection
        _statement(c, lambda: c.execute(sa.text("SELECT pg_advisory_unlock(:a, :b)"), {"a": self.k1, "b": self.k2}))

    def holder(self) -> LockHolder | None:
        c = self.connection
        row = _statement(c, lambda: c.execute(sa.text(
            "SELECT a.pid, a.usename, a.application_name, host(a.client_addr) AS addr, a.client_port, "
            "a.backend_start, a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = :a AND l.objid::bigint = :b"
        ), {"a": self.k1 % 2**32, "b": self.k2 % 2**32}).first())
        if row is None:
            return None
        details = [f"user {row.usename}"] if row.usename else []
        if row.application_name:
            details.append(f"application {row.application_name!r}")
        if row.addr:
            details.append(f"client {row.addr}:{row.client_port}")
        if row.state:
            details.append(f"state {row.state!r}")
        owner = f"PostgreSQL backend pid {row.pid}" + (f" ({', '.join(details)})" if details else "")
        since = row.backend_start.isoformat(timespec="seconds") if row.backend_start else None
        return LockHolder(registry.POSTGRESQL, self.description, owner, since=since, session=int(row.pid))

    def clear(self, holder: LockHolder) -> None:
        c = self.connection
        _statement(c, lambda: c.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": holder.session}))


class _MySQLLock(_DbLock):
    def __init__(self, connection: sa.Connection, schema: str | None) -> None:
        self.connection = connection
        label = _schema_label(connection, schema, "SELECT DATABASE()")
        self.name = "agno_alembic." + hashlib.sha1(label.encode()).hexdigest()
        self.key = f"mysql:{self.name}"
        self.description = f"the MySQL lock {self.name!r} (GET_LOCK) of database {label!r}"

    def try_acquire(self) -> bool:
        c = self.connection
        got = _statement(c, lambda: c.execute(sa.text("SELECT GET_LOCK(:n, 0)"), {"n": self.name}).scalar())
        if got is None:
            raise LockError(f"GET_LOCK({self.name!r}) failed on the server", holder=None)
        return bool(got)

    def release(self) -> None:
        c = self.connection
        _statement(c, lambda: c.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": self.name}))

    def holder(self) -> LockHolder | None:
        c = self.connection

        def read() -> tuple[Any, Any]:
            session = c.execute(sa.text("SELECT IS_USED_LOCK(:n)"), {"n": self.name}).scalar()
            if session is None:
                return None, None
            row = c.execute(sa.text(
                "SELECT USER, HOST, DB, COMMAND, TIME FROM information_schema.PROCESSLIST WHERE ID = :i"
            ), {"i": session}).first()
            return session, row

        session, row = _statement(c, read)
        if session is None:
            return None
        owner = f"MySQL connection id {session}"
        since = None
        if row is not None:
            owner += f" (user {row.USER}, client {row.HOST}, command {row.COMMAND!r})"
            if row.TIME is not None:
                since = (_dt.datetime.now() - _dt.timedelta(seconds=int(row.TIME))).isoformat(timespec="seconds")
        return LockHolder(registry.MYSQL, self.description, owner, since=since, session=int(session))

    def clear(self, holder: LockHolder) -> None:
        c = self.connection
        _statement(c, lambda: c.exec_driver_sql(f"KILL CONNECTION {int(holder.session or 0)}"))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _owner_fields(owner: str) -> tuple[int | None, str | None]:
    pid, _, host = owner.partition("@")
    return (int(pid) if pid.isdigit() else None), (host or None)


def _stale(pid: int | None, host: str | None) -> bool:
    return pid is not None and host == socket.gethostname() and not _process_alive(pid)


LOCK_DIR = ".agno-alembic"
"""SQLite: the folder, beside the database, that holds its lock file (and a ``.gitignore`` of ``*``)."""


def sqlite_lock_file(database: str) -> str:
    """SQLite: the lock file of the database file ``database``: ``<its folder>/.agno-alembic/<its name>.lock``.

    Beside the database, so every process and host that opens the database by that folder locks the same file
    (a temporary or per-user folder would not be shared by them); in a dot-folder whose ``.gitignore`` ignores
    everything in it, so it stays out of ``git status`` without the user doing anything.
    """
    folder, name = os.path.split(os.path.abspath(database))
    return os.path.join(folder, LOCK_DIR, f"{name}.lock")


def _lock_folder(lock_file: str) -> None:
    folder = os.path.dirname(lock_file)
    os.makedirs(folder, exist_ok=True)
    ignore = os.path.join(folder, ".gitignore")
    if not os.path.exists(ignore):
        with contextlib.suppress(OSError), open(ignore, "x", encoding="utf-8") as f:
            f.write("# agno-alembic's SQLite migration lock files (see agno_alembic.lock)\n*\n")


class _SqliteLock(_DbLock):
    def __init__(self, path: str) -> None:
        self.path = sqlite_lock_file(path)
        self.key = f"sqlite:{os.path.abspath(path)}"
        self.description = f"the SQLite migration lock file {self.path}"
        self.fd: int | None = None

    def _open(self) -> int:
        if self.fd is None:
            try:
                _lock_folder(self.path)
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise LockError(f"Cannot open the migration lock file {self.path}: {exc}", holder=None) from exc
        return self.fd

    def try_acquire(self) -> bool:
        fd = self._open()
        if not _flock(fd, blocking=False):
            return False
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now_text()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        return True

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)
        _unflock(self.fd)
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def holder(self) -> LockHolder | None:
        fd = self._open()
        if _flock(fd, blocking=False):  # nobody holds it
            _unflock(fd)
            return None
        try:
            info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        except (OSError, ValueError):
            info = {}
        pid, host = info.get("pid"), info.get("host")
        owner = f"pid {pid} on host {host}" if pid else "a process that has not recorded itself yet"
        return LockHolder(registry.SQLITE, self.description, owner, since=info.get("since"), pid=pid, host=host,
                          stale=_stale(pid, host))

    def clear(self, holder: LockHolder) -> None:
        raise LockError(
            f"{self.description} is held by {holder}: a file lock ends with the process holding it and cannot be "
            "broken from here. Stop that process (it may still be migrating).",
            holder=holder,
        )


def _flock(fd: int, *, blocking: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            # The type-ignore below: msvcrt is Windows only
            msvcrt.locking(fd, msvcrt.LK_NBLCK if not blocking else msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _unflock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]  # Windows only
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


def lock_table(schema: str | None) -> sa.Table:
    """SingleStore's lock table (one row per held lock)."""
    return sa.Table(
        LOCK_TABLE,
        sa.MetaData(),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("acquired_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        schema=schema,
    )


def _epoch_text(value: object) -> str | None:
    if value is None:
        return None
    # The type-ignore below: a number the driver read, typed object
    return _dt.datetime.fromtimestamp(int(value)).isoformat(timespec="seconds")  # type: ignore[call-overload]


class _RowLock(_DbLock):
    """SingleStore: a lock row with owner and expiry, kept alive by a heartbeat on a connection of its own."""

    backend = registry.SINGLESTORE

    def __init__(self, connection: sa.Connection, schema: str | None, ttl: float | None) -> None:
        self.engine = connection.engine
        self.schema = schema
        self.ttl = int(max(1.0, DEFAULT_TTL if ttl is None else ttl) + 0.999)
        self.table = lock_table(schema)
        where = f"schema {schema!r}" if schema else "the connection's database"
        self.key = f"singlestore:{schema or ''}"
        self.description = f"the SingleStore lock row {_ROW_NAME!r} in {LOCK_TABLE} of {where}"
        self.token = uuid.uuid4().hex
        self.owner = f"{os.getpid()}@{socket.gethostname()}"[:255]
        self.conn: sa.Connection | None = None
        self.seen: str | None = None
        """The token of the row :meth:`holder` last read (what :meth:`clear` may delete)."""
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self.lost = False

    def _connection(self, *, create: bool = True) -> sa.Connection | None:
        """The lock's own connection; the lock table (and schema) are created only to take the lock."""
        if self.conn is None:
            conn = self.engine.connect()
            exists = create or sa.inspect(conn).has_table(LOCK_TABLE, schema=self.schema)
            if conn.in_transaction():
                conn.rollback()
            if not exists:
                conn.close()
                return None
            self.conn = conn
            if create:
                with conn.begin():
                    if self.schema:
                        conn.execute(mysql.CreateSchema(self.schema))
                    conn.execute(sa.schema.CreateTable(self.table, if_not_exists=True))
        return self.conn

    def _now(self) -> sa.ColumnElement[Any]:
        return sa.func.unix_timestamp()

    def try_acquire(self) -> bool:
        conn = self._connection()
        assert conn is not None
        t = self.table
        for _ in range(2):
            try:
                with conn.begin():
                    conn.execute(t.insert().values(
                        name=_ROW_NAME, token=self.token, owner=self.owner, acquired_at=self._now(),
                        expires_at=self._now() + self.ttl,
                    ))
            except sa.exc.IntegrityError:
                pass
            else:
                self._start_heartbeat()
                return True
            with conn.begin():  # take over a row whose holder stopped renewing it
                gone = conn.execute(t.delete().where(t.c.name == _ROW_NAME, t.c.expires_at < self._now())).rowcount
            if not gone:
                return False
            log.warning("Took over an expired migration lock row in %s", LOCK_TABLE)
        return False

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name="agno-alembic-lock-heartbeat", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        t = self.table
        while not self._stop.wait(self.ttl / 3):
            try:
                assert self.conn is not None
                with self.conn.begin():
                    kept = self.conn.execute(
                        t.update().where(t.c.name == _ROW_NAME, t.c.token == self.token)
                        .values(expires_at=self._now() + self.ttl)
                    ).rowcount
            except Exception as exc:  # keep trying: the lock is only lost once the row expires
                log.warning("Could not renew the migration lock row: %s", exc)
                continue
            if not kept:
                self.lost = True
                log.error("The migration lock row was taken from this process (break-lock, or it expired); "
                          "another migration may now run alongside this one")
                return

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None
        if self.conn is None:
            return
        t = self.table
        try:
            with self.conn.begin():
                self.conn.execute(t.delete().where(t.c.name == _ROW_NAME, t.c.token == self.token))
        finally:
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None

    def holder(self) -> LockHolder | None:
        conn = self._connection(create=False)
        if conn is None:  # no lock table: nobody ever held the lock here
            return None
        t = self.table
        with conn.begin():
            row = conn.execute(sa.select(t.c.owner, t.c.acquired_at, t.c.expires_at, t.c.token,
                                         (t.c.expires_at < self._now()).label("expired"))
                               .where(t.c.name == _ROW_NAME)).first()
        if row is None:
            return None
        self.seen = row.token
        pid, host = _owner_fields(row.owner)
        owner = f"pid {pid} on host {host}" if pid is not None else row.owner
        return LockHolder(self.backend, self.description, owner, since=_epoch_text(row.acquired_at),
                          expires=_epoch_text(row.expires_at), pid=pid, host=host,
                          stale=bool(row.expired) or _stale(pid, host))

    def clear(self, holder: LockHolder) -> None:
        conn = self._connection(create=False)
        if conn is None:
            return
        t = self.table
        with conn.begin():  # only the row that was looked at, not one a waiter has taken since
            conn.execute(t.delete().where(t.c.name == _ROW_NAME, t.c.token == self.seen))


class _GaleraLock(_RowLock):
    """A Galera cluster (MariaDB Galera, Percona XtraDB Cluster): the lock row, replicated to every node.

    ``GET_LOCK`` is local to one node, so two migrators on two nodes would both get it.  The row's insert is a
    write set every node certifies in the same total order: of two nodes inserting it at once, the second fails
    at commit (error 1213) or sees the row (duplicate key); either way it does not hold the lock.  The lock is
    taken only on a node of the primary component (``wsrep_cluster_status='Primary'``, ``wsrep_ready``); a
    holder whose node is lost stops renewing the row, which expires after ``ttl`` seconds of the surviving
    nodes' clocks, and the next migrator takes it over.
    """

    backend = registry.MYSQL

    def __init__(self, connection: sa.Connection, schema: str | None, ttl: float | None,
                 state: galera.NodeState | None = None) -> None:
        super().__init__(connection, schema, ttl)
        where = f"database {schema!r}" if schema else "the connection's database"
        self.key = f"galera:{schema or ''}"
        self.description = f"the Galera cluster lock row {_ROW_NAME!r} in {LOCK_TABLE} of {where}"
        if state is not None:
            self._refuse_unless_primary(state)

    def _refuse_unless_primary(self, state: galera.NodeState | None) -> None:
        if state is None or not state.primary:
            raise LockError(
                f"Cannot take {self.description}: the node is not part of the cluster's primary component "
                f"({state or 'wsrep is off'}); migrate through a node that is (wsrep_cluster_status='Primary', "
                "wsrep_ready=ON)",
                holder=None,
            )

    def _primary(self, conn: sa.Connection) -> None:
        self._refuse_unless_primary(galera.node_state(conn))

    def try_acquire(self) -> bool:
        try:
            conn = self._connection()
            assert conn is not None
            self._primary(conn)
            return super().try_acquire()
        except sa.exc.DBAPIError as exc:
            if galera.is_not_ready(exc):  # the node left the primary component meanwhile
                self.close()
                raise LockError(f"Cannot take {self.description}: the node refuses queries, it is not part of "
                                f"the cluster's primary component ({exc.orig})", holder=None) from exc
            if not galera.is_conflict(exc):
                raise
            if self.conn is not None and self.conn.in_transaction():
                self.conn.rollback()
            return False  # another node's insert (or renewal) won certification


def _sqlite_file(connection: sa.Connection) -> str:
    rows = _statement(connection, lambda: connection.exec_driver_sql("PRAGMA database_list").all())
    return next((r[2] for r in rows if r[1] == "main"), "") or ""


def _db_lock(connection: sa.Connection, backend: str, schema: str | None, ttl: float | None) -> _DbLock:
    if backend == registry.POSTGRESQL:
        return _PostgresLock(connection, schema)
    if backend == registry.MYSQL:
        state = galera.node_state(connection)
        if state is not None:
            return _GaleraLock(connection, schema, ttl, state)
        return _MySQLLock(connection, schema)
    if backend == registry.SINGLESTORE:
        return _RowLock(connection, schema, ttl)
    path = _sqlite_file(connection)
    return _SqliteLock(path) if path else _NoLock(backend)


def _wait(lock: _DbLock, deadline: float, timeout: float) -> None:
    announced = False
    delay = _POLL_MIN
    ceiling = _POLL_MAX * (4 if isinstance(lock, _RowLock) else 1)  # a row poll is two statements and a commit
    while True:
        if lock.try_acquire():
            return
        remaining = deadline - time.monotonic()
        holder = lock.holder() if (remaining <= 0 or not announced) else None
        if remaining <= 0:
            if holder is None and lock.try_acquire():  # released between the two looks
                return
            raise _timeout_error(holder, timeout, lock.description)
        if not announced:
            log.info("Waiting up to %gs for %s, held by %s", timeout, lock.description, holder or "another session")
            announced = True
        _sleep(min(remaining, delay * random.uniform(0.8, 1.2)))
        delay = min(delay * 1.5, ceiling)


@contextlib.contextmanager
def hold(
    connection: sa.Connection,
    *,
    schema: str | None,
    backend: str | None = None,
    timeout: float | None = None,
    ttl: float | None = None,
) -> Iterator[None]:
    """Hold the migration lock of ``schema`` in ``connection``'s database for the block.

    ``schema`` is the configured schema (``None``: the connection's own).  Takes the in-process lock first, then
    the database's; both are reentrant (a block inside another on the same connection takes nothing).  Waits up to
    ``timeout`` seconds in all (:data:`DEFAULT_TIMEOUT`), then raises :class:`LockTimeoutError` naming the
    holder.  ``ttl`` is the SingleStore lock row's lifetime without a heartbeat (:data:`DEFAULT_TTL`).

    On PostgreSQL and MySQL the lock belongs to the connection's session: hold it on the connection that
    migrates, so it dies with it.
    """
    backend = backend or dialects.backend_of(connection.dialect)
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    with process_lock(timeout):
        lock = _db_lock(connection, backend, schema, ttl)
        held: dict[str, int] = connection.info.setdefault(_INFO_KEY, {})
        if lock.key in held:
            held[lock.key] += 1
            try:
                yield
            finally:
                held[lock.key] -= 1
            return
        try:
            _wait(lock, deadline, timeout)
        except BaseException:
            _close(lock)
            raise
        held[lock.key] = 1
        try:
            yield
        finally:
            held.pop(lock.key, None)
            _release(connection, lock)


def _close(lock: _DbLock) -> None:
    close = getattr(lock, "close", None)
    if close is not None:
        close()


def _release(connection: sa.Connection, lock: _DbLock) -> None:
    """Release, whatever state the migration left the connection in; a lock that cannot be released is never
    left behind on a pooled connection (the connection is closed instead, which ends the session's locks)."""
    try:
        lock.release()
        return
    except Exception as exc:
        error: Exception = exc
    session_lock = isinstance(lock, _PostgresLock | _MySQLLock)
    if session_lock and connection.in_transaction():  # a failed transaction refuses every statement
        try:
            connection.rollback()
            lock.release()
            return
        except Exception as exc:
            error = exc
    log.warning("Could not release %s (%s); closing its connection instead", lock.description, error)
    if session_lock:
        with contextlib.suppress(Exception):
            connection.invalidate()
    _close(lock)


# -- looking at and breaking the lock from outside -----------------------------------------------------------------


def _resolve(db: object, db_schema: str | None) -> tuple[Any, str, str | None]:
    if isinstance(db, str | sa.URL):
        try:
            url = sa.make_url(db)
        except sa.exc.ArgumentError as exc:
            raise ConfigurationError(f"Not a database URL: {db!r} ({exc})", option="url") from None
        backend = dialects.backend_of(url.get_backend_name())
        target: Any = url
    elif isinstance(db, sa.Connection | sa.Engine) or hasattr(db, "sync_engine"):
        backend = dialects.backend_of(db.dialect)  # type: ignore[attr-defined]  # an Engine, Connection or AsyncEngine
        target = db
    else:
        raise ConfigurationError(
            f"break_lock takes a database URL, a SQLAlchemy Engine, AsyncEngine or Connection; got {type(db).__name__}",
            option="db",
        )
    if db_schema is not None and not isinstance(db_schema, str):
        raise ConfigurationError(f"db_schema must be a string or None, got {db_schema!r}", option="db_schema")
    schema = naming.default_schema(backend) if db_schema is None else (db_schema or None)
    return target, backend, schema


def _on_connection(target: Any, fn: Callable[[sa.Connection], _T]) -> _T:
    """Run ``fn`` on a sync connection to ``target`` (a URL, an Engine, an AsyncEngine or a Connection)."""
    if isinstance(target, sa.Connection):
        return fn(target)
    if (isinstance(target, sa.URL) and target.get_dialect().is_async) or hasattr(target, "sync_engine"):
        from sqlalchemy.ext.asyncio import create_async_engine

        async def run() -> _T:
            engine = target if hasattr(target, "sync_engine") else create_async_engine(target,
                                                                                     poolclass=sa.pool.NullPool)
            try:
                async with engine.connect() as conn:
                    return await conn.run_sync(fn)
            finally:
                if engine is not target:
                    await engine.dispose()

        return asyncio.run(run())
    engine = target if isinstance(target, sa.Engine) else sa.create_engine(target, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return fn(conn)
    finally:
        if engine is not target:
            engine.dispose()


def current_holder(db: str | sa.URL | sa.Engine | sa.Connection | Any, *, db_schema: str | None = None,
                   ) -> LockHolder | None:
    """Who holds the migration lock of ``db`` (and ``db_schema``, as :func:`break_lock` reads it); ``None``: nobody."""
    target, backend, schema = _resolve(db, db_schema)

    def look(conn: sa.Connection) -> LockHolder | None:
        lock = _db_lock(conn, backend, schema, None)
        try:
            return lock.holder()
        finally:
            _close(lock)

    return _on_connection(target, look)


def break_lock(
    db: str | sa.URL | sa.Engine | sa.Connection | Any,
    *,
    db_schema: str | None = None,
    force: bool = False,
) -> LockHolder | None:
    """Clear a stale migration lock; return the holder it cleared, or ``None`` when nobody held the lock.

    ``db`` is a database URL (async drivers too), a SQLAlchemy ``Engine``, ``AsyncEngine`` or ``Connection``.
    ``db_schema`` is read as ``MigrationManager`` reads it: ``None`` means Agno's default for the backend (``ai``
    on PostgreSQL and MySQL, the connection's own on SQLite and SingleStore), ``""`` the connection's own schema.

    What a stale lock is, and what breaking does:

    * SingleStore and Galera clusters: a lock row whose expiry passed, or whose holder process ran on this host and
      is gone; the row is deleted.  A row whose holder may be alive is refused (:class:`LockError` naming it) unless
      ``force=True``.
    * PostgreSQL and MySQL: the server frees these locks when the holding session ends, so a held lock belongs
      to a live session (or one whose client vanished without the server noticing yet).  Breaking terminates
      that session (``pg_terminate_backend`` / ``KILL CONNECTION``), which needs ``force=True`` and the
      privilege to do so; without ``force`` a :class:`LockError` names the session.
    * SQLite: the kernel frees the file lock when the holding process ends; a held one cannot be broken
      (:class:`LockError` naming the process).

    Never break the lock of a migration that is still running: its next steps would race another migration.
    """
    if not isinstance(force, bool):
        raise ConfigurationError(f"force must be True or False, got {force!r}", option="force")
    target, backend, schema = _resolve(db, db_schema)

    def run(conn: sa.Connection) -> LockHolder | None:
        lock = _db_lock(conn, backend, schema, None)
        try:
            holder = lock.holder()
            if holder is None:
                return None
            if not holder.stale and not force and backend != registry.SQLITE:
                raise LockError(
                    f"{lock.description} is held by {holder}, which may still be migrating. Make sure it is not, "
                    "then break the lock with force (agno-alembic break-lock --force, break_lock(..., force=True)).",
                    holder=holder,
                )
            lock.clear(holder)
            log.warning("Broke %s, held by %s", lock.description, holder)
            if backend in (registry.POSTGRESQL, registry.MYSQL):
                _await_gone(lock)
            return holder
        finally:
            _close(lock)

    return _on_connection(target, run)


def _await_gone(lock: _DbLock, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while lock.holder() is not None:
        if time.monotonic() > deadline:
            raise LockError(f"{lock.description} is still held after terminating its session", holder=lock.holder())
        time.sleep(0.1)
