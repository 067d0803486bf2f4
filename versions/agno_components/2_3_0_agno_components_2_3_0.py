"""components 2.3.0: create agno_components as Agno 2.3.0 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_components_2_3_0"
down_revision = None
branch_labels = ('agno_components',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "components"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.create_table("components", "2.3.0")


def downgrade() -> None:
    ops.drop_table("components", "2.3.0")
