"""The little language the shapes are declared in, and the builder that turns a shape into SQLAlchemy objects.

A shape lists a table's columns, keys and indexes once.  Each element may say on which backends it exists
(``backends=PG+SQLITE``) and from which schema version (``since=``) until which (``until=``, exclusive).
``{T}`` in a name stands for the table's actual name.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from agno_alembic import registry
from agno_alembic.dialects import ColumnType
from agno_alembic.naming import Names

PG: tuple[str, ...] = (registry.POSTGRESQL,)
SQLITE: tuple[str, ...] = (registry.SQLITE,)
MYSQL: tuple[str, ...] = (registry.MYSQL, registry.SINGLESTORE)
"""MySQL and SingleStore share a declaration unless an element names SINGLESTORE alone."""
SINGLESTORE: tuple[str, ...] = (registry.SINGLESTORE,)


def _vkey(version: str) -> int:
    return registry.version_index(version)


@dataclass(frozen=True, kw_only=True)
class Element:
    backends: tuple[str, ...] | None = None
    since: str | None = None
    until: str | None = None

    def present(self, backend: str, version: str) -> bool:
        if self.backends is not None and backend not in self.backends:
            return False
        if self.since is not None and _vkey(version) < _vkey(self.since):
            return False
        return not (self.until is not None and _vkey(version) >= _vkey(self.until))


@dataclass(frozen=True)
class Column(Element):
    name: str
    type: ColumnType
    primary_key: bool = False
    nullable: bool | Mapping[str, bool] = True
    unique: bool = False

    def is_nullable(self, backend: str) -> bool:
        if self.primary_key:
            return False
        if isinstance(self.nullable, Mapping):
            return self.nullable.get(backend, self.nullable.get(registry.MYSQL, True))
        return self.nullable


@dataclass(frozen=True, init=False)
class PrimaryKey(Element):
    columns: tuple[str, ...]

    def __init__(self, *columns: str, **kw: object) -> None:
        object.__setattr__(self, "columns", columns)
        Element.__init__(self, **kw)  # type: ignore[arg-type]  # Element's own fields, checked by its __init__


@dataclass(frozen=True, init=False)
class Unique(Element):
    columns: tuple[str, ...]
    name: str

    def __init__(self, *columns: str, name: str, **kw: object) -> None:
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "name", name)
        Element.__init__(self, **kw)  # type: ignore[arg-type]  # Element's own fields, checked by its __init__


@dataclass(frozen=True, init=False)
class Index(Element):
    columns: tuple[str, ...]
    name: str
    unique: bool
    where: str | None
    mysql_length: int | None
    replaces: str | None
    """The name under which Agno's own migration created this index; a step that creates it drops that one."""

    def __init__(
        self,
        *columns: str,
        name: str | None = None,
        unique: bool = False,
        where: str | None = None,
        mysql_length: int | None = None,
        replaces: str | None = None,
        **kw: object,
    ) -> None:
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "name", name or "idx_{T}_" + "_".join(columns))
        object.__setattr__(self, "unique", unique)
        object.__setattr__(self, "where", where)
        object.__setattr__(self, "mysql_length", mysql_length)
        object.__setattr__(self, "replaces", replaces)
        Element.__init__(self, **kw)  # type: ignore[arg-type]  # Element's own fields, checked by its __init__


@dataclass(frozen=True, init=False)
class ForeignKey(Element):
    columns: tuple[str, ...]
    refers: str
    """``"<table type>.<column>[,<column>...]"``."""
    ondelete: str | None

    def __init__(self, *columns: str, refers: str, ondelete: str | None = None, **kw: object) -> None:
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "refers", refers)
        object.__setattr__(self, "ondelete", ondelete)
        Element.__init__(self, **kw)  # type: ignore[arg-type]  # Element's own fields, checked by its __init__

    @property
    def referred_type(self) -> str:
        return self.refers.split(".", 1)[0]

    @property
    def referred_columns(self) -> tuple[str, ...]:
        return tuple(self.refers.split(".", 1)[1].split(","))


