"""How long a step takes, per backend: measured per-row costs, turned into the time range ``plan`` shows.

A step's expected time is the sum over its statements of a fixed cost plus a per-row cost of the statement's kind
(an index build reads every row; a rewrite, a rebuild or a data statement reads and writes every row), with the
measured rate of the whole step where one was measured (the 3.0.0 sessions copy, whose cost is the runs in the
legacy lists, not the statements).  The range shown is a third of that to three times it: the figures were measured
on one machine (``benchmarks/plan_rates.py``, two cores, the local PostgreSQL 15 and MariaDB 10.11 with their
default settings, SQLite on a local disk; see docs/plan.md), and a production server is faster or slower by as
much.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from agno_alembic import registry

#: The range's width around the estimate: [estimate / SPREAD, estimate * SPREAD + SLACK].
SPREAD = 3.0
SLACK = 0.25


class _Statement(Protocol):
    @property
    def lock(self) -> object: ...


#: Calibrated last on 2026-12-07, 20:26-20:35, with ``benchmarks/plan_rates.py`` at 10,000 sessions on a quiet machine
#: (every step of both modes within its range; benchmarks/README.md), keeping the loaded runs before it in range.
#: Seconds per step whatever its size: what ``up()`` reads before and after it (adoption, positions, stamps).
STEP_FIXED: dict[str, float] = {
    registry.POSTGRESQL: 0.06,
    registry.MYSQL: 0.06,
    registry.SINGLESTORE: 0.06,
    registry.SQLITE: 0.02,
}
#: Seconds per statement (round trip, catalog work) and per row, by statement kind, per backend.
#: kind: "scan" (index build, key or NOT NULL validation), "rewrite" (table rewrite/rebuild/copy), "data" (DML).
FIXED: dict[str, float] = {
    registry.POSTGRESQL: 0.004,
    registry.MYSQL: 0.02,
    registry.SINGLESTORE: 0.02,
    registry.SQLITE: 0.002,
}
PER_ROW: dict[str, dict[str, float]] = {
    registry.POSTGRESQL: {"scan": 3.0e-6, "rewrite": 1.2e-5, "data": 2.5e-5},
    registry.MYSQL: {"scan": 5.0e-6, "rewrite": 2.5e-5, "data": 1.2e-5},
    registry.SINGLESTORE: {"scan": 5.0e-6, "rewrite": 2.5e-5, "data": 1.2e-5},
    registry.SQLITE: {"scan": 2.0e-6, "rewrite": 6.0e-6, "data": 1.0e-5},
}
#: Whole steps measured as such, seconds per row of the step's table: (backend, table type, version) -> rate.
#: sessions 3.0.0: per session, with 5 legacy runs of ~3.4 KB each (the sessions of benchmarks/runs_copy.py); measured
#: 2026-12-07 at 10,000 sessions: PostgreSQL 2.2 ms, MariaDB 3.3 ms, SQLite 0.4 (quiet machine, 20:26) to 0.8 ms
#: (loaded) per session.
STEP_PER_ROW: dict[tuple[str, str, str], float] = {
    (registry.POSTGRESQL, "sessions", "3.0.0"): 2.0e-3,
    (registry.MYSQL, "sessions", "3.0.0"): 3.0e-3,
    (registry.SINGLESTORE, "sessions", "3.0.0"): 3.0e-3,
    (registry.SQLITE, "sessions", "3.0.0"): 1.0e-3,
}


#: Online mode (the default), the same whole steps: the 3.0.0 copy in committed batches sized by time, its catch-up
#: pass and its check (``data.batched``), per session of the same database; measured 2026-12-07 with
#: ``benchmarks/plan_rates.py`` (online) at 10,000 sessions, no application traffic, first with the machine loaded
#: by a test run, then quiet: PostgreSQL 3.0 and 1.4 ms, MariaDB 6.8 and 3.8 ms, SQLite 5.0 and 0.8 ms per session
#: (benchmarks/README.md). SQLite again after the online copy's rework (the copy pauses only while another connection
#: writes): 0.46-0.60 ms on a quiet machine (20:25-20:26), against 1.8 ms loaded before it.
STEP_PER_ROW_ONLINE: dict[tuple[str, str, str], float] = {
    (registry.POSTGRESQL, "sessions", "3.0.0"): 1.6e-3,  # 0.72 ms quiet after the online copy's rework (20:28)
    (registry.MYSQL, "sessions", "3.0.0"): 5.0e-3,
    (registry.SINGLESTORE, "sessions", "3.0.0"): 5.0e-3,
    (registry.SQLITE, "sessions", "3.0.0"): 1.0e-3,  # 0.46 ms quiet to 1.8 ms loaded; 4-5 ms under a full test run
}


def _kind(lock: object) -> str | None:
    if lock is None:
        return None
    if getattr(lock, "operation", "") == "data":
        return "data"
    if getattr(lock, "rewrite", False) and getattr(lock, "scan", False):
        return "rewrite"
    if getattr(lock, "scan", False):
        return "scan"
    return None


def estimate(backend: str, table_type: str, version: str, rows: int, statements: Sequence[_Statement], *,
             online: bool = False) -> float:
    """The expected seconds of a step over a table of ``rows`` rows, in online or offline mode."""
    fixed = STEP_FIXED[backend] + FIXED[backend] * len(statements)
    whole = (STEP_PER_ROW_ONLINE if online else STEP_PER_ROW).get((backend, table_type, version))
    if whole is not None:
        return fixed + whole * rows
    per_row = PER_ROW[backend]
    return fixed + sum(per_row[k] * rows for s in statements if (k := _kind(s.lock)) is not None)


def expected_seconds(
    backend: str, table_type: str, version: str, rows: int, statements: Sequence[_Statement], *,
    online: bool = False,
) -> tuple[float, float]:
    """The time range ``plan`` shows for a step: ``(low, high)`` seconds."""
    est = estimate(backend, table_type, version, rows, statements, online=online)
    return (round(est / SPREAD, 3), round(est * SPREAD + SLACK, 3))
