"""The application's own tables: what its autogenerate compares.  Agno's tables are not modelled here."""

import sqlalchemy as sa

metadata = sa.MetaData()

users = sa.Table(
    "app_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(255), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

orders = sa.Table(
    "app_orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("app_users.id"), nullable=False),
    sa.Column("total_cents", sa.BigInteger, nullable=False),
    sa.Column("note", sa.Text),
    sa.Index("ix_app_orders_user_id", "user_id"),
)
