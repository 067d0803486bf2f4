"""The names in play: table names, schema, Agno's versions table and our Alembic version table.

Names come from configuration (``-x`` arguments, ``config.attributes``, an Agno db object) and are never baked
into revisions.  Defaults are Agno's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from agno_alembic import registry
from agno_alembic.errors import ConfigurationError

DEFAULT_ALEMBIC_VERSION_TABLE = "agno_alembic_version"
#: Agno's default PostgreSQL schema and MySQL database; SingleStore and SQLite use the connection's own.
AGNO_DEFAULT_SCHEMA = "ai"
_NO_SCHEMA = ("", "none", "null", "default")


@dataclass(frozen=True)
class Names:
    """Resolved names for one Agno configuration."""

    schema: str | None = None
    tables: Mapping[str, str] = field(default_factory=dict)
    """Configured table names by canonical table type; missing types use Agno's defaults."""
    version_table: str | None = None
    """Our Alembic version table; by default see :attr:`alembic_version_table`."""
    vector_tables: tuple[str, ...] | None = None
    """Agno's pgvector knowledge tables to migrate; ``None``: every one found in the schema by inspection."""

    @property
    def alembic_version_table(self) -> str:
        """Our Alembic version table: ``agno_alembic_version`` for Agno's default names.

        A configuration with its own table names gets its own version table, ``agno_alembic_version_<8 hex>``
        (a digest of those names), so two Agno configurations in one database migrate independently.
        """
        if self.version_table:
            return self.version_table
        custom = {k: v for k, v in sorted(self.tables.items()) if v != self._default(k)}
        if not custom:
            return DEFAULT_ALEMBIC_VERSION_TABLE
        digest = hashlib.sha1(json.dumps(custom, sort_keys=True).encode()).hexdigest()[:8]
        return f"{DEFAULT_ALEMBIC_VERSION_TABLE}_{digest}"

    def _default(self, table_type: str) -> str:
        tt = registry.table_type(table_type)
        return tt.default_table.format(sessions=self.table("sessions")) if "{sessions}" in tt.default_table \
            else tt.default_table

    def table(self, table_type: str) -> str:
        """The actual table name of a table type."""
        tt = registry.table_type(table_type)
        configured = self.tables.get(tt.name)
        if configured:
            return configured
        if "{sessions}" in tt.default_table:
            return tt.default_table.format(sessions=self.table("sessions"))
        return tt.default_table

    @property
    def versions_table(self) -> str:
        """Agno's bookkeeping table, ``agno_schema_versions`` by default."""
        return self.table("versions")

    def with_schema(self, schema: str | None) -> Names:
        return replace(self, schema=schema)


def default_schema(backend: str) -> str | None:
    """Agno's default ``db_schema`` for a backend."""
    return AGNO_DEFAULT_SCHEMA if backend in (registry.POSTGRESQL, registry.MYSQL) else None


def from_options(options: Mapping[str, str], backend: str) -> Names:
    """Build :class:`Names` from flat string options (``-x`` arguments or an ini section).

    Accepted keys: ``schema`` (``none`` for the connection's default), ``version_table`` (our Alembic version
    table), ``versions_table`` (Agno's), and ``<table type>_table`` for any canonical name or alias
    (``session_table=my_sessions``, ``memories_table=...``).
    """
    tables: dict[str, str] = {}
    schema: str | None = default_schema(backend)
    version_table: str | None = None
    vector_tables: tuple[str, ...] | None = None
    for key, value in options.items():
        if key in ("url", "sqlalchemy.url", "agno_version", "allow_data_loss"):
            continue
        if key == "vector_tables":
            vector_tables = vector_table_names(value.split(","), key)
        elif key in ("schema", "db_schema"):
            schema = None if value.strip().lower() in _NO_SCHEMA else value
        elif key == "version_table":
            version_table = _checked(key, value)
        elif key.endswith("_table"):
            tables[registry.table_type(key[: -len("_table")]).name] = _checked(key, value)
        else:
            raise ConfigurationError(
                f"Unknown option {key!r}; valid options: url, schema, version_table, agno_version, "
                "allow_data_loss, vector_tables, <table type>_table (e.g. session_table, memory_table)",
                option=key,
            )
    return Names(schema=schema, tables=tables, version_table=version_table, vector_tables=vector_tables)


def vector_table_names(values: object, option: str = "vector_tables") -> tuple[str, ...]:
    """Check a list of pgvector table names (``-x vector_tables=a,b``, ``vector_tables=[...]``, ``--vector-table``)."""
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise ConfigurationError(
            f"Option {option!r} takes a list of table names, got {values!r}", option=option
        )
    names = tuple(_checked(option, v if not isinstance(v, str) else v.strip()) for v in values)
    return tuple(dict.fromkeys(names))


def _checked(option: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"Option {option!r} needs a non-empty table name, got {value!r}", option=option)
    return value
