"""Alembic's entry point for agno-alembic's revisions; the work is in :mod:`agno_alembic.environment`."""

from alembic import context

from agno_alembic import environment

environment.run(context)
