"""What online DDL means per backend, as data: how a statement bounds its lock waits, how the server says a lock
wait ran out, who blocks, and which ALGORITHM/LOCK clauses MySQL/MariaDB are asked for.

:mod:`agno_alembic.online` runs the statements; this module only describes the backends.  The lock each statement
takes, in either mode, is in the one lock table, :mod:`agno_alembic.dialects.locks` (``plan`` reads it).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from agno_alembic import registry

REWRITE_MOMENT_ROWS = 1000
"""PostgreSQL, online: a type change that rewrites a table of at most this many rows runs in place (its exclusive lock
lasts milliseconds); a bigger table is rewritten through a shadow table (:mod:`agno_alembic.rewrite`), or, where a
shadow cannot carry what the table has, refused unless the caller accepts the rewrite (``allow_rewrite``)."""


# -- bounding lock waits -----------------------------------------------------------------------------------------


def bound_statements(backend: str, seconds: float) -> tuple[str, ...]:
    """Session statements that make a statement give up waiting for a lock after about ``seconds``."""
    if backend == registry.POSTGRESQL:
        return (f"SET lock_timeout = '{max(1, round(seconds * 1000))}ms'",)
    if backend in (registry.MYSQL, registry.SINGLESTORE):
        # Whole seconds only; MariaDB takes 0 (NOWAIT), MySQL's minimum is 1.
        whole = int(seconds) if seconds >= 1 else 0
        return (f"SET SESSION lock_wait_timeout = {whole}", f"SET SESSION innodb_lock_wait_timeout = {max(whole, 1)}")
    return (f"PRAGMA busy_timeout = {max(1, round(seconds * 1000))}",)


def settings_query(backend: str) -> str:
    """A statement reading the session settings :func:`bound_statements` changes, to restore them after."""
    if backend == registry.POSTGRESQL:
        return "SELECT current_setting('lock_timeout')"
    if backend in (registry.MYSQL, registry.SINGLESTORE):
        return "SELECT @@SESSION.lock_wait_timeout, @@SESSION.innodb_lock_wait_timeout"
    return "PRAGMA busy_timeout"


def restore_statements(backend: str, saved: Sequence[Any]) -> tuple[str, ...]:
    """Statements putting back the settings :func:`settings_query` read."""
    if backend == registry.POSTGRESQL:
        return (f"SET lock_timeout = '{saved[0]}'",)
    if backend in (registry.MYSQL, registry.SINGLESTORE):
        return (f"SET SESSION lock_wait_timeout = {int(saved[0])}",
                f"SET SESSION innodb_lock_wait_timeout = {int(saved[1])}")
    return (f"PRAGMA busy_timeout = {int(saved[0])}",)


#: MySQL error numbers of a lock wait that ran out: metadata lock (1205 both), NOWAIT (MariaDB 1205 / MySQL 3572).
_MYSQL_LOCK_ERRORS = frozenset({1205, 3572})


def is_lock_timeout(backend: str, exc: BaseException) -> bool:
    """Whether a driver error means the statement gave up waiting for a lock (so it may be retried)."""
    orig = getattr(exc, "orig", exc)
    if backend == registry.POSTGRESQL:
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        return code == "55P03"
    if backend in (registry.MYSQL, registry.SINGLESTORE):
        args: tuple[Any, ...] = getattr(orig, "args", ())
        return bool(args) and args[0] in _MYSQL_LOCK_ERRORS
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text


#: Errors after which a data batch (its own transaction, rolled back) may simply run again: a lock wait that ran
#: out, a deadlock the server broke, a serialization failure.
_PG_RETRYABLE = frozenset({"55P03", "40P01", "40001"})


def is_retryable_batch(backend: str, exc: BaseException) -> bool:
    """Whether a data step's batch that failed with ``exc`` was rolled back as a whole and may run again from its
    start: a lock wait that ran out (:func:`is_lock_timeout`); on PostgreSQL a deadlock or serialization failure
    the server broke (:data:`_PG_RETRYABLE`); on MySQL/MariaDB a deadlock or a Galera certification conflict
    (error 1213, :data:`agno_alembic.dialects.galera.CONFLICT_ERRORS`: a write committed on another node first)."""
    from agno_alembic.dialects import galera

    if backend == registry.POSTGRESQL:
        orig = getattr(exc, "orig", exc)
        return (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) in _PG_RETRYABLE
    if is_lock_timeout(backend, exc):
        return True
    return backend in (registry.MYSQL, registry.SINGLESTORE) and galera.is_conflict(exc)


@contextlib.contextmanager
def reads_lock_nothing(connection: sa.Connection, backend: str) -> Iterator[None]:
    """An online copy's transactions read the sessions without locking them, so the application's updates of a
    session never wait for a batch that copies it.

    MySQL/MariaDB: ``READ COMMITTED`` for the copy (under ``REPEATABLE READ``, ``INSERT ... SELECT`` holds a
    shared lock on every session it joins until the batch commits), except where the binary log is written by
    statement, which refuses it. PostgreSQL reads lock nothing already (``READ COMMITTED``, MVCC); SQLite has one
    writer anyway."""
    if backend != registry.MYSQL:
        yield
        return
    log_bin, binlog_format, level = connection.exec_driver_sql(
        "SELECT @@GLOBAL.log_bin, @@SESSION.binlog_format, @@SESSION.transaction_isolation"
        if _has_variable(connection, "transaction_isolation")
        else "SELECT @@GLOBAL.log_bin, @@SESSION.binlog_format, @@SESSION.tx_isolation").one()
    if (int(log_bin or 0) and str(binlog_format).upper() == "STATEMENT") or str(level) == "READ-COMMITTED":
        yield
        return
    connection.exec_driver_sql("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    try:
        yield
    finally:
        with contextlib.suppress(sa.exc.DBAPIError):
            connection.exec_driver_sql(f"SET SESSION TRANSACTION ISOLATION LEVEL {str(level).replace('-', ' ')}")


def _has_variable(connection: sa.Connection, name: str) -> bool:
    return connection.exec_driver_sql(f"SHOW VARIABLES LIKE '{name}'").first() is not None


def blockers(connection: sa.Connection, backend: str, table: str | None, schema: str | None) -> list[str]:
    """Who holds locks on ``table`` (or keeps a transaction open), as the server can tell: one line per session."""
    try:
        if backend == registry.POSTGRESQL and table is not None:
            qualified = connection.dialect.identifier_preparer.format_table(sa.table(table, schema=schema))
            rows = connection.execute(sa.text(
                "SELECT DISTINCT a.pid, a.usename, a.application_name, a.state, a.xact_start, left(a.query, 200) "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.relation = to_regclass(:t) AND l.granted AND l.pid <> pg_backend_pid() ORDER BY a.pid"
            ), {"t": qualified}).all()
            return [f"pid {r[0]} ({r[1]}, {r[2] or 'no application_name'}, {r[3]}, transaction since {r[4]}): "
                    f"{r[5]}" for r in rows]
        if backend in (registry.MYSQL, registry.SINGLESTORE):
            rows = connection.execute(sa.text(
                "SELECT p.id, p.user, p.host, p.command, p.time, t.trx_started, LEFT(COALESCE(p.info, ''), 200) "
                "FROM information_schema.innodb_trx t JOIN information_schema.processlist p "
                "ON p.id = t.trx_mysql_thread_id WHERE p.id <> CONNECTION_ID() ORDER BY t.trx_started"
            )).all()
            return [f"connection {r[0]} ({r[1]}@{r[2]}, {r[3]} {r[4]}s, transaction since {r[5]}): {r[6]}"
                    for r in rows]
    except sa.exc.DBAPIError:
        return []
    return []


# -- MySQL/MariaDB: the online clauses ---------------------------------------------------------------------------

#: MySQL error numbers of an ALGORITHM/LOCK clause the server refuses for this change (1064: a server whose
#: syntax has no such clause for the statement; the last try, without a clause, reports a real syntax error).
_MYSQL_UNSUPPORTED = frozenset({1064, 1845, 1846})


_MYSQL_QUOTED = re.compile(r"`(?:[^`]|``)*`")
_MYSQL_ALTER_ACTION = re.compile(
    r",\s*(?=(?:ADD|DROP|MODIFY|CHANGE|ALTER|RENAME|ALGORITHM|LOCK|CONVERT|ORDER|FORCE)\b)")


def _adds_only_indexes(statement: str) -> bool:
    """An ``ALTER TABLE`` whose every action is ``ADD [UNIQUE] INDEX|KEY`` (quoted names read as one word; an
    unquoted name that reads as a keyword makes it ``False``, the safe answer)."""
    text = " ".join(_MYSQL_QUOTED.sub("q", statement).split()).upper()
    found = re.fullmatch(r"ALTER TABLE \S+ (.+)", text)
    if found is None:
        return False
    return all(re.match(r"ADD (UNIQUE )?(INDEX|KEY) ", action) for action in _MYSQL_ALTER_ACTION.split(found.group(1)))


def mysql_clauses(statement: str) -> list[str]:
    """The online clauses to try, best first, for a MySQL DDL statement ('' = the statement as it is).  An index
    is never built ``INSTANT``: an ``ALTER TABLE`` adding only indexes starts at ``INPLACE, LOCK=NONE``."""
    verb = " ".join(statement.split()[:2]).upper()
    if verb == "ALTER TABLE":
        if _adds_only_indexes(statement):
            return [", ALGORITHM=INPLACE, LOCK=NONE", ""]
        return [", ALGORITHM=INSTANT", ", ALGORITHM=INPLACE, LOCK=NONE", ""]
    if verb in ("CREATE INDEX", "CREATE UNIQUE"):
        return [" ALGORITHM=INPLACE LOCK=NONE", ""]
    # DROP INDEX: a catalog change on InnoDB; MariaDB takes no ALGORITHM clause there.
    return [""]


def is_unsupported_clause(exc: BaseException) -> bool:
    args: tuple[Any, ...] = getattr(getattr(exc, "orig", exc), "args", ())
    return bool(args) and args[0] in _MYSQL_UNSUPPORTED


def invalid_indexes(connection: sa.Connection, table: str, schema: str | None) -> set[str]:
    """PostgreSQL: the table's indexes an interrupted ``CREATE INDEX CONCURRENTLY`` left INVALID."""
    qualified = connection.dialect.identifier_preparer.format_table(sa.table(table, schema=schema))
    return set(connection.execute(sa.text(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(:t) AND NOT i.indisvalid"
    ), {"t": qualified}).scalars())


