"""MariaDB Galera Cluster and Percona XtraDB Cluster (Galera): detection, node state, conflict retries.

A Galera cluster speaks MySQL, so agno-alembic sees the ``mysql`` backend; what differs is decided here:

* :func:`node_state` tells a Galera node (``wsrep_on`` and a provider loaded) from a single server, with the
  node's view of the cluster (size, primary component, ready).  The migration lock reads it: on a cluster
  ``GET_LOCK`` is local to one node, so :mod:`agno_alembic.lock` takes a replicated lock row instead.
* :func:`is_conflict` / :func:`retry_conflicts`: a write that conflicts with one committed on another node fails
  at commit with error 1213 (a certification failure, reported as a deadlock) instead of waiting; the whole
  transaction is rolled back, so a batch is retried as a whole, in a transaction of its own.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

log = logging.getLogger("agno_alembic")

__all__ = ["CONFLICT_ERRORS", "NOT_READY_ERRORS", "NodeState", "is_conflict", "is_not_ready", "node_state",
           "retry_conflicts"]

CONFLICT_ERRORS = frozenset({1213})
"""MySQL error codes of a Galera certification failure (and of a local deadlock: both are safe to retry)."""

T = TypeVar("T")


@dataclass(frozen=True)
class NodeState:
    """One Galera node's view of its cluster (``SHOW GLOBAL STATUS LIKE 'wsrep_%'``)."""

    cluster_size: int
    cluster_status: str
    """``Primary`` in the primary component; ``non-Primary`` / ``Disconnected`` outside it."""
    ready: bool
    """``wsrep_ready``: the node accepts queries."""
    local_state: str
    """``Synced``, ``Donor/Desynced``, ``Joining``..."""
    node_name: str = ""

    @property
    def primary(self) -> bool:
        """The node belongs to the primary component and accepts writes."""
        return self.cluster_status == "Primary" and self.ready

    def __str__(self) -> str:
        name = f"node {self.node_name!r}" if self.node_name else "this node"
        return (f"{name}: wsrep_cluster_status={self.cluster_status}, wsrep_ready={'ON' if self.ready else 'OFF'}, "
                f"wsrep_cluster_size={self.cluster_size}, wsrep_local_state_comment={self.local_state}")


NOT_READY_ERRORS = frozenset({1047})
"""``WSREP has not yet prepared node for application use``: the node is outside the primary component."""


def _rows(cursor: Any, sql: str) -> dict[str, str]:
    cursor.execute(sql)
    return {str(k).lower(): "" if v is None else str(v) for k, v in cursor.fetchall()}


def node_state(connection: sa.Connection) -> NodeState | None:
    """The Galera state of the node ``connection`` is on, or ``None`` when it is not a Galera node.

    Reads through the driver's own cursor: no transaction is begun or ended (a node outside the primary component
    answers ``SHOW`` but refuses even a ``ROLLBACK``).
    """
    cursor = connection.connection.cursor()
    try:
        variables = _rows(cursor, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_node_name')")
        if variables.get("wsrep_on", "OFF").upper() != "ON":
            return None
        status = _rows(cursor, "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size', "
                               "'wsrep_cluster_status', 'wsrep_ready', 'wsrep_local_state_comment')")
    finally:
        cursor.close()
    if not status:  # wsrep_on without a provider: a single server
        return None
    try:
        size = int(status.get("wsrep_cluster_size") or 0)
    except ValueError:
        size = 0
    return NodeState(size, status.get("wsrep_cluster_status", ""), status.get("wsrep_ready", "").upper() == "ON",
                     status.get("wsrep_local_state_comment", ""), variables.get("wsrep_node_name", ""))


def _code(exc: BaseException) -> int | None:
    args = getattr(getattr(exc, "orig", exc), "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def is_not_ready(exc: BaseException) -> bool:
    """Whether ``exc`` is the refusal of a node outside the primary component (error 1047)."""
    return _code(exc) in NOT_READY_ERRORS


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a certification conflict (or deadlock) that rolled its transaction back: retry it."""
    return _code(exc) in CONFLICT_ERRORS


def retry_conflicts(connection: sa.Connection, batch: Callable[[], T], *, attempts: int = 8,
                    what: str = "a batch") -> T:
    """Run ``batch`` in a transaction of its own on ``connection`` and commit it; retry it after a conflict.

    On a Galera cluster a write conflicting with one committed on another node fails at commit (error 1213) and
    the whole transaction is rolled back: ``batch`` must therefore be one committed unit that can run again from
    its start (a data step's batch is).  Retries up to ``attempts`` times with jittered backoff, then raises the
    last conflict.  Inside a transaction the caller already began nothing can be retried alone: ``batch`` just
    runs there.
    """
    if connection.in_transaction():
        return batch()
    delay = 0.05
    for attempt in range(1, attempts + 1):
        try:
            with connection.begin():
                result = batch()
        except sa.exc.DBAPIError as exc:
            if not is_conflict(exc) or attempt == attempts:
                raise
            log.warning("%s conflicted with a write committed on another node (attempt %d of %d), retrying: %s",
                        what.capitalize(), attempt, attempts, getattr(exc, "orig", exc))
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 2.0)
            continue
        return result
    raise AssertionError("unreachable")  # pragma: no cover
