"""component_configs 2.5.0

SQLite:
- primary key (component_id, version)
- drop unique <table>_uq_config_component_version
"""

from agno_alembic import ops

revision = "agno_component_configs_2_5_0"
down_revision = 'agno_component_configs_2_3_0'
branch_labels = None
depends_on = None
agno_table_type = "component_configs"
agno_version = "2.5.0"


def upgrade() -> None:
    ops.evolve("component_configs", "2.3.0", "2.5.0")


def downgrade() -> None:
    ops.evolve("component_configs", "2.5.0", "2.3.0")
