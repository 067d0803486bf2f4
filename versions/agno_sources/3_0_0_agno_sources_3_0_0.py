"""sources 3.0.0: create agno_company_sources as Agno 3.0.0 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_sources_3_0_0"
down_revision = None
branch_labels = ('agno_sources',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "sources"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.create_table("sources", "3.0.0")


def downgrade() -> None:
    ops.drop_table("sources", "3.0.0")
