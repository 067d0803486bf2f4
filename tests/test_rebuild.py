"""Dropped tables are rebuilt, parents Agno built are adopted, ``up()`` migrates what exists (as Agno's does).

Every table type of the registry, on every backend it exists on: built by ``up(create_missing=True)``, dropped
(``CASCADE`` on PostgreSQL, foreign-key checks off on MariaDB, as a user would), and brought back by the next
plain ``up()``: the same shape (and Agno's fresh create, from the golden snapshots), the same stamps, the same
revisions as before the drop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from agno_alembic import MigrationManager, SyncMigrationManager, registry, shapes, stamps
from agno_alembic.runtime import RunState
from tests.conftest import Backend, make_backend
from tests.golden.reflect import diff, load_snapshot, reflect
from tests.test_cli import AGNO_ALEMBIC, alembic_rows, dbargs, run

KINDS = {"sqlite": registry.SQLITE, "postgres": registry.POSTGRESQL, "mysql": registry.MYSQL}


def _cases(types: list[str] | None = None) -> list[tuple[str, str]]:
    return [(kind, tt.name) for kind, key in KINDS.items() for tt in registry.table_types(types) if tt.on(key)]


def _ids(case: tuple[str, str]) -> str:
    return f"{case[0]}-{case[1]}"


@pytest.fixture
def kind_backend(request: pytest.FixtureRequest, tmp_path: Path):
    """The backend of a ``(kind, table type)`` case: only the combinations that exist are generated."""
    with make_backend(request.param, tmp_path) as b:
        yield b


def _mm(backend: Backend) -> SyncMigrationManager:
    return SyncMigrationManager(backend.url, db_schema=backend.schema or "")


def _parents(name: str) -> set[str]:
    out: set[str] = set()
    for parent in registry.table_type(name).depends_on:
        out |= {parent, *_parents(parent)}
    return out


def _dependants(name: str, backend: str) -> list[str]:
    return [t.name for t in registry.TABLE_TYPES if t.on(backend) and name in _parents(t.name)]


def _family(name: str, backend: str) -> list[str]:
    """The table type, the types it depends on and those depending on it: what it is dropped among."""
    return [name, *_parents(name), *_dependants(name, backend)]


def _snapshot(backend: Backend) -> dict:
    return reflect(backend.engine, backend.schema, exclude={"agno_alembic_version"})


def _drop(backend: Backend, *table_types: str) -> None:
    """Drop tables as a user would: PostgreSQL takes the foreign keys referring to them along (CASCADE)."""
    names = backend.names
    with backend.engine.begin() as conn:
        q = conn.dialect.identifier_preparer
        if backend.kind == "mysql":
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        for name in table_types:
            table = q.format_table(sa.table(names.table(name), schema=names.schema))
            conn.exec_driver_sql(f"DROP TABLE {table}" + (" CASCADE" if backend.kind == "postgres" else ""))
        if backend.kind == "mysql":
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")


def _exists(backend: Backend, name: str) -> bool:
    return sa.inspect(backend.engine).has_table(backend.names.table(name), schema=backend.schema)


def _rows(backend: Backend) -> dict[str, str]:
    """``agno_schema_versions`` as ``{table: version}`` (the connection is closed: an open one would hold locks)."""
    with backend.engine.connect() as conn:
        return stamps.read(conn, RunState(backend.names, KINDS[backend.kind]))


def _golden_problems(backend: Backend, name: str, version: str) -> list[str]:
    """The table against Agno's own fresh create at ``version`` (culture: its last version, 2.5.6)."""
    tt = registry.table_type(name)
    at = version if registry.version_index(version) <= registry.version_index(tt.last_version) else tt.last_version
    table = backend.names.table(name)
    expected = {"tables": {table: load_snapshot(at, backend.kind)["tables"][table]}}
    actual = {"tables": {table: _snapshot(backend)["tables"][table]}}
    return diff(expected, actual)


def _heads(backend: Backend) -> set[str]:
    """Our version table's rows but the pgvector branch's, which a plain ``up()`` moves to its head by itself."""
    return {r for r in alembic_rows(backend) if not r.startswith(registry.VECTORS.label)}


def _check_rebuilt(backend: Backend, before: dict, heads: set[str], version: str, rebuilt: list[str]) -> None:
    after = _snapshot(backend)
    problems = diff(before, after)  # tables (foreign keys of the dependants included) and agno_schema_versions rows
    for name in rebuilt:
        problems += _golden_problems(backend, name, version)
    assert not problems, "\n".join(problems)
    assert _heads(backend) == heads
    assert not [s for s in _mm(backend).status() if s.pending], "nothing is pending after the rebuild"


