"""PostgreSQL, online: the 2.3.0 JSON to JSONB rewrite of a populated table through a shadow table
(:mod:`agno_alembic.rewrite`), under a live application, killed and resumed, planned as it runs, and down again."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import RewriteRefusedError, SyncMigrationManager, shapes
from agno_alembic.dialects import locks
from agno_alembic.dialects.online import REWRITE_MOMENT_ROWS
from agno_alembic.errors import PartiallyAppliedError
from tests.conftest import Backend, make_backend
from tests.golden.reflect import diff, load_snapshot, reflect

ROWS = REWRITE_MOMENT_ROWS * 3


@pytest.fixture(params=["postgres", "postgres18"])
def pg(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Backend]:
    with make_backend(request.param, tmp_path) as b:
        yield b


def _manager(backend: Backend, engine: sa.Engine | None = None, **kw: Any) -> SyncMigrationManager:
    return SyncMigrationManager(engine or backend.url, db_schema=backend.schema or "", **kw)


def _qualified(backend: Backend, name: str) -> str:
    return backend.engine.dialect.identifier_preparer.format_table(sa.table(name, schema=backend.schema))


def _memories(backend: Backend, rows: int = ROWS) -> str:
    _manager(backend).up(target_version="2.0.0", table_type="memories", create_missing=True)
    _manager(backend).up(target_version="2.3.0", table_type="versions", create_missing=True)
    table = shapes.spec("memories", "postgresql", "2.0.0", backend.names).sa_table()
    with backend.engine.begin() as c:
        c.execute(table.insert(), [
            {"memory_id": f"m{i:05d}", "memory": {"memory": f"fact {i}", "n": i}, "user_id": f"u{i % 7}",
             "topics": ["a", str(i)], "updated_at": i}
            for i in range(rows)
        ])
    return table.name


def _rows(backend: Backend, name: str) -> dict[str, tuple[Any, ...]]:
    with backend.engine.connect() as c:
        return {r[0]: (r[1], r[2], r[3]) for r in c.execute(sa.text(
            f"SELECT memory_id, memory::text, user_id, updated_at FROM {_qualified(backend, name)}"))}


def _golden_problems(backend: Backend, name: str, version: str, tmp_path: Any) -> list[str]:
    """The table against Agno's fresh create at ``version`` (the golden snapshot), and its column order against a
    fresh create's (the snapshots keep columns by name)."""
    expected = load_snapshot(version, backend.snapshot_backend)["tables"][name]
    actual = reflect(backend.engine, backend.schema, exclude={backend.names.alembic_version_table})["tables"][name]
    problems = diff({"tables": {name: expected}, "agno_schema_versions": None},
                    {"tables": {name: actual}, "agno_schema_versions": None})
    table_type = "sessions" if "sessions" in name else "memories"
    with make_backend(backend.kind, tmp_path) as fresh:
        _manager(fresh).up(target_version=version, table_type=table_type, create_missing=True)
        order = [c["name"] for c in sa.inspect(fresh.engine).get_columns(name, schema=fresh.schema)]
    found = [c["name"] for c in sa.inspect(backend.engine).get_columns(name, schema=backend.schema)]
    if found != order:
        problems.append(f"column order {found} != the fresh create's {order}")
    return problems


def _leftovers(backend: Backend) -> list[str]:
    with backend.engine.connect() as c:
        return list(c.execute(sa.text(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s "
            "AND relname LIKE '\\_agno\\_alembic\\_%' UNION ALL SELECT proname FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = :s AND proname LIKE '\\_agno\\_alembic\\_%' "
            "UNION ALL SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :s AND relname = 'agno_alembic_progress'"), {"s": backend.schema}).scalars())


