"""SingleStore: our DDL checked offline against the DDL Agno issues, and the ``singlestoredb://`` path run on MariaDB.

There is no SingleStore server here.  Two kinds of test stand in for one:

* **Offline** (always run): ``alembic upgrade --sql`` with a ``singlestoredb://`` URL, for each schema version.  The
  script is replayed statement by statement into tables (CREATE TABLE, then every ALTER TABLE, CREATE/DROP INDEX and
  DROP TABLE in order; a statement of any other form fails the test) and compared with Agno's own DDL for that
  version, ``tests/golden/snapshots/<version>/singlestore.sql`` (``SingleStoreDb(db_schema='ai')``, compiled with
  sqlalchemy-singlestoredb, no server): the same tables and indexes, and per table the same columns, types,
  nullability, primary key, unique keys, foreign keys and SHARD KEY.  Both sides are normalised the same way
  (backticks, whitespace, the order of key clauses inside CREATE TABLE).  Every deliberate difference is listed in
  :data:`DIFFERENCES`, and a listed difference that is no longer there fails too.
* **Live** (MariaDB; skipped when it does not answer, failed when ``AGNO_ALEMBIC_REQUIRE_BACKENDS`` names mysql):
  the ``singlestoredb://`` URL, i.e. the singlestoredb driver, sqlalchemy-singlestoredb's dialect, our Alembic
  implementation for it and its DDL forms, run against MariaDB.  MariaDB cannot parse ``SHARD KEY``, so these runs
  empty :data:`agno_alembic.dialects.singlestore.SHARD_KEYS` (and :func:`test_live_mariadb_rejects_shard_key`
  shows that this is needed); everything else is as on SingleStore.
"""

from __future__ import annotations

import contextlib
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.ddl.impl import DefaultImpl

from agno_alembic import commands, plan, registry
from agno_alembic.dialects import singlestore
from agno_alembic.environment import ATTR_SYNC_STAMPS
from agno_alembic.errors import DowngradeRefusedError
from agno_alembic.lock import LOCK_TABLE
from agno_alembic.naming import Names
from agno_alembic.ops import OFFLINE_PREVIEW
from tests.conftest import MYSQL_DATABASE_CHARSET, REQUIRED, server_url

SNAPSHOTS = Path(__file__).resolve().parent / "golden" / "snapshots"
SCHEMA = "ai"
OFFLINE_URL = f"singlestoredb://root@127.0.0.1:3306/{SCHEMA}"
VERSION_TABLE = "agno_alembic_version"

#: Deliberate differences between our DDL and Agno's, by (schema version, table, aspect), with the reason.
#: Aspects: "table" (the table exists on one side only), "columns", "column_order", "unique_keys", "if_not_exists".
DIFFERENCES: dict[tuple[str, str, str], str] = {
    ("3.0.0", "agno_culture", "table"): (
        "kept: Agno 3.x stops creating agno_culture but never drops it; the culture branch stays at 2.5.6 "
        "(as on every backend, docs/divergences.md)"
    ),
    **{
        (v, "agno_sessions", "if_not_exists"): (
            "Agno writes sessions' CREATE TABLE by hand with IF NOT EXISTS; a revision creates its table once"
        )
        for v in registry.SCHEMA_VERSIONS
    },
    ("3.0.0", "agno_runs", "if_not_exists"): (
        "Agno writes runs' CREATE TABLE by hand with IF NOT EXISTS; a revision creates its table once"
    ),
    **{
        (v, "agno_memories", "column_order"): (
            "feedback and created_at are added by ALTER TABLE ADD COLUMN, which appends; Agno's fresh create "
            "declares them before updated_at (column order is not compared on any backend, tests/test_golden.py)"
        )
        for v in registry.SCHEMA_VERSIONS[1:]
    },
    ("3.0.0", "agno_metrics", "column_order"): (
        "user_id is added by ALTER TABLE ADD COLUMN, which appends; Agno's fresh create declares it after "
        "aggregation_period"
    ),
}

