"""mcp_oauth_transactions 2.5.6: create agno_mcp_oauth_transactions as Agno 2.5.6 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_mcp_oauth_transactions_2_5_6"
down_revision = None
branch_labels = ('agno_mcp_oauth_transactions',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "mcp_oauth_transactions"
agno_version = "2.5.6"


def upgrade() -> None:
    ops.create_table("mcp_oauth_transactions", "2.5.6")


def downgrade() -> None:
    ops.drop_table("mcp_oauth_transactions", "2.5.6")
