"""Backends for the tests: SQLite always; PostgreSQL and MySQL (MariaDB) from real servers.

Server URLs come from ``AGNO_ALEMBIC_TEST_POSTGRES_URL`` / ``AGNO_ALEMBIC_TEST_MYSQL_URL``, else the local
servers on 127.0.0.1, else testcontainers where a Docker engine answers.  A backend none of these provides is
skipped, unless ``AGNO_ALEMBIC_REQUIRE_BACKENDS`` names it (``.ci/run`` sets ``postgres,mysql``): then it fails.
Each test gets its own PostgreSQL schema or MySQL database, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

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
ENV = {"postgres": "AGNO_ALEMBIC_TEST_POSTGRES_URL", "mysql": "AGNO_ALEMBIC_TEST_MYSQL_URL"}
REQUIRED = {b.strip() for b in os.environ.get("AGNO_ALEMBIC_REQUIRE_BACKENDS", "").split(",") if b.strip()}
_servers: dict[str, str | None] = {}
_containers: list[object] = []


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


def server_url(kind: str) -> str | None:
    """The URL of a live ``postgres`` or ``mysql`` server, or ``None``."""
    if kind not in _servers:
        candidates = [u for u in (os.environ.get(ENV[kind]), LOCAL[kind]) if u]
        _servers[kind] = next((u for u in candidates if _answers(u)), None) or _container_url(kind)
    return _servers[kind]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for c in _containers:
        with contextlib.suppress(Exception):
            c.stop()  # type: ignore[attr-defined]


@dataclass
class Backend:
    """One database for one test: where it is and the names to migrate it with."""

    kind: str  # sqlite | postgres | mysql
    url: str
    schema: str | None
    engine: sa.Engine
    cleanups: list = field(default_factory=list)

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
        message = f"no {kind} server: set {ENV[kind]}, start the local server, or run Docker"
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
        yield Backend(kind, url, None, engine)
        engine.dispose()
        return
    server = _need(kind)
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    schema = f"t_{tag}" if kind == "postgres" else f"agno_alembic_t_{tag}"
    with admin.connect() as c:
        if kind == "mysql":
            c.exec_driver_sql(f"CREATE DATABASE `{schema}` {MYSQL_DATABASE_CHARSET}")
    engine = sa.create_engine(server, poolclass=sa.pool.NullPool)
    try:
        yield Backend(kind, server, schema, engine)
    finally:
        engine.dispose()
        with admin.connect() as c:
            if kind == "postgres":
                c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            else:
                c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{schema}`")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[Backend]:
    with make_backend(request.param, tmp_path) as b:
        yield b


@pytest.fixture
def sqlite_backend(tmp_path) -> Iterator[Backend]:
    with make_backend("sqlite", tmp_path) as b:
        yield b