# -- every table type, dropped after up() -----------------------------------------------------------------------


@pytest.mark.parametrize(("kind_backend", "table_type"), _cases(), ids=map(_ids, _cases()),
                         indirect=["kind_backend"])
def test_dropped_table_is_rebuilt_by_the_next_up(kind_backend, table_type):
    backend, key = kind_backend, KINDS[kind_backend.kind]
    mm = _mm(backend)
    mm.up(table_type=_family(table_type, key), create_missing=True)
    before, heads = _snapshot(backend), _heads(backend)
    recorded = {s.table_type: s.revision for s in mm.status()}[table_type]

    _drop(backend, table_type)
    (status,) = mm.status(table_type=table_type)
    assert not status.exists and status.revision == recorded
    assert status.pending and status.pending[0] == recorded, "a recorded table that is gone is pending"

    changes = {c.table_type: c for c in mm.up()}
    assert changes[table_type].before is None and changes[table_type].after is not None
    assert _exists(backend, table_type)
    _check_rebuilt(backend, before, heads, registry.LATEST_VERSION, [table_type])


_WITH_DEPENDANTS = [t.name for t in registry.TABLE_TYPES if _dependants(t.name, registry.POSTGRESQL)]


@pytest.mark.parametrize(("kind_backend", "table_type"), _cases(_WITH_DEPENDANTS),
                         ids=map(_ids, _cases(_WITH_DEPENDANTS)), indirect=["kind_backend"])
def test_dropped_table_and_its_dependants_are_rebuilt(kind_backend, table_type):
    backend, key = kind_backend, KINDS[kind_backend.kind]
    mm = _mm(backend)
    mm.up(table_type=_family(table_type, key), create_missing=True)
    before, heads = _snapshot(backend), _heads(backend)
    dropped = [table_type, *_dependants(table_type, key)]
    _drop(backend, *reversed(dropped))

    mm.up(table_type=table_type)  # the dependants come back too: they are recorded, and the call selects its parent
    mm.up()
    _check_rebuilt(backend, before, heads, registry.LATEST_VERSION, dropped)


_ISSUE = ["sessions", "runs", "traces", "components", "schedules"]  # the tables issue 12 named


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
@pytest.mark.parametrize(("kind_backend", "table_type"), _cases(_ISSUE), ids=map(_ids, _cases(_ISSUE)),
                         indirect=["kind_backend"])
def test_rebuild_with_and_without_force_sync_and_async(kind_backend, table_type, force):
    backend = kind_backend
    mm = _mm(backend)
    mm.up(create_missing=True)
    before, heads = _snapshot(backend), _heads(backend)
    _drop(backend, table_type)
    if force:
        _mm(backend).up(table_type=table_type, force=True)
    else:
        asyncio.run(MigrationManager(backend.async_url(), db_schema=backend.schema or "").up(table_type=table_type))
    _check_rebuilt(backend, before, heads, registry.LATEST_VERSION, [table_type])


@pytest.mark.parametrize("version", ["2.0.0", "2.3.0", "2.5.0"])
def test_dropped_table_comes_back_at_its_recorded_version_then_upgrades(backend, version):
    mm = _mm(backend)
    mm.up(target_version=version, table_type=["sessions", "memories"], create_missing=True)
    before, heads = _snapshot(backend), _heads(backend)
    _drop(backend, "sessions", "memories")
    (status,) = mm.status(table_type="sessions")
    assert status.revision == f"agno_sessions_{version.replace('.', '_')}" and not status.exists

    mm.up(target_version=version)  # rebuilt at the recorded version's shape, nothing else
    problems = diff(before, _snapshot(backend)) + _golden_problems(backend, "sessions", version)
    problems += _golden_problems(backend, "memories", version)
    assert not problems, "\n".join(problems)
    assert _heads(backend) == heads

    _drop(backend, "sessions")
    mm.up()  # rebuilt at the recorded version, then upgraded to the latest
    problems = _golden_problems(backend, "sessions", "3.0.0") + _golden_problems(backend, "memories", "3.0.0")
    assert not problems, "\n".join(problems)
    assert _rows(backend)["agno_sessions"] == "3.0.0"


