"""sessions 2.5.0

PostgreSQL, MySQL, SingleStore:
- primary key (session_id)
- drop unique <table>_uq_session_id
Refused, with examples, while any session_id is NULL or shared by several rows.
"""

from agno_alembic import data, ops

revision = "agno_sessions_2_5_0"
down_revision = 'agno_sessions_2_3_0'
branch_labels = None
depends_on = None
agno_table_type = "sessions"
agno_version = "2.5.0"


def upgrade() -> None:
    ops.evolve("sessions", "2.3.0", "2.5.0", before=data.checks.unique_session_ids)


def downgrade() -> None:
    ops.evolve("sessions", "2.5.0", "2.3.0")