#: Statement forms our scripts emit that SingleStore's documented ALTER TABLE grammar does not list.
UNDOCUMENTED_FORMS: dict[str, str] = {
    "ALTER TABLE ADD PRIMARY KEY": (
        "sessions 2.3.0 -> 2.5.0 adds the primary key; Agno's own v2_5_0 step issues the same statement on "
        "SingleStore. Not verified on a SingleStore server"
    ),
    "ALTER TABLE DROP PRIMARY KEY": (
        "sessions 2.5.0 -> 2.3.0 (downgrade) drops it; Agno's v2_5_0 down does the same. Not verified on SingleStore"
    ),
}


# -- parsing and replaying DDL -----------------------------------------------------------------------------------


@dataclass
class Table:
    name: str
    if_not_exists: bool = False
    columns: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """Column name -> (type, nullable), in table order."""
    primary_key: tuple[str, ...] = ()
    shard_key: tuple[str, ...] | None = None
    unique_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    foreign_keys: set[tuple[tuple[str, ...], str, tuple[str, ...], str | None]] = field(default_factory=set)
    indexes: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=dict)


@dataclass
class Replay:
    tables: dict[str, Table] = field(default_factory=dict)
    forms: set[str] = field(default_factory=set)
    """The statement forms seen (``"ALTER TABLE ADD COLUMN"``, ``"CREATE INDEX"``...)."""


_COLUMN = re.compile(r"^(\w+) ([A-Z]+(?:\(\d+\))?)( NOT NULL| NULL)?$")
_COLS = r"\(([\w, ]+)\)"
_NAME = r"([\w.]+)"


def normalise(sql: str) -> str:
    """One statement as comparable text: no backticks, single spaces, ``KEY (a, b)`` spacing, no ``;``."""
    text = re.sub(r"\s+", " ", sql.replace("`", "")).strip().rstrip(";").strip()
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+\)", ")", text)
    text = re.sub(r"\s*,\s*", ", ", text)
    return re.sub(r"\b(KEY|REFERENCES [\w.]+)\s*\(", r"\1 (", text)


def statements(script: str) -> list[str]:
    """The statements of a SQL script, without ``--`` comment lines, normalised."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [normalise(s) for s in re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE) if s.strip()]


def _cols(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(","))


def _split_top(body: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return parts


def _column(text: str) -> tuple[str, tuple[str, bool]]:
    m = _COLUMN.match(text)
    if not m:
        raise AssertionError(f"column definition of an unexpected form: {text!r}")
    return m[1], (m[2], m[3] != " NOT NULL")


def _table_item(table: Table, item: str) -> None:
    if m := re.fullmatch(rf"PRIMARY KEY {_COLS}", item):
        table.primary_key = _cols(m[1])
    elif m := re.fullmatch(rf"SHARD KEY {_COLS}", item):
        table.shard_key = _cols(m[1])
    elif m := re.fullmatch(rf"UNIQUE KEY (\w+) {_COLS}", item):
        table.unique_keys[m[1]] = _cols(m[2])
    elif m := re.fullmatch(rf"FOREIGN KEY {_COLS} REFERENCES {_NAME} {_COLS}(?: ON DELETE (\w+))?", item):
        table.foreign_keys.add((_cols(m[1]), m[2], _cols(m[3]), m[4]))
    else:
        name, spec = _column(item)
        table.columns[name] = spec


def replay(script: str) -> Replay:
    """Apply a script's DDL to an empty model; DML is skipped, any statement of another form fails."""
    r = Replay()
    for stmt in statements(script):
        if re.match(r"(INSERT INTO|UPDATE|DELETE FROM) ", stmt):
            continue
        if m := re.fullmatch(r"CREATE SCHEMA IF NOT EXISTS (\w+)", stmt):
            r.forms.add("CREATE SCHEMA")
        elif m := re.fullmatch(rf"CREATE TABLE (IF NOT EXISTS )?{_NAME} \((.*)\)", stmt):
            table = Table(m[2], if_not_exists=bool(m[1]))
            for item in _split_top(m[3]):
                _table_item(table, item)
            assert table.name not in r.tables, f"{table.name} created twice"
            r.tables[table.name] = table
            r.forms.add("CREATE TABLE")
        elif m := re.fullmatch(rf"CREATE (UNIQUE )?INDEX (\w+) ON {_NAME} {_COLS}", stmt):
            r.tables[m[3]].indexes[m[2]] = (_cols(m[4]), bool(m[1]))
            r.forms.add("CREATE INDEX")
        elif m := re.fullmatch(rf"DROP INDEX (\w+) ON {_NAME}", stmt):
            del r.tables[m[2]].indexes[m[1]]
            r.forms.add("DROP INDEX")
        elif m := re.fullmatch(rf"DROP TABLE {_NAME}", stmt):
            del r.tables[m[1]]
            r.forms.add("DROP TABLE")
        elif m := re.fullmatch(rf"ALTER TABLE {_NAME} (.*)", stmt):
            r.forms.add(_alter(r.tables[m[1]], m[2]))
        else:
            raise AssertionError(f"statement of an unexpected form: {stmt!r}")
    return r


