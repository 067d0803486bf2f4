"""spans 2.3.0: create agno_spans as Agno 2.3.0 creates it (PostgreSQL, SQLite, MySQL, SingleStore)
"""

from agno_alembic import ops

revision = "agno_spans_2_3_0"
down_revision = None
branch_labels = ('agno_spans',)
depends_on = ('agno_traces_2_3_0', 'agno_versions_2_3_0')
agno_table_type = "spans"
agno_version = "2.3.0"


def upgrade() -> None:
    ops.create_table("spans", "2.3.0")


def downgrade() -> None:
    ops.drop_table("spans", "2.3.0")
