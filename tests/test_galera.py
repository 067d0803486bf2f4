"""A real 3-node MariaDB Galera cluster: the migration lock holds across its nodes, migrations converge.

The cluster comes from ``AGNO_ALEMBIC_TEST_GALERA_URLS`` (comma-separated node URLs of a running cluster), else
``tests/servers/galera.py`` starts one for the session in a temporary folder, on free ports, as the ``mysql``
user, and stops it at the end.  Where neither is possible the tests skip, unless ``AGNO_ALEMBIC_REQUIRE_BACKENDS``
names ``galera`` (``.ci/run``): then they fail.  Every test works in a database of its own; the tests that kill
and restart a node need a cluster this session started.  All of them run in one xdist group: one worker owns
the cluster.

``AGNO_ALEMBIC_GALERA_RACES`` (default 1) repeats each race that many times in one test.
"""

from __future__ import annotations

import collections
import os
import socket
import time
import types
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import SyncMigrationManager, lock, registry, shapes
from agno_alembic.dialects import galera
from agno_alembic.errors import LockError, LockTimeoutError, MigrationError
from agno_alembic.naming import Names
from tests.conftest import REQUIRED
from tests.servers import galera as server
from tests.test_lock import Target, finish, rows, run_workers, start_worker

pytestmark = [pytest.mark.xdist_group("galera")]

ENV = "AGNO_ALEMBIC_TEST_GALERA_URLS"
RACES = int(os.environ.get("AGNO_ALEMBIC_GALERA_RACES", "1"))
PROCESSES = 8


@dataclass
class Galera:
    """The cluster of this session: node URLs (no database), and the started cluster when we own it."""

    urls: list[str]
    owned: server.Cluster | None = None


def _node_urls(urls: list[str], database: str) -> list[str]:
    return [sa.make_url(u).set(database=database).render_as_string(hide_password=False) for u in urls]


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[Galera]:
    given = [u.strip() for u in os.environ.get(ENV, "").split(",") if u.strip()]
    if given:
        yield Galera(given)
        return
    why = server.available()
    if why is None:
        try:
            started = server.start()
        except Exception as exc:
            why = f"the cluster did not start: {exc}"
        else:
            reporter = request.config.pluginmanager.get_plugin("terminalreporter")
            line = f"galera: 3-node cluster synced {started.started_in}s after its first mariadbd ({started.root})"
            if reporter is not None:
                reporter.write_line(line)
            try:
                yield Galera(started.urls(), started)
            finally:
                server.stop(started)
            return
    message = f"no Galera cluster: {why} (set {ENV} to a running cluster's node URLs)"
    if "galera" in REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Db:
    """One database on the cluster for one test: its URL through each node."""

    name: str
    urls: list[str]

    def engine(self, node: int = 0) -> sa.Engine:
        return sa.create_engine(self.urls[node], poolclass=sa.pool.NullPool)

    def target(self, node: int = 0) -> Target:
        return Target("mysql", self.urls[node], self.name)

    def agno(self, node: int = 0) -> Any:
        from tests import agno_harness as harness

        return harness.Target("mysql", self.urls[node], self.name)


