"""metrics 3.0.0

PostgreSQL, SQLite, MySQL, SingleStore:
- add column user_id NOT NULL
- add unique <table>_uq_metrics_user_date_period
- drop unique <table>_uq_metrics_date_period
- add index idx_<table>_user_id
Existing rows become unowned (user_id = ''); the newest day, if unfinished and unowned, is removed so it
recalculates per user (as Agno does). Downgrade refused while any row is owned.
"""

from agno_alembic import data, ops

revision = "agno_metrics_3_0_0"
down_revision = 'agno_metrics_2_3_0'
branch_labels = None
depends_on = None
agno_table_type = "metrics"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.evolve(
        "metrics", "2.3.0", "3.0.0", fill={"user_id": data.unowned}, after=data.checks.drop_newest_unfinished_metrics_day
    )


def downgrade() -> None:
    ops.evolve("metrics", "3.0.0", "2.3.0", empty={"user_id": ""})