@dataclass(frozen=True, init=False)
class Shape:
    """One table type's shape across every schema version and backend."""

    table_type: str
    elements: tuple[Element, ...] = field(default=())

    def __init__(self, table_type: str, *elements: Element) -> None:
        object.__setattr__(self, "table_type", table_type)
        object.__setattr__(self, "elements", elements)

    def at(self, backend: str, version: str, names: Names) -> TableSpec:
        """This shape as it is on ``backend`` at schema ``version``, with the actual names filled in."""
        name = names.table(self.table_type)
        present = [e for e in self.elements if e.present(backend, version)]
        columns = tuple(c for c in present if isinstance(c, Column))
        if twice := sorted(n for n, k in collections.Counter(c.name for c in columns).items() if k > 1):
            raise ValueError(f"shape {self.table_type!r} declares {', '.join(twice)} twice on {backend} at {version}")
        pk = next((p.columns for p in present if isinstance(p, PrimaryKey)), ())
        pk = pk or tuple(c.name for c in columns if c.primary_key)
        return TableSpec(
            table_type=self.table_type,
            name=name,
            schema=names.schema,
            backend=backend,
            version=version,
            columns={c.name: c for c in columns},
            primary_key=pk,
            uniques={u.name.format(T=name): u for u in present if isinstance(u, Unique)},
            indexes={i.name.format(T=name): i for i in present if isinstance(i, Index)},
            foreign_keys=tuple(f for f in present if isinstance(f, ForeignKey)),
            referred={f.referred_type: names.table(f.referred_type) for f in present if isinstance(f, ForeignKey)},
        )


@dataclass(frozen=True)
class TableSpec:
    """A shape resolved for one backend, version and set of names: what the operations build."""

    table_type: str
    name: str
    schema: str | None
    backend: str
    version: str
    columns: Mapping[str, Column]
    primary_key: tuple[str, ...]
    uniques: Mapping[str, Unique]
    indexes: Mapping[str, Index]
    foreign_keys: tuple[ForeignKey, ...]
    referred: Mapping[str, str]

    def sa_column(self, name: str) -> sa.Column[Any]:
        col = self.columns[name]
        return sa.Column(
            col.name, col.type.on(self.backend, self.version), nullable=col.is_nullable(self.backend),
        )

    def sa_columns(self) -> list[sa.Column[Any]]:
        return [self.sa_column(n) for n in self.columns]

    def sa_constraints(self, *, table_name: str | None = None) -> list[sa.Constraint]:
        out: list[sa.Constraint] = []
        if self.primary_key:
            out.append(sa.PrimaryKeyConstraint(*self.primary_key))
        for name, u in self.uniques.items():
            out.append(sa.UniqueConstraint(*u.columns, name=name))
        for c in self.columns.values():
            if c.unique:
                out.append(sa.UniqueConstraint(c.name))
        for fk in self.foreign_keys:
            out.append(self.sa_foreign_key(fk))
        return out

    def sa_foreign_key(self, fk: ForeignKey) -> sa.ForeignKeyConstraint:
        target = self.referred[fk.referred_type]
        prefix = f"{self.schema}.{target}" if self.schema else target
        return sa.ForeignKeyConstraint(
            list(fk.columns), [f"{prefix}.{c}" for c in fk.referred_columns], ondelete=fk.ondelete
        )

    def index_kwargs(self, index: Index) -> dict[str, Any]:
        kw: dict[str, Any] = {}
        if index.where is not None:
            kw["postgresql_where"] = sa.text(index.where)
            kw["sqlite_where"] = sa.text(index.where)
        if index.mysql_length is not None:
            kw["mysql_length"] = {c: index.mysql_length for c in index.columns}
        return kw

    def sa_table(self, metadata: sa.MetaData | None = None) -> sa.Table:
        """A complete :class:`sqlalchemy.Table` of this spec (stub tables are added for foreign keys)."""
        md = metadata or sa.MetaData()
        for fk in self.foreign_keys:
            target = self.referred[fk.referred_type]
            key = f"{self.schema}.{target}" if self.schema else target
            if key not in md.tables:
                sa.Table(target, md, *[sa.Column(c, sa.String()) for c in fk.referred_columns], schema=self.schema)
        table = sa.Table(self.name, md, *self.sa_columns(), *self.sa_constraints(), schema=self.schema)
        for name, ix in self.indexes.items():
            sa.Index(name, *[table.c[c] for c in ix.columns], unique=ix.unique, **self.index_kwargs(ix))
        return table
