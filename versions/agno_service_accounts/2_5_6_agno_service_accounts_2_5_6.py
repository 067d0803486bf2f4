"""service_accounts 2.5.6: create agno_service_accounts as Agno 2.5.6 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_service_accounts_2_5_6"
down_revision = None
branch_labels = ('agno_service_accounts',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "service_accounts"
agno_version = "2.5.6"


def upgrade() -> None:
    ops.create_table("service_accounts", "2.5.6")


def downgrade() -> None:
    ops.drop_table("service_accounts", "2.5.6")
