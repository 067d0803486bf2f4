"""tool_results 3.0.0: create agno_tool_results as Agno 3.0.0 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_tool_results_3_0_0"
down_revision = None
branch_labels = ('agno_tool_results',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "tool_results"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.create_table("tool_results", "3.0.0")


def downgrade() -> None:
    ops.drop_table("tool_results", "3.0.0")
