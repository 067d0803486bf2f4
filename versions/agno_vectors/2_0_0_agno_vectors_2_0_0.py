"""vectors 2.0.0: Agno's pgvector knowledge tables as Agno 2.x's PgVector creates them (PostgreSQL)

Nothing to create: PgVector.create() makes each table, with its embedder's dimensions. This revision takes the
tables there are (named with vector_tables, or found by inspection) under migration, checking they are Agno's.
"""

from agno_alembic import ops

revision = "agno_vectors_2_0_0"
down_revision = None
branch_labels = ('agno_vectors',)
depends_on = None
agno_vector_type = "vectors"
agno_version = "2.0.0"


def upgrade() -> None:
    ops.adopt_vector_tables()


def downgrade() -> None:
    pass  # the knowledge tables are the user's data: never dropped
