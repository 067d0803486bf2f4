"""vectors 3.0.0

PostgreSQL, every pgvector table:
- add column user_id VARCHAR (nullable: NULL is content shared with every user)
- add index idx_<table>_user_id
The embedding column (its dimension) and the vector and full-text indexes stay as they are.
"""

from agno_alembic import ops

revision = "agno_vectors_3_0_0"
down_revision = 'agno_vectors_2_0_0'
branch_labels = None
depends_on = None
agno_vector_type = "vectors"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.evolve_vector_tables("2.0.0", "3.0.0")


def downgrade() -> None:
    ops.evolve_vector_tables("3.0.0", "2.0.0")
