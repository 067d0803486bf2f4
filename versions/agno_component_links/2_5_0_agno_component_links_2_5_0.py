"""component_links 2.5.0

SQLite:
- primary key (parent_component_id, parent_version, link_kind, link_key)
- drop unique <table>_uq_link_parent_kind_key
"""

from agno_alembic import ops

revision = "agno_component_links_2_5_0"
down_revision = 'agno_component_links_2_3_0'
branch_labels = None
depends_on = None
agno_table_type = "component_links"
agno_version = "2.5.0"


def upgrade() -> None:
    ops.evolve("component_links", "2.3.0", "2.5.0")


def downgrade() -> None:
    ops.evolve("component_links", "2.5.0", "2.3.0")
