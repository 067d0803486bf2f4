"""schedules 2.5.0: create agno_schedules as Agno 2.5.0 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_schedules_2_5_0"
down_revision = None
branch_labels = ('agno_schedules',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "schedules"
agno_version = "2.5.0"


def upgrade() -> None:
    ops.create_table("schedules", "2.5.0")


def downgrade() -> None:
    ops.drop_table("schedules", "2.5.0")
