"""What a running migration knows about itself: names, backend, target, options.

``env.py`` puts one :class:`RunState` into the migration context; the operations and the stamp hook read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import op
from alembic.runtime.migration import MigrationContext

from agno_alembic.naming import Names

RUN_STATE_KEY = "agno_run_state"


@dataclass(frozen=True)
class RunState:
    names: Names
    backend: str
    target_version: str | None = None
    """The schema version the caller asked for; stamps use it when given."""
    allow_data_loss: bool = False
    """Lets a downgrade drop columns or tables that hold data."""
    offline: bool = False
    stamp_tables: frozenset[str] | None = None
    online: bool = True
    """Live-application mode (:mod:`agno_alembic.online`): each DDL statement in a short transaction of its own
    with a bounded lock wait, retried until ``ddl_deadline``; data steps in committed batches.  ``False``: the
    maintenance-window path (one transaction per step).  Not to be confused with ``offline`` (``--sql``)."""
    ddl_lock_wait: float = 0.05
    """Seconds one DDL try may wait for its lock before it gives up and retries (server-side bound)."""
    ddl_deadline: float = 300.0
    """Seconds a DDL statement keeps retrying before :class:`agno_alembic.errors.DDLLockTimeoutError`."""
    allow_rewrite: bool = False
    """Online: accept a step that rewrites a populated table under an exclusive lock (PostgreSQL JSON to JSONB)."""

    @property
    def live(self) -> bool:
        """Online mode on a live connection (not a ``--sql`` script)."""
        return self.online and not self.offline
    """When set, an ``alembic stamp`` writes ``agno_schema_versions`` rows only for these table types."""


def state(context: MigrationContext | None = None) -> RunState:
    """The run state of the migration in progress."""
    ctx = context or op.get_context()
    try:
        found: RunState = ctx.opts[RUN_STATE_KEY]
        return found
    except KeyError:
        raise RuntimeError(
            "agno-alembic operations need agno-alembic's env.py (or agno_alembic.host.configure in yours)"
        ) from None
