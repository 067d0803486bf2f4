"""schedules 3.0.0

PostgreSQL, SQLite:
- add column user_id
- add column managed_by
- add column target_type
- add column target_id
- add column created_by_run_id
- add column created_by_session_id
- add column updated_by_run_id
- add column updated_by_session_id
- add column disabled_reason
- add index idx_<table>_managed_by
- add index idx_<table>_target_id
- add index idx_<table>_user_id
- add index idx_<table>_user_id_enabled_next_run_at
- add index <table>_uq_unowned_name
- add index <table>_uq_user_name
Refused, listing them, while several schedules share a name (they would all be unowned).
"""

from agno_alembic import data, ops

revision = "agno_schedules_3_0_0"
down_revision = 'agno_schedules_2_5_0'
branch_labels = None
depends_on = None
agno_table_type = "schedules"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.evolve("schedules", "2.5.0", "3.0.0", before=data.checks.unique_schedule_names)


def downgrade() -> None:
    ops.evolve("schedules", "3.0.0", "2.5.0")
