"""``agno-alembic verify``: every table against the exact shape its recorded version implies, and the records
against each other.

A table's expected shape is :func:`agno_alembic.shapes.spec` at its recorded schema version (the
``agno_schema_versions`` row where it lies in what the branch's revision covers, else the branch's version), for
this backend and these names: the shapes every revision builds from.  Columns are compared as
:mod:`agno_alembic.detect` and :mod:`agno_alembic.ops` compare them (:func:`agno_alembic.dialects.type_matches`,
nullability, no server default); keys and indexes by name, columns and uniqueness.  The three records of where a
table is (the ``agno_schema_versions`` row, the branch in our version table, the version read from the table) are
compared too.

:func:`repair` fixes what needs no data to move: a missing index, a missing nullable column (created as the
revisions create them, through Alembic's operations), a branch record or ``agno_schema_versions`` row that does
not say where the table is (re-recorded from the table, as ``adopt --force`` does).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from agno_alembic import detect, dialects, plan, registry, shapes
from agno_alembic.naming import Names
from agno_alembic.ops import _diff
from agno_alembic.shapes._dsl import TableSpec

#: Differences :func:`repair` may fix (nothing is rewritten, nothing is dropped).
FIXABLE = frozenset({"missing_index", "missing_column", "stamp", "branch"})
"""(``missing_column`` only when the column is nullable; ``branch`` only when the table is exactly the shape of the
version read from it, or has no record at all.)"""


@dataclass(frozen=True)
class Difference:
    """One way a table differs from the shape of its recorded version, or its records from each other."""

    table_type: str
    table: str
    kind: str
    """``missing_table``, ``missing_column``, ``extra_column``, ``type``, ``nullable``, ``default``,
    ``primary_key``, ``missing_index``, ``extra_index``, ``index_definition``, ``missing_unique``,
    ``extra_unique``, ``missing_foreign_key``, ``extra_foreign_key``, ``stamp`` (the ``agno_schema_versions`` row
    says another version than the branch), ``branch`` (the branch record is not where the table is, or is missing),
    ``kept_column`` (a note: a column a step kept on purpose, not counted as a difference)."""
    name: str | None
    """The column, index or constraint concerned (``None`` for the table itself)."""
    expected: str | None
    actual: str | None
    fixable: bool
    """``verify --fix`` repairs it (see :data:`FIXABLE`; a missing column only when it is nullable)."""

    @property
    def counts(self) -> bool:
        return self.kind != "kept_column"

    def __str__(self) -> str:
        what = f"{self.kind} {self.name}" if self.name else self.kind
        return f"{self.table}: {what}: expected {self.expected or '-'}, found {self.actual or '-'}"

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TableReport:
    """One table: its records and its differences."""

    table_type: str
    table: str
    exists: bool
    version: str | None
    """The schema version whose shape the table was compared with (``None``: nothing to compare)."""
    recorded_version: str | None
    """The ``agno_schema_versions`` row (``None``: no row, which Agno reads as 2.0.0)."""
    branch_version: str | None
    """The version our version table's record of the branch gives (``None``: no record)."""
    detected_version: str | None
    differences: tuple[Difference, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {**{k: getattr(self, k) for k in ("table_type", "table", "exists", "version", "recorded_version",
                                                  "branch_version", "detected_version")},
                "differences": [d.to_dict() for d in self.differences]}


@dataclass(frozen=True)
class VerifyReport:
    """Every selected table's report; ``fixed``: what ``fix=True`` repaired (the reports are read after)."""

    backend: str
    tables: tuple[TableReport, ...]
    fixed: tuple[Difference, ...] = field(default=())

    @property
    def differences(self) -> list[Difference]:
        return [d for t in self.tables for d in t.differences if d.counts]

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, object]:
        return {"backend": self.backend, "ok": self.ok, "exit_code": self.exit_code,
                "differences": len(self.differences), "tables": [t.to_dict() for t in self.tables],
                "fixed": [d.to_dict() for d in self.fixed]}


def _type_text(type_: sa.types.TypeEngine[Any], dialect: sa.engine.Dialect) -> str:
    return dialects._type_text(type_, dialect)


