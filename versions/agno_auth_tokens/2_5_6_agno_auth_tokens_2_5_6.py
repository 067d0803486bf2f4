"""auth_tokens 2.5.6: create agno_auth_tokens as Agno 2.5.6 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_auth_tokens_2_5_6"
down_revision = None
branch_labels = ('agno_auth_tokens',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "auth_tokens"
agno_version = "2.5.6"


def upgrade() -> None:
    ops.create_table("auth_tokens", "2.5.6")


def downgrade() -> None:
    ops.drop_table("auth_tokens", "2.5.6")
