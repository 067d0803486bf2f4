"""Agno's pgvector knowledge tables (``agno.vectordb.pgvector.PgVector``): which tables, and where each stands.

A knowledge base is one table, named by its user, that ``PgVector.create()`` makes with the embedder's dimensions
(``embedding vector(<dimensions>)``); ``PgVector.optimize()`` may add a vector index (HNSW or IVFFlat, any name)
and a GIN full-text index.  From Agno 2.0 to 2.x every release creates the same table; 3.x adds the owner column
``user_id`` (``VARCHAR``, nullable) and its index ``idx_<table>_user_id``, and refuses a ``user_id`` on a table
without it.  So a table's schema version is read from the table: 3.0.0 with ``user_id``, else 2.0.0.  The
embedding's dimension and the vector indexes are read from the table too, and never changed.

Which tables: the ones named (``vector_tables=[...]``, ``--vector-table``, ``-x vector_tables=a,b``), else every
table of the schema carrying Agno's pgvector columns (:data:`AGNO_COLUMNS`, ``embedding`` of type ``vector``).
A named table that does not exist is left alone (only ``PgVector.create()`` knows its dimensions); a named table
that is not one of Agno's pgvector tables is an error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from agno_alembic import dialects, registry
from agno_alembic.errors import ConfigurationError
from agno_alembic.naming import Names

log = logging.getLogger("agno_alembic")

#: The columns every Agno pgvector table has had since 2.0 (``PgVector.get_table_v1``).
AGNO_COLUMNS: tuple[str, ...] = (
    "id", "name", "meta_data", "filters", "content", "embedding", "usage", "created_at", "updated_at",
    "content_hash", "content_id",
)
#: The columns of SingleStore's vector table (``agno.vectordb.singlestore``): no ``filters``.
SINGLESTORE_COLUMNS: tuple[str, ...] = tuple(c for c in AGNO_COLUMNS if c != "filters")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {registry.POSTGRESQL: AGNO_COLUMNS,
                                                registry.SINGLESTORE: SINGLESTORE_COLUMNS}
#: The owner column Agno 3.0 added, and its index (``idx_<table>_user_id``).
OWNER = "user_id"
OWNER_TYPE = "character varying"
OWNED_SINCE = "3.0.0"


def owner_index(table: str) -> str:
    """The name of Agno 3.x's index on ``user_id``."""
    return f"idx_{table}_{OWNER}"


@dataclass(frozen=True)
class VectorTable:
    """One pgvector knowledge table as it is: read from the database, never assumed."""

    name: str
    schema: str | None
    columns: dict[str, str]
    """Column name -> its type as PostgreSQL prints it (``vector(1024)``, ``character varying``...)."""
    indexes: dict[str, str]
    """Index name -> its access method (``btree``, ``hnsw``, ``ivfflat``, ``gin``)."""
    backend: str = registry.POSTGRESQL
    invalid_indexes: frozenset[str] = frozenset()
    """PostgreSQL: the indexes an interrupted ``CREATE INDEX CONCURRENTLY`` left INVALID (in :attr:`indexes` too)."""

    @property
    def dimensions(self) -> int | None:
        """The embedding's dimension (``vector(N)``), ``None`` for an undimensioned ``vector``."""
        text = self.columns.get("embedding", "")
        return int(text[len("vector("):-1]) if text.startswith("vector(") and text.endswith(")") else None

    @property
    def vector_indexes(self) -> dict[str, str]:
        """The vector and full-text indexes ``PgVector.optimize()`` made (HNSW, IVFFlat, GIN)."""
        return {n: m for n, m in self.indexes.items() if m != "btree"}

    @property
    def missing(self) -> list[str]:
        """Agno's columns this table lacks (empty for one of Agno's pgvector tables)."""
        out = [c for c in REQUIRED_COLUMNS[self.backend] if c not in self.columns]
        if "embedding" in self.columns and not self.columns["embedding"].lower().startswith("vector"):
            out.append("embedding of type vector")
        return out

    @property
    def version(self) -> str:
        """The schema version of its shape: 3.0.0 with the owner column, else 2.0.0.  An owner index left INVALID
        by an interrupted online build means the 3.0.0 step did not finish: 2.0.0, so ``up()`` runs it again."""
        if OWNER in self.columns and owner_index(self.name) not in self.invalid_indexes:
            return OWNED_SINCE
        return "2.0.0"


