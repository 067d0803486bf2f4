"""Online data steps: committed batches sized by time, a progress row to resume from, a catch-up pass.

A batch is one range of session keys, copied and recorded in the progress row in one transaction, then committed;
its size follows the time the last one took (about :data:`BATCH_SECONDS` of work), so neither the application's
waits behind it nor the number of commits grow with the data.  After a crash (``kill -9`` included) the step starts
again after the last committed batch.  Rows the application writes into the runs table meanwhile win (the copy
inserts only what is missing); sessions the application updated since the copy began are copied again before the
step is stamped, then the copy is checked.

The progress rows live in agno-alembic's own table, :data:`PROGRESS_TABLE`, next to Agno's tables; a row exists
only while its step is in progress (``status`` shows it).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from agno_alembic import registry
from agno_alembic.data import runs as runs_data
from agno_alembic.shapes._dsl import TableSpec

log = logging.getLogger("agno_alembic")

PROGRESS_TABLE = "agno_alembic_progress"
BATCH_SECONDS = 0.1
"""Target duration of one committed batch."""
MIN_BATCH, MAX_BATCH, FIRST_BATCH = 10, 5000, 100
GALERA_MAX_BATCH = 500
"""Sessions per batch at most on a Galera node: each batch is one write set every node certifies and applies, and
a big one holds the cluster's commits behind it (flow control); see docs/clusters.md."""
LEGACY_RUNS_GUARD = "runs_agno_alembic_contract"
"""The name ``contract()`` gives ``sessions.runs`` while it checks it, so that no replica can write a legacy run
between the check and the drop (see ``MigrationManager.contract``)."""
CATCH_UP_MARGIN = 5
"""Seconds before the copy began from which an updated session is copied again (clock skew between servers)."""


