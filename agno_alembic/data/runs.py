"""Schema 3.0.0's data step for sessions: copy every legacy ``sessions.runs`` entry into the runs table.

Agno's rules (its ``_build_run_rows``), applied by the database itself, set-based, in chunks of sessions keyed by
``session_id`` so memory stays flat whatever the table's size:

* ``run_index`` is the entry's position in the list, skipped entries included;
* an entry is copied only when it is an object with a non-null ``run_id``;
* ``run_type`` is ``agent`` when ``agent_id`` is set (non-empty), else ``team`` when ``team_id`` is, else
  ``workflow``;
* ``user_id`` comes from the session row, not from the run; ``run_data`` is the entry itself;
* ``created_at`` is the run's own (when it is a non-zero number) or the migration time, stored as the database
  stores the number Agno hands it (a fraction: PostgreSQL and MySQL round it half to even, SQLite keeps it);
  ``updated_at`` is the migration time;
* SQLite blobs that were JSON-encoded twice are decoded;
* a row already in the runs table wins (``ON CONFLICT DO NOTHING``).

PostgreSQL copies with one ``INSERT ... SELECT`` per chunk over ``jsonb_array_elements WITH ORDINALITY``. On
MySQL/MariaDB, SQLite and SingleStore the client parses each chunk's lists (Python's parser outruns their JSON
functions) and applies the same rules: MySQL stages the runs' fields, chunk by chunk, in a temporary table and
then writes every run with one statement that slices each ``run_data`` out of the stored list (:class:`_Stage`);
SQLite and SingleStore get multi-row INSERTs of each run's text as stored. Offline (``--sql``) the copy is one
set-based statement: ``JSON_TABLE`` on MySQL, ``json_each`` on SQLite.

The downgrade (:func:`merge_back`) puts runs-table rows back into the legacy list by ``run_id``, keeping the
entries the table lacks, so nothing is lost either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from agno_alembic import registry
from agno_alembic.errors import DataVerificationError
from agno_alembic.shapes._dsl import TableSpec

log = logging.getLogger("agno_alembic")

CHUNK_SESSIONS = 2000
"""Sessions per chunk: big enough for set-based speed, small enough to keep memory and locks short."""

RUN_COLUMNS = (
    "run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id", "parent_run_id",
    "status", "run_index", "run_data", "created_at", "updated_at",
)


class _Names:
    """Quoted identifiers of the two tables, quoted by the dialect's own preparer."""

    def __init__(self, dialect: sa.engine.Dialect, sessions: TableSpec, runs: TableSpec) -> None:
        q = dialect.identifier_preparer
        # For "format"/"pyformat" drivers the preparer doubles each % of a name, and sa.text() doubles every %
        # of the statement again: undo the first, or a name holding % reaches the database as %% (agno-alembic#6).
        once = (lambda text: text.replace("%%", "%")) if dialect.paramstyle in ("format", "pyformat") else str
        self.sessions = once(q.format_table(sa.table(sessions.name, schema=sessions.schema)))
        self.runs = once(q.format_table(sa.table(runs.name, schema=runs.schema)))
        self.stage = once(q.format_table(sa.table(_Stage.NAME, schema=runs.schema)))
        self.c = {name: once(q.quote(name)) for name in {*RUN_COLUMNS, "runs"}}


def _range(c: Mapping[str, str], keys: bool = False) -> str:
    """The sessions of one chunk: a key range ``(:after, :upto]``, or with ``keys`` a list of keys (``:keys``, an
    expanding parameter: an online copy catching up the sessions the application updated meanwhile)."""
    if keys:
        return f" AND s.{c['session_id']} IN :keys"
    return f" AND s.{c['session_id']} > :after AND s.{c['session_id']} <= :upto"


def _run_type(agent: str, team: str) -> str:
    return (
        f"CASE WHEN {agent} IS NOT NULL AND {agent} <> '' THEN 'agent' "
        f"WHEN {team} IS NOT NULL AND {team} <> '' THEN 'team' ELSE 'workflow' END"
    )


def _postgresql(n: _Names, keys: bool = False, arrays: bool = False) -> str:
    """The copy of a chunk. ``arrays``: the form that reads each list once and fails on a chunk holding a value
    that is not an array (see :class:`_PostgresCopy`)."""
    c = n.c
    e = "e.value"
    lists = (f"s.{c['runs']}::jsonb" if arrays else f"""
    CASE WHEN jsonb_typeof(s.{c["runs"]}::jsonb) = 'array' THEN s.{c["runs"]}::jsonb ELSE '[]'::jsonb END
""")
    return f"""
INSERT INTO {n.runs} ({", ".join(c[x] for x in RUN_COLUMNS)})
SELECT {e}->>'run_id', s.{c["session_id"]}, {_run_type(f"{e}->>'agent_id'", f"{e}->>'team_id'")},
       {e}->>'agent_id', {e}->>'team_id', {e}->>'workflow_id', s.{c["user_id"]}, {e}->>'parent_run_id',
       {e}->>'status', e.ordinality - 1, {e},
       CASE WHEN jsonb_typeof({e}->'created_at') = 'number' AND ({e}->>'created_at')::numeric <> 0
            THEN ({e}->>'created_at')::double precision::bigint ELSE :now END,
       :now
FROM {n.sessions} AS s
CROSS JOIN LATERAL jsonb_array_elements({lists}) WITH ORDINALITY AS e(value, ordinality)
WHERE s.{c["runs"]} IS NOT NULL{_range(c, keys)}
  AND jsonb_typeof({e}) = 'object' AND {e}->'run_id' IS NOT NULL AND jsonb_typeof({e}->'run_id') <> 'null'
ORDER BY s.{c["session_id"]}, e.ordinality
ON CONFLICT ({c["run_id"]}) DO NOTHING"""


class _PostgresCopy:
    """PostgreSQL's copy of a chunk: first the statement that reads each legacy list once, then, where a value of
    the chunk is not an array and that one fails, the one that takes any value (PostgreSQL decompresses a stored
    value again for each expression naming it: asking each list's type first read it twice). Each form runs in a
    savepoint, so the failed one leaves the transaction as it was."""

    def __init__(self, n: _Names, keys: bool = False) -> None:
        self.forms = [sa.text(_postgresql(n, keys=keys, arrays=arrays)) for arrays in (True, False)]
        if keys:
            self.forms = [f.bindparams(sa.bindparam("keys", expanding=True)) for f in self.forms]

    def __call__(self, connection: sa.Connection, params: Mapping[str, Any]) -> int:
        """Copy; returns the rows written."""
        try:
            with connection.begin_nested():
                return connection.execute(self.forms[0], params).rowcount or 0
        except sa.exc.DataError:
            return connection.execute(self.forms[1], params).rowcount or 0


def _sqlite(n: _Names) -> str:
    c = n.c
    # A blob stored as a JSON string holding JSON text (encoded twice) is decoded once more.
    runs = f"CASE WHEN json_type(s.{c['runs']}) = 'text' THEN json_extract(s.{c['runs']}, '$') ELSE s.{c['runs']} END"
    v = "e.value"
    return f"""
INSERT INTO {n.runs} ({", ".join(c[x] for x in RUN_COLUMNS)})
SELECT json_extract({v}, '$.run_id'), s.{c["session_id"]},
       {_run_type(f"json_extract({v}, '$.agent_id')", f"json_extract({v}, '$.team_id')")},
       json_extract({v}, '$.agent_id'), json_extract({v}, '$.team_id'), json_extract({v}, '$.workflow_id'),
       s.{c["user_id"]}, json_extract({v}, '$.parent_run_id'), json_extract({v}, '$.status'), e.key, json({v}),
       CASE WHEN json_type({v}, '$.created_at') IN ('integer', 'real') AND json_extract({v}, '$.created_at') <> 0
            THEN json_extract({v}, '$.created_at') ELSE :now END,
       :now
FROM {n.sessions} AS s, json_each(CASE WHEN json_valid({runs}) THEN {runs} ELSE '[]' END) AS e
WHERE s.{c["runs"]} IS NOT NULL{_range(c)}
  AND json_valid({runs}) AND json_type({runs}) = 'array'
  AND e.type = 'object' AND json_type({v}, '$.run_id') IS NOT NULL AND json_type({v}, '$.run_id') <> 'null'
ORDER BY s.{c["session_id"]}, e.key
ON CONFLICT ({c["run_id"]}) DO NOTHING"""


