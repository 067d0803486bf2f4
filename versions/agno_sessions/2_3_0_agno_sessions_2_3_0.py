"""sessions 2.3.0

PostgreSQL:
- session_data: JSON -> JSONB
- agent_data: JSON -> JSONB
- team_data: JSON -> JSONB
- workflow_data: JSON -> JSONB
- metadata: JSON -> JSONB
- runs: JSON -> JSONB
- summary: JSON -> JSONB
"""

from agno_alembic import ops

revision = "agno_sessions_2_3_0"
down_revision = 'agno_sessions_2_0_0'
branch_labels = None
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "sessions"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.evolve("sessions", "2.0.0", "2.3.0")


def downgrade() -> None:
    ops.evolve("sessions", "2.3.0", "2.0.0")
