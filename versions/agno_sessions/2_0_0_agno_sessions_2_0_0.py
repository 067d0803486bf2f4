"""sessions 2.0.0: create agno_sessions as Agno 2.0.0 creates it (PostgreSQL, SQLite, MySQL, SingleStore)
"""

from agno_alembic import ops

revision = "agno_sessions_2_0_0"
down_revision = None
branch_labels = ('agno_sessions',)
depends_on = None
agno_table_type = "sessions"
agno_version = "2.0.0"


def upgrade() -> None:
    ops.create_table("sessions", "2.0.0")


def downgrade() -> None:
    ops.drop_table("sessions", "2.0.0")
