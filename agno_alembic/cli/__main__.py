"""``python -m agno_alembic.cli``: the ``agno-alembic`` command."""

from agno_alembic.cli import main

main()