#: MySQL/MariaDB: the declaration of every text column the copy makes (``JSON_TABLE`` columns, the stage).
#: Declared without a character set, MariaDB gives a ``JSON_TABLE`` column the character set of the connection's
#: *default database* (the URL's, not the one Agno's tables are in) and a stage column that of the stage's
#: database: on a latin1 URL database every character latin1 lacks became ``?``, so run ids came out changed and
#: runs whose session id changed joined no session and were not written at all (agno-alembic#12). utf8mb4 holds
#: every character; ``utf8mb4_bin`` compares them as the JSON text holds them.
TEXT = "LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"


def _mysql(n: _Names) -> str:
    c = n.c
    # Each element is read once, by JSON_TABLE: ``run_data JSON PATH '$'`` is the element itself (extracting it
    # again from the whole array by position made every row re-read its session's list). The text columns are
    # LONGTEXT so nothing is cut here: a value too long for the runs table fails the INSERT (strict mode), as
    # Agno's does, instead of being stored truncated; of an explicit character set (see :data:`TEXT`).
    return f"""
INSERT INTO {n.runs} ({", ".join(c[x] for x in RUN_COLUMNS)})
SELECT j.run_id, s.{c["session_id"]}, {_run_type("j.agent_id", "j.team_id")},
       j.agent_id, j.team_id, j.workflow_id, s.{c["user_id"]}, j.parent_run_id, j.status, j.idx - 1, j.run_data,
       CASE WHEN JSON_TYPE(j.created_json) IN ('INTEGER', 'DOUBLE', 'DECIMAL') AND j.created_at <> 0
            THEN CAST(ROUND(j.created_at) AS SIGNED) ELSE :now END,
       :now
FROM {n.sessions} AS s,
     JSON_TABLE(s.{c["runs"]}, '$[*]' COLUMNS (
         idx FOR ORDINALITY,
         run_data JSON PATH '$',
         run_id {TEXT} PATH '$.run_id',
         agent_id {TEXT} PATH '$.agent_id',
         team_id {TEXT} PATH '$.team_id',
         workflow_id {TEXT} PATH '$.workflow_id',
         parent_run_id {TEXT} PATH '$.parent_run_id',
         status {TEXT} PATH '$.status',
         created_json JSON PATH '$.created_at',
         created_at DOUBLE PATH '$.created_at' NULL ON ERROR
     )) AS j
WHERE s.{c["runs"]} IS NOT NULL AND JSON_TYPE(s.{c["runs"]}) = 'ARRAY'{_range(c)}
  AND JSON_TYPE(j.run_data) = 'OBJECT' AND j.run_id IS NOT NULL
ORDER BY s.{c["session_id"]}, j.idx
ON DUPLICATE KEY UPDATE {c["run_id"]} = {n.runs}.{c["run_id"]}"""


_STATEMENTS = {registry.POSTGRESQL: _postgresql, registry.SQLITE: _sqlite, registry.MYSQL: _mysql}


def whole_table_statement(dialect: sa.engine.Dialect, backend: str, sessions: TableSpec, runs: TableSpec) -> str | None:
    """The copy as one statement over the whole table (``--sql`` scripts), or ``None`` where SQL cannot say it."""
    statement = _STATEMENTS.get(backend)
    if statement is None:
        return None
    names = _Names(dialect, sessions, runs)
    return statement(names).replace(_range(names.c), "")


def decode(value: Any) -> Any:
    """A legacy blob as Agno reads it: bytes and JSON text decoded, twice when it was encoded twice."""
    for _ in range(2):
        if isinstance(value, bytes | bytearray):
            value = value.decode()
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
    return value


def build_rows(runs: Any, session_id: str, user_id: str | None, now: int) -> list[dict[str, Any]]:
    """Agno's rules in Python: the runs-table rows of one session's legacy list."""
    runs = decode(runs)
    if not isinstance(runs, list):
        return []
    rows = (_row(run, index, session_id, user_id, now) for index, run in enumerate(runs))
    return [row for row in rows if row is not None]


def _row(run: Any, index: int, session_id: str, user_id: str | None, now: int) -> dict[str, Any] | None:
    """The runs-table row of the legacy entry at ``index`` (``run_data`` is the entry), or ``None`` if skipped."""
    if not isinstance(run, dict) or run.get("run_id") is None:
        return None
    created = run.get("created_at")
    return {
        "run_id": str(run["run_id"]),
        "session_id": session_id,
        "run_type": "agent" if run.get("agent_id") else "team" if run.get("team_id") else "workflow",
        "agent_id": run.get("agent_id"),
        "team_id": run.get("team_id"),
        "workflow_id": run.get("workflow_id"),
        "user_id": user_id,
        "parent_run_id": run.get("parent_run_id"),
        "status": run.get("status"),
        "run_index": index,
        "run_data": run,
        "created_at": created if is_time(created) else now,
        "updated_at": now,
    }


