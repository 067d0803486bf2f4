"""Online data steps: committed batches sized by time, a progress row to resume from, a catch-up pass.

A batch is one range of session keys, copied and recorded in the progress row in one transaction, then committed;
its size follows the time the last one took (about :data:`SERVER_BATCH_SECONDS` of work on PostgreSQL, where a
batch blocks none of the application's queries, :data:`BATCH_SECONDS` on SQLite, where the application's writers
wait for it; on MySQL/MariaDB about :data:`LOCK_SECONDS` of ``INSERT``, in runs, see :class:`_LockBudget`), so
neither the application's waits behind it nor the number of commits grow with the data.  After a crash (``kill -9``
included) the step starts again after the last committed batch.  Rows the application writes into the runs table
meanwhile win (the copy inserts only what is missing); sessions the application updated after their batch began are
copied again before the step is stamped, then the copy is checked.

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
from agno_alembic.dialects.online import (  # SQLite's turns, shared with online DDL (online.sqlite_turn)
    SQLITE_BATCH_SECONDS,
    SQLITE_GIVE_WAY,
    SQLITE_READ_BYTES,
    SQLITE_TURN_BYTES,
    SQLITE_WAITED,
    SQLITE_WRITING_FOR,
)
from agno_alembic.shapes._dsl import TableSpec

log = logging.getLogger("agno_alembic")

PROGRESS_TABLE = "agno_alembic_progress"
BATCH_SECONDS = 0.1
"""Target duration of one committed batch on SQLite, where the application's writes wait for it (see
:data:`SERVER_BATCH_SECONDS`; MySQL/MariaDB: :data:`LOCK_SECONDS`)."""
SERVER_BATCH_SECONDS = 0.5
"""Target duration of one committed batch on PostgreSQL, where a batch blocks none of the application's reads and
writes (its reads lock nothing; the foreign key check of each run it inserts takes ``FOR KEY SHARE`` on the session,
which an update of the session does not wait for): longer batches spend less of the copy on each batch's round
trips and commit. MySQL/MariaDB size the part that locks (:data:`LOCK_SECONDS`): there the foreign key check holds a
shared lock on each session whose runs the batch inserts until it commits, and the application's updates of those
sessions wait."""
MIN_BATCH, MAX_BATCH, FIRST_BATCH = 10, 5000, 100
LOCK_SECONDS = 0.05
"""MySQL/MariaDB: how long a batch's ``INSERT`` of runs should take. From its first ``INSERT`` until it commits, a
batch holds a shared lock on each session whose runs it inserted (InnoDB's foreign key check), and the
application's updates of those sessions wait for it; only that part of a batch is sized (reading the lists locks
nothing; the ``COMMIT`` costs the same whatever the size), in runs (:class:`_LockBudget`), not in sessions: a
session's cost is its runs."""
MIN_LOCKED_RUNS, FIRST_LOCKED_RUNS, MAX_LOCKED_RUNS = 50, 100, 500
"""MySQL/MariaDB: the runs one batch inserts (so the runs whose sessions it locks) at least, at first, at most.
At least 50: on a machine so loaded that inserting 50 runs takes longer than :data:`LOCK_SECONDS`, the statement's
own overhead is most of that time, and fewer runs per batch would make the copy crawl while locking about as
long."""
LOCKED_RUNS_GROWTH = 1.5
"""MySQL/MariaDB: a batch inserts at most this many times the runs of the one before. A stretch of cheap batches
(sessions with few, small runs; pages in the buffer pool) must not let the next batch, on the expensive sessions
after them, grow into a long lock (sized in sessions and doubling per batch, one grew from 36 to 408 sessions
over the small sessions an application had inserted, then locked 2,000 runs' sessions for 1.1 s)."""
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
        return f"{self.step}: {self.done}/{self.total} {UNITS.get(self.step.rsplit(' ', 1)[-1], 'sessions copied')}"


