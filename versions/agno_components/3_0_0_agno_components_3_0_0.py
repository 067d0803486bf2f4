"""components 3.0.0

PostgreSQL, SQLite:
- add column user_id
- add index idx_<table>_user_id
"""

from agno_alembic import ops

revision = "agno_components_3_0_0"
down_revision = 'agno_components_2_3_0'
branch_labels = None
depends_on = None
agno_table_type = "components"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.evolve("components", "2.3.0", "3.0.0")


def downgrade() -> None:
    ops.evolve("components", "3.0.0", "2.3.0")