def is_time(value: Any) -> bool:
    """Whether a run's ``created_at`` is kept: a non-zero number (it goes to the driver as Agno hands it, so the
    database stores it as it stores Agno's)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and bool(value)


def _chunks(
    connection: sa.Connection, sessions: TableSpec, size: int | Callable[[], int], *, after: str = "",
    upto: str | None = None
) -> Iterator[tuple[str, str, int]]:
    """``(after, upto]`` ranges of session ids, ``size`` sessions each (a callable: asked before each range), in
    key order, with the number of sessions in each (by default every session's). Walking the key alone (whether a
    session holds runs is the copy's own filter) reads no JSON."""
    t = sa.table(sessions.name, sa.column("session_id"), schema=sessions.schema)
    while True:
        query = sa.select(t.c.session_id).where(t.c.session_id > after)
        if upto is not None:
            query = query.where(t.c.session_id <= upto)
        limit = size() if callable(size) else size
        ids = connection.execute(query.order_by(t.c.session_id).limit(limit)).scalars().all()
        if not ids:
            return
        yield after, ids[-1], len(ids)
        after = ids[-1]


PYTHON_CHUNK_SESSIONS = 250
"""Sessions per chunk where the client reads the legacy lists: they are held in memory, a chunk at a time."""

#: Where the client parses the legacy lists (Python's JSON parser is faster than these databases' JSON functions).
#: MySQL/MariaDB: the client finds each run and its fields and stages only those (:class:`_Stage`); one statement
#: then writes every run, slicing each ``run_data`` out of its stored list by position. Asking MariaDB's JSON
#: functions for the fields cost more than the write (27 s of an INSERT ... SELECT at 10,000 sessions x 5 runs,
#: against 11 s). SQLite (in process, where json_each/json_extract re-parse each run for every field) and
#: SingleStore (whose JSON functions differ): plain multi-row INSERTs of the runs' stored text. The set-based
#: statements above stay the offline ``--sql`` form and PostgreSQL's copy.
_CLIENT_SIDE = frozenset({registry.MYSQL, registry.SINGLESTORE, registry.SQLITE})


def copy_runs(
    connection: sa.Connection,
    backend: str,
    sessions: TableSpec,
    runs: TableSpec,
    *,
    chunk: int = CHUNK_SESSIONS,
    into_empty: bool = False,
) -> int:
    """Copy every legacy run into the runs table; returns the number of rows written (for the log: on MySQL it may
    count rows that were already there).

    ``into_empty``: the runs table held no row when the step began (MySQL/MariaDB then write the runs with one
    bulk insert, see :class:`_Stage`).
    """
    now = int(time.time())
    total = _count_sessions(connection, sessions)
    done = inserted = 0
    statement = None if backend in _CLIENT_SIDE else _STATEMENTS.get(backend)
    names = _Names(connection.dialect, sessions, runs)
    sql: Callable[[sa.Connection, Mapping[str, Any]], int] | None = None
    if backend == registry.POSTGRESQL:
        sql = _PostgresCopy(names)
    elif statement is not None:
        text = sa.text(statement(names))
        sql = lambda conn, params: conn.execute(text, params).rowcount or 0  # noqa: E731
    size = chunk if sql is not None else min(chunk, PYTHON_CHUNK_SESSIONS)
    started = last = time.monotonic()
    with _mysql_runs(connection, sessions, runs) if backend == registry.MYSQL else contextlib.nullcontext() as writer:
        for after, upto, count in _chunks(connection, sessions, size):
            if sql is not None:
                inserted += sql(connection, {"now": now, "after": after, "upto": upto})
            else:
                inserted += _copy_in_python(connection, sessions, runs, after, upto, now, writer)
            done += count
            if time.monotonic() - last >= PROGRESS_SECONDS or done >= total:
                last = time.monotonic()
                what, where = _COPIED if writer is None else writer.progress
                log.info(
                    "%s: %s runs of %d/%d sessions %s %s (%.1fs)",
                    sessions.name, what, min(done, total), total, where, runs.name, last - started,
                )
        if writer is not None:
            inserted = writer.finish(bulk=into_empty)
            if isinstance(writer, _Stage):
                log.info(
                    "%s: copied runs of %d/%d sessions into %s (%.1fs)",
                    sessions.name, total, total, runs.name, time.monotonic() - started,
                )
    return inserted


PROGRESS_SECONDS = 2.0
_COPIED = ("copied", "into")  # the progress line's words where each chunk is written as it is read
"""Long steps log their progress (rows done of total) at most this often, and once at the end."""


def _count_sessions(connection: sa.Connection, sessions: TableSpec) -> int:
    """Every session (a count of the key; those without runs are walked too, and cost nothing)."""
    t = sa.table(sessions.name, schema=sessions.schema)
    return int(connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True)
class Parsed:
    """A legacy list read from its stored blob: each entry with where its JSON text lies in ``source``.

    ``direct``: ``source`` is the stored value itself (not text that was encoded twice), so a position in it is a
    position in the database's value.
    """

    source: str
    items: list[tuple[Any, int, int]]  # (entry, start, end): the entry's text is source[start:end]
    direct: bool


def entries(blob: Any) -> Parsed | None:
    """A legacy list with each entry's JSON text as stored (sliced, not encoded again), or ``None`` when the blob
    is not a JSON array. Reads what :func:`decode` reads: bytes, JSON text, JSON text encoded twice, a list."""
    direct = True
    for _ in range(2):
        if isinstance(blob, bytes | bytearray):
            blob, direct = blob.decode(), False
        if isinstance(blob, list):
            items, texts, at = [], [], 0  # a list the driver decoded already: each entry's text is encoded here
            for entry in blob:
                texts.append(json.dumps(entry))
                items.append((entry, at, at + len(texts[-1])))
                at += len(texts[-1]) + 1
            return Parsed(",".join(texts), items, False)
        if not isinstance(blob, str):
            return None
        start = _SPACE.match(blob).end()  # type: ignore[union-attr]  # [ \t\n\r]* matches at any index
        if blob.startswith("[", start):
            found = _array(blob, start)
            return None if found is None else Parsed(blob, found, direct)
        try:
            blob, direct = json.loads(blob), False  # a JSON string holding the list's JSON text: encoded twice
        except ValueError:
            return None
    return None


def _array(text: str, start: int) -> list[tuple[Any, int, int]] | None:
    out: list[tuple[Any, int, int]] = []
    i = _SPACE.match(text, start + 1).end()  # type: ignore[union-attr]  # [ \t\n\r]* matches at any index
    try:
        if text.startswith("]", i):
            i += 1
        else:
            while True:
                value, end = _DECODER.raw_decode(text, i)
                out.append((value, i, end))
                i = _SPACE.match(text, end).end()  # type: ignore[union-attr]  # [ \t\n\r]* matches at any index
                if text.startswith(",", i):
                    i = _SPACE.match(text, i + 1).end()  # type: ignore[union-attr]  # [ \t\n\r]* matches at any index
                elif text.startswith("]", i):
                    i += 1
                    break
                else:
                    return None
    except ValueError:
        return None
    # The type-ignore below: [ \t\n\r]* matches at any index
    return out if _SPACE.match(text, i).end() == len(text) else None  # type: ignore[union-attr]


def _scalar(value: Any) -> Any:
    """An id-like field as the SQL copy reads it: objects and arrays are no text (NULL)."""
    return None if isinstance(value, dict | list) else value


def _text(value: Any) -> str | None:
    """An id-like field as MySQL stores the value a driver sends for it into a text column."""
    value = _scalar(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _legacy_rows(
    connection: sa.Connection, sessions: TableSpec, after: str, upto: str, keys: Sequence[str] | None = None,
    column: str = "runs",
) -> Generator[tuple[str, Any, Parsed | None], None, None]:
    """``(session_id, user_id, parsed list)`` of one chunk's sessions that hold a list (in ``column``), in key
    order: the key range ``(after, upto]``, or the sessions of ``keys``."""
    s = sa.table(sessions.name, sa.column("session_id"), sa.column("user_id"), sa.column(column),
                 schema=sessions.schema)
    legacy = s.c[column]
    chunk = s.c.session_id.in_(list(keys)) if keys is not None else \
        sa.and_(s.c.session_id > after, s.c.session_id <= upto)
    query = sa.select(s.c.session_id, s.c.user_id, legacy).where(legacy.is_not(None), chunk)
    result = connection.execute(query.order_by(s.c.session_id))
    try:
        for sid, uid, blob in result:
            yield sid, uid, entries(blob)
    finally:  # a caller that stops early (a :class:`Budget` spent) leaves no result open on the connection
        result.close()


@dataclass
class Budget:
    """How many runs one call of :func:`_copy_in_python` may send (MySQL/MariaDB online: the runs one transaction
    inserts, so the sessions whose rows its foreign key checks lock until it commits). The chunk stops after the
    session with which the runs reach ``runs`` (at least one session); ``covered`` is then that session's key, the
    chunk's sessions after it are left for the next call (``None``: the whole chunk was sent), and ``sent`` how
    many runs went."""

    runs: int
    covered: str | None = None
    sent: int = 0


def _copy_in_python(
    connection: sa.Connection, sessions: TableSpec, runs: TableSpec, after: str, upto: str, now: int,
    writer: _MySQLRuns | None, keys: Sequence[str] | None = None, column: str = "runs", budget: Budget | None = None,
) -> int:
    """One chunk, the JSON parsed here by Agno's rules; rows already in the runs table win, then the first entry.
    ``column``: where the legacy lists are (``contract()`` reads them under its guard name).

    Each run's ``run_data`` is its text as stored (never decoded and encoded again). A ``writer`` (MySQL) takes
    the chunk's runs, and where the list was stored as it is, the position of their text in it (1-based, in
    characters), and counts what it writes itself (0 is returned); otherwise the runs are inserted here and their
    number returned. ``keys``: see :func:`_legacy_rows`. A :class:`_GuardedRuns` writer is sent each sliced run's
    digest too. ``budget``: the chunk may stop early, see :class:`Budget`.
    """
    fresh: dict[str, dict[str, Any]] = {}
    last: str | None = None
    read = _legacy_rows(connection, sessions, after, upto, keys, column)
    for sid, uid, parsed in read:
        if budget is not None and len(fresh) >= budget.runs:
            read.close()  # the budget is spent: this session and those after it are the next call's
            break
        last = sid
        if parsed is None:
            continue
        sliced = writer is not None and parsed.direct
        guarded = isinstance(writer, _GuardedRuns)
        for index, (run, start, end) in enumerate(parsed.items):
            row = _row(run, index, sid, uid, now)
            if row is None or row["run_id"] in fresh:
                continue  # skipped, or not the first entry with this run_id (the first is copied, as in Agno)
            if not sliced:
                row["run_data"] = parsed.source[start:end]
            elif guarded:
                row["run_data"] = (start + 1, end - start, _digest(parsed.source[start:end]))
            else:
                row["run_data"] = (start + 1, end - start)
            fresh[row["run_id"]] = row
    else:
        last = None  # every session of the chunk was read
    if budget is not None:
        budget.covered, budget.sent = last, len(fresh)
    if not fresh:
        return 0
    if writer is not None:
        writer.add(list(fresh.values()))
        return 0
    table = sa.table(runs.name, *(sa.column(c) for c in RUN_COLUMNS), schema=runs.schema)
    existing = set(connection.execute(sa.select(table.c.run_id).where(table.c.run_id.in_(list(fresh)))).scalars())
    rows = [row for key, row in fresh.items() if key not in existing]
    if not rows:
        return 0
    for row in rows:
        row.update((k, _scalar(row[k])) for k in ("agent_id", "team_id", "workflow_id", "parent_run_id", "status"))
    connection.execute(table.insert(), rows)  # untyped columns: run_data goes as the JSON text it is
    return len(rows)


#: What MySQL is sent of each run, in order (one JSON array per run, read by ``JSON_TABLE``), and how a stage
#: declares it (``None``: as the key is declared in its own table).
_FIELDS = (
    ("run_id", None), ("session_id", None), ("run_type", TEXT), ("agent_id", TEXT),
    ("team_id", TEXT), ("workflow_id", TEXT), ("parent_run_id", TEXT), ("status", TEXT),
    ("run_index", "BIGINT"), ("start", "BIGINT"), ("length", "BIGINT"), ("text", TEXT),
    ("created_at", "BIGINT"), ("updated_at", "BIGINT"),
)

#: ``JSON_TABLE`` over a chunk's document: its runs as rows. Text columns are LONGTEXT so nothing is cut here: a
#: value too long for the runs table fails the INSERT (strict mode), as Agno's does, instead of being stored cut;
#: each of an explicit character set (:data:`TEXT`), or it would take the URL database's.
def _json_table(fields: Sequence[tuple[str, str | None]]) -> str:
    return "JSON_TABLE(:meta, '$[*]' COLUMNS ({}))".format(
        ", ".join(f"{name} {kind or TEXT} PATH '$[{i}]'" for i, (name, kind) in enumerate(fields))
    )


_DOCUMENT = _json_table(_FIELDS)
_GUARDED_DOCUMENT = _json_table((*_FIELDS, ("digest", TEXT)))


def _digest(text: str) -> str:
    """What ``MD5(CONVERT(... USING utf8mb4))`` gives on MySQL for ``text``."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _document(rows: list[dict[str, Any]], *, guarded: bool = False) -> str:
    """A chunk's runs as MySQL reads them (:data:`_FIELDS`): ``run_data`` as a position in the stored list, or
    the run's text where the list was not stored as it is; ``guarded``: and the digest of the text at that
    position (:class:`_GuardedRuns`)."""
    return json.dumps([
        [r["run_id"], r["session_id"], r["run_type"], _text(r["agent_id"]), _text(r["team_id"]),
         _text(r["workflow_id"]), _text(r["parent_run_id"]), _text(r["status"]), r["run_index"],
         *(r["run_data"][:2] if isinstance(r["run_data"], tuple) else (None, None)),
         None if isinstance(r["run_data"], tuple) else r["run_data"],
         # created_at as MySQL stores a number Agno's driver sends: a float rounds half to even, as Python's round
         r["created_at"] if isinstance(r["created_at"], int) else round(r["created_at"]),
         r["updated_at"],
         *((r["run_data"][2] if isinstance(r["run_data"], tuple) else None,) if guarded else ())]
        for r in rows
    ], ensure_ascii=False)


def _insert_runs(n: _Names, source: str, join: str = "JOIN", *, keep_existing: bool = True,
                 guarded: bool = False) -> str:
    """``INSERT INTO runs SELECT`` the runs of ``source`` (rows of :data:`_FIELDS`, as ``m``) joined with their
    sessions: ``user_id`` from the session, ``run_data`` sliced out of its stored list (``SUBSTRING``: the runs'
    text never crosses the wire twice); with ``keep_existing`` a row already in the runs table wins (the update
    changes nothing); ``guarded``: a run is written only where its slice still has the digest the client read
    (:class:`_GuardedRuns`)."""
    c = n.c
    statement = f"""
INSERT INTO {n.runs} ({", ".join(c[x] for x in RUN_COLUMNS)})
SELECT m.run_id, m.session_id, m.run_type, m.agent_id, m.team_id, m.workflow_id, s.{c["user_id"]},
       m.parent_run_id, m.status, m.run_index, COALESCE(m.text, SUBSTRING(s.{c["runs"]}, m.start, m.length)),
       m.created_at, m.updated_at
FROM {source} AS m {join} {n.sessions} AS s ON s.{c["session_id"]} = m.session_id"""
    if guarded:
        statement += (f"\nWHERE m.text IS NOT NULL"
                      f" OR MD5(CONVERT(SUBSTRING(s.{c['runs']}, m.start, m.length) USING utf8mb4)) = m.digest")
    return statement + (f"\nON DUPLICATE KEY UPDATE {c['run_id']} = {n.runs}.{c['run_id']}" if keep_existing else "")


class _MySQLRuns:
    """MySQL/MariaDB: each chunk's runs go straight into the runs table, one ``INSERT ... SELECT`` per chunk whose
    rows come from a small JSON document. The fallback of :class:`_Stage`, where the user may not create a
    temporary table: the same rows, slower once the runs table outgrows the buffer pool."""

    progress = _COPIED

    def __init__(self, connection: sa.Connection, sessions: TableSpec, runs: TableSpec) -> None:
        self.connection = connection
        self.names = _Names(connection.dialect, sessions, runs)
        self.written = 0
        self._insert = sa.text(_insert_runs(self.names, _DOCUMENT))

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Write one chunk's runs. The count is the driver's: inserted rows, plus rows already there where it
        reports found rows (SQLAlchemy's MySQL dialects ask it to)."""
        result = self.connection.execute(self._insert, {"meta": _document(rows)})
        self.written += result.rowcount or 0

    def finish(self, *, bulk: bool) -> int:
        """Every run is written; returns how many (see :meth:`add`)."""
        return self.written

    def __enter__(self) -> _MySQLRuns:
        return self

    def __exit__(self, failed: type[BaseException] | None, *_: object) -> None:
        pass


class _GuardedRuns(_MySQLRuns):
    """:class:`_MySQLRuns` for an online copy, where the application may rewrite a session's list between the
    client's read and the ``INSERT`` that slices its runs out of it (an Agno 2.x replica rewrites the whole list):
    each run is sent with the digest of its text as read, and written only where the slice still has it. A run
    skipped so belongs to a session updated meanwhile, which the catch-up copies again (and the check would name
    it).

    ``locking_since``: when the transaction's first ``INSERT`` began (from there on, until it commits, it holds a
    shared lock on each session whose runs it inserted: InnoDB's foreign key check), or ``None``; ``inserting``:
    how long its ``INSERT`` statements took, by which the batches size themselves (``agno_alembic.data.batched``:
    the ``COMMIT`` after them costs the same whatever their size)."""

    def __init__(self, connection: sa.Connection, sessions: TableSpec, runs: TableSpec) -> None:
        super().__init__(connection, sessions, runs)
        self._insert = sa.text(_insert_runs(self.names, _GUARDED_DOCUMENT, guarded=True))
        self.locking_since: float | None = None
        self.inserting = 0.0  # seconds its INSERTs took

    def add(self, rows: list[dict[str, Any]]) -> None:
        started = time.monotonic()
        if self.locking_since is None:
            self.locking_since, self.inserting = started, 0.0
        result = self.connection.execute(self._insert, {"meta": _document(rows, guarded=True)})
        self.inserting += time.monotonic() - started
        self.written += result.rowcount or 0


class _Stage(_MySQLRuns):
    """MySQL/MariaDB: the runs to copy, staged chunk by chunk in a temporary table, then written with one statement.

    Inserting runs chunk by chunk lands each one, under its random ``run_id``, on a page of the runs table and of
    each of its nine secondary indexes that is mostly not in the buffer pool once the table outgrows it (50,000
    sessions x 5 runs: a 1.6 GB table, a 128 MB default pool). Staged first, the runs go in with one
    ``INSERT ... SELECT``: into an empty table with ``unique_checks`` and ``foreign_key_checks`` off for that
    statement, MariaDB (10.6 and later) buffers and sorts the rows and builds every index bottom-up instead
    (its bulk insert into an empty table; rolled back as a whole on error), and the sessions are read once more in
    key order. Neither check is needed there: the stage holds each ``run_id`` once (its unique key, by the runs
    table's own collation; the first entry wins, as in Agno) and every row comes from a join with its session.
    Into a table that already holds rows, the same statement keeps those rows (``ON DUPLICATE KEY UPDATE``).

    The stage is a temporary table: it lives on the migration's connection only, creating and dropping it
    commits nothing, and a crash takes it with the transaction. Creating it takes the ``CREATE TEMPORARY TABLES``
    privilege; without it the copy falls back to :class:`_MySQLRuns` (:func:`_mysql_runs`).
    """

    NAME = "agno_alembic_runs_stage"
    progress = ("staged", "for")

    def __init__(self, connection: sa.Connection, sessions: TableSpec, runs: TableSpec) -> None:
        super().__init__(connection, sessions, runs)
        q = connection.dialect.identifier_preparer
        self.table = self.names.stage
        keys = {"run_id": _column_type(connection, runs, "run_id"),
                "session_id": _column_type(connection, sessions, "session_id")}
        columns = ", ".join(f"{q.quote(name)} {kind or keys[name]}" for name, kind in _FIELDS)
        self._drop()
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {self.table} (seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, {columns}, "
            f"UNIQUE KEY uq_run_id ({q.quote('run_id')})) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
        )
        fields = ", ".join(q.quote(name) for name, _ in _FIELDS)
        self._add = sa.text(
            f"INSERT INTO {self.table} ({fields}) SELECT {', '.join(f'm.{name}' for name, _ in _FIELDS)} "
            f"FROM {_DOCUMENT} AS m ON DUPLICATE KEY UPDATE {q.quote('run_id')} = {self.table}.{q.quote('run_id')}"
        )

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Stage one chunk's runs (a ``run_id`` staged already keeps its first entry)."""
        self.connection.execute(self._add, {"meta": _document(rows)})

    def finish(self, *, bulk: bool) -> int:
        """Write every staged run into the runs table (``bulk``: it held no row when the copy began); returns the
        driver's count, as :meth:`_MySQLRuns.add`."""
        staged = self.connection.exec_driver_sql(f"SELECT COUNT(*) FROM {self.table}").scalar_one()
        log.info("writing %d staged runs into %s in one statement", staged, self.names.runs)
        statement = sa.text(_insert_runs(self.names, self.table, "STRAIGHT_JOIN", keep_existing=not bulk))
        if not bulk:
            return self.connection.execute(statement).rowcount or 0
        checks = self.connection.exec_driver_sql("SELECT @@SESSION.unique_checks, @@SESSION.foreign_key_checks").one()
        restore = f"SET SESSION unique_checks = {int(checks[0])}, foreign_key_checks = {int(checks[1])}"
        self.connection.exec_driver_sql("SET SESSION unique_checks = 0, foreign_key_checks = 0")
        try:
            written = self.connection.execute(statement).rowcount or 0
        except BaseException:
            with contextlib.suppress(sa.exc.DBAPIError):  # a lost connection: the statement's error is the news
                self.connection.exec_driver_sql(restore)
            raise
        self.connection.exec_driver_sql(restore)
        return written

    def __exit__(self, failed: type[BaseException] | None, *_: object) -> None:
        """Drop the stage; where the copy failed, a drop that fails too (a lost connection) hides nothing."""
        try:
            self._drop()
        except sa.exc.DBAPIError:
            if failed is None:
                raise

    def _drop(self) -> None:
        self.connection.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {self.table}")


#: MySQL error numbers of a refused privilege (database, table, global).
_DENIED = frozenset({1044, 1142, 1227})


def _mysql_runs(connection: sa.Connection, sessions: TableSpec, runs: TableSpec) -> _MySQLRuns:
    """The MySQL writer: a :class:`_Stage`, or where the user may not create temporary tables, :class:`_MySQLRuns`."""
    try:
        return _Stage(connection, sessions, runs)
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "args", (None,))[0] not in _DENIED:
            raise
        log.warning(
            "%s: may not create a temporary table to stage the runs in (%s); writing each chunk straight into %s, "
            "which is slower once the table outgrows the buffer pool (GRANT CREATE TEMPORARY TABLES for the "
            "staged bulk write)", sessions.name, exc.orig, runs.name,
        )
        return _MySQLRuns(connection, sessions, runs)


def _column_type(connection: sa.Connection, spec: TableSpec, column: str) -> str:
    """A MySQL column's declaration as the server has it (type, character set, collation), for a stage's key."""
    row = connection.execute(
        sa.text(
            "SELECT column_type, character_set_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = COALESCE(:schema, DATABASE()) AND table_name = :table AND column_name = :column"
        ),
        {"schema": spec.schema, "table": spec.name, "column": column},
    ).one()
    kind, charset, collation = row
    return f"{kind}{f' CHARACTER SET {charset}' if charset else ''}{f' COLLATE {collation}' if collation else ''}"


class Lacking:
    """MySQL/MariaDB: the sessions of a chunk whose legacy list may hold a run the runs table lacks, asked of the
    server (``JSON_TABLE`` over each list, one index lookup per run id), so that a catch-up reads and sends only
    those lists instead of every one (a later ``up()`` caught up 10,000 sessions in 19 s, sending every run again
    for the runs table to keep the row it had).

    A superset of the sessions the copy would write a run for, by the rules of :func:`_run_ids` (an object entry
    with a non-null ``run_id``): a session is named when its list is not a JSON array (not JSON, or JSON text
    encoded twice: the copy decodes it by Agno's rules), or holds such an entry whose ``run_id`` is not a string,
    or one whose string ``run_id`` has no row. The id is read in the runs table's own ``run_id`` type and compared
    with the rows there (their collation, as the copy's ``INSERT`` meets them); an id that type cuts or cannot
    hold differs from its utf8mb4 spelling and names its session too. (A list object spelling ``run_id`` twice is
    read by its first here and by its last in Python; Agno never writes one.)

    :meth:`range` and :meth:`keys` return ``None`` where the server cannot answer (no ``JSON_TABLE``, collations
    it cannot compare): then every session is to be copied."""

    _CANNOT = frozenset({1064, 1267, 1270, 1271, 1305, 4046})

    def __init__(self, connection: sa.Connection, sessions: TableSpec, runs: TableSpec) -> None:
        self.connection = connection
        n = _Names(connection.dialect, sessions, runs)
        c = n.c
        try:
            kind = _column_type(connection, runs, "run_id")
        except sa.exc.NoResultFound:
            kind = TEXT
        # '$.run_id' of an entry that is not an object, or has no run_id: SQL NULL (the copy skips it); of one whose
        # run_id is null: JSON null (skipped too)
        self._sql = f"""
SELECT s.{c["session_id"]} FROM {n.sessions} AS s
WHERE s.{c["runs"]} IS NOT NULL{{chunk}}
  AND (COALESCE(JSON_TYPE(s.{c["runs"]}), '') <> 'ARRAY' OR EXISTS (
       SELECT 1 FROM JSON_TABLE(s.{c["runs"]}, '$[*]' COLUMNS (
           id JSON PATH '$.run_id', spelt {TEXT} PATH '$.run_id', run_id {kind} PATH '$.run_id')) AS j
       WHERE j.id IS NOT NULL AND JSON_TYPE(j.id) <> 'NULL'
         AND (JSON_TYPE(j.id) <> 'STRING' OR j.spelt IS NULL OR j.run_id IS NULL
              OR CONVERT(j.run_id USING utf8mb4) COLLATE utf8mb4_bin <> j.spelt
              OR NOT EXISTS (SELECT 1 FROM {n.runs} AS r WHERE r.{c["run_id"]} = j.run_id))))
ORDER BY s.{c["session_id"]}"""
        self._range = sa.text(self._sql.format(chunk=_range(c)))
        self._keys = sa.text(self._sql.format(chunk=_range(c, keys=True))).bindparams(
            sa.bindparam("keys", expanding=True))
        self.works = True

    def range(self, after: str, upto: str) -> list[str] | None:
        """The sessions of the key range ``(after, upto]`` to copy (``None``: all of them)."""
        return self._ask(self._range, {"after": after, "upto": upto})

    def keys(self, keys: Sequence[str]) -> list[str] | None:
        """The sessions of ``keys`` to copy (``None``: all of them)."""
        return self._ask(self._keys, {"keys": list(keys)})

    def _ask(self, statement: sa.TextClause, parameters: dict[str, Any]) -> list[str] | None:
        if not self.works:
            return None
        try:  # (MySQL: a refused statement leaves the batch's transaction as it was)
            return list(self.connection.execute(statement, parameters).scalars())
        except sa.exc.DBAPIError as exc:
            if getattr(exc.orig, "args", (None,))[0] not in self._CANNOT:
                raise
            log.info("the server cannot tell which sessions lack runs (%s); every session is copied again", exc.orig)
            self.works = False
            return None


def merge_back(connection: sa.Connection, sessions: TableSpec, runs: TableSpec, *, chunk: int = CHUNK_SESSIONS) -> int:
    """Put runs-table rows back into each session's legacy list; returns the sessions rewritten.

    Entries with a ``run_id`` the table holds are replaced by the table's row (the table is newer); entries the
    table lacks stay where they are; table rows the list lacks are appended in ``run_index``, ``created_at``
    order.  Agno's own revert replaced the whole list with the table's rows, losing the rest.
    """
    r = runs.sa_table()
    s = sessions.sa_table()
    rewritten = 0
    after = ""
    while True:
        ids = connection.execute(
            sa.select(r.c.session_id).where(r.c.session_id > after).group_by(r.c.session_id)
            .order_by(r.c.session_id).limit(chunk)
        ).scalars().all()
        if not ids:
            return rewritten
        table_rows: dict[str, list[Mapping[str, Any]]] = {}
        for row in connection.execute(
            sa.select(r.c.session_id, r.c.run_id, r.c.run_data)
            .where(r.c.session_id.in_(ids))
            .order_by(r.c.session_id, r.c.run_index, r.c.created_at)
        ):
            entry = {"run_id": row.run_id, "run_data": decode_json(row.run_data)}
            table_rows.setdefault(row.session_id, []).append(entry)
        legacy = dict(connection.execute(sa.select(s.c.session_id, s.c.runs).where(s.c.session_id.in_(ids))).all())
        for sid in ids:
            merged = merge_lists(decode(legacy.get(sid)), table_rows.get(sid, []))
            connection.execute(s.update().where(s.c.session_id == sid).values(runs=merged))
            rewritten += 1
        after = ids[-1]


def decode_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes | bytearray) else value


