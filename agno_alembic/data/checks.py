"""Data rules that decide whether a step may run, or that a step applies to existing rows besides its DDL.

Each function takes the live connection and the table as it is before the step.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from agno_alembic.errors import BlockedByDataError
from agno_alembic.shapes._dsl import TableSpec

log = logging.getLogger("agno_alembic")
EXAMPLES = 5


def _table(spec: TableSpec, *columns: str) -> sa.TableClause:
    return sa.table(spec.name, *[sa.column(c) for c in columns], schema=spec.schema)


def unique_session_ids(connection: sa.Connection, sessions: TableSpec) -> None:
    """2.5.0 makes ``session_id`` the primary key: refuse while any is NULL or shared by several rows.

    Agno's own step logged a warning, added no key, and stamped the table as migrated anyway.
    """
    pk = sa.inspect(connection).get_pk_constraint(sessions.name, schema=sessions.schema)
    if list(pk.get("constrained_columns") or ()) == ["session_id"]:
        return
    t = _table(sessions, "session_id")
    nulls = connection.execute(sa.select(sa.func.count()).select_from(t).where(t.c.session_id.is_(None))).scalar()
    dupes = connection.execute(
        sa.select(t.c.session_id, sa.func.count().label("n"))
        .where(t.c.session_id.is_not(None))
        .group_by(t.c.session_id)
        .having(sa.func.count() > 1)
        .order_by(sa.func.count().desc(), t.c.session_id)
        .limit(EXAMPLES)
    ).all()
    if not nulls and not dupes:
        return
    problems = []
    if nulls:
        problems.append(f"{nulls} row(s) with a NULL session_id")
    if dupes:
        problems.append("session_id shared by several rows, e.g. " + ", ".join(f"{s!r} ({n} rows)" for s, n in dupes))
    raise BlockedByDataError(
        f"Cannot make session_id the primary key of {sessions.name}: " + "; ".join(problems) + ". Delete or "
        "re-key those rows (keep the newest of each duplicate, by updated_at), then run the migration again; "
        "nothing was changed.",
        table=sessions.name,
        examples=[s for s, _ in dupes],
    )


def unique_schedule_names(connection: sa.Connection, schedules: TableSpec) -> None:
    """3.0.0 adds unique indexes on schedule names (per user, and among unowned schedules): refuse duplicates.

    Every schedule that exists before 3.0.0 is unowned (``user_id`` arrives with the step), so any two rows with
    one name collide.
    """
    present = {c["name"] for c in sa.inspect(connection).get_columns(schedules.name, schema=schedules.schema)}
    t = _table(schedules, "name", "user_id")
    query = sa.select(t.c.name, sa.func.count()).group_by(t.c.name).having(sa.func.count() > 1).order_by(t.c.name)
    if "user_id" in present:
        query = query.where(t.c.user_id.is_(None))
    dupes = connection.execute(query).all()
    if not dupes:
        return
    raise BlockedByDataError(
        f"Cannot add the unique schedule-name indexes to {schedules.name}: these names are used by several "
        "schedules: " + ", ".join(f"{name!r} ({n})" for name, n in dupes) + ". Rename or delete the duplicates, "
        "then run the migration again; nothing was recorded as done.",
        table=schedules.name,
        examples=[name for name, _ in dupes],
    )


def drop_newest_unfinished_metrics_day(connection: sa.Connection, metrics: TableSpec) -> int:
    """As ownership lands (3.0.0), remove the newest metrics day if it is unfinished and unowned, as Agno does.

    That day is still being counted; left in place it would be counted again per user.  Only the newest day goes,
    and only when it is newer than the last completed day.  Returns the rows removed.
    """
    t = _table(metrics, "date", "completed", "user_id")
    last_completed = connection.execute(sa.select(sa.func.max(t.c.date)).where(t.c.completed.is_(True))).scalar()
    newest = connection.execute(sa.select(sa.func.max(t.c.date))).scalar()
    if newest is None or (last_completed is not None and newest <= last_completed):
        return 0
    removed = connection.execute(
        t.delete().where(
            t.c.completed.is_(False), sa.or_(t.c.user_id == "", t.c.user_id.is_(None)), t.c.date == newest
        )
    ).rowcount
    if removed:
        log.info("Removed the unfinished newest day (%s) from %s so it recalculates per user", newest, metrics.name)
    return removed or 0


# -- read-only findings, for ``agno-alembic plan`` -------------------------------------------------------------------
#
# Each finder reads the table as it is before a step and returns what would stop the step (``blocking``) or what
# the step will leave behind, with the SQL that lists exactly the rows concerned and a suggested fix.  They change
# nothing; the raising checks above stay what the steps run.

LISTED = 100
"""At most this many values are written into a finding's SQL; more are counted (and the SQL says so)."""


