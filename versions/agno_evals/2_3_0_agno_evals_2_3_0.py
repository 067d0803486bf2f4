"""evals 2.3.0

PostgreSQL:
- eval_data: JSON -> JSONB
- eval_input: JSON -> JSONB
"""

from agno_alembic import ops

revision = "agno_evals_2_3_0"
down_revision = 'agno_evals_2_0_0'
branch_labels = None
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "evals"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.evolve("evals", "2.0.0", "2.3.0")


def downgrade() -> None:
    ops.evolve("evals", "2.3.0", "2.0.0")
