"""users and orders

Revision ID: app_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "app_0001"
down_revision = None
branch_labels = ("app",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "app_orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_users.id"), nullable=False),
        sa.Column("total_cents", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_app_orders_user_id", "app_orders", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_app_orders_user_id", table_name="app_orders")
    op.drop_table("app_orders")
    op.drop_table("app_users")