def test_dropped_versions_table_is_rebuilt_with_every_row(backend):
    mm = _mm(backend)
    mm.up(create_missing=True)
    before, heads = _snapshot(backend), _heads(backend)
    _drop(backend, "versions")
    mm.up()
    _check_rebuilt(backend, before, heads, registry.LATEST_VERSION, ["versions"])


@pytest.mark.parametrize("table_type", ["sessions", "runs"])
def test_agno_alembic_up_and_status_see_a_dropped_table(backend, table_type, tmp_path):
    cwd = tmp_path / "cli"
    cwd.mkdir()
    db = dbargs(backend)
    run(AGNO_ALEMBIC, "up", *db, "--create-missing", cwd=cwd)
    before, heads = _snapshot(backend), _heads(backend)
    _drop(backend, table_type)
    status = run(AGNO_ALEMBIC, "status", *db, "--check", cwd=cwd, rc=1)
    assert "1 pending" in status.stdout, status.stdout
    up = run(AGNO_ALEMBIC, "up", *db, cwd=cwd)
    assert f"{backend.names.table(table_type)}: (no table) -> 3.0.0" in up.stdout, up.stdout
    run(AGNO_ALEMBIC, "status", *db, "--check", cwd=cwd, rc=0)
    _check_rebuilt(backend, before, heads, registry.LATEST_VERSION, [table_type])


# -- a parent Agno built is adopted -----------------------------------------------------------------------------


def _agno_built(backend: Backend, *table_types: str, version: str = "3.0.0") -> None:
    """Tables as Agno creates them fresh at ``version`` (the shapes equal Agno's: tests/test_golden.py), with the
    row Agno writes at creation; no record of agno-alembic's."""
    key = KINDS[backend.kind]
    with backend.engine.begin() as conn:
        if backend.kind == "postgres":
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{backend.schema}"')
        state = RunState(backend.names, key)
        md = sa.MetaData()
        for name in ("versions", *table_types):
            shapes.spec(name, key, version, backend.names).sa_table(md).create(conn, checkfirst=True)
        for name in table_types:
            stamps.write(conn, state, backend.names.table(name), version)


_PAIRS = [("schedules", "schedule_runs"), ("traces", "spans"), ("components", "component_configs"),
          ("sessions", "runs")]
_PAIR_CASES = [(kind, parent, child) for kind, key in KINDS.items() for parent, child in _PAIRS
               if registry.table_type(child).on(key)]
_PAIR_IDS = [f"{kind}-{child}" for kind, _, child in _PAIR_CASES]


@pytest.mark.parametrize(("kind_backend", "parent", "child"), _PAIR_CASES, ids=_PAIR_IDS, indirect=["kind_backend"])
def test_up_of_a_dependant_adopts_the_parent_agno_built(kind_backend, parent, child):
    backend = kind_backend
    _agno_built(backend, parent)
    mm = _mm(backend)
    assert mm.up(table_type=child) == []  # as Agno: a table that does not exist is not created without asking
    assert not _exists(backend, child)

    changes = {c.table_type: c for c in mm.up(table_type=child, create_missing=True)}
    assert changes[child].before is None and changes[child].after == "3.0.0"
    status = {s.table_type: s for s in mm.status(table_type=[parent, child])}
    assert status[parent].revision == plan_head(parent), "the parent is recorded where Agno built it"
    assert not status[parent].pending and not status[child].pending
    problems = _golden_problems(backend, parent, "3.0.0") + _golden_problems(backend, child, "3.0.0")
    assert not problems, "\n".join(problems)
    assert mm.up() == []


@pytest.mark.parametrize(("kind_backend", "parent", "child"), _PAIR_CASES, ids=_PAIR_IDS, indirect=["kind_backend"])
def test_up_of_a_dependant_agno_built_adopts_both(kind_backend, parent, child):
    backend = kind_backend
    _agno_built(backend, parent, child)
    mm = _mm(backend)
    mm.up(table_type=child)
    status = {s.table_type: s for s in mm.status(table_type=[parent, child])}
    assert status[parent].revision == plan_head(parent) and status[child].revision == plan_head(child)
    assert mm.up() == []  # the parent is not upgraded again from a revision its child implied


def plan_head(name: str) -> str:
    return _mm_history()[f"agno_{name}"][-1][0]


def _mm_history() -> dict[str, list[tuple[str, str]]]:
    return SyncMigrationManager("sqlite://").history()


# -- create_missing: Agno's default, and everything when asked ----------------------------------------------------


