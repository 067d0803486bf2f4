"""The v1 import (:mod:`agno_alembic.v1`): Agno 1.x storage tables into the current sessions, runs and memories.

The end-to-end test seeds real agno 1.8.4 tables (``tests/agno_v1_worker.py`` in agno 1.8.4's venv, made by
``tests/golden/generate.py``'s ``ensure_venv``), brings the target tables up with our manager, imports, imports
again, and lets agno 3.1.10 read the result back.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import SyncMigrationManager, registry, shapes
from agno_alembic.errors import ConfigurationError
from agno_alembic.naming import Names
from agno_alembic.v1 import convert_fields, convert_runs, import_v1, memory_row, session_row, unwrap_entry
from tests import agno_harness as harness
from tests.agno_harness import Target

V1_RELEASE = "1.8.4"
V1_WORKER = Path(__file__).resolve().with_name("agno_v1_worker.py")
SESSIONS = 5
BACKEND = {"postgres": registry.POSTGRESQL, "mysql": registry.MYSQL, "sqlite": registry.SQLITE}


# ------------------------------------------------------------------ conversion rules (no database)


def test_metrics_renamed_and_dropped():
    out = convert_fields({"metrics": {"time": 1.5, "cached_tokens": 2, "prompt_tokens": 3, "input_tokens": 4,
                                      "completion_tokens_details": {}}})
    assert out == {"metrics": {"duration": 1.5, "cache_read_tokens": 2, "input_tokens": 4}}
    # a dict with two metric keys is a metrics dict wherever it is
    assert convert_fields({"x": {"input_tokens": 1, "audio_tokens": 2}}) == {
        "x": {"input_tokens": 1, "audio_total_tokens": 2}}


def test_extra_data_lifted_thinking_merged_deprecated_dropped():
    run = {"run_id": "r", "thinking": "t", "reasoning_content": "rc", "event": "RunResponse",
           "formatted_tool_calls": ["x"], "team_session_id": "ts",
           "extra_data": {"add_messages": [1], "references": [2], "reasoning_steps": [3], "reasoning_messages": [4]}}
    assert convert_fields(run, "r") == {
        "run_id": "r", "reasoning_content": "t\nrc", "additional_input": [1], "references": [2],
        "reasoning_steps": [3], "reasoning_messages": [4]}


def test_media_ids_are_deterministic_and_fields_converted():
    run = {"run_id": "r", "videos": [{"url": "u", "length": "2.5", "eta": 1}],
           "images": [{"url": "i", "format": "PNG"}],
           "audio": [{"base64_audio": "QUJD"}]}
    first, second = convert_fields(run, "r"), convert_fields(run, "r")
    assert first == second
    assert first["videos"][0]["duration"] == 2.5 and "length" not in first["videos"][0]
    assert first["images"][0]["mime_type"] == "image/png"
    assert first["audio"][0]["content"] == "QUJD" and "base64_audio" not in first["audio"][0]
    assert first["images"][0]["id"] != first["videos"][0]["id"]
    assert convert_fields({"images": [{"id": "keep"}]})["images"][0]["id"] == "keep"


def test_run_fix_ups():
    runs = [
        {"run_id": "a", "agent_id": "ag", "team_id": "tm", "team_session_id": "s", "session_id": "x",
         "event": "RunResponse"},
        {"run_id": "t", "team_id": "tm",
         "member_responses": [{"run_id": "m", "agent_id": "ag", "team_id": "tm", "team_session_id": "s"}]},
    ]
    agent, team = convert_runs(json.dumps(runs), "s")
    assert agent == {"run_id": "a", "agent_id": "ag", "session_id": "s"}
    assert team == {"run_id": "t", "team_id": "tm", "member_responses": [{"run_id": "m", "agent_id": "ag",
                                                                          "session_id": "s"}]}
    # as Agno's rules go, a run with both ids is an agent run (its team_id goes)
    [both] = convert_runs([{"run_id": "b", "agent_id": "ag", "team_id": "tm"}], "s")
    assert both == {"run_id": "b", "agent_id": "ag"}


def test_nul_bytes_stripped_and_double_encoded_json_decoded():
    item = {"session_id": "s\x00", "user_id": "u", "agent_id": "a",
            "session_data": json.dumps(json.dumps({"name": "x\x00y"})),
            "memory": {"runs": [{"run_id": "r", "agent_id": "a", "content": "c\x00"}]}, "created_at": 5}
    row, runs = session_row("agent", item, now=99)
    assert row["session_id"] == "s" and row["session_data"] == {"name": "xy"} and row["created_at"] == 5
    assert runs == [{"run_id": "r", "agent_id": "a", "content": "c"}]
    assert "runs" not in row


def test_memory_row_from_sqlite_repr_and_postgres_json():
    text = "{'memory_id': 'm1', 'memory': 'likes \"tea\"', 'topics': ['food'], 'input': 'hi'}"
    row = memory_row({"id": "m1", "user_id": "u", "memory": text, "created_at": "2025-01-01 00:00:00",
                      "updated_at": None})
    assert row["memory_id"] == "m1" and row["memory"] == 'likes "tea"' and row["topics"] == ["food"]
    assert row["input"] == "hi" and row["created_at"] == 1_735_689_600 and row["updated_at"] == 1_735_689_600
    with pytest.raises(ValueError):
        memory_row({"id": "m2", "memory": "__import__('os')"})  # literal_eval, never eval
    older = memory_row({"id": "m3", "memory": {"memory": "x", "topic": "food"}, "created_at": 1})
    assert older["topics"] == ["food"] and older["updated_at"] == 1


def test_reference_timings_are_not_metrics():
    refs = {"references": [{"query": "q", "references": [{"doc": "d"}], "time": 0.25}]}
    assert convert_fields({"run_id": "r", "extra_data": refs}, "r") == {"run_id": "r", **refs}


def test_memory_entries_unwrapped_with_their_input():
    agent = {"message": {"role": "user", "content": "hi ✓"}, "messages": [],
             "response": {"run_id": "r1", "agent_id": "a", "content": "hello"}}
    assert unwrap_entry(agent, "agent") == (
        {"run_id": "r1", "agent_id": "a", "content": "hello", "input": {"input_content": "hi ✓"}}, "AgentMemory")
    team = {"message": {"content": "plan"}, "member_responses": [{"response": {"run_id": "m1", "agent_id": "a"}}],
            "response": {"run_id": "t1", "team_id": "t"}}
    run, form = unwrap_entry(team, "team")
    assert form == "TeamMemory" and run["member_responses"] == [{"run_id": "m1", "agent_id": "a"}]
    classic = {"input": {"topic": "Köln"}, "response": {"run_id": "w1", "workflow_id": "w"}}
    assert unwrap_entry(classic, "workflow") == ({"run_id": "w1", "workflow_id": "w", "input": {"topic": "Köln"}},
                                                 "WorkflowMemory")
    plain = {"run_id": "p", "agent_id": "a"}
    assert unwrap_entry(plain, "agent") == (plain, "memory.runs")
    # a classic workflow table's memory.runs, through session_row: every run id kept
    item = {"session_id": "s", "workflow_id": "w", "memory": {"runs": [classic, {"run_id": "w2", "workflow_id": "w"}]}}
    _, runs = session_row("workflow", item, now=1)
    assert [r["run_id"] for r in runs] == ["w1", "w2"]


def test_workflow_v2_step_outputs_metrics_and_name():
    step = {"step_name": "write", "content": "out", "executor_type": "agent", "images": None,
            "response": {"run_id": "x1", "agent_id": "a", "team_session_id": "s"},
            "metrics": {"step_name": "write", "executor_type": "agent", "metrics": {"input_tokens": 1, "time": 2.0}}}
    run = {"run_id": "w1", "workflow_id": "w", "workflow_name": "P", "step_responses": [step, [dict(step)]],
           "workflow_metrics": {"total_steps": 1, "steps": {"write": step["metrics"]}}}
    item = {"session_id": "s", "workflow_id": "w", "workflow_name": "Pipeline ✓", "workflow_data": {"id": "w"},
            "runs": [run]}
    row, [out] = session_row("workflow", item, now=1)
    assert row["workflow_data"] == {"id": "w", "name": "Pipeline ✓"}
    assert "step_responses" not in out and "workflow_metrics" not in out
    assert out["step_results"] == 2 * [{"step_name": "write", "content": "out", "executor_type": "agent",
                                        "step_run_id": "x1", "metrics": {"input_tokens": 1, "duration": 2.0}}]
    assert out["step_executor_runs"] == 2 * [{"run_id": "x1", "agent_id": "a", "session_id": "s"}]
    assert out["metrics"]["steps"]["write"]["metrics"] == {"input_tokens": 1, "duration": 2.0}


def test_session_summaries_from_memory_v2_and_agent_memory():
    v2 = {"summaries": {"other": {"s0": {"summary": "not this"}},
                        "u": {"s1": {"summary": "this ✓", "topics": ["t"], "last_updated": "2025-01-01T00:00:00"}}}}
    row, _ = session_row("agent", {"session_id": "s1", "user_id": "u", "memory": v2}, now=1)
    assert row["summary"] == {"summary": "this ✓", "topics": ["t"], "updated_at": "2025-01-01T00:00:00"}
    row, _ = session_row("agent", {"session_id": "s0", "user_id": "u", "memory": v2}, now=1)
    assert row["summary"] == {"summary": "not this"}  # kept under another user id: still this session's
    row, _ = session_row("team", {"session_id": "s2", "memory": {"summary": {"summary": "old", "topics": None}}}, 1)
    assert row["summary"] == {"summary": "old"}
    row, _ = session_row("agent", {"session_id": "s3", "memory": v2}, now=1)
    assert row["summary"] is None


# ------------------------------------------------------------------ the import, on hand-made v1 tables


def _v1_agent_table(md: sa.MetaData, schema: str | None) -> sa.Table:
    return sa.Table(
        "v1_agent", md,
        sa.Column("session_id", sa.String(255), primary_key=True),
        sa.Column("user_id", sa.String(255)), sa.Column("agent_id", sa.String(255)),
        sa.Column("memory", sa.Text), sa.Column("session_data", sa.Text), sa.Column("extra_data", sa.Text),
        sa.Column("agent_data", sa.Text), sa.Column("team_session_id", sa.String(255)),
        sa.Column("created_at", sa.BigInteger), sa.Column("updated_at", sa.BigInteger),
        schema=schema,
    )


def test_unreadable_rows_are_reported_not_dropped(sqlite_backend):
    b = sqlite_backend
    SyncMigrationManager(b.url).up(create_missing=True)
    t = _v1_agent_table(sa.MetaData(), None)
    with b.engine.begin() as c:
        t.create(c)
        c.execute(t.insert(), [
            {"session_id": "s1", "agent_id": "a", "memory": json.dumps({"runs": [{"run_id": "r1", "agent_id": "a"}]}),
             "created_at": 1},
            {"session_id": "s2", "agent_id": "a", "memory": "{not json", "created_at": 2},
            {"session_id": "s3", "agent_id": "a", "memory": None, "created_at": 3},
        ])
    with b.engine.connect() as c:
        summary = import_v1(c, registry.SQLITE, b.names, agent_sessions="v1_agent", batch=1)
    [report] = summary.tables
    assert (report.read, report.inserted, report.runs_inserted) == (3, 2, 1)
    assert summary.skipped == [("v1_agent", "s2", "cannot convert: ValueError: not JSON: '{not json'")]
    assert not summary.ok and "1 skipped" in str(summary)


def test_another_users_session_is_skipped_and_created_at_kept(sqlite_backend):
    b = sqlite_backend
    SyncMigrationManager(b.url).up(create_missing=True)
    t = _v1_agent_table(sa.MetaData(), None)
    sessions = shapes.spec("sessions", registry.SQLITE, registry.LATEST_VERSION, b.names).sa_table()
    with b.engine.begin() as c:
        t.create(c)
        c.execute(t.insert(), [
            {"session_id": "mine", "user_id": "u1", "agent_id": "a", "created_at": None, "updated_at": 7,
             "memory": json.dumps({"runs": [{"run_id": "r-mine", "agent_id": "a"}]})},
            {"session_id": "theirs", "user_id": "u1", "agent_id": "a", "created_at": 1, "updated_at": None,
             "memory": json.dumps({"runs": [{"run_id": "r-theirs", "agent_id": "a"}]})},
        ])
        c.execute(sessions.insert(), [{"session_id": "theirs", "session_type": "agent", "user_id": "u2",
                                       "created_at": 5}])
    with b.engine.connect() as c:
        summary = import_v1(c, registry.SQLITE, b.names, agent_sessions="v1_agent")
    assert summary.skipped == [
        ("v1_agent", "theirs", "session_id already in agno_sessions for another user_id"),
        ("v1_agent", "theirs", "1 memory.runs run(s) of a skipped session"),
    ]
    with b.engine.connect() as c:
        rows = {r.session_id: (r.user_id, r.created_at) for r in c.execute(sa.select(sessions))}
        runs = c.exec_driver_sql("SELECT run_id FROM agno_runs").scalars().all()
    assert rows == {"mine": ("u1", 7), "theirs": ("u2", 5)}  # no created_at in v1: its updated_at
    assert runs == ["r-mine"]


_MOVE_RUN = {  # a trigger that files one run under another id: a write that does not land where it should
    "sqlite": ["CREATE TRIGGER v1_move AFTER INSERT ON {runs} WHEN NEW.run_id = 'r-lost' "
               "BEGIN UPDATE {runs} SET run_id = 'r-lost-moved' WHERE run_id = NEW.run_id; END"],
    "postgres": ["CREATE FUNCTION {schema}.v1_move() RETURNS trigger AS $$ BEGIN IF NEW.run_id = 'r-lost' THEN "
                 "NEW.run_id := 'r-lost-moved'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
                 "CREATE TRIGGER v1_move BEFORE INSERT ON {runs} FOR EACH ROW EXECUTE FUNCTION {schema}.v1_move()"],
    "mysql": ["CREATE TRIGGER {schema}.v1_move BEFORE INSERT ON {runs} FOR EACH ROW BEGIN IF NEW.run_id = 'r-lost' "
              "THEN SET NEW.run_id = 'r-lost-moved'; END IF; END"],
}


def test_runs_missing_after_the_write_are_an_error(backend):
    """The import reads back the run ids it wrote: one that is not in the runs table fails it, by count and id."""
    from agno_alembic import V1ImportIncompleteError

    SyncMigrationManager(backend.url, db_schema=backend.schema).up(create_missing=True)
    t = _v1_agent_table(sa.MetaData(), backend.schema)
    q = sa.create_engine("sqlite://").dialect.identifier_preparer.quote if backend.kind != "mysql" else (
        lambda name: f"`{name}`")
    schema = q(backend.schema) if backend.schema else ""
    runs = f"{schema}.{q('agno_runs')}" if schema else q("agno_runs")
    with backend.engine.begin() as c:
        t.create(c)
        c.execute(t.insert(), [{"session_id": "s1", "agent_id": "a", "created_at": 1, "memory": json.dumps(
            {"runs": [{"run_id": "r-kept", "agent_id": "a"}, {"run_id": "r-lost", "agent_id": "a"}]})}])
        for statement in _MOVE_RUN[backend.kind]:
            c.exec_driver_sql(statement.format(runs=runs, schema=schema))
    with backend.engine.connect() as c, pytest.raises(V1ImportIncompleteError) as caught:
        import_v1(c, BACKEND[backend.kind], backend.names, agent_sessions="v1_agent")
    err = caught.value
    assert (err.table, err.runs_table, err.expected, err.missing, err.first_missing) == (
        "v1_agent", "agno_runs", 2, 1, ("r-lost",))
    assert "1 of 2 run(s) read are not in agno_runs (first missing: r-lost)" in str(err)


def test_target_tables_must_be_up(sqlite_backend):
    with sqlite_backend.engine.connect() as c, pytest.raises(ConfigurationError, match="run up"):
        import_v1(c, registry.SQLITE, sqlite_backend.names, memories="v1_memories")


def test_missing_v1_table_stops_loudly(sqlite_backend):
    SyncMigrationManager(sqlite_backend.url).up(create_missing=True)
    with sqlite_backend.engine.connect() as c:
        summary = import_v1(c, registry.SQLITE, sqlite_backend.names, team_sessions="nope")
    assert summary.errors == ["nope: v1 table nope not found"]


# ------------------------------------------------------------------ real agno 1.8.4 tables, end to end


def _seed_v1(target: Target) -> dict[str, Any]:
    try:
        python = harness.agno_python(V1_RELEASE)
    except harness.HarnessError as exc:  # no network for the venv: say so
        pytest.skip(f"agno {V1_RELEASE} venv unavailable: {exc}")
    with tempfile.TemporaryDirectory(prefix="agno-alembic-v1-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [str(python), "-B", str(V1_WORKER), "seed-v1", *target.worker_options(), "--out", str(out),
               "--sessions", str(SESSIONS)]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=harness.WORKER_TIMEOUT)
        assert proc.returncode == 0 and out.exists(), proc.stdout + proc.stderr
        report = json.loads(out.read_text(encoding="utf-8"))
    assert report["ok"], report.get("error")
    return report


_READ_BACK = """
import json, sys
sys.path.insert(0, sys.argv[1])
from agno_worker import make_db
from agno.db.base import SessionType
db = make_db(sys.argv[2], sys.argv[3], sys.argv[4] or None)
out = {"sessions": {}, "memories": {}, "summaries": {}, "runs": {}, "workflow_names": {}, "summary_text": []}
for st in (SessionType.AGENT, SessionType.TEAM, SessionType.WORKFLOW):
    for s in db.get_sessions(session_type=st):
        full = db.get_session(s.session_id, session_type=st)
        out["sessions"][s.session_id] = [st.value, [r.run_id for r in full.runs or []]]
        summary = getattr(full, "summary", None)
        if isinstance(summary, str):  # agno 3.1.10 on MariaDB: a reflected LONGTEXT column, not decoded
            summary = json.loads(summary)
            if summary is not None:
                out["summary_text"].append(s.session_id)
                out["summaries"][s.session_id] = {"summary": summary["summary"], "topics": summary.get("topics")}
        elif summary is not None:
            out["summaries"][s.session_id] = {"summary": summary.summary, "topics": summary.topics}
        if st == SessionType.WORKFLOW:
            data = full.workflow_data  # JSON text on MariaDB, as the summary
            out["workflow_names"][s.session_id] = (json.loads(data) if isinstance(data, str) else data).get("name")
        listed = [r.run_id for r in db.get_runs(session_id=s.session_id)]
        for run_id in listed:
            run = db.get_run(run_id)
            text = getattr(run.input, "input_content", run.input) if getattr(run, "input", None) is not None else None
            out["runs"][run_id] = {
                "session": s.session_id, "type": type(run).__name__, "input": text,
                "steps": [[o.content, o.step_run_id] for o in getattr(run, "step_results", None) or []],
                "executors": [r.run_id for r in getattr(run, "step_executor_runs", None) or []],
                "reference_times": [r.time for r in getattr(run, "references", None) or []],
            }