def _alter(table: Table, spec: str) -> str:
    if m := re.fullmatch(r"ADD COLUMN (.*)", spec):
        name, column = _column(m[1])
        assert name not in table.columns, f"{table.name}.{name} added twice"
        table.columns[name] = column
        return "ALTER TABLE ADD COLUMN"
    if m := re.fullmatch(r"MODIFY (.*)", spec):
        name, column = _column(m[1])
        assert name in table.columns, f"{table.name}.{name} modified but missing"
        table.columns[name] = column
        return "ALTER TABLE MODIFY"
    if m := re.fullmatch(r"DROP COLUMN (\w+)", spec):
        del table.columns[m[1]]
        return "ALTER TABLE DROP COLUMN"
    if m := re.fullmatch(rf"ADD PRIMARY KEY {_COLS}", spec):
        assert not table.primary_key, f"{table.name} has a primary key already"
        table.primary_key = _cols(m[1])
        return "ALTER TABLE ADD PRIMARY KEY"
    if spec == "DROP PRIMARY KEY":
        table.primary_key = ()
        return "ALTER TABLE DROP PRIMARY KEY"
    if m := re.fullmatch(rf"ADD UNIQUE KEY (\w+) {_COLS}", spec):
        table.unique_keys[m[1]] = _cols(m[2])
        return "ALTER TABLE ADD UNIQUE KEY"
    if m := re.fullmatch(r"DROP INDEX (\w+)", spec):
        found = table.unique_keys.pop(m[1], None) or table.indexes.pop(m[1], None)
        assert found, f"{table.name}: no key {m[1]} to drop"
        return "ALTER TABLE DROP INDEX"
    raise AssertionError(f"ALTER TABLE of an unexpected form: {spec!r}")


# -- comparing ---------------------------------------------------------------------------------------------------


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def compare(expected: dict[str, Table], actual: dict[str, Table], version: str, *, shard_keys: bool = True
            ) -> dict[tuple[str, str, str], str]:
    """Every difference, keyed like :data:`DIFFERENCES`, with what differs."""
    found: dict[tuple[str, str, str], str] = {}
    for name in sorted(set(expected) | set(actual)):
        key = (version, _short(name))
        if name not in actual or name not in expected:
            found[(*key, "table")] = f"{name}: {'only Agno' if name in expected else 'only ours'} has it"
            continue
        e, a = expected[name], actual[name]
        if list(e.columns.items()) != list(a.columns.items()):
            if e.columns == a.columns:  # dicts: equal whatever the order
                found[(*key, "column_order")] = f"{name}: Agno {list(e.columns)}, ours {list(a.columns)}"
            else:
                diff = {c: (e.columns.get(c), a.columns.get(c)) for c in set(e.columns) | set(a.columns)
                        if e.columns.get(c) != a.columns.get(c)}
                found[(*key, "columns")] = f"{name}: (Agno, ours) {diff}"
        for aspect in ("primary_key", "unique_keys", "foreign_keys", "indexes", "if_not_exists") + (
            ("shard_key",) if shard_keys else ()
        ):
            if getattr(e, aspect) != getattr(a, aspect):
                found[(*key, aspect)] = f"{name}: Agno {getattr(e, aspect)}, ours {getattr(a, aspect)}"
    return found