def merge_lists(legacy: Any, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The legacy list with the table's rows merged in by ``run_id`` (see :func:`merge_back`)."""
    by_id = {row["run_id"]: row["run_data"] for row in rows}
    merged: list[Any] = []
    seen: set[str] = set()
    for entry in legacy if isinstance(legacy, list) else []:
        run_id = entry.get("run_id") if isinstance(entry, dict) else None
        if run_id is not None and str(run_id) in by_id and str(run_id) not in seen:
            merged.append(by_id[str(run_id)])  # the first entry with a run_id is the one the copy took
            seen.add(str(run_id))
        else:
            merged.append(entry)
    merged.extend(row["run_data"] for row in rows if row["run_id"] not in seen)
    return merged


def unpreserved_runs(connection: sa.Connection, sessions: TableSpec, runs: TableSpec) -> int:
    """How many runs-table rows are not in their session's legacy list (what dropping the table would lose)."""
    s = sessions.sa_table()
    r = runs.sa_table()
    if "runs" not in s.c:
        return int(connection.execute(sa.select(sa.func.count()).select_from(r)).scalar_one())
    missing = 0
    legacy: dict[str, set[str]] = {}
    for sid, blob in connection.execute(sa.select(s.c.session_id, s.c.runs).where(s.c.runs.is_not(None))):
        legacy[sid] = _run_ids(blob)
    for sid, run_id in connection.execute(sa.select(r.c.session_id, r.c.run_id)):
        missing += run_id not in legacy.get(sid, set())
    return missing


def _run_ids(blob: Any) -> set[str]:
    """The run ids of a legacy list: of its entries the copy takes (objects with a ``run_id``)."""
    entries = decode(blob)
    return {
        str(e["run_id"]) for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, dict) and e.get("run_id") is not None
    }


