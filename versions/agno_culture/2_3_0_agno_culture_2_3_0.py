"""culture 2.3.0

PostgreSQL:
- summary: VARCHAR -> TEXT
- input: VARCHAR -> TEXT
"""

from agno_alembic import ops

revision = "agno_culture_2_3_0"
down_revision = 'agno_culture_2_0_0'
branch_labels = None
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "culture"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.evolve("culture", "2.0.0", "2.3.0")


def downgrade() -> None:
    ops.evolve("culture", "2.3.0", "2.0.0")
