"""versions 2.3.0: create agno_schema_versions as Agno 2.3.0 creates it (PostgreSQL, SQLite, MySQL, SingleStore)
"""

from agno_alembic import ops

revision = "agno_versions_2_3_0"
down_revision = None
branch_labels = ('agno_versions',)
depends_on = None
agno_table_type = "versions"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.create_table("versions", "2.3.0")


def downgrade() -> None:
    ops.drop_table("versions", "2.3.0")
