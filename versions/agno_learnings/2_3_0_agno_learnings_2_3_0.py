"""learnings 2.3.0: create agno_learnings as Agno 2.3.0 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_learnings_2_3_0"
down_revision = None
branch_labels = ('agno_learnings',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "learnings"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.create_table("learnings", "2.3.0")


def downgrade() -> None:
    ops.drop_table("learnings", "2.3.0")