def golden(version: str) -> Replay:
    return replay((SNAPSHOTS / version / "singlestore.sql").read_text())


# -- offline -----------------------------------------------------------------------------------------------------


def _destinations(config, version: str) -> list[str]:
    script = commands.script_directory(config)
    return [r for tt in registry.TABLE_TYPES if (r := plan.revision_at(script, tt, version))]


def offline_upgrade(version: str | None) -> str:
    """The ``--sql`` script of an upgrade of an empty database to ``version`` (``None``: heads)."""
    config = commands.make_config(OFFLINE_URL, names=Names(schema=SCHEMA), target_version=version)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        commands.upgrade(config, _destinations(config, version) if version else ["heads"], sql=True)
    return out.getvalue()


def test_singlestoredb_dialect_has_our_alembic_impl():
    dialect = sa.make_url("singlestoredb://").get_dialect()()
    assert DefaultImpl.get_by_dialect(dialect) is singlestore.SingleStoreImpl


@pytest.mark.parametrize("version", registry.SCHEMA_VERSIONS)
def test_offline_ddl_equals_agno_singlestore_ddl(version):
    ours = replay(offline_upgrade(version))
    agno = golden(version)
    assert agno.tables, "golden file parsed to nothing"
    version_table = ours.tables.pop(f"{SCHEMA}.{VERSION_TABLE}")
    assert version_table.primary_key == () and version_table.shard_key is None
    found = compare(agno.tables, ours.tables, version)
    listed = {k: v for k, v in DIFFERENCES.items() if k[0] == version}
    unexpected = {k: v for k, v in found.items() if k not in listed}
    stale = sorted(set(listed) - set(found))
    assert not unexpected, "differences from Agno's DDL:\n" + "\n".join(f"{k}: {v}" for k, v in unexpected.items())
    assert not stale, f"listed in DIFFERENCES but not found any more: {stale}"


def _canonical_creates(script: str, tables: set[str]) -> set[str]:
    """The CREATE TABLE and CREATE INDEX statements of ``tables``, as text; inside CREATE TABLE the key clauses are
    sorted (their order carries no meaning) and ``IF NOT EXISTS`` is dropped (listed in :data:`DIFFERENCES`)."""
    out = set()
    for stmt in statements(script):
        if m := re.fullmatch(rf"CREATE TABLE (?:IF NOT EXISTS )?{_NAME} \((.*)\)", stmt):
            if _short(m[1]) in tables:
                items = _split_top(m[2])
                keys = sorted(i for i in items if re.match(r"(PRIMARY|SHARD|UNIQUE|FOREIGN) KEY", i))
                columns = [i for i in items if i not in keys]
                out.add(f"CREATE TABLE {m[1]} ({', '.join(columns + keys)})")
        elif (m := re.fullmatch(rf"CREATE INDEX \w+ ON {_NAME} .*", stmt)) and _short(m[1]) in tables:
            out.add(stmt)
    return out


@pytest.mark.parametrize("version", [v for v in registry.SCHEMA_VERSIONS if any(
    tt.since == v and tt.on(registry.SINGLESTORE) for tt in registry.TABLE_TYPES)])
def test_offline_create_statements_are_agnos_word_for_word(version):
    """Every table we create fresh (at its first schema version): the same CREATE TABLE and CREATE INDEX text."""
    names = Names(schema=SCHEMA)
    fresh = {names.table(tt.name) for tt in registry.TABLE_TYPES if tt.since == version and tt.on(registry.SINGLESTORE)}
    ours = _canonical_creates(offline_upgrade(version), fresh)
    agno = _canonical_creates((SNAPSHOTS / version / "singlestore.sql").read_text(), fresh)
    assert len({s for s in agno if s.startswith("CREATE TABLE")}) == len(fresh)
    assert sorted(ours - agno) == [] and sorted(agno - ours) == [], (sorted(ours - agno), sorted(agno - ours))