@dataclass(frozen=True)
class Finding:
    """One problem a data check found before a step."""

    check: str
    """The check's name: ``unique_session_ids``, ``unique_keys``, ``not_null``, ``jsonb_convertible``..."""
    table: str
    problem: str
    """What is wrong, in words, with counts and examples."""
    rows: int
    """How many rows are concerned."""
    sql: str
    """A SELECT listing exactly those rows (read-only)."""
    fix: str
    """Suggested fix, as SQL statements (one per line; empty when only a person can decide)."""
    advice: str
    """The fix in words, and what it leaves to a person."""
    blocking: bool
    """The step would refuse (or fail) on it; otherwise the step runs and the finding says what it leaves."""

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _sql(connection: sa.Connection, statement: sa.ClauseElement) -> str:
    return str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})) + ";"


def _rows_of(spec: TableSpec, connection: sa.Connection) -> sa.Table:
    """The table as it is in the database (reflected), for SELECTs of whole rows."""
    return sa.Table(spec.name, sa.MetaData(), autoload_with=connection, schema=spec.schema)


def _duplicates(connection: sa.Connection, t: sa.Table, columns: list[str]) -> tuple[list[tuple[Any, ...]], int]:
    """The values of ``columns`` that several rows share (none of them NULL), and how many rows hold them."""
    cols = [t.c[c] for c in columns]
    grouped = (
        sa.select(*cols, sa.func.count().label("n"))
        .where(*[c.is_not(None) for c in cols])
        .group_by(*cols)
        .having(sa.func.count() > 1)
    )
    found = connection.execute(grouped.order_by(*cols)).all()
    return [tuple(r[:-1]) for r in found], sum(int(r[-1]) for r in found)


def _in(t: sa.Table, columns: list[str], values: list[tuple[Any, ...]]) -> sa.ColumnElement[bool]:
    if len(columns) == 1:
        return t.c[columns[0]].in_([v[0] for v in values])
    return sa.tuple_(*[t.c[c] for c in columns]).in_(values)


def find_session_id_problems(connection: sa.Connection, sessions: TableSpec) -> list[Finding]:
    """Before 2.5.0: NULL or shared ``session_id`` values (:func:`unique_session_ids` would refuse the step)."""
    pk = sa.inspect(connection).get_pk_constraint(sessions.name, schema=sessions.schema)
    if list(pk.get("constrained_columns") or ()) == ["session_id"]:
        return []
    t = _rows_of(sessions, connection)
    out: list[Finding] = []
    nulls = int(connection.execute(sa.select(sa.func.count()).select_from(t).where(t.c.session_id.is_(None)))
                .scalar_one())
    if nulls:
        out.append(Finding(
            "unique_session_ids", sessions.name,
            f"{nulls} row(s) with a NULL session_id: session_id becomes the primary key at 2.5.0", nulls,
            _sql(connection, sa.select(t).where(t.c.session_id.is_(None))),
            _sql(connection, t.delete().where(t.c.session_id.is_(None))),
            "delete those rows, or give each a new, unique session_id", True,
        ))
    dupes, n = _duplicates(connection, t, ["session_id"])
    if dupes:
        shown = dupes[:LISTED]
        listing = sa.select(t).where(_in(t, ["session_id"], shown)).order_by(t.c.session_id, t.c.updated_at)
        fixes = []
        newest = sa.func.coalesce(t.c.updated_at, t.c.created_at)
        for (sid,) in shown:  # keep the newest row of each (by updated_at, else created_at)
            keep = connection.execute(sa.select(sa.func.max(newest)).where(t.c.session_id == sid)).scalar()
            fixes.append(_sql(connection, t.delete().where(t.c.session_id == sid, newest < keep)))
        more = f" (the first {LISTED} of {len(dupes)} values)" if len(dupes) > LISTED else ""
        out.append(Finding(
            "unique_session_ids", sessions.name,
            f"{len(dupes)} session_id value(s) shared by {n} rows{more}, e.g. "
            + ", ".join(repr(s) for (s,) in dupes[:EXAMPLES]) + ": session_id becomes the primary key at 2.5.0",
            n, _sql(connection, listing),
            "\n".join(fixes),
            "keeps the newest row of each session_id (by updated_at, else created_at) and deletes the others; rows "
            "that tie remain and need a person to choose", True,
        ))
    return out