@pytest.fixture
def db(cluster: Galera) -> Iterator[Db]:
    name = f"agno_alembic_g_{uuid.uuid4().hex[:10]}"
    urls = _node_urls(cluster.urls, name)
    admin = sa.create_engine(_node_urls(cluster.urls, "")[0], poolclass=sa.pool.NullPool,
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{name}`")
    try:
        yield Db(name, urls)
    finally:
        live = [u for u, n in zip(_node_urls(cluster.urls, ""), _nodes(cluster), strict=True) if n]
        drop = sa.create_engine(live[0], poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        with drop.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        drop.dispose()
        admin.dispose()


def _nodes(cluster: Galera) -> list[bool]:
    """Which nodes run (all of them for a cluster we do not own)."""
    if cluster.owned is None:
        return [True] * len(cluster.urls)
    return [n.pid is not None for n in cluster.owned.nodes]


def _wait_synced(urls: list[str], timeout: float = 120) -> None:
    """Every node answers, Synced, with every write applied (a causality wait on each)."""
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            try:
                with engine.connect() as c:
                    state = galera.node_state(c)
                    if state is not None and state.primary and state.local_state == "Synced":
                        c.exec_driver_sql("SET SESSION wsrep_sync_wait = 15")
                        c.exec_driver_sql("SELECT 1").all()
                        break
            except sa.exc.DBAPIError:
                pass
            finally:
                engine.dispose()
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} not Synced after {timeout}s")
            time.sleep(0.5)


# ------------------------------------------------------------------ no cluster needed


def test_every_agno_table_has_a_primary_key():
    """Galera replicates a row by its key (PXC refuses writes to a table without a primary key).

    At the latest schema version every Agno table has a primary key on every backend.  At every older version on
    MySQL each table has a primary key or (``agno_sessions`` before 2.5.0, as Agno created it) a unique key over
    NOT NULL columns, which InnoDB makes the table's clustered key and Galera certifies rows by.
    """
    names = Names(schema=None)
    latest = keyed = 0
    for tt in registry.TABLE_TYPES:
        for backend in registry.ALL_BACKENDS:
            if not tt.on(backend):
                continue
            for version in registry.versions_between(tt.since, tt.last_version):
                spec = shapes.spec(tt.name, backend, version, names)
                assert set(spec.primary_key) <= set(spec.columns)
                if version == tt.last_version:
                    assert spec.primary_key, f"{tt.name} at {version} on {backend} has no primary key"
                    latest += 1
                if backend == registry.MYSQL:
                    unique_not_null = [u for u in spec.uniques.values()
                                       if not any(spec.columns[c].is_nullable(backend) for c in u.columns)]
                    assert spec.primary_key or unique_not_null, f"{tt.name} at {version} on MySQL has no key"
                    keyed += 1
    assert latest >= len(registry.TABLE_TYPES) and keyed >= len(registry.TABLE_TYPES)


def test_the_cluster_ports_are_free_and_outside_the_ephemeral_range():
    """A port from the ephemeral range can be taken by any outgoing connection before the node binds it (CI lost
    its Galera tests to that once); a port outside it only by an explicit ``bind``."""
    low, high = server._ephemeral_range()
    ports = server._free_ports(12)
    assert len(set(ports)) == 12
    assert not any(low <= p <= high for p in ports) and not set(ports) & server.RESERVED
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_a_start_whose_port_was_taken_is_tried_again_on_new_ports(monkeypatch, tmp_path):
    tried: list[str] = []

    def start_once(root: str, timeout: float) -> server.Cluster:
        tried.append(root)
        if len(tried) == 1:
            raise RuntimeError(f"node2 (pid 1) exited; its log:\n... bind: {server.PORT_TAKEN}: System error: 98")
        return server.Cluster(root)

    monkeypatch.setattr(server, "_start", start_once)
    assert server.start(str(tmp_path)).root == str(tmp_path) and len(tried) == 2

    def other_failure(root: str, timeout: float) -> server.Cluster:
        tried.append(root)
        raise RuntimeError("node1 (pid 1) exited; its log:\n... [ERROR] Aborting")

    monkeypatch.setattr(server, "_start", other_failure)
    with pytest.raises(RuntimeError, match="Aborting"):
        server.start(str(tmp_path))
    assert len(tried) == 3  # not tried again


# ------------------------------------------------------------------ the lock


def test_the_cluster_is_detected_on_every_node(cluster, db):
    for node in range(len(db.urls)):
        engine = db.engine(node)
        with engine.connect() as c:
            state = galera.node_state(c)
            assert state is not None and state.primary and state.cluster_size == len(db.urls), state
            assert isinstance(lock._db_lock(c, registry.MYSQL, db.name, None), lock._GaleraLock)
        engine.dispose()


def test_the_old_get_lock_is_taken_on_two_nodes_at_once(cluster, db):
    """The design this replaces: GET_LOCK is local to a node, so node 1 and node 3 both get it."""
    first, last = db.engine(0), db.engine(len(db.urls) - 1)
    with first.connect() as a, last.connect() as b:
        old_a, old_b = lock._MySQLLock(a, db.name), lock._MySQLLock(b, db.name)
        assert old_a.try_acquire()
        try:
            assert old_b.try_acquire(), "GET_LOCK excluded across nodes: the old design's failure did not show"
            old_b.release()
        finally:
            old_a.release()
    first.dispose()
    last.dispose()


def test_eight_processes_over_three_nodes_with_the_old_get_lock_migrate_at_once(cluster, db, tmp_path):
    """The old design in the race: each node grants GET_LOCK to one of its migrators, so several migrate at once
    and steps run twice or fail (measured before the lock row: 3 of 8 succeeded)."""
    specs = [db.target(i % len(db.urls)).worker(mode="up", lock_timeout=600, old_mysql_lock=True)
             for i in range(PROCESSES)]
    results = run_workers(specs, tmp_path, timeout=900)
    failed = [r for r in results if not r.ok]
    ran = [step for r in results for step in r.report.get("steps", [])]
    twice = [s for s, n in collections.Counter(ran).items() if n > 1]
    migrating = [r for r in results if r.report.get("steps")]
    print(f"old GET_LOCK race: {len(results) - len(failed)}/{len(results)} succeeded, {len(migrating)} migrated, "
          f"steps run twice: {len(twice)}")
    assert failed or twice or len(migrating) > 1, "GET_LOCK kept the nodes apart: the old design's failure is gone"


def test_the_cluster_lock_excludes_other_nodes_and_names_its_holder(cluster, db):
    engines = [db.engine(n) for n in range(len(db.urls))]
    try:
        with engines[0].connect() as a:
            with lock.hold(a, schema=db.name, backend=registry.MYSQL, timeout=10):
                _wait_synced(db.urls)
                for engine in engines[1:]:
                    with engine.connect() as b:
                        other = lock._db_lock(b, registry.MYSQL, db.name, None)
                        assert not other.try_acquire()
                        holder = other.holder()
                        assert holder is not None and holder.pid == os.getpid() and not holder.stale
                        other.close()
                        with pytest.raises(LockTimeoutError, match="Galera cluster lock row"):
                            lock._wait(lock._db_lock(b, registry.MYSQL, db.name, None), time.monotonic() + 1, 1)
            _wait_synced(db.urls)
            # released: another node takes it at once
            with engines[2].connect() as c, lock.hold(c, schema=db.name, backend=registry.MYSQL, timeout=10):
                pass
    finally:
        for engine in engines:
            engine.dispose()


def _admin(url: str) -> Any:
    """A plain driver connection (SQLAlchemy's pool rolls back on checkin, which a non-Primary node refuses)."""
    import pymysql

    u = sa.make_url(url)
    return pymysql.connect(host=u.host, port=u.port, user=u.username, password=u.password or "", autocommit=True)


def _isolate(url: str, on: bool) -> None:
    conn = _admin(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET GLOBAL wsrep_provider_options = 'gmcast.isolate={1 if on else 0}'")
    finally:
        conn.close()


def test_the_lock_is_refused_on_a_node_outside_the_primary_component(cluster, db):
    """A node cut off from the others (``gmcast.isolate``) is non-Primary: a migrator connected through it never
    takes the lock (a clear LockError); a new connection to it is refused by the server itself; the others go on."""
    engine = db.engine(2)
    conn = engine.connect()  # connected while the node is still in the cluster
    conn.exec_driver_sql("SELECT 1").all()
    conn.rollback()
    _isolate(db.urls[2], True)
    try:
        deadline = time.monotonic() + 60
        while True:
            state = galera.node_state(conn)
            if state is not None and not state.primary:
                break
            assert time.monotonic() < deadline, f"node 3 still primary: {state}"
            time.sleep(0.5)
        with pytest.raises(LockError, match="not part of the cluster's primary component"), \
                lock.hold(conn, schema=db.name, backend=registry.MYSQL, timeout=5):
            pass
        with pytest.raises(MigrationError, match="WSREP has not yet prepared node"):
            SyncMigrationManager(db.urls[2], db_schema=db.name, lock_timeout=5).up(create_missing=True)
        with db.engine(0).connect() as a, lock.hold(a, schema=db.name, backend=registry.MYSQL, timeout=30):
            pass
    finally:
        conn.invalidate()
        conn.close()
        engine.dispose()
        _isolate(db.urls[2], False)
        _wait_synced(db.urls, timeout=300)


def _one_row_two_nodes(db: Db) -> tuple[sa.Connection, sa.Connection]:
    """A table ``t`` with one row (n = 0), and a connection through node 1 and one through node 2."""
    with db.engine(0).begin() as c:
        c.exec_driver_sql("CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL)")
        c.exec_driver_sql("INSERT INTO t VALUES (1, 0)")
    _wait_synced(db.urls)
    return db.engine(0).connect(), db.engine(1).connect()


def test_a_conflicting_batch_is_retried(cluster, db):
    """Two nodes update one row at once: the loser's commit fails certification (1213); the wrapper retries it."""
    a, b = _one_row_two_nodes(db)
    attempts = collections.Counter[str]()
    try:
        b.begin()
        b.exec_driver_sql("UPDATE t SET n = n + 100 WHERE id = 1")

        def batch() -> None:
            attempts["a"] += 1
            a.exec_driver_sql("UPDATE t SET n = n + 1 WHERE id = 1")
            if attempts["a"] == 1:  # node 2 commits its write first: ours must lose certification
                b.commit()

        galera.retry_conflicts(a, batch, what="the test batch")
    finally:
        a.close()
        b.close()
    assert attempts["a"] == 2
    _wait_synced(db.urls)
    for node in range(len(db.urls)):
        with db.engine(node).connect() as c:
            assert c.exec_driver_sql("SELECT n FROM t").scalar() == 101


def test_a_batch_that_keeps_conflicting_fails_after_its_attempts_and_other_errors_are_not_retried(cluster, db):
    a, b = _one_row_two_nodes(db)
    attempts = collections.Counter[str]()
    try:
        def always_loses() -> None:
            attempts["conflict"] += 1
            b.begin()
            b.exec_driver_sql("UPDATE t SET n = n + 100 WHERE id = 1")
            a.exec_driver_sql("UPDATE t SET n = n + 1 WHERE id = 1")
            b.commit()

        with pytest.raises(sa.exc.DBAPIError) as raised:
            galera.retry_conflicts(a, always_loses, attempts=3)
        assert galera.is_conflict(raised.value) and attempts["conflict"] == 3

        def broken() -> None:
            attempts["other"] += 1
            a.exec_driver_sql("UPDATE no_such_table SET n = 1")

        with pytest.raises(sa.exc.ProgrammingError):
            galera.retry_conflicts(a, broken)
        assert attempts["other"] == 1
    finally:
        a.close()
        b.close()
    with db.engine(2).connect() as c:
        c.exec_driver_sql("SET SESSION wsrep_sync_wait = 15")
        assert c.exec_driver_sql("SELECT n FROM t").scalar() == 300  # only node 2's writes committed


# ------------------------------------------------------------------ migrations on the cluster


def _golden_problems(url: str, schema: str) -> list[str]:
    from tests.golden.reflect import diff, load_snapshot, reflect
    from tests.test_golden import DIVERGENCES

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        actual = reflect(engine, schema, exclude={"agno_alembic_version", lock.LOCK_TABLE})
    finally:
        engine.dispose()
    ignored = {t for v, t in DIVERGENCES if v == registry.LATEST_VERSION}
    actual["agno_schema_versions"] = [r for r in actual["agno_schema_versions"] or [] if r["table_name"] not in ignored]
    return diff(load_snapshot(registry.LATEST_VERSION, "mysql"), actual, ignore_tables=ignored)


def _same_everywhere(db: Db, nodes: list[int]) -> dict[str, dict]:
    """Every listed node holds the same rows in every table (lock table aside); returns them."""
    _wait_synced([db.urls[n] for n in nodes])
    seen = []
    for node in nodes:
        engine = db.engine(node)
        seen.append(rows(engine, db.name, exclude={lock.LOCK_TABLE}))
        engine.dispose()
    for node, got in zip(nodes[1:], seen[1:], strict=True):
        assert got == seen[0], f"node {node + 1} differs from node {nodes[0] + 1}"
    return seen[0]


def test_golden_parity_through_every_node(cluster, db):
    SyncMigrationManager(db.urls[0], db_schema=db.name).up(create_missing=True)
    _wait_synced(db.urls)
    for node, url in enumerate(db.urls):
        problems = _golden_problems(url, db.name)
        assert not problems, f"node {node + 1}:\n" + "\n".join(problems)
    _same_everywhere(db, list(range(len(db.urls))))


def _race(db: Db, tmp_path: Path) -> list[Any]:
    specs = [db.target(i % len(db.urls)).worker(mode="up", lock_timeout=600) for i in range(PROCESSES)]
    results = run_workers(specs, tmp_path, timeout=900)
    failed = [r for r in results if not r.ok]
    assert not failed, "\n\n".join(f"rc={r.returncode} {r.report}\n{r.output}" for r in failed)
    ran = [step for r in results for step in r.report["steps"]]
    twice = {s: n for s, n in collections.Counter(ran).items() if n > 1}
    assert not twice, f"steps applied more than once: {twice}"
    assert len([r for r in results if r.report["steps"]]) == 1, "more than one process ran steps"
    assert ran, "no process ran a step"
    return results


def _version_rows(db: Db, node: int) -> list[str]:
    engine = db.engine(node)
    try:
        with engine.connect() as c:
            t = sa.table("agno_alembic_version", sa.column("version_num"), schema=db.name)
            return sorted(r[0] for r in c.execute(sa.select(t.c.version_num)))
    finally:
        engine.dispose()


def _reset(db: Db) -> None:
    with db.engine(0).begin() as c:
        for name in sa.inspect(c).get_table_names(schema=db.name):
            c.exec_driver_sql(f"DROP TABLE IF EXISTS `{db.name}`.`{name}`")
    _wait_synced(db.urls)


def test_eight_processes_over_three_nodes_up_an_empty_database_at_once(cluster, db, tmp_path):
    from tests.test_concurrency import _expected_heads

    for _ in range(RACES):
        _reset(db)
        _race(db, tmp_path)
        _wait_synced(db.urls)
        heads = [_version_rows(db, n) for n in range(len(db.urls))]
        assert all(h == heads[0] for h in heads) and set(heads[0]) == _expected_heads(registry.MYSQL)
        assert len(heads[0]) == len(set(heads[0]))
        for node, url in enumerate(db.urls):
            problems = _golden_problems(url, db.name)
            assert not problems, f"node {node + 1}:\n" + "\n".join(problems)
        _same_everywhere(db, list(range(len(db.urls))))


def _seed(db: Db) -> tuple[Any, dict[str, int], dict[str, dict]]:
    from tests import agno_harness as harness

    seeded = harness.seed("2.9.0", db.agno(0))
    _wait_synced(db.urls)
    counts = harness.row_counts(db.agno(0))
    engine = db.engine(0)
    before = rows(engine, db.name)
    engine.dispose()
    return seeded, counts, before


def _converged_with_the_seed(db: Db, nodes: list[int], seeded: Any, counts: dict[str, int],
                             before: dict[str, dict]) -> None:
    """Schema, stamps and rows as after one ``up()`` of the seed, on every listed node; every run kept."""
    from tests import agno_harness as harness
    from tests.test_adoption import _row_problems, _schema_problems, _version_problems
    from tests.test_concurrency import _rows_kept, _unfinished_metrics_day

    after = _same_everywhere(db, nodes)
    backend = types.SimpleNamespace(kind="mysql", snapshot_backend="mysql", names=Names(schema=db.name))
    before = {t: dict(r) for t, r in before.items()}
    for key in _unfinished_metrics_day(before):
        before["agno_metrics"].pop(key)
    for node in nodes:
        where = db.agno(node)
        actual = harness.reflect_target(where, exclude={"agno_alembic_version", lock.LOCK_TABLE})
        problems = _schema_problems(backend, actual, seeded) + _version_problems(backend, actual, seeded)
        problems += _row_problems(backend, where, seeded, counts)
        kept, _ = _rows_kept(before, after, skip={"agno_schema_versions"})
        problems += kept
        assert not problems, f"node {node + 1}:\n" + "\n".join(problems)
        engine = db.engine(node)
        with engine.connect() as c:
            run_ids = {r[0] for r in c.execute(sa.text(f"SELECT run_id FROM `{db.name}`.agno_runs"))}
        engine.dispose()
        missing = set(seeded.run_ids) - run_ids
        assert not missing, f"node {node + 1} lacks runs {sorted(missing)[:5]}"


def test_eight_processes_over_three_nodes_up_an_agno_2_9_0_database_at_once(cluster, db, tmp_path):
    for _ in range(RACES):
        _reset(db)
        seeded, counts, before = _seed(db)
        _race(db, tmp_path)
        _converged_with_the_seed(db, list(range(len(db.urls))), seeded, counts, before)


def test_a_node_killed_in_the_runs_copy_then_up_through_another_node_converges_and_it_rejoins(
        cluster, db, tmp_path):
    if cluster.owned is None:
        pytest.skip(f"kills and restarts a node: needs a cluster this session started, not {ENV}")
    from tests import agno_harness as harness

    owned = cluster.owned
    victim = 1  # node 2: the migration runs through it
    seeded, counts, before = _seed(db)
    assert seeded.run_ids, "the seed holds no runs to copy"
    paused = tmp_path / "paused"
    proc = start_worker(db.target(victim).worker(mode="up", lock_timeout=600, lock_ttl=5,
                                                 pause_on=r"INSERT INTO .*(agno_runs|agno_alembic_stage|runs)",
                                                 paused=str(paused)))
    deadline = time.monotonic() + 600
    while not paused.exists():
        assert proc.poll() is None, f"the migration ended before its runs copy: {finish(proc).report}"
        assert time.monotonic() < deadline, "the migration never reached its runs copy"
        time.sleep(0.05)
    server.stop_node(owned, owned.nodes[victim], kill=True)
    result = finish(proc, timeout=300)
    assert not result.ok, "the migration through the killed node claims success"
    alive = [n for n in range(len(db.urls)) if n != victim]
    _wait_synced([db.urls[n] for n in alive])
    # the holder's node is gone: its lock row expires (ttl 5 s) and a migrator on another node takes over
    changes = SyncMigrationManager(db.urls[alive[0]], db_schema=db.name, lock_timeout=120).up(create_missing=True)
    assert changes
    _converged_with_the_seed(db, alive, seeded, counts, before)
    # the killed node comes back: state transfer brings it the migration, and Agno reads through it
    server.restart_node(owned, owned.nodes[victim])
    _converged_with_the_seed(db, list(range(len(db.urls))), seeded, counts, before)
    verdict = harness.validate(db.agno(victim))
    assert not verdict.failures, "\n".join(verdict.failures)


# ------------------------------------------------------------------ data steps under conflicting writes


def _sessions_with_legacy_runs(db: Db, count: int, runs_each: int = 3) -> tuple[sa.Table, sa.Table]:
    """Sessions at 2.5.6 (through node 1) holding ``runs_each`` legacy runs each: ``r<i>-<j>`` of ``s<i>``."""
    names = Names(schema=db.name)
    SyncMigrationManager(db.urls[0], db_schema=db.name).up(target_version="2.5.6", table_type=["sessions", "versions"],
                                                            create_missing=True)
    sessions = shapes.spec("sessions", registry.MYSQL, "2.5.6", names).sa_table()
    runs = shapes.spec("runs", registry.MYSQL, registry.LATEST_VERSION, names).sa_table()
    engine = db.engine(0)
    with engine.begin() as c:
        c.execute(sessions.insert(), [
            {"session_id": f"s{i:05d}", "session_type": "agent", "user_id": "u", "created_at": 1, "updated_at": 1,
             "runs": [{"run_id": f"r{i:05d}-{j}", "agent_id": "a", "status": "COMPLETED", "created_at": 10 + j}
                      for j in range(runs_each)]}
            for i in range(count)
        ])
    engine.dispose()
    _wait_synced(db.urls)
    return sessions, runs


def _replicated_bytes(engine: sa.Engine) -> int:
    with engine.connect() as c:
        return int(c.exec_driver_sql("SHOW GLOBAL STATUS LIKE 'wsrep_replicated_bytes'").one()[1])


def test_a_batched_runs_copy_retries_conflicts_with_writes_through_another_node(cluster, db, monkeypatch, caplog):
    """The 3.0.0 runs copy through node 1 in committed batches while the application (an Agno 3.x replica)
    writes rows of the runs table through node 2: a batch whose rows node 2 committed first loses certification
    (1213, whole transaction rolled back) and is retried; the copy ends exact, the application's rows win, every
    node holds the same rows."""
    import logging

    from agno_alembic.data import batched

    monkeypatch.setattr(batched, "MAX_BATCH", 50)  # several batches whatever the machine's speed
    count = 400
    _, runs = _sessions_with_legacy_runs(db, count)
    app = db.engine(1)
    written: list[str] = []

    def by_the_app(run_id: str, session_id: str) -> None:
        """Node 2 writes a run the copy is about to write (or is writing, uncommitted, on node 1)."""
        try:
            with app.begin() as c:
                c.execute(sa.text(
                    f"INSERT IGNORE INTO `{db.name}`.`{runs.name}` (run_id, session_id, run_type, run_data, "
                    "run_index, created_at, updated_at) VALUES (:r, :s, 'agent', :d, 0, 5, 5)"),
                    {"r": run_id, "s": session_id, "d": '{"written": "by the app on node 2"}'})
        except sa.exc.DBAPIError as exc:
            assert galera.is_conflict(exc), exc  # the application lost certification to the copy: no row
            return
        written.append(run_id)

    conflicts = {"n": 0, "position": ""}

    def conflicting_write(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        # Inside a batch, after its runs were inserted on node 1 (uncommitted) and before its progress row is:
        # node 2 commits the batch's last session's first run first, so node 1's batch must lose (at the UPDATE
        # or at COMMIT, whenever node 2's write set reaches node 1).
        if batched.PROGRESS_TABLE in statement and statement.lstrip().upper().startswith("UPDATE"):
            position = next(p for p in (parameters.values() if isinstance(parameters, dict) else parameters)
                            if isinstance(p, str) and p.startswith("s0"))
            conflicts["position"] = position
            if conflicts["n"] < 2:
                conflicts["n"] += 1
                by_the_app(f"r{position[1:]}-0", position)

    def conflicting_commit(conn: Any) -> None:
        # Right before a later batch's COMMIT: node 2 commits a run of that batch first, so the COMMIT itself
        # fails certification.
        position = conflicts["position"]
        if 2 <= conflicts["n"] < 4 and position and f"r{position[1:]}-1" not in written:
            conflicts["n"] += 1
            by_the_app(f"r{position[1:]}-1", position)

    migration = db.engine(0)
    sa.event.listen(migration, "before_cursor_execute", conflicting_write)
    sa.event.listen(migration, "commit", conflicting_commit)
    before = _replicated_bytes(migration)
    try:
        with caplog.at_level(logging.INFO, logger="agno_alembic"):
            SyncMigrationManager(migration, db_schema=db.name).up(table_type=["sessions", "runs"])
    finally:
        migration.dispose()
    replicated = _replicated_bytes(db.engine(0)) - before
    retried = [r.getMessage() for r in caplog.records if "could not commit" in r.getMessage()]
    print(f"galera batched copy: {count} sessions x 3 runs, {len(retried)} batch(es) retried after a conflict, "
          f"{replicated} bytes replicated from node 1")
    assert conflicts["n"] == 4 and len(written) == 4
    assert len(retried) >= 2 and all("1213" in m for m in retried), retried
    expected = {f"r{i:05d}-{j}" for i in range(count) for j in range(3)}
    everywhere = _same_everywhere(db, list(range(len(db.urls))))
    assert everywhere  # identical on the three nodes
    for node in range(len(db.urls)):
        engine = db.engine(node)
        with engine.connect() as c:
            c.exec_driver_sql("SET SESSION wsrep_sync_wait = 15")
            data = dict(c.execute(sa.select(runs.c.run_id, runs.c.run_data)).all())
        engine.dispose()
        assert set(data) == expected, f"node {node + 1}: {len(set(data) ^ expected)} run(s) differ"
        for run_id in written:  # the application's rows win over the legacy copies
            assert "by the app on node 2" in str(data[run_id]), (node, run_id, data[run_id])
    with db.engine(0).connect() as c:
        assert not sa.inspect(c).has_table(batched.PROGRESS_TABLE, schema=db.name)


def test_contract_through_node_1_keeps_every_run_a_replica_on_node_2_appends(cluster, db):
    """An Agno 2.x replica on node 2 appends legacy runs in a loop while contract() runs through node 1, and once
    more right before the guard and right before the DROP statement (node 1's statements, seen by an event): the
    column is guarded by a rename (one TOI event), so each append either commits before it (and is copied) or
    fails (no such column, or a conflict with the rename); none is dropped."""
    import json
    import threading

    from agno_alembic.data import batched

    sessions, runs = _sessions_with_legacy_runs(db, 20)
    SyncMigrationManager(db.urls[0], db_schema=db.name).up(table_type=["sessions", "runs"])
    replica = db.engine(1)
    stop = threading.Event()
    one_at_a_time = threading.Lock()
    committed: list[str] = []
    refused: list[str] = []

    def append(run_id: str) -> None:
        session_id = f"s{len(committed) % 20:05d}"
        with one_at_a_time:
            try:
                with replica.begin() as c:
                    blob = c.execute(sa.select(sessions.c.runs).where(sessions.c.session_id == session_id)
                                     .with_for_update()).scalar_one()
                    legacy = json.loads(blob) if isinstance(blob, str) else blob
                    legacy.append({"run_id": run_id, "agent_id": "a", "created_at": 77})
                    c.execute(sessions.update().where(sessions.c.session_id == session_id)
                              .values(runs=legacy, updated_at=int(time.time())))
            except sa.exc.DBAPIError as exc:
                refused.append(f"{run_id}: {exc.orig}")
                return
            committed.append(run_id)

    def append_in_a_loop() -> None:
        i = 0
        while not stop.is_set():
            append(f"w{i:05d}")
            i += 1
            time.sleep(0.005)

    def at(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "DROP COLUMN" in statement.upper() and "at-the-drop" not in marks:
            marks.append("at-the-drop")
            append("at-the-drop")
        elif batched.LEGACY_RUNS_GUARD in statement and "at-the-guard" not in marks:
            marks.append("at-the-guard")
            append("at-the-guard")  # after the catch-up, right before the guard

    marks: list[str] = []
    migration = db.engine(0)
    sa.event.listen(migration, "before_cursor_execute", at)
    writer = threading.Thread(target=append_in_a_loop, daemon=True)
    writer.start()
    try:
        while len(committed) < 5 and writer.is_alive():
            time.sleep(0.01)
        assert SyncMigrationManager(migration, db_schema=db.name).contract() == [f"{sessions.name}.runs"]
        time.sleep(0.3)
    finally:
        stop.set()
        writer.join(30)
        replica.dispose()
        migration.dispose()
    assert "at-the-drop" in marks and "at-the-drop" not in committed, (marks, refused[:3])
    assert "at-the-guard" in committed and len(committed) >= 5
    _wait_synced(db.urls)
    for node in range(len(db.urls)):
        engine = db.engine(node)
        with engine.connect() as c:
            copied = set(c.execute(sa.select(runs.c.run_id)).scalars())
            columns = {col["name"] for col in sa.inspect(c).get_columns(sessions.name, schema=db.name)}
        engine.dispose()
        lost = [r for r in committed if r not in copied]
        assert not lost, f"node {node + 1}: contract dropped {len(lost)} committed legacy run(s): {lost}"
        assert "runs" not in columns
