"""Eight processes call ``up()`` at the same moment: every one exits 0, each step is applied once, the schema is the
golden one and no row is lost.

Each process is a fresh interpreter (``python -m tests.test_lock``) running ``SyncMigrationManager(url).up()``; a
file barrier makes all eight start ``up()`` together once their imports are done.  The steps each one ran are read
from Alembic's log (``Running upgrade a -> b``).

* **An empty database**, on SQLite, PostgreSQL, MariaDB and SingleStore (the ``singlestoredb://`` driver against
  MariaDB: the lock is the lock *row*).
* **A database Agno 2.9.0 built and filled** (``tests/agno_harness.py`` runs the real release): SQLite, PostgreSQL,
  MariaDB.  The schema must equal Agno 3.1.10's fresh create and ``agno_schema_versions`` what Agno writes (the
  checks of ``tests/test_adoption.py``), and every row must still be there, value for value in every column it
  had (JSON compared as data; the one unfinished unowned metrics day Agno's own 3.0.0 step removes is the only
  row allowed to go).  On SingleStore the same race runs on a 2.5.6 database built and filled through our own
  revisions, then stripped of our version table so every process must adopt it first; it is compared row for
  row, schema included, with one uninterrupted ``up()`` on an identical copy.
"""

from __future__ import annotations

import collections
import types
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import registry
from agno_alembic.naming import Names
from tests.test_lock import Target, differences, dump, insert_rows, make_target, rows, run_workers

PROCESSES = 8
TOTALS: collections.Counter[str] = collections.Counter()
"""What the races covered so far in this session (each test prints it; ``pytest -s`` shows it)."""


def _race(target: Target, tmp_path, **spec: Any) -> list[Any]:
    results = run_workers([target.worker(mode="up", lock_timeout=600, **spec)] * PROCESSES, tmp_path)
    failed = [r for r in results if not r.ok]
    assert not failed, "\n\n".join(f"rc={r.returncode} {r.report}\n{r.output}" for r in failed)
    TOTALS["processes raced"] += len(results)
    print(f"race totals so far: {dict(TOTALS)}")
    return results


def _steps_once(results: list[Any]) -> list[str]:
    """Each step ran in exactly one process, and all of them in one (the first to take the lock did all)."""
    ran = [step for r in results for step in r.report["steps"]]
    twice = {s: n for s, n in collections.Counter(ran).items() if n > 1}
    assert not twice, f"steps applied more than once: {twice}"
    busy = [r.report["pid"] for r in results if r.report["steps"]]
    assert len(busy) == 1, f"{len(busy)} processes ran steps: {busy}"
    TOTALS["steps applied"] += len(ran)
    return ran


def _version_rows(target: Target, table: str = "agno_alembic_version") -> list[str]:
    engine = target.engine()
    try:
        with engine.connect() as c:
            t = sa.table(table, sa.column("version_num"), schema=target.schema)
            return [r[0] for r in c.execute(sa.select(t.c.version_num))]
    finally:
        engine.dispose()


def _expected_heads(backend: str) -> set[str]:
    from agno_alembic import commands, plan

    script = commands.script_directory(commands.make_config())
    tops = {plan.revisions_of(script, tt)[-1][0] for tt in (*registry.TABLE_TYPES, *registry.VECTOR_TYPES)
            if tt.on(backend)}
    # a head another head depends on is implied, and Alembic keeps only the dependent one
    implied = {r.revision for head in tops for r in script.revision_map.iterate_revisions(head, "base")
               if r.revision != head}
    return tops - implied


def _golden_problems(target: Target) -> list[str]:
    from agno_alembic.lock import LOCK_TABLE
    from tests.golden.reflect import diff, load_snapshot, reflect
    from tests.test_golden import DIVERGENCES

    if target.kind == "singlestore":
        from tests.test_singlestore import _check_live

        try:
            _check_live(target.url, registry.LATEST_VERSION)
        except AssertionError as exc:
            return [str(exc)]
        return []
    engine = target.engine()
    try:
        actual = reflect(engine, target.schema, exclude={"agno_alembic_version", LOCK_TABLE})
    finally:
        engine.dispose()
    ignored = {t for v, t in DIVERGENCES if v == registry.LATEST_VERSION}
    actual["agno_schema_versions"] = [r for r in actual["agno_schema_versions"] or [] if r["table_name"] not in ignored]
    return diff(load_snapshot(registry.LATEST_VERSION, target.kind), actual, ignore_tables=ignored)


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mysql", "singlestore"])
def test_eight_processes_up_an_empty_database_at_once(kind, tmp_path):
    with make_target(kind, tmp_path) as target:
        results = _race(target, tmp_path)
        ran = _steps_once(results)
        assert ran, "no process ran a step"
        problems = _golden_problems(target)
        assert not problems, "\n".join(problems)
        heads = _version_rows(target)
        assert len(heads) == len(set(heads)) and set(heads) == _expected_heads(target.backend)
        assert all(r.report["changes"] == [] for r in results if not r.report["steps"])