FILL = "fill"
"""The last word of a NOT NULL fill's step name (``<table>.<column> fill``, :mod:`agno_alembic.data.fill`)."""
REKEY = "re-key"
"""The last word of the learnings 3.0.0 entity re-key's step name (``<table>.entity_memory re-key``)."""
REWRITE = "rewrite"
"""The last word of a PostgreSQL online type change's step name (``<table>.* to <version> rewrite``,
:mod:`agno_alembic.rewrite`)."""
UNITS = {FILL: "rows filled", REKEY: "entity rows walked", REWRITE: "rows copied into the shadow table"}
"""What ``done`` counts, by the last word of a step's name (the runs copy's, ``<sessions>.runs -> <runs>``:
sessions copied)."""


def ensure_progress_table(connection: sa.Connection, schema: str | None) -> sa.Table:
    """The progress table, created (a DDL step of its own, online) where it does not exist yet; committed."""
    from agno_alembic import online

    t = progress_table(schema)
    if not sa.inspect(connection).has_table(t.name, schema=t.schema):
        online.ddl(lambda: t.create(connection, checkfirst=True), kind="create_table", table=t.name, schema=t.schema)
    _commit(connection)
    return t


def begin_progress(connection: sa.Connection, t: sa.Table, step: str, total: int) -> Progress:
    """The step's progress row: the one a crashed run left (to resume from), else a new one; committed."""
    row = connection.execute(sa.select(t).where(t.c.step == step)).first()
    if row is None:
        found = Progress(step, "", 0, total, int(time.time()), int(time.time()))
        connection.execute(t.insert().values(**found.__dict__))
    else:
        found = Progress(**row._mapping)
        log.info("resuming %s (key %r)", found.describe(), found.position)
    _commit(connection)
    return found


def end_progress(connection: sa.Connection, t: sa.Table, step: str) -> None:
    """The step is done: its row goes, and the table with the last row (agno-alembic's bookkeeping leaves nothing
    behind; a crash before the stamp then restarts the step from the beginning, which keeps every row written)."""
    from agno_alembic import online

    connection.execute(t.delete().where(t.c.step == step))
    _commit(connection)
    if connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() == 0:
        online.ddl(lambda: t.drop(connection, checkfirst=True), kind="drop_table", table=t.name, schema=t.schema)


def read_progress(connection: sa.Connection, schema: str | None) -> list[Progress]:
    """Every data step in progress (none when the table does not exist)."""
    if not sa.inspect(connection).has_table(PROGRESS_TABLE, schema=schema):
        return []
    t = progress_table(schema)
    return [Progress(**r._mapping) for r in connection.execute(sa.select(t).order_by(t.c.step))]


def batch_seconds(backend: str) -> float:
    """The target duration of one committed batch of an online data step on ``backend``."""
    return {registry.POSTGRESQL: SERVER_BATCH_SECONDS, registry.SQLITE: SQLITE_BATCH_SECONDS}.get(backend,
                                                                                                 BATCH_SECONDS)


class _LockBudget:
    """MySQL/MariaDB: the runs the next batch may insert, adjusted after each batch towards :data:`LOCK_SECONDS` of
    ``INSERT`` (its locks are held from the first ``INSERT`` to the end of its ``COMMIT``), growing by at most
    :data:`LOCKED_RUNS_GROWTH` per batch, within :data:`MIN_LOCKED_RUNS`..:data:`MAX_LOCKED_RUNS`; and the sessions
    to read for it (the runs per session seen so far, with a margin: the copy stops at the budget, see
    :class:`agno_alembic.data.runs.Budget`)."""

    def __init__(self, limit: int) -> None:
        self.budget = runs_data.Budget(FIRST_LOCKED_RUNS)
        self.limit = limit
        self.per_session: float | None = None
        self.longest = 0.0  # the longest a batch held its locks so far (seconds; the progress lines say it)

    def sessions(self) -> int:
        per = self.per_session if self.per_session is not None else 4.0
        return int(min(self.limit, max(MIN_BATCH, self.budget.runs / max(per, 0.05) * 1.25)))

    def locked(self, held: float | None, inserting: float, sessions: int) -> None:
        """A batch committed: it held its locks ``held`` seconds (``None``: it inserted nothing), of which its
        ``INSERT`` statements took ``inserting`` (the part its size changes), over ``sessions`` sessions."""
        b = self.budget
        if sessions:
            seen = b.sent / sessions
            self.per_session = seen if self.per_session is None else (self.per_session + seen) / 2
        if held is None or not b.sent:
            return
        self.longest = max(self.longest, held)
        fits = b.sent * LOCK_SECONDS / max(inserting, 1e-4)
        # at most LOCKED_RUNS_GROWTH more, at most half as many (one slow batch, a moment of the machine's, does
        # not drop the budget to its floor)
        b.runs = int(min(MAX_LOCKED_RUNS, max(MIN_LOCKED_RUNS, b.runs / 2, min(b.runs * LOCKED_RUNS_GROWTH, fits))))


