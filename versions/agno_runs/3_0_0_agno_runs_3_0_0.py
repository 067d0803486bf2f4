"""runs 3.0.0: create agno_runs as Agno 3.0.0 creates it (PostgreSQL, SQLite, MySQL, SingleStore)

Downgrade: dropped once every row is back in its session's legacy runs list (the sessions 3.0.0 downgrade,
which depends on this revision, runs first and puts them there); refused while any row would be lost.
"""

from agno_alembic import ops

revision = "agno_runs_3_0_0"
down_revision = None
branch_labels = ('agno_runs',)
depends_on = ('agno_sessions_2_5_6', 'agno_versions_2_3_0')
agno_table_type = "runs"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.create_table("runs", "3.0.0")


def downgrade() -> None:
    ops.drop_table("runs", "3.0.0", lost=ops.runs_not_in_sessions)
