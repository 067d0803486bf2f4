"""Bad input everywhere: a clear, typed error, and nothing changed.

Every case runs against a live database of each backend and then checks that the database is exactly as before:
the same tables with the same rows (an empty database stays empty: no schema, no version table, no lock table).

* **Wrong types and values** for every argument of ``MigrationManager``/``SyncMigrationManager`` (db, db_schema,
  table names, version_table, lock_timeout, target_version, table_type, force, allow_data_loss) and of
  ``break_lock``; unknown versions and table types.
* **Bad URLs**: not a URL, an unknown backend, an unknown driver, a port nobody listens on, a database that does
  not exist.
* **The alembic command line**: an unknown ``-x`` option, a bad ``-x lock_timeout``, a name the backend cannot
  hold: ``FAILED: <message>``, no traceback, a failing exit status.
* **A read-only database**: SQLite opened read-only, a PostgreSQL session with ``default_transaction_read_only``,
  MySQL/SingleStore users that may only SELECT.
* **Missing privileges**: a PostgreSQL role that may not create a schema, or create in one; a MySQL user without
  CREATE.  And the partial case MySQL cannot avoid: a user who may CREATE but not INDEX gets a
  :class:`~agno_alembic.errors.PartiallyAppliedError` naming the step and the CREATE TABLE that committed; granted
  INDEX, the next run completes it and the schema equals Agno's.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import (
    AgnoAlembicError,
    ConfigurationError,
    MigrationError,
    SyncMigrationManager,
    UnknownTableTypeError,
    UnknownVersionError,
    UnsupportedBackendError,
)
from agno_alembic.errors import PartiallyAppliedError
from tests.test_lock import KINDS, Target, alembic_cli, make_target, rows

CHECKED: list[str] = []


def _state(target: Target) -> dict[str, Any]:
    """Every table with its row count, and the rows of our version table and Agno's (what a migration moves)."""
    tables = target.tables()
    if not tables:
        return {}
    engine = target.engine()
    try:
        with engine.connect() as c:
            state: dict[str, Any] = {}
            for name in sorted(tables):
                t = sa.table(name, schema=target.schema)
                state[name] = c.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for name in ("agno_alembic_version", "agno_schema_versions"):
                if name in tables:
                    state[f"{name} rows"] = rows(c, target.schema, exclude=tables - {name}).get(name)
            return state
    finally:
        engine.dispose()


@contextlib.contextmanager
def unchanged(target: Target, what: str) -> Iterator[None]:
    before = _state(target)
    yield
    assert _state(target) == before, f"{what}: the database changed"
    CHECKED.append(what)


