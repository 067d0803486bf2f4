"""What each DDL statement locks, per backend: the data ``agno-alembic plan`` reports for every statement.

One function, :func:`describe`, from a statement (as the offline script prints it, which is what a step runs) to a
:class:`LockInfo`.  The rules are a table per backend, matched in order on the statement's text, so a statement
written in an online form (``CREATE INDEX CONCURRENTLY``, ``NOT VALID`` foreign keys, ``ALGORITHM=INPLACE``,
``SET lock_timeout``) is described as what it is, whatever mode produced it.

This is the one table of locks: ``plan`` reads it for every statement, in the form the mode that will run sends it
(:func:`online_statement`: online mode's ``ALGORITHM``/``LOCK`` clause on MySQL/MariaDB is the one its rule names),
and :data:`BATCH` says what one committed batch of an online data step holds.

Sources: PostgreSQL 15's "Explicit Locking" and ALTER TABLE pages; MariaDB 10.11's "InnoDB Online DDL Operations"
(MySQL 8.0's "Online DDL Operations" agrees for every case listed); SQLite's "File Locking" and ALTER TABLE pages;
SingleStore's ALTER TABLE page (its ALTER is online: reads and writes go on, but for a short wait at its start for
the queries already running on the table, bounded by its ``TIMEOUT``; it has no ``ALGORITHM``/``LOCK`` clause).
The SingleStore rules are tested against that documentation only (``tests/test_plan_verify.py``), never on a
SingleStore server (docs/plan.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agno_alembic import registry


@dataclass(frozen=True)
class LockInfo:
    """The lock one statement takes and what it does to the table."""

    operation: str
    """What the statement does: ``add column``, ``create index``, ``change type``..."""
    lock: str
    """PostgreSQL: the table lock mode; MySQL/MariaDB: the ``LOCK=`` level; SQLite: the database lock."""
    algorithm: str | None
    """MySQL/MariaDB's ``ALGORITHM=`` (INSTANT, INPLACE, COPY); ``None`` elsewhere."""
    rewrite: bool
    """The table is rewritten (PostgreSQL), rebuilt (MySQL ``COPY``/rebuilding ``INPLACE``, SQLite's rebuild)."""
    scan: bool
    """Every row is read while the lock is held (an index build, a NOT NULL or key validation, a data copy)."""
    blocks: str
    """What other sessions wait for while it runs: ``nothing``, ``writes``, ``reads and writes``."""
    online: bool
    """Concurrent reads and writes go on (beyond a brief metadata lock at the start and end)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "operation": self.operation, "lock": self.lock, "algorithm": self.algorithm, "rewrite": self.rewrite,
            "scan": self.scan, "blocks": self.blocks, "online": self.online,
        }


_RW, _W, _NONE = "reads and writes", "writes", "nothing"


@dataclass(frozen=True)
class _Rule:
    pattern: str
    info: LockInfo

    def matches(self, text: str) -> bool:
        return re.search(self.pattern, text) is not None


def _pg(op: str, lock: str, *, rewrite: bool = False, scan: bool = False) -> LockInfo:
    blocks = {"ACCESS EXCLUSIVE": _RW, "EXCLUSIVE": _W, "SHARE ROW EXCLUSIVE": _W, "SHARE": _W}.get(lock, _NONE)
    return LockInfo(op, lock, None, rewrite, scan, blocks, blocks == _NONE)


def _my(op: str, algorithm: str, lock: str, *, rewrite: bool = False, scan: bool = False) -> LockInfo:
    blocks = {"EXCLUSIVE": _RW, "SHARED": _W}.get(lock, _NONE)
    return LockInfo(op, lock, algorithm, rewrite, scan, blocks, blocks == _NONE)


def _lite(op: str, *, rewrite: bool = False, scan: bool = False) -> LockInfo:
    # Every write takes the database's write lock until COMMIT: other writers wait, readers go on (WAL) or wait
    # at COMMIT (rollback journal).
    return LockInfo(op, "database write lock", None, rewrite, scan, _W, False)


_SESSION = LockInfo("session setting", "none", None, False, False, _NONE, True)

_RULES: dict[str, tuple[_Rule, ...]] = {
    registry.POSTGRESQL: (
        _Rule(r"^SET\b|^RESET\b", _SESSION),
        # the online rewrite through a shadow table (agno_alembic.rewrite): the shadow is new, and empty while its
        # indexes are built; the trigger's creation waits for the table's writers; the swap is one short transaction
        _Rule(r"^CREATE (UNIQUE )?INDEX \S+ ON (\S+\.)?_AGNO_ALEMBIC_SHADOW_", _pg(
            "online rewrite: index the new, empty shadow table", "SHARE (new table)")),
        _Rule(r"^CREATE (OR REPLACE )?FUNCTION|^DROP FUNCTION", _pg("function (no table lock)", "none")),
        _Rule(r"^CREATE TRIGGER", _pg("online rewrite: mirror writes into the shadow table (create trigger)",
                                      "SHARE ROW EXCLUSIVE")),
        _Rule(r"^(GRANT|ALTER TABLE (\S+\.)?_AGNO_ALEMBIC_SHADOW_\S* OWNER TO)\b", _pg(
            "online rewrite: the table's owner and grants on the shadow table", "ACCESS EXCLUSIVE (new table)")),
        _Rule(r"^WITH BATCH AS .* INSERT INTO (\S+\.)?_AGNO_ALEMBIC_SHADOW_", LockInfo(
            "online rewrite: one committed batch into the shadow table",
            "ACCESS SHARE (the table), ROW EXCLUSIVE (the shadow table)", None, True, True, _NONE, True)),
        _Rule(r"^ALTER TABLE (\S+\.)?_AGNO_ALEMBIC_SHADOW_\S* SET \(AUTOVACUUM_ENABLED", _pg(
            "online rewrite: no autovacuum on the shadow table until the swap", "ACCESS EXCLUSIVE (new table)")),
        _Rule(r"^ALTER TABLE .* RESET \(AUTOVACUUM_ENABLED\)", _pg("reset a storage parameter",
                                                                   "SHARE UPDATE EXCLUSIVE")),
        _Rule(r"^ANALYZE\b", _pg("analyze", "SHARE UPDATE EXCLUSIVE", scan=True)),
        _Rule(r"^SELECT .* FULL JOIN (\S+\.)?_AGNO_ALEMBIC_SHADOW_", _pg(
            "online rewrite: check every row against its copy (one snapshot)", "ACCESS SHARE", scan=True)),
        _Rule(r"^LOCK TABLE .* IN ACCESS EXCLUSIVE MODE", _pg(
            "online rewrite: swap (one short transaction, its wait bounded)", "ACCESS EXCLUSIVE")),
        _Rule(r"^ALTER INDEX .* RENAME TO", _pg("rename index", "SHARE UPDATE EXCLUSIVE")),
        _Rule(r"^ALTER TABLE .* RENAME CONSTRAINT", _pg("rename constraint", "ACCESS EXCLUSIVE")),
        _Rule(r"^CREATE (UNIQUE )?INDEX CONCURRENTLY", _pg("create index concurrently", "SHARE UPDATE EXCLUSIVE",
                                                            scan=True)),
        _Rule(r"^CREATE (UNIQUE )?INDEX", _pg("create index", "SHARE", scan=True)),
        _Rule(r"^DROP INDEX CONCURRENTLY", _pg("drop index concurrently", "SHARE UPDATE EXCLUSIVE")),
        _Rule(r"^DROP INDEX", _pg("drop index", "ACCESS EXCLUSIVE")),
        _Rule(r"^CREATE TABLE", _pg("create table", "ACCESS EXCLUSIVE (new table)")),
        _Rule(r"^DROP TABLE", _pg("drop table", "ACCESS EXCLUSIVE")),
        _Rule(r"^ALTER TABLE .* RENAME TO", _pg("rename table", "ACCESS EXCLUSIVE")),
        _Rule(r"^ALTER TABLE .* VALIDATE CONSTRAINT", _pg("validate constraint", "SHARE UPDATE EXCLUSIVE",
                                                          scan=True)),
        _Rule(r"^ALTER TABLE .* ADD CONSTRAINT .* FOREIGN KEY.* NOT VALID", _pg("add foreign key (not valid)",
                                                                                 "SHARE ROW EXCLUSIVE")),
        _Rule(r"^ALTER TABLE .* ADD CONSTRAINT .* FOREIGN KEY", _pg("add foreign key", "SHARE ROW EXCLUSIVE",
                                                                    scan=True)),
        # online SET NOT NULL (ops._set_not_null): a CHECK added NOT VALID takes its lock for a moment, no scan
        _Rule(r"^ALTER TABLE .* ADD CONSTRAINT .* CHECK .* NOT VALID$", _pg("add check (not valid)",
                                                                           "ACCESS EXCLUSIVE")),
        _Rule(r"^ALTER TABLE .* ADD CONSTRAINT .* CHECK ", _pg("add check", "ACCESS EXCLUSIVE", scan=True)),
        _Rule(r"^ALTER TABLE .* ADD CONSTRAINT .* USING INDEX", _pg("add key using index", "ACCESS EXCLUSIVE")),
        _Rule(r"^ALTER TABLE .* ADD CONSTRAINT .* (PRIMARY KEY|UNIQUE)", _pg("add key", "ACCESS EXCLUSIVE",
                                                                             scan=True)),
        _Rule(r"^ALTER TABLE .* ADD (CONSTRAINT .* )?PRIMARY KEY", _pg("add key", "ACCESS EXCLUSIVE", scan=True)),
        _Rule(r"^ALTER TABLE .* DROP CONSTRAINT", _pg("drop constraint", "ACCESS EXCLUSIVE")),
        # JSON -> JSONB, VARCHAR -> BIGINT...: every row is rewritten; VARCHAR -> TEXT is binary-coercible.
        _Rule(r"^ALTER TABLE .* TYPE (TEXT|VARCHAR)\b(?!.*USING)", _pg("change type (binary-coercible)",
                                                                       "ACCESS EXCLUSIVE")),
        _Rule(r"^ALTER TABLE .* TYPE ", _pg("change type", "ACCESS EXCLUSIVE", rewrite=True, scan=True)),
        _Rule(r"^ALTER TABLE .* SET NOT NULL", _pg("set not null", "ACCESS EXCLUSIVE", scan=True)),
        _Rule(r"^ALTER TABLE .* DROP NOT NULL", _pg("drop not null", "ACCESS EXCLUSIVE")),
        _Rule(r"^ALTER TABLE .* (SET|DROP) DEFAULT", _pg("change default", "ACCESS EXCLUSIVE")),
        _Rule(r"^ALTER TABLE .* ADD COLUMN", _pg("add column", "ACCESS EXCLUSIVE")),
        _Rule(r"^ALTER TABLE .* DROP COLUMN", _pg("drop column", "ACCESS EXCLUSIVE")),
        _Rule(r"^(INSERT|UPDATE|DELETE)\b", _pg("data", "ROW EXCLUSIVE", scan=True)),
    ),
    registry.MYSQL: (
        _Rule(r"^SET\b", _SESSION),
        _Rule(r"^CREATE TABLE", _my("create table", "INSTANT", "NONE")),
        _Rule(r"^DROP TABLE", _my("drop table", "INSTANT", "EXCLUSIVE")),
        _Rule(r"^(ALTER TABLE .* )?RENAME TABLE|^ALTER TABLE .* RENAME TO", _my("rename table", "INSTANT", "NONE")),
        _Rule(r"^CREATE (UNIQUE )?INDEX|^ALTER TABLE .* ADD (UNIQUE )?(INDEX|KEY)\b|^ALTER TABLE .* ADD CONSTRAINT "
              r".* UNIQUE", _my("create index", "INPLACE", "NONE", scan=True)),
        _Rule(r"^DROP INDEX|^ALTER TABLE .* DROP (INDEX|KEY)\b", _my("drop index", "INPLACE", "NONE")),
        _Rule(r"^ALTER TABLE .* DROP PRIMARY KEY.*ADD (CONSTRAINT .* )?PRIMARY KEY",
              _my("replace primary key", "INPLACE", "NONE", rewrite=True, scan=True)),
        _Rule(r"^ALTER TABLE .* DROP PRIMARY KEY", _my("drop primary key", "COPY", "SHARED", rewrite=True, scan=True)),
        _Rule(r"^ALTER TABLE .* ADD (CONSTRAINT .* )?PRIMARY KEY",
              _my("add primary key", "INPLACE", "NONE", rewrite=True, scan=True)),
        _Rule(r"^ALTER TABLE .* ADD (CONSTRAINT .* )?FOREIGN KEY",
              _my("add foreign key", "COPY", "SHARED", rewrite=True, scan=True)),
        _Rule(r"^ALTER TABLE .* DROP FOREIGN KEY", _my("drop foreign key", "INPLACE", "NONE")),
        _Rule(r"^ALTER TABLE .* ADD (COLUMN )?", _my("add column", "INSTANT", "NONE")),
        _Rule(r"^ALTER TABLE .* DROP (COLUMN )?", _my("drop column", "INSTANT", "NONE")),
        # MODIFY with a new type copies the table; a nullability change alone rebuilds it in place.
        _Rule(r"^ALTER TABLE .* (MODIFY|CHANGE) .* NOT NULL$", _my("set not null", "INPLACE", "NONE", rewrite=True,
                                                                   scan=True)),
        _Rule(r"^ALTER TABLE .* (MODIFY|CHANGE) ", _my("change column", "COPY", "SHARED", rewrite=True, scan=True)),
        _Rule(r"^(INSERT|UPDATE|DELETE)\b", LockInfo("data", "row locks", None, False, True, _NONE, True)),
    ),
    registry.SQLITE: (
        _Rule(r"^PRAGMA\b", LockInfo("setting", "none", None, False, False, _NONE, True)),
        _Rule(r"^CREATE TABLE _AGNO_ALEMBIC_REBUILD_", _lite("rebuild: create the new table", rewrite=True)),
        _Rule(r"^INSERT INTO _AGNO_ALEMBIC_REBUILD_", _lite("rebuild: copy every row", rewrite=True, scan=True)),
        _Rule(r"^ALTER TABLE _AGNO_ALEMBIC_REBUILD_\w* RENAME TO", _lite("rebuild: rename into place",
                                                                          rewrite=True)),
        _Rule(r"^CREATE TABLE", _lite("create table")),
        _Rule(r"^DROP TABLE", _lite("drop table")),
        _Rule(r"^CREATE (UNIQUE )?INDEX", _lite("create index", scan=True)),
        _Rule(r"^DROP INDEX", _lite("drop index")),
        _Rule(r"^ALTER TABLE .* ADD COLUMN", _lite("add column")),
        _Rule(r"^ALTER TABLE .* DROP COLUMN", _lite("drop column", rewrite=True, scan=True)),
        _Rule(r"^ALTER TABLE .* RENAME", _lite("rename")),
        _Rule(r"^(INSERT|UPDATE|DELETE)\b", _lite("data", scan=True)),
    ),
}


def _s2(op: str, *, scan: bool = False, rewrite: bool = False) -> LockInfo:
    # SingleStore's online ALTER: a metadata lock for a moment at the start (it waits for the queries already
    # running on the table, and new ones wait behind it), then reads and writes go on.
    return LockInfo(op, "metadata lock at the start (online ALTER)", None, rewrite, scan, _NONE, True)


_S2_UNDOCUMENTED = LockInfo("change primary key (not in SingleStore's documented ALTER grammar)",
                            "unknown: assumed exclusive", None, True, True, _RW, False)

_RULES[registry.SINGLESTORE] = (
    _Rule(r"^SET\b", _SESSION),
    _Rule(r"^CREATE TABLE", LockInfo("create table", "none on existing tables", None, False, False, _NONE, True)),
    _Rule(r"^DROP TABLE", LockInfo("drop table", "exclusive metadata lock", None, False, False, _RW, False)),
    _Rule(r"^ALTER TABLE .* (ADD|DROP) (CONSTRAINT \S+ )?PRIMARY KEY", _S2_UNDOCUMENTED),
    _Rule(r"^(ALTER TABLE .* )?RENAME TABLE|^ALTER TABLE .* RENAME (TO|AS)\b", _s2("rename table")),
    _Rule(r"^CREATE (UNIQUE )?INDEX|^ALTER TABLE .* ADD (UNIQUE )?(INDEX|KEY)\b", _s2("create index", scan=True)),
    _Rule(r"^DROP INDEX|^ALTER TABLE .* DROP (INDEX|KEY)\b", _s2("drop index")),
    _Rule(r"^ALTER TABLE .* ADD (COLUMN )?", _s2("add column")),
    _Rule(r"^ALTER TABLE .* DROP (COLUMN )?", _s2("drop column")),
    _Rule(r"^ALTER TABLE .* (MODIFY|CHANGE) ", _s2("change column", scan=True, rewrite=True)),
    _Rule(r"^(INSERT|UPDATE|DELETE)\b", LockInfo("data", "row locks", None, False, True, _NONE, True)),
)

_UNKNOWN = "unclassified statement"


def normalise(statement: str) -> str:
    """A statement's text as the rules read it: comments gone, one space between words, upper case, no ``;``."""
    lines = [line for line in statement.splitlines() if not line.strip().startswith("--")]
    text = " ".join(" ".join(lines).split()).rstrip(";").strip()
    return text.replace('"', "").replace("`", "").upper()


