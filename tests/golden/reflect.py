"""Reflect a database schema into a plain, comparable dict, and diff two such dicts.

Only the standard library and SQLAlchemy are needed (no Agno). The per-table structure is
the one written by the reference generator ``make_golden.py`` (``worker_reflect``), so a
snapshot taken here can be compared with the shared reference files.

Usage::

    from sqlalchemy import create_engine
    from tests.golden.reflect import diff, load_snapshot, reflect

    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/mydb")
    actual = reflect(engine, "ai", exclude={"alembic_version"})
    problems = diff(load_snapshot("3.0.0", "postgres"), actual)
    assert not problems, "\\n".join(problems)

``reflect()`` returns ``{"tables": {name: table}, "agno_schema_versions": rows | None}``.
A table is ``{"columns", "primary_key", "unique_constraints", "indexes", "foreign_keys",
"check_constraints"}`` plus ``"table_options"`` on MySQL/MariaDB. One normalisation differs
from ``make_golden.py``: a foreign key whose ``referred_schema`` is the reflected schema is
written as ``"<schema>"`` on every backend, so results do not depend on the database or
schema name. Snapshot files may carry extra top-level keys (e.g. ``"header"``); ``diff()``
only looks at ``"tables"`` and ``"agno_schema_versions"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, table, text
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.engine.reflection import Inspector
from sqlalchemy.exc import CompileError

SCHEMA_PLACEHOLDER = "<schema>"
SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
TIMESTAMP_COLUMNS = ("created_at", "updated_at")
_COLUMN_EXTRAS = ("autoincrement", "comment", "computed", "identity")

Table = dict[str, Any]


# ------------------------------------------------------------------ reflection


def reflect(
    engine_or_connection: Engine | Connection,
    schema: str | None,
    *,
    exclude: Iterable[str] = frozenset(),
    versions_table: str = "agno_schema_versions",
) -> dict[str, Any]:
    """Reflect every table of ``schema`` (``None``: the default schema, e.g. SQLite main).

    ``exclude`` names tables left out of ``"tables"``; it does not affect the rows read
    from ``versions_table`` (``None`` when that table does not exist).
    """
    with _connection(engine_or_connection) as conn:
        insp = inspect(conn)
        names = sorted(set(insp.get_table_names(schema=schema)) - set(exclude))
        tables = {name: _reflect_table(insp, name, schema) for name in names}
        rows = _version_rows(conn, schema, versions_table)
    return {"tables": tables, "agno_schema_versions": rows}


@contextmanager
def _connection(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn


def _reflect_table(insp: Inspector, name: str, schema: str | None) -> Table:
    result: Table = {
        "columns": _columns(insp, name, schema),
        "primary_key": _primary_key(insp.get_pk_constraint(name, schema=schema)),
        "unique_constraints": _uniques(insp.get_unique_constraints(name, schema=schema)),
        "indexes": _indexes(insp.get_indexes(name, schema=schema)),
        "foreign_keys": _foreign_keys(insp, insp.get_foreign_keys(name, schema=schema), schema),
        "check_constraints": _checks(insp, name, schema),
    }
    if insp.dialect.name in ("mysql", "mariadb"):
        options = insp.get_table_options(name, schema=schema)
        result["table_options"] = {k: str(v) for k, v in sorted(options.items())}
    return result


def _columns(insp: Inspector, name: str, schema: str | None) -> dict[str, Any]:
    columns = {}
    for position, col in enumerate(insp.get_columns(name, schema=schema)):
        entry = {
            "position": position,
            "type": _compile_type(col["type"], insp.dialect),
            "nullable": bool(col["nullable"]),
            "server_default": _norm_default(col.get("default")),
        }
        for key in _COLUMN_EXTRAS:
            value = col.get(key)
            if value in (None, False) or (key == "autoincrement" and value == "auto"):
                continue
            entry[key] = _plain(value)
        columns[col["name"]] = entry
    return columns


def _compile_type(type_: Any, dialect: Dialect) -> str:
    try:
        return str(type_.compile(dialect=dialect))
    except (
        CompileError,
        NotImplementedError,
    ) as exc:  # recorded, as make_golden.py does
        return f"<uncompilable {type_!r}: {exc}>"


def _norm_default(default: Any) -> str | None:
    return None if default is None else str(default)


def _plain(value: Any) -> Any:
    """Make a reflected value JSON-friendly (make_golden.py relied on json's default=str)."""
    return json.loads(json.dumps(value, default=str))


def _primary_key(pk: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": pk.get("name"),
        "columns": list(pk.get("constrained_columns") or []),
    }


def _uniques(uniques: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    result = {}
    for uq in uniques:
        key = uq.get("name") or "<unnamed>:" + ",".join(uq["column_names"])
        entry = {"name": uq.get("name"), "columns": list(uq["column_names"])}
        if uq.get("duplicates_index"):
            entry["duplicates_index"] = uq["duplicates_index"]
        result[key] = entry
    return result


def _indexes(indexes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    result = {}
    for ix in indexes:
        key = ix.get("name") or "<unnamed>:" + ",".join(str(c) for c in ix["column_names"])
        entry: dict[str, Any] = {
            "name": ix.get("name"),
            "columns": list(ix["column_names"]),
            "unique": bool(ix["unique"]),
        }
        expressions = ix.get("expressions")
        if expressions and any(e is not None for e in expressions):
            entry["expressions"] = [str(e) for e in expressions]
        options = ix.get("dialect_options") or {}
        options = {k: str(v) for k, v in options.items() if v not in (None, [], {})}
        if options:
            entry["dialect_options"] = options
        if ix.get("duplicates_constraint"):
            entry["duplicates_constraint"] = ix["duplicates_constraint"]
        result[key] = entry
    return result


def _foreign_keys(insp: Inspector, fks: Iterable[Mapping[str, Any]], schema: str | None) -> list[dict[str, Any]]:
    same_schema = {schema}
    if schema is None:
        same_schema.add(insp.default_schema_name)
    result = []
    for fk in fks:
        options = fk.get("options") or {}
        referred = fk.get("referred_schema")
        result.append(
            {
                "name": fk.get("name"),
                "columns": list(fk["constrained_columns"]),
                "referred_schema": SCHEMA_PLACEHOLDER if referred in same_schema else referred,
                "referred_table": fk["referred_table"],
                "referred_columns": list(fk["referred_columns"]),
                "ondelete": options.get("ondelete"),
                "onupdate": options.get("onupdate"),
                "options": {k: str(v) for k, v in sorted(options.items())},
            }
        )
    return sorted(result, key=lambda f: (str(f["name"]), f["columns"]))


def _checks(insp: Inspector, name: str, schema: str | None) -> list[dict[str, Any]]:
    try:
        checks = insp.get_check_constraints(name, schema=schema)
    except NotImplementedError:
        return []
    result = [{"name": ck.get("name"), "sqltext": str(ck.get("sqltext"))} for ck in checks]
    return sorted(result, key=lambda c: (str(c["name"]), c["sqltext"]))


def _version_rows(conn: Connection, schema: str | None, versions_table: str) -> list[dict[str, Any]] | None:
    if not inspect(conn).has_table(versions_table, schema=schema):
        return None
    query = select(text("*")).select_from(table(versions_table, schema=schema))
    rows = [_mask_row(dict(row._mapping)) for row in conn.execute(query)]
    return sorted(rows, key=lambda r: (str(r.get("table_name")), str(r.get("version"))))


def _mask_row(row: dict[str, Any]) -> dict[str, Any]:
    for key in TIMESTAMP_COLUMNS:
        if key in row and row[key] is not None:
            row[key] = f"<timestamp {type(row[key]).__name__}>"
    return {k: _plain(v) for k, v in row.items()}


# ------------------------------------------------------------------ snapshots


def load_snapshot(schema_version: str, backend: str) -> dict[str, Any]:
    """Read ``tests/golden/snapshots/<schema_version>/<backend>.json``."""
    path = SNAPSHOT_DIR / schema_version / f"{backend}.json"
    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ diff


def diff(
    expected: Mapping[str, Any],
    actual: Mapping[str, Any],
    *,
    ignore_column_order: bool = True,
    ignore_tables: Iterable[str] = frozenset(),
) -> list[str]:
    """Human-readable differences between two ``reflect()`` results; ``[]`` if identical."""
    skip = set(ignore_tables)
    exp_tables = {k: v for k, v in expected["tables"].items() if k not in skip}
    act_tables = {k: v for k, v in actual["tables"].items() if k not in skip}
    out = [f"missing table {t}" for t in sorted(exp_tables.keys() - act_tables.keys())]
    out += [f"extra table {t}" for t in sorted(act_tables.keys() - exp_tables.keys())]
    for name in sorted(exp_tables.keys() & act_tables.keys()):
        out += _diff_table(name, exp_tables[name], act_tables[name], ignore_column_order)
    out += _diff_versions(expected.get("agno_schema_versions"), actual.get("agno_schema_versions"))
    return out


def _diff_table(name: str, exp: Table, act: Table, ignore_column_order: bool) -> list[str]:
    out = _diff_columns(name, exp["columns"], act["columns"], ignore_column_order)
    for key in sorted((exp.keys() | act.keys()) - {"columns"}):
        out += _diff_part(f"{name}: {key}", exp.get(key), act.get(key))
    return out


def _diff_columns(table_name: str, exp: dict[str, Any], act: dict[str, Any], ignore_order: bool) -> list[str]:
    where = f"{table_name}: column"
    out = [f"{where} {c} missing" for c in sorted(exp.keys() - act.keys())]
    out += [f"{where} {c} extra: {_show(act[c])}" for c in sorted(act.keys() - exp.keys())]
    for col in sorted(exp.keys() & act.keys()):
        for key in sorted((exp[col].keys() | act[col].keys()) - {"position"}):
            out += _diff_value(f"{where} {col} {key}", exp[col].get(key), act[col].get(key))
    if not ignore_order:
        exp_order = sorted(exp, key=lambda c: exp[c]["position"])
        act_order = sorted(act, key=lambda c: act[c]["position"])
        out += _diff_value(f"{table_name}: column order", exp_order, act_order)
    return out


def _diff_part(where: str, exp: Any, act: Any) -> list[str]:
    """Named entries (dicts of dicts) are compared one by one; anything else as a whole."""
    if isinstance(exp, dict) and isinstance(act, dict) and _all_dicts(exp, act):
        out = [f"{where} {k} missing: {_show(exp[k])}" for k in sorted(exp.keys() - act.keys())]
        out += [f"{where} {k} extra: {_show(act[k])}" for k in sorted(act.keys() - exp.keys())]
        for key in sorted(exp.keys() & act.keys()):
            out += _diff_value(f"{where} {key}", exp[key], act[key])
        return out
    if isinstance(exp, list) and isinstance(act, list) and _all_dicts(exp, act):
        return _diff_part(where, _keyed(exp), _keyed(act))
    return _diff_value(where, exp, act)


def _all_dicts(*containers: Any) -> bool:
    items = [v for c in containers for v in (c.values() if isinstance(c, dict) else c)]
    return all(isinstance(v, dict) for v in items)


def _keyed(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Key FK/check entries by name (plus columns or text, as names may be None)."""
    keyed: dict[str, Any] = {}
    for entry in entries:
        detail = entry.get("columns") or entry.get("sqltext") or ""
        key = f"{entry.get('name')}({','.join(detail) if isinstance(detail, list) else detail})"
        while key in keyed:
            key += "'"
        keyed[key] = entry
    return keyed


def _diff_value(where: str, exp: Any, act: Any) -> list[str]:
    return [] if exp == act else [f"{where}: expected {_show(exp)}, got {_show(act)}"]


def _diff_versions(exp: list[dict[str, Any]] | None, act: list[dict[str, Any]] | None) -> list[str]:
    where = "agno_schema_versions"
    if exp is None or act is None:
        return _diff_value(f"{where} rows", exp, act)
    exp_rows = {str(r.get("table_name")): r for r in exp}
    act_rows = {str(r.get("table_name")): r for r in act}
    if len(exp_rows) != len(exp) or len(act_rows) != len(act):
        return _diff_value(f"{where} rows", exp, act)
    return _diff_part(f"{where} row", exp_rows, act_rows)


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
