"""The ``agno-alembic`` command: every ``alembic`` verb, plus the facade's ``up``, ``down``, ``status``, ``adopt``,
``import-v1``, ``contract``, ``break-lock``, ``plan`` and ``verify``.

Built on Alembic's own :class:`alembic.config.CommandLine`, so ``agno-alembic upgrade heads``, ``history``,
``current``, ``check``... behave as ``alembic`` does: with ``alembic.ini`` (or ``-c``) when there is one, otherwise
with agno-alembic's own environment and revisions from the installed package (no ini needed).

Where a verb's code is (its arguments are declared beside it, as a :class:`~agno_alembic.cli.options.Verb`):

=================================  ==================================================================================
``up``, ``down``, ``contract``     :mod:`agno_alembic.cli.migrate` (``--sql``: :mod:`agno_alembic.cli.offline_sql`)
``status``                         :mod:`agno_alembic.cli.status`
``adopt``, ``import-v1``           :mod:`agno_alembic.cli.adopt` (``adopt --sql``: :mod:`agno_alembic.cli.offline_sql`)
``plan``, ``verify``               :mod:`agno_alembic.cli.plan_verify`
``break-lock``                     :mod:`agno_alembic.cli.break_lock`
Alembic's verbs, the verb table    :mod:`agno_alembic.cli.commandline`
=================================  ==================================================================================

Shared by the verbs: :mod:`~agno_alembic.cli.options` (database, table selection, ``-x``, the manager) and
:mod:`~agno_alembic.cli.progress` (progress lines on stderr).  Exit codes (0 ok, 1 pending, 2 usage, 3 refused,
4 failed, 5 lock) are :mod:`agno_alembic.exits`', shared with ``alembic`` running our environment (:mod:`guard`).
"""

from agno_alembic.cli.commandline import CommandLine, main
from agno_alembic.exits import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PENDING,
    EXIT_REFUSED,
    EXIT_USAGE,
    error_message,
    exit_code,
)

__all__ = [
    "EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_PENDING", "EXIT_REFUSED", "EXIT_USAGE", "CommandLine",
    "error_message", "exit_code", "main",
]
