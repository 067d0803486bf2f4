"""Shapes: components, component_configs, component_links."""

from agno_alembic.dialects import BIGINT, INT, JSON, LONGSTR, STR
from agno_alembic.shapes._dsl import PG, SQLITE, Column, ForeignKey, Index, PrimaryKey, Shape, Unique

COMPONENTS = Shape(
    "components",
    Column("component_id", STR, primary_key=True),
    Column("component_type", STR, nullable=False),
    Column("name", STR, nullable={"postgresql": True, "sqlite": False}),
    Column("description", LONGSTR),
    Column("current_version", INT),
    Column("metadata", JSON),
    Column("created_at", BIGINT, nullable=False),
    Column("updated_at", BIGINT),
    Column("deleted_at", BIGINT),
    Column("user_id", STR, since="3.0.0"),
    Index("component_type"),
    Index("created_at"),
    Index("current_version"),
    Index("name"),
    Index("user_id", since="3.0.0"),
)

COMPONENT_CONFIGS = Shape(
    "component_configs",
    Column("component_id", STR, nullable=False),
    Column("version", INT, nullable=False),
    Column("label", STR),
    Column("stage", STR, nullable=False),
    Column("config", JSON, nullable=False),
    Column("notes", LONGSTR),
    Column("created_at", BIGINT, nullable=False),
    Column("updated_at", BIGINT),
    Column("deleted_at", BIGINT, backends=PG),
    PrimaryKey("component_id", "version", backends=PG),
    PrimaryKey("component_id", "version", backends=SQLITE, since="2.5.0"),
    Unique("component_id", "version", name="{T}_uq_config_component_version", backends=SQLITE, until="2.5.0"),
    Index("created_at"),
    Index("stage"),
    ForeignKey("component_id", refers="components.component_id", backends=PG),
)

COMPONENT_LINKS = Shape(
    "component_links",
    Column("parent_component_id", STR, nullable=False),
    Column("parent_version", INT, nullable=False),
    Column("link_kind", STR, nullable=False),
    Column("link_key", STR, nullable=False),
    Column("child_component_id", STR, nullable=False),
    Column("child_version", INT),
    Column("position", INT, nullable=False),
    Column("meta", JSON),
    Column("created_at", BIGINT),
    Column("updated_at", BIGINT),
    PrimaryKey("parent_component_id", "parent_version", "link_kind", "link_key", backends=PG),
    PrimaryKey("parent_component_id", "parent_version", "link_kind", "link_key", backends=SQLITE, since="2.5.0"),
    Unique(
        "parent_component_id", "parent_version", "link_kind", "link_key",
        name="{T}_uq_link_parent_kind_key", backends=SQLITE, until="2.5.0",
    ),
    Index("created_at"),
    Index("link_kind"),
    ForeignKey("child_component_id", refers="components.component_id", backends=PG),
    ForeignKey("parent_component_id", "parent_version", refers="component_configs.component_id,version", backends=PG),
)
