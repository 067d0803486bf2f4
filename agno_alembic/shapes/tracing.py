"""Shapes: traces, spans."""

from agno_alembic import registry
from agno_alembic.dialects import BIGINT, ID, JSON, LONGSTR, STR20, STR50, STR255
from agno_alembic.dialects.singlestore import STR64, STR512
from agno_alembic.shapes._dsl import PG, SINGLESTORE, SQLITE, Column, ForeignKey, Index, Shape

_NOT_SINGLESTORE = (*PG, *SQLITE, registry.MYSQL)
"""Every backend but SingleStore: Agno's SingleStore trace and span schemas have their own lengths."""

TRACES = Shape(
    "traces",
    Column("trace_id", ID, primary_key=True),
    Column("name", STR255, nullable=False, backends=_NOT_SINGLESTORE),
    Column("name", STR512, nullable=False, backends=SINGLESTORE),
    Column("status", STR50, nullable=False, backends=_NOT_SINGLESTORE),
    Column("status", STR20, nullable=False, backends=SINGLESTORE),
    Column("start_time", ID, nullable=False, backends=_NOT_SINGLESTORE),
    Column("start_time", STR64, nullable=False, backends=SINGLESTORE),
    Column("end_time", ID, nullable=False, backends=_NOT_SINGLESTORE),
    Column("end_time", STR64, nullable=False, backends=SINGLESTORE),
    Column("duration_ms", BIGINT, nullable=False),
    Column("run_id", ID),
    Column("session_id", ID),
    Column("user_id", ID),
    Column("agent_id", ID),
    Column("team_id", ID),
    Column("workflow_id", ID),
    Column("created_at", ID, nullable=False, backends=_NOT_SINGLESTORE),
    Column("created_at", STR64, nullable=False, backends=SINGLESTORE),
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
    Column("name", STR255, nullable=False, backends=_NOT_SINGLESTORE),
    Column("name", STR512, nullable=False, backends=SINGLESTORE),
    Column("span_kind", STR50, nullable=False),
    Column("status_code", STR50, nullable=False, backends=_NOT_SINGLESTORE),
    Column("status_code", STR20, nullable=False, backends=SINGLESTORE),
    Column("status_message", LONGSTR),
    Column("start_time", ID, nullable=False, backends=_NOT_SINGLESTORE),
    Column("start_time", STR64, nullable=False, backends=SINGLESTORE),
    Column("end_time", ID, nullable=False, backends=_NOT_SINGLESTORE),
    Column("end_time", STR64, nullable=False, backends=SINGLESTORE),
    Column("duration_ms", BIGINT, nullable=False),
    Column("attributes", JSON),
    Column("created_at", ID, nullable=False, backends=_NOT_SINGLESTORE),
    Column("created_at", STR64, nullable=False, backends=SINGLESTORE),
    Index("created_at"),
    Index("parent_span_id"),
    Index("start_time"),
    Index("trace_id"),
    ForeignKey("trace_id", refers="traces.trace_id"),
)