def runs_missing_from_table(connection: sa.Connection, sessions: TableSpec, runs: TableSpec) -> int:
    """How many legacy runs (objects with a ``run_id``) have no row in the runs table; streamed in chunks."""
    return sum(c.missing for c in _walk(connection, sessions, runs))


MISSING_EXAMPLES = 10
"""How many missing run ids a :class:`~agno_alembic.errors.DataVerificationError` names."""


def verify_copy(
    connection: sa.Connection, sessions: TableSpec, runs: TableSpec, *, after: str = "", upto: str | None = None,
    chunk: int = CHUNK_SESSIONS, updated_before: int | None = None, between: Callable[[], None] | None = None,
    reads: ShortReads | None = None,
) -> int:
    """The check of the 3.0.0 copy before its stamp: every run the legacy lists hold (an object with a ``run_id``)
    has a row in the runs table, compared by id exactly as the lists spell it. Returns how many run ids it checked;
    raises :class:`~agno_alembic.errors.DataVerificationError` (the count and the first missing ids) on a shortfall.

    ``after``/``upto`` bound the sessions checked by key (``(after, upto]``), for a copy made in batches; by default
    every session. ``updated_before`` leaves out the sessions updated since then (an online copy: a live Agno 2.x
    replica may be appending to them; the next ``up()`` and ``contract()`` copy what it appends); ``between`` runs
    after each chunk (an online copy commits there, keeping its transactions short). ``reads`` (online SQLite):
    each read of the check is a short read transaction of its own, the lists decoded after it ends, and the chunks
    sized by the bytes of lists each read fetches (:class:`ShortReads`).

    On the way, a run id several sessions hold gets the one rule of every backend: the session
    written first wins (see :func:`_settle`), logged as a warning naming the run id and both sessions.

    PostgreSQL checks each chunk with one statement (:func:`_postgresql_check`: the lists are read where they are,
    only the missing and shared run ids cross the wire); elsewhere, and for a chunk the statement cannot read as
    Python does, the client decodes the lists (:func:`_run_ids`). Both give the same answer.
    """
    checked = count = 0
    missing: list[str] = []
    for part in _walk(connection, sessions, runs, after=after, upto=upto, chunk=chunk, updated_before=updated_before,
                      between=between, reads=reads):
        checked += part.checked
        count += part.missing
        missing.extend(part.examples[: max(0, MISSING_EXAMPLES - len(missing))])
        for run_id, sids, row_session in part.shared:
            _shared(connection, sessions, runs, run_id, sids, row_session)
    if count:
        raise DataVerificationError(
            f"The copy of {sessions.name}.runs into {runs.name} is incomplete: {count} of the {checked} run(s) of "
            f"the legacy lists have no row in {runs.name} (e.g. {', '.join(map(repr, missing))}). The step is not "
            "recorded as applied and nothing was dropped; the legacy lists are intact. Check the runs table's "
            "character set and collation (utf8mb4 holds every character), then run the migration again.",
            step="copy legacy runs", table=runs.name, expected=checked, missing=count, examples=missing,
        )
    return checked


