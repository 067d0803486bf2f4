"""knowledge 2.0.0: create agno_knowledge as Agno 2.0.0 creates it (PostgreSQL, SQLite, MySQL, SingleStore)
"""

from agno_alembic import ops

revision = "agno_knowledge_2_0_0"
down_revision = None
branch_labels = ('agno_knowledge',)
depends_on = None
agno_table_type = "knowledge"
agno_version = "2.0.0"


def upgrade() -> None:
    ops.create_table("knowledge", "2.0.0")


def downgrade() -> None:
    ops.drop_table("knowledge", "2.0.0")