def rename_column(connection: sa.Connection, backend: str, table: str, schema: str | None, old: str,
                  new: str) -> str:
    """The statement renaming column ``old`` of ``table`` to ``new`` (a catalog change on every backend:
    PostgreSQL, SQLite 3.25+, MySQL 8.0+ / MariaDB 10.5+ ``RENAME COLUMN``; SingleStore ``CHANGE``)."""
    q = connection.dialect.identifier_preparer
    qualified = q.format_table(sa.table(table, schema=schema))
    if backend == registry.SINGLESTORE:
        return f"ALTER TABLE {qualified} CHANGE {q.quote(old)} {q.quote(new)}"
    return f"ALTER TABLE {qualified} RENAME COLUMN {q.quote(old)} TO {q.quote(new)}"


def drop_column(connection: sa.Connection, table: str, schema: str | None, column: str) -> str:
    q = connection.dialect.identifier_preparer
    return f"ALTER TABLE {q.format_table(sa.table(table, schema=schema))} DROP COLUMN {q.quote(column)}"


# -- SQLite: the application's turns (data.batched._Turns for data steps, online.sqlite_turn between DDL) --------

SQLITE_BATCH_SECONDS = 0.08
"""Target hold of SQLite's write lock by one batch of a data step, its ``COMMIT`` included: every writer of the
application waits for it (``data.batched._Turns``)."""
SQLITE_READ_BYTES = 1_000_000
"""Bytes of legacy lists one read transaction of an online data step's check reads on SQLite (a few milliseconds
from the page cache): while it lasts no application writer can commit (rollback journal), and a writer waiting
for its ``COMMIT`` keeps the application's readers out too (``data.runs.ShortReads``)."""
SQLITE_TURN_BYTES = 4_000_000
"""SQLite: the check gives the application a turn after reading this many bytes of lists (about 200 sessions of
five 3.4 KB runs, the ranges it gave way after before its reads were short)."""
#: SQLite: how long the migration gives way after each of its transactions while the application writes (seconds):
#: longer than the longest sleep of SQLite's own busy handler between two tries (0.1 s, ``sqlite3_busy_timeout``),
#: so every application writer waiting for the lock tries at least once while the migration holds nothing.
SQLITE_GIVE_WAY = 0.12
#: SQLite: the application counts as writing for this long after a commit of another connection was last seen
#: (seconds). Without it, writers all kept waiting through one batch would commit nothing the next look could see,
#: and the migration would stop giving way exactly when they wait.
SQLITE_WRITING_FOR = 2.0
#: SQLite: a wait for the write lock longer than this (seconds) means another connection held it.
SQLITE_WAITED = 0.002
