"""pytest-alembic's built-in tests on agno-alembic's history, on SQLite, PostgreSQL and MariaDB.

Its built-ins run as they ship (imported from ``pytest_alembic.tests``): ``test_upgrade`` (base to heads),
``test_model_definitions_match_ddl`` (autogenerate against Agno's tables at their heads finds nothing: our
``env.py`` gives ``alembic check`` and autogenerate that metadata), ``test_up_down_consistency`` (every revision
up one at a time, down one at a time, and up again).  ``test_single_head_revision`` is replaced by
:func:`test_one_head_per_label`: there is one head per table type, by design.

The plugin's auto-collector is switched off in ``pyproject.toml`` (``-p no:pytest_alembic``: it breaks collection
on pytest 9); its fixtures are defined here.  ``alembic_engine`` hands pytest-alembic a connection, which our
environment runs on (as ``config.attributes["connection"]``, Alembic's documented channel).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_alembic import runner
from pytest_alembic.config import Config
from pytest_alembic.tests import test_model_definitions_match_ddl, test_up_down_consistency, test_upgrade

from agno_alembic import commands, registry
from tests.golden.reflect import diff, load_snapshot, reflect

__all__ = ["test_model_definitions_match_ddl", "test_one_head_per_label", "test_up_down_consistency", "test_upgrade"]


@pytest.fixture
def alembic_engine(backend) -> Iterator:
    with backend.engine.connect() as connection:
        yield connection


@pytest.fixture
def alembic_config(backend) -> Config:
    return Config(alembic_config=commands.make_config(names=backend.names))


@pytest.fixture
def alembic_runner(alembic_config, alembic_engine) -> Iterator:
    with runner(config=alembic_config, engine=alembic_engine) as context:
        yield context


def test_one_head_per_label(alembic_runner):
    """Every table type's branch has exactly one base and one head, every revision belongs to exactly one branch,
    and no head lies outside the branches (pytest-alembic's ``heads`` leaves out the heads other branches depend
    on, such as ``agno_versions``: they are "effective heads")."""
    script = alembic_runner.command_executor.script
    every = list(script.walk_revisions("base", "heads"))
    assert all(len(r.branch_labels) == 1 for r in every), [(r.revision, r.branch_labels) for r in every
                                                            if len(r.branch_labels) != 1]
    label_heads = {}
    for tt in (*registry.TABLE_TYPES, *registry.VECTOR_TYPES):
        heads = script.revision_map.get_revisions(f"{tt.label}@head")
        assert len(heads) == 1, (tt.label, heads)
        label_heads[tt.label] = heads[0].revision
        bases = [r.revision for r in every if tt.label in r.branch_labels and r.down_revision is None]
        assert bases == [tt.revision_id(tt.since)], (tt.label, bases)
    assert sorted({lb for r in every for lb in r.branch_labels}) == sorted(label_heads)
    assert set(alembic_runner.heads) <= set(label_heads.values())
    assert {r.revision for r in every if not r.nextrev} == set(label_heads.values())


def test_up_down_consistency_walks_every_revision(alembic_runner, caplog, backend):
    """The built-in, observed: every revision really goes up, down and up again, and the database ends at its
    heads, equal to Agno's fresh create (a multi-branch history could otherwise let it pass vacuously)."""
    caplog.set_level("INFO", logger="alembic.runtime.migration")
    test_up_down_consistency(alembic_runner)
    ran = [r.getMessage() for r in caplog.records if r.name == "alembic.runtime.migration"]
    revisions = list(alembic_runner.command_executor.script.walk_revisions("base", "heads"))
    assert sum(m.startswith("Running upgrade") for m in ran) == 2 * len(revisions)
    assert sum(m.startswith("Running downgrade") for m in ran) == len(revisions)
    actual = reflect(backend.engine, backend.schema, exclude={backend.names.alembic_version_table})
    actual["agno_schema_versions"] = [r for r in actual["agno_schema_versions"] if r["table_name"] != "agno_culture"]
    problems = diff(load_snapshot(registry.LATEST_VERSION, backend.snapshot_backend), actual,
                    ignore_tables={"agno_culture"})
    assert not problems, "\n".join(problems)
