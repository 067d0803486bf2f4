"""SingleStore: Alembic's implementation for the ``singlestoredb`` dialect, and the DDL only SingleStore has.

sqlalchemy-singlestoredb's dialect (name ``singlestoredb``) derives from SQLAlchemy's MySQL dialect, but Alembic
finds implementations, and SQLAlchemy's ``@compiles`` finds Alembic's MySQL DDL, by dialect *name*: without this
module Alembic has no implementation for ``singlestoredb`` at all.  Importing it (``agno_alembic.dialects`` does)
registers :class:`SingleStoreImpl` and the DDL forms below.  Neither needs sqlalchemy-singlestoredb installed; only
:func:`table_options` imports it, and only for a SingleStore table.

What SingleStore gets that MySQL does not (the first three as Agno's ``SingleStoreDb`` issues them):

* ``SHARD KEY (session_id)`` in the CREATE TABLE of sessions and runs (:data:`SHARD_KEYS`);
* unique keys written ``UNIQUE KEY <name> (...)``, in CREATE TABLE and in ALTER TABLE (SingleStore's documented
  ALTER TABLE grammar has ``ADD [UNIQUE] {INDEX | KEY}``, not ``ADD CONSTRAINT``);
* ``ALTER TABLE ... ADD PRIMARY KEY (...)``, unnamed, as Agno's own v2.5.0 step writes it;
* an Alembic version table without a primary key, our own (see :meth:`SingleStoreImpl.version_table_impl`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import sqlalchemy as sa
from alembic.ddl import mysql as alembic_mysql
from alembic.ddl.base import ColumnDefault, ColumnName, ColumnNullable
from alembic.ddl.base import ColumnType as AlterColumnType
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import AddConstraint, DropConstraint, PrimaryKeyConstraint, UniqueConstraint

from agno_alembic import registry
from agno_alembic.dialects._types import ColumnType

DIALECT = "singlestoredb"
"""sqlalchemy-singlestoredb's dialect name, the key Alembic and ``@compiles`` dispatch on."""

SHARD_KEYS: Mapping[str, tuple[str, ...]] = {
    "sessions": ("session_id",),
    "runs": ("session_id",),
}
"""The explicit shard key of each table type that has one on SingleStore (Agno's raw CREATE TABLE of sessions,
and of runs from 3.x).  Every other table is sharded on its primary key, as Agno leaves it."""


def _varchar(length: int) -> ColumnType:
    def make(backend: str, version: str) -> sa.types.TypeEngine[Any]:
        return sa.String(length) if backend in (registry.MYSQL, registry.SINGLESTORE) else sa.String()

    return ColumnType(f"STR{length}", make)


STR64 = _varchar(64)
"""VARCHAR(64): the trace and span timestamps in Agno's SingleStore schemas."""
STR512 = _varchar(512)
"""VARCHAR(512): trace and span names in Agno's SingleStore schemas."""


class _Table(Protocol):
    """What :func:`table_options` reads of a table spec (``agno_alembic.shapes._dsl.TableSpec``)."""

    @property
    def table_type(self) -> str: ...

    @property
    def backend(self) -> str: ...


def table_options(spec: _Table) -> dict[str, Any]:
    """The ``sqlalchemy.Table`` keyword arguments SingleStore needs to create ``spec``'s table (its SHARD KEY)."""
    columns = SHARD_KEYS.get(spec.table_type)
    if spec.backend != registry.SINGLESTORE or not columns:
        return {}
    from sqlalchemy_singlestoredb import ShardKey  # the "singlestore" extra; present whenever the dialect is

    return {f"{DIALECT}_shard_key": ShardKey(*columns)}


class SingleStoreImpl(alembic_mysql.MySQLImpl):
    """Alembic's MySQL implementation, registered for the ``singlestoredb`` dialect."""

    __dialect__ = DIALECT

    def version_table_impl(
        self, *, version_table: str, version_table_schema: str | None, version_table_pk: bool, **kw: Any
    ) -> sa.Table:
        """Alembic's version table, without the primary key on ``version_num``.

        A SingleStore table with a primary key and no shard key is sharded on its primary key, and SingleStore
        refuses an UPDATE that changes a shard key.  Alembic moves a branch with ``UPDATE ... SET version_num``,
        so the version table is keyless-sharded: no primary key, no shard key (Alembic's own
        ``version_table_pk=False`` table).
        """
        return sa.Table(
            version_table,
            sa.MetaData(),
            sa.Column("version_num", sa.String(32), nullable=False),
            schema=version_table_schema,
        )


# Alembic's MySQL DDL, registered for "mysql" and "mariadb" only: the same forms for "singlestoredb".
for _element in (ColumnNullable, ColumnName, ColumnDefault, AlterColumnType):
    compiles(_element, DIALECT)(alembic_mysql._mysql_doesnt_support_individual)
compiles(alembic_mysql.MySQLAlterDefault, DIALECT)(alembic_mysql._mysql_alter_default)
compiles(alembic_mysql.MySQLModifyColumn, DIALECT)(alembic_mysql._mysql_modify_column)
compiles(alembic_mysql.MySQLChangeColumn, DIALECT)(alembic_mysql._mysql_change_column)
compiles(DropConstraint, DIALECT)(alembic_mysql._mysql_drop_constraint)


def _column_list(constraint: sa.sql.schema.ColumnCollectionConstraint, compiler: Any) -> str:
    return ", ".join(compiler.preparer.quote(c.name) for c in constraint.columns)


def _unique_key(constraint: UniqueConstraint, compiler: Any) -> str:
    name = compiler.preparer.format_constraint(constraint) if constraint.name is not None else None
    return " ".join(p for p in ("UNIQUE KEY", name, f"({_column_list(constraint, compiler)})") if p)


@compiles(UniqueConstraint, DIALECT)
def _create_table_unique(constraint: UniqueConstraint, compiler: Any, **kw: Any) -> str:
    """``UNIQUE KEY name (...)`` inside CREATE TABLE, as Agno writes it (not ``CONSTRAINT name UNIQUE (...)``)."""
    if len(constraint.columns) == 0:
        return ""
    return _unique_key(constraint, compiler)


@compiles(AddConstraint, DIALECT)
def _add_constraint(element: AddConstraint, compiler: Any, **kw: Any) -> str:
    """``ADD UNIQUE KEY`` and ``ADD PRIMARY KEY`` (SingleStore's ALTER TABLE has no ``ADD CONSTRAINT`` form)."""
    constraint = element.element
    table = compiler.preparer.format_table(constraint.table)
    if isinstance(constraint, PrimaryKeyConstraint):
        return f"ALTER TABLE {table} ADD PRIMARY KEY ({_column_list(constraint, compiler)})"
    if isinstance(constraint, UniqueConstraint):
        return f"ALTER TABLE {table} ADD {_unique_key(constraint, compiler)}"
    return str(compiler.visit_add_constraint(element, **kw))


__all__ = ["DIALECT", "SHARD_KEYS", "STR64", "STR512", "SingleStoreImpl", "table_options"]
