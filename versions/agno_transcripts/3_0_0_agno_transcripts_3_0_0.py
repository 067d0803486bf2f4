"""transcripts 3.0.0: create agno_transcripts as Agno 3.0.0 creates it (PostgreSQL, SQLite)
"""

from agno_alembic import ops

revision = "agno_transcripts_3_0_0"
down_revision = None
branch_labels = ('agno_transcripts',)
depends_on = ('agno_versions_2_3_0',)
agno_table_type = "transcripts"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.create_table("transcripts", "3.0.0")


def downgrade() -> None:
    ops.drop_table("transcripts", "3.0.0")