class _Sizer:
    """Rows per batch, adjusted after each batch towards its target duration (:func:`batch_seconds`); on SQLite,
    online, the batch's hold of the write lock (``connection``'s :class:`~agno_alembic.online.SQLiteWritesWait`); on
    MySQL/MariaDB, for the runs copy (``runs_copy``), the sessions its :class:`_LockBudget` (``locks``) needs."""

    def __init__(self, backend: str, limit: int | None = None, seconds: float | None = None,
                 connection: sa.Connection | None = None, *, runs_copy: bool = False) -> None:
        from agno_alembic import online

        self.size = FIRST_BATCH
        self.took = 0.0
        self.target = seconds if seconds is not None else batch_seconds(backend)
        self.limit = MAX_BATCH if limit is None else min(limit, MAX_BATCH)
        # SQLite, online: what the application waits for is the write lock's hold, COMMIT included (a batch's time
        # also counts the wait for the lock and the keys read before it, which block no writer)
        self.writes = online.sqlite_writes(connection) if connection is not None else None
        self.locks = _LockBudget(self.limit) if runs_copy and backend == registry.MYSQL else None
        if self.locks is not None:
            self.size = self.locks.sessions()

    @contextlib.contextmanager
    def timing(self) -> Iterator[None]:
        started = time.monotonic()
        holds = self.writes.holds if self.writes is not None else 0
        yield
        took = self.took = max(time.monotonic() - started, 1e-4)
        if self.locks is not None:
            self.size = self.locks.sessions()
            return
        if self.writes is not None and self.writes.holds > holds:
            took = max(self.writes.last_hold, 1e-4)
        factor = min(2.0, max(0.5, self.target / took))
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
    """Copies the runs of one range of sessions, as :func:`agno_alembic.data.runs.copy_runs` does for a chunk; on
    MySQL/MariaDB at most the runs of the sizer's :class:`_LockBudget` per transaction."""

    def __init__(self, connection: sa.Connection, backend: str, sessions: TableSpec, runs: TableSpec,
                 sizer: _Sizer) -> None:
        self.connection, self.backend, self.sessions, self.runs = connection, backend, sessions, runs
        self.locks = sizer.locks
        self._lacking: runs_data.Lacking | None = None
        self.now = int(time.time())
        self.sql = self.sql_keys = None
        if backend == registry.POSTGRESQL:
            names = runs_data._Names(connection.dialect, sessions, runs)
            self.sql = runs_data._PostgresCopy(names)
            self.sql_keys = runs_data._PostgresCopy(names, keys=True)
        # MySQL: runs sliced out of their lists by position, each checked against the digest of the text read
        self.writer = runs_data._GuardedRuns(connection, sessions, runs) if backend == registry.MYSQL else None

    def copy(self, after: str, upto: str) -> str | None:
        """The sessions of the key range ``(after, upto]``; returns the key of the last session copied where the
        lock budget ended the range early (MySQL/MariaDB), else ``None`` (the whole range)."""
        if self.sql is not None:
            self.sql(self.connection, {"now": self.now, "after": after, "upto": upto})
            return None
        return self._in_python(after, upto, None)

    def copy_keys(self, keys: list[str]) -> str | None:
        """The sessions of ``keys`` (the catch-up pass); returns as :meth:`copy` does."""
        if self.sql_keys is not None:
            self.sql_keys(self.connection, {"now": self.now, "keys": keys})
            return None
        return self._in_python("", "", keys)

    def _in_python(self, after: str, upto: str, keys: list[str] | None) -> str | None:
        budget = self.locks.budget if self.locks is not None else None
        if self.writer is not None:
            self.writer.locking_since = None
        runs_data._copy_in_python(self.connection, self.sessions, self.runs, after, upto, self.now, self.writer,
                                  keys=keys, budget=budget)
        return budget.covered if budget is not None else None

    def lacking(self, after: str, upto: str, keys: list[str] | None = None) -> list[str] | None:
        """MySQL/MariaDB (a catch-up): of the key range ``(after, upto]`` or of ``keys``, the sessions that may hold
        a legacy run the runs table lacks (:class:`agno_alembic.data.runs.Lacking`); ``None``: copy them all."""
        if self.backend != registry.MYSQL:
            return None
        if self.locks is not None:
            self.locks.budget.covered, self.locks.budget.sent = None, 0
        if self._lacking is None:
            self._lacking = runs_data.Lacking(self.connection, self.sessions, self.runs)
        return self._lacking.range(after, upto) if keys is None else self._lacking.keys(keys)

    def copy_lacking(self, after: str, keys: list[str]) -> list[str]:
        """A catch-up batch over ``keys`` (read after ``after``, in key order): the sessions that may lack runs are
        copied, up to the lock budget; returns the keys done."""
        todo = self.lacking(after, keys[-1])
        if todo is None:
            return self.cut(keys, self.copy(after, keys[-1]))
        return self.cut(keys, self.copy_keys(todo)) if todo else keys

    def committed(self, sessions: int) -> None:
        """The batch committed, over ``sessions`` sessions: the lock budget learns how long it held its locks."""
        if self.locks is None or self.writer is None:
            return
        since, self.writer.locking_since = self.writer.locking_since, None
        self.locks.locked(None if since is None else time.monotonic() - since, self.writer.inserting, sessions)

    def cut(self, keys: list[str], covered: str | None) -> list[str]:
        """``keys`` up to ``covered`` (the session :meth:`copy` stopped after), or all of them."""
        if covered is None:
            return keys
        if covered in keys:
            return keys[:keys.index(covered) + 1]
        return [covered]  # a session the application inserted after the keys were read: it is the position


