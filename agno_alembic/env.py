"""Alembic's entry point for agno-alembic's revisions; the work is in :mod:`agno_alembic.environment`.

:mod:`agno_alembic.guard` first catches what Alembic reports poorly (a plain ``head``, version rows no version
location provides) and gives ``alembic check`` Agno's tables to compare; under ``alembic``'s command line it applies
the ini's logging sections and reports a failure as one ``FAILED:`` line with agno-alembic's exit code.
"""

from alembic import context

from agno_alembic import environment, guard

guard.configure_logging(context.config)
with guard.command_line_errors(context):
    guard.install(context, own_environment=True)
    # alembic.context is a module standing in for the running EnvironmentContext (it forwards every call)
    environment.run(context)  # type: ignore[arg-type]
