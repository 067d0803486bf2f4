"""Names, schema and options come from configuration: ``-x`` arguments on the CLI, attributes from Python."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from agno_alembic import commands, registry
from agno_alembic.errors import ConfigurationError, UnknownTableTypeError, UnknownVersionError
from agno_alembic.naming import Names, from_options
from tests import forked_cli

ROOT = Path(__file__).resolve().parents[1]
ALEMBIC = Path(sys.executable).parent / "alembic"


def _alembic(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return forked_cli.run(ALEMBIC, ["-c", str(ROOT / "alembic.ini"), *args], cwd=cwd, env=os.environ, timeout=600)


def _tables(engine: sa.Engine, schema: str | None) -> set[str]:
    return set(sa.inspect(engine).get_table_names(schema=schema))


def test_cli_upgrade_heads_with_x_options_creates_custom_names(backend, tmp_path):
    args = ["-x", f"url={backend.url}", "-x", f"schema={backend.schema or 'none'}",
            "-x", "session_table=my_sessions", "-x", "memory_table=My Memories"]
    done = _alembic(*args, "upgrade", "heads", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    tables = _tables(backend.engine, backend.schema)
    own = Names(tables={"sessions": "my_sessions", "memories": "My Memories"}).alembic_version_table
    assert own.startswith("agno_alembic_version_")  # a configuration with its own names has its own version table
    assert {"my_sessions", "My Memories", "agno_runs", own, "agno_schema_versions"} <= tables
    assert "agno_sessions" not in tables and "agno_memories" not in tables
    if backend.kind == "postgres":
        assert "my_sessions_sandbox_bindings" in tables  # Agno's default follows the sessions table name
    indexes = {i["name"] for i in sa.inspect(backend.engine).get_indexes("My Memories", schema=backend.schema)}
    assert "idx_My Memories_created_at" in indexes
    with backend.engine.connect() as c:
        t = sa.table("agno_schema_versions", sa.column("table_name"), sa.column("version"), schema=backend.schema)
        rows = dict(c.execute(sa.select(t.c.table_name, t.c.version)).all())
    assert rows["my_sessions"] == rows["My Memories"] == "3.0.0"

    down = _alembic(*args, "downgrade", "agno_memories@base", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    after = _tables(backend.engine, backend.schema)
    assert tables - after == {"My Memories"}


def test_default_sqlite_url_and_alembic_version_table_is_our_own(tmp_path):
    done = _alembic("upgrade", "heads", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'agno.db'}")
    tables = _tables(engine, None)
    assert "agno_alembic_version" in tables and "alembic_version" not in tables
    assert "agno_culture" in tables and "agno_runs" in tables


def test_unknown_x_option_is_refused_with_the_valid_ones(tmp_path):
    done = _alembic("-x", "sesion_table=x", "upgrade", "heads", cwd=tmp_path)
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert "sesion" in said and "valid table types" in said
    assert not (tmp_path / "agno.db").exists() or not _tables(
        sa.create_engine(f"sqlite:///{tmp_path / 'agno.db'}"), None)


def test_options_parse_aliases_and_reject_nonsense():
    names = from_options({"session_table": "s", "memories_table": "m", "schema": "none"}, registry.POSTGRESQL)
    assert names.table("sessions") == "s" and names.table("memory") == "m" and names.schema is None
    assert names.table("sandbox_bindings") == "s_sandbox_bindings"
    assert from_options({}, registry.POSTGRESQL).schema == "ai"
    assert from_options({}, registry.SQLITE).schema is None
    with pytest.raises(UnknownTableTypeError) as info:
        from_options({"bogus_table": "x"}, registry.SQLITE)
    assert "sessions" in info.value.valid
    with pytest.raises(ConfigurationError):
        from_options({"session_table": " "}, registry.SQLITE)
    with pytest.raises(ConfigurationError):
        from_options({"colour": "blue"}, registry.SQLITE)


@pytest.mark.parametrize(("given", "means"), [("2.3.0", "2.3.0"), ("v2.5.6", "2.5.6"), ("2.4.0", "2.3.0"),
                                              ("V3.0", "3.0.0"), ("2.9.9", "2.5.6")])
def test_versions_resolve_to_the_nearest_lower_schema_version(given, means):
    assert registry.resolve_version(given) == means


@pytest.mark.parametrize("bad", ["9.9.9", "latest", "", "1.9.0", None, 3, "2.x"])
def test_bad_versions_raise_with_the_known_ones(bad):
    with pytest.raises(UnknownVersionError) as info:
        registry.resolve_version(bad)
    assert info.value.known == registry.SCHEMA_VERSIONS


def test_async_drivers_upgrade_and_downgrade(backend):
    names = backend.names
    config = commands.make_config(backend.async_url(), names=names)
    commands.upgrade(config, ["heads"])
    tables = _tables(backend.engine, backend.schema)
    assert {"agno_sessions", "agno_runs", "agno_memories", "agno_schema_versions"} <= tables
    commands.downgrade(commands.make_config(backend.async_url(), names=names), "base")
    assert _tables(backend.engine, backend.schema) <= {"agno_alembic_version"}


def test_names_are_never_baked_into_revisions():
    for path in (ROOT / "versions").rglob("*.py"):
        text = path.read_text()
        for tt in registry.TABLE_TYPES:
            assert f'"{tt.default_table}"' not in text, path
        assert "op.execute" not in text and "sa.text" not in text, path
        assert Names().schema is None
