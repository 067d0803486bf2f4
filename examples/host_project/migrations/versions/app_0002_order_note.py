"""order note

Revision ID: app_0002
Revises: app_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "app_0002"
down_revision = "app_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_orders", sa.Column("note", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("app_orders") as batch:
        batch.drop_column("note")
