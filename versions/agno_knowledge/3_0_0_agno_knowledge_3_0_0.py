"""knowledge 3.0.0

PostgreSQL, SQLite:
- add column user_id
- add index idx_<table>_user_id
- add index idx_<table>_user_id_linked_to
MySQL, SingleStore:
- add column user_id
- add index idx_<table>_user_id
"""

from agno_alembic import ops

revision = "agno_knowledge_3_0_0"
down_revision = 'agno_knowledge_2_3_0'
branch_labels = None
depends_on = None
agno_table_type = "knowledge"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.evolve("knowledge", "2.3.0", "3.0.0")


def downgrade() -> None:
    ops.evolve("knowledge", "3.0.0", "2.3.0")