def test_offline_shard_keys_are_emitted():
    ours = _canonical_creates(offline_upgrade(None), {"agno_sessions", "agno_runs"})
    creates = sorted(s for s in ours if s.startswith("CREATE TABLE"))
    assert len(creates) == 2 and all(", SHARD KEY (session_id)" in s for s in creates), creates
    assert "PRIMARY KEY (run_id, session_id)" in creates[0] and "FOREIGN KEY" not in creates[0]


def test_offline_version_table_is_not_sharded_on_version_num():
    """Alembic moves a branch with UPDATE ... SET version_num; SingleStore refuses updates of a shard key."""
    script = offline_upgrade(None)
    created = [s for s in statements(script) if s.startswith(f"CREATE TABLE {SCHEMA}.{VERSION_TABLE} ")]
    assert created == [f"CREATE TABLE {SCHEMA}.{VERSION_TABLE} (version_num VARCHAR(128) NOT NULL)"]
    assert any(s.startswith(f"UPDATE {SCHEMA}.{VERSION_TABLE} SET version_num=") for s in statements(script))


def _offline_downgrades() -> str:
    """Every branch's downgrade script, to be read (its statement forms), not applied: a step whose outcome depends
    on the rows, which an applied script refuses, is described in a comment instead (as ``plan`` reads them)."""
    config = commands.make_config(OFFLINE_URL, names=Names(schema=SCHEMA))
    config.attributes[OFFLINE_PREVIEW] = True
    script = commands.script_directory(config)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for tt in registry.TABLE_TYPES:
            revs = [r for r, _ in plan.revisions_of(script, tt)]
            if tt.on(registry.SINGLESTORE) and len(revs) > 1:
                commands.downgrade(config, f"{revs[-1]}:{revs[0]}", sql=True)
    return out.getvalue()


_FORMS = {
    "CREATE TABLE": r"CREATE TABLE .*",
    "CREATE INDEX": rf"CREATE INDEX \w+ ON {_NAME} {_COLS}",
    "DROP INDEX": rf"DROP INDEX \w+ ON {_NAME}",
    "DROP TABLE": rf"DROP TABLE {_NAME}",
    "ALTER TABLE ADD COLUMN": rf"ALTER TABLE {_NAME} ADD COLUMN \w+ .*",
    "ALTER TABLE MODIFY": rf"ALTER TABLE {_NAME} MODIFY \w+ .*",
    "ALTER TABLE DROP COLUMN": rf"ALTER TABLE {_NAME} DROP COLUMN \w+",
    "ALTER TABLE ADD UNIQUE KEY": rf"ALTER TABLE {_NAME} ADD UNIQUE KEY \w+ {_COLS}",
    "ALTER TABLE DROP INDEX": rf"ALTER TABLE {_NAME} DROP INDEX \w+",
    "ALTER TABLE ADD PRIMARY KEY": rf"ALTER TABLE {_NAME} ADD PRIMARY KEY {_COLS}",
    "ALTER TABLE DROP PRIMARY KEY": rf"ALTER TABLE {_NAME} DROP PRIMARY KEY",
}
"""Statement forms (DDL); all but the last two are in SingleStore's documented CREATE/ALTER/DROP grammar."""
_DOCUMENTED = set(list(_FORMS)[:-2])


def form_of(stmt: str) -> str | None:
    """The form of a DDL statement; ``None`` for DML; an unknown form fails."""
    if re.match(r"(INSERT INTO|UPDATE|DELETE FROM) ", stmt):
        return None
    found = [form for form, pattern in _FORMS.items() if re.fullmatch(pattern, stmt)]
    assert len(found) == 1, f"statement of an unexpected form: {stmt!r}"
    return found[0]