@dataclass(frozen=True)
class _Part:
    """One chunk of sessions as :func:`verify_copy` reads it."""

    checked: int
    """How many distinct legacy run ids the chunk's sessions hold."""
    missing: int
    """How many of them the runs table lacks (compared exactly, as Python strings: a row whose id the database
    changed, or that matches only by its collation, is not the run)."""
    examples: list[str]
    """The first :data:`MISSING_EXAMPLES` of those, in code point order."""
    shared: list[tuple[str, list[str], str]]
    """``(run_id, sessions, row's session)`` of each run id the table holds whose row is not only of the one
    session of the chunk holding it (several sessions hold it, or another session's row has it); sessions in key
    order."""


def _legacy(sessions: TableSpec) -> sa.TableClause:
    """The sessions table with untyped columns: each legacy blob as the driver hands it (:func:`decode` reads it)."""
    return sa.table(sessions.name, *(sa.column(c) for c in ("session_id", "user_id", "runs", "created_at")),
                    schema=sessions.schema)


def _walk(
    connection: sa.Connection, sessions: TableSpec, runs: TableSpec, *, after: str = "", upto: str | None = None,
    chunk: int = CHUNK_SESSIONS, updated_before: int | None = None, between: Callable[[], None] | None = None,
    reads: ShortReads | None = None,
) -> Iterator[_Part]:
    in_sql = _SqlCheck.of(connection, sessions, runs, updated_before) if reads is None else None
    for lo, hi, _ in _chunks(connection, sessions, chunk if reads is None else reads.chunk, after=after, upto=upto):
        part = in_sql.part(lo, hi) if in_sql is not None else None
        if part is None:
            part = _python_part(connection, sessions, runs, lo, hi, updated_before, reads)
            if part is not None and part.missing and reads is not None:
                # two read transactions can disagree (a session deleted between them, its runs with it): a
                # shortfall stands only when one transaction sees it
                part = _python_part(connection, sessions, runs, lo, hi, updated_before, None)
                reads.release()
        if part is not None:
            yield part
        if between is not None:
            between()


