"""Upgrade and downgrade to every schema version and compare with Agno's own fresh creates, table by table.

The snapshots under ``tests/golden/snapshots`` were reflected from tables that real Agno releases created
(``tests/golden/generate.py``).  Nothing may differ except the deliberate divergences listed in
``docs/divergences.md`` and in :data:`DIVERGENCES`, and column order, which follows its own rule
(:func:`_added_last`): a column a step adds goes last, as ``ALTER TABLE ... ADD COLUMN`` puts it.
"""

from __future__ import annotations

import pytest

from agno_alembic import commands, plan, registry
from agno_alembic.environment import ATTR_SYNC_STAMPS
from tests.golden.reflect import diff, load_snapshot, reflect

#: Deliberate divergences, by (schema version, table): why each is there is in docs/divergences.md.
DIVERGENCES = {("3.0.0", "agno_culture")}


def _ignored(version: str) -> set[str]:
    return {t for v, t in DIVERGENCES if v == version}


def _reflect(backend, names) -> dict:
    actual = reflect(backend.engine, backend.schema, exclude={names.alembic_version_table})
    return actual


def _compare(backend, version: str, actual: dict | None = None) -> list[str]:
    """The differences from Agno's fresh create at ``version`` (``actual``: the database's reflection, made here
    when not given)."""
    expected = load_snapshot(version, backend.snapshot_backend)
    actual = actual if actual is not None else _reflect(backend, backend.names)
    ignored = _ignored(version)
    if actual["agno_schema_versions"] is not None:
        actual["agno_schema_versions"] = [r for r in actual["agno_schema_versions"] if r["table_name"] not in ignored]
    return diff(expected, actual, ignore_tables=ignored)


def _added_last(backend, version: str) -> dict[str, list[str]]:
    """Each table's column order after an upgrade from where its branch begins: the order of Agno's fresh create
    at the version that first has the table, then, step by step, the columns the step drops taken out and the
    columns it adds put last, in the order of Agno's fresh create at that step's version."""
    orders: dict[str, list[str]] = {}
    for v in registry.SCHEMA_VERSIONS[: registry.SCHEMA_VERSIONS.index(version) + 1]:
        for table, shape in load_snapshot(v, backend.snapshot_backend)["tables"].items():
            columns = _in_order(shape)
            kept = [c for c in orders.get(table, []) if c in columns]
            orders[table] = kept + [c for c in columns if c not in kept]
    current = load_snapshot(version, backend.snapshot_backend)["tables"]
    return {t: order for t, order in orders.items() if t in current and t not in _ignored(version)}


def _in_order(table: dict) -> list[str]:
    """A reflected table's column names, in their order in the table."""
    return sorted(table["columns"], key=lambda c: table["columns"][c]["position"])


def _config(backend, version: str | None = None, **kw):
    return commands.make_config(backend.url, names=backend.names, target_version=version, **kw)


def _upgrade_to(backend, version: str) -> None:
    config = _config(backend, version)
    script = commands.script_directory(config)
    destinations = [r for tt in registry.TABLE_TYPES if (r := plan.revision_at(script, tt, version))]
    commands.upgrade(config, destinations)


@pytest.mark.parametrize("version", registry.SCHEMA_VERSIONS)
def test_upgrade_empty_database_to_version_equals_agno_fresh_create(backend, version):
    _upgrade_to(backend, version)
    reflected = _reflect(backend, backend.names)
    problems = _compare(backend, version, reflected)
    assert not problems, "\n".join(problems)
    actual = {t: _in_order(table) for t, table in reflected["tables"].items()}
    wrong = {t: (order, actual.get(t)) for t, order in _added_last(backend, version).items() if actual.get(t) != order}
    assert not wrong, "column order (expected, got): " + repr(wrong)


@pytest.mark.slow  # every table down through every version: minutes per backend
def test_downgrade_from_head_to_every_version_equals_agno_fresh_create(backend):
    commands.upgrade(_config(backend), ["heads"])
    assert not _compare(backend, registry.LATEST_VERSION)
    for version in reversed(registry.SCHEMA_VERSIONS[:-1]):
        config = _config(backend, version, **{ATTR_SYNC_STAMPS: [t.name for t in registry.TABLE_TYPES]})
        for tt in reversed(registry.TABLE_TYPES):
            commands.downgrade_table(config, tt, version)
        problems = _compare(backend, version)
        assert not problems, f"at {version}:\n" + "\n".join(problems)


def test_every_label_has_one_base_and_one_head():
    script = commands.script_directory(commands.make_config())
    for tt in registry.TABLE_TYPES:
        revs = plan.revisions_of(script, tt)
        assert revs, tt.name
        bases = [r for r, _ in revs if script.get_revision(r).down_revision is None]
        heads = [r for r, _ in revs if not script.get_revision(r).nextrev]
        assert bases == [tt.revision_id(tt.since)], tt.name
        assert len(heads) == 1, (tt.name, heads)
        assert revs[-1][1] in registry.SCHEMA_VERSIONS


def test_async_driver_upgrade_equals_agno_fresh_create(backend):
    commands.upgrade(commands.make_config(backend.async_url(), names=backend.names), ["heads"])
    problems = _compare(backend, registry.LATEST_VERSION)
    assert not problems, "\n".join(problems)
