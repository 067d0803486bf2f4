"""approvals 2.5.6

PostgreSQL, SQLite:
- add column run_status
- add index idx_<table>_run_status
"""

from agno_alembic import ops

revision = "agno_approvals_2_5_6"
down_revision = 'agno_approvals_2_5_0'
branch_labels = None
depends_on = None
agno_table_type = "approvals"
agno_version = "2.5.6"


def upgrade() -> None:
    ops.evolve("approvals", "2.5.0", "2.5.6")


def downgrade() -> None:
    ops.evolve("approvals", "2.5.6", "2.5.0")
