"""Character sets and the 3.0.0 runs copy (issue 12, items 1 and 7): exact whatever the character sets, checked
before its stamp, one rule for a run id two sessions hold.

* **latin1 everywhere but Agno's tables**: the URL's database is ``CHARACTER SET latin1``, Agno's tables live in
  another (utf8mb4) database, the runs and session ids hold characters latin1 lacks (4-byte ones too); over a
  utf8mb4 connection, ``?charset=latin1`` and ``SET NAMES latin1``; on MariaDB's staged path, the fallback without
  the temporary-tables privilege, and SingleStore's path (``singlestoredb://`` on MariaDB). Every run is copied
  with its exact id, session and text. Before the fix, MariaDB's ``JSON_TABLE`` columns took the URL database's
  latin1: ids came out with ``?``, and runs whose session id changed were not written at all, the step stamped.
* **An induced shortfall fails the step unstamped**: a runs table that loses rows silently (a trigger on SQLite
  and PostgreSQL, a latin1 ``run_id`` column in non-strict mode on MariaDB): :class:`DataVerificationError`
  names the count and the missing ids; sessions stay at 2.5.6 with their legacy lists.
* **A run id held by two sessions** goes to the session written first (``created_at``, then ``session_id``) on
  every backend, with a warning naming the run id and both sessions.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import DataVerificationError, SyncMigrationManager, registry, shapes
from agno_alembic.naming import Names
from tests.conftest import Backend, _need, make_backend
from tests.test_singlestore import no_shard_keys  # noqa: F401  (a fixture)

BASE_TS = 1_735_689_600
WIDE = "run-ünï-😀"  # latin1 holds ü and ï, not the emoji
CYRILLIC = "агент-1"  # latin1 holds none of it


def _run(run_id: str, **fields: Any) -> dict[str, Any]:
    return {"run_id": run_id, "agent_id": "agent-😀", "status": "COMPLETED", "content": f"answer of {run_id} 𝄞 ✓",
            "created_at": BASE_TS, **fields}


def _session(session_id: str, runs: list[Any], created_at: int = BASE_TS) -> dict[str, Any]:
    return {"session_id": session_id, "session_type": "agent", "user_id": "user-ü", "runs": runs,
            "created_at": created_at, "updated_at": created_at + 1}


SESSIONS = [
    _session("s-1", [_run(WIDE), _run(CYRILLIC, agent_id=None, team_id="команда")]),
    _session("сессия-😀", [_run("r-😀-2"), "not a run", _run("ascii-3")]),
]
EXPECTED = {  # run_id -> (session_id, run_index, run_data)
    WIDE: ("s-1", 0, SESSIONS[0]["runs"][0]),
    CYRILLIC: ("s-1", 1, SESSIONS[0]["runs"][1]),
    "r-😀-2": ("сессия-😀", 0, SESSIONS[1]["runs"][0]),
    "ascii-3": ("сессия-😀", 2, SESSIONS[1]["runs"][2]),
}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _utf8mb4(url: str, database: str) -> sa.Engine:
    """An engine that reads and writes utf8mb4 whatever the server's defaults (the tests' own view)."""
    u = sa.make_url(url).set(drivername="mysql+pymysql", database=database, query={"charset": "utf8mb4"})
    return sa.create_engine(u, poolclass=sa.pool.NullPool)


@contextlib.contextmanager
def _latin1_url_database() -> Iterator[tuple[str, str, str]]:
    """A latin1 database for the URL and a utf8mb4 one for Agno's tables: ``(server, url database, agno database)``."""
    server = _need("mysql")
    tag = uuid.uuid4().hex[:10]
    url_db, agno_db = f"agno_alembic_l1_{tag}", f"agno_alembic_u8_{tag}"
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{url_db}` CHARACTER SET latin1 COLLATE latin1_swedish_ci")
        c.exec_driver_sql(f"CREATE DATABASE `{agno_db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    try:
        yield server, url_db, agno_db
    finally:
        with admin.connect() as c:
            for db in (url_db, agno_db):
                c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{db}`")
        admin.dispose()


@contextlib.contextmanager
def _user_without_temporary_tables(server: str, url_db: str, agno_db: str) -> Iterator[tuple[str, str]]:
    """A user with the privileges the steps need on Agno's database but not ``CREATE TEMPORARY TABLES``."""
    user = f"agno_t_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    grants = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES"
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY 'pw'")
            c.exec_driver_sql(f"GRANT {grants} ON `{agno_db}`.* TO '{user}'@'%%'")
            c.exec_driver_sql(f"GRANT SELECT ON `{url_db}`.* TO '{user}'@'%%'")
        yield user, "pw"
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
        admin.dispose()


def _seed(url: str, agno_db: str, sessions: list[dict[str, Any]]) -> None:
    SyncMigrationManager(url, db_schema=agno_db).up(target_version="2.5.6", table_type="sessions", create_missing=True)
    spec = shapes.spec("sessions", registry.MYSQL, "2.5.6", Names(schema=agno_db))
    engine = _utf8mb4(url, agno_db)
    with engine.begin() as c:
        c.execute(spec.sa_table().insert(), copy.deepcopy(sessions))
    engine.dispose()


def _runs(url: str, agno_db: str) -> dict[str, tuple[str, int, Any]]:
    engine = _utf8mb4(url, agno_db)
    with engine.connect() as c:
        rows = c.exec_driver_sql("SELECT run_id, session_id, run_index, run_data FROM agno_runs").all()
    engine.dispose()
    return {r[0]: (r[1], r[2], _json(r[3])) for r in rows}


def _versions(url: str, agno_db: str) -> dict[str, str]:
    engine = _utf8mb4(url, agno_db)
    with engine.connect() as c:
        rows = dict(c.exec_driver_sql("SELECT table_name, version FROM agno_schema_versions").all())
    engine.dispose()
    return rows


CONNECTIONS = {
    "utf8mb4": {},
    "charset-latin1": {"charset": "latin1"},
    "set-names-latin1": {"init_command": "SET NAMES latin1"},
}


#: The singlestoredb driver takes no ``init_command``: its latin1 connection is ``?charset=latin1`` only.
PATHS = [(p, c) for p in ("staged", "no-temporary-tables", "singlestore") for c in CONNECTIONS
         if not (p == "singlestore" and c == "set-names-latin1")]


@pytest.mark.parametrize(("path", "connection"), PATHS, ids=[f"{p}-{c}" for p, c in PATHS])
def test_latin1_url_database_copies_every_run_exactly(path: str, connection: str, request: pytest.FixtureRequest):
    """The issue's reproduction, on every path and connection setting: every run, its exact id, session, position
    and text; the step stamped 3.0.0 only then."""
    if path == "singlestore":
        request.getfixturevalue("no_shard_keys")
    with _latin1_url_database() as (server, url_db, agno_db), contextlib.ExitStack() as stack:
        url = sa.make_url(server).set(database=url_db)
        _seed(url.render_as_string(hide_password=False), agno_db, SESSIONS)
        if path == "no-temporary-tables":
            user, password = stack.enter_context(_user_without_temporary_tables(server, url_db, agno_db))
            url = url.set(username=user, password=password)
        if path == "singlestore":
            url = url.set(drivername="singlestoredb")
        url = url.update_query_dict(CONNECTIONS[connection])
        SyncMigrationManager(url.render_as_string(hide_password=False), db_schema=agno_db).up(
            table_type="sessions", create_missing=True)
        plain = sa.make_url(server).set(database=url_db).render_as_string(hide_password=False)
        assert _runs(plain, agno_db) == EXPECTED
        assert _versions(plain, agno_db)["agno_sessions"] == "3.0.0"


def test_the_copy_leaves_the_connections_character_set_as_it_was():
    """The copy switches a latin1 connection to utf8mb4 and back: the driver and the session, as they were."""
    from agno_alembic.data import runs as runs_data
    from agno_alembic.dialects import mysql

    with _latin1_url_database() as (server, url_db, agno_db):
        url = sa.make_url(server).set(database=url_db)
        _seed(url.render_as_string(hide_password=False), agno_db, SESSIONS)
        SyncMigrationManager(url.render_as_string(hide_password=False), db_schema=agno_db).up(
            table_type="runs", create_missing=True)
        engine = sa.create_engine(url.update_query_dict({"charset": "latin1"}), poolclass=sa.pool.NullPool)
        sessions = shapes.spec("sessions", registry.MYSQL, "2.5.6", Names(schema=agno_db))
        runs = shapes.spec("runs", registry.MYSQL, "3.0.0", Names(schema=agno_db))
        with engine.connect() as conn:
            before = mysql._session(conn)
            with mysql.utf8mb4(conn):
                inside = mysql._session(conn)
                runs_data.copy_runs(conn, registry.MYSQL, sessions, runs, into_empty=True)
                assert runs_data.verify_copy(conn, sessions, runs) == len(EXPECTED)
            after = mysql._session(conn)
            assert conn.connection.dbapi_connection.charset == "latin1"
            conn.commit()
        engine.dispose()
        assert before["character_set_connection"] == "latin1" and inside["character_set_results"] == "utf8mb4"
        assert after == before
        assert _runs(url.render_as_string(hide_password=False), agno_db) == EXPECTED


# ================================================================== an induced shortfall


def _sessions_table(backend: Backend, version: str) -> sa.Table:
    kind = {"sqlite": registry.SQLITE, "postgres": registry.POSTGRESQL, "mysql": registry.MYSQL}[backend.kind]
    return shapes.spec("sessions", kind, version, backend.names).sa_table()


def _lose_runs_silently(backend: Backend) -> None:
    """Make the runs table drop a run without an error: what a broken copy would look like to the step."""
    q = f'"{backend.schema}".agno_runs' if backend.schema and backend.kind == "postgres" else "agno_runs"
    with backend.engine.begin() as c:
        if backend.kind == "sqlite":
            c.exec_driver_sql("CREATE TRIGGER lose BEFORE INSERT ON agno_runs WHEN NEW.run_id = 'r-😀-2' "
                              "BEGIN SELECT RAISE(IGNORE); END")
        elif backend.kind == "postgres":
            c.exec_driver_sql(f'CREATE FUNCTION "{backend.schema}".lose() RETURNS trigger AS $$ BEGIN '
                              "IF NEW.run_id = 'r-😀-2' THEN RETURN NULL; END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
            c.exec_driver_sql(f'CREATE TRIGGER lose BEFORE INSERT ON {q} FOR EACH ROW EXECUTE FUNCTION '
                              f'"{backend.schema}".lose()')
        else:  # a latin1 run_id: in non-strict mode each emoji is stored as '?'
            c.exec_driver_sql(f"ALTER TABLE `{backend.schema}`.agno_runs MODIFY run_id VARCHAR(128) "
                              "CHARACTER SET latin1 NOT NULL")


def test_a_shortfall_fails_the_step_unstamped(backend: Backend):
    """Every backend: the check before the stamp finds the runs the table lacks, names them, and the step is not
    recorded; the legacy lists and their column are still there."""
    mm = SyncMigrationManager(backend.url, db_schema=backend.schema)
    mm.up(target_version="2.5.6", table_type="sessions", create_missing=True)
    with backend.engine.begin() as c:
        c.execute(_sessions_table(backend, "2.5.6").insert(), copy.deepcopy(SESSIONS))
    mm.up(table_type="runs", create_missing=True)
    _lose_runs_silently(backend)
    url = backend.url
    if backend.kind == "mysql":
        url = sa.make_url(url).update_query_dict({"init_command": "SET SESSION sql_mode = ''"}).render_as_string(
            hide_password=False)
    with pytest.raises(Exception) as caught:
        SyncMigrationManager(url, db_schema=backend.schema).up(table_type="sessions", create_missing=True)
    found = _verification_error(caught.value)
    # MariaDB: every id with a character latin1 lacks came out changed; elsewhere the trigger dropped one run
    lost = sorted([WIDE, CYRILLIC, "r-😀-2"]) if backend.kind == "mysql" else ["r-😀-2"]
    assert found.missing == len(lost) and list(found.examples) == lost and found.expected == len(EXPECTED)
    assert found.table == "agno_runs" and all(repr(run_id) in str(found) for run_id in lost)
    with backend.engine.connect() as c:
        versions = dict(c.execute(sa.text(
            "SELECT table_name, version FROM " + ("agno_schema_versions" if backend.kind == "sqlite" else
                                                  f"{_q(backend)}.agno_schema_versions"))).all())
        legacy = c.execute(sa.select(_sessions_table(backend, "2.5.6").c.runs)).scalars().all()
    assert versions["agno_sessions"] == "2.5.6"
    assert len(legacy) == 2 and all(v is not None for v in legacy)


def _verification_error(raised: BaseException) -> DataVerificationError:
    """The :class:`DataVerificationError` behind what a migration raised (Alembic and the facade wrap it)."""
    chain: list[BaseException] = []
    err: BaseException | None = raised
    while err is not None:
        chain.append(err)
        err = err.__cause__ or err.__context__
    found = next((e for e in chain if isinstance(e, DataVerificationError)), None)
    assert found is not None, chain
    return found


def _q(backend: Backend) -> str:
    return f'"{backend.schema}"' if backend.kind == "postgres" else f"`{backend.schema}`"


# ================================================================== a run id two sessions hold


def _shared_sessions() -> list[dict[str, Any]]:
    """``shared`` in three sessions: ``a`` comes first by key, ``b`` was written first; ``c`` ties ``b``'s
    created_at and loses by session_id. ``tie`` is in ``d`` and ``e``, written at the same time: ``d`` wins."""
    return [
        _session("a", [_run("only-a"), _run("shared", content="a's copy")], created_at=BASE_TS + 200),
        _session("b", [_run("shared", content="b's copy", agent_id=None, team_id="t")], created_at=BASE_TS + 100),
        _session("c", [_run("shared", content="c's copy")], created_at=BASE_TS + 100),
        _session("d", [_run("tie", content="d's copy")], created_at=BASE_TS),
        _session("e", [_run("tie", content="e's copy")], created_at=BASE_TS),
    ]


@pytest.fixture(params=["sqlite", "postgres", "mysql", "singlestore"])
def any_backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[Backend]:
    kind = "mysql" if request.param == "singlestore" else request.param
    with make_backend(kind, tmp_path) as b:
        if request.param == "singlestore":
            request.getfixturevalue("no_shard_keys")
            b.url = sa.make_url(b.url).set(drivername="singlestoredb").render_as_string(hide_password=False)
        yield b


def test_a_run_id_two_sessions_hold_goes_to_the_session_written_first(any_backend: Backend, caplog):
    b = any_backend
    mm = SyncMigrationManager(b.url, db_schema=b.schema)
    mm.up(target_version="2.5.6", table_type="sessions", create_missing=True)
    with b.engine.begin() as c:
        c.execute(_sessions_table(b, "2.5.6").insert(), _shared_sessions())
    with caplog.at_level(logging.WARNING, logger="agno_alembic"):
        SyncMigrationManager(b.url, db_schema=b.schema).up(table_type="sessions", create_missing=True)
    kind = {"sqlite": registry.SQLITE, "postgres": registry.POSTGRESQL, "mysql": registry.MYSQL}[b.kind]
    runs = shapes.spec("runs", kind, "3.0.0", b.names).sa_table()
    with b.engine.connect() as c:
        rows = {r.run_id: r for r in c.execute(sa.select(runs))}
    assert sorted(rows) == ["only-a", "shared", "tie"]
    assert rows["shared"].session_id == "b" and _json(rows["shared"].run_data)["content"] == "b's copy"
    assert rows["shared"].run_type == "team" and rows["shared"].run_index == 0
    assert rows["tie"].session_id == "d" and _json(rows["tie"].run_data)["content"] == "d's copy"
    warnings = [r.getMessage() for r in caplog.records if "held by two sessions" in r.getMessage()]
    assert sorted(warnings) == sorted([
        "run 'shared' is held by two sessions, 'b' and 'a'; the runs table keeps the one of 'b' (written first, by "
        "created_at then session_id)",
        "run 'shared' is held by two sessions, 'b' and 'c'; the runs table keeps the one of 'b' (written first, by "
        "created_at then session_id)",
        "run 'tie' is held by two sessions, 'd' and 'e'; the runs table keeps the one of 'd' (written first, by "
        "created_at then session_id)",
    ])


# ================================================================== the other data steps check what they wrote


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_learnings_rekey_that_loses_a_row_fails_unstamped(kind: str, tmp_path):
    """The 3.0.0 learnings re-key (PostgreSQL, SQLite) moves rows to new keys: a moved row that is not on its new
    key afterwards (here a trigger swallows its insert) fails the step; the old row is still there, unstamped."""
    from tests import test_learnings as tl

    with make_backend(kind, tmp_path) as b:
        tl._at_2_3_0(b, [tl._row(1, "entity_user_person_ivan", "alice", "person", "ivan", {"name": "Ivan"}),
                         tl._row(2, "entity_user_person_olga", "bob", "person", "olga", {"name": "Olga"})])
        lost = tl.key("bob", "person", "olga")
        with b.engine.begin() as c:
            if kind == "sqlite":
                c.exec_driver_sql(f"CREATE TRIGGER lose BEFORE INSERT ON agno_learnings WHEN NEW.learning_id = "
                                  f"'{lost}' BEGIN SELECT RAISE(IGNORE); END")
            else:
                c.exec_driver_sql(f'CREATE FUNCTION "{b.schema}".lose() RETURNS trigger AS $$ BEGIN IF '
                                  f"NEW.learning_id = '{lost}' THEN RETURN NULL; END IF; RETURN NEW; END $$ "
                                  "LANGUAGE plpgsql")
                c.exec_driver_sql(f'CREATE TRIGGER lose BEFORE INSERT ON "{b.schema}".agno_learnings FOR EACH ROW '
                                  f'EXECUTE FUNCTION "{b.schema}".lose()')
        with pytest.raises(Exception) as caught:
            tl._upgrade(b)
        found = _verification_error(caught.value)
        assert found.missing == 1 and found.examples == (lost,) and found.expected == 2
        assert tl._stamp(b) == "2.3.0"
        assert set(tl._rows(b)) == {"entity_user_person_ivan", "entity_user_person_olga"}


def test_verify_copy_checks_the_sessions_it_is_given(backend: Backend):
    """The check a batched copy calls per batch: ``(after, upto]`` bounds the sessions it reads; a run missing
    outside the bounds is not its business, one inside is named."""
    from agno_alembic.data import runs as runs_data

    mm = SyncMigrationManager(backend.url, db_schema=backend.schema)
    mm.up(target_version="2.5.6", table_type="sessions", create_missing=True)
    with backend.engine.begin() as c:
        c.execute(_sessions_table(backend, "2.5.6").insert(), copy.deepcopy(SESSIONS))
    mm.up(table_type="runs", create_missing=True)
    kind = {"sqlite": registry.SQLITE, "postgres": registry.POSTGRESQL, "mysql": registry.MYSQL}[backend.kind]
    sessions = shapes.spec("sessions", kind, "2.5.6", backend.names)
    runs = shapes.spec("runs", kind, "3.0.0", backend.names)
    with backend.engine.begin() as c:
        runs_data.copy_runs(c, kind, sessions, runs, into_empty=True)
        table = runs.sa_table()
        c.execute(table.delete().where(table.c.run_id == CYRILLIC))  # a run of session "s-1"
    with backend.engine.connect() as c:
        assert runs_data.verify_copy(c, sessions, runs, after="s-1") == 2  # only "сессия-😀"
        with pytest.raises(DataVerificationError) as caught:
            runs_data.verify_copy(c, sessions, runs, upto="s-1")
        assert caught.value.missing == 1 and caught.value.examples == (CYRILLIC,) and caught.value.expected == 2
        with pytest.raises(DataVerificationError):
            runs_data.verify_copy(c, sessions, runs, chunk=1)


def test_a_row_agno_3_rewrote_wins_over_the_session_written_first(backend: Backend, caplog):
    """A shared run id whose runs-table row is no longer any session's legacy entry (Agno 3 updated it): the row
    stays as it is, under its session, and the sharing is still logged."""
    mm = SyncMigrationManager(backend.url, db_schema=backend.schema)
    mm.up(target_version="2.5.6", table_type="sessions", create_missing=True)
    with backend.engine.begin() as c:
        c.execute(_sessions_table(backend, "2.5.6").insert(), _shared_sessions()[:2])  # a (later) and b (first)
    mm.up(table_type="runs", create_missing=True)
    kind = {"sqlite": registry.SQLITE, "postgres": registry.POSTGRESQL, "mysql": registry.MYSQL}[backend.kind]
    runs = shapes.spec("runs", kind, "3.0.0", backend.names).sa_table()
    live = {"run_id": "shared", "session_id": "a", "run_type": "agent", "run_index": 1, "created_at": BASE_TS + 300,
            "updated_at": BASE_TS + 301, "run_data": {"run_id": "shared", "content": "updated by Agno 3"}}
    with backend.engine.begin() as c:
        c.execute(runs.insert(), [live])
    with caplog.at_level(logging.WARNING, logger="agno_alembic"):
        SyncMigrationManager(backend.url, db_schema=backend.schema).up(table_type="sessions", create_missing=True)
    with backend.engine.connect() as c:
        row = c.execute(sa.select(runs).where(runs.c.run_id == "shared")).one()
    assert row.session_id == "a" and _json(row.run_data) == live["run_data"]
    assert "run 'shared' is held by two sessions, 'b' and 'a'" in caplog.text
