"""authz_audit 3.0.0: create agno_authz_audit as Agno 3.0.0 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_authz_audit_3_0_0"
down_revision = None
branch_labels = ('agno_authz_audit',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "authz_audit"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.create_table("authz_audit", "3.0.0")


def downgrade() -> None:
    ops.drop_table("authz_audit", "3.0.0")