for m in db.get_user_memories():
    out["memories"][m.memory_id] = {"memory": m.memory, "topics": m.topics, "input": m.input, "user_id": m.user_id}
print(json.dumps(out))
"""


def _agno_reads(target: Target) -> dict[str, Any]:
    python = harness.agno_python(harness.AGNO_LATEST)
    proc = subprocess.run(
        [str(python), "-B", "-c", _READ_BACK, str(Path(__file__).resolve().parent), target.kind,
         target.agno_target, target.schema or ""],
        check=False, capture_output=True, text=True, timeout=harness.WORKER_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _dump(engine: sa.Engine, schema: str | None, tables: list[str]) -> dict[str, list[tuple]]:
    out = {}
    with engine.connect() as c:
        for name in tables:
            t = sa.Table(name, sa.MetaData(), autoload_with=c, schema=schema)
            pk = [col for col in t.primary_key.columns] or list(t.columns)[:1]
            out[name] = [tuple(r) for r in c.execute(sa.select(t).order_by(*pk))]
    return out


def _import_all(backend: Any, seeded: dict[str, Any], batch: int) -> list[Any]:
    """Every seeded v1 table imported: the workflow v2 table with the others, then the classic workflow table."""
    tables = seeded["tables"]
    kind = BACKEND[backend.kind]
    with backend.engine.connect() as c:
        main = import_v1(c, kind, backend.names, batch=batch, agent_sessions=tables["agent"],
                         team_sessions=tables["team"], workflow_sessions=tables["workflow"],
                         memories=tables.get("memories"))
        classic = import_v1(c, kind, backend.names, batch=batch, workflow_sessions=tables["workflow_classic"])
    return [main, classic]


def test_agno_1_8_4_tables_import_completely_and_idempotently(backend):
    """Agno 1.8.4's own agent, team, classic and v2 workflow sessions (memory v2, ``AgentMemory``, ``TeamMemory``,
    ``WorkflowMemory``), memories:
    every run readable through agno 3.1.10's ``get_run``/``get_runs``, summaries too, a re-run changes nothing."""
    target = Target.of(backend)
    seeded = _seed_v1(target)
    v1_tables = list(seeded["tables"].values())
    SyncMigrationManager(backend.url, db_schema=backend.schema).up(create_missing=True)
    names: Names = backend.names
    v1_before = _dump(backend.engine, backend.schema, v1_tables)

    first = _import_all(backend, seeded, batch=2)
    kinds = ("agent", "team", "workflow", "workflow_classic")
    all_runs = [r for k in kinds for r in seeded["runs"][k]]
    sessions = [s for k in kinds for s in seeded["sessions"][k]]
    assert not any(summary.errors for summary in first)
    # the one run seeded without a run_id is the only thing not imported, and it is reported with its session
    assert [s for summary in first for s in summary.skipped] == [
        (seeded["tables"]["agent"], "agent-session-000",
         "memory.runs run without run_id (not importable into the runs table)")]
    assert sum(t.inserted for summary in first for t in summary.tables) == len(sessions) + len(seeded["memories"])
    assert sum(t.runs_inserted for summary in first for t in summary.tables) == len(all_runs)
    forms = {(t.table, form): (c.read, c.inserted, c.skipped) for summary in first for t in summary.tables
             for form, c in t.run_forms.items()}
    agent_table, classic_table = seeded["tables"]["agent"], seeded["tables"]["workflow_classic"]
    assert forms[(agent_table, "AgentMemory")] == (2, 2, 0)  # {"message", "response"} entries
    assert forms[(seeded["tables"]["team"], "TeamMemory")] == (1, 1, 0)  # {"message", "member_responses", ...}
    assert forms[(classic_table, "WorkflowMemory")] == (2, 2, 0)  # {"input", "response"} entries
    assert forms[(classic_table, "memory.runs")] == (2, 2, 0)  # a classic workflow on memory v2
    assert forms[(seeded["tables"]["workflow"], "runs column")][1] == len(seeded["runs"]["workflow"])
    assert "AgentMemory: 2 read, 2 inserted, 0 already there, 0 skipped" in str(first[0])

    targets = [names.table("sessions"), names.table("runs"), names.table("memories")]
    after_first = _dump(backend.engine, backend.schema, targets)
    second = _import_all(backend, seeded, batch=3)
    assert sum(s.written for s in second) == 0
    assert sum(t.runs_inserted for s in second for t in s.tables) == 0
    assert sum(t.runs_existing for s in second for t in s.tables) == len(all_runs)
    assert sum(t.unchanged for s in second for t in s.tables) == len(sessions) + len(seeded["memories"])
    assert _dump(backend.engine, backend.schema, targets) == after_first
    assert _dump(backend.engine, backend.schema, v1_tables) == v1_before  # the v1 tables are untouched

    # every session, run, summary and memory, as agno 3.1.10 itself reads them
    read = _agno_reads(target)
    by_session = {sid: k for k in kinds for sid in seeded["sessions"][k]}
    assert set(read["sessions"]) == set(by_session)
    assert sorted(read["runs"]) == sorted(all_runs)  # get_runs(session_id=...) then get_run(run_id) of each
    for sid, (session_type, run_ids) in read["sessions"].items():
        assert session_type == ("workflow" if by_session[sid].startswith("workflow") else by_session[sid])
        assert sorted(run_ids) == sorted(r for r, v in read["runs"].items() if v["session"] == sid)
    for run_id in seeded["runs"]["workflow_classic"]:
        assert read["runs"][run_id]["type"] == "WorkflowRunOutput"
    # AgentMemory's and TeamMemory's message, as the run's input
    assert {r: read["runs"][r]["input"] for r in seeded["inputs"]} == seeded["inputs"]
    for run_id, count in seeded["step_outputs"].items():  # workflow v2 step outputs, by 3.x's field
        steps = read["runs"][run_id]["steps"]
        assert len(steps) == count and steps[0][0] == "step output ✓"
        assert [s[1] for s in steps] == read["runs"][run_id]["executors"]
    for run_id in ("agent-session-000-run-0", "agent-session-001-run-1"):  # extra_data references, their timing
        assert read["runs"][run_id]["reference_times"] == [0.25]
    assert read["summaries"] == seeded["summaries"]
    # agno 3.1.10 itself hands MariaDB's summary back as JSON text (it decodes it on SQLite and PostgreSQL only)
    assert read["summary_text"] == (sorted(seeded["summaries"]) if backend.kind == "mysql" else [])
    assert read["workflow_names"]["real-workflow-v2"] == "Pipeline ✓"
    assert read["memories"] == seeded["memories"]

    if backend.kind == "sqlite":  # JSON written once-encoded: objects, never strings holding JSON text
        with backend.engine.connect() as c:
            types = c.exec_driver_sql(
                "SELECT DISTINCT json_type(session_data), json_type(metadata), json_type(agent_data) "
                f"FROM {names.table('sessions')} WHERE session_type = 'agent'").all()
            assert set(types) <= {("object", "object", "object"), ("object", "null", "object")}  # no extra_data
            assert c.exec_driver_sql(f"SELECT DISTINCT json_type(run_data) FROM {names.table('runs')}").all() == [
                ("object",)]
            assert c.exec_driver_sql(f"SELECT DISTINCT json_type(topics) FROM {names.table('memories')}").all() == [
                ("array",)]


