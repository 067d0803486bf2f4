"""agno-alembic inside a real AgentOS app (agno[os]==3.1.10, in this interpreter: the ``agentos`` extra).

No LLM is called: the AgentOS has a db and no agent.  The routes go through AgentOS's own app, auth middleware and
exception handlers (Starlette's TestClient); the lifespan runs through AgentOS's combined lifespan.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("agno.os")
pytest.importorskip("fastapi")
jwt = pytest.importorskip("jwt")

from agno.db.mysql import MySQLDb  # noqa: E402
from agno.db.postgres import PostgresDb  # noqa: E402
from agno.db.sqlite import SqliteDb  # noqa: E402
from agno.os import AgentOS  # noqa: E402
from agno.os.authz import Authorization  # noqa: E402
from agno.os.settings import AgnoAPISettings  # noqa: E402
from agno.utils import log as agno_log  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from agno_alembic import ConfigurationError, MigrationError, SyncMigrationManager, registry  # noqa: E402
from agno_alembic.http import attach, migrate_lifespan, migration_router  # noqa: E402
from tests import agno_harness  # noqa: E402

KEY = "os-security-key"
INTERNAL = "scheduler-internal-token"
AUTH = {"Authorization": f"Bearer {KEY}"}
MIGRATE_PATHS = {"/databases/{db_id}/migrate", "/databases/all/migrate"}
KNOWN = ", ".join(registry.SCHEMA_VERSIONS)


def agno_db(backend, db_id: str = "main"):
    """The Agno 3.1.10 db object AgentOS would be given for ``backend``."""
    if backend.kind == "sqlite":
        return SqliteDb(db_url=backend.url, id=db_id)
    cls = PostgresDb if backend.kind == "postgres" else MySQLDb
    return cls(db_url=backend.url, db_schema=backend.schema, id=db_id)


def agent_os(db, **kw) -> AgentOS:
    kw.setdefault("settings", AgnoAPISettings(os_security_key=KEY))
    return AgentOS(db=db, telemetry=False, **kw)


def stamps(db) -> dict[str, tuple[str | None, str | None]]:
    """Per existing table type but the versions table itself: (our revision, agno_schema_versions' version)."""
    return {
        s.table_type: (s.revision, s.recorded_version)
        for s in SyncMigrationManager(db).status()
        if s.exists and s.table_type != "versions"
    }


def migrate_routes(app) -> list:
    """Every POST migrate route of ``app``, in matching order, through FastAPI's included-router wrappers."""

    def walk(routes) -> Iterator:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes)
            elif getattr(route, "path", None) in MIGRATE_PATHS and "POST" in (getattr(route, "methods", None) or ()):
                yield route

    return list(walk(app.router.routes))


def owners(app) -> set[str]:
    return {route.endpoint.__module__ for route in migrate_routes(app)}


# -- the routes, with a security key, on every backend -----------------------------------------------------------


