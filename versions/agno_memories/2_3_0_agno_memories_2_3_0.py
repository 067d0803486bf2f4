"""memories 2.3.0

PostgreSQL:
- add column feedback
- add column created_at NOT NULL
- memory: JSON -> JSONB
- input: VARCHAR -> TEXT
- topics: JSON -> JSONB
- add index idx_<table>_created_at
SQLite, MySQL, SingleStore:
- add column feedback
- add column created_at NOT NULL
- add index idx_<table>_created_at
"""

from agno_alembic import data, ops

revision = "agno_memories_2_3_0"
down_revision = 'agno_memories_2_0_0'
branch_labels = None
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "memories"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.evolve("memories", "2.0.0", "2.3.0", fill={"created_at": data.updated_at_or_now})


def downgrade() -> None:
    ops.evolve("memories", "2.3.0", "2.0.0")
