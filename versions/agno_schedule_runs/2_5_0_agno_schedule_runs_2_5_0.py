"""schedule_runs 2.5.0: create agno_schedule_runs as Agno 2.5.0 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_schedule_runs_2_5_0"
down_revision = None
branch_labels = ('agno_schedule_runs',)
depends_on = ('agno_schedules_2_5_0', 'agno_versions_2_3_0')
agno_table_type = "schedule_runs"
agno_version = "2.5.0"


def upgrade() -> None:
    ops.create_table("schedule_runs", "2.5.0")


def downgrade() -> None:
    ops.drop_table("schedule_runs", "2.5.0")