def copy_runs_online(connection: sa.Connection, backend: str, sessions: TableSpec, runs: TableSpec,
                     step: str) -> None:
    """The 3.0.0 runs copy in committed, resumable batches, then a catch-up pass and a check (see the module)."""
    from agno_alembic import online
    from agno_alembic.dialects import online as dialect

    t = progress_table(sessions.schema)
    if not sa.inspect(connection).has_table(t.name, schema=t.schema):
        online.ddl(lambda: t.create(connection, checkfirst=True), kind="create_table", table=t.name, schema=t.schema)
    _commit(connection)

    def begin() -> Progress:
        total = int(connection.execute(
            sa.select(sa.func.count()).select_from(sa.table(sessions.name, schema=sessions.schema))).scalar_one())
        return begin_progress(connection, t, step, total)

    with dialect.reads_lock_nothing(connection, backend):
        _copy_and_check(connection, backend, sessions, runs, step, t, _retrying(connection, backend, begin))
    if connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() == 0:
        # no step in progress: agno-alembic's bookkeeping leaves nothing behind (a crash before the stamp now
        # restarts the copy from the beginning, which keeps every row already copied)
        online.ddl(lambda: t.drop(connection, checkfirst=True), kind="drop_table", table=t.name, schema=t.schema)


DEFER_INDEXES_BELOW = 1000
"""MySQL/MariaDB online: the runs table's secondary indexes are built after the copy only while it holds fewer rows
than this when the copy begins (the rows an Agno 3.x replica wrote since the table was created, or a copy
interrupted early); a table the application already filled keeps its indexes."""


