"""What differs per backend, in one place: column types, capabilities and backend detection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from agno_alembic import registry
from agno_alembic.dialects._types import ColumnType as ColumnType
from agno_alembic.dialects._types import TypeFactory as TypeFactory

# Registers Alembic's implementation for the "singlestoredb" dialect.
# table_options: the backend-only sqlalchemy.Table arguments a CREATE TABLE needs (SingleStore's SHARD KEY).
from agno_alembic.dialects.singlestore import table_options as table_options
from agno_alembic.errors import UnsupportedBackendError

_BACKEND_OF_DIALECT = {
    "postgresql": registry.POSTGRESQL,
    "sqlite": registry.SQLITE,
    "mysql": registry.MYSQL,
    "mariadb": registry.MYSQL,
    "singlestoredb": registry.SINGLESTORE,
}


def backend_of(dialect: sa.engine.Dialect | str) -> str:
    """The backend key (``postgresql``, ``sqlite``, ``mysql``, ``singlestore``) of a dialect or dialect name."""
    name = dialect if isinstance(dialect, str) else dialect.name
    try:
        return _BACKEND_OF_DIALECT[name]
    except KeyError:
        raise UnsupportedBackendError(name, sorted(_BACKEND_OF_DIALECT)) from None


@dataclass(frozen=True)
class VectorOwner:
    """How Agno 3 gives a vector table its owner column ``user_id`` and that column's index on a backend
    (:mod:`agno_alembic.vectors`).  Templates take ``{table}`` (qualified), ``{index}``, ``{qualified_index}``
    and ``{column}``, all quoted."""

    type_sql: str
    create_index: str
    drop_index: str
    if_not_exists: bool
    """``ADD COLUMN IF NOT EXISTS`` / ``DROP COLUMN IF EXISTS`` exist (and the index templates are idempotent)."""
    create_index_online: str | None = None
    """Online mode's form of :attr:`create_index`, where it has one (PostgreSQL: ``CONCURRENTLY``, run outside a
    transaction; its locks block none of the application's reads and writes)."""
    drop_index_online: str | None = None
    """Online mode's form of :attr:`drop_index`, where it has one (PostgreSQL: ``CONCURRENTLY``: it waits for the
    transactions using the index instead of taking a lock that queues the application's reads and writes)."""


#: The backends with Agno vector tables, and their owner column as Agno 3.x's fresh create has it: pgvector's
#: ``PgVector.get_table_v1`` (a B-tree index), SingleStore's ``create()`` and ``optimize()`` (a hash index).
VECTOR_OWNER: dict[str, VectorOwner] = {
    registry.POSTGRESQL: VectorOwner("VARCHAR", "CREATE INDEX IF NOT EXISTS {index} ON {table} ({column})",
                                     "DROP INDEX IF EXISTS {qualified_index}", if_not_exists=True,
                                     create_index_online="CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON {table} "
                                                         "({column})",
                                     drop_index_online="DROP INDEX CONCURRENTLY IF EXISTS {qualified_index}"),
    registry.SINGLESTORE: VectorOwner("VARCHAR(255)", "ALTER TABLE {table} ADD INDEX {index} ({column}) USING HASH",
                                      "DROP INDEX {index} ON {table}", if_not_exists=False),
}


def _mysql_or(length_or_text: int | None) -> TypeFactory:
    def make(backend: str, version: str) -> sa.types.TypeEngine[Any]:
        if backend in (registry.MYSQL, registry.SINGLESTORE):
            return sa.Text() if length_or_text is None else sa.String(length_or_text)
        return sa.String()

    return make


def _since_2_3(version: str) -> bool:
    return registry.version_index(version) >= registry.version_index("2.3.0")


def _json(backend: str, version: str) -> sa.types.TypeEngine[Any]:
    # Agno 2.0 declared PostgreSQL JSON; its 2.3.0 fresh create and migration use JSONB.
    if backend == registry.POSTGRESQL:
        return postgresql.JSONB() if _since_2_3(version) else sa.JSON()
    return sa.JSON()


def _jsonb(backend: str, version: str) -> sa.types.TypeEngine[Any]:
    return postgresql.JSONB() if backend == registry.POSTGRESQL else sa.JSON()


def _long_string(backend: str, version: str) -> sa.types.TypeEngine[Any]:
    # Free text: TEXT on PostgreSQL (VARCHAR before 2.3.0) and MySQL, VARCHAR on SQLite, as Agno declares it.
    if backend == registry.POSTGRESQL:
        return sa.Text() if _since_2_3(version) else sa.String()
    if backend == registry.SQLITE:
        return sa.String()
    return sa.Text()


def _int(backend: str, version: str) -> sa.types.TypeEngine[Any]:
    return sa.BigInteger() if backend == registry.SQLITE else sa.Integer()


