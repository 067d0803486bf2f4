"""tasks 3.0.0: create agno_company_tasks as Agno 3.0.0 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_tasks_3_0_0"
down_revision = None
branch_labels = ('agno_tasks',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "tasks"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.create_table("tasks", "3.0.0")


def downgrade() -> None:
    ops.drop_table("tasks", "3.0.0")