def deferred_runs_indexes(connection: sa.Connection, backend: str, sessions: TableSpec,
                          runs: TableSpec) -> list[str]:
    """MySQL/MariaDB, online: the runs table's secondary indexes the copy drops before its first batch and builds
    after its check, in one ``ALTER TABLE ... ADD INDEX ..., ALGORITHM=INPLACE, LOCK=NONE`` (in the shape's order);
    ``[]`` where it keeps them.

    Each run a batch inserts under its random ``run_id`` lands on a page of each of the nine secondary indexes
    that is mostly not in the buffer pool once they outgrow it (MariaDB buffers no change to a secondary index
    since 10.5.15): a random read per index per run. Built after the copy, each index is one sorted pass. Kept: the
    index the foreign key needs (``session_id`` first; InnoDB refuses to drop the last one) and every index where
    there is little to gain or a reader may need them: a runs table of :data:`DEFER_INDEXES_BELOW` rows or more,
    no legacy list to copy, a Galera node (an ``ALTER TABLE`` there is one total-order event that holds the
    cluster's writes to the table for the whole build)."""
    from agno_alembic.dialects import galera

    if backend != registry.MYSQL or not runs.indexes or galera.node_state(connection) is not None:
        return []
    insp = sa.inspect(connection)
    if insp.has_table(runs.name, schema=runs.schema):
        held = connection.execute(sa.select(sa.func.count()).select_from(
            sa.select(sa.literal(1)).select_from(sa.table(runs.name, schema=runs.schema))
            .limit(DEFER_INDEXES_BELOW).subquery())).scalar_one()
        if held >= DEFER_INDEXES_BELOW:
            return []
    s = sa.table(sessions.name, sa.column("runs"), schema=sessions.schema)
    if connection.execute(sa.select(sa.literal(1)).select_from(s).where(s.c.runs.is_not(None)).limit(1)).first() \
            is None:
        return []
    keys = {fk.columns for fk in runs.foreign_keys}
    kept = next((name for name, index in runs.indexes.items()
                 if any(index.columns[:len(k)] == k for k in keys)), None)
    return [name for name, index in runs.indexes.items() if name != kept and not index.unique]


def _limit(connection: sa.Connection, backend: str) -> int | None:
    """:data:`GALERA_MAX_BATCH` on a Galera node, else no limit but :data:`MAX_BATCH`."""
    from agno_alembic.dialects import galera

    if backend == registry.MYSQL and galera.node_state(connection) is not None:
        return GALERA_MAX_BATCH
    return None


def _copy_and_check(connection: sa.Connection, backend: str, sessions: TableSpec, runs: TableSpec, step: str,
                    t: sa.Table, progress: Progress) -> None:
    total = progress.total
    sizer = _Sizer(backend, _limit(connection, backend), connection=connection, runs_copy=True)
    copier = _Copier(connection, backend, sessions, runs, sizer)
    after, done, began = progress.position, progress.done, time.monotonic()
    # when each range of keys was copied, ``(upto, time)``: the catch-up copies again only the sessions updated
    # since their own range's batch began (a resumed copy: since the step began)
    marks: list[tuple[str | None, int]] = [(after, progress.started_at)] if after else []
    with _giving_way(connection, backend):
        turns = _Turns(connection, backend)  # one for every phase: it remembers when the application last wrote
        done = _copy(connection, backend, copier, sessions, t, step, total, sizer, after, done, marks, turns)
        copied = time.monotonic()
        listed = int(time.time())
        caught = _catch_up(connection, copier, sessions, t, step, marks, sizer, turns)
    log.info("%s: copied runs of %d sessions into %s in committed batches (%.1fs), caught up %d session(s) "
             "updated meanwhile (%.1fs)", sessions.name, done, runs.name, copied - began, caught,
             time.monotonic() - copied)
    # sessions updated after the catch-up listed them may hold runs appended since: a later up() and contract()
    # copy those; every other session must be complete
    _check(connection, backend, sessions, runs, listed - CATCH_UP_MARGIN, turns)
    connection.execute(t.delete().where(t.c.step == step))