def progress_table(schema: str | None) -> sa.Table:
    return sa.Table(
        PROGRESS_TABLE, sa.MetaData(),
        sa.Column("step", sa.String(191), primary_key=True),
        sa.Column("position", sa.String(255), nullable=False),
        sa.Column("done", sa.BigInteger, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        schema=schema,
    )


@dataclass(frozen=True)
class Progress:
    """A data step in progress: ``done`` of ``total`` rows, resuming after ``position``."""

    step: str
    position: str
    done: int
    total: int
    started_at: int
    updated_at: int

    def describe(self) -> str:
        return f"{self.step}: {self.done}/{self.total} sessions copied"


def read_progress(connection: sa.Connection, schema: str | None) -> list[Progress]:
    """Every data step in progress (none when the table does not exist)."""
    if not sa.inspect(connection).has_table(PROGRESS_TABLE, schema=schema):
        return []
    t = progress_table(schema)
    return [Progress(**r._mapping) for r in connection.execute(sa.select(t).order_by(t.c.step))]


class _Sizer:
    """Rows per batch, adjusted after each batch towards :data:`BATCH_SECONDS` of work."""

    def __init__(self, limit: int | None = None) -> None:
        self.size = FIRST_BATCH
        self.limit = MAX_BATCH if limit is None else min(limit, MAX_BATCH)

    @contextlib.contextmanager
    def timing(self) -> Iterator[None]:
        started = time.monotonic()
        yield
        took = max(time.monotonic() - started, 1e-4)
        factor = min(2.0, max(0.5, BATCH_SECONDS / took))
        self.size = int(min(self.limit, max(MIN_BATCH, self.size * factor)))


def _commit(connection: sa.Connection) -> None:
    from alembic import op

    from agno_alembic import online

    try:
        ctx = op.get_context()
    except (NameError, AttributeError):  # outside a migration step (contract, catch-up of a later up())
        ctx = None
    if ctx is not None and ctx.connection is connection:
        online.commit(ctx)
    elif connection.in_transaction():
        connection.commit()


def _keys(connection: sa.Connection, sessions: TableSpec, after: str, size: int) -> list[str]:
    t = sa.table(sessions.name, sa.column("session_id"), schema=sessions.schema)
    return list(connection.execute(
        sa.select(t.c.session_id).where(t.c.session_id > after).order_by(t.c.session_id).limit(size)
    ).scalars())


class _Copier:
    """Copies the runs of one range of sessions, as :func:`agno_alembic.data.runs.copy_runs` does for a chunk."""

    def __init__(self, connection: sa.Connection, backend: str, sessions: TableSpec, runs: TableSpec) -> None:
        self.connection, self.backend, self.sessions, self.runs = connection, backend, sessions, runs
        self.now = int(time.time())
        self.sql = None
        if backend == registry.POSTGRESQL:
            self.sql = sa.text(runs_data._postgresql(runs_data._Names(connection.dialect, sessions, runs)))
        self.writer = runs_data._MySQLRuns(connection, sessions, runs) if backend == registry.MYSQL else None

    def copy(self, after: str, upto: str) -> None:
        if self.sql is not None:
            self.connection.execute(self.sql, {"now": self.now, "after": after, "upto": upto})
        else:
            runs_data._copy_in_python(self.connection, self.sessions, self.runs, after, upto, self.now, self.writer)


def copy_runs_online(connection: sa.Connection, backend: str, sessions: TableSpec, runs: TableSpec,
                     step: str) -> None:
    """The 3.0.0 runs copy in committed, resumable batches, then a catch-up pass and a check (see the module)."""
    from agno_alembic import online

    t = progress_table(sessions.schema)
    if not sa.inspect(connection).has_table(t.name, schema=t.schema):
        online.ddl(lambda: t.create(connection, checkfirst=True), kind="create_table", table=t.name, schema=t.schema)
    _commit(connection)

    def begin() -> Progress:
        row = connection.execute(sa.select(t).where(t.c.step == step)).first()
        total = int(connection.execute(
            sa.select(sa.func.count()).select_from(sa.table(sessions.name, schema=sessions.schema))).scalar_one())
        if row is None:
            found = Progress(step, "", 0, total, int(time.time()), int(time.time()))
            connection.execute(t.insert().values(**found.__dict__))
        else:
            found = Progress(**row._mapping)
            log.info("%s: resuming after %d/%d sessions (key %r)", step, found.done, found.total, found.position)
        _commit(connection)
        return found

    progress = _retrying(connection, backend, begin)
    total = progress.total
    copier = _Copier(connection, backend, sessions, runs)
    sizer = _Sizer(_limit(connection, backend))
    after, done, last_log, began = progress.position, progress.done, time.monotonic(), time.monotonic()
    while True:
        with sizer.timing():
            keys = _retrying(connection, backend, lambda a=after, d=done: _batch(
                connection, copier, sessions, t, step, a, d, total, sizer.size))
            if not keys:
                break
            after, done = keys[-1], done + len(keys)
        if time.monotonic() - last_log >= runs_data.PROGRESS_SECONDS:
            last_log = time.monotonic()
            log.info("%s: copied runs of %d/%d sessions (%.1fs, %d per batch)", sessions.name, done, total,
                     last_log - began, sizer.size)
    listed = int(time.time())
    caught = _catch_up(connection, copier, sessions, progress.started_at - CATCH_UP_MARGIN, sizer)
    log.info("%s: copied runs of %d sessions into %s in committed batches (%.1fs), caught up %d session(s) "
             "updated meanwhile", sessions.name, done, runs.name, time.monotonic() - began, caught)
    # sessions updated after the catch-up listed them may hold runs appended since: a later up() and contract()
    # copy those; every other session must be complete
    _check(connection, sessions, runs, listed - CATCH_UP_MARGIN)
    connection.execute(t.delete().where(t.c.step == step))
    if connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() == 0:
        # no step in progress: agno-alembic's bookkeeping leaves nothing behind (a crash before the stamp now
        # restarts the copy from the beginning, which keeps every row already copied)
        online.ddl(lambda: t.drop(connection, checkfirst=True), kind="drop_table", table=t.name, schema=t.schema)


def _limit(connection: sa.Connection, backend: str) -> int | None:
    """:data:`GALERA_MAX_BATCH` on a Galera node, else no limit but :data:`MAX_BATCH`."""
    from agno_alembic.dialects import galera

    if backend == registry.MYSQL and galera.node_state(connection) is not None:
        return GALERA_MAX_BATCH
    return None


def _batch(connection: sa.Connection, copier: _Copier, sessions: TableSpec, t: sa.Table, step: str, after: str,
           done: int, total: int, size: int) -> list[str]:
    """One batch: copy the runs of the next ``size`` sessions and record where it stopped, then commit."""
    keys = _keys(connection, sessions, after, size)
    if keys:
        copier.copy(after, keys[-1])
        connection.execute(t.update().where(t.c.step == step).values(
            position=keys[-1], done=done + len(keys), total=max(total, done + len(keys)), updated_at=int(time.time())))
    _commit(connection)
    return keys


RETRY_SECONDS = 300.0
"""How long a batch that met the application's lock (SQLite: the database is locked) or lost a Galera
certification conflict is retried."""


def _retrying(connection: sa.Connection, backend: str, fn: Any) -> Any:
    """``fn`` (one batch, its own transaction), retried with backoff while it cannot commit for a reason that rolls
    it back whole (:func:`agno_alembic.dialects.online.is_retryable_batch`): the application holds the lock it
    needs (SQLite returns "database is locked" at once where two writers would wait for each other), or on a
    Galera cluster a conflicting write committed on another node first (error 1213)."""
    from agno_alembic import online
    from agno_alembic.dialects import online as dialect

    deadline, attempt = time.monotonic() + RETRY_SECONDS, 0
    while True:
        try:
            return fn()
        except sa.exc.DBAPIError as exc:
            attempt += 1
            if not dialect.is_retryable_batch(backend, exc) or time.monotonic() > deadline:
                raise
            online._rollback_any(connection)
            pause = online.backoff(attempt)
            log.info("a batch could not commit (try %d: %s); retrying it in %.2fs", attempt,
                     getattr(exc, "orig", exc), pause)
            time.sleep(pause)


def _updated_since(connection: sa.Connection, sessions: TableSpec, since: int) -> list[str]:
    s = sa.table(sessions.name, sa.column("session_id"), sa.column("updated_at"), sa.column("runs"),
                 schema=sessions.schema)
    return list(connection.execute(
        sa.select(s.c.session_id).where(s.c.updated_at >= since, s.c.runs.is_not(None)).order_by(s.c.session_id)
    ).scalars())


def _predecessor(connection: sa.Connection, sessions: TableSpec, key: str) -> str:
    s = sa.table(sessions.name, sa.column("session_id"), schema=sessions.schema)
    found = connection.execute(sa.select(sa.func.max(s.c.session_id)).where(s.c.session_id < key)).scalar()
    return found if found is not None else ""


def _catch_up(connection: sa.Connection, copier: _Copier, sessions: TableSpec, since: int, sizer: _Sizer) -> int:
    """Copy again the sessions updated since ``since`` (their runs appended during the copy), in batches."""
    keys = _updated_since(connection, sessions, since)
    _commit(connection)
    i = 0
    while i < len(keys):
        with sizer.timing():
            part = keys[i:i + max(1, sizer.size // 10)]

            def batch(part: list[str] = part) -> None:
                for key in part:
                    copier.copy(_predecessor(connection, sessions, key), key)
                _commit(connection)

            _retrying(connection, copier.backend, batch)
            i += len(part)
    return len(keys)


def missing_runs(connection: sa.Connection, sessions: TableSpec, runs: TableSpec, *, before: int | None = None,
                 commit: bool = False, column: str = "runs") -> list[str]:
    """The run ids of legacy runs (objects with a ``run_id``) that have no row in the runs table, in session order;
    with ``before``, only of sessions not updated since then.  Streamed in chunks of sessions.  ``column``: where
    the legacy lists are (``contract()`` reads them under :data:`LEGACY_RUNS_GUARD`)."""
    s = sa.table(sessions.name, sa.column("session_id"), sa.column(column), sa.column("updated_at"),
                 schema=sessions.schema)
    legacy = s.c[column]
    r = sa.table(runs.name, sa.column("run_id"), schema=runs.schema)
    missing: list[str] = []
    after = ""
    while True:
        where = [s.c.session_id > after, legacy.is_not(None)]
        if before is not None:
            where.append(sa.or_(s.c.updated_at.is_(None), s.c.updated_at < before))
        rows = connection.execute(
            sa.select(s.c.session_id, legacy).where(*where).order_by(s.c.session_id).limit(runs_data.CHUNK_SESSIONS)
        ).all()
        if not rows:
            return missing
        ids: set[str] = set()
        for _, blob in rows:
            ids |= runs_data._run_ids(blob)
        if ids:
            found = set(connection.execute(sa.select(r.c.run_id).where(r.c.run_id.in_(ids))).scalars())
            missing += sorted(ids - found)
        after = rows[-1][0]
        if commit:
            _commit(connection)


def _check(connection: sa.Connection, sessions: TableSpec, runs: TableSpec, before: int) -> None:
    """Every legacy run of a session not updated since ``before`` is in the runs table; else nothing is stamped.

    (Sessions an Agno 2.x replica updates right now may hold runs appended after their catch-up: the next
    ``up()`` and the contract step copy those.)"""
    runs_data.verify_copy(connection, sessions, runs, updated_before=before, between=lambda: _commit(connection))


def catch_up(connection: sa.Connection, backend: str, sessions: TableSpec, runs: TableSpec) -> None:
    """Outside a step (a later ``up()``, ``contract()``): copy the legacy runs older replicas appended since the
    copy, every session walked in committed batches; rows already in the runs table win."""
    _commit(connection)
    copier = _Copier(connection, backend, sessions, runs)
    sizer = _Sizer(_limit(connection, backend))
    after, done, began = "", 0, time.monotonic()

    def batch(after: str, size: int) -> list[str]:
        keys = _keys(connection, sessions, after, size)
        if keys:
            copier.copy(after, keys[-1])
        _commit(connection)
        return keys

    while True:
        with sizer.timing():
            keys = _retrying(connection, backend, lambda a=after, n=sizer.size: batch(a, n))
            if not keys:
                break
            after, done = keys[-1], done + len(keys)
    log.info("%s: caught up the legacy runs of %d session(s) (%.1fs)", sessions.name, done, time.monotonic() - began)


def copy_guarded(connection: sa.Connection, backend: str, sessions: TableSpec, runs: TableSpec, column: str) -> None:
    """``contract()``, the legacy column under its guard name (no replica writes it any more): copy what the runs
    table still lacks, every session walked in committed chunks by Agno's rules; rows already there win."""
    _commit(connection)
    now, after = int(time.time()), ""

    def batch(after: str) -> list[str]:
        keys = _keys(connection, sessions, after, runs_data.CHUNK_SESSIONS)
        if keys:
            runs_data._copy_in_python(connection, sessions, runs, after, keys[-1], now, None, column)
        _commit(connection)
        return keys

    while keys := _retrying(connection, backend, lambda a=after: batch(a)):
        after = keys[-1]
