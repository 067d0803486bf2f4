"""metrics 2.3.0

PostgreSQL:
- token_metrics: JSON -> JSONB
- model_metrics: JSON -> JSONB
"""

from agno_alembic import ops

revision = "agno_metrics_2_3_0"
down_revision = 'agno_metrics_2_0_0'
branch_labels = None
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "metrics"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.evolve("metrics", "2.0.0", "2.3.0")


def downgrade() -> None:
    ops.evolve("metrics", "2.3.0", "2.0.0")
