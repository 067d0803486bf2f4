"""The MigrationManager facade: Agno's calls, sync and async, on every backend."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa

from agno_alembic import (
    ConfigurationError,
    DowngradeRefusedError,
    MigrationManager,
    SyncMigrationManager,
    UnknownTableTypeError,
    UnknownVersionError,
    commands,
    registry,
    shapes,
)
from tests.golden.reflect import diff, load_snapshot, reflect
from tests.test_golden import DIVERGENCES


def _compare(backend, version: str) -> list[str]:
    ignored = {t for v, t in DIVERGENCES if v == version}
    actual = reflect(backend.engine, backend.schema, exclude={t for t in _tables(backend) if "alembic_version" in t})
    if actual["agno_schema_versions"] is not None:
        actual["agno_schema_versions"] = [r for r in actual["agno_schema_versions"] if r["table_name"] not in ignored]
    return diff(load_snapshot(version, backend.kind), actual, ignore_tables=ignored)


def _tables(backend) -> set[str]:
    return set(sa.inspect(backend.engine).get_table_names(schema=backend.schema))


def _stamps(backend) -> dict[str, tuple[str, str, str | None]]:
    t = sa.table("agno_schema_versions", sa.column("table_name"), sa.column("version"), sa.column("created_at"),
                 sa.column("updated_at"), schema=backend.schema)
    with backend.engine.connect() as c:
        return {r.table_name: (r.version, r.created_at, r.updated_at) for r in c.execute(sa.select(t))}


def _sync(backend, **kw) -> SyncMigrationManager:
    return SyncMigrationManager(backend.url, db_schema=backend.schema or "", **kw)


def _async(backend, **kw) -> MigrationManager:
    return MigrationManager(backend.async_url(), db_schema=backend.schema or "", **kw)


@pytest.mark.parametrize("front", ["sync", "async"])
def test_up_on_an_empty_database_equals_agno_fresh_create(backend, front):
    changes = _sync(backend).up(create_missing=True) if front == "sync" else asyncio.run(
        _async(backend).up(create_missing=True))
    assert {c.after for c in changes} <= {"3.0.0", "2.5.6"}
    problems = _compare(backend, "3.0.0")
    assert not problems, "\n".join(problems)
    assert _sync(backend).up() == []  # a second up() has nothing to do


@pytest.mark.parametrize("version", registry.SCHEMA_VERSIONS)
def test_up_to_each_version_then_down_to_each_lower_one(backend, version):
    mm = _sync(backend)
    mm.up(target_version=version, create_missing=True)
    problems = _compare(backend, version)
    assert not problems, f"up to {version}:\n" + "\n".join(problems)
    for lower in reversed(registry.SCHEMA_VERSIONS[: registry.version_index(version)]):
        mm.down(target_version=lower)
        problems = _compare(backend, lower)
        assert not problems, f"down to {lower}:\n" + "\n".join(problems)


def test_seed_page_examples_run_with_only_the_import_changed(backend):
    async def run_migrate_table(db):
        # This will migrate the memories table to the latest version
        await MigrationManager(db).up(table_type="memory")
        # Or if you want to upgrade to a specific version
        await MigrationManager(db).up(table_type="memory", target_version="2.0.0")
        # Or if you want to force the migration
        await MigrationManager(db).up(table_type="memory", force=True)

    async def run_migrations(db):
        await MigrationManager(db).up()

    async def run_revert_migrations(db):
        await MigrationManager(db).down(target_version="2.0.0")

    engine = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    db = _AgnoLikeDb(engine, backend.schema)
    # A memories table as Agno 2.0 made it:
    _sync(backend).up(table_type="memory", target_version="2.0.0", create_missing=True)
    asyncio.run(run_migrate_table(db))
    assert _tables(backend) >= {"agno_memories", "agno_schema_versions"}
    assert "agno_sessions" not in _tables(backend)
    assert _stamps(backend)["agno_memories"][0] == "3.0.0"
    asyncio.run(run_migrations(db))
    assert "agno_sessions" not in _tables(backend)  # as Agno's up(): only the tables that exist
    asyncio.run(MigrationManager(db).up(create_missing=True))
    assert not _compare(backend, "3.0.0")
    asyncio.run(run_revert_migrations(db))
    # An Agno 3 db object does not name culture (Agno 3 dropped it), so no culture table was made.
    assert _compare(backend, "2.0.0") == ["missing table agno_culture"]


class _AgnoLikeDb:
    """Duck-types the attributes of an Agno db object that the manager reads (Agno itself is not imported)."""

    def __init__(self, engine, schema):
        self.db_engine = engine
        self.db_url = None
        self.db_schema = schema
        for tt in registry.TABLE_TYPES:
            if tt.agno_attribute and tt.name != "culture":
                setattr(self, tt.agno_attribute, tt.default_table.format(sessions="agno_sessions"))


def test_an_agno_db_object_configures_names_schema_and_selection(backend):
    db = _AgnoLikeDb(backend.engine, backend.schema)
    db.session_table_name = "custom_sessions"
    db.sandbox_table_name = "custom_sessions_sandbox_bindings"
    mm = SyncMigrationManager(db)
    assert mm.names.table("sessions") == "custom_sessions" and mm.names.schema == backend.schema
    mm.up(create_missing=True)
    tables = _tables(backend)
    assert "custom_sessions" in tables and "agno_sessions" not in tables
    assert "agno_culture" not in tables  # Agno 3 configurations do not name culture


def test_up_to_an_in_between_version_means_the_nearest_lower_one(sqlite_backend):
    mm = _sync(sqlite_backend)
    mm.up(target_version="v2.4.0", create_missing=True)
    assert not _compare(sqlite_backend, "2.3.0")
    assert {v for v, _, _ in _stamps(sqlite_backend).values()} == {"2.3.0"}


def test_stamps_use_agno_formats_and_keep_created_at(backend):
    mm = _sync(backend)
    mm.up(target_version="2.3.0", table_type="memories", create_missing=True)
    version, created, updated = _stamps(backend)["agno_memories"]
    assert version == "2.3.0"
    assert dt.datetime.fromisoformat(created).tzinfo is None and "T" in created  # naive local ISO text
    mm.up(table_type="memories")
    version2, created2, updated2 = _stamps(backend)["agno_memories"]
    assert version2 == "3.0.0" and created2 == created and updated2 >= updated


def test_down_never_runs_a_step_above_the_tables_version(backend):
    """Agno's down("2.5.0") on sessions stamped 2.5.6 ran the 3.0.0 revert and lost the runs table's rows."""
    mm = _sync(backend)
    mm.up(target_version="2.5.6", create_missing=True)
    runs = shapes.spec("runs", _kind(backend), "3.0.0", mm.names).sa_table()
    sessions = shapes.spec("sessions", _kind(backend), "2.5.6", mm.names).sa_table()
    with backend.engine.begin() as c:
        runs.create(c)  # what Agno 3.x writes lazily, with no migration run
        c.execute(sessions.insert().values(session_id="s1", session_type="agent", created_at=1,
                                           runs=[{"run_id": "r1"}, {"run_id": "r2"}]))
        c.execute(runs.insert().values(run_id="r4", session_id="s1", run_type="agent", run_data={}, created_at=2))
    mm.down(target_version="2.5.0", table_type="sessions")
    with backend.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(runs)).scalar() == 1
        blob = c.execute(sa.select(sessions.c.runs)).scalar()
    assert "r1" in str(blob) and "r2" in str(blob)
    assert _stamps(backend)["agno_sessions"][0] == "2.5.0"


def _kind(backend) -> str:
    return {"postgres": registry.POSTGRESQL, "mysql": registry.MYSQL, "sqlite": registry.SQLITE}[backend.kind]


def test_force_repairs_a_wrongly_recorded_table(backend):
    mm = _sync(backend)
    mm.up(target_version="2.0.0", table_type="memories", create_missing=True)
    # A lie in our version table: memories recorded at 2.3.0 while the table is still at 2.0.0.
    config = commands.make_config(backend.url, names=mm.names)
    commands.stamp(config, "agno_memories_2_3_0")
    mm.up(table_type="memories")
    assert "created_at" not in {c["name"] for c in sa.inspect(backend.engine).get_columns(
        "agno_memories", schema=backend.schema)}  # without force, our own record is trusted
    mm.up(table_type="memories", force=True)
    cols = {c["name"] for c in sa.inspect(backend.engine).get_columns("agno_memories", schema=backend.schema)}
    assert {"created_at", "feedback"} <= cols
    assert _stamps(backend)["agno_memories"][0] == "3.0.0"
    status = {s.table_type: s for s in mm.status("memories")}
    assert status["memories"].detected_version == "3.0.0" and status["memories"].pending == ()


@pytest.mark.parametrize("front", ["sync", "async"])
def test_adopt_records_where_unrecorded_tables_are_and_migrates_nothing(backend, front):
    mm = _sync(backend)
    mm.up(target_version="2.3.0", table_type=["sessions", "memories"], create_missing=True)
    with backend.engine.begin() as c:  # tables Agno built: there, with no record of ours
        c.execute(sa.delete(sa.table(mm.names.alembic_version_table, schema=backend.schema)))
    before = {s.table_type: s for s in mm.status(["sessions", "memories"])}
    assert before["memories"].revision is None and before["sessions"].revision is None

    def adopt(**kw) -> bool:
        return mm.adopt(**kw) if front == "sync" else asyncio.run(_async(backend).adopt(**kw))

    assert adopt(table_type="memories") is True
    after = {s.table_type: s for s in mm.status(["sessions", "memories"])}
    assert after["memories"].revision == "agno_memories_2_3_0" and after["sessions"].revision is None
    assert adopt(table_type="memories") is False and adopt(table_type="memories", force=True) is False
    assert adopt() is True  # every table: sessions now, at the revision of the version status detected in it,
    # its 3.0.0 step still to run: adopting migrated nothing
    sessions = {s.table_type: s for s in mm.status(["sessions", "memories"])}["sessions"]
    detected = before["sessions"].detected_version
    assert detected in ("2.3.0", "2.5.0", "2.5.6"), before["sessions"]
    assert sessions.revision == f"agno_sessions_{detected.replace('.', '_')}", sessions
    assert sessions.pending[-1:] == ("agno_sessions_3_0_0",), sessions
    with pytest.raises(UnknownTableTypeError):
        adopt(table_type="sesions")


def test_status_and_history(backend):
    mm = _sync(backend)
    before = {s.table_type: s for s in mm.status(create_missing=True)}
    assert not before["sessions"].exists and before["sessions"].revision is None
    assert before["sessions"].pending == tuple(r for r, _ in mm.history()["agno_sessions"])
    assert not [s for s in mm.status() if s.pending]  # as up(): a table that does not exist is left to Agno
    mm.up(target_version="2.5.0", create_missing=True)
    after = {s.table_type: s for s in asyncio.run(_async(backend).status())}
    s = after["sessions"]
    assert s.exists and s.revision == "agno_sessions_2_5_0" and s.recorded_version == "2.5.0"
    # 2.5.6 changes sessions on SingleStore only, so here the 2.5.0 table already has the 2.5.6 shape.
    assert s.detected_version == "2.5.6" and s.pending == ("agno_sessions_2_5_6", "agno_sessions_3_0_0")
    assert mm.history()["agno_memories"] == [("agno_memories_2_0_0", "2.0.0"), ("agno_memories_2_3_0", "2.3.0")]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda mm: mm.up(table_type="sesion"), UnknownTableTypeError),
        (lambda mm: mm.up(table_type=["memory", "nope"]), UnknownTableTypeError),
        (lambda mm: mm.up(table_type=3), UnknownTableTypeError),
        (lambda mm: mm.up(target_version="9.9.9"), UnknownVersionError),
        (lambda mm: mm.up(target_version="latest"), UnknownVersionError),
        (lambda mm: mm.up(target_version=2.3), UnknownVersionError),
        (lambda mm: mm.down(target_version=None), UnknownVersionError),
        (lambda mm: mm.down(target_version="1.9.0"), UnknownVersionError),
    ],
)
def test_bad_input_raises_the_documented_error_and_changes_nothing(backend, call, error):
    with pytest.raises(error) as info:
        call(_sync(backend))
    assert "valid" in str(info.value) or "known" in str(info.value)
    assert not _tables(backend)


def test_bad_constructor_input_is_refused():
    with pytest.raises(ConfigurationError, match="Agno db object"):
        SyncMigrationManager(42)
    with pytest.raises(ConfigurationError, match="session_tabel"):
        SyncMigrationManager("sqlite://", session_tabel="x")
    with pytest.raises(ConfigurationError):
        SyncMigrationManager("not a url")
    with pytest.raises(UnknownTableTypeError):
        SyncMigrationManager("sqlite://", bogus_table="x")


def test_destructive_down_is_refused_and_loses_nothing(backend):
    mm = _sync(backend)
    mm.up(create_missing=True)
    memories = shapes.spec("memories", _kind(backend), "3.0.0", mm.names).sa_table()
    with backend.engine.begin() as c:
        c.execute(memories.insert().values(memory_id="m1", memory={"m": 1}, created_at=5))
    with pytest.raises(DowngradeRefusedError) as info:
        mm.down("2.0.0", table_type="memories")
    assert info.value.allow_option == "allow_data_loss"
    assert not _compare(backend, "3.0.0")
    mm.down("2.0.0", table_type="memories", allow_data_loss=True)
    with backend.engine.connect() as c:
        assert c.execute(sa.text("SELECT COUNT(*) FROM " + (f"{backend.schema}." if backend.schema else "")
                                 + "agno_memories")).scalar() == 1


def test_two_configurations_in_one_database_migrate_independently(backend):
    a = _sync(backend)
    b = _sync(backend, session_table="b_sessions", memory_table="b_memories")
    assert a.names.alembic_version_table != b.names.alembic_version_table
    a.up(table_type=["sessions", "memories"], create_missing=True)
    b.up(table_type=["sessions", "memories"], target_version="2.0.0", create_missing=True)
    tables = _tables(backend)
    assert {"agno_sessions", "agno_memories", "b_sessions", "b_memories"} <= tables
    cols = {c["name"] for c in sa.inspect(backend.engine).get_columns("b_memories", schema=backend.schema)}
    assert "created_at" not in cols  # b stayed at 2.0.0 while a went to 3.0.0
    assert _stamps(backend)["agno_memories"][0] == "3.0.0"
