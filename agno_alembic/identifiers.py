"""Names the backend can hold, checked before any DDL: refused with a clear error, never truncated.

Every table, schema, index and constraint name agno-alembic writes goes through SQLAlchemy's quoting, whatever it
holds (hyphens, spaces, quotes, backticks, ``;``, ``--``, non-ASCII letters, mixed case).  What a backend cannot
hold at all is refused by :func:`check` before the first statement of a run, with every problem listed:

* any backend: a name that is not a non-empty string, or holds a control character (U+0000-U+001F, U+007F);
  two tables of one configuration under the same name (case-insensitively on SQLite and MySQL);
* PostgreSQL: a name longer than 63 bytes (UTF-8): the table name, the schema, and every name derived from the
  table name (``idx_<table>_<columns>``, ``<table>_uq_...``, ``<table>_pkey``); a schema starting with ``pg_``;
  an index or constraint name that equals another relation's name in the schema;
* MySQL, MariaDB, SingleStore: a name longer than 64 characters (derived ones included), ending in a space, or
  holding a character beyond U+FFFF; a table with a foreign key longer than 56 characters (the server names the
  key ``<table>_ibfk_<n>`` and refuses that name from 64 characters on);
  MySQL/MariaDB also: a table name whose file name (characters other than ``[A-Za-z0-9_]`` are written
  ``@xxxx``) exceeds 251 bytes, a database name whose directory name exceeds 255 bytes;
* MySQL, SingleStore: a backtick in a table name with indexes (SQLAlchemy's reflection returns index names with
  their backticks still doubled, so a later step could not find its own index);
* SingleStore: a name holding ``%`` (the singlestoredb driver leaves SQLAlchemy's ``%%`` doubled in statements
  without parameters, so the server would get another name);
* SQLite: a table or index name starting with ``sqlite_``, or equal to another one ignoring case.

A derived name is never shortened: PostgreSQL would silently truncate it at 63 bytes, and two truncated names
can collide.  The error says how long each table's name may be (:func:`max_table_name_length`).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from agno_alembic import registry, shapes
from agno_alembic.errors import ConfigurationError
from agno_alembic.naming import Names
from agno_alembic.shapes._dsl import Index, Unique

__all__ = ["check", "max_table_name_length", "problems"]

PG_MAX_BYTES = 63
MYSQL_MAX_CHARS = 64
MYSQL_FK_TABLE_MAX = 56
MYSQL_TABLE_FILE_MAX = 251
MYSQL_DATABASE_DIR_MAX = 255
_T = "{T}"
_BACKEND_NAMES = {
    registry.POSTGRESQL: "PostgreSQL", registry.MYSQL: "MySQL/MariaDB", registry.SINGLESTORE: "SingleStore",
    registry.SQLITE: "SQLite",
}


@dataclass(frozen=True)
class _Name:
    kind: str  # table | schema | index | unique constraint | primary key | version table
    name: str
    option: str
    table_type: str | None = None
    template: str | None = None


def _option(tt: registry.TableType) -> str:
    return tt.keyword or f"{tt.name}_table"


def _templates(tt: registry.TableType, backend: str) -> dict[str, str]:
    """Derived names of a table type on ``backend`` at any schema version: template -> kind."""
    out: dict[str, str] = {}
    first = registry.version_index(tt.since)
    last = registry.version_index(tt.last_version)
    versions = registry.SCHEMA_VERSIONS[first : last + 1]
    for element in shapes.shape(tt.name).elements:
        if isinstance(element, Unique | Index) and any(element.present(backend, v) for v in versions):
            out[element.name] = "index" if isinstance(element, Index) else "unique constraint"
    if backend == registry.POSTGRESQL:
        keys = {shapes.shape(tt.name).at(backend, v, Names()).primary_key for v in versions}
        if len(keys) > 1:  # a step swaps the primary key and names the new one <table>_pkey
            out[_T + "_pkey"] = "primary key"
    return out


def _has_foreign_key(tt: registry.TableType, backend: str) -> bool:
    first = registry.version_index(tt.since)
    last = registry.version_index(tt.last_version)
    return any(
        shapes.shape(tt.name).at(backend, v, Names()).foreign_keys
        for v in registry.SCHEMA_VERSIONS[first : last + 1]
    )


def max_table_name_length(table_type: str, backend: str) -> int | None:
    """The longest table name (PostgreSQL: in UTF-8 bytes; MySQL, SingleStore: in characters) ``table_type`` may
    have on ``backend``, its derived names included; ``None``: no limit (SQLite)."""
    tt = registry.table_type(table_type)
    if backend == registry.SQLITE:
        return None
    templates = [t for t in _templates(tt, backend) if _T in t]
    if backend == registry.POSTGRESQL:
        overhead = max((len(t.replace(_T, "").encode()) for t in templates), default=0)
        return PG_MAX_BYTES - overhead
    overhead = max((len(t.replace(_T, "")) for t in templates), default=0)
    limit = MYSQL_MAX_CHARS - overhead
    if _has_foreign_key(tt, backend):
        limit = min(limit, MYSQL_FK_TABLE_MAX)
    return limit


def _mysql_file_bytes(name: str) -> int:
    """The length of ``name`` as MySQL writes it in a file name (``my_charset_filename``)."""
    total = 0
    for ch in name:
        code = ord(ch)
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            total += 1
        elif ch.isalpha() and (0x00C0 <= code <= 0x05FF or 0x1E00 <= code <= 0x1FFF or 0xFF20 <= code <= 0xFF5F):
            total += 3
        else:
            total += 5
    return total


def _names(names: Names, backend: str) -> list[_Name]:
    out: list[_Name] = []
    if names.schema is not None:
        out.append(_Name("schema", names.schema, "schema"))
    for tt in registry.TABLE_TYPES:
        if not tt.on(backend):
            continue
        table = names.table(tt.name)
        out.append(_Name("table", table, _option(tt), tt.name))
        if not isinstance(table, str):
            continue
        for template, kind in _templates(tt, backend).items():
            out.append(_Name(kind, template.replace(_T, table), _option(tt), tt.name, template))
    out.append(_Name("version table", names.alembic_version_table, "version_table"))
    return out


def _bad_text(name: object) -> str | None:
    if not isinstance(name, str):
        return f"is not a string ({type(name).__name__})"
    if not name:
        return "is empty"
    controls = sorted({f"U+{ord(c):04X}" for c in name if unicodedata.category(c) == "Cc"})
    if controls:
        return f"holds control character(s) {', '.join(controls)}"
    return None


def _length_problem(n: _Name, backend: str) -> str | None:
    if backend == registry.POSTGRESQL:
        size = len(n.name.encode())
        if size > PG_MAX_BYTES:
            return f"is {size} bytes long; PostgreSQL holds {PG_MAX_BYTES} bytes (it would silently truncate it)"
        return None
    if backend in (registry.MYSQL, registry.SINGLESTORE) and len(n.name) > MYSQL_MAX_CHARS:
        return f"is {len(n.name)} characters long; {_BACKEND_NAMES[backend]} holds {MYSQL_MAX_CHARS}"
    return None


def _backend_problem(n: _Name, backend: str) -> str | None:
    name = n.name
    if backend == registry.POSTGRESQL and n.kind == "schema" and name.lower().startswith("pg_"):
        return "starts with pg_, which PostgreSQL reserves for system schemas"
    if backend in (registry.MYSQL, registry.SINGLESTORE):
        if name.endswith(" "):
            return f"ends with a space, which {_BACKEND_NAMES[backend]} refuses"
        wide = sorted({f"U+{ord(c):X}" for c in name if ord(c) > 0xFFFF})
        if wide:
            return f"holds character(s) beyond U+FFFF ({', '.join(wide)}), which MySQL identifiers cannot hold"
    if backend in (registry.MYSQL, registry.SINGLESTORE) and "`" in name and n.kind in (
            "index", "unique constraint"):
        return ("holds a backtick, and SQLAlchemy's MySQL reflection returns index names with their backticks still "
                "doubled, so later steps could not find this index again")
    if backend == registry.SINGLESTORE and "%" in name:
        return ("holds %, which the singlestoredb driver sends as %% in a statement without parameters (SQLAlchemy "
                "doubles it for the driver), so the server would create another name")
    if backend == registry.MYSQL:
        if n.kind in ("table", "version table") and _mysql_file_bytes(name) > MYSQL_TABLE_FILE_MAX:
            return (f"takes {_mysql_file_bytes(name)} bytes as a MySQL file name (characters other than A-Z, a-z, "
                    f"0-9 and _ take 3 or 5), over {MYSQL_TABLE_FILE_MAX}")
        if n.kind == "schema" and _mysql_file_bytes(name) > MYSQL_DATABASE_DIR_MAX:
            return (f"takes {_mysql_file_bytes(name)} bytes as a MySQL directory name (characters other than A-Z, "
                    f"a-z, 0-9 and _ take 3 or 5), over {MYSQL_DATABASE_DIR_MAX}")
    if backend == registry.SQLITE and n.kind in ("table", "index", "version table") \
            and name.lower().startswith("sqlite_"):
        return "starts with sqlite_, which SQLite reserves"
    return None


def _short(n: _Name, problem: str, backend: str) -> str:
    if problem.startswith("is ") and " long" in problem:
        size = len(n.name.encode()) if backend == registry.POSTGRESQL else len(n.name)
        unit = "bytes" if backend == registry.POSTGRESQL else "characters"
        limit = PG_MAX_BYTES if backend == registry.POSTGRESQL else MYSQL_MAX_CHARS
        return f"{n.kind} {n.name!r} ({size} {unit}, over {limit})"
    return f"{n.kind} {n.name!r} {problem}"


def _describe(n: _Name, names: Names) -> str:
    if n.kind == "schema":
        return f"schema {n.name!r}"
    if n.kind == "version table":
        return f"our Alembic version table {n.name!r} (version_table)"
    if n.kind == "table":
        tt = registry.table_type(n.table_type or "")
        after = ", named after session_table unless set" if "{sessions}" in tt.default_table \
            and tt.name not in names.tables else ""
        return f"{n.table_type} table {n.name!r} ({n.option}{after})"
    return f"{n.kind} {n.name!r} of the {n.table_type} table ({n.template}, from {n.option})"


def _limit_hint(n: _Name, backend: str) -> str:
    if n.table_type is None or n.kind == "schema":
        return ""
    limit = max_table_name_length(n.table_type, backend)
    if limit is None:
        return ""
    unit = "bytes" if backend == registry.POSTGRESQL else "characters"
    return f"; the {n.table_type} table's name may be at most {limit} {unit} on {_BACKEND_NAMES[backend]}"


def problems(names: Names, backend: str) -> list[tuple[str, str]]:
    """Every name of ``names`` that ``backend`` cannot hold, as ``(option, message)``; empty when all is well."""
    tables = tuple(sorted(names.tables.items(), key=lambda kv: str(kv[0])))
    plain = all(isinstance(v, str) for _, v in tables) and all(
        v is None or isinstance(v, str) for v in (names.schema, names.version_table)
    )
    if plain:
        return list(_cached(names.schema, tables, names.version_table, backend))
    return _find(names, backend)


@functools.lru_cache(maxsize=64)
def _cached(schema: str | None, tables: tuple[tuple[str, str], ...], version_table: str | None, backend: str,
            ) -> tuple[tuple[str, str], ...]:
    return tuple(_find(Names(schema=schema, tables=dict(tables), version_table=version_table), backend))


def _find(names: Names, backend: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    derived: dict[str, list[str]] = {}  # table type -> "name (problem)" of its derived names

    def add(option: str, message: str) -> None:
        if (option, message) not in found:
            found.append((option, message))

    all_names = _names(names, backend)
    bad_tables = set()
    for n in all_names:
        text = _bad_text(n.name)
        if text is not None:
            if n.table_type in bad_tables and n.kind not in ("table", "schema", "version table"):
                continue  # the table name's own problem, already said
            if n.kind == "table":
                bad_tables.add(n.table_type)
            add(n.option, f"{_describe(n, names) if isinstance(n.name, str) else n.kind + ' ' + repr(n.name)} {text}")
            continue
        for problem in (_length_problem(n, backend), _backend_problem(n, backend)):
            if not problem:
                continue
            if n.kind in ("table", "schema", "version table"):
                if n.kind == "table":
                    bad_tables.add(n.table_type)
                add(n.option, f"{_describe(n, names)} {problem}{_limit_hint(n, backend)}")
            elif n.table_type not in bad_tables or "long" in problem:
                derived.setdefault(n.table_type or "", []).append(_short(n, problem, backend))
    for n in all_names:
        if n.kind == "table" and n.table_type in derived:
            listed = "; ".join(derived.pop(n.table_type))
            add(n.option, f"{_describe(n, names)} gives derived names {_BACKEND_NAMES[backend]} cannot hold: "
                f"{listed}{_limit_hint(n, backend)}")
    if backend in (registry.MYSQL, registry.SINGLESTORE):
        for tt in registry.TABLE_TYPES:
            table = names.table(tt.name)
            if tt.on(backend) and isinstance(table, str) and _has_foreign_key(tt, backend) \
                    and len(table) > MYSQL_FK_TABLE_MAX:
                add(_option(tt), f"{tt.name} table {table!r} ({_option(tt)}) is {len(table)} characters long; it "
                    f"has a foreign key, which the server names <table>_ibfk_<n> and refuses from 64 characters on, "
                    f"so the name may be at most {MYSQL_FK_TABLE_MAX} characters")
    for option, message in _clashes(all_names, backend, names):
        add(option, message)
    return found


def _fold(name: str, backend: str) -> str:
    return name if backend == registry.POSTGRESQL else name.casefold()


def _clashes(all_names: list[_Name], backend: str, names: Names) -> list[tuple[str, str]]:
    """Two tables under one name, or (PostgreSQL, SQLite) an index or constraint named like another relation."""
    out: list[tuple[str, str]] = []
    valid = [n for n in all_names if isinstance(n.name, str) and n.kind != "schema"]
    relation_kinds = {"table", "version table"}
    if backend == registry.POSTGRESQL:
        relation_kinds |= {"index", "unique constraint", "primary key"}
    elif backend == registry.SQLITE:
        relation_kinds |= {"index"}
    table_of = {n.table_type: _fold(n.name, backend) for n in valid if n.kind == "table"}
    by_name: dict[str, list[_Name]] = {}
    for n in valid:
        if n.kind in relation_kinds:
            by_name.setdefault(_fold(n.name, backend), []).append(n)
    clashing_tables: set[str] = set()
    for group in sorted(by_name.values(), key=lambda g: any(n.kind != "table" for n in g)):
        distinct = {(n.kind, n.table_type, n.name) for n in group}
        if len(distinct) < 2:
            continue
        if all(n.kind == "table" for n in group):
            clashing_tables.update(table_of[n.table_type] for n in group)
        elif all(n.kind not in ("table", "version table") for n in group) and \
                all(table_of.get(n.table_type) in clashing_tables for n in group):
            continue  # follows from two tables sharing a name, said already
        what = " and ".join(_describe(n, names) for n in group)
        space = "ignoring case " if backend != registry.POSTGRESQL else ""
        out.append((group[-1].option, f"{what} share one name {space}in one schema; give them distinct names"))
    return out


def check(names: Names, backend: str) -> None:
    """Raise :class:`ConfigurationError` listing every name ``backend`` cannot hold, before anything runs."""
    found = problems(names, backend)
    if not found:
        return
    listed = "\n".join(f"  - {message}" for _, message in found)
    raise ConfigurationError(
        f"{_BACKEND_NAMES.get(backend, backend)} cannot hold these names; nothing was changed:\n{listed}\n"
        "Choose shorter or plainer names (see docs/safety.md); agno-alembic never shortens a name by itself.",
        option=found[0][0],
    )
