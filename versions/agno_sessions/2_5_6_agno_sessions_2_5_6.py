"""sessions 2.5.6

SingleStore:
- drop unique uq_session_type (Agno's SingleStore sessions lose it within schema 2.5.6, from agno 2.6.0)
PostgreSQL, SQLite, MySQL: nothing changes.
"""

from agno_alembic import ops

revision = "agno_sessions_2_5_6"
down_revision = "agno_sessions_2_5_0"
branch_labels = None
depends_on = None
agno_table_type = "sessions"
agno_version = "2.5.6"


def upgrade() -> None:
    ops.evolve("sessions", "2.5.0", "2.5.6")


def downgrade() -> None:
    ops.evolve("sessions", "2.5.6", "2.5.0")
