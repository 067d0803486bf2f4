"""metrics 2.0.0: create agno_metrics as Agno 2.0.0 creates it (PostgreSQL, SQLite, MySQL, SingleStore)
"""

from agno_alembic import ops

revision = "agno_metrics_2_0_0"
down_revision = None
branch_labels = ('agno_metrics',)
depends_on = None
agno_table_type = "metrics"
agno_version = "2.0.0"


def upgrade() -> None:
    ops.create_table("metrics", "2.0.0")


def downgrade() -> None:
    ops.drop_table("metrics", "2.0.0")
