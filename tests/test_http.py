"""The HTTP endpoints (agno_alembic.http), through a real uvicorn server on 127.0.0.1 and an httpx client."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

import uvicorn  # noqa: E402

from agno_alembic import ConfigurationError, SyncMigrationManager, commands, registry  # noqa: E402
from agno_alembic.http import create_app, migration_router  # noqa: E402

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextlib.contextmanager
def serve(app) -> Iterator[httpx.Client]:
    """Run ``app`` under uvicorn in a background thread on a free port; yield a client bound to it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(10)


def _entry(backend):
    return (backend.url, {"db_schema": backend.schema or ""})


def _mm(backend) -> SyncMigrationManager:
    return SyncMigrationManager(backend.url, db_schema=backend.schema or "")


def _seed(url_or_backend, **kw) -> None:
    """Tables to migrate, as Agno 2.0 made them: the routes run ``up()``, which, as Agno's, creates no table."""
    url = url_or_backend if isinstance(url_or_backend, str) else url_or_backend.url
    schema = "" if isinstance(url_or_backend, str) else url_or_backend.schema or ""
    SyncMigrationManager(url, db_schema=schema, **kw).up(target_version="2.0.0", create_missing=True)


def _revisions(backend) -> dict[str, str | None]:
    return {s.table_type: s.revision for s in _mm(backend).status()}


class _AgnoLikeDb:
    """The attributes of an Agno db object the manager reads, naming only sessions and memories."""

    def __init__(self, backend):
        self.db_engine = backend.engine
        self.db_url = None
        self.db_schema = backend.schema
        for name in ("sessions", "memories"):
            tt = registry.table_type(name)
            setattr(self, tt.agno_attribute, tt.default_table)


# -- the single-database endpoint, on every backend ---------------------------------------------------------------