def describe(backend: str, statement: str) -> LockInfo:
    """The lock ``statement`` takes on ``backend`` (a statement no rule knows is described as the worst case)."""
    text = normalise(statement)
    mysql_algorithm = re.search(r"ALGORITHM\s*=\s*(INSTANT|INPLACE|COPY|NOCOPY)", text)
    mysql_lock = re.search(r"LOCK\s*=\s*(NONE|SHARED|EXCLUSIVE|DEFAULT)", text)
    for rule in _RULES[backend]:
        if rule.matches(text):
            info = rule.info
            if mysql_algorithm or mysql_lock:  # an explicit ALGORITHM=/LOCK= is what the server must honour
                lock = mysql_lock.group(1) if mysql_lock else info.lock
                blocks = {"EXCLUSIVE": _RW, "SHARED": _W}.get(lock, info.blocks if lock == "DEFAULT" else _NONE)
                info = LockInfo(info.operation, lock, mysql_algorithm.group(1) if mysql_algorithm else
                                info.algorithm, info.rewrite, info.scan, blocks, blocks == _NONE)
            return info
    if backend == registry.POSTGRESQL:
        return _pg(_UNKNOWN, "ACCESS EXCLUSIVE", scan=True)
    if backend == registry.SQLITE:
        return _lite(_UNKNOWN, scan=True)
    if backend == registry.SINGLESTORE:
        return LockInfo(_UNKNOWN, "unknown: assumed exclusive", None, True, True, _RW, False)
    return _my(_UNKNOWN, "COPY", "SHARED", rewrite=True, scan=True)