def find_duplicate_keys(
    connection: sa.Connection, spec: TableSpec, name: str, columns: list[str], *, check: str = "unique_keys",
) -> list[Finding]:
    """Rows a new unique index or key ``name`` on ``columns`` would reject (their values are shared)."""
    t = _rows_of(spec, connection)
    if any(c not in t.c for c in columns):
        return []
    dupes, n = _duplicates(connection, t, columns)
    if not dupes:
        return []
    shown = dupes[:LISTED]
    listing = sa.select(t).where(_in(t, columns, shown)).order_by(*[t.c[c] for c in columns])
    return [Finding(
        check, spec.name,
        f"{len(dupes)} value(s) of ({', '.join(columns)}) shared by {n} rows, which the unique {name} would reject, "
        "e.g. " + ", ".join(repr(v if len(v) > 1 else v[0]) for v in dupes[:EXAMPLES]),
        n, _sql(connection, listing),
        "", f"rename or delete all but one row of each value of ({', '.join(columns)}), then run the migration",
        True,
    )]


def find_schedule_name_problems(connection: sa.Connection, schedules: TableSpec) -> list[Finding]:
    """Before 3.0.0: schedule names used by several unowned schedules (:func:`unique_schedule_names` refuses)."""
    t = _rows_of(schedules, connection)
    unowned = t.c.user_id.is_(None) if "user_id" in t.c else sa.true()
    found = connection.execute(
        sa.select(t.c.name, sa.func.count()).where(unowned).group_by(t.c.name).having(sa.func.count() > 1)
        .order_by(t.c.name)
    ).all()
    if not found:
        return []
    names = [r[0] for r in found][:LISTED]
    n = sum(int(r[1]) for r in found)
    fixes = [
        _sql(connection, t.update().where(t.c.id == rid).values(name=f"{name} ({rid})"))
        for name in names
        for rid in connection.execute(sa.select(t.c.id).where(unowned, t.c.name == name).order_by(t.c.id))
        .scalars().all()[1:]
    ]
    return [Finding(
        "unique_schedule_names", schedules.name,
        f"{len(found)} schedule name(s) used by {n} unowned schedules, e.g. "
        + ", ".join(repr(x) for x in names[:EXAMPLES]) + ": 3.0.0 makes names unique",
        n, _sql(connection, sa.select(t).where(unowned, t.c.name.in_(names)).order_by(t.c.name, t.c.id)),
        "\n".join(fixes), "renames all but the first schedule of each name (by id) to '<name> (<id>)'; or delete "
        "the ones no longer wanted", True,
    )]


