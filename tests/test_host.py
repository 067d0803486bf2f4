"""Merging agno-alembic's branches into an application's own Alembic project: the worked example of docs/host.md.

Each test copies ``examples/host_project`` (its own ``app`` branch of two revisions, its models, and an ``env.py``
calling :func:`agno_alembic.host.configure`) into a temporary directory and runs the ``alembic`` command there, as
a subprocess, against SQLite, PostgreSQL or MariaDB.  The application's tables and Agno's share one schema (the
per-test PostgreSQL schema, through ``search_path``; the per-test MariaDB database; the SQLite file), which is
where keeping Agno's tables out of the host's autogenerate matters.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from agno_alembic import registry
from agno_alembic.naming import Names
from tests import forked_cli
from tests.conftest import make_backend
from tests.golden.reflect import diff, load_snapshot, reflect

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "host_project"
ALEMBIC = Path(sys.executable).parent / "alembic"
APP_TABLES = {"app_users", "app_orders"}
TIMEOUT = 600


class Host:
    """The example host project in a temporary directory, pointed at one test database."""

    def __init__(self, root: Path, backend, url: str) -> None:
        self.root = root
        self.backend = backend
        self.url = url
        self.schema = backend.schema  # the schema holding both the app's tables and Agno's
        self.names = Names(schema=self.schema)

    def alembic(self, *args: str, rc: int | None = 0, x: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        cmd = [str(ALEMBIC), "-x", f"url={self.url}", *[a for item in x for a in ("-x", item)], *args]
        proc = forked_cli.run(cmd[0], cmd[1:], cwd=self.root, env=os.environ, timeout=TIMEOUT)
        if rc is not None and proc.returncode != rc:
            pytest.fail(f"alembic {' '.join(args)} exited {proc.returncode}, expected {rc}\n"
                        f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}", pytrace=False)
        return proc

    def tables(self) -> set[str]:
        with self.backend.engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names(schema=self.schema))

    def rows(self, table: str, column: str) -> list:
        t = sa.table(table, sa.column(column), schema=self.schema)
        with self.backend.engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(t.c[column]))]

    def stamps(self) -> dict[str, str]:
        """``agno_schema_versions`` as ``{table name: version}``."""
        t = sa.table("agno_schema_versions", sa.column("table_name"), sa.column("version"), schema=self.schema)
        with self.backend.engine.connect() as conn:
            return {r.table_name: r.version for r in conn.execute(sa.select(t.c.table_name, t.c.version))}

    def execute(self, sql: str) -> None:
        with self.backend.engine.begin() as conn:
            conn.execute(sa.text(sql))

    def qualified(self, table: str) -> str:
        q = self.backend.engine.dialect.identifier_preparer.quote
        return f"{q(self.schema)}.{q(table)}" if self.schema else q(table)

    def agno_tables(self) -> set[str]:
        backend = {"postgres": registry.POSTGRESQL, "mysql": registry.MYSQL, "sqlite": registry.SQLITE}
        return {self.names.table(tt.name) for tt in registry.TABLE_TYPES if tt.on(backend[self.backend.kind])}


def _url(backend) -> str:
    if backend.kind == "sqlite":
        return backend.url
    url = sa.make_url(backend.url)
    if backend.kind == "postgres":
        with backend.engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{backend.schema}"')
        url = url.update_query_dict({"options": f"-csearch_path={backend.schema}"})
    else:
        url = url.set(database=backend.schema)
    return url.render_as_string(hide_password=False)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "host_project"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    return root


@pytest.fixture
def host(backend, tmp_path) -> Host:
    return Host(_copy(tmp_path), backend, _url(backend))


def test_upgrade_heads_applies_the_host_branch_and_every_agno_branch(host):
    host.alembic("upgrade", "heads")
    assert host.tables() == APP_TABLES | host.agno_tables() | {"alembic_version"}
    versions = set(host.rows("alembic_version", "version_num"))
    assert {"app_0002", "agno_memories_2_3_0", "agno_sessions_3_0_0"} <= versions
    assert not any(v.startswith("agno_alembic_version") for v in host.tables())  # one version table: the host's
    stamps = host.stamps()
    assert stamps["agno_memories"] == registry.LATEST_VERSION and stamps["agno_culture"] == "2.5.6"
    assert "app_users" not in stamps
    # Agno's tables are exactly Agno's fresh create, as through agno-alembic's own environment.
    actual = reflect(host.backend.engine, host.schema, exclude=APP_TABLES | {"alembic_version"})
    actual["agno_schema_versions"] = [r for r in actual["agno_schema_versions"] if r["table_name"] != "agno_culture"]
    problems = diff(load_snapshot(registry.LATEST_VERSION, host.backend.snapshot_backend), actual,
                    ignore_tables={"agno_culture"})
    assert not problems, "\n".join(problems)
    if host.backend.kind != "sqlite":  # our revision ids need more than Alembic's VARCHAR(32)
        with host.backend.engine.connect() as conn:
            column = next(c for c in sa.inspect(conn).get_columns("alembic_version", schema=host.schema)
                          if c["name"] == "version_num")
        assert column["type"].length == 128


def test_an_existing_narrow_version_table_is_widened(host):
    host.alembic("upgrade", "app@head")
    host.execute(f"ALTER TABLE {host.qualified('alembic_version')} "
                 + ("ALTER COLUMN version_num TYPE VARCHAR(32)" if host.backend.kind == "postgres"
                    else "MODIFY version_num VARCHAR(32) NOT NULL"))
    proc = host.alembic("upgrade", "heads")
    assert "Widening alembic_version.version_num from 32 to 128" in proc.stderr
    assert "agno_mcp_oauth_refresh_tokens_2_5_6" in host.rows("alembic_version", "version_num")  # 35 characters


# SQLite does not enforce VARCHAR lengths: the servers only.
test_an_existing_narrow_version_table_is_widened = pytest.mark.parametrize(
    "backend", ["postgres", "mysql"], indirect=True)(test_an_existing_narrow_version_table_is_widened)


def test_check_reports_no_differences_and_agno_tables_stay_out_of_it(host):
    host.alembic("upgrade", "heads")
    assert "No new upgrade operations detected" in host.alembic("check").stdout
    # Without agno-alembic's filters, the host's autogenerate would drop every Agno table.
    import importlib.util

    spec = importlib.util.spec_from_file_location("host_models", host.root / "app" / "models.py")
    models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(models)
    engine = sa.create_engine(host.url, poolclass=sa.pool.NullPool)  # the host's connection: its default schema
    try:
        with engine.connect() as conn:
            plain = compare_metadata(MigrationContext.configure(conn), models.metadata)
    finally:
        engine.dispose()
    dropped = {d[1].name for d in plain if d[0] == "remove_table"}
    assert host.agno_tables() <= dropped
    # And check does report the host's own drift.
    host.execute(f"ALTER TABLE {host.qualified('app_users')} ADD COLUMN nickname VARCHAR(40)")
    drift = host.alembic("check", rc=255)
    assert "remove_column" in drift.stdout and "nickname" in drift.stdout
    assert "agno_" not in drift.stdout.split("New upgrade operations detected:")[-1]


def test_autogenerate_emits_nothing_for_agno_tables(host):
    host.alembic("upgrade", "heads")
    models = host.root / "app" / "models.py"
    models.write_text(models.read_text() + '\n\nnotes = sa.Table(\n    "app_notes",\n    metadata,\n'
                      '    sa.Column("id", sa.Integer, primary_key=True),\n    sa.Column("body", sa.Text),\n)\n')
    host.alembic("revision", "--autogenerate", "-m", "notes", "--head", "app@head", "--rev-id", "app_0003")
    generated = next((host.root / "migrations" / "versions").glob("app_0003*.py")).read_text()
    assert "op.create_table('app_notes'" in generated or 'op.create_table("app_notes"' in generated
    assert "agno" not in generated.lower()
    assert re.search(r"down_revision = ['\"]app_0002['\"]", generated)
    host.alembic("upgrade", "heads")
    assert "app_notes" in host.tables()
    assert "No new upgrade operations detected" in host.alembic("check").stdout


def test_downgrade_agno_memories_to_base_leaves_the_host_alone(host):
    host.alembic("upgrade", "heads")
    host.execute(f"INSERT INTO {host.qualified('app_users')} (id, email, created_at) VALUES (1, 'a@example.com', 1)")
    before = host.tables()
    host.alembic("downgrade", "agno_memories@base")
    assert before - host.tables() == {"agno_memories"}
    assert host.rows("app_users", "email") == ["a@example.com"]
    versions = set(host.rows("alembic_version", "version_num"))
    assert "app_0002" in versions and not any(v.startswith("agno_memories") for v in versions)
    assert "agno_memories" not in host.rows("agno_schema_versions", "table_name")
    assert "agno_sessions" in host.rows("agno_schema_versions", "table_name")
    host.alembic("upgrade", "agno_memories@head")
    assert "agno_memories" in host.tables()


def test_version_rows_of_unknown_or_uninstalled_branches_are_reported_by_name(host):
    host.alembic("upgrade", "heads")
    host.execute(f"INSERT INTO {host.qualified('alembic_version')} (version_num) VALUES ('billing_0007')")
    host.execute(f"INSERT INTO {host.qualified('alembic_version')} (version_num) VALUES ('agno_memories_9_9_9')")
    for verb in (["current"], ["upgrade", "heads"], ["downgrade", "agno_memories@base"], ["check"]):
        out = host.alembic(*verb, rc=255).stdout
        assert "Can't locate revision" not in out
        assert "billing_0007: not an agno-alembic revision" in out and "DELETE FROM alembic_version" in out
        assert "agno_memories_9_9_9: branch agno_memories of agno-alembic" in out and "newer agno-alembic" in out
    assert "agno_memories" in host.tables()  # nothing ran
    host.execute(f"DELETE FROM {host.qualified('alembic_version')} "
                 "WHERE version_num IN ('billing_0007', 'agno_memories_9_9_9')")
    # A branch whose revisions are gone (its package uninstalled): the host's own second revision here.
    (host.root / "migrations" / "versions" / "app_0002_order_note.py").unlink()
    out = host.alembic("current", rc=255).stdout
    assert "app_0002: not an agno-alembic revision" in out and "Can't locate revision" not in out


def test_plain_head_gets_a_friendly_message(host):
    out = host.alembic("upgrade", "head", rc=255).stdout
    assert "'heads'" in out and "@head" in out and "Multiple head revisions" not in out
    assert host.tables() <= {"alembic_version"}


@pytest.mark.parametrize("dialect,url", [
    ("postgresql", "postgresql+psycopg://user@host/db"),
    ("mysql", "mysql+pymysql://root@host/db"),
    ("sqlite", "sqlite:///app.db"),
])
def test_offline_sql_holds_the_host_ddl_agno_ddl_and_stamps(dialect, url, tmp_path):
    root = _copy(tmp_path)
    proc = forked_cli.run(ALEMBIC, ["-x", f"url={url}", "upgrade", "heads", "--sql"], cwd=root, env=os.environ,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    sql = proc.stdout
    assert re.search(r"CREATE TABLE alembic_version \(\s+version_num VARCHAR\(128\) NOT NULL", sql), sql[:500]
    assert "CREATE TABLE app_users" in sql and "ALTER TABLE app_orders ADD" in sql
    assert "CREATE TABLE agno_sessions" in sql and "CREATE TABLE agno_memories" in sql
    assert re.search(r"INSERT INTO agno_schema_versions .*'agno_memories', '3\.0\.0'", sql)
    assert "INSERT INTO alembic_version (version_num) VALUES ('app_0001')" in sql
    assert not (root / "app.db").exists()


def test_without_version_locations_the_helper_adds_them_and_says_why_they_belong_in_the_ini(sqlite_backend,
                                                                                           tmp_path):
    root = _copy(tmp_path)
    host = Host(root, sqlite_backend, sqlite_backend.url)
    ini = root / "alembic.ini"
    ini.write_text(ini.read_text().replace("    agno_alembic.revisions:\n", ""))
    proc = host.alembic("upgrade", "heads")
    assert "version_locations lacks 'agno_alembic.revisions:'" in proc.stderr
    assert host.agno_tables() <= host.tables()
    heads = [h for h in host.alembic("heads").stdout.splitlines() if h.strip()]
    assert heads == ["app_0002 (app) (head)"]  # heads never runs env.py: the ini line is what lists Agno's


def test_the_colon_split_mistake_is_named(sqlite_backend, tmp_path):
    root = _copy(tmp_path)
    host = Host(root, sqlite_backend, sqlite_backend.url)
    ini = root / "alembic.ini"
    text = re.sub(r"path_separator = newline\nversion_locations =\n.*\n.*\n",
                  "path_separator = os\nversion_locations = %(here)s/migrations/versions:agno_alembic.revisions:\n",
                  ini.read_text())
    ini.write_text(text)
    proc = host.alembic("upgrade", "heads")
    assert "'agno_alembic.revisions:' was split on its colon" in proc.stderr
    assert host.agno_tables() <= host.tables()


@pytest.fixture(params=["postgres", "mysql"])
def server_host(request, tmp_path):
    with make_backend(request.param, tmp_path) as backend:
        agno_schema = f"agno_{uuid.uuid4().hex[:8]}"
        try:
            yield Host(_copy(tmp_path), backend, _url(backend)), agno_schema
        finally:
            with backend.engine.begin() as conn:
                if backend.kind == "postgres":
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{agno_schema}" CASCADE')
                else:
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{agno_schema}`")


def test_agno_tables_in_their_own_schema(server_host):
    host, agno_schema = server_host
    x = (f"agno_schema={agno_schema}",)
    host.alembic("upgrade", "heads", x=x)
    assert host.tables() == APP_TABLES | {"alembic_version"}
    with host.backend.engine.connect() as conn:
        agno = set(sa.inspect(conn).get_table_names(schema=agno_schema))
    assert Names(schema=agno_schema).table("memories") in agno and "agno_schema_versions" in agno
    assert "No new upgrade operations detected" in host.alembic("check", x=x).stdout
    host.alembic("downgrade", "agno_memories@base", x=x)
    with host.backend.engine.connect() as conn:
        assert "agno_memories" not in sa.inspect(conn).get_table_names(schema=agno_schema)


def test_the_host_run_holds_the_migration_lock(sqlite_backend, tmp_path):
    from agno_alembic import lock

    host = Host(_copy(tmp_path), sqlite_backend, sqlite_backend.url)
    with sqlite_backend.engine.connect() as conn, lock.hold(conn, schema=None, timeout=5):
        proc = host.alembic("upgrade", "heads", x=("lock_timeout=1",), rc=None)
        assert proc.returncode != 0
        assert "LockTimeoutError" in proc.stderr and f"pid {os.getpid()}" in proc.stderr, proc.stderr[-3000:]
    assert "agno_memories" not in host.tables()
    host.alembic("upgrade", "heads", x=("lock_timeout=1",))
    assert host.agno_tables() <= host.tables()


def test_relative_targets_are_refused_naming_the_app_branch(host):
    host.alembic("upgrade", "heads")
    before = set(host.rows("alembic_version", "version_num"))
    for verb, step in (("downgrade", "-1"), ("upgrade", "+1"), ("downgrade", "-2")):
        out = host.alembic(verb, step, rc=255).stdout
        assert f"'{step}' is ambiguous" in out and f"app@{step}" in out, out
        assert set(host.rows("alembic_version", "version_num")) == before, (verb, step)
    host.alembic("downgrade", "app@-1")
    assert "app_0001" in host.rows("alembic_version", "version_num")


def _stock_logging(ini: Path) -> None:
    """The logging sections ``alembic init`` writes: no agno_alembic logger, so fileConfig() disables ours."""
    text = ini.read_text().replace("keys = root,sqlalchemy,alembic,agno_alembic", "keys = root,sqlalchemy,alembic")
    text = re.sub(r"\[logger_agno_alembic\]\n(?:[^\[\n][^\n]*\n)*\n?", "", text)
    assert "agno_alembic]" not in text
    ini.write_text(text)


def test_host_warnings_survive_a_stock_file_config(sqlite_backend, tmp_path):
    root = _copy(tmp_path)
    host = Host(root, sqlite_backend, sqlite_backend.url)
    ini = root / "alembic.ini"
    _stock_logging(ini)
    ini.write_text(ini.read_text().replace("    agno_alembic.revisions:\n", ""))
    proc = host.alembic("upgrade", "heads")
    assert "version_locations lacks 'agno_alembic.revisions:'" in proc.stderr, proc.stderr
    assert "Running upgrade" in proc.stderr
