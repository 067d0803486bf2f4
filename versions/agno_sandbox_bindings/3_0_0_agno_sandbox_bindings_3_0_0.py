"""sandbox_bindings 3.0.0: create {sessions}_sandbox_bindings as Agno 3.0.0 creates it (PostgreSQL)
"""

from agno_alembic import ops

revision = "agno_sandbox_bindings_3_0_0"
down_revision = None
branch_labels = ('agno_sandbox_bindings',)
depends_on = ('agno_sessions_2_5_6', 'agno_runs_3_0_0', 'agno_versions_2_3_0')
agno_table_type = "sandbox_bindings"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.create_table("sandbox_bindings", "3.0.0")


def downgrade() -> None:
    ops.drop_table("sandbox_bindings", "3.0.0")
