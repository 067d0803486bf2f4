"""Alembic's entry point for agno-alembic's revisions; the work is in :mod:`agno_alembic.environment`.

:mod:`agno_alembic.guard` first catches what Alembic reports poorly (a plain ``head``, version rows no version
location provides) and gives ``alembic check`` Agno's tables to compare.
"""

from alembic import context

from agno_alembic import environment, guard

with guard.command_line_errors(context):
    guard.install(context, own_environment=True)
    environment.run(context)
