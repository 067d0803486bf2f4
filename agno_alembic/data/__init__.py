"""Data steps: how existing rows get values when a step adds a NOT NULL column, and similar rules.

Each fill is an SQL expression over the table being migrated, so the work stays in the database.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from agno_alembic.data import checks, learnings, runs

__all__ = ["NO_RUNS", "checks", "learnings", "runs", "unowned", "updated_at_or_now"]


def updated_at_or_now(table: sa.TableClause) -> sa.ColumnElement[Any]:
    """Agno 2.3.0's ``created_at`` backfill for memories: ``COALESCE(updated_at, <migration time>)``."""
    return sa.func.coalesce(table.c.updated_at, sa.literal(int(time.time()), sa.BigInteger()))


def unowned(table: sa.TableClause) -> sa.ColumnElement[Any]:
    """Agno 3.0.0's ``user_id`` for metrics rows that belong to no user: the empty string."""
    return sa.literal("", sa.String())


#: The legacy ``sessions.runs`` values that hold no run: SQL NULL, JSON ``null`` and ``[]`` (compared as text).
NO_RUNS = {"runs": ("null", "[]")}
