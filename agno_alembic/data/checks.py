"""Data rules that decide whether a step may run, or that a step applies to existing rows besides its DDL.

Each function takes the live connection and the table as it is before the step.
"""

from __future__ import annotations

import logging

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
