"""A migration killed (SIGKILL) in the middle of a step, then run again, ends exactly where an uninterrupted run ends.

The database before: sessions at 2.5.6 holding 250 sessions with two legacy runs each, metrics at 2.3.0 and
memories at 2.0.0 with 40 rows each.  The copy's chunk size (``CHUNK_SESSIONS``, 2,000) is lowered to 100 for these
tests, so the 3.0.0 copy into the runs table takes three chunks of a table small enough to copy many times.
A worker process runs ``SyncMigrationManager(url).up()`` of sessions, runs, metrics and memories, which applies:

* ``agno_runs_3_0_0`` (schema step: CREATE TABLE, then its indexes),
* ``agno_sessions_3_0_0`` (**the data step**: every legacy run copied into the runs table, chunk by chunk; on
  MySQL the chunks go to a temporary stage and one statement writes them all),
* ``agno_metrics_3_0_0`` (schema step with data: ADD COLUMN user_id, fill, NOT NULL, swap the unique key,
  index, drop the unfinished unowned newest day),
* ``agno_memories_2_3_0`` (schema step with data: created_at added and filled, feedback, index, types).

One uninterrupted run on an identical database is the reference; it also records every statement and commit the
run issues, and which step each belongs to.  Kill points are chosen among them: inside each step, before the
statements that change something (DDL, INSERT, UPDATE, DELETE; on MySQL every DDL commits by itself, so these are
the points where a step is half applied), and before the commit that ends the step.  Each kill point gets its own
copy of the database; the worker is killed there, a new worker runs ``up()`` again, and the whole database (schema
reflected as the golden tests do, every row of every table, our version table, Agno's version rows) must equal
the reference, row for row.  ``agno_runs.updated_at`` is the copy's migration time and the only column masked.

The same files also hold the failure that is not a kill (an injected driver error in the middle of a step: on
MySQL and SingleStore a :class:`~agno_alembic.errors.PartiallyAppliedError` naming the step and what committed,
on PostgreSQL and SQLite nothing of the step left), and "up, down, up on every branch keeps every row".
"""

from __future__ import annotations

import collections
import contextlib
import json
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import commands, plan, registry
from agno_alembic.data.runs import _Stage
from agno_alembic.naming import Names
from tests.test_lock import KINDS, Target, differences, dump, insert_rows, make_target, rows, run_worker, run_workers

CHUNK = 100
SESSIONS = 2 * CHUNK + 50
TABLE_TYPES = ["sessions", "runs", "metrics", "memories"]
STAGE = _Stage.NAME  # MySQL/MariaDB: the copy's chunks go to this temporary table, then one statement writes them
BEFORE = ["agno_sessions_2_5_6", "agno_metrics_2_3_0", "agno_memories_2_0_0"]
MASKED = {"agno_runs": {"updated_at"}}
DATA_STEP = "agno_sessions_3_0_0"
SCHEMA_STEPS = ("agno_runs_3_0_0", "agno_metrics_3_0_0", "agno_memories_2_3_0")
PER_STEP = {DATA_STEP: 3, "agno_runs_3_0_0": 2, "agno_metrics_3_0_0": 3, "agno_memories_2_3_0": 1}
"""Kill points per step (plus the commit that ends the data step)."""
PER_STEP_SINGLESTORE = {DATA_STEP: 2, "agno_runs_3_0_0": 1, "agno_metrics_3_0_0": 1, "agno_memories_2_3_0": 1}
"""SingleStore's steps run MySQL's DDL (killed at every point above on MariaDB); here the lock row is the point."""
TTL = 2
"""SingleStore: the lock row of a killed worker expires after this many seconds."""
_READS = ("SELECT", "SHOW", "DESCRIBE", "DESC", "PRAGMA", "EXPLAIN", "WITH", "SET", "BEGIN", "SAVEPOINT",
          "RELEASE", "ROLLBACK", "COMMIT")
TOTALS: collections.Counter[str] = collections.Counter()


