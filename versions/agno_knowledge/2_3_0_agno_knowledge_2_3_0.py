"""knowledge 2.3.0

PostgreSQL:
- description: VARCHAR -> TEXT
- metadata: JSON -> JSONB
- status_message: VARCHAR -> TEXT
"""

from agno_alembic import ops

revision = "agno_knowledge_2_3_0"
down_revision = 'agno_knowledge_2_0_0'
branch_labels = None
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "knowledge"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.evolve("knowledge", "2.0.0", "2.3.0")


def downgrade() -> None:
    ops.evolve("knowledge", "2.3.0", "2.0.0")
