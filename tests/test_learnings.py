"""Schema 3.0.0's learnings step: the entity re-key, judged against what Agno 3.1.10's own migration does.

Every class of row Agno's ``rekey_user_entity_learnings`` knows goes into a learnings table at 2.3.0; an identical
copy is migrated by Agno 3.1.10's ``MigrationManager(db).up(table_type="learnings")`` in its own venv, ours by our
revision; the two tables must be equal row for row, but for the differences listed in :data:`OUR_DIFFERENCES`.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from agno_alembic import commands, registry, shapes
from agno_alembic.data import learnings
from agno_alembic.errors import DowngradeRefusedError
from tests import agno_harness
from tests.conftest import make_backend

U1, U2, U3, U4 = "alice@example.com", "bob", "ü-用户", "123"
BASE = 1_700_000_000
MIGRATION_TIME = "<migration time>"
TABLE = "agno_learnings"
LEARNINGS = registry.table_type("learnings")


def key(user: str, entity_type: str, entity_id: str) -> str:
    """Agno 3's per-user key, computed here independently of the code under test."""
    return f"entity_user_{hashlib.sha256(user.encode()).hexdigest()[:16]}_{entity_type}_{entity_id}"


def _row(i: int, learning_id: str, user_id: str | None, entity_type: str | None, entity_id: str | None,
         content: object, **kw: object) -> dict:
    row = {
        "learning_id": learning_id, "learning_type": "entity_memory", "namespace": "user", "user_id": user_id,
        "agent_id": "agent-1", "team_id": "team-1", "workflow_id": "wf-1", "session_id": "sess-1",
        "entity_id": entity_id, "entity_type": entity_type, "content": content, "metadata": {"origin": "test"},
        "created_at": BASE + 10 * i, "updated_at": BASE + 10 * i + 5,
    }
    return {**row, **kw}


IVAN_SOURCE = {
    "name": "Ivan", "description": "A chess player", "user_id": U1, "extra": "kept from the source",
    "facts": [{"id": "s1", "content": "Likes  TEA "}, {"id": "s2", "content": "Plays chess"}, "bare fact"],
    "events": [{"content": "met", "date": "2024-01-01"}, {"content": "moved", "date": "2024-02-01"}],
    "relationships": [{"entity_id": "alice", "entity_type": "person", "relation": "friend", "direction": "out"}],
    "properties": {"age": 30, "city": "Rome"}, "aliases": ["Vanya", "ivan petrov"],
}
IVAN_TARGET = {
    "name": "Ivan Petrov", "description": "", "user_id": U1,
    "facts": [{"id": "t1", "content": "likes tea"}], "events": [{"content": "met", "date": "2024-01-01"}],
    "properties": {"city": "Milan"}, "aliases": ["Vanechka"],
}
IVAN_MERGED = {
    "name": "Ivan Petrov", "description": "A chess player", "user_id": U1, "extra": "kept from the source",
    "facts": [{"id": "s2", "content": "Plays chess"}, "bare fact", {"id": "t1", "content": "likes tea"}],
    "events": [{"content": "moved", "date": "2024-02-01"}, {"content": "met", "date": "2024-01-01"}],
    "relationships": [{"entity_id": "alice", "entity_type": "person", "relation": "friend", "direction": "out"}],
    "properties": {"age": 30, "city": "Milan"}, "aliases": ["Vanechka", "Ivan", "Vanya"],
}

