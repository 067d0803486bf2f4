"""Hostile names for tables, schema and our version table: the migration succeeds with the right schema, or a clear
error comes before any change.

**Accepted** (every backend; SingleStore is the ``singlestoredb://`` driver against MariaDB): table names with
hyphens and spaces, double quotes, backticks, ``;`` and ``--`` (an SQL injection attempt), non-ASCII letters and
CJK, mixed case, a single quote and ``%`` (the MySQL drivers' parameter marker), and a name of exactly the maximum
length the backend allows for that table type (derived index names included); a schema (PostgreSQL, MySQL,
SingleStore) and a version table with quotes, backticks, ``;``, ``--`` and non-ASCII letters.  A database with
those names, filled at 2.0.0 (sessions with legacy runs, memories, metrics, evals, knowledge), goes up to 3.0.0 and
down to 2.0.0; after each move it must equal, schema and rows, the same moves on a database with Agno's default
names once every name is mapped back.

**Refused before any change**: a name one byte/character over the maximum, control characters, names the backend
cannot hold (MySQL: a trailing space, characters beyond U+FFFF; PostgreSQL: a ``pg_`` schema; SQLite: ``sqlite_``),
two tables under one name.  The error is a :class:`~agno_alembic.errors.ConfigurationError` naming the option, and
the database is untouched: no table, no schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from agno_alembic import SyncMigrationManager, identifiers, registry
from agno_alembic.errors import ConfigurationError
from agno_alembic.naming import Names
from tests.test_lock import KINDS, Dump, Target, differences, dump, insert_rows, make_target

SEEDED = {"sessions": "2.0.0", "memories": "2.0.0", "metrics": "2.0.0", "evals": "2.0.0", "knowledge": "2.0.0"}
TABLES = ("sessions", "memories", "metrics", "evals", "knowledge", "runs", "spans", "traces")
TRIED: list[str] = []


def hostile_tables(backend: str) -> dict[str, str]:
    """Table type -> hostile name, each one a different kind of trouble."""
    longest = identifiers.max_table_name_length("traces", backend)
    mysql_like = backend in (registry.MYSQL, registry.SINGLESTORE)
    return {
        "sessions": "agno-sessions v2",
        "memories": 'my "memories"',
        # a backtick in a table name is refused on MySQL and SingleStore (see refused_names); theirs gets a quote
        "metrics": "metrics`; DROP TABLE x; --" if not mysql_like else "metrics'; DROP TABLE x; --",
        "evals": "Évals ünïcode 評価",
        "knowledge": "Knowledge_MixedCase",
        # % is the MySQL drivers' parameter marker; the singlestoredb driver cannot carry it (refused below)
        "runs": "runs 'quoted' 100%" if backend != registry.SINGLESTORE else "runs 'quoted' 100 percent",
        "spans": "spans -- comment",
        "traces": "T" * (longest or 200),
    }


def hostile_schema(kind: str) -> str | None:
    return None if kind == "sqlite" else f'ai-"schema`;--ü {uuid.uuid4().hex[:6]}'


HOSTILE_VERSION_TABLE = 'agno "alembic" `version`'


def _mapping(names: Names, default: Names) -> list[tuple[str, str]]:
    pairs = {names.table(t): default.table(t) for t in {*names.tables, "sandbox_bindings"}}
    pairs[names.alembic_version_table] = default.alembic_version_table
    # SQLite's reflection leaves the doubled quotes of a quoted constraint name in it (Alembic's <table>_pkc)
    pairs.update({old.replace('"', '""'): new for old, new in list(pairs.items()) if '"' in old})
    return sorted(pairs.items(), key=lambda p: -len(p[0]))


def _rename(value: Any, pairs: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in pairs:
            value = value.replace(old, new)
        return value
    if isinstance(value, Mapping):
        return {_rename(k, pairs): _rename(v, pairs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_rename(v, pairs) for v in value)
    return value


def _mapped_back(found: Dump, pairs: list[tuple[str, str]]) -> Dump:
    return Dump(_rename(found.schema, pairs), _rename(found.rows, pairs), _rename(found.versions, pairs))


def _masked(names: Names) -> dict[str, set[str]]:
    return {names.table("runs"): {"updated_at"}}  # the copy's migration time


def _moves(target: Target, names: Names) -> list[Dump]:
    """Fill at 2.0.0, then up and down to 2.0.0; the database after each move."""
    mm = SyncMigrationManager(target.url, db_schema=target.db_schema, version_table=names.version_table,
                              **{f"{t}_table": n for t, n in names.tables.items()})
    types = [*TABLES, "versions"]  # the tables that carry hostile names, and Agno's versions table
    mm.up(target_version="2.0.0", table_type=types, create_missing=True)
    insert_rows(target, names, SEEDED, 5)
    out = []
    mm.up(table_type=types, create_missing=True)
    out.append(dump(target, masked=_masked(names)))
    mm.down(target_version="2.0.0", table_type=types, allow_data_loss=True)
    out.append(dump(target, masked=_masked(names)))
    return out


BACKEND = {"postgres": registry.POSTGRESQL, "postgres18": registry.POSTGRESQL, "mysql": registry.MYSQL,
           "sqlite": registry.SQLITE, "singlestore": registry.SINGLESTORE}


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_names_migrate_up_and_down_like_agnos_defaults(kind, tmp_path):
    backend = BACKEND[kind]
    tables = hostile_tables(backend)
    schema = hostile_schema(kind)
    with make_target(kind, tmp_path) as reference, make_target(kind, tmp_path, schema=schema) as target:
        if kind == "singlestore":
            target = Target(kind, target.url, schema)
        names = Names(schema=target.schema, tables=tables, version_table=HOSTILE_VERSION_TABLE)
        assert not identifiers.problems(names, backend)
        default = Names(schema=reference.schema)
        try:
            expected = _moves(reference, default)
            found = _moves(target, names)
        finally:
            if kind == "singlestore":
                from tests.conftest import server_url
                from tests.test_lock import _drop_schema

                _drop_schema("mysql", server_url("mysql") or "", schema or "")
        pairs = _mapping(names, default)
        problems = []
        for move, exp, act in zip(("up", "down to 2.0.0"), expected, found, strict=True):
            problems += [f"after {move}: {p}" for p in differences(exp, _mapped_back(act, pairs))]
        assert not problems, "\n".join(problems[:40])
        assert found[0].rows[tables["runs"]], "the legacy runs were not copied into the hostile runs table"
        TRIED.extend([*tables.values(), HOSTILE_VERSION_TABLE, *([target.schema] if target.schema else [])])
        compared = sum(d.row_count for d in found)
        print(f"\n{kind}: hostile names accepted: {len(tables) + 1 + bool(target.schema)}, rows compared: {compared}")


def refused_names(kind: str, backend: str) -> list[tuple[str, dict[str, Any], str]]:
    """(what, MigrationManager keywords, the option the error must name)."""
    longest = identifiers.max_table_name_length("traces", backend)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("a newline", {"session_table": "sessions\nDROP TABLE x"}, "session_table"),
        ("a NUL byte", {"memory_table": "mem\x00ories"}, "memory_table"),
        ("two tables, one name", {"session_table": "same", "memory_table": "same"}, "memory_table"),
    ]
    if longest is not None:
        cases.append(("one over the maximum length", {"traces_table": "T" * (longest + 1)}, "traces_table"))
        cases.append(("a derived index name over the maximum", {"memory_table": "m" * 60}, "memory_table"))
    if backend == registry.POSTGRESQL:
        cases.append(("a pg_ schema", {"db_schema": "pg_agno"}, "schema"))
        cases.append(("a 64-byte schema", {"db_schema": "é" * 32}, "schema"))
    if kind == "singlestore":
        cases.append(("a % sign", {"runs_table": "runs 100%"}, "runs_table"))
    if kind in ("mysql", "singlestore"):
        cases.append(("a backtick in a table name", {"metrics_table": "metrics`; DROP TABLE x; --"}, "metrics_table"))
        cases.append(("a trailing space", {"eval_table": "evals "}, "eval_table"))
        cases.append(("an emoji", {"knowledge_table": "knowledge 📚"}, "knowledge_table"))
        cases.append(("a 65-character schema", {"db_schema": "s" * 65}, "schema"))
    if kind == "mysql":
        cases.append(("a file name over 251 bytes", {"culture_table": "-" * 51}, "culture_table"))
    if kind == "sqlite":
        cases.append(("an sqlite_ name", {"metrics_table": "sqlite_metrics"}, "metrics_table"))
    return cases


@pytest.mark.parametrize("kind", KINDS)
def test_names_the_backend_cannot_hold_are_refused_before_any_change(kind, tmp_path):
    backend = BACKEND[kind]
    with make_target(kind, tmp_path) as target:
        for what, keywords, option in refused_names(kind, backend):
            kw = {"db_schema": target.db_schema, **keywords}
            with pytest.raises(ConfigurationError) as info:
                SyncMigrationManager(target.url, **kw).up()
            assert info.value.option == option, (what, info.value.option, str(info.value))
            assert "nothing was changed" in str(info.value), what
            assert not target.tables(), f"{what}: something was created"
            schema = kw["db_schema"]
            if schema and schema != target.db_schema:
                assert not Target(kind, target.url, schema).tables(), f"{what}: the schema was created"

                if kind != "sqlite":
                    import sqlalchemy as sa

                    engine = sa.create_engine(target.url)
                    try:
                        assert schema not in sa.inspect(engine).get_schema_names(), f"{what}: schema created"
                    finally:
                        engine.dispose()
            TRIED.append(repr(keywords))
        print(f"\n{kind}: refused names tried: {len(refused_names(kind, backend))}")


def test_the_check_reports_every_problem_and_the_longest_allowed_name():
    names = Names(schema="ai", tables={"sessions": "s" * 60, "runs": "r" * 57})
    with pytest.raises(ConfigurationError) as info:
        identifiers.check(names, registry.MYSQL)
    text = str(info.value)
    assert f"may be at most {identifiers.max_table_name_length('sessions', registry.MYSQL)} characters" in text
    assert "idx_" + "s" * 60 + "_session_type" in text and "_ibfk_" in text
    for backend in registry.ALL_BACKENDS:  # Agno's own names always pass
        schema = "ai" if backend in (registry.POSTGRESQL, registry.MYSQL) else None
        assert identifiers.problems(Names(schema=schema), backend) == []
