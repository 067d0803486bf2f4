"""sessions 3.0.0: run history moves to the runs table

All backends:
- every legacy runs entry is copied into the runs table by Agno's rules (rows already there win)
- drop column runs when it holds no runs; while any row holds runs it stays, as Agno keeps it, as a backup
Downgrade: the runs table's rows are merged back into the legacy lists by run_id, keeping entries it lacks.
"""

from agno_alembic import data, ops

revision = "agno_sessions_3_0_0"
down_revision = "agno_sessions_2_5_6"
branch_labels = None
depends_on = ("agno_runs_3_0_0",)
agno_table_type = "sessions"
agno_version = "3.0.0"


def upgrade() -> None:
    ops.copy_legacy_runs("2.5.6")
    ops.evolve("sessions", "2.5.6", "3.0.0", keep_if_populated={"runs"}, empty=data.NO_RUNS)


def downgrade() -> None:
    ops.evolve("sessions", "3.0.0", "2.5.6", may_exist={"runs"})
    ops.merge_legacy_runs("2.5.6")