def _copy(connection: sa.Connection, backend: str, copier: _Copier, sessions: TableSpec, t: sa.Table, step: str,
          total: int, sizer: _Sizer, after: str, done: int, marks: list[tuple[str | None, int]],
          pause: _Turns) -> int:
    """The batches, from ``after`` to the last session; returns how many sessions are done."""
    last_log = began = time.monotonic()
    while True:
        with sizer.timing():
            mark = int(time.time())
            keys = _retrying(connection, backend, lambda a=after, d=done: _batch(
                connection, copier, sessions, t, step, a, d, total, sizer.size))
            if not keys:
                marks.append((None, mark))  # sessions inserted after the last range since this read
                break
            after, done = keys[-1], done + len(keys)
            _merge_mark(marks, after, mark)
        pause(sizer.took)
        if time.monotonic() - last_log >= runs_data.PROGRESS_SECONDS:
            last_log = time.monotonic()
            locks = "" if sizer.locks is None else \
                f", up to {sizer.locks.budget.runs} runs, locks held {sizer.locks.longest:.2f}s at most"
            log.info("%s: copied runs of %d/%d sessions (%.1fs, %d per batch%s)", sessions.name, done, total,
                     last_log - began, sizer.size, locks)
    return done


def _batch(connection: sa.Connection, copier: _Copier, sessions: TableSpec, t: sa.Table, step: str, after: str,
           done: int, total: int, size: int) -> list[str]:
    """One batch: copy the runs of the next ``size`` sessions and record where it stopped, then commit.

    The keys are read in a transaction of their own; on SQLite the write transaction then begins with a write (the
    progress row), so it waits for the application's writers with the busy timeout (a transaction that read first
    gets "database is locked" at once where a writer holds the lock: SQLite would deadlock otherwise)."""
    keys = _keys(connection, sessions, after, size)
    _commit(connection)
    if keys:
        def record(keys: list[str]) -> sa.Update:
            return t.update().where(t.c.step == step).values(
                position=keys[-1], done=done + len(keys), total=max(total, done + len(keys)),
                updated_at=int(time.time()))

        if copier.backend == registry.SQLITE:
            connection.execute(record(keys))
            copier.copy(after, keys[-1])
        else:  # copy first: where the driver commits each statement itself (SingleStore's), no batch is recorded
            keys = copier.cut(keys, copier.copy(after, keys[-1]))  # that was not copied
            connection.execute(record(keys))
        _commit(connection)
        copier.committed(len(keys))
    return keys


def _merge_mark(marks: list[tuple[str | None, int]], upto: str, when: int) -> None:
    """Record that the sessions up to ``upto`` were copied by a batch begun at ``when`` (whole seconds: the
    batches of one second share one mark)."""
    if marks and marks[-1][1] == when and len(marks) > 1:
        marks[-1] = (upto, when)
    else:
        marks.append((upto, when))




class _Turns:
    """SQLite: the application's turn after each of the migration's transactions. While the application writes
    (``PRAGMA data_version`` changed, when another connection commits, in the last :data:`SQLITE_WRITING_FOR`
    seconds) the migration holds nothing for :data:`SQLITE_GIVE_WAY` seconds; a quiet database is copied at full
    speed. Elsewhere: nothing (the servers queue their waiters).

    The application counts as writing too when the migration's last write transaction had to wait for the lock,
    and at the start (writers kept waiting by the step's DDL have committed nothing yet)."""

    def __init__(self, connection: sa.Connection, backend: str) -> None:
        from agno_alembic import online

        self.connection, self.sqlite = connection, backend == registry.SQLITE
        self.writes = online.sqlite_writes(connection)
        self.seen = time.monotonic()
        self.version = self._version() if self.sqlite else None

    def _version(self) -> int | None:
        try:
            return int(self.connection.exec_driver_sql("PRAGMA data_version").scalar_one())
        except sa.exc.DBAPIError:  # the application holds the database: it is writing
            return None
        finally:
            _commit(self.connection)  # holds no lock while it pauses (a reader keeps writers from committing)

    def _look(self) -> None:
        version = self._version()
        waited = self.writes is not None and self.writes.waited > SQLITE_WAITED
        if version is None or version != self.version or waited:
            self.seen = time.monotonic()
        self.version = version

    def __call__(self, took: float = 0.0) -> None:
        """After a committed transaction of the migration (``took``: unused, kept for the callers' symmetry)."""
        if not self.sqlite:
            return
        if self.writes is not None:
            self.writes.since_turn = 0.0  # DDL that follows counts its holds from here (online.sqlite_turn)
        self._look()
        if time.monotonic() - self.seen <= SQLITE_WRITING_FOR:
            log.debug("sqlite: giving way %.2fs to the application's writers", SQLITE_GIVE_WAY)
            time.sleep(SQLITE_GIVE_WAY)
            self._look()  # the commits made while it gave way