def test_offline_statement_forms_are_in_singlestores_grammar_or_listed():
    """Every DDL form of the upgrade of an empty database to heads, and of every branch's downgrade."""
    script = offline_upgrade(None) + _offline_downgrades()
    forms = {f for stmt in statements(script) if (f := form_of(stmt))}
    assert {"ALTER TABLE ADD COLUMN", "ALTER TABLE ADD UNIQUE KEY", "ALTER TABLE DROP INDEX"} <= forms
    assert forms - _DOCUMENTED == set(UNDOCUMENTED_FORMS)


# -- live: the singlestoredb:// URL against MariaDB --------------------------------------------------------------


@pytest.fixture
def singlestoredb_url() -> Iterator[str]:
    """``singlestoredb://`` to a fresh MariaDB database, dropped afterwards."""
    server = server_url("mysql")
    if server is None:
        message = "no MariaDB/MySQL server for the singlestoredb:// path"
        if "mysql" in REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    database = f"agno_alembic_ss_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{database}` {MYSQL_DATABASE_CHARSET}")
    try:
        url = sa.make_url(server).set(drivername="singlestoredb", database=database)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
        admin.dispose()


@pytest.fixture
def no_shard_keys(monkeypatch):
    """MariaDB cannot parse SHARD KEY: leave it out, and nothing else."""
    monkeypatch.setattr(singlestore, "SHARD_KEYS", {})


_TYPES = {"LONGTEXT": "JSON", "TINYINT": "BOOL", "TINYINT(1)": "BOOL", "BIGINT(20)": "BIGINT"}
"""MariaDB keeps JSON as LONGTEXT (plus a json_valid check), BOOL as TINYINT(1), BIGINT as BIGINT(20)."""