def find_nulls(connection: sa.Connection, spec: TableSpec, column: str) -> list[Finding]:
    """Rows with a NULL in a column a step makes NOT NULL without filling it."""
    t = _rows_of(spec, connection)
    if column not in t.c:
        return []
    n = int(connection.execute(sa.select(sa.func.count()).select_from(t).where(t.c[column].is_(None))).scalar_one())
    if not n:
        return []
    return [Finding(
        "not_null", spec.name, f"{n} row(s) with a NULL {column}, which becomes NOT NULL", n,
        _sql(connection, sa.select(t).where(t.c[column].is_(None))),
        "", f"give {column} a value in those rows (or delete them), then run the migration", True,
    )]


def find_jsonb_refusals(connection: sa.Connection, spec: TableSpec, column: str) -> list[Finding]:
    """PostgreSQL JSON -> JSONB: JSONB refuses the escaped NUL character (``\\u0000``) that JSON accepts."""
    t = _rows_of(spec, connection)
    if column not in t.c:
        return []
    bad = sa.func.strpos(sa.cast(t.c[column], sa.Text()), "\\u0000") > 0  # PostgreSQL only: no LIKE escapes
    n = int(connection.execute(sa.select(sa.func.count()).select_from(t).where(bad)).scalar_one())
    if not n:
        return []
    return [Finding(
        "jsonb_convertible", spec.name,
        f"{n} row(s) whose {column} holds \\u0000, which JSONB refuses: the conversion to JSONB would fail", n,
        _sql(connection, sa.select(t).where(bad)),
        _sql(connection, t.update().where(bad).values(
            {column: sa.cast(sa.func.replace(sa.cast(t.c[column], sa.Text()), "\\u0000", ""), t.c[column].type)})),
        "removes the escaped NUL characters from those values", True,
    )]


def find_shared_run_ids(connection: sa.Connection, sessions: TableSpec) -> list[Finding]:
    """Before 3.0.0: run ids in the legacy lists of two sessions, and lists that are no JSON array.

    The runs table keys runs by ``run_id``: the first session's run is copied, the other's stays only in the legacy
    ``runs`` column (kept, as it then holds data).  Neither stops the step; both are said.
    """
    from agno_alembic.data import runs as runs_data

    t = _rows_of(sessions, connection)
    if "runs" not in t.c:
        return []
    owners: dict[str, set[str]] = {}
    not_lists: list[str] = []
    query = sa.select(t.c.session_id, t.c.runs).where(t.c.runs.is_not(None)).execution_options(yield_per=500)
    for sid, blob in connection.execute(query):
        decoded = runs_data.decode(blob)
        unreadable = decoded is None and blob is not None and str(blob).strip() not in ("null", "b'null'")
        if unreadable or (decoded is not None and not isinstance(decoded, list)):
            not_lists.append(sid)
            continue
        for run_id in runs_data._run_ids(blob):
            owners.setdefault(run_id, set()).add(sid)
    shared = {r: s for r, s in owners.items() if len(s) > 1}
    out = []
    if shared:
        sids = sorted({s for owners_ in shared.values() for s in owners_})
        out.append(Finding(
            "shared_run_ids", sessions.name,
            f"{len(shared)} run id(s) held by several sessions ({len(sids)} sessions), e.g. "
            + ", ".join(f"{r!r} in {sorted(s)}" for r, s in sorted(shared.items())[:EXAMPLES])
            + ": the runs table keeps the entry of the session written first (by created_at, then session_id); "
            "the others stay in the legacy runs column",
            len(sids), _sql(connection, sa.select(t).where(t.c.session_id.in_(sids[:LISTED])).order_by(t.c.session_id)),
            "", "give the runs of one of the sessions new run ids in its runs list, or accept that only the first "
            "session's entry reaches the runs table (the legacy column is kept while it holds data)", False,
        ))
    if not_lists:
        out.append(Finding(
            "legacy_runs_json", sessions.name,
            f"{len(not_lists)} session(s) whose runs value is not a JSON list: the copy skips them, as Agno does",
            len(not_lists),
            _sql(connection, sa.select(t).where(t.c.session_id.in_(sorted(not_lists)[:LISTED]))
                 .order_by(t.c.session_id)),
            "", "repair those runs values (a JSON list of run objects) to have their runs copied", False,
        ))
    return out