def _prepare(target: Target) -> None:
    names = Names(schema=target.schema)
    commands.upgrade(commands.make_config(target.url, names=names), BEFORE)
    insert_rows(target, names, {"sessions": "2.5.6"}, SESSIONS)
    insert_rows(target, names, {"metrics": "2.3.0", "memories": "2.0.0"}, 40)


def _step_of(event: dict[str, Any]) -> str | None:
    step = event.get("step")
    return step.rsplit("-> ", 1)[-1].strip() if step else None


def _changes(event: dict[str, Any]) -> bool:
    words = event["sql"].split(None, 1)
    return event["type"] == "statement" and bool(words) and words[0].upper() not in _READS


def kill_points(events: list[dict[str, Any]], per_step: dict[str, int] = PER_STEP) -> list[tuple[int, str]]:
    """``(event number, why)``: before changing statements inside each step, and before the data step's commit."""
    by_step: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for e in events:
        if _step_of(e):
            by_step[_step_of(e)].append(e)  # type: ignore[index]
    points: list[tuple[int, str]] = []
    for step, wanted in per_step.items():
        changing = [e for e in by_step.get(step, []) if _changes(e)]
        assert changing, f"{step}: no changing statement recorded (steps: {sorted(by_step)})"
        # the step's own work, not its bookkeeping (version row, stamps), unless that is all there is
        own = [e for e in changing if "agno_alembic_version" not in e["sql"] and "agno_schema_versions" not in e["sql"]]
        pool = own or changing
        if step == DATA_STEP:  # between the chunks of the copy: before its second INSERT INTO the runs table (or,
            # on MySQL, into the stage its chunks go to before one statement writes them all)
            inserts = [e for e in pool if e["sql"].upper().startswith("INSERT INTO")
                       and ("agno_runs" in e["sql"] or STAGE in e["sql"])]
            assert len(inserts) > 1, f"the copy ran in {len(inserts)} chunk(s)"
            points.append((inserts[1]["n"], f"{step}: between the copy's chunks, before {inserts[1]['sql'][:40]}"))
            wanted -= 1
        # right after the step's first change (MySQL: its first DDL committed, the rest not), half way, at its end
        order = [1, len(pool) // 2, len(pool) - 1, 0]
        positions = list(dict.fromkeys(i for i in order if 0 <= i < len(pool)))[: max(wanted, 0)]
        picks = [pool[i] for i in sorted(positions)]
        points += [(e["n"], f"{step}: before {e['sql'][:60]}") for e in picks]
        if step == DATA_STEP:
            last = by_step[step][-1]["n"]
            commit = next((e for e in events if e["n"] > last - 1 and e["type"] == "commit"), None)
            if commit is not None:
                points.append((commit["n"], f"{step}: at its commit"))
    return sorted(set(points))


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """The copy's chunk size, lowered so that :data:`SESSIONS` sessions take three chunks (workers are forked, so
    they inherit it)."""
    from agno_alembic.data import runs

    defaults = runs.copy_runs.__kwdefaults__ or {}
    assert "chunk" in defaults, "copy_runs lost its chunk= keyword: adjust this fixture"
    monkeypatch.setitem(defaults, "chunk", CHUNK)
    from agno_alembic.data import batched  # online: batches of CHUNK sessions, whatever they take

    for name in ("FIRST_BATCH", "MAX_BATCH", "MIN_BATCH"):
        monkeypatch.setattr(batched, name, CHUNK)
    return CHUNK


@pytest.mark.parametrize("kind", KINDS)
def test_kill_9_inside_data_and_schema_steps_then_rerun_equals_an_uninterrupted_run(kind, tmp_path, small_chunks):
    with contextlib.ExitStack() as stack:
        reference = stack.enter_context(make_target(kind, tmp_path))
        _prepare(reference)
        trace = tmp_path / "trace.json"
        spec = {"mode": "up", "table_type": TABLE_TYPES, "lock_timeout": 120, "lock_ttl": TTL}
        done = run_worker(reference.worker(**spec, trace=str(trace)))
        assert done.ok, done.report
        events = json.loads(trace.read_text())
        ran = {s.rsplit("-> ", 1)[-1] for s in done.report["steps"]}
        assert {DATA_STEP, *SCHEMA_STEPS} <= ran, ran
        expected = dump(reference, masked=MASKED)
        assert len(expected.rows["agno_runs"]) == 2 * SESSIONS  # the copy really ran in the reference
        points = kill_points(events, PER_STEP_SINGLESTORE if kind == "singlestore" else PER_STEP)
        victims = []
        for _ in points:
            victim = stack.enter_context(make_target(kind, tmp_path))
            _prepare(victim)
            victims.append(victim)
        killed = run_workers([v.worker(**spec, kill_at=n) for v, (n, _) in zip(victims, points, strict=True)],
                             tmp_path)
        for result, (n, why) in zip(killed, points, strict=True):
            assert result.killed, f"kill point {n} ({why}) was never reached: {result.report}"
        rerun = run_workers([v.worker(**spec) for v in victims], tmp_path)
        problems = []
        for victim, result, (n, why) in zip(victims, rerun, points, strict=True):
            if not result.ok:
                problems.append(f"[{why}] rerun failed: {result.report}")
                continue
            found = differences(expected, dump(victim, masked=MASKED))
            problems += [f"[killed at event {n}, {why}] {p}" for p in found[:10]]
            TOTALS["rows checked"] += expected.row_count
        assert not problems, "\n".join(problems)
        TOTALS["kill points"] += len(points)
        print(f"\n{kind}: {len(points)} kill points: {[why for _, why in points]}\nfault totals so far: "
              f"{dict(TOTALS)}")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("online", [True, False], ids=["online", "offline"])
def test_a_failure_inside_a_step_names_the_step_and_what_committed_and_the_rerun_completes(kind, tmp_path,
                                                                                         small_chunks, online):
    """An injected driver error before the metrics step's CREATE INDEX (its unique key already added).

    Online, each DDL statement commits by itself on every backend; offline only MySQL and SingleStore commit DDL.
    """
    with make_target(kind, tmp_path) as reference, make_target(kind, tmp_path) as victim:
        for t in (reference, victim):
            names = Names(schema=t.schema)
            commands.upgrade(commands.make_config(t.url, names=names), ["agno_metrics_2_3_0"])
            insert_rows(t, names, {"metrics": "2.3.0"}, 40)
        trace = tmp_path / "trace.json"
        spec = {"mode": "up", "table_type": ["metrics"], "lock_timeout": 60, "online": online}
        assert run_worker(reference.worker(**spec, trace=str(trace))).ok
        events = json.loads(trace.read_text())
        index = next(e for e in events if _step_of(e) == "agno_metrics_3_0_0" and e["sql"].startswith("CREATE INDEX"))
        failed = run_worker(victim.worker(**spec, fail_at=index["n"]))
        assert not failed.ok
        error = failed.report["error"]
        if kind in ("mysql", "singlestore") or online:
            assert error["type"] == "PartiallyAppliedError", error
            assert "upgrade agno_metrics_3_0_0" in error["message"]
            assert "ALTER TABLE" in error["message"] and "user_id" in error["message"]  # the column it added
            assert "injected failure" in error["message"]
        else:  # one transaction: the step left nothing behind
            assert error["type"] == "MigrationError" and "injected failure" in error["message"], error
            engine = victim.engine()
            try:
                columns = {c["name"] for c in sa.inspect(engine).get_columns("agno_metrics", schema=victim.schema)}
            finally:
                engine.dispose()
            assert "user_id" not in columns
        assert run_worker(victim.worker(**spec)).ok
        problems = differences(dump(reference, masked=MASKED), dump(victim, masked=MASKED))
        assert not problems, "\n".join(problems)


# -- up, down, up on every branch ---------------------------------------------------------------------------------


def _table_rows(target: Target, table: str) -> list[dict[str, Any]]:
    engine = target.engine()
    try:
        with engine.connect() as c:
            t = sa.Table(table, sa.MetaData(), schema=target.schema, autoload_with=c)
            return [dict(r._mapping) for r in c.execute(sa.select(t))]
    finally:
        engine.dispose()


UNSEEDED = {"runs", "sandbox_bindings"}
"""Tables the up/down/up test does not fill itself: runs holds the copied legacy runs (realistic rows); a
sandbox binding has no version below 3.0.0 and goes with sessions < 2.5.6 (refused while it holds rows)."""


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "postgres18", "mysql"])
def test_up_down_up_on_every_branch_keeps_every_row(kind, tmp_path):
    """Rows go into every table at the version that creates it; everything goes up to 3.0.0; then every branch goes
    down to the version it started at, and everything up again.

    A down that would drop data-holding columns is refused first (``DowngradeRefusedError``) and must leave the
    database exactly as it was; allowed explicitly, it goes through.  After the downs every row is still there with
    the values of every column it kept (the runs table goes with sessions < 2.5.6: its rows must be back in their
    session's legacy list); after the second up the database equals what the first up made, row for row."""
    from agno_alembic import SyncMigrationManager
    from agno_alembic.errors import DowngradeRefusedError

    with make_target(kind, tmp_path) as target:
        names = Names(schema=target.schema)
        mm = SyncMigrationManager(target.url, db_schema=target.db_schema)
        types = [tt for tt in registry.TABLE_TYPES if tt.on(target.backend) and tt.name != "versions"]
        script = commands.script_directory(commands.make_config())
        multi = [tt for tt in types if len(plan.revisions_of(script, tt)) > 1]  # branches with a step to go down
        for version in registry.SCHEMA_VERSIONS:
            mm.up(target_version=version, create_missing=True)
            new = {tt.name: version for tt in types if tt.since == version and tt.name not in UNSEEDED}
            insert_rows(target, names, new, 3)
        engine = target.engine()
        try:
            original = rows(engine, target.schema, exclude={"agno_schema_versions", names.alembic_version_table})
        finally:
            engine.dispose()
        first_up = dump(target, masked=MASKED)
        refused = []
        for tt in reversed(multi):  # dependents first; a one-revision branch could only drop its table
            table = names.table(tt.name)
            before = _table_rows(target, table)
            try:
                mm.down(target_version=tt.since, table_type=tt.name)
            except DowngradeRefusedError as exc:
                refused.append(tt.name)
                assert exc.table == table and exc.allow_option == "allow_data_loss"
                assert _table_rows(target, table) == before, f"the refused down of {table} changed it"
                mm.down(target_version=tt.since, table_type=tt.name, allow_data_loss=True)
        assert "memories" in refused, f"refused: {refused}; memories.created_at holds data"
        engine = target.engine()
        try:
            after_down = rows(engine, target.schema, exclude={"agno_schema_versions", names.alembic_version_table})
        finally:
            engine.dispose()
        problems = []
        checked = 0
        runs_table = names.table("runs")
        assert runs_table not in after_down, "the runs table should have gone with sessions < 2.5.6"
        legacy = {str(entry["run_id"]) for row in after_down[names.table("sessions")].values()
                  for entry in row["runs"] or [] if isinstance(entry, dict) and "run_id" in entry}
        for run in original[runs_table].values():
            checked += 1
            if str(run["run_id"]) not in legacy:
                problems.append(f"{runs_table}: run {run['run_id']} is neither in the table nor in its session")
        for table, old in original.items():
            if table == runs_table or (not old and table not in after_down):
                continue
            new_rows = after_down.get(table)
            if new_rows is None:
                problems.append(f"{table}: gone after the downs")
                continue
            for key, row in old.items():
                if key not in new_rows:
                    problems.append(f"{table}: row {key} lost by the downs")
                    continue
                kept = {c: v for c, v in row.items() if c in new_rows[key]}
                if {c: new_rows[key][c] for c in kept} != kept:
                    problems.append(f"{table}: row {key} changed by the downs: {kept} -> {new_rows[key]}")
                checked += 1
        mm.up(create_missing=True)
        problems += differences(first_up, dump(target, masked=MASKED))
        assert not problems, "\n".join(problems[:30])
        assert checked >= 3 * (len(types) - len(UNSEEDED))
        TOTALS["rows checked"] += checked + first_up.row_count
        print(f"\n{kind}: up/down/up kept {checked} row(s) over {len(original)} table(s), downs refused "
              f"first: {refused}; totals {dict(TOTALS)}")