_PG_COLUMNS = sa.text(
    "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = coalesce(:schema, current_schema()) AND c.relkind IN ('r', 'p') AND a.attnum > 0 "
    "AND NOT a.attisdropped AND c.relname IN :tables ORDER BY c.relname, a.attnum"
).bindparams(sa.bindparam("tables", expanding=True))
_PG_INDEXES = sa.text(
    "SELECT t.relname, i.relname, am.amname, x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
    "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_am am ON am.oid = i.relam "
    "JOIN pg_namespace n ON n.oid = t.relnamespace "
    "WHERE n.nspname = coalesce(:schema, current_schema()) AND t.relname IN :tables"
).bindparams(sa.bindparam("tables", expanding=True))
_PG_CANDIDATES = sa.text(
    "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type ty ON ty.oid = a.atttypid "
    "WHERE n.nspname = coalesce(:schema, current_schema()) AND c.relkind IN ('r', 'p') AND a.attname = 'embedding' "
    "AND ty.typname = 'vector' AND NOT a.attisdropped ORDER BY c.relname"
)
# SingleStore (and MySQL-family servers): information_schema, lower-cased types (``vector(1536, F32)``).
_S2_COLUMNS = sa.text(
    "SELECT table_name, column_name, lower(column_type) FROM information_schema.columns "
    "WHERE table_schema = coalesce(:schema, database()) AND table_name IN :tables ORDER BY table_name, "
    "ordinal_position"
).bindparams(sa.bindparam("tables", expanding=True))
_S2_INDEXES = sa.text(
    "SELECT table_name, index_name, lower(index_type) FROM information_schema.statistics "
    "WHERE table_schema = coalesce(:schema, database()) AND table_name IN :tables"
).bindparams(sa.bindparam("tables", expanding=True))
_S2_CANDIDATES = sa.text(
    "SELECT table_name FROM information_schema.columns WHERE table_schema = coalesce(:schema, database()) "
    "AND column_name = 'embedding' AND lower(column_type) LIKE 'vector%' ORDER BY table_name"
)
#: The catalog queries per backend: (columns, indexes, candidate tables).
_CATALOG: dict[str, tuple[sa.TextClause, sa.TextClause, sa.TextClause]] = {
    registry.POSTGRESQL: (_PG_COLUMNS, _PG_INDEXES, _PG_CANDIDATES),
    registry.SINGLESTORE: (_S2_COLUMNS, _S2_INDEXES, _S2_CANDIDATES),
}


def _catalog(connection: sa.Connection) -> tuple[sa.TextClause, sa.TextClause, sa.TextClause]:
    return _CATALOG[dialects.backend_of(connection.dialect)]


def read(connection: sa.Connection, schema: str | None, tables: Sequence[str]) -> dict[str, VectorTable]:
    """The named tables that exist, as they are."""
    if not tables:
        return {}
    columns_query, indexes_query, _ = _catalog(connection)
    columns: dict[str, dict[str, str]] = {}
    for table, column, type_ in connection.execute(columns_query, {"schema": schema, "tables": list(tables)}):
        columns.setdefault(table, {})[column] = type_
    indexes: dict[str, dict[str, str]] = {}
    invalid: dict[str, set[str]] = {}
    for table, index, method, *valid in connection.execute(indexes_query,
                                                            {"schema": schema, "tables": list(tables)}):
        indexes.setdefault(table, {})[index] = method
        if valid and valid[0] is False:
            invalid.setdefault(table, set()).add(index)
    backend = dialects.backend_of(connection.dialect)
    return {t: VectorTable(t, schema, columns[t], indexes.get(t, {}), backend, frozenset(invalid.get(t, ())))
            for t in tables if t in columns}


def find(connection: sa.Connection, schema: str | None) -> list[VectorTable]:
    """Every table of ``schema`` with Agno's pgvector columns (none where pgvector is not installed)."""
    candidates = [r[0] for r in connection.execute(_catalog(connection)[2], {"schema": schema})]
    return [t for t in read(connection, schema, candidates).values() if not t.missing]


def selected(connection: sa.Connection, names: Names) -> list[VectorTable]:
    """The vector tables this run migrates: the named ones that exist, or every one found by inspection."""
    if names.vector_tables is None:
        return find(connection, names.schema)
    found = read(connection, names.schema, names.vector_tables)
    out = []
    for name in names.vector_tables:
        table = found.get(name)
        if table is None:
            log.info("vector table %s does not exist: left for Agno's create() (it knows the embedder's "
                     "dimensions)", name)
            continue
        if table.missing:
            raise ConfigurationError(
                f"{name!r} is not one of Agno's vector tables: it lacks {', '.join(table.missing)} (Agno's vector "
                f"tables have {', '.join(REQUIRED_COLUMNS[table.backend])}); name only knowledge tables in "
                "vector_tables",
                option="vector_tables",
            )
        out.append(table)
    return out


def owned_rows(connection: sa.Connection, table: VectorTable) -> int:
    """Rows that belong to a user (``user_id`` set): what dropping the owner column would lose."""
    t = sa.table(table.name, sa.column(OWNER), schema=table.schema)
    return int(connection.execute(sa.select(sa.func.count()).select_from(t).where(t.c[OWNER].is_not(None)))
               .scalar_one())


__all__ = ["AGNO_COLUMNS", "OWNER", "SINGLESTORE_COLUMNS", "VectorTable", "find", "owner_index", "read", "selected"]