class _Writer(threading.Thread):
    """The application: inserts, updates and deletes memories all the time; ``model`` is what it left, ``longest``
    its slowest statement."""

    def __init__(self, backend: Backend, name: str, rows: dict[str, tuple[Any, ...]]) -> None:
        super().__init__(daemon=True)
        self.backend, self.table = backend, _qualified(backend, name)
        self.model = dict(rows)
        self.stop = threading.Event()
        self.longest = 0.0
        self.writes = 0
        self.errors: list[str] = []

    def run(self) -> None:
        engine = sa.create_engine(self.backend.url, poolclass=sa.pool.NullPool)
        rnd = random.Random(7)
        n = 0
        try:
            with engine.connect() as c:
                while not self.stop.is_set():
                    n += 1
                    keys = sorted(self.model)
                    action = rnd.choice(["insert", "update", "update", "delete"])
                    key = f"n{n:05d}" if action == "insert" else rnd.choice(keys)
                    value = json.dumps({"memory": f"app {n}", "by": "app"})
                    started = time.monotonic()
                    try:
                        if action == "insert":
                            c.execute(sa.text(f"INSERT INTO {self.table} (memory_id, memory, user_id, updated_at) "
                                              "VALUES (:k, CAST(:v AS json), 'app', :n)"),
                                      {"k": key, "v": value, "n": n})
                        elif action == "update":
                            c.execute(sa.text(f"UPDATE {self.table} SET memory = :v, updated_at = :n "
                                              "WHERE memory_id = :k"), {"k": key, "v": value, "n": n})
                        else:
                            c.execute(sa.text(f"DELETE FROM {self.table} WHERE memory_id = :k"), {"k": key})
                        c.commit()
                    except sa.exc.IntegrityError:  # after the swap: created_at is NOT NULL, Agno 2.0 omits it
                        c.rollback()
                        continue
                    except sa.exc.DBAPIError as exc:
                        c.rollback()
                        self.errors.append(str(exc.orig))
                        continue
                    self.longest = max(self.longest, time.monotonic() - started)
                    self.writes += 1
                    if action == "delete":
                        del self.model[key]
                    else:
                        old = self.model.get(key)
                        self.model[key] = (json.dumps(json.loads(value)), "app" if old is None else old[1], n)
                    time.sleep(0.002)
        finally:
            engine.dispose()


