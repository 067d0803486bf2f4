"""sessions 2.5.0

PostgreSQL, MySQL, SingleStore:
- primary key (session_id)
- drop unique <table>_uq_session_id
"""

from agno_alembic import ops

revision = "agno_sessions_2_5_0"
down_revision = 'agno_sessions_2_3_0'
branch_labels = None
depends_on = None
agno_table_type = "sessions"
agno_version = "2.5.0"


def upgrade() -> None:
    ops.evolve("sessions", "2.3.0", "2.5.0")


def downgrade() -> None:
    ops.evolve("sessions", "2.5.0", "2.3.0")