# -- online mode: the forms its statements take, and its batches ------------------------------------------------


def online_statement(backend: str, statement: str) -> str:
    """``statement`` as online mode sends it.  MySQL/MariaDB: with the first ``ALGORITHM``/``LOCK`` clause of
    :func:`agno_alembic.dialects.online.mysql_clauses` the server accepts for it, which is the one the statement's
    rule names (INSTANT; else INPLACE with LOCK=NONE; else none: the server copies or locks, and the log says so).
    Elsewhere the statement itself (PostgreSQL's online forms, ``CONCURRENTLY`` and ``NOT VALID``, are written by
    the operations; SQLite and SingleStore have none)."""
    if backend != registry.MYSQL:
        return statement
    from agno_alembic.dialects.online import mysql_clauses

    info = describe(backend, statement)
    for clause in mysql_clauses(statement):
        text = clause.upper()
        if not clause or ("INSTANT" in text and info.algorithm == "INSTANT") or (
                "INPLACE" in text and info.algorithm in ("INSTANT", "INPLACE") and info.lock == "NONE"):
            return statement.rstrip().rstrip(";") + clause + (";" if statement.rstrip().endswith(";") else "")
    return statement


#: The lock one committed batch of an online data step takes (the 3.0.0 runs copy), per backend: held for one
#: batch (about ``data.batched.BATCH_SECONDS`` of work), then committed.
BATCH: dict[str, LockInfo] = {
    registry.POSTGRESQL: LockInfo("data, one committed batch", "ROW EXCLUSIVE (new rows of the runs table only)",
                                  None, False, True, _NONE, True),
    registry.MYSQL: LockInfo("data, one committed batch", "row locks (new rows of the runs table only)", None,
                             False, True, _NONE, True),
    registry.SQLITE: LockInfo("data, one committed batch", "database write lock (one batch)", None, False, True, _W,
                              False),
}
BATCH[registry.SINGLESTORE] = BATCH[registry.MYSQL]


def lock_mode_rank(mode: str) -> int:
    """PostgreSQL's table lock modes, weakest first (for comparing what a step took with what was planned)."""
    order = ["ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
             "EXCLUSIVE", "ACCESS EXCLUSIVE"]
    base = mode.split(" (")[0].upper()
    return order.index(base) if base in order else len(order)