PRESENT_IDS = 5000
"""Run ids looked up in the runs table per statement by the client's check."""


class ShortReads:
    """Online SQLite, the copy's check: the application's writers cannot commit while any reader holds the
    database (rollback journal; a writer waiting for its ``COMMIT`` also keeps new readers out), so a read of the
    check must last a short moment only, whatever the size of the lists it reads.

    Each read (a range's keys, its lists, their ids in the runs table) is a read transaction of its own, ended by
    :meth:`release` (a commit) as soon as its rows are fetched; decoding the lists, the slow part, holds nothing.
    The sessions per range follow the size of the lists read so far, towards :attr:`target` bytes of lists per
    read (sized by bytes, not by time: a read's time also counts its wait for the application's writers, which
    would shrink the ranges to nothing on a busy database); :attr:`since` adds up the bytes read for the caller's
    turns (``data.batched._check``)."""

    def __init__(self, release: Callable[[], None], target: int, *, first: int = 50, least: int = 1,
                 most: int = PYTHON_CHUNK_SESSIONS) -> None:
        self.release, self.target, self.size, self.least, self.most = release, target, first, least, most
        self.since = 0
        """Bytes of lists read since the caller last reset it."""
        self.largest = 0
        """The most bytes of lists one read fetched."""

    def chunk(self) -> int:
        """The sessions of the next range."""
        return self.size

    def read(self, sessions: int, size: int) -> None:
        """A range's read fetched the lists of ``sessions`` sessions, ``size`` bytes (characters) of them."""
        self.since += size
        self.largest = max(self.largest, size)
        if sessions and size:
            self.size = int(min(self.most, max(self.least, self.target * sessions / size)))


def _python_part(connection: sa.Connection, sessions: TableSpec, runs: TableSpec, lo: str, hi: str,
                 updated_before: int | None, reads: ShortReads | None = None) -> _Part | None:
    """The sessions of ``(lo, hi]``, their lists decoded by the client (``None``: they hold no run); with
    ``reads``, each read in a short transaction of its own and the lists decoded outside (:class:`ShortReads`)."""
    s = sa.table(sessions.name, sa.column("session_id"), sa.column("runs"), sa.column("updated_at"),
                 schema=sessions.schema)
    r = sa.table(runs.name, sa.column("run_id"), sa.column("session_id"), schema=runs.schema)
    where = [s.c.runs.is_not(None), s.c.session_id > lo, s.c.session_id <= hi]
    if updated_before is not None:
        where.append(sa.or_(s.c.updated_at.is_(None), s.c.updated_at < updated_before))
    holders: dict[str, list[str]] = {}
    query = sa.select(s.c.session_id, s.c.runs).where(*where).order_by(s.c.session_id)
    if reads is not None:
        reads.release()  # the range's keys
        listed: Any = connection.execute(query).all()
        reads.release()
        reads.read(len(listed), sum(len(blob) for _, blob in listed if isinstance(blob, str | bytes)))
    else:
        listed = connection.execute(query)
    for sid, blob in listed:
        for run_id in _run_ids(blob):
            holders.setdefault(run_id, []).append(sid)
    if not holders:
        return None
    ids = list(holders)
    # (a range sized by bytes may hold many small runs: within SQLite's 32,766 bound parameters)
    found = [row for i in range(0, len(ids), PRESENT_IDS) for row in _present(connection, r, ids[i:i + PRESENT_IDS])]
    if reads is not None:
        reads.release()
    rows = {run_id: sid for run_id, sid in found if run_id in holders}
    missing = sorted(set(holders) - set(rows))
    shared = [(run_id, sids, rows[run_id]) for run_id, sids in holders.items()
              if run_id in rows and (len(sids) > 1 or rows[run_id] != sids[0])]
    return _Part(len(holders), len(missing), missing[:MISSING_EXAMPLES], shared)


def _postgresql_check(n: _Names, updated: bool) -> list[str]:
    """One chunk ``(:lo, :hi]`` of :func:`verify_copy` on PostgreSQL. A first row of counts (``odd``: entries the
    statement leaves to the client, ``checked``, ``missing``), then one row per missing run id (the first
    :data:`MISSING_EXAMPLES`, in code point order) and one per shared run id (with its sessions and its row's).

    The rules are :func:`_run_ids`'s: an entry of an array is a run when it is an object with a non-null
    ``run_id``. A run id that is not a string (Python spells it ``str(value)``, which SQL does not) and a list
    stored as JSON text in a JSON string (Python decodes it again) make the chunk ``odd``: the client checks it.

    Two forms, tried in order: the first reads each list once and fails on a chunk holding a value that is not an
    array (PostgreSQL decompresses a stored value again for each expression naming it: asking the type first
    read every list twice or three times, most of the check's time); the second also takes those."""
    c = n.c
    e = "e.value"
    blob = f"s.{c['runs']}::jsonb"
    fresh = f" AND (s.{c['updated_at']} IS NULL OR s.{c['updated_at']} < :before)" if updated else ""
    where = f"s.{c['runs']} IS NOT NULL AND s.{c['session_id']} > :lo AND s.{c['session_id']} <= :hi{fresh}"
    run = f"jsonb_typeof({e}) = 'object' AND jsonb_typeof({e}->'run_id') <> 'null'"
    arrays = f"""
    SELECT DISTINCT s.{c["session_id"]}::text AS sid,
           CASE WHEN jsonb_typeof({e}->'run_id') = 'string' THEN {e}->>'run_id' END AS run_id,
           jsonb_typeof({e}->'run_id') <> 'string' AS odd
    FROM {n.sessions} AS s CROSS JOIN LATERAL jsonb_array_elements({blob}) AS e(value)
    WHERE {where} AND {run}"""
    any_value = f"""
    SELECT DISTINCT s.{c["session_id"]}::text AS sid,
           CASE WHEN jsonb_typeof({e}->'run_id') = 'string' THEN {e}->>'run_id' END AS run_id,
           jsonb_typeof({blob}) = 'string' OR jsonb_typeof({e}->'run_id') <> 'string' AS odd
    FROM {n.sessions} AS s
    LEFT JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof({blob}) = 'array' THEN {blob} ELSE '[]'::jsonb END
    ) AS e(value) ON {run}
    WHERE {where}"""
    return [_postgresql_check_of(n, held) for held in (arrays, any_value)]


