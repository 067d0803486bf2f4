"""jobs 3.0.0: create agno_jobs as Agno 3.0.0 creates it (PostgreSQL)
"""

from agno_alembic import ops

revision = "agno_jobs_3_0_0"
down_revision = None
branch_labels = ('agno_jobs',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "jobs"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.create_table("jobs", "3.0.0")


def downgrade() -> None:
    ops.drop_table("jobs", "3.0.0")