def test_query_target_then_latest(backend):
    _seed(backend)
    with serve(create_app({"main": _entry(backend)}, token=TOKEN)) as client:
        r = client.post("/databases/main/migrate", params={"target_version": "2.3.0"}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json() == {"message": "Database migrated successfully to version 2.3.0"}
        revs = _revisions(backend)
        assert revs["memories"] == "agno_memories_2_3_0" and revs["sessions"] == "agno_sessions_2_3_0"
        r = client.post("/databases/main/migrate", headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json() == {"message": "Database migrated successfully to latest version"}
        assert _revisions(backend)["sessions"] == "agno_sessions_3_0_0"


def test_target_version_sent_in_the_body(backend):
    """Agno's own client sends the version in the body, which Agno's endpoint ignores (it migrates to latest)."""
    _seed(backend)
    with serve(create_app({"main": _entry(backend)}, token=TOKEN)) as client:
        r = client.post("/databases/main/migrate", json={"target_version": "v2.5.0"}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json() == {"message": "Database migrated successfully to version v2.5.0"}  # echoed as sent
        assert _revisions(backend)["sessions"] == "agno_sessions_2_5_0"
        r = client.post("/databases/main/migrate", data={"target_version": "2.5.6"}, headers=AUTH)  # a form
        assert r.status_code == 200, r.text
        assert _revisions(backend)["sessions"] == "agno_sessions_2_5_6"
        r = client.post(
            "/databases/main/migrate",
            params={"target_version": "2.3.0"},
            json={"target_version": "3.0.0"},
            headers=AUTH,
        )
        assert r.status_code == 400 and "Conflicting" in r.json()["detail"]
        assert _revisions(backend)["sessions"] == "agno_sessions_2_5_6"


def test_up_or_down_is_decided_per_table(backend):
    """Agno compares the target with the sessions table only: with sessions above it, every table goes down."""
    db = _AgnoLikeDb(backend)
    mm = SyncMigrationManager(db)
    mm.up(create_missing=True)
    mm.down("2.0.0", table_type="memories")
    before = {s.table_type: s.revision for s in mm.status()}
    assert before["memories"] == "agno_memories_2_0_0" and before["sessions"] == "agno_sessions_3_0_0"
    with serve(create_app({"agno": db}, token=TOKEN)) as client:
        r = client.post("/databases/agno/migrate?target_version=2.5.0", headers=AUTH)
        assert r.status_code == 200, r.text
    after = {s.table_type: s.revision for s in mm.status()}
    assert after["sessions"] == "agno_sessions_2_5_0"  # down
    assert after["memories"] == "agno_memories_2_3_0"  # up: memories' newest revision at or below 2.5.0
    assert set(after) == {"sessions", "memories", "versions"}  # only what the configuration names


@pytest.mark.parametrize("version", ["bogus", "9.9.9", "1.9.0", "latest"])
def test_a_bad_version_is_a_400_naming_the_known_ones_and_changes_nothing(backend, version):
    with serve(create_app({"main": _entry(backend), "other": _entry(backend)}, token=TOKEN)) as client:
        for path in ("/databases/main/migrate", "/databases/all/migrate"):
            r = client.post(path, params={"target_version": version}, headers=AUTH)
            assert r.status_code == 400, r.text
            detail = r.json()["detail"]
            assert version in detail and ", ".join(registry.SCHEMA_VERSIONS) in detail
        r = client.post("/databases/main/migrate", json={"target_version": version}, headers=AUTH)
        assert r.status_code == 400
    assert all(rev is None for rev in _revisions(backend).values())


# -- the all endpoint -------------------------------------------------------------------------------------------


def test_all_databases(backend, tmp_path):
    second = f"sqlite:///{tmp_path / 'second.db'}"
    _seed(backend)
    _seed(second)
    with serve(create_app({"main": _entry(backend), "second": second}, token=TOKEN)) as client:
        r = client.post("/databases/all/migrate?target_version=2.3.0", headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json() == {"message": "All databases migrated successfully to version 2.3.0"}
    assert _revisions(backend)["memories"] == "agno_memories_2_3_0"
    assert SyncMigrationManager(second).status("memories")[0].revision == "agno_memories_2_3_0"


def test_all_databases_with_a_failure_is_a_207(sqlite_backend, tmp_path):
    broken = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
    _seed(sqlite_backend)
    app = create_app({"main": _entry(sqlite_backend), "broken": broken}, token=TOKEN)
    with serve(app) as client:
        r = client.post("/databases/all/migrate", headers=AUTH)
        assert r.status_code == 207, r.text
        body = r.json()
        assert body["message"] == "Migrated 1/2 databases to latest version"
        assert set(body["failed"]) == {"broken"} and body["failed"]["broken"]
        r = client.post("/databases/broken/migrate", headers=AUTH)
        assert r.status_code == 500 and r.json()["detail"].startswith("Failed to migrate database: ")
    assert _revisions(sqlite_backend)["sessions"] == "agno_sessions_3_0_0"


def test_unknown_database_is_a_404(sqlite_backend):
    with serve(create_app({"main": _entry(sqlite_backend)}, token=TOKEN)) as client:
        r = client.post("/databases/nope/migrate", headers=AUTH)
        assert r.status_code == 404 and r.json() == {"detail": "No database found with id 'nope'"}


def test_a_refused_downgrade_is_a_409_and_loses_nothing(sqlite_backend):
    import sqlalchemy as sa

    mm = _mm(sqlite_backend)
    mm.up(create_missing=True)
    with sqlite_backend.engine.begin() as c:
        c.exec_driver_sql("INSERT INTO agno_memories (memory_id, memory, created_at) VALUES ('m1', '{}', 5)")
    with serve(create_app({"main": _entry(sqlite_backend)}, token=TOKEN)) as client:
        r = client.post("/databases/main/migrate?target_version=2.0.0", headers=AUTH)
        assert r.status_code == 409, r.text
        assert "allow_data_loss" in r.json()["detail"]
    with sqlite_backend.engine.connect() as c:
        assert c.execute(sa.text("SELECT COUNT(*) FROM agno_memories")).scalar() == 1


# -- authentication ---------------------------------------------------------------------------------------------


def test_a_missing_or_wrong_token_is_a_401(backend):
    with serve(create_app({"main": _entry(backend)}, token=TOKEN)) as client:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": TOKEN},
            {"Authorization": f"Basic {TOKEN}"},
        ):
            for path in ("/databases/main/migrate", "/databases/all/migrate", "/databases/nope/migrate"):
                r = client.post(path, headers=headers)
                assert r.status_code == 401, (headers, path, r.text)
                assert r.headers["www-authenticate"] == "Bearer" and "detail" in r.json()
        assert client.get("/health").json() == {"status": "ok"}  # the health route stays open
    assert all(rev is None for rev in _revisions(backend).values())


def test_token_sources_and_explicit_opt_out(sqlite_backend, monkeypatch):
    for var in ("AGNO_ALEMBIC_HTTP_TOKEN", "OS_SECURITY_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigurationError, match="allow_unauthenticated"):
        migration_router({"main": _entry(sqlite_backend)})
    with pytest.raises(ConfigurationError, match="empty"):
        migration_router({"main": _entry(sqlite_backend)}, token="")
    monkeypatch.setenv("OS_SECURITY_KEY", "from-agentos")
    monkeypatch.setenv("AGNO_ALEMBIC_HTTP_TOKEN", "from-env")
    with serve(create_app({"main": _entry(sqlite_backend)})) as client:
        assert (
            client.post("/databases/main/migrate", headers={"Authorization": "Bearer from-agentos"}).status_code == 401
        )
        r = client.post("/databases/main/migrate?target_version=2.0.0", headers={"Authorization": "Bearer from-env"})
        assert r.status_code == 200, r.text
    monkeypatch.delenv("AGNO_ALEMBIC_HTTP_TOKEN")
    monkeypatch.delenv("OS_SECURITY_KEY")
    with serve(create_app({"main": _entry(sqlite_backend)}, allow_unauthenticated=True)) as client:
        r = client.post("/databases/main/migrate?target_version=2.3.0")
        assert r.status_code == 200, r.text


# -- off the event loop -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_the_event_loop_answers_while_a_migration_runs(sqlite_backend, monkeypatch, driver):
    """A migration step that blocks its thread must not block the server: /health answers meanwhile."""
    entered, release = threading.Event(), threading.Event()
    _seed(sqlite_backend)  # tables to migrate (the route, as Agno's, creates none)
    original = commands.upgrade

    def slow_upgrade(*args, **kwargs):
        entered.set()
        assert release.wait(30), "the test never released the migration"
        return original(*args, **kwargs)

    monkeypatch.setattr(commands, "upgrade", slow_upgrade)
    url = sqlite_backend.url if driver == "sync" else sqlite_backend.async_url()
    if driver == "async":
        pytest.importorskip("aiosqlite")
        from sqlalchemy.ext.asyncio import create_async_engine

        db = create_async_engine(url)  # a pooled AsyncEngine, as an Agno async db holds
    else:
        db = url
    result: dict[str, httpx.Response] = {}
    with serve(create_app({"main": db}, token=TOKEN)) as client:

        def migrate() -> None:
            result["r"] = client.post("/databases/main/migrate", headers=AUTH)

        worker = threading.Thread(target=migrate)
        worker.start()
        try:
            assert entered.wait(30), "the migration never started"
            started = time.monotonic()
            health = client.get("/health", timeout=5)
            assert health.status_code == 200 and time.monotonic() - started < 5
            assert "r" not in result  # the migration is still held
        finally:
            release.set()
            worker.join(60)
    assert result["r"].status_code == 200, result["r"].text
    assert _revisions(sqlite_backend)["sessions"] == "agno_sessions_3_0_0"


def test_without_fastapi_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "fastapi", None)
    with pytest.raises(ImportError, match=r"agno-alembic\[http\]"):
        migration_router({}, token=TOKEN)


def test_a_target_restamps_a_table_agno_made_whose_shape_is_the_targets(backend):
    """#18: memories Agno made at 3.0.0 (its shape is 2.3.0's) ends adopted and recorded at the target, like the
    tables that moved."""
    from agno_alembic import stamps
    from agno_alembic.runtime import RunState
    from tests.test_rebuild import KINDS, _agno_built

    _mm(backend).up(table_type=["sessions", "metrics"], create_missing=True)
    _agno_built(backend, "memories")
    with serve(create_app({"main": _entry(backend)}, token=TOKEN)) as client:
        r = client.post("/databases/main/migrate", data={"target_version": "2.3.0"}, headers=AUTH)
        assert r.status_code == 200, r.text
    revs = _revisions(backend)
    assert revs["memories"] == "agno_memories_2_3_0" and revs["sessions"] == "agno_sessions_2_3_0"
    with backend.engine.connect() as conn:
        rows = stamps.read(conn, RunState(backend.names, KINDS[backend.kind]))
    assert {rows[t] for t in ("agno_sessions", "agno_metrics", "agno_memories")} == {"2.3.0"}


def test_an_async_engines_online_settings_reach_the_migration(sqlite_backend, monkeypatch):
    """A database configured as ``(AsyncEngine, {"online": False, ...})``: the route runs with those settings (the
    manager rebuilt around the engine's URL kept only the lock timeout)."""
    pytest.importorskip("aiosqlite")
    from sqlalchemy.ext.asyncio import create_async_engine

    from agno_alembic.environment import ATTR_DDL_DEADLINE, ATTR_ONLINE

    _seed(sqlite_backend)
    seen: list[dict[str, object]] = []
    original = commands.upgrade

    def watched(config, *args, **kwargs):
        seen.append(dict(config.attributes))
        return original(config, *args, **kwargs)

    monkeypatch.setattr(commands, "upgrade", watched)
    db = create_async_engine(sqlite_backend.async_url())
    entry = (db, {"online": False, "ddl_deadline": 7.0})
    with serve(create_app({"main": entry}, token=TOKEN)) as client:
        r = client.post("/databases/main/migrate", headers=AUTH)
    assert r.status_code == 200, r.text
    assert seen and all(a.get(ATTR_ONLINE) is False and a.get(ATTR_DDL_DEADLINE) == 7.0 for a in seen), seen
    assert _revisions(sqlite_backend)["sessions"] == "agno_sessions_3_0_0"