def _agno_tables(backend: Backend) -> set[str]:
    agno = {backend.names.table(t.name) for t in registry.TABLE_TYPES}
    return agno & set(sa.inspect(backend.engine).get_table_names(schema=backend.schema))


def test_up_creates_nothing_on_an_empty_database_unless_asked(backend):
    mm = _mm(backend)
    assert mm.up() == []
    assert not _agno_tables(backend)  # agno-alembic's own version table may be there, no table of Agno's
    assert not [s for s in mm.status() if s.pending]
    assert all(s.pending for s in mm.status(create_missing=True) if s.table_type != "versions")
    changes = asyncio.run(MigrationManager(backend.async_url(), db_schema=backend.schema or "").up(
        create_missing=True))
    created = {c.table_type for c in changes}
    assert created == {t.name for t in registry.TABLE_TYPES if t.on(KINDS[backend.kind])}
    assert not [s for s in mm.status(create_missing=True) if s.pending]


def test_up_migrates_only_the_tables_that_exist(backend):
    _agno_built(backend, "memories", version="2.0.0")
    mm = _mm(backend)
    changes = mm.up()
    assert [(c.table_type, c.before, c.after) for c in changes] == [("memories", "2.0.0", "3.0.0")]
    assert _agno_tables(backend) == {"agno_memories", "agno_schema_versions"}
    assert not _golden_problems(backend, "memories", "3.0.0")


class _AgnoDb:
    """Duck-typed as an Agno db object: what agno_alembic reads of one."""

    def __init__(self, backend: Backend, **names: str) -> None:
        self.db_url = backend.url
        self.db_schema = backend.schema or ""
        for attribute, value in names.items():
            setattr(self, attribute, value)


def test_up_with_an_agno_db_object_migrates_its_tables_that_exist(backend, tmp_path):
    mm_names = SyncMigrationManager(backend.url, db_schema=backend.schema or "", memory_table="my_memories")
    mm_names.up(target_version="2.0.0", table_type="memory", create_missing=True)
    db = _AgnoDb(backend, memory_table_name="my_memories", session_table_name="my_sessions")
    changes = SyncMigrationManager(db).up()
    assert [(c.table_name, c.before, c.after) for c in changes] == [("my_memories", "2.0.0", "3.0.0")]
    assert not _exists(backend, "sessions") and not sa.inspect(backend.engine).has_table(
        "my_sessions", schema=backend.schema)
    assert SyncMigrationManager(db).up(create_missing=True)
    assert sa.inspect(backend.engine).has_table("my_sessions", schema=backend.schema)


def test_agno_alembic_up_create_missing(backend, tmp_path):
    cwd = tmp_path / "cli"
    cwd.mkdir()
    db = dbargs(backend)
    _agno_built(backend, "memories", version="2.0.0")
    up = run(AGNO_ALEMBIC, "up", *db, cwd=cwd)
    assert up.stdout.splitlines() == ["memories  agno_memories: 2.0.0 -> 3.0.0"], up.stdout
    run(AGNO_ALEMBIC, "status", *db, "--check", cwd=cwd, rc=0)
    run(AGNO_ALEMBIC, "status", *db, "--check", "--create-missing", cwd=cwd, rc=1)
    run(AGNO_ALEMBIC, "up", *db, "--create-missing", cwd=cwd)
    run(AGNO_ALEMBIC, "status", *db, "--check", "--create-missing", cwd=cwd, rc=0)
    assert _exists(backend, "sessions") and _exists(backend, "runs")


# -- down(): a table never adopted is adopted first -------------------------------------------------------------


def test_down_adopts_a_table_agno_made_whose_shape_equals_the_target(backend):
    mm = _mm(backend)
    mm.up(table_type=["sessions", "metrics"], create_missing=True)
    _agno_built(backend, "memories")  # Agno made it at 3.0.0 later; its 3.0.0 shape is its 2.3.0 shape
    (memories,) = mm.status(table_type="memories")
    assert memories.revision is None and memories.recorded_version == "3.0.0"

    changes = {c.table_type: c for c in mm.down(target_version="2.3.0", allow_data_loss=True)}
    assert (changes["memories"].before, changes["memories"].after) == ("3.0.0", "2.3.0")
    (memories,) = mm.status(table_type="memories")
    assert memories.revision == "agno_memories_2_3_0" and memories.recorded_version == "2.3.0"
    rows = _rows(backend)
    assert {rows[backend.names.table(t)] for t in ("sessions", "metrics", "memories")} == {"2.3.0"}
    assert not _golden_problems(backend, "memories", "2.3.0")
