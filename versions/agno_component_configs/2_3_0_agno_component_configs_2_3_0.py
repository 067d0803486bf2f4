"""component_configs 2.3.0: create agno_component_configs as Agno 2.3.0 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_component_configs_2_3_0"
down_revision = None
branch_labels = ('agno_component_configs',)
depends_on = ('agno_components_2_3_0', 'agno_versions_2_3_0')
agno_table_type = "component_configs"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.create_table("component_configs", "2.3.0")


def downgrade() -> None:
    ops.drop_table("component_configs", "2.3.0")
