"""The exceptions agno-alembic raises: one small tree under :class:`AgnoAlembicError`, each carrying data.

Two more are Alembic's own kind (:class:`alembic.util.CommandError`), raised around Alembic's commands by
:mod:`agno_alembic.guard` where Alembic would report the problem poorly: :class:`PlainHeadError` and
:class:`UnknownRevisionsError`.  This module imports nothing of agno-alembic's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alembic.util import CommandError

__all__ = [
    "AgnoAlembicError",
    "BlockedByDataError",
    "ConfigurationError",
    "DDLLockTimeoutError",
    "DataVerificationError",
    "DowngradeRefusedError",
    "LockError",
    "LockHolder",
    "LockTimeoutError",
    "MigrationError",
    "PartiallyAppliedError",
    "PlainHeadError",
    "RewriteRefusedError",
    "UnknownRevisionsError",
    "UnknownTableTypeError",
    "UnknownVersionError",
    "UnsupportedBackendError",
    "V1ImportIncompleteError",
]


class AgnoAlembicError(Exception):
    """Base class of every error agno-alembic raises on purpose."""


class ConfigurationError(AgnoAlembicError, ValueError):
    """A configuration value (URL, schema, table name, option) is not usable."""

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


class UnknownTableTypeError(AgnoAlembicError, ValueError):
    """A table type that is neither a canonical name nor an alias of one."""

    def __init__(self, table_type: str, valid: Sequence[str]) -> None:
        self.table_type = table_type
        self.valid = tuple(valid)
        super().__init__(f"Unknown Agno table type {table_type!r}; valid table types: {', '.join(self.valid)}")


class UnknownVersionError(AgnoAlembicError, ValueError):
    """A version that is not a schema version, or outside the known range."""

    def __init__(self, version: str, known: Sequence[str]) -> None:
        self.version = version
        self.known = tuple(known)
        super().__init__(
            f"Unknown Agno schema version {version!r}; known schema versions: {', '.join(self.known)} "
            "(an in-between version such as 2.4.0 means the nearest lower one)"
        )


class UnsupportedBackendError(AgnoAlembicError, ValueError):
    """A database backend agno-alembic does not migrate."""

    def __init__(self, backend: str, supported: Sequence[str]) -> None:
        self.backend = backend
        self.supported = tuple(supported)
        super().__init__(f"Unsupported database backend {backend!r}; supported: {', '.join(self.supported)}")


class DowngradeRefusedError(AgnoAlembicError):
    """A downgrade that would destroy data, refused unless the caller explicitly allows it."""

    def __init__(self, message: str, *, table: str, would_destroy: str, allow_option: str) -> None:
        self.table = table
        self.would_destroy = would_destroy
        self.allow_option = allow_option
        super().__init__(message)


class MigrationError(AgnoAlembicError):
    """A migration step failed in Alembic or in the database; the original error is its ``__cause__``."""


class DataVerificationError(MigrationError):
    """A data step's check of what it wrote found rows missing (a run of the legacy lists with no row in the runs
    table, a table rebuilt with fewer rows than it had): the step failed, is not recorded as applied, and dropped
    nothing. ``step`` names the check, ``table`` the table that lacks the rows, ``expected`` how many it should
    hold, ``missing`` how many it lacks, ``examples`` the first missing keys."""

    def __init__(
        self, message: str, *, step: str, table: str, expected: int, missing: int, examples: Sequence[object]
    ) -> None:
        self.step = step
        self.table = table
        self.expected = expected
        self.missing = missing
        self.examples = tuple(examples)
        super().__init__(message)


class BlockedByDataError(AgnoAlembicError):
    """A step cannot run on the data as it is (duplicates where a key is coming, NULLs...); nothing was changed.

    ``examples`` holds a few of the offending values; the message says how to fix them.
    """

    def __init__(self, message: str, *, table: str, examples: list[object]) -> None:
        self.table = table
        self.examples = examples
        super().__init__(message)


@dataclass(frozen=True)
class LockHolder:
    """Who holds a migration lock, as far as the backend can tell."""

    backend: str
    lock: str
    """Which lock: ``PostgreSQL advisory lock (…) for schema 'ai'``..."""
    owner: str
    """Who: ``PostgreSQL backend pid 4242 (user postgres, client 127.0.0.1:50522)``, ``pid 77 on host web-1``..."""
    since: str | None = None
    """When it was taken (or the holding session started), ISO-8601 text, when known."""
    expires: str | None = None
    """SingleStore: when the lock row expires unless its holder's heartbeat renews it."""
    session: int | None = None
    """PostgreSQL backend pid / MySQL connection id of the holding session."""
    pid: int | None = None
    host: str | None = None
    """OS process and host of the holder, when recorded (SQLite, SingleStore, the in-process lock)."""
    stale: bool = False
    """Known to be dead: an expired SingleStore row, or a holder process on this host that no longer runs."""

    def __str__(self) -> str:
        parts = [self.owner]
        if self.since:
            parts.append(f"since {self.since}")
        if self.expires:
            parts.append(f"expiring {self.expires}")
        if self.stale:
            parts.append("(stale: the holder is gone)")
        return " ".join(parts)


