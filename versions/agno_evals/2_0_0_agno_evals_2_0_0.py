"""evals 2.0.0: create agno_eval_runs as Agno 2.0.0 creates it (PostgreSQL, SQLite, MySQL, SingleStore)
"""

from agno_alembic import ops

revision = "agno_evals_2_0_0"
down_revision = None
branch_labels = ('agno_evals',)
depends_on = None
agno_table_type = "evals"
agno_version = "2.0.0"


def upgrade() -> None:
    ops.create_table("evals", "2.0.0")


def downgrade() -> None:
    ops.drop_table("evals", "2.0.0")