@pytest.mark.parametrize("front", ["sync", "async"])
def test_facade_brings_tables_up_then_imports(backend, front):
    """``import_v1`` on the facade: an empty target is brought to the latest version first, then filled."""
    import asyncio

    from agno_alembic import MigrationManager

    t = _v1_agent_table(sa.MetaData(), backend.schema)
    with backend.engine.begin() as c:
        if backend.schema and backend.kind == "postgres":
            c.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{backend.schema}"')
        t.create(c)
        c.execute(t.insert(), [{"session_id": "s1", "agent_id": "a", "created_at": 1,
                                "memory": json.dumps({"runs": [{"run_id": "r1", "agent_id": "a"}]})}])
    if front == "sync":
        summary = SyncMigrationManager(backend.url, db_schema=backend.schema or "").import_v1(agent_sessions="v1_agent")
    else:
        mm = MigrationManager(backend.async_url(), db_schema=backend.schema or "")
        summary = asyncio.run(mm.import_v1(agent_sessions="v1_agent"))
    assert summary.ok, str(summary)
    runs = sa.table("agno_runs", sa.column("run_id"), sa.column("session_id"), schema=backend.schema)
    with backend.engine.connect() as c:
        assert c.execute(sa.select(runs.c.run_id, runs.c.session_id)).all() == [("r1", "s1")]


def test_cli_import_v1_prints_the_summary_and_exits_by_outcome(sqlite_backend, tmp_path):
    import subprocess
    import sys

    b = sqlite_backend
    t = _v1_agent_table(sa.MetaData(), None)
    with b.engine.begin() as c:
        t.create(c)
        c.execute(t.insert(), [
            {"session_id": "s1", "agent_id": "a", "created_at": 1,
             "memory": json.dumps({"runs": [{"run_id": "r1", "agent_id": "a"}]})},
            {"session_id": "s2", "agent_id": "a", "memory": "{not json", "created_at": 2},
        ])
    cmd = [sys.executable, "-m", "agno_alembic.cli", "import-v1", "--db-url", b.url, "--agent-sessions", "v1_agent"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 3, done.stderr  # one row skipped: refused, with the reason printed
    assert "s2" in done.stdout and "1 skipped" in done.stdout
    runs = sa.table("agno_runs", sa.column("run_id"))
    with b.engine.connect() as c:
        assert c.execute(sa.select(runs.c.run_id)).scalars().all() == ["r1"]
    missing = subprocess.run([*cmd[:5]], capture_output=True, text=True, cwd=tmp_path)
    assert missing.returncode == 2 and "--agent-sessions" in missing.stderr