class LockError(AgnoAlembicError):
    """The migration lock could not be taken or cleared; ``holder`` (a :class:`LockHolder`, or
    ``None`` when unknown) says who holds it."""

    def __init__(self, message: str, *, holder: LockHolder | None) -> None:
        self.holder = holder
        super().__init__(message)


class LockTimeoutError(LockError):
    """Another migration held the lock for longer than ``timeout`` seconds; ``holder`` names it."""

    def __init__(self, message: str, *, holder: LockHolder | None, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(message, holder=holder)


class PartiallyAppliedError(MigrationError):
    """A step failed on a backend whose DDL commits by itself (MySQL, MariaDB, SingleStore) after part of it had
    committed.  ``step`` names it (``upgrade agno_metrics_3_0_0``), ``committed`` lists the statements that
    committed; the step is not recorded as applied, and running the migration again completes it.  The original
    error is the ``__cause__``."""

    def __init__(self, message: str, *, step: str, committed: Sequence[str], backend: str) -> None:
        self.step = step
        self.committed = tuple(committed)
        self.backend = backend
        super().__init__(message)


class DDLLockTimeoutError(MigrationError):
    """Online mode: a DDL statement could not get its lock within ``deadline`` seconds of short, bounded tries
    (the application kept the table busy).  ``statement`` is the DDL, ``table`` its table, ``attempts`` the tries,
    ``blockers`` the sessions the server names as holding locks on the table or keeping a transaction open (empty
    where it cannot tell: SQLite).  Nothing of the statement was applied; running the migration again resumes."""

    def __init__(
        self, message: str, *, statement: str, table: str | None, deadline: float, attempts: int,
        blockers: Sequence[str], backend: str,
    ) -> None:
        self.statement = statement
        self.table = table
        self.deadline = deadline
        self.attempts = attempts
        self.blockers = tuple(blockers)
        self.backend = backend
        super().__init__(message)


class RewriteRefusedError(AgnoAlembicError):
    """Online mode: a step would rewrite a populated table under an exclusive lock (PostgreSQL's 2.3.0 JSON to
    JSONB change), blocking the application for the whole rewrite, because the table has what the online rewrite
    through a shadow table cannot carry (the message names it; docs/online.md).  Refused unless the caller accepts
    it (``allow_rewrite``), or run in offline mode in a maintenance window.  Nothing was changed."""

    def __init__(self, message: str, *, table: str, columns: Sequence[str], rows: int, allow_option: str) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.rows = rows
        self.allow_option = allow_option
        super().__init__(message)


class V1ImportIncompleteError(MigrationError):
    """The v1 import read runs that are not in the runs table afterwards (checked by id before it reports success;
    the CLI exits 4, failed).

    ``table`` is the v1 table, ``runs_table`` the target, ``expected`` the number of run ids read, ``missing`` the
    number absent and ``first_missing`` the first few of them (in the order they were read).
    """

    def __init__(self, *, table: str, runs_table: str, expected: int, missing: int,
                 first_missing: Sequence[str]) -> None:
        self.table = table
        self.runs_table = runs_table
        self.expected = expected
        self.missing = missing
        self.first_missing = tuple(first_missing)
        super().__init__(
            f"v1 import of {table}: {missing} of {expected} run(s) read are not in {runs_table} "
            f"(first missing: {', '.join(self.first_missing)}); nothing was reported as imported"
        )


class OfflineSQLError(AgnoAlembicError):
    """A ``--sql`` script was asked for across a step whose outcome depends on the rows in the database (data to
    move, a column kept while it holds data, rows a downgrade would destroy), which the script cannot write for
    this dialect.  Nothing is printed; ``step`` names the revision and direction (``downgrade
    agno_sessions_3_0_0``), ``table`` its table, ``backend`` the dialect."""

    def __init__(self, message: str, *, step: str, table: str, backend: str) -> None:
        self.step = step
        self.table = table
        self.backend = backend
        super().__init__(message)


# -- Alembic's kind: CommandError, reported by Alembic's command line as its own ---------------------------------


class PlainHeadError(CommandError):
    """``head`` was asked for where there is one head per table type."""


class UnknownRevisionsError(CommandError):
    """The version table holds revisions that no version location provides."""

    def __init__(self, message: str, *, revisions: Iterable[str], version_table: str) -> None:
        super().__init__(message)
        self.revisions = tuple(revisions)
        self.version_table = version_table