def _rows_kept(before: dict[str, dict], after: dict[str, dict], skip: set[str]) -> tuple[list[str], int]:
    """Every row of ``before`` is in ``after`` with the same value in each column it had; returns problems, count."""
    problems: list[str] = []
    checked = 0
    for table, old_rows in before.items():
        if table in skip:
            continue
        new_rows = after.get(table)
        if new_rows is None:
            problems.append(f"{table}: table gone")
            continue
        by_content = {}
        for key, row in new_rows.items():
            by_content[key] = row
        for key, row in old_rows.items():
            new = by_content.get(key)
            if new is None:
                problems.append(f"{table}: row {key} lost")
                continue
            changed = {c: (v, new.get(c)) for c, v in row.items() if c in new and new[c] != v}
            if changed:
                problems.append(f"{table}: row {key} changed: {changed}")
            checked += 1
    return problems, checked


def _unfinished_metrics_day(before: dict[str, dict], table: str = "agno_metrics") -> set[Any]:
    """Agno's 3.0.0 step (and ours) drops the newest metrics day while it is unfinished and unowned."""
    days = before.get(table, {})
    if not days:
        return set()
    newest = max(r["date"] for r in days.values())
    return {k for k, r in days.items() if r["date"] == newest and not r["completed"]}


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mysql"])
def test_eight_processes_up_an_agno_2_9_0_database_with_data_at_once(kind, tmp_path):
    from tests import agno_harness as harness
    from tests.test_adoption import _row_problems, _schema_problems, _version_problems

    with make_target(kind, tmp_path) as target:
        where = harness.Target(kind, target.url, target.schema)
        seeded = harness.seed("2.9.0", where)
        counts = harness.row_counts(where)
        engine = target.engine()
        before = rows(engine, target.schema)
        engine.dispose()
        results = _race(target, tmp_path)
        _steps_once(results)
        backend = types.SimpleNamespace(kind=kind, snapshot_backend=kind, names=Names(schema=target.schema))
        actual = harness.reflect_target(where, exclude={"agno_alembic_version"})
        problems = _schema_problems(backend, actual, seeded) + _version_problems(backend, actual, seeded)
        problems += _row_problems(backend, where, seeded, counts)
        engine = target.engine()
        after = rows(engine, target.schema)
        engine.dispose()
        gone = _unfinished_metrics_day(before)
        assert len(gone) == 1
        for key in gone:
            before["agno_metrics"].pop(key)
        kept, checked = _rows_kept(before, after, skip={"agno_schema_versions"})
        problems += kept
        assert not problems, "\n".join(problems)
        TOTALS["rows checked"] += checked
        print(f"race totals so far: {dict(TOTALS)}")


def test_eight_processes_adopt_a_singlestore_database_with_data_at_once(tmp_path):
    """SingleStore: every process must adopt a 2.5.6 database (no version table of ours) and bring it to 3.0.0."""
    from agno_alembic import commands, plan

    with make_target("singlestore", tmp_path) as target, make_target("singlestore", tmp_path) as reference:
        for t in (target, reference):
            names = Names(schema=t.schema)
            config = commands.make_config(t.url, names=names, target_version="2.5.6")
            script = commands.script_directory(config)
            commands.upgrade(config, [r for tt in registry.TABLE_TYPES
                                      if tt.on(t.backend) and (r := plan.revision_at(script, tt, "2.5.6"))])
            versions = {tt.name: "2.5.6" for tt in registry.TABLE_TYPES
                        if tt.on(t.backend) and plan.revision_at(script, tt, "2.5.6") and tt.name != "versions"}
            insert_rows(t, names, versions, 12)
            engine = t.engine()
            with engine.begin() as c:
                c.exec_driver_sql("DROP TABLE agno_alembic_version")
            engine.dispose()
        from agno_alembic import SyncMigrationManager

        SyncMigrationManager(reference.url, db_schema="").up(create_missing=True)
        results = _race(target, tmp_path)
        _steps_once(results)
        masked = {"agno_runs": {"updated_at"}}  # the copy's migration time
        expected, actual = dump(reference, masked=masked), dump(target, masked=masked)
        problems = differences(expected, actual)
        assert not problems, "\n".join(problems)
        assert actual.rows["agno_runs"], "the legacy runs were not copied"
        TOTALS["rows checked"] += actual.row_count
        print(f"race totals so far: {dict(TOTALS)}")