def _bad_calls(target: Target) -> list[tuple[str, Callable[[], Any], type[Exception]]]:
    url, schema = target.url, target.db_schema

    def mm(**kw: Any) -> SyncMigrationManager:
        return SyncMigrationManager(url, db_schema=kw.pop("db_schema", schema), **kw)

    return [
        ("db is a number", lambda: SyncMigrationManager(42), ConfigurationError),
        ("db_schema is a number", lambda: mm(db_schema=5).up(), ConfigurationError),
        ("a table name is a number", lambda: mm(session_table=5), ConfigurationError),
        ("a table name is empty", lambda: mm(memory_table="  "), ConfigurationError),
        ("an unknown table keyword", lambda: mm(sesion_table="x"), UnknownTableTypeError),
        ("an unknown keyword", lambda: mm(tabel="x"), ConfigurationError),
        ("version_table is a list", lambda: mm(version_table=["v"]).up(), ConfigurationError),
        ("lock_timeout is text", lambda: mm(lock_timeout="soon"), ConfigurationError),
        ("lock_timeout is negative", lambda: mm(lock_timeout=-1), ConfigurationError),
        ("target_version is a float", lambda: mm().up(target_version=2.3), UnknownVersionError),
        ("target_version is an object", lambda: mm().up(target_version=object()), UnknownVersionError),
        ("target_version is above the latest", lambda: mm().up(target_version="9.9.9"), UnknownVersionError),
        ("target_version is below the first", lambda: mm().down(target_version="1.9.0"), UnknownVersionError),
        ("target_version is a word", lambda: mm().up(target_version="latest"), UnknownVersionError),
        ("down without a target_version", lambda: mm().down(target_version=None), UnknownVersionError),
        ("table_type is a number", lambda: mm().up(table_type=3), UnknownTableTypeError),
        ("table_type is unknown", lambda: mm().up(table_type="sesion"), UnknownTableTypeError),
        ("table_type list holds None", lambda: mm().up(table_type=["memory", None]), UnknownTableTypeError),
        ("force is text", lambda: mm().up(force="yes"), ConfigurationError),
        ("allow_data_loss is text", lambda: mm().down("2.0.0", allow_data_loss="no"), ConfigurationError),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_types_and_values_raise_a_clear_error_and_change_nothing(kind, tmp_path):
    with make_target(kind, tmp_path) as target:
        SyncMigrationManager(target.url, db_schema=target.db_schema).up(table_type="memories", target_version="2.0.0",
                                                                        create_missing=True)
        engine = target.engine()
        with engine.begin() as c:
            t = sa.table("agno_memories", sa.column("memory_id"), sa.column("memory"), schema=target.schema)
            c.execute(t.insert().values(memory_id="m1", memory='{"m": 1}'))
        engine.dispose()
        for what, call, error in _bad_calls(target):
            with unchanged(target, f"{kind}: {what}"), pytest.raises(error) as info:
                call()
            assert isinstance(info.value, AgnoAlembicError), what
            assert len(str(info.value)) > 20, (what, str(info.value))


def _bad_urls(target: Target) -> list[tuple[str, str, type[Exception]]]:
    url = sa.make_url(target.url)
    dead = url.set(host="127.0.0.1", port=1) if target.kind != "sqlite" else None
    missing = url.set(database=f"agno_alembic_nowhere_{uuid.uuid4().hex[:6]}") if target.kind != "sqlite" else \
        url.set(database=f"/nonexistent-{uuid.uuid4().hex[:6]}/agno.db")
    cases = [
        ("not a URL", "not a url", ConfigurationError),
        ("an unknown backend", "oracle+nosuch://u@h/db", UnsupportedBackendError),
        ("an unknown driver", url.set(drivername=f"{url.get_backend_name()}+nosuchdriver").render_as_string(False),
         ConfigurationError),
        ("a database that does not exist", missing.render_as_string(hide_password=False), MigrationError),
    ]
    if dead is not None:
        cases.append(("a port nobody listens on", dead.render_as_string(hide_password=False), MigrationError))
    return cases


@pytest.mark.parametrize("kind", KINDS)
def test_bad_urls_raise_a_clear_error(kind, tmp_path):
    with make_target(kind, tmp_path) as target:
        for what, url, error in _bad_urls(target):
            with unchanged(target, f"{kind}: {what}"), pytest.raises(error) as info:
                SyncMigrationManager(url, db_schema=target.db_schema, lock_timeout=5).up()
            assert isinstance(info.value, AgnoAlembicError)


@pytest.mark.parametrize("kind", KINDS)
def test_the_command_line_refuses_bad_options_before_any_change(kind, tmp_path):
    with make_target(kind, tmp_path) as target:
        for what, args, said in [
            ("an unknown -x option", ["-x", "bogus=1"], "Unknown option 'bogus'"),
            ("a bad -x lock_timeout", ["-x", "lock_timeout=soon"], "lock_timeout"),
            ("a table name the backend cannot hold",
             ["-x", "session_table=" + ("sqlite_sessions" if kind == "sqlite" else "s" * 200)], "nothing was changed"),
        ]:
            with unchanged(target, f"{kind}: alembic with {what}"):
                proc = alembic_cli(target, *args, "upgrade", "heads")
            output = proc.stdout + proc.stderr
            assert proc.returncode != 0 and "FAILED" in output and said in output, (what, output[-1500:])
            assert "Traceback" not in output, (what, output[-1500:])


# -- read-only databases and missing privileges -------------------------------------------------------------------


def _admin(target: Target) -> sa.Engine:
    from tests.conftest import server_url

    # PostgreSQL: the target's own server (15 or 18; a postgres18 Target has kind "postgres")
    server = target.url if target.kind == "postgres" else server_url("mysql")
    assert server is not None
    return sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def mysql_user(target: Target, *grants: str) -> Iterator[str]:
    """A MySQL/MariaDB user with ``grants`` on the target's database; yields the target URL as that user."""
    user = f"agno_t_{uuid.uuid4().hex[:8]}"
    admin = _admin(target)
    database = target.schema or sa.make_url(target.url).database
    quoted = admin.dialect.identifier_preparer.quote(database)
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY 'pw'")
            for grant in grants:
                c.exec_driver_sql(f"GRANT {grant} ON {quoted}.* TO '{user}'@'%%'")
        yield sa.make_url(target.url).set(username=user, password="pw", database=database).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
        admin.dispose()


@contextlib.contextmanager
def pg_role(target: Target, *grants: str) -> Iterator[str]:
    role = f"agno_t_{uuid.uuid4().hex[:8]}"
    admin = _admin(target)
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
            for grant in grants:
                c.exec_driver_sql(grant.format(role=f'"{role}"'))
        yield sa.make_url(target.url).set(username=role).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP OWNED BY "{role}"')
            c.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        admin.dispose()


def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_only_database_gives_a_clear_error_and_stays_as_it_was(kind, tmp_path):
    with make_target(kind, tmp_path) as target:
        SyncMigrationManager(target.url, db_schema=target.db_schema).up(table_type="memories", target_version="2.0.0",
                                                                        create_missing=True)
        if kind == "sqlite":
            path = str(sa.make_url(target.url).database)
            digest = _file_digest(path)
            read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
            with unchanged(target, "sqlite: read-only file"), pytest.raises(MigrationError) as info:
                SyncMigrationManager(read_only, db_schema="").up()
            assert "readonly" in str(info.value).replace("-", "").lower()
            assert _file_digest(path) == digest
            return
        if target.kind == "postgres":  # postgres and postgres18
            read_only = sa.make_url(target.url).update_query_dict(
                {"options": "-c default_transaction_read_only=on"}).render_as_string(hide_password=False)
            with unchanged(target, "postgres: read-only session"), pytest.raises(MigrationError) as info:
                SyncMigrationManager(read_only, db_schema=target.db_schema).up()
            assert "read-only transaction" in str(info.value)
            return
        with mysql_user(target, "SELECT") as read_only, unchanged(target, f"{kind}: SELECT-only user"), \
                pytest.raises(MigrationError) as info:
            SyncMigrationManager(read_only, db_schema=target.db_schema).up()
        assert "denied" in str(info.value)


def test_postgres_roles_without_privileges_change_nothing(tmp_path):
    with make_target("postgres", tmp_path) as target:
        with pg_role(target) as url, unchanged(target, "postgres: role may not create a schema"), \
                pytest.raises(MigrationError, match="permission denied"):
            SyncMigrationManager(url, db_schema=target.db_schema).up(create_missing=True)
        admin = _admin(target)
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE SCHEMA "{target.schema}"')
        admin.dispose()
        with pg_role(target, f'GRANT USAGE ON SCHEMA "{target.schema}" TO {{role}}') as url, \
                unchanged(target, "postgres: role may not create in the schema"), \
                pytest.raises(MigrationError, match="permission denied"):
            SyncMigrationManager(url, db_schema=target.db_schema).up(create_missing=True)


@pytest.mark.parametrize("kind", ["mysql", "singlestore"])
def test_mysql_users_without_privileges(kind, tmp_path):
    from tests.test_concurrency import _golden_problems

    with make_target(kind, tmp_path) as target:
        if kind == "mysql":  # conftest made the database; this user may not create tables in it
            with mysql_user(target, "SELECT, INSERT, UPDATE, DELETE") as url, \
                    unchanged(target, "mysql: user without CREATE"), pytest.raises(MigrationError, match="denied"):
                SyncMigrationManager(url, db_schema=target.db_schema).up(create_missing=True)
        # CREATE but not INDEX: the first CREATE TABLE commits by itself, its CREATE INDEX is refused (offline mode:
        # online, a new MySQL table's indexes come from one ALTER TABLE, which needs ALTER, not INDEX)
        privileges = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, REFERENCES"
        with mysql_user(target, privileges) as url:
            with pytest.raises(PartiallyAppliedError) as info:
                SyncMigrationManager(url, db_schema=target.db_schema, online=kind != "mysql").up(
                    table_type="memories", create_missing=True)
            error = info.value
            assert error.step.startswith("upgrade agno_memories_2_0_0") and error.backend == kind
            assert any(s.startswith("CREATE TABLE") and "agno_memories" in s for s in error.committed), error
            assert "INDEX command denied" in str(error.__cause__) and "resumes" in str(error)
            admin = _admin(target)
            database = target.schema or sa.make_url(target.url).database
            user = sa.make_url(url).username
            with admin.connect() as c:
                c.exec_driver_sql(f"GRANT INDEX ON {c.dialect.identifier_preparer.quote(database)}.* TO "
                                  f"'{user}'@'%%'")
            admin.dispose()
            SyncMigrationManager(url, db_schema=target.db_schema).up(create_missing=True)  # resumes the half-done step
        problems = _golden_problems(target)
        assert not problems, "\n".join(problems)
        CHECKED.append(f"{kind}: CREATE without INDEX, then resumed")
