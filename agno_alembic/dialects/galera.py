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
from typing import TypeVar

import sqlalchemy as sa

log = logging.getLogger("agno_alembic")

__all__ = ["CONFLICT_ERRORS", "NodeState", "is_conflict", "node_state", "retry_conflicts"]

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


def _rows(connection: sa.Connection, sql: str) -> dict[str, str]:
    return {str(k).lower(): "" if v is None else str(v) for k, v in connection.exec_driver_sql(sql).all()}


def node_state(connection: sa.Connection) -> NodeState | None:
    """The Galera state of the node ``connection`` is on, or ``None`` when it is not a Galera node.

    Ends the transaction it began (a caller's own transaction is left alone).
    """
    began = not connection.in_transaction()
    try:
        variables = _rows(connection, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_node_name')")
        if variables.get("wsrep_on", "OFF").upper() != "ON":
            return None
        status = _rows(connection, "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size', "
                                   "'wsrep_cluster_status', 'wsrep_ready', 'wsrep_local_state_comment')")
    finally:
        if began and connection.in_transaction():
            connection.rollback()
    if not status:  # wsrep_on without a provider: a single server
        return None
    try:
        size = int(status.get("wsrep_cluster_size") or 0)
    except ValueError:
        size = 0
    return NodeState(size, status.get("wsrep_cluster_status", ""), status.get("wsrep_ready", "").upper() == "ON",
                     status.get("wsrep_local_state_comment", ""), variables.get("wsrep_node_name", ""))


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a certification conflict (or deadlock) that rolled its transaction back: retry it."""
    orig = getattr(exc, "orig", exc)
    args = getattr(orig, "args", ())
    return bool(args) and isinstance(args[0], int) and args[0] in CONFLICT_ERRORS


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
