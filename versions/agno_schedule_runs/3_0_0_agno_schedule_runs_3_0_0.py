"""schedule_runs 3.0.0

PostgreSQL, SQLite:
- add column user_id
- add index idx_<table>_user_id
"""

from agno_alembic import ops

revision = "agno_schedule_runs_3_0_0"
down_revision = 'agno_schedule_runs_2_5_0'
branch_labels = None
depends_on = None
agno_table_type = "schedule_runs"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.evolve("schedule_runs", "2.5.0", "3.0.0")


def downgrade() -> None:
    ops.evolve("schedule_runs", "3.0.0", "2.5.0")