def _postgresql_check_of(n: _Names, held: str) -> str:
    c = n.c
    return f"""
WITH held AS MATERIALIZED ({held}
), grouped AS MATERIALIZED (
    SELECT h.run_id, r.{c["session_id"]}::text AS row_session, array_agg(h.sid ORDER BY h.sid) AS sids
    FROM held AS h LEFT JOIN {n.runs} AS r ON r.{c["run_id"]} = h.run_id
    WHERE h.run_id IS NOT NULL
    GROUP BY h.run_id, r.{c["session_id"]}
)
SELECT 0 AS kind, NULL::text AS run_id, NULL::text AS row_session, NULL::text[] AS sids,
       (SELECT count(*) FROM held WHERE odd) AS odd, (SELECT count(*) FROM grouped) AS checked,
       (SELECT count(*) FROM grouped WHERE row_session IS NULL) AS missing
UNION ALL (
    SELECT 1, run_id, NULL, NULL::text[], NULL::bigint, NULL::bigint, NULL::bigint
    FROM grouped WHERE row_session IS NULL ORDER BY run_id COLLATE "C" LIMIT {MISSING_EXAMPLES}
)
UNION ALL
SELECT 2, run_id, row_session, sids, NULL, NULL, NULL FROM grouped
WHERE row_session IS NOT NULL AND row_session <> ANY(sids)
ORDER BY 1, 4, 2"""


_CHECKS: dict[str, Callable[[_Names, bool], list[str]]] = {registry.POSTGRESQL: _postgresql_check}
"""The backends whose check of a chunk is one statement (:class:`_SqlCheck`; forms tried in order, the next where
one fails on the chunk's data); the others' clients decode the lists."""


class _SqlCheck:
    """A chunk of :func:`verify_copy` checked by the database (:data:`_CHECKS`)."""

    def __init__(self, connection: sa.Connection, forms: list[sa.TextClause], before: int | None) -> None:
        self.connection, self.forms, self.before = connection, forms, before

    @classmethod
    def of(cls, connection: sa.Connection, sessions: TableSpec, runs: TableSpec,
           updated_before: int | None) -> _SqlCheck | None:
        """The check, where the backend has one and the legacy column is JSON (a text column may hold text that is
        not JSON, which the client reads as no list and the statement would fail on)."""
        from agno_alembic import dialects

        statements = _CHECKS.get(dialects.backend_of(connection.dialect))
        if statements is None:
            return None
        column = next((col for col in sa.inspect(connection).get_columns(sessions.name, schema=sessions.schema)
                       if col["name"] == "runs"), None)
        if column is None or not isinstance(column["type"], sa.JSON):
            return None
        names = _Names(connection.dialect, sessions, runs)
        return cls(connection, [sa.text(sql) for sql in statements(names, updated_before is not None)],
                   updated_before)

    def part(self, lo: str, hi: str) -> _Part | None:
        """The chunk ``(lo, hi]``, or ``None`` where the client must read it (see :func:`_postgresql_check`; also a
        JSON value a ``jsonb`` cannot hold, such as ``\\u0000`` in a ``json`` column). Each form runs in a
        savepoint: one that fails on the chunk's data leaves the transaction as it was for the next."""
        params: dict[str, Any] = {"lo": lo, "hi": hi}
        if self.before is not None:
            params["before"] = self.before
        for sql in self.forms:
            try:
                with self.connection.begin_nested():
                    rows = self.connection.execute(sql, params).all()
                break
            except sa.exc.DataError:
                continue
        else:
            return None
        odd, checked, missing = rows[0][4:]
        if odd:
            return None
        examples = sorted(r[1] for r in rows if r[0] == 1)  # the first in code point order (COLLATE "C")
        shared = [(r[1], list(r[3]), r[2]) for r in rows if r[0] == 2]
        return _Part(int(checked), int(missing), examples, shared)


#: MySQL: the errors of comparing a text column with values its character set cannot hold.
_MIXED_COLLATIONS = frozenset({1267, 1270, 1271})


def _present(connection: sa.Connection, r: sa.TableClause, ids: list[str]) -> list[tuple[str, str]]:
    """``(run_id, session_id)`` of the runs-table rows with these ids. MySQL refuses to compare a ``run_id`` column
    whose character set lacks some of the ids' characters ("Illegal mix of collations"): those rows cannot hold
    such an id, and the column is compared as utf8mb4 instead (a scan, only on such a table)."""
    try:
        rows = connection.execute(sa.select(r.c.run_id, r.c.session_id).where(r.c.run_id.in_(ids)))
        return [(run_id, sid) for run_id, sid in rows]
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "args", (None,))[0] not in _MIXED_COLLATIONS:
            raise
    column = connection.dialect.identifier_preparer.quote("run_id")
    as_utf8mb4: sa.ColumnClause[str] = sa.literal_column(f"CONVERT({column} USING utf8mb4)")
    rows = connection.execute(sa.select(r.c.run_id, r.c.session_id).where(as_utf8mb4.in_(ids)))
    return [(run_id, sid) for run_id, sid in rows]


def _shared(
    connection: sa.Connection, sessions: TableSpec, runs: TableSpec, run_id: str, sids: list[str], row_session: str
) -> None:
    """A run id held by several sessions of one chunk, or by a session other than its row's: when the row's
    session holds it too, the run is shared; settle it."""
    candidates = set(sids)
    if row_session not in candidates:
        s = _legacy(sessions)
        blob = connection.execute(sa.select(s.c.runs).where(s.c.session_id == row_session)).scalar()
        if run_id not in _run_ids(blob):
            return  # the row is not a copy of a legacy entry (Agno 3 wrote it): it wins
        candidates.add(row_session)
    if len(candidates) > 1:
        _settle(connection, _legacy(sessions), runs.sa_table(), run_id, sorted(candidates), row_session)


def _settle(
    connection: sa.Connection, s: sa.TableClause, r: sa.Table, run_id: str, sids: list[str], row_session: str
) -> None:
    """A run id several sessions hold: the session written first (by ``created_at``, then ``session_id``) wins.
    The copy keeps the first copy it meets in key order; where that is not the winner's and the row is still
    exactly the other session's legacy entry, it becomes the winner's entry. A row that is no longer that entry
    (Agno 3 updated it) stays, as rows already in the runs table win. Logged as a warning per other session."""
    written = dict(connection.execute(sa.select(s.c.session_id, s.c.created_at).where(s.c.session_id.in_(sids))).all())
    order = sorted(sids, key=lambda sid: (written.get(sid) is None, written.get(sid) or 0, sid))
    winner, others = order[0], order[1:]
    for other in others:
        log.warning(
            "run %r is held by two sessions, %r and %r; the runs table keeps the one of %r (written first, by "
            "created_at then session_id)", run_id, winner, other, winner,
        )
    if row_session != winner:
        lists = {sid: (uid, blob) for sid, uid, blob in connection.execute(
            sa.select(s.c.session_id, s.c.user_id, s.c.runs).where(s.c.session_id.in_([winner, row_session]))
        )}
        now = int(time.time())
        current = connection.execute(sa.select(r.c.run_data).where(r.c.run_id == run_id)).scalar()
        loser_entry = _first_entry(lists[row_session][1], run_id, row_session, lists[row_session][0], now)
        if loser_entry is not None and decode_json(current) == loser_entry["run_data"]:
            entry = _first_entry(lists[winner][1], run_id, winner, lists[winner][0], now)
            if entry is not None:
                connection.execute(r.delete().where(r.c.run_id == run_id))
                connection.execute(r.insert().values(**entry))


def _first_entry(blob: Any, run_id: str, session_id: str, user_id: str | None, now: int) -> dict[str, Any] | None:
    """The runs-table row of the first entry of a session's legacy list with ``run_id`` (the one the copy takes)."""
    for row in build_rows(blob, session_id, user_id, now):
        if row["run_id"] == run_id:
            row.update((k, _scalar(row[k])) for k in ("agent_id", "team_id", "workflow_id", "parent_run_id", "status"))
            return row
    return None