def _normalised(rows: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    return {k: (json.loads(v[0]), v[1], v[2]) for k, v in rows.items()}


def _statements(engine: sa.Engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda c, cur, s, *a: seen.append(" ".join(s.split())))
    return seen


def test_big_table_is_rewritten_online_while_the_application_writes(pg: Backend, tmp_path: Any) -> None:
    name = _memories(pg)
    writer = _Writer(pg, name, _rows(pg, name))
    writer.start()
    time.sleep(0.3)
    engine = sa.create_engine(pg.url, poolclass=sa.pool.NullPool)
    sent = _statements(engine)
    try:
        changes = _manager(pg, engine).up(target_version="2.3.0", table_type="memories")
    finally:
        time.sleep(0.3)
        writer.stop.set()
        writer.join(30)
        engine.dispose()
    assert [(c.table_type, c.after) for c in changes] == [("memories", "2.3.0")]
    assert writer.writes > 50 and not writer.errors, writer.errors
    # every row exactly as the application left it; the backfill never overwrote the application's row
    assert _normalised(_rows(pg, name)) == _normalised(writer.model)
    assert not _golden_problems(pg, name, "2.3.0", tmp_path)
    assert not _leftovers(pg)
    # structural: no in-place rewrite; every statement that blocks the application's reads or writes is the trigger's
    # creation or the swap, each under a bounded lock wait
    assert not [s for s in sent if " TYPE JSONB" in s.upper()]
    blocking = [s for s in sent if s.startswith(("CREATE", "ALTER", "DROP", "LOCK", "TRUNCATE", "GRANT", "ANALYZE"))
                and locks.describe("postgresql", s).blocks != "nothing"]
    assert blocking and all(s.startswith(("CREATE TRIGGER", "LOCK TABLE", "DROP TABLE", "ALTER TABLE", "ALTER INDEX"))
                            for s in blocking), blocking
    timeouts = [s for s in sent if s.startswith("SET lock_timeout")]
    for s in blocking:
        before = [t for t in sent[:sent.index(s)] if t.startswith("SET lock_timeout")]
        assert before and before[-1] != "SET lock_timeout = '0'", (s, timeouts[-3:])
    assert writer.longest < 2.0, f"an application write waited {writer.longest:.2f}s"


_KILLED_RUN = """
import contextlib, os, signal, sys
import sqlalchemy as sa
from agno_alembic import SyncMigrationManager
from agno_alembic.data import batched

point = sys.argv[3]

class Killer(batched._Sizer):
    batches = 0
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.limit = 100
    @contextlib.contextmanager
    def timing(self):
        with super().timing():
            yield
        Killer.batches += 1
        if point == "batch" and Killer.batches == 5:
            os.kill(os.getpid(), signal.SIGKILL)

batched._Sizer = Killer
engine = sa.create_engine(sys.argv[1], poolclass=sa.pool.NullPool)

def before(conn, cursor, statement, *args):
    if (point == "create" and statement.startswith("CREATE TRIGGER _agno_alembic_truncate_")) \\
            or (point == "created" and statement.startswith("WITH batch AS")) \\
            or (point == "swap" and statement.startswith("DROP FUNCTION")):
        os.kill(os.getpid(), signal.SIGKILL)

sa.event.listen(engine, "before_cursor_execute", before)
SyncMigrationManager(engine, db_schema=sys.argv[2]).up(target_version="2.3.0", table_type="memories")
"""


@pytest.mark.parametrize("point", ["create", "created", "batch", "swap"])
def test_kill_9_then_rerun_resumes_and_converges(pg: Backend, point: str, caplog: pytest.LogCaptureFixture,
                                                 tmp_path: Any) -> None:
    """Killed inside the transaction creating the shadow table, right after it, after the 5th committed batch,
    inside the swap: the rerun ends where an uninterrupted run ends (mid-backfill: resumed after the last batch)."""
    import logging

    name = _memories(pg)
    before = _rows(pg, name)
    done = subprocess.run([sys.executable, "-c", _KILLED_RUN, pg.url, pg.schema or "", point], capture_output=True,
                          text=True, timeout=300, cwd=os.getcwd())
    assert done.returncode == -9, done.stderr[-2000:]
    with pg.engine.connect() as c:
        progress = c.execute(sa.text(
            f"SELECT step, done FROM {_qualified(pg, 'agno_alembic_progress')}")).all() if point != "create" else []
    if point == "batch":
        assert len(progress) == 1 and 0 < progress[0][1] < ROWS, progress
        (memories,) = [t for t in _manager(pg).status() if t.table_type == "memories"]
        assert memories.in_progress == (
            f"{name}.* to 2.3.0 rewrite: {progress[0][1]}/{ROWS} rows copied into the shadow table",), memories
    if point != "create":
        assert "_agno_alembic_shadow_agno_memories" in _leftovers(pg)
    with pg.engine.begin() as c:  # the application writes while the migration is down: the trigger mirrors it
        c.execute(sa.text(f"UPDATE {_qualified(pg, name)} SET updated_at = -1 WHERE memory_id = 'm00000'"))
        c.execute(sa.text(f"DELETE FROM {_qualified(pg, name)} WHERE memory_id = 'm00001'"))
    before["m00000"] = (*before["m00000"][:2], -1)
    del before["m00001"]
    with caplog.at_level(logging.INFO, logger="agno_alembic"):
        _manager(pg).up(target_version="2.3.0", table_type="memories")
    if point == "batch":
        assert f"resuming the backfill after {progress[0][1]} row(s)" in caplog.text
    assert _normalised(_rows(pg, name)) == _normalised(before)
    assert not _golden_problems(pg, name, "2.3.0", tmp_path)
    assert not _leftovers(pg)


def _now(statement: str) -> str:
    return re.sub(r"\b1\d{9}\b", "<now>", statement)


def test_plan_lists_the_statements_up_then_sends(pg: Backend) -> None:
    name = _memories(pg)
    mm = _manager(pg)
    result = mm.plan(target_version="2.3.0", table_type="memories")
    assert result.exit_code == 1, [f.problem for s in result.steps for f in s.findings]
    step = next(s for s in result.steps if s.table_name == name)
    # the fill of created_at is the time of the run: a plan made a second earlier has another
    planned = [_now(locks.normalise(s.sql)) for s in step.statements if s.lock is not None]
    assert any("_AGNO_ALEMBIC_SHADOW_" in p for p in planned)
    assert not [s for s in step.statements if s.lock is not None and s.lock.rewrite and not s.lock.online]
    engine = sa.create_engine(pg.url, poolclass=sa.pool.NullPool)
    sent = _statements(engine)
    mm2 = _manager(pg, engine)
    mm2.up(target_version="2.3.0", table_type="memories")
    engine.dispose()
    ran = [_now(locks.normalise(s)) for s in sent]
    ddl = [p for p in planned if not p.startswith(("WITH BATCH", "SELECT"))]
    assert [r for r in ran if r in set(ddl)] == ddl
    batch = next(p for p in planned if p.startswith("WITH BATCH"))
    assert batch in {_now(locks.normalise(re.sub(r"%\((\w+)\)s", r":\1", s))) for s in sent}, batch


def test_sessions_up_and_down_online_keep_every_value(pg: Backend, tmp_path: Any) -> None:
    """The sessions table at 2.0.0 has no primary key (its unique session_id is the key); down (JSONB to JSON) takes
    the same way back."""
    _manager(pg).up(target_version="2.0.0", table_type=["sessions", "versions"], create_missing=True)
    name = pg.names.table("sessions")
    table = shapes.spec("sessions", "postgresql", "2.0.0", pg.names).sa_table()
    with pg.engine.begin() as c:
        c.execute(table.insert(), [{"session_id": f"s{i:05d}", "session_type": "agent", "created_at": i,
                                    "session_data": {"n": i, "text": "é \u2028"}, "runs": [{"run_id": str(i)}]}
                                   for i in range(ROWS)])

    def values() -> dict[str, str]:
        with pg.engine.connect() as c:
            return dict(c.execute(sa.text(f"SELECT session_id, session_data::jsonb::text || runs::jsonb::text "
                                          f"FROM {_qualified(pg, name)}")).all())

    before = values()
    for version, call in (("2.3.0", "up"), ("2.0.0", "down")):
        engine = sa.create_engine(pg.url, poolclass=sa.pool.NullPool)
        sent = _statements(engine)
        getattr(_manager(pg, engine), call)(target_version=version, table_type="sessions")
        engine.dispose()
        assert any("_agno_alembic_shadow_" in s for s in sent), call
        assert not [s for s in sent if " TYPE JSON" in s.upper()], call
        assert values() == before, call
        assert not _golden_problems(pg, name, version, tmp_path), call
        assert not _leftovers(pg), call


def test_a_rerun_after_the_swap_committed_does_not_rewrite_again(pg: Backend) -> None:
    """Killed after the swap, before the stamp: the table has its new shape, and the rerun only stamps it."""
    name = _memories(pg)
    mm = _manager(pg)
    mm.up(target_version="2.3.0", table_type="memories")
    with pg.engine.begin() as c:  # the stamp as it was before the step
        c.execute(sa.text(f"UPDATE {_qualified(pg, pg.names.alembic_version_table)} SET version_num = "
                          "'agno_memories_2_0_0' WHERE version_num = 'agno_memories_2_3_0'"))
        c.execute(sa.text(f"UPDATE {_qualified(pg, pg.names.versions_table)} SET version = '2.0.0' "
                          "WHERE table_name = :t"), {"t": name})
    engine = sa.create_engine(pg.url, poolclass=sa.pool.NullPool)
    sent = _statements(engine)
    changes = _manager(pg, engine).up(target_version="2.3.0", table_type="memories")
    engine.dispose()
    assert [(c.table_type, c.after) for c in changes] == [("memories", "2.3.0")]
    assert not [s for s in sent if s.startswith(("CREATE", "ALTER", "DROP", "LOCK"))], sent


def test_what_a_shadow_cannot_carry_falls_back_to_the_refusal(pg: Backend) -> None:
    name = _memories(pg)
    with pg.engine.begin() as c:
        c.execute(sa.text(f'CREATE INDEX "my index" ON {_qualified(pg, name)} (user_id, updated_at)'))
    with pytest.raises(RewriteRefusedError) as info:
        _manager(pg).up(target_version="2.3.0", table_type="memories")
    assert "my index" in str(info.value) and "allow_rewrite" in str(info.value)
    assert not _leftovers(pg)


def test_a_hostile_table_name_is_rewritten_online(pg: Backend) -> None:
    name = 'Agno "Mem\'s" table'
    mm = _manager(pg, memory_table=name)
    mm.up(target_version="2.0.0", table_type="memories", create_missing=True)
    mm.up(target_version="2.3.0", table_type="versions", create_missing=True)
    table = shapes.spec("memories", "postgresql", "2.0.0", mm.names).sa_table()
    assert table.name == name
    with pg.engine.begin() as c:
        c.execute(table.insert(), [{"memory_id": f"m{i:05d}", "memory": {"i": i}, "updated_at": i}
                                   for i in range(ROWS)])
    engine = sa.create_engine(pg.url, poolclass=sa.pool.NullPool)
    sent = _statements(engine)
    _manager(pg, engine, memory_table=name).up(target_version="2.3.0", table_type="memories")
    engine.dispose()
    assert any("_agno_alembic_shadow_" in s for s in sent)
    columns = sa.inspect(pg.engine).get_columns(name, schema=pg.schema)
    assert [c["name"] for c in columns] == list(shapes.spec("memories", "postgresql", "2.3.0", mm.names).columns)
    assert str(next(c for c in columns if c["name"] == "memory")["type"]) == "JSONB"
    indexes = {i["name"] for i in sa.inspect(pg.engine).get_indexes(name, schema=pg.schema)}
    assert indexes == set(shapes.spec("memories", "postgresql", "2.3.0", mm.names).indexes)
    pk = sa.inspect(pg.engine).get_pk_constraint(name, schema=pg.schema)["name"]
    assert pk == f"{name}_pkey"
    with pg.engine.connect() as c:
        assert c.execute(sa.text(f"SELECT count(*) FROM {_qualified(pg, name)}")).scalar() == ROWS
    assert not _leftovers(pg)


class _LockWatch(threading.Thread):
    """Samples, every 5 ms, the application's queries (``SELECT memory_id ...``) waiting for a table lock:
    ``longest`` is the longest wait seen, which the machine's load does not lengthen (a wall-clock read time would
    count the time the prober waited for a CPU)."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(daemon=True)
        self.backend = backend
        self.stop = threading.Event()
        self.longest = 0.0
        self.samples = 0

    def run(self) -> None:
        engine = sa.create_engine(self.backend.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        since: dict[int, float] = {}
        try:
            with engine.connect() as c:
                while not self.stop.is_set():
                    now = time.monotonic()
                    waiting = set(c.execute(sa.text(  # this test's reads (other workers' tests run meanwhile)
                        "SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted "
                        "AND l.locktype = 'relation' AND a.query LIKE 'SELECT memory_id FROM%' "
                        "AND strpos(a.query, :schema) > 0"), {"schema": self.backend.schema or ""}).scalars())
                    since = {pid: since.get(pid, now) for pid in waiting}
                    self.longest = max([self.longest, *(now - at for at in since.values())])
                    self.samples += 1
                    time.sleep(0.005)
        finally:
            engine.dispose()


def test_the_swap_waits_for_the_application_without_making_its_reads_wait(pg: Backend,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    """An application transaction that read the table holds it until the swap has waited for it: the swap tries,
    gives up after ddl_lock_wait, tries again; the application's other reads never queue behind it for long."""
    import logging

    from tests.test_online import HOLD, _Holder, _Prober

    name = _memories(pg)
    qualified = _qualified(pg, name)
    holder, prober, watch = _Holder(pg, qualified, HOLD, until_waited=True), _Prober(pg, qualified), _LockWatch(pg)
    watch.start()
    prober.start()
    holder.start()
    try:
        assert holder.holding.wait(10) and holder.error is None, holder.error
        with caplog.at_level(logging.INFO, logger="agno_alembic"):
            _manager(pg, ddl_deadline=60).up(target_version="2.3.0", table_type="memories")
    finally:
        holder.join(60)
        prober.stop.set()
        prober.join(30)
        watch.stop.set()
        watch.join(30)
    # an unbounded swap would have queued the reads behind it for the whole hold (2 s)
    assert watch.samples > 50 and watch.longest < HOLD / 4, \
        f"a read waited {watch.longest:.2f}s for a lock (its slowest read took {prober.longest:.2f}s)"
    assert "waits for a lock held by the application" in caplog.text and "swapped in" in caplog.text
    assert prober.reads > 10 and not prober.failures, prober.failures
    assert not _leftovers(pg)


def test_the_check_repairs_a_copy_that_differs_and_removes_one_the_table_lost(
        pg: Backend, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """After the backfill, a copy the table no longer has (a row deleted while its batch copied it) and a copy that
    differs are found by the one-snapshot check, repaired, and checked again."""
    import logging

    from agno_alembic import rewrite

    name = _memories(pg)
    before = _rows(pg, name)
    backfill = rewrite._backfill

    def spoiled(bind: sa.Connection, backend: str, p: rewrite.Plan, *args: Any) -> int:
        done = backfill(bind, backend, p, *args)
        shadow = p.table(p.shadow)
        bind.execute(sa.text(f"INSERT INTO {shadow} (memory_id, memory, created_at) "
                             "VALUES ('zombie', '{}', 1)"))
        bind.execute(sa.text(f"UPDATE {shadow} SET memory = '{{\"wrong\": 1}}', user_id = NULL "
                             "WHERE memory_id = 'm00002'"))
        bind.execute(sa.text(f"DELETE FROM {shadow} WHERE memory_id = 'm00003'"))
        bind.commit()
        return done

    monkeypatch.setattr(rewrite, "_backfill", spoiled)
    with caplog.at_level(logging.INFO, logger="agno_alembic"):
        _manager(pg).up(target_version="2.3.0", table_type="memories")
    assert "copying 2 row(s) again and removing 1 the table no longer has" in caplog.text
    assert _normalised(_rows(pg, name)) == _normalised(before)
    assert not _leftovers(pg)


def test_a_value_jsonb_refuses_fails_the_step_and_removes_the_shadow(pg: Backend) -> None:
    name = _memories(pg)
    with pg.engine.begin() as c:
        c.execute(sa.text(f"UPDATE {_qualified(pg, name)} SET memory = CAST(:v AS json) WHERE memory_id = 'm02000'"),
                  {"v": '{"text": "nul \\u0000 here"}'})
    with pytest.raises((sa.exc.DBAPIError, PartiallyAppliedError)) as info:
        _manager(pg).up(target_version="2.3.0", table_type="memories")
    assert "\\u0000" in str(info.value)
    assert not _leftovers(pg)
    types = {c["name"]: str(c["type"]) for c in sa.inspect(pg.engine).get_columns(name, schema=pg.schema)}
    assert types["memory"] == "JSON" and "created_at" not in types


def test_the_async_facade_rewrites_online_too(pg: Backend, tmp_path: Any) -> None:
    import asyncio

    from agno_alembic import MigrationManager

    name = _memories(pg)
    before = _rows(pg, name)
    asyncio.run(MigrationManager(pg.async_url(), db_schema=pg.schema).up(target_version="2.3.0",
                                                                          table_type="memories"))
    with pg.engine.connect() as c:
        analyzed = c.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
                             {"t": _qualified(pg, name)}).scalar()
        options = c.execute(sa.text("SELECT reloptions FROM pg_class WHERE oid = to_regclass(:t)"),
                            {"t": _qualified(pg, name)}).scalar()
    assert analyzed == ROWS and options is None  # statistics taken before the swap; autovacuum back to default
    assert _normalised(_rows(pg, name)) == _normalised(before)
    assert not _golden_problems(pg, name, "2.3.0", tmp_path)
    assert not _leftovers(pg)


def test_a_batch_and_an_application_transaction_waiting_for_each_other_the_batch_gives_way(
        pg: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """An application transaction wrote row m00050 (its copy, through the trigger, not yet committed); the first
    batch copies m00000... and waits at m00050; the transaction then updates m00010, whose copy the waiting batch
    has just inserted: each waits for the other.  The batch gives up after BATCH_LOCK_WAIT (before PostgreSQL's
    deadlock_timeout, 1 s, would have the server break the cycle) and runs again: the application's update waits
    a moment only, and fails nothing."""
    from agno_alembic import rewrite

    name = _memories(pg)
    table = _qualified(pg, name)
    app = sa.create_engine(pg.url, poolclass=sa.pool.NullPool)
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            _manager(pg).up(target_version="2.3.0", table_type="memories")
        except BaseException as exc:
            errors.append(exc)

    ready = threading.Event()
    backfill = rewrite._backfill

    def after_the_application_wrote(*args: Any) -> int:
        assert ready.wait(30)
        return backfill(*args)

    monkeypatch.setattr(rewrite, "_backfill", after_the_application_wrote)
    with app.connect() as c:
        migration = threading.Thread(target=migrate, daemon=True)
        migration.start()
        # this test's own: other tests rewrite tables in other schemas at the same time (pytest-xdist)
        waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                          "AND query LIKE 'WITH batch AS%' AND strpos(query, :schema) > 0").bindparams(
            schema=pg.schema or "")
        trigger = sa.text("SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass(:table) "
                          "AND tgname LIKE '\\_agno\\_alembic\\_sync\\_%'").bindparams(table=table)
        deadline = time.monotonic() + 60
        with pg.engine.connect() as probe:
            while not probe.execute(trigger).scalar():
                probe.rollback()
                assert time.monotonic() < deadline and not errors, errors
                time.sleep(0.01)
            c.execute(sa.text(f"UPDATE {table} SET updated_at = -50 WHERE memory_id = 'm00050'"))
            ready.set()
            while not probe.execute(waiting).scalar():
                probe.rollback()
                assert time.monotonic() < deadline and not errors, errors
                time.sleep(0.005)
        started = time.monotonic()
        c.execute(sa.text(f"UPDATE {table} SET updated_at = -10 WHERE memory_id = 'm00010'"))
        waited = time.monotonic() - started
        c.commit()
    migration.join(120)
    app.dispose()
    assert not errors, errors
    # without the batch's bound the server breaks the cycle after deadlock_timeout: the update waited 1.0 s
    assert rewrite.BATCH_LOCK_WAIT < 0.5 and waited < 0.8, f"the application's update waited {waited:.2f}s"
    rows = _rows(pg, name)
    assert rows["m00050"][2] == -50 and rows["m00010"][2] == -10 and len(rows) == ROWS