def _reflect(url: str) -> tuple[dict[str, Table], dict[str, str] | None, str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            tables = {}
            for name in insp.get_table_names():
                if name == LOCK_TABLE:  # the migration lock row's table (agno_alembic.lock), not Agno's
                    continue
                t = Table(f"{SCHEMA}.{name}")
                for col in insp.get_columns(name):
                    text = str(col["type"].compile(dialect=conn.dialect))
                    text = text.split(" CHARACTER SET")[0].split(" COLLATE")[0]
                    t.columns[col["name"]] = (_TYPES.get(text, text), bool(col["nullable"]))
                t.primary_key = tuple(insp.get_pk_constraint(name)["constrained_columns"])
                uniques = {u["name"]: tuple(u["column_names"]) for u in insp.get_unique_constraints(name)}
                t.unique_keys = uniques
                t.indexes = {i["name"]: (tuple(i["column_names"]), bool(i["unique"]))
                             for i in insp.get_indexes(name) if i["name"] not in uniques}
                t.foreign_keys = {
                    (tuple(f["constrained_columns"]), f"{SCHEMA}.{f['referred_table']}", tuple(f["referred_columns"]),
                     (f.get("options") or {}).get("ondelete"))
                    for f in insp.get_foreign_keys(name)
                }
                tables[t.name] = t
            rows = None
            if f"{SCHEMA}.agno_schema_versions" in tables:
                rows = dict(conn.execute(sa.text("SELECT table_name, version FROM agno_schema_versions")).all())
            return tables, rows, conn.dialect.name
    finally:
        engine.dispose()


def _check_live(url: str, version: str, *, column_order: bool = True) -> None:
    """The database (reflected through the singlestoredb dialect) against Agno's DDL at ``version``, but SHARD KEY.

    ``column_order=False`` after downgrades: a column a downgrade adds back comes last.
    """
    tables, rows, dialect = _reflect(url)
    assert dialect == "singlestoredb"
    version_table = tables.pop(f"{SCHEMA}.{VERSION_TABLE}")
    assert version_table.primary_key == ()
    agno = golden(version).tables
    for t in agno.values():
        t.if_not_exists = False
    found = compare(agno, tables, version, shard_keys=False)
    if not column_order:
        found = {k: v for k, v in found.items() if k[2] != "column_order"}
    skipped = {"if_not_exists"} | (set() if column_order else {"column_order"})
    live = {k for k in DIFFERENCES if k[0] == version and k[2] not in skipped}
    live.discard(("3.0.0", "agno_sessions", "columns"))  # a live run drops the empty legacy runs column
    assert set(found) == live, "\n".join(f"{k}: {v}" for k, v in found.items() if k not in live)
    if version == registry.SCHEMA_VERSIONS[0]:
        assert rows is None  # Agno 2.0.x has no agno_schema_versions
        return
    expected = {_short(n): version for n in agno if _short(n) != "agno_schema_versions"}
    if version == "3.0.0":
        expected["agno_culture"] = "2.5.6"
    assert rows == expected


def test_live_upgrade_and_downgrade_through_singlestoredb_url(singlestoredb_url, no_shard_keys):
    sync = {ATTR_SYNC_STAMPS: [t.name for t in registry.TABLE_TYPES]}
    for version in registry.SCHEMA_VERSIONS:
        config = commands.make_config(singlestoredb_url, target_version=version, **sync)
        commands.upgrade(config, _destinations(config, version))
        _check_live(singlestoredb_url, version)
    for version in reversed(registry.SCHEMA_VERSIONS[:-1]):
        config = commands.make_config(singlestoredb_url, target_version=version, **sync)
        for tt in reversed(registry.TABLE_TYPES):
            commands.downgrade_table(config, tt, version)
        _check_live(singlestoredb_url, version, column_order=False)
    commands.upgrade(commands.make_config(singlestoredb_url), ["heads"])
    _check_live(singlestoredb_url, registry.LATEST_VERSION)
    commands.downgrade(commands.make_config(singlestoredb_url), "base")
    tables, rows, _ = _reflect(singlestoredb_url)
    assert set(tables) == {f"{SCHEMA}.{VERSION_TABLE}"} and rows is None
    assert commands.current_heads(commands.make_config(singlestoredb_url)) == ()


def test_live_rows_survive_the_upgrade_through_singlestoredb_url(singlestoredb_url, no_shard_keys):
    config = commands.make_config(singlestoredb_url, target_version="2.0.0")
    commands.upgrade(config, _destinations(config, "2.0.0"))
    engine = sa.create_engine(singlestoredb_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO agno_memories (memory_id, memory, updated_at) VALUES ('m1', '{\"memory\": \"x\"}', 123)"
            )
            conn.exec_driver_sql(
                "INSERT INTO agno_sessions (session_id, session_type, created_at) VALUES ('s1', 'agent', 1)"
            )
            conn.exec_driver_sql(
                "INSERT INTO agno_metrics (id, agent_runs_count, team_runs_count, workflow_runs_count, "
                "agent_sessions_count, team_sessions_count, workflow_sessions_count, users_count, token_metrics, "
                "model_metrics, date, aggregation_period, created_at, completed) "
                "VALUES ('d1', 0, 0, 0, 0, 0, 0, 0, '{}', '{}', '2025-01-01', 'daily', 1, 1)"
            )
        commands.upgrade(commands.make_config(singlestoredb_url), ["heads"])
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT memory_id, created_at FROM agno_memories").all() == [("m1", 123)]
            assert conn.exec_driver_sql("SELECT session_id FROM agno_sessions").all() == [("s1",)]
            assert conn.exec_driver_sql("SELECT id, user_id FROM agno_metrics").all() == [("d1", "")]
    finally:
        engine.dispose()
    with pytest.raises(DowngradeRefusedError):
        commands.downgrade(commands.make_config(singlestoredb_url), "base")
    commands.downgrade(commands.make_config(singlestoredb_url, allow_data_loss=True), "base")


def test_live_mariadb_rejects_shard_key(singlestoredb_url):
    """Why the live tests leave SHARD KEY out: the sessions CREATE TABLE, as for SingleStore, fails on MariaDB."""
    config = commands.make_config(singlestoredb_url, target_version="2.0.0")
    with pytest.raises(sa.exc.ProgrammingError, match=r"1064.*session_id\)"):
        commands.upgrade(config, ["agno_sessions_2_0_0"])