ID = ColumnType("ID", _mysql_or(128))
"""Identifiers: VARCHAR, VARCHAR(128) on MySQL and SingleStore."""
STR = ColumnType("STR", _mysql_or(None))
"""Unbounded strings: VARCHAR, TEXT on MySQL and SingleStore."""
STR10 = ColumnType("STR10", _mysql_or(10))
STR20 = ColumnType("STR20", _mysql_or(20))
STR50 = ColumnType("STR50", _mysql_or(50))
STR255 = ColumnType("STR255", _mysql_or(255))
LONGSTR = ColumnType("LONGSTR", _long_string)
TEXT = ColumnType("TEXT", lambda b, v: sa.Text())
JSON = ColumnType("JSON", _json)
"""JSON; on PostgreSQL JSON until 2.3.0, JSONB from then on."""
JSONB = ColumnType("JSONB", _jsonb)
"""JSONB on PostgreSQL at every version, JSON elsewhere."""
BIGINT = ColumnType("BIGINT", lambda b, v: sa.BigInteger())
INT = ColumnType("INT", _int)
BOOL = ColumnType("BOOL", lambda b, v: sa.Boolean())
DATE = ColumnType("DATE", lambda b, v: sa.Date())
TIMESTAMPTZ = ColumnType("TIMESTAMPTZ", lambda b, v: sa.TIMESTAMP(timezone=True))


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, as the operations need to know it."""

    transactional_ddl: bool
    alter_constraints: bool
    """ALTER TABLE can add and drop keys and change types (SQLite rebuilds the table instead)."""
    partial_indexes: bool
    max_identifier: int
    identifier_unit: str


CAPABILITIES = {
    registry.POSTGRESQL: Capabilities(True, True, True, 63, "bytes"),
    registry.SQLITE: Capabilities(True, False, True, 0, "characters"),
    registry.MYSQL: Capabilities(False, True, False, 64, "characters"),
    registry.SINGLESTORE: Capabilities(False, True, False, 64, "characters"),
}


def capabilities(backend: str) -> Capabilities:
    return CAPABILITIES[backend]


def is_mysql_like(backend: str) -> bool:
    return backend in (registry.MYSQL, registry.SINGLESTORE)


_EQUIVALENT_TYPES = {
    # MariaDB keeps JSON as LONGTEXT (with a json_valid check); MySQL reflects BOOL and BIGINT with widths.
    "LONGTEXT": "JSON",
    "TINYINT(1)": "BOOL",
    "BOOLEAN": "BOOL",
    "BIGINT(20)": "BIGINT",
    "INTEGER(11)": "INTEGER",
    "INT(11)": "INTEGER",
}


def _type_text(type_: sa.types.TypeEngine[Any], dialect: sa.engine.Dialect) -> str:
    text = type_.compile(dialect=dialect).upper()
    text = text.split(" CHARACTER SET ")[0].split(" COLLATE ")[0]
    return _EQUIVALENT_TYPES.get(text, text)


def type_matches(
    reflected: sa.types.TypeEngine[Any], declared: sa.types.TypeEngine[Any], dialect: sa.engine.Dialect
) -> bool:
    """Whether a reflected column type is the declared one, as this backend stores it."""
    return _type_text(reflected, dialect) == _type_text(declared, dialect)


# -- database URLs ---------------------------------------------------------------------------------------------

#: A driver that ships with agno-alembic's extras, per dialect whose default driver may not be installed.
_INSTALLED_DRIVER = {
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "postgresql": "postgresql+psycopg",
    "singlestoredb": "singlestoredb+pymysql",
}


def checked_url(value: object, option: str = "url") -> sa.URL:
    """``value`` as a URL whose dialect and driver are importable here, else a :class:`ConfigurationError`.

    A URL without a driver (``mysql://``) names the dialect's default driver (``MySQLdb``), which is often not
    installed: the error says which URL to use instead (``mysql+pymysql://``) or which driver to install.
    """
    from agno_alembic.errors import ConfigurationError

    try:
        url = sa.make_url(value)  # type: ignore[arg-type]  # anything given; what make_url refuses is caught
    except (sa.exc.ArgumentError, TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"Not a database URL: {value!r} ({exc}); expected dialect+driver://user:password@host:port/database, "
            "e.g. postgresql+psycopg://..., mysql+pymysql://..., sqlite:///agno.db", option=option,
        ) from None
    backend_of(url.get_backend_name())  # an unsupported backend is named as such, installed or not
    try:
        dialect = url.get_dialect()
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        raise ConfigurationError(
            f"No dialect {url.drivername!r} in this environment ({exc}); supported: "
            f"{', '.join(sorted(_BACKEND_OF_DIALECT))}", option=option,
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        instead = _INSTALLED_DRIVER.get(url.get_backend_name())
        hint = f"use {instead}:// or install the driver" if instead and "+" not in url.drivername and \
            instead != url.drivername else "install it"
        raise ConfigurationError(
            f"The driver of {url.drivername}:// is not installed ({exc}): {hint}", option=option,
        ) from None
    return url