#: SQLite: how long a batch waits for the write lock before it rolls back and tries again after a pause (seconds).
#: The application's writers wait with their busy timeout, sleeping longer and longer between their tries; a copy
#: that waited as long would take the lock before writers that have waited longest, again and again.
SQLITE_LOCK_WAIT = 0.05


def _giving_way(connection: sa.Connection, backend: str) -> contextlib.AbstractContextManager[None]:
    from agno_alembic import online

    if backend != registry.SQLITE:
        return contextlib.nullcontext()
    return online._bounded(connection, backend, SQLITE_LOCK_WAIT)


RETRY_SECONDS = 300.0
"""How long a batch that met the application's lock (SQLite: the database is locked) or lost a Galera
certification conflict is retried."""


def _retrying(connection: sa.Connection, backend: str, fn: Any) -> Any:
    """``fn`` (one batch, its own transaction), retried with backoff while it cannot commit for a reason that rolls
    it back whole (:func:`agno_alembic.dialects.online.is_retryable_batch`): the application holds the lock it
    needs (SQLite returns "database is locked" at once where two writers would wait for each other), the server
    broke a deadlock, or on a Galera cluster a conflicting write committed on another node first (error 1213)."""
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


def _updated_since(connection: sa.Connection, sessions: TableSpec, after: str, upto: str | None,
                   since: int) -> list[str]:
    s = sa.table(sessions.name, sa.column("session_id"), sa.column("updated_at"), sa.column("runs"),
                 schema=sessions.schema)
    where = [s.c.session_id > after, s.c.updated_at >= since, s.c.runs.is_not(None)]
    if upto is not None:
        where.append(s.c.session_id <= upto)
    return list(connection.execute(sa.select(s.c.session_id).where(*where).order_by(s.c.session_id)).scalars())


def _catch_up(connection: sa.Connection, copier: _Copier, sessions: TableSpec, t: sa.Table, step: str,
              marks: list[tuple[str | None, int]], sizer: _Sizer, pause: _Turns) -> int:
    """Copy again the sessions updated since their range was copied (runs appended meanwhile), a list of keys per
    committed batch; rows already in the runs table win."""
    # one range of marks per read transaction (SQLite: a reader keeps writers from committing), each retried alone
    keys: list[str] = []
    lo = ""
    for upto, when in marks:
        def listed(lo: str = lo, upto: str | None = upto, when: int = when) -> list[str]:
            found = _updated_since(connection, sessions, lo, upto, when - CATCH_UP_MARGIN)
            _commit(connection)
            return found

        keys += _retrying(connection, copier.backend, listed)
        if upto is None:
            break
        lo = upto
    i = 0
    while i < len(keys):
        with sizer.timing():
            part = keys[i:i + sizer.size]

            def batch(part: list[str] = part) -> list[str]:
                if copier.backend == registry.SQLITE:  # first a write: the busy timeout applies (see _batch)
                    connection.execute(t.update().where(t.c.step == step).values(updated_at=int(time.time())))
                todo = copier.lacking("", "", part)
                if todo is None:
                    done = copier.cut(part, copier.copy_keys(part))
                else:
                    done = copier.cut(part, copier.copy_keys(todo)) if todo else part
                _commit(connection)
                copier.committed(len(done))
                return done

            i += len(_retrying(connection, copier.backend, batch))
        pause(sizer.took)
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