def compare(connection: sa.Connection, spec: TableSpec, table_type: str) -> list[Difference]:
    """The differences between the table in the database and ``spec`` (the table must exist)."""
    insp = sa.inspect(connection)
    dialect = connection.dialect
    name, schema = spec.name, spec.schema
    out: list[Difference] = []

    def diff(kind: str, what: str | None, expected: object, actual: object, fixable: bool = False) -> None:
        out.append(Difference(table_type, name, kind, what, None if expected is None else str(expected),
                              None if actual is None else str(actual), fixable))

    columns = {c["name"]: c for c in insp.get_columns(name, schema=schema)}
    for cname, col in spec.columns.items():
        seen = columns.get(cname)
        want_type = col.type.on(spec.backend, spec.version)
        nullable = col.is_nullable(spec.backend)
        if seen is None:
            diff("missing_column", cname, f"{_type_text(want_type, dialect)}{'' if nullable else ' NOT NULL'}", None,
                 fixable=nullable)
            continue
        if not dialects.type_matches(seen["type"], want_type, dialect):
            diff("type", cname, _type_text(want_type, dialect), _type_text(seen["type"], dialect))
        if bool(seen["nullable"]) != nullable:
            diff("nullable", cname, "NULL" if nullable else "NOT NULL", "NULL" if seen["nullable"] else "NOT NULL")
        if seen.get("default") is not None:
            diff("default", cname, None, seen["default"])
    for cname in columns:
        if cname not in spec.columns:
            kept = (table_type, cname) == ("sessions", "runs") and registry.version_index(spec.version) >= (
                registry.version_index("3.0.0"))
            diff("kept_column" if kept else "extra_column", cname, None, _type_text(columns[cname]["type"], dialect))
    pk = tuple(insp.get_pk_constraint(name, schema=schema).get("constrained_columns") or ())
    if pk != tuple(spec.primary_key):
        diff("primary_key", None, ", ".join(spec.primary_key) or None, ", ".join(pk) or None)

    indexes = {i["name"]: i for i in insp.get_indexes(name, schema=schema)
               if i.get("name") and not i.get("duplicates_constraint")}
    uniques = {u["name"]: u for u in insp.get_unique_constraints(name, schema=schema)}
    named_uniques = {n for n in uniques if n}
    want_uniques = dict(spec.uniques)
    unnamed_want = {(c.name,) for c in spec.columns.values() if c.unique}
    for uname, u in want_uniques.items():
        if uname in named_uniques:
            continue
        found = indexes.get(uname)  # MySQL keeps a unique constraint as a unique index of that name
        if found is not None and found.get("unique") and tuple(found["column_names"]) == u.columns:
            continue
        diff("missing_unique", uname, ", ".join(u.columns), None)
    for found_name, found_unique in uniques.items():
        cols = tuple(found_unique["column_names"])
        if found_name in want_uniques or found_name in spec.indexes or (not found_name and cols in unnamed_want):
            continue
        if cols in unnamed_want:  # a column-level UNIQUE, named by the database
            continue
        diff("extra_unique", found_name or "(unnamed)", None, ", ".join(cols))
    for iname, ix in spec.indexes.items():
        found = indexes.get(iname)
        if found is None:
            if iname in named_uniques and ix.unique:
                continue
            diff("missing_index", iname, ", ".join(ix.columns), None, fixable=True)
            continue
        index_cols = tuple(found["column_names"])
        if index_cols != ix.columns or bool(found.get("unique")) != ix.unique:
            diff("index_definition", iname, f"{'unique ' if ix.unique else ''}({', '.join(ix.columns)})",
                 f"{'unique ' if found.get('unique') else ''}({', '.join(str(c) for c in index_cols)})")
    for found_name, found in indexes.items():
        if found_name in spec.indexes or found_name in want_uniques:
            continue
        if _fk_index(found, spec, connection):
            continue
        diff("extra_index", found_name, None, ", ".join(str(c) for c in found["column_names"]))

    want_fks = {(fk.columns, spec.referred[fk.referred_type], fk.referred_columns) for fk in spec.foreign_keys}
    seen_fks = {(tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in insp.get_foreign_keys(name, schema=schema)}
    for cols, table, refcols in sorted(want_fks - seen_fks):
        diff("missing_foreign_key", ", ".join(cols), f"{table}({', '.join(refcols)})", None)
    for cols, table, refcols in sorted(seen_fks - want_fks):
        diff("extra_foreign_key", ", ".join(cols), None, f"{table}({', '.join(refcols)})")
    return out


def _fk_index(found: Mapping[str, Any], spec: TableSpec, connection: sa.Connection) -> bool:
    """MySQL creates an index for a foreign key that has none; it is the key's, not an extra one."""
    if not dialects.is_mysql_like(spec.backend):
        return False
    cols = tuple(found["column_names"])
    return any(fk.columns == cols for fk in spec.foreign_keys)


def expected_version(
    script: ScriptDirectory, tt: registry.TableType, position: str | None, recorded: str | None
) -> str | None:
    """The version a table's records say it is at: the recorded row where the branch covers it, else the branch's."""
    if position is None:
        return recorded if recorded in registry.SCHEMA_VERSIONS else None
    first, top = plan.coverage(script, tt, position)
    if recorded in registry.SCHEMA_VERSIONS and registry.version_index(first) <= registry.version_index(
            recorded) <= registry.version_index(top):
        return recorded
    return plan.version_at(script, tt, position, None)


def table_report(
    connection: sa.Connection,
    script: ScriptDirectory,
    backend: str,
    names: Names,
    tt: registry.TableType,
    position: str | None,
    recorded: Mapping[str, str],
    has_versions_row: bool,
) -> TableReport:
    name = names.table(tt.name)
    exists = sa.inspect(connection).has_table(name, schema=names.schema)
    row = recorded.get(name)
    branch_version = plan.version_at(script, tt, position, None) if position else None
    found = detect.detect_revision(connection, script, backend, names, tt) if exists else None
    detected = plan.version_at(script, tt, found, None) if found else None
    diffs: list[Difference] = []
    stamped = tt.name != "versions"
    if not exists:
        version = None
        if position is not None:
            diffs.append(Difference(tt.name, name, "missing_table", None, branch_version, None, False))
        elif stamped and row is not None:
            diffs.append(Difference(tt.name, name, "stamp", None, None, row, True))
        return TableReport(tt.name, name, False, version, row, branch_version, None, tuple(diffs))
    version = expected_version(script, tt, position, row if stamped else None) or detected
    if version is None:
        version = tt.since
    if position is None:
        diffs.append(Difference(tt.name, name, "branch", None, found, None, True))
    elif found != position and _apart(script, backend, names, tt, position, found):
        # Re-recording is a repair only when the table is exactly the detected version's shape (else the drift is
        # elsewhere: a changed type makes the table look older, and moving the record would not mend it).
        exact = found is not None and not any(d.counts for d in compare(
            connection, shapes.spec(tt.name, backend, plan.version_at(script, tt, found, None), names), tt.name))
        diffs.append(Difference(tt.name, name, "branch", None, position, found, exact))
    if stamped and has_versions_row and position is not None:
        want = expected_version(script, tt, position, row)
        if row != want:
            diffs.append(Difference(tt.name, name, "stamp", None, want, row, True))
    spec = shapes.spec(tt.name, backend, version, names)
    diffs.extend(compare(connection, spec, tt.name))
    return TableReport(tt.name, name, True, version, row, branch_version, detected, tuple(diffs))


def _apart(
    script: ScriptDirectory, backend: str, names: Names, tt: registry.TableType, position: str, found: str | None
) -> bool:
    """Whether the branch record and the detected revision really disagree: the table lacks a step the record
    claims, or has a later step's changes (steps that change nothing on this backend cannot tell them apart)."""
    if found is None or plan.order(script, tt, found) < plan.order(script, tt, position):
        return True
    recorded = shapes.spec(tt.name, backend, plan.version_at(script, tt, position, None), names)
    detected = shapes.spec(tt.name, backend, plan.version_at(script, tt, found, None), names)
    return not _diff(recorded, detected).empty


def repair_shape(connection: sa.Connection, backend: str, names: Names, report: TableReport) -> list[Difference]:
    """Create the missing indexes and nullable columns of one table, as the revisions create them."""
    todo = [d for d in report.differences if d.fixable and d.kind in ("missing_index", "missing_column")]
    if not todo or report.version is None:
        return []
    spec = shapes.spec(report.table_type, backend, report.version, names)
    if connection.in_transaction():
        connection.commit()
    with connection.begin():
        ops = Operations(MigrationContext.configure(connection))
        for d in sorted(todo, key=lambda d: d.kind != "missing_column"):  # columns first: an index may need one
            if d.kind == "missing_column":
                ops.add_column(spec.name, spec.sa_column(d.name or ""), schema=spec.schema)
            else:
                ix = spec.indexes[d.name or ""]
                ops.create_index(d.name or "", spec.name, list(ix.columns), unique=ix.unique, schema=spec.schema,
                                 **spec.index_kwargs(ix))
    return todo


def needs_rerecord(report: TableReport) -> bool:
    """The table is unadopted, or its branch record is not where the table is and the table is exactly the shape
    of the detected version: the record is re-read from the table (as ``adopt --force`` does) first."""
    return any(d.kind == "branch" and d.fixable for d in report.differences)


def records_to_fix(reports: Sequence[TableReport]) -> tuple[list[str], list[str]]:
    """Table types whose branch record must be re-read from the table, and those whose stamp row must be rewritten."""
    branch = [t.table_type for t in reports if needs_rerecord(t)]
    stamp = [t.table_type for t in reports if any(d.kind == "stamp" for d in t.differences)]
    return branch, stamp


def render(report: VerifyReport) -> str:
    """The report as text: a line per difference, what was fixed, and a summary."""
    lines = [f"fixed: {d}" for d in report.fixed]
    for t in report.tables:
        for d in t.differences:
            mark = "note" if not d.counts else ("fixable" if d.fixable else "manual")
            lines.append(f"[{mark}] {d}")
    n = len(report.differences)
    fixable = sum(1 for d in report.differences if d.fixable)
    lines.append(f"{len(report.tables)} table(s) checked: "
                 + ("no differences" if not n else f"{n} difference(s), {fixable} fixable with --fix"))
    return "\n".join(lines)
