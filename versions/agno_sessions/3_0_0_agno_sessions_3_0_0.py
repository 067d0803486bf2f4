"""sessions 3.0.0

PostgreSQL, SQLite, MySQL, SingleStore:
- drop column runs
"""

from agno_alembic import data, ops

revision = "agno_sessions_3_0_0"
down_revision = 'agno_sessions_2_5_6'
branch_labels = None
depends_on = ('agno_runs_3_0_0',)
agno_table_type = "sessions"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.evolve("sessions", "2.5.0", "3.0.0", keep_if_populated={"runs"}, empty=data.NO_RUNS)


def downgrade() -> None:
    ops.evolve("sessions", "3.0.0", "2.5.0")
