"""Shapes: traces, spans."""

from agno_alembic.dialects import BIGINT, ID, JSON, LONGSTR, STR255, STR50
from agno_alembic.shapes._dsl import Column, ForeignKey, Index, Shape

TRACES = Shape(
    "traces",
    Column("trace_id", ID, primary_key=True),
    Column("name", STR255, nullable=False),
    Column("status", STR50, nullable=False),
    Column("start_time", ID, nullable=False),
    Column("end_time", ID, nullable=False),
    Column("duration_ms", BIGINT, nullable=False),
    Column("run_id", ID),
    Column("session_id", ID),
    Column("user_id", ID),
    Column("agent_id", ID),
    Column("team_id", ID),
    Column("workflow_id", ID),
    Column("created_at", ID, nullable=False),
    Index("agent_id"),
    Index("created_at"),
    Index("run_id"),
    Index("session_id"),
    Index("start_time"),
    Index("status"),
    Index("team_id"),
    Index("user_id"),
    Index("workflow_id"),
)

SPANS = Shape(
    "spans",
    Column("span_id", ID, primary_key=True),
    Column("trace_id", ID, nullable=False),
    Column("parent_span_id", ID),
    Column("name", STR255, nullable=False),
    Column("span_kind", STR50, nullable=False),
    Column("status_code", STR50, nullable=False),
    Column("status_message", LONGSTR),
    Column("start_time", ID, nullable=False),
    Column("end_time", ID, nullable=False),
    Column("duration_ms", BIGINT, nullable=False),
    Column("attributes", JSON),
    Column("created_at", ID, nullable=False),
    Index("created_at"),
    Index("parent_span_id"),
    Index("start_time"),
    Index("trace_id"),
    ForeignKey("trace_id", refers="traces.trace_id"),
)
