"""Online: a new NOT NULL column's value for the existing rows, written in committed batches.

The column is added nullable first (:func:`agno_alembic.ops._add_column`); this fills it walking the primary key
in batches sized by time (:class:`agno_alembic.data.batched._Sizer`, about 100 ms each), each batch one short
transaction, retried like the runs copy's batches when it meets the application's lock or a Galera conflict.
Only rows still ``NULL`` are written, so the NULLs are the bookkeeping: after a crash (``kill -9`` included) the
next ``up()`` finds the column present and nullable, and fills what is left.  Each batch also records where the walk
is in the step's progress row (:data:`agno_alembic.data.batched.PROGRESS_TABLE`, in the batch's transaction):
``status`` shows the fill in progress (``<table>.<column> fill: <done>/<total> rows filled``) and the next ``up()``
resumes the walk there.  A last pass fills the rows the application inserted behind the walk; then the column is
made NOT NULL.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from agno_alembic.data import batched
from agno_alembic.shapes._dsl import TableSpec

log = logging.getLogger("agno_alembic")

LAST_PASSES = 3
"""Passes over the rows still NULL after the walk (the application's inserts meanwhile) before giving up."""


POSITION_LENGTH = 255
"""The longest key the progress row records (its ``position`` column: the key's values as a JSON list)."""


def fill_column(connection: sa.Connection, backend: str, spec: TableSpec, name: str,
                fill: Callable[[sa.TableClause], sa.ColumnElement[Any]]) -> int:
    """Set ``name`` to ``fill`` on every row where it is NULL, in committed batches; returns the rows written."""
    t = sa.table(spec.name, *(sa.column(c) for c in spec.columns), schema=spec.schema)
    key = [t.c[c] for c in spec.primary_key]
    value = fill(t)  # once: a value computed at migration time is the same in every batch
    sizer = batched._Sizer(backend, batched._limit(connection, backend), seconds=batched.BATCH_SECONDS)
    step = f"{spec.name}.{name} {batched.FILL}"
    progress = batched.progress_table(spec.schema)
    written, began = 0, time.monotonic()

    def start() -> batched.Progress:
        total = int(connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
        return batched.begin_progress(connection, progress, step, total)

    def after(last: tuple[Any, ...]) -> sa.ColumnElement[Any]:
        return key[0] > last[0] if len(key) == 1 else sa.tuple_(*key) > sa.tuple_(*last)

    def batch(last: tuple[Any, ...] | None, size: int, done: int,
              total: int) -> tuple[tuple[Any, ...] | None, int, int]:
        query = sa.select(*key).order_by(*key).limit(size)
        if last is not None:
            query = query.where(after(last))
        keys = [tuple(r) for r in connection.execute(query)]
        count = 0
        if keys:
            upto = key[0] <= keys[-1][0] if len(key) == 1 else sa.tuple_(*key) <= sa.tuple_(*keys[-1])
            where = [upto, t.c[name].is_(None)]
            if last is not None:
                where.append(after(last))
            count = connection.execute(t.update().where(*where).values({name: value})).rowcount or 0
            record: dict[str, Any] = {"done": done + len(keys), "total": max(total, done + len(keys)),
                                      "updated_at": int(time.time())}
            position = json.dumps(list(keys[-1]), ensure_ascii=False)
            if len(position) <= POSITION_LENGTH:  # else the last one that fitted: a resumed walk starts earlier
                record["position"] = position
            connection.execute(progress.update().where(progress.c.step == step).values(**record))
        batched._commit(connection)
        return (keys[-1] if keys else None), count, len(keys)

    batched.ensure_progress_table(connection, spec.schema)
    found = batched._retrying(connection, backend, start)
    # resumed: the rows up to the recorded key were filled with it (a batch and its record commit together)
    last: tuple[Any, ...] | None = tuple(json.loads(found.position)) if found.position else None
    done = found.done
    while True:
        with sizer.timing():
            upto, count, walked = batched._retrying(connection, backend, lambda a=last, n=sizer.size, d=done: batch(
                a, n, d, found.total))
        if upto is None:
            break
        last, written, done = upto, written + count, done + walked
    for _ in range(LAST_PASSES):  # rows the application inserted behind the walk
        count = batched._retrying(connection, backend, lambda: _rest(connection, t, name, value))
        written += count
        if not count:
            break
    batched._retrying(connection, backend, lambda: batched.end_progress(connection, progress, step))
    log.info("%s: filled %s on %d row(s) in committed batches (%.1fs)", spec.name, name, written,
             time.monotonic() - began)
    return written


def _rest(connection: sa.Connection, t: sa.TableClause, name: str, value: sa.ColumnElement[Any]) -> int:
    count = connection.execute(t.update().where(t.c[name].is_(None)).values({name: value})).rowcount or 0
    batched._commit(connection)
    return count