ROWS = [
    # legacy: moves to its owner's key
    _row(1, "entity_user_person_alice", U1, "person", "alice",
         {"entity_id": "alice", "entity_type": "person", "name": "Alice", "user_id": U1,
          "facts": [{"id": "f1", "content": "Likes tea"}]}),
    # keyed: another user's row for the same entity, already on its key
    _row(2, key(U2, "person", "alice"), U2, "person", "alice", {"name": "Alice", "user_id": U2, "facts": ["Is tall"]}),
    # legacy without a recorded user, owner not ASCII, no metadata
    _row(3, "entity_user_company_acme", U3, "company", "acme", {"name": "ACME", "facts": ["Makes anvils"]},
         metadata=None),
    # legacy: the content's user 123 is the owner "123"; metadata that is not an object
    _row(4, "entity_user_project_apollo", U4, "project", "apollo", {"user_id": 123, "name": "Apollo"},
         metadata=[1, 2]),
    # legacy: content stored as a JSON string holding the object
    _row(5, "entity_user_topic_tea", U2, "topic", "tea", json.dumps({"name": "Tea", "user_id": U2})),
    # unowned: NULL and empty user_id
    _row(6, "entity_user_person_carol", None, "person", "carol", {"name": "Carol"}),
    _row(7, "entity_user_person_dave", "", "person", "dave", {"name": "Dave", "user_id": U2}),
    # contaminated: quarantined to a new key, and onto a quarantine row that exists already
    _row(8, "entity_user_person_eve", U1, "person", "eve", {"name": "Eve", "user_id": U2}),
    _row(9, "entity_user_person_frank", U1, "person", "frank", {"name": "Frank", "user_id": U2},
         metadata={"q": "new"}),
    _row(10, "entity_quarantined_user_person_frank", "someone", "person", "frank", {"old": True},
         namespace="quarantined_user", workflow_id="wf-q", created_at=50, updated_at=60),
    # malformed: empty entity_id, content a list, content a string that is no JSON object, no entity_type
    _row(11, "entity_user_person_", U1, "person", "", {"name": "?"}),
    _row(12, "entity_user_person_gina", U1, "person", "gina", [1, 2]),
    _row(13, "entity_user_person_hank", U1, "person", "hank", "just text"),
    _row(14, "entity_user_None_x", U1, None, "x", {"name": "X"}),
    # legacy onto an existing target: merged, target wins
    _row(15, "entity_user_person_ivan", U1, "person", "ivan", IVAN_SOURCE, metadata={"m": "source"}),
    _row(16, key(U1, "person", "ivan"), U1, "person", "ivan", IVAN_TARGET, metadata={}, agent_id="agent-target",
         workflow_id="wf-target", created_at=5000, updated_at=6000),
    # legacy onto a target whose content is not an object: a conflict, both stay
    _row(17, "entity_user_person_judy", U1, "person", "judy", {"name": "Judy"}),
    _row(18, key(U1, "person", "judy"), U1, "person", "judy", [1, 2]),
    _row(19, "entity_user_person_mallory", U1, "person", "mallory", {"name": "Mallory"}),
    _row(20, key(U1, "person", "mallory"), U1, "person", "mallory", "garbage"),
    # legacy onto a target, but its facts are not a list: the merge fails, both stay
    _row(21, "entity_user_person_kate", U1, "person", "kate", {"name": "Kate", "facts": "not a list"}),
    _row(22, key(U1, "person", "kate"), U1, "person", "kate", {"name": "Kate"}),
    # the same content without a target moves as it is
    _row(23, "entity_user_person_leo", U1, "person", "leo", {"name": "Leo", "facts": "not a list"}),
    # contaminated on a per-user key: left alone
    _row(24, key(U1, "place", "paris"), U1, "place", "paris", {"name": "Paris", "user_id": U2}),
    # underscores in type and id
    _row(25, "entity_user_ext_ref_a_b", U2, "ext_ref", "a_b", {"name": "AB"}),
    # not selected: another namespace, another learning type, no namespace
    _row(26, "entity_global_person_alice", U1, "person", "alice", {"name": "Alice"}, namespace="global"),
    _row(27, "user_profile_bob", U2, None, None, {"name": "Bob"}, learning_type="user_profile"),
    _row(28, "entity_user_person_zed", U1, "person", "zed", {"name": "Zed"}, namespace=None),
]

#: Rows our step writes to a new key, with the old key they come from.
MOVED = {
    key(U1, "person", "alice"): "entity_user_person_alice",
    key(U3, "company", "acme"): "entity_user_company_acme",
    key(U4, "project", "apollo"): "entity_user_project_apollo",
    key(U2, "topic", "tea"): "entity_user_topic_tea",
    key(U1, "person", "leo"): "entity_user_person_leo",
    key(U2, "ext_ref", "a_b"): "entity_user_ext_ref_a_b",
    "entity_quarantined_user_person_eve": "entity_user_person_eve",
}
GONE = {"entity_user_person_alice", "entity_user_company_acme", "entity_user_project_apollo", "entity_user_topic_tea",
        "entity_user_person_leo", "entity_user_ext_ref_a_b", "entity_user_person_eve", "entity_user_person_frank",
        "entity_user_person_ivan"}


