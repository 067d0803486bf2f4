"""Step tracking where DDL commits by itself: which step is running and which of its statements committed.

On MySQL, MariaDB and SingleStore every DDL statement commits, so a failing step may leave part of itself behind.
:class:`StepTracker` records which step is running and which of its statements have committed; a failure after
something committed is raised as :class:`~agno_alembic.errors.PartiallyAppliedError` naming the step and those
statements.  Every step is written so that running it again from where it stopped completes it (``ops`` skips what
is already there).  :func:`agno_alembic.environment.run` puts a tracker around each run on such a backend (and
around every online run, whose statements commit one by one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from agno_alembic.errors import PartiallyAppliedError

__all__ = ["StepTracker", "step_name"]

_DDL = ("CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE")
_READ = ("SELECT", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "PRAGMA", "WITH")


def _verb(statement: str) -> str:
    text = statement.lstrip().lstrip("(").lstrip()
    return text.split(None, 1)[0].upper() if text else ""


def _commits(statement: str) -> bool:
    """Whether a statement commits by itself on MySQL: DDL, but not on a temporary table (a copy's stage)."""
    words = statement.split(None, 2)
    return _verb(statement) in _DDL and not (len(words) > 1 and words[1].upper() == "TEMPORARY")


def step_name(step: Any) -> str:
    """``upgrade agno_metrics_3_0_0`` / ``downgrade agno_metrics_3_0_0`` / Alembic's own text for others."""
    revision = getattr(getattr(step, "revision", None), "revision", None)
    if revision is None:
        return str(step)
    return f"{'upgrade' if getattr(step, 'is_upgrade', True) else 'downgrade'} {revision}"


class StepTracker:
    """Knows the step in progress and what of it has committed, on a backend without transactional DDL.

    :meth:`wrap` goes around the command's work function (``fn``), :meth:`after_step` is an ``on_version_apply``
    hook, :meth:`watching` goes around ``run_migrations()``.
    """

    def __init__(self, connection: sa.Connection, backend: str) -> None:
        self.connection = connection
        self.backend = backend
        self.step: Any = None
        self.statements: list[str] = []

    def wrap(self, fn: Callable[..., Iterable[Any]] | None) -> Callable[..., Iterable[Any]] | None:
        if fn is None:
            return None

        def steps(heads: Any, context: Any) -> Iterator[Any]:
            for step in fn(heads, context):
                self.step, self.statements = step, []
                yield step
            self.step = None

        return steps

    def after_step(self, **_: Any) -> None:
        """``on_version_apply``: the step ran to its end (its version row and stamps follow in its transaction)."""
        self.step, self.statements = None, []

    def _executed(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.step is not None:
            self.statements.append(statement)

    def committed(self) -> list[str]:
        """Statements of the current step that are committed: everything up to its last DDL, reads left out."""
        last = max((i for i, s in enumerate(self.statements) if _commits(s)), default=-1)
        return [" ".join(s.split()) for s in self.statements[: last + 1] if _verb(s) not in _READ]

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        sa.event.listen(self.connection, "after_cursor_execute", self._executed)
        try:
            yield
        except Exception as exc:
            committed = self.committed() if self.step is not None else []
            if not committed:
                raise
            step = step_name(self.step)
            shown = "\n".join(f"  {i}. {s[:300]}" for i, s in enumerate(committed, 1))
            raise PartiallyAppliedError(
                f"Step {step} failed on {self.backend} after {len(committed)} statement(s) of it had committed "
                f"(DDL commits by itself here):\n{shown}\nThe step is not recorded as applied. Fix the cause and "
                f"run the migration again: the step resumes from where it stopped. Cause: {exc}",
                step=step, committed=committed, backend=self.backend,
            ) from exc
        finally:
            sa.event.remove(self.connection, "after_cursor_execute", self._executed)
