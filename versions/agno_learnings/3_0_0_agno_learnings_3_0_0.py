"""learnings 3.0.0: entity memories of namespace "user" move to per-user keys (PostgreSQL, SQLite)

The table's shape does not change. Each entity_memory row of namespace "user" still on its pre-3.0 key
entity_user_<type>_<id> moves to entity_user_<sha256(user_id)[:16]>_<type>_<id>, merged into the row already there
(which wins); a row more than one user wrote moves to namespace quarantined_user; unowned and malformed rows stay
(agno_alembic.data.learnings has the rules). In chunks, inside the step's transaction.
Downgrade: the old keys cannot be restored (one is shared by every user with the entity): refused while per-user
or quarantined rows exist, unless data loss is allowed; then the rows stay as they are.
"""

from agno_alembic import data, ops

revision = "agno_learnings_3_0_0"
down_revision = "agno_learnings_2_3_0"
branch_labels = None
depends_on = None
agno_table_type = "learnings"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.evolve("learnings", "2.3.0", "3.0.0", after=data.learnings.rekey_entities)


def downgrade() -> None:
    ops.evolve("learnings", "3.0.0", "2.3.0", before=data.learnings.refuse_downgrade)