def _our_differences() -> dict[tuple[str, str], tuple[object, object]]:
    """Every cell where our table differs from Agno's: ``(learning_id, column) -> (ours, Agno's)``.

    A row moved to a new key keeps its workflow_id and its timestamps (Agno's store API carries neither), and
    metadata that is not an object (Agno writes NULL for it).
    """
    by_id = {r["learning_id"]: r for r in ROWS}
    out: dict[tuple[str, str], tuple[object, object]] = {}
    for new, old in MOVED.items():
        source = by_id[old]
        out[(new, "workflow_id")] = (source["workflow_id"], None)
        out[(new, "created_at")] = (source["created_at"], MIGRATION_TIME)
        out[(new, "updated_at")] = (source["updated_at"], MIGRATION_TIME)
    out[(key(U4, "project", "apollo"), "metadata")] = ([1, 2], None)
    return out


# ------------------------------------------------------------------ helpers


@pytest.fixture(params=["sqlite", "postgres"])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def _config(b, version: str | None = None, **kw):
    return commands.make_config(b.url, names=b.names, target_version=version, **kw)


def _at_2_3_0(b, rows: list[dict]) -> None:
    commands.upgrade(_config(b, "2.3.0"), [LEARNINGS.revision_id("2.3.0")])
    if rows:
        with b.engine.begin() as c:
            c.execute(_table(b).insert(), rows)


def _upgrade(b) -> None:
    commands.upgrade(_config(b), [f"{LEARNINGS.label}@head"])


def _table_backend(b) -> str:
    return registry.SQLITE if b.kind == "sqlite" else registry.POSTGRESQL


def _table(b) -> sa.Table:
    return shapes.spec("learnings", _table_backend(b), "3.0.0", b.names).sa_table()


def _rows(b) -> dict[str, dict]:
    t = _table(b)
    with b.engine.connect() as c:
        return {r.learning_id: dict(r._mapping) for r in c.execute(sa.select(t))}


def _stamp(b) -> str | None:
    rows = agno_harness.version_rows(agno_harness.Target.of(b))
    return None if rows is None or TABLE not in rows else rows[TABLE]["version"]


def _heads(b) -> tuple[str, ...]:
    return commands.current_heads(_config(b))


