"""memories 2.0.0: create agno_memories as Agno 2.0.0 creates it (PostgreSQL, SQLite, MySQL, SingleStore)
"""

from agno_alembic import ops

revision = "agno_memories_2_0_0"
down_revision = None
branch_labels = ('agno_memories',)
depends_on = None
agno_table_type = "memories"
agno_version = "2.0.0"


def upgrade() -> None:
    ops.create_table("memories", "2.0.0")


def downgrade() -> None:
    ops.drop_table("memories", "2.0.0")