def _check(connection: sa.Connection, backend: str, sessions: TableSpec, runs: TableSpec, before: int,
           pause: _Turns) -> None:
    """Every legacy run of a session not updated since ``before`` is in the runs table; else nothing is stamped.

    SQLite: a reader there keeps the application's writers from committing (rollback journal), so each read is a
    short transaction of its own, about :data:`SQLITE_READ_BYTES` of lists, decoded after it ends
    (:class:`agno_alembic.data.runs.ShortReads`), and the check gives way (:class:`_Turns`) after every
    :data:`SQLITE_TURN_BYTES` read; the servers' readers block nobody (MVCC).

    (Sessions an Agno 2.x replica updates right now may hold runs appended after their catch-up: the next
    ``up()`` and the contract step copy those.)"""
    if backend != registry.SQLITE:
        runs_data.verify_copy(connection, sessions, runs, updated_before=before, between=lambda: _commit(connection))
        return
    reads = runs_data.ShortReads(lambda: _commit(connection), SQLITE_READ_BYTES)

    def between() -> None:
        _commit(connection)
        if reads.since >= SQLITE_TURN_BYTES:
            reads.since = 0
            pause()

    runs_data.verify_copy(connection, sessions, runs, updated_before=before, between=between, reads=reads)
    log.debug("sqlite: the check read %d bytes of lists at most per read transaction", reads.largest)


def catch_up(connection: sa.Connection, backend: str, sessions: TableSpec, runs: TableSpec) -> None:
    """Outside a step (a later ``up()``, ``contract()``): copy the legacy runs older replicas appended since the
    copy, every session walked in committed batches; rows already in the runs table win."""
    from agno_alembic import dialects
    from agno_alembic.dialects import mysql
    from agno_alembic.dialects import online as dialect

    _commit(connection)
    sizer = _Sizer(backend, _limit(connection, backend), connection=connection, runs_copy=True)
    copier = _Copier(connection, backend, sessions, runs, sizer)
    after, done, began = "", 0, time.monotonic()
    # MySQL: in utf8mb4, as the step's copy (a run's digest is of its text as utf8mb4)
    characters = mysql.utf8mb4(connection) if dialects.is_mysql_like(backend) else contextlib.nullcontext()
    with characters, dialect.reads_lock_nothing(connection, backend), _giving_way(connection, backend):
        pause = _Turns(connection, backend)
        while True:
            with sizer.timing():
                keys = _retrying(connection, backend, lambda a=after: _range_batch(
                    connection, copier, sessions, a, sizer.size))
                if not keys:
                    break
                after, done = keys[-1], done + len(keys)
            pause(sizer.took)
    log.info("%s: caught up the legacy runs of %d session(s) (%.1fs)", sessions.name, done, time.monotonic() - began)


def _range_batch(connection: sa.Connection, copier: _Copier, sessions: TableSpec, after: str, size: int) -> list[str]:
    keys = _keys(connection, sessions, after, size)
    if keys:
        keys = copier.copy_lacking(after, keys)
    _commit(connection)
    copier.committed(len(keys))
    return keys


def copy_guarded(connection: sa.Connection, backend: str, sessions: TableSpec, runs: TableSpec, column: str) -> None:
    """``contract()``, the legacy column under its guard name (no replica writes it any more): copy what the runs
    table still lacks, every session walked in committed chunks by Agno's rules; rows already there win."""
    _commit(connection)
    now, after = int(time.time()), ""

    def batch(after: str) -> list[str]:
        keys = _keys(connection, sessions, after, runs_data.CHUNK_SESSIONS)
        if keys:
            runs_data._copy_in_python(connection, sessions, runs, after, keys[-1], now, None, column=column)
        _commit(connection)
        return keys

    while keys := _retrying(connection, backend, lambda a=after: batch(a)):
        after = keys[-1]