_AGNO_UP = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from agno_worker import make_db
from agno.db.migrations.manager import MigrationManager
db = make_db(sys.argv[2], sys.argv[3], sys.argv[4] or None)
asyncio.run(MigrationManager(db).up(table_type="learnings"))
"""


def _agno_up(b) -> str:
    """Agno 3.1.10's ``MigrationManager(db).up(table_type="learnings")`` on ``b``; returns its log."""
    try:
        python = agno_harness.agno_python(agno_harness.AGNO_LATEST)
    except agno_harness.HarnessError as exc:
        pytest.skip(f"agno {agno_harness.AGNO_LATEST} cannot be installed: {exc}")
    target = agno_harness.Target.of(b)
    tests = str(Path(__file__).resolve().parent)
    proc = subprocess.run(
        [str(python), "-B", "-c", _AGNO_UP, tests, b.kind, target.agno_target, b.schema or ""],
        capture_output=True, text=True, timeout=agno_harness.WORKER_TIMEOUT, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def _differences(ours: dict[str, dict], agno: dict[str, dict], since: int) -> dict:
    def cell(column: str, value: object) -> object:
        if column in ("created_at", "updated_at") and isinstance(value, int) and value >= since:
            return MIGRATION_TIME
        return value

    out: dict = {}
    for learning_id in sorted(ours.keys() | agno.keys()):
        mine, theirs = ours.get(learning_id), agno.get(learning_id)
        if mine is None or theirs is None:
            out[(learning_id, "*")] = ("present" if mine else "absent", "present" if theirs else "absent")
            continue
        for column in mine:
            if cell(column, mine[column]) != cell(column, theirs[column]):
                out[(learning_id, column)] = (cell(column, mine[column]), cell(column, theirs[column]))
    return out


# ------------------------------------------------------------------ the comparison with Agno


def test_rekey_equals_agno_3_1_10_but_for_the_listed_differences(kind, tmp_path, monkeypatch):
    twin_dir = tmp_path / "twin"
    twin_dir.mkdir()
    with make_backend(kind, tmp_path) as ours, make_backend(kind, twin_dir) as agno:
        _at_2_3_0(ours, ROWS)
        _at_2_3_0(agno, ROWS)
        assert _rows(ours) == _rows(agno)
        since = int(time.time())

        log = _agno_up(agno)
        monkeypatch.setattr(learnings, "CHUNK_ROWS", 3)  # several chunks, boundaries inside the data
        _upgrade(ours)

        mine, theirs = _rows(ours), _rows(agno)
        assert _stamp(agno) == "3.0.0", log
        assert _stamp(ours) == "3.0.0"
        assert _differences(mine, theirs, since) == _our_differences()

        # and what both did, spelled out
        assert not GONE & mine.keys()
        assert set(MOVED) <= mine.keys()
        assert mine[key(U1, "person", "ivan")]["content"] == IVAN_MERGED
        assert mine[key(U1, "person", "ivan")]["metadata"] == {"m": "source"}
        assert mine[key(U1, "person", "ivan")]["created_at"] == 5000
        assert mine[key(U2, "topic", "tea")]["content"] == {"name": "Tea", "user_id": U2}
        frank = mine["entity_quarantined_user_person_frank"]
        assert (frank["content"], frank["metadata"], frank["user_id"], frank["created_at"]) == (
            {"name": "Frank", "user_id": U2}, {"q": "new"}, "someone", 50)
        eve = mine["entity_quarantined_user_person_eve"]
        assert (eve["namespace"], eve["user_id"], eve["content"]) == ("quarantined_user", U1,
                                                                      {"name": "Eve", "user_id": U2})
        by_id = {r["learning_id"]: r for r in ROWS}
        written = {key(U1, "person", "ivan"), "entity_quarantined_user_person_frank"}
        for kept in set(by_id) - GONE - written:  # every other row is exactly as it was
            assert mine[kept] == by_id[kept], kept


def test_report_counts_every_bucket(sqlite_backend):
    b = sqlite_backend
    _at_2_3_0(b, ROWS)
    with b.engine.begin() as c:
        spec = shapes.spec("learnings", registry.SQLITE, "3.0.0", b.names)
        report = learnings.rekey_entities(c, spec, chunk=4)
    assert report.counts == {
        "rekeyed": 6, "quarantined": 2, "merged": 1, "conflicts": 2, "failed": 1, "unowned": 2, "malformed": 3,
    }
    assert report.changed
    assert report.examples["conflicts"] == ["entity_user_person_judy", "entity_user_person_mallory"]


# ------------------------------------------------------------------ downgrade, re-run


def test_downgrade_refused_unless_data_loss_allowed_then_rerun_changes_nothing(kind, tmp_path):
    with make_backend(kind, tmp_path) as b:
        _at_2_3_0(b, ROWS)
        _upgrade(b)
        after = _rows(b)

        with pytest.raises(DowngradeRefusedError) as info:
            commands.downgrade_table(_config(b, "2.3.0"), LEARNINGS, "2.3.0")
        error = info.value
        assert error.table == TABLE and error.allow_option == "allow_data_loss"
        assert error.would_destroy == (
            "the per-user keys of 12 entity_memory row(s), and the quarantine of 2 (namespace quarantined_user)")
        assert "allow_data_loss" in str(error) and "cannot be undone" in str(error)
        assert _rows(b) == after
        assert LEARNINGS.revision_id("3.0.0") in _heads(b) and _stamp(b) == "3.0.0"

        commands.downgrade_table(_config(b, "2.3.0", allow_data_loss=True), LEARNINGS, "2.3.0")
        assert _rows(b) == after  # left as they are: the old keys cannot be restored
        assert LEARNINGS.revision_id("2.3.0") in _heads(b) and _stamp(b) == "2.3.0"

        _upgrade(b)  # the step again: nothing left to move, the rows it left stay as they are
        assert _rows(b) == after
        assert _stamp(b) == "3.0.0"


def test_downgrade_of_a_table_without_per_user_rows_is_not_refused(kind, tmp_path):
    unowned = [r for r in ROWS if r["learning_id"] in ("entity_user_person_carol", "entity_global_person_alice")]
    with make_backend(kind, tmp_path) as b:
        _at_2_3_0(b, unowned)
        _upgrade(b)
        commands.downgrade_table(_config(b, "2.3.0"), LEARNINGS, "2.3.0")
        assert _stamp(b) == "2.3.0" and set(_rows(b)) == {r["learning_id"] for r in unowned}


# ------------------------------------------------------------------ backends, edge cases


def test_step_is_a_noop_without_rows_and_on_mariadb(backend):
    commands.upgrade(_config(backend), ["heads"])
    exists = sa.inspect(backend.engine).has_table(TABLE, schema=backend.schema)
    if backend.kind == "mysql":
        assert not exists and _stamp(backend) is None
    else:
        assert exists and _stamp(backend) == "3.0.0" and not _rows(backend)
    assert LEARNINGS.revision_id("3.0.0") in _heads(backend)
    commands.downgrade_table(_config(backend, "2.3.0"), LEARNINGS, "2.3.0")
    assert LEARNINGS.revision_id("2.3.0") in _heads(backend)


def test_content_that_is_not_json_is_malformed_and_stays(sqlite_backend):
    b = sqlite_backend
    _at_2_3_0(b, [])
    with b.engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO agno_learnings (learning_id, learning_type, namespace, user_id, entity_id, entity_type, "
            "content, metadata, created_at) VALUES ('entity_user_person_x', 'entity_memory', 'user', 'u', 'x', "
            "'person', '{not json', 'nor this', 1)"
        )
    _upgrade(b)
    with b.engine.connect() as c:
        assert c.exec_driver_sql("SELECT learning_id, content, metadata FROM agno_learnings").all() == [
            ("entity_user_person_x", "{not json", "nor this")]


def test_offline_sql_knows_a_table_it_created_holds_no_row(sqlite_backend, capsys):
    commands.upgrade(_config(sqlite_backend), [f"{LEARNINGS.label}@head"], sql=True)
    # The script created agno_learnings: no row to re-key (one that did not would be refused: test_offline.py).
    assert "rekey_entities (data rule) has nothing to do: the table holds no row" in capsys.readouterr().out


def test_key_forms():
    assert learnings.user_scoped_id(U3, "person", "a_b") == key(U3, "person", "a_b")
    assert learnings.user_scoped_id(123, "person", "x") == key("123", "person", "x")
    assert learnings.legacy_id("person", "x") == "entity_user_person_x"
    assert learnings.quarantine_id("person", "x") == "entity_quarantined_user_person_x"


def test_step_applied_tells_from_the_rows(kind, tmp_path):
    with make_backend(kind, tmp_path) as b:
        _at_2_3_0(b, ROWS)
        with b.engine.connect() as c:
            assert not learnings.step_applied(c, None, b.names)
        _upgrade(b)
        leftovers = {"entity_user_person_judy", "entity_user_person_mallory", "entity_user_person_kate"}
        with b.engine.connect() as c:  # only the rows the step had to leave in place
            spec = shapes.spec("learnings", _table_backend(b), "3.0.0", b.names)
            assert set(learnings.rows_on_old_keys(c, spec)) == leftovers
        t = _table(b)
        with b.engine.begin() as c:
            c.execute(t.delete().where(t.c.learning_id.in_(leftovers)))
        with b.engine.connect() as c:
            assert learnings.step_applied(c, None, b.names)


def test_online_rekey_commits_its_chunks_shows_its_progress_and_resumes_after_a_kill(kind, tmp_path, monkeypatch):
    """Online (the default), the re-key moves each chunk in a committed transaction of its own with its progress
    row: killed inside a later chunk, the chunks before it are kept, ``status`` shows the step in progress, the
    step is not stamped; the next ``up()`` resumes and the table ends exactly as an uninterrupted run leaves it."""
    from agno_alembic import SyncMigrationManager
    from agno_alembic.data import batched
    from tests.test_lock import Target, run_worker

    monkeypatch.setattr(learnings, "CHUNK_ROWS", 3)  # the worker is forked: it inherits it
    twin_dir = tmp_path / "twin"
    twin_dir.mkdir()
    with make_backend(kind, tmp_path) as ours, make_backend(kind, twin_dir) as twin:
        _at_2_3_0(ours, ROWS)
        _at_2_3_0(twin, ROWS)
        since = int(time.time())
        _upgrade(twin)
        target = Target(ours.kind, ours.url, ours.schema)
        spec = {"mode": "up", "table_type": "learnings", "lock_timeout": 60}
        killed = run_worker(target.worker(**spec, kill_at_sql=["DELETE FROM", TABLE], kill_at_nth=3))
        assert killed.killed, killed.report
        assert _stamp(ours) == "2.3.0"
        moved = set(_rows(twin)) - {r["learning_id"] for r in ROWS}
        assert 0 < len(set(_rows(ours)) & moved) < len(moved)  # some chunks committed, not all
        [status] = SyncMigrationManager(ours.url, db_schema=ours.schema or "").status(table_type="learnings")
        [line] = status.in_progress
        assert line.startswith(f"{TABLE}.entity_memory re-key: ") and line.endswith(" entity rows walked"), line
        assert run_worker(target.worker(**spec)).ok
        assert _stamp(ours) == "3.0.0"
        assert _differences(_rows(ours), _rows(twin), since) == {}
        with ours.engine.connect() as c:
            assert not sa.inspect(c).has_table(batched.PROGRESS_TABLE, schema=ours.schema)