def test_routes_replace_agentos_own(backend):
    db = agno_db(backend)
    SyncMigrationManager(db).up("2.0.0", create_missing=True)  # tables to migrate: the routes, as Agno's, create none
    os_ = agent_os(db)
    app = os_.get_app()
    assert len(migrate_routes(app)) == 2
    assert owners(app) == {"agno.os.routers.database"}
    assert attach(os_, app) is app
    assert len(migrate_routes(app)) == 2 and owners(app) == {"agno_alembic.http"}
    client = TestClient(app)

    # form data, as Agno's AgentOSClient.migrate_database sends it (AgentOS's own route ignores it: latest)
    r = client.post("/databases/main/migrate", data={"target_version": "2.3.0"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "Database migrated successfully to version 2.3.0"}
    now = stamps(db)
    assert now["sessions"] == ("agno_sessions_2_3_0", "2.3.0")
    assert now["memories"] == ("agno_memories_2_3_0", "2.3.0")
    assert {v for _, v in now.values()} == {"2.3.0"}

    r = client.post("/databases/main/migrate", params={"target_version": "bogus"}, headers=AUTH)
    assert r.status_code == 400, r.text
    assert "'bogus'" in r.json()["detail"] and KNOWN in r.json()["detail"]
    assert stamps(db) == now  # refused before anything ran

    r = client.post("/databases/main/migrate", params={"target_version": "2.5.0"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert stamps(db)["sessions"] == ("agno_sessions_2_5_0", "2.5.0")

    r = client.post("/databases/all/migrate", json={"target_version": "3.0.0"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "All databases migrated successfully to version 3.0.0"}
    assert stamps(db)["sessions"] == ("agno_sessions_3_0_0", "3.0.0")

    r = client.post("/databases/other/migrate", headers=AUTH)
    assert r.status_code == 404 and r.json() == {"detail": "No database found with id 'other'"}


def test_security_key_is_agentos_own(sqlite_backend):
    """AgentOS's security key, through its middleware; the 401 keeps its WWW-Authenticate header."""
    SyncMigrationManager(agno_db(sqlite_backend)).up("2.0.0", create_missing=True)  # the routes create no table
    before = stamps(agno_db(sqlite_backend))
    os_ = agent_os(agno_db(sqlite_backend), internal_service_token=INTERNAL)
    client = TestClient(attach(os_, os_.get_app()))
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = client.post("/databases/main/migrate", data={"target_version": "2.3.0"}, headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == "Bearer"
    assert stamps(agno_db(sqlite_backend)) == before
    # the scheduler's internal token is AgentOS's too
    r = client.post("/databases/main/migrate", data={"target_version": "2.3.0"},
                    headers={"Authorization": f"Bearer {INTERNAL}"})
    assert r.status_code == 200, r.text
    assert stamps(agno_db(sqlite_backend))["sessions"] == ("agno_sessions_2_3_0", "2.3.0")


def test_service_account_tokens(sqlite_backend):
    """AgentOS's agno_pat_ tokens, minted by its own /service-accounts route: config:write or 403."""
    db = agno_db(sqlite_backend)
    os_ = agent_os(db)
    with TestClient(attach(os_, os_.get_app())) as client:  # started: AgentOS creates its service-account table

        def mint(name: str, scopes: list[str] | None) -> dict[str, str]:
            body = {"name": name, "allow_privileged_scopes": True}
            if scopes is not None:
                body["scopes"] = [{"scope": s, "effect": "allow"} for s in scopes]
            r = client.post("/service-accounts", json=body, headers=AUTH)
            assert r.status_code == 201, r.text
            return {"Authorization": f"Bearer {r.json()['token']}"}

        writer, reader = mint("ci", ["config:write"]), mint("reader", None)
        r = client.post("/databases/main/migrate", data={"target_version": "3.0.0"}, headers=reader)
        assert r.status_code == 403, r.text
        r = client.post("/databases/main/migrate", data={"target_version": "3.0.0"}, headers=writer)
        assert r.status_code == 200, r.text
        assert stamps(db)["sessions"] == ("agno_sessions_3_0_0", "3.0.0")
        # a downgrade that would drop the service accounts' rows is refused, and says so (AgentOS: 500)
        r = client.post("/databases/main/migrate", data={"target_version": "2.3.0"}, headers=writer)
        assert r.status_code == 409 and "agno_service_accounts" in r.json()["detail"], r.text
        assert stamps(db)["service_accounts"][1] == "3.0.0"
        r = client.post("/databases/main/migrate", headers={"Authorization": "Bearer agno_pat_forged"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


def _token(private: bytes, scopes: list[str]) -> dict[str, str]:
    claims = {"sub": "user-1", "scopes": scopes, "iat": int(time.time()), "exp": int(time.time()) + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, private, algorithm='RS256')}"}


def test_jwt_needs_config_write(sqlite_backend, rsa_keys):
    private, public = rsa_keys
    db = agno_db(sqlite_backend)
    SyncMigrationManager(db).up("2.0.0", create_missing=True)  # tables to migrate: the routes create none
    before = stamps(db)
    os_ = AgentOS(
        db=db, telemetry=False, authorization=Authorization(verification_keys=[public], algorithm="RS256")
    )
    client = TestClient(attach(os_, os_.get_app()))
    r = client.post("/databases/main/migrate", data={"target_version": "2.3.0"}, headers=_token(private, []))
    assert r.status_code == 403, r.text
    r = client.post("/databases/all/migrate", headers=_token(private, ["config:read"]))
    assert r.status_code == 403, r.text
    assert stamps(db) == before
    r = client.post("/databases/main/migrate", data={"target_version": "2.3.0"},
                    headers=_token(private, ["config:write"]))
    assert r.status_code == 200, r.text
    assert stamps(db)["sessions"] == ("agno_sessions_2_3_0", "2.3.0")
    r = client.post("/databases/main/migrate", params={"target_version": "9.9.9"},
                    headers=_token(private, ["config:write"]))
    assert r.status_code == 400 and KNOWN in r.json()["detail"]
    r = client.post("/databases/main/migrate", headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_attach_again_after_resync(tmp_path, sqlite_backend):
    os_ = agent_os(agno_db(sqlite_backend))
    app = attach(os_, os_.get_app())
    second = SqliteDb(db_url=f"sqlite:///{tmp_path / 'second.db'}", id="second")
    SyncMigrationManager(second).up("2.0.0", create_missing=True)  # tables to migrate: the routes create none
    os_.db = second
    assert owners(app) == {"agno_alembic.http"}
    os_.resync(app)
    assert owners(app) == {"agno.os.routers.database"}  # resync rebuilt the routes: AgentOS's are back
    attach(os_, app)
    assert owners(app) == {"agno_alembic.http"} and len(migrate_routes(app)) == 2
    client = TestClient(app)
    r = client.post("/databases/second/migrate", data={"target_version": "2.5.0"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert stamps(second)["sessions"] == ("agno_sessions_2_5_0", "2.5.0")
    assert client.post("/databases/main/migrate", headers=AUTH).status_code == 404  # no longer AgentOS's


def test_remote_and_knowledge_dbs(tmp_path, sqlite_backend):
    """The first local db of each id; knowledge contents_dbs only when asked; remote dbs answered as AgentOS does."""
    from agno.knowledge.knowledge import Knowledge
    from agno.remote.base import RemoteDb

    contents = SqliteDb(db_url=f"sqlite:///{tmp_path / 'contents.db'}", id="contents")
    SyncMigrationManager(contents).up("2.0.0", table_type="knowledge", create_missing=True)  # the routes create none
    os_ = agent_os(agno_db(sqlite_backend), knowledge=[Knowledge(contents_db=contents)])
    app = os_.get_app()
    client = TestClient(attach(os_, app))
    assert client.post("/databases/contents/migrate", headers=AUTH).status_code == 404
    client = TestClient(attach(os_, app, knowledge=True))
    r = client.post("/databases/contents/migrate", data={"target_version": "2.3.0"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert stamps(contents)["knowledge"] == ("agno_knowledge_2_3_0", "2.3.0")

    os_.dbs["far"] = [RemoteDb(id="far", client=None)]  # as AgentOS lists the db of a remote agent
    client = TestClient(attach(os_, app))
    r = client.post("/databases/far/migrate", headers=AUTH)
    assert r.status_code == 400 and "is remote" in r.json()["detail"]
    r = client.post("/databases/all/migrate", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "All databases migrated successfully to latest version", "skipped": ["far"]}


def test_auth_option_replaces_the_token_check(sqlite_backend):
    with pytest.raises(ConfigurationError, match="auth= replaces"):
        migration_router({"main": sqlite_backend.url}, token="t", auth=lambda: None)
    with pytest.raises(ConfigurationError, match="auth= takes"):
        migration_router({"main": sqlite_backend.url}, auth="yes")


# -- the lifespan ------------------------------------------------------------------------------------------------


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def agno_lines() -> Iterator[list[str]]:
    """What Agno logs (its loggers do not propagate to the root)."""
    handler = _Lines()
    loggers = {agno_log.logger, logging.getLogger("agno")}
    for lg in loggers:
        lg.addHandler(handler)
    yield handler.lines
    for lg in loggers:
        lg.removeHandler(handler)


def _started(os_: AgentOS) -> None:
    with TestClient(os_.get_app()) as client:
        assert client.get("/health").status_code == 200


def test_lifespan_on_a_database_agno_2_2_13_made(backend, agno_lines, caplog):
    seeded = agno_harness.seed("2.2.13", agno_harness.Target.of(backend))
    assert seeded  # Agno made its tables
    db = agno_db(backend)
    before = stamps(db)
    assert before["sessions"][0] is None  # never adopted
    caplog.set_level(logging.INFO, logger="agno_alembic")
    _started(agent_os(db, lifespan=migrate_lifespan))
    after = SyncMigrationManager(db).status()
    tables = [s for s in after if s.exists and s.table_type != "versions"]
    assert {s.table_type for s in tables} >= set(before)
    assert all(s.recorded_version == "3.0.0" and not s.pending for s in tables), [
        (s.table_type, s.recorded_version, s.pending) for s in tables
    ]
    assert not [line for line in agno_lines if "invalid schema" in line]
    changed = [m for m in caplog.messages if m.startswith("agno-alembic: database 'main': agno_sessions (sessions) ")]
    assert len(changed) == 1 and changed[0].endswith(" -> 3.0.0"), caplog.messages


def test_without_the_lifespan_agno_warns(sqlite_backend, agno_lines):
    """The control of the test above: the same database, started without migrate_lifespan, is logged stale."""
    agno_harness.seed("2.2.13", agno_harness.Target.of(sqlite_backend))
    _started(agent_os(agno_db(sqlite_backend)))
    assert [line for line in agno_lines if "invalid schema" in line]


def test_lifespan_brings_a_2_0_0_database_up(backend, caplog):
    db = agno_db(backend)
    SyncMigrationManager(db).up("2.0.0", create_missing=True)
    caplog.set_level(logging.INFO, logger="agno_alembic")
    _started(agent_os(db, lifespan=migrate_lifespan))
    assert stamps(db)["sessions"] == ("agno_sessions_3_0_0", "3.0.0")
    assert {v for _, v in stamps(db).values()} == {"3.0.0"}
    _started(agent_os(db, lifespan=migrate_lifespan))  # a second start: nothing to do
    assert "agno-alembic: database 'main': up to date" in caplog.messages


def test_lifespan_takes_knowledge_contents_dbs_unless_told(tmp_path, sqlite_backend):
    from agno.knowledge.knowledge import Knowledge

    url = f"sqlite:///{tmp_path / 'contents.db'}"
    SyncMigrationManager(url).up("2.3.0", table_type="knowledge", create_missing=True)
    contents = SqliteDb(db_url=url, id="contents")
    knowledge = [Knowledge(contents_db=contents)]
    _started(agent_os(agno_db(sqlite_backend), knowledge=knowledge,
                      lifespan=functools.partial(migrate_lifespan, knowledge=False)))
    assert stamps(contents)["knowledge"] == ("agno_knowledge_2_3_0", "2.3.0")
    _started(agent_os(agno_db(sqlite_backend), knowledge=knowledge, lifespan=migrate_lifespan))
    assert stamps(contents)["knowledge"] == ("agno_knowledge_3_0_0", "3.0.0")


def test_async_db_through_lifespan_and_routes(sqlite_backend):
    """An AsyncSqliteDb: the lifespan and the routes migrate it off the server's event loop."""
    from agno.db.sqlite import AsyncSqliteDb

    SyncMigrationManager(sqlite_backend.url).up("2.3.0", create_missing=True)
    db = AsyncSqliteDb(db_url=sqlite_backend.async_url(), id="main")
    os_ = agent_os(db, lifespan=migrate_lifespan)
    with TestClient(attach(os_, os_.get_app())) as client:
        assert stamps(sqlite_backend.url)["sessions"] == ("agno_sessions_3_0_0", "3.0.0")
        r = client.post("/databases/main/migrate", json={"target_version": "2.5.0"}, headers=AUTH)
        assert r.status_code == 200, r.text
    assert stamps(sqlite_backend.url)["sessions"] == ("agno_sessions_2_5_0", "2.5.0")


def test_lifespan_failure_stops_startup_unless_warn_only(tmp_path, caplog):
    db = SqliteDb(db_url=f"sqlite:///{tmp_path / 'missing-dir' / 'agno.db'}", id="broken")
    with pytest.raises(MigrationError, match=r"(?s)'broken'.*on_error='warn'"):
        _started(agent_os(db, lifespan=migrate_lifespan))
    caplog.set_level(logging.WARNING, logger="agno_alembic")
    _started(agent_os(db, lifespan=functools.partial(migrate_lifespan, on_error="warn")))
    assert any("'broken'" in m and "starts anyway" in m for m in caplog.messages)
