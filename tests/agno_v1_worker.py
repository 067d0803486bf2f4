"""Runs INSIDE agno 1.8.4's venv (started by ``tests/test_v1.py``), never in the project venv.

Mode ``seed-v1``: agno 1.x's own storage classes (``SqliteStorage`` / ``PostgresStorage`` / ``MySQLStorage`` in
modes ``agent``, ``team``, ``workflow`` and ``workflow_v2``) and memory v2 databases (``SqliteMemoryDb`` /
``PostgresMemoryDb``; agno 1.x has none for MySQL) create their tables and store sessions, runs and memories
through their public ``upsert`` / ``upsert_memory`` calls.  The runs are agno 1.x ``RunResponse``,
``TeamRunResponse`` and ``WorkflowRunResponse`` objects serialised by agno itself, with the v1 fields the import
converts (``thinking``, ``extra_data``, v1 metrics names, media, ``team_session_id``).

The JSON report lists the tables made and, per table, the session ids, run ids and memories stored.
Only agno's public behaviour is exercised; no agno code is copied.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from typing import Any

BASE_TS = 1_735_689_600  # 2025-01-01T00:00:00Z
TABLES = {
    "agent": "v1_agent_sessions",
    "team": "v1_team_sessions",
    "workflow": "v1_workflow_v2_sessions",
    "workflow_classic": "v1_workflow_sessions",
    "memories": "v1_memories",
}


def storage(backend: str, target: str, schema: str | None, table: str, mode: str) -> Any:
    if backend == "sqlite":
        from agno.storage.sqlite import SqliteStorage

        return SqliteStorage(table_name=table, db_file=target, mode=mode)
    if backend == "postgres":
        from agno.storage.postgres import PostgresStorage

        return PostgresStorage(table_name=table, schema=schema, db_url=target, mode=mode)
    from agno.storage.mysql import MySQLStorage

    return MySQLStorage(table_name=table, schema=schema, db_url=target, mode=mode)


def memory_db(backend: str, target: str, schema: str | None, table: str) -> Any:
    if backend == "sqlite":
        from agno.memory.v2.db.sqlite import SqliteMemoryDb

        return SqliteMemoryDb(table_name=table, db_file=target)
    if backend == "postgres":
        from agno.memory.v2.db.postgres import PostgresMemoryDb

        return PostgresMemoryDb(table_name=table, schema=schema, db_url=target)
    return None  # agno 1.x has no MySQL memory v2 database


def agent_run(session_id: str, index: int, *, team_session_id: str | None = None) -> Any:
    from agno.media import ImageArtifact
    from agno.models.message import Message, MessageMetrics, MessageReferences
    from agno.run.response import RunResponse, RunResponseExtraData

    created = BASE_TS + 60 * index
    return RunResponse(
        run_id=f"{session_id}-run-{index}",
        agent_id="agent-1",
        session_id=session_id,
        team_session_id=team_session_id,
        content=f"answer {index}",
        thinking=f"thinking {index}",
        created_at=created,
        messages=[
            Message(role="user", content=f"question {index}", created_at=created),
            Message(
                role="assistant", content=f"answer {index}", created_at=created + 1,
                metrics=MessageMetrics(input_tokens=3, output_tokens=4, total_tokens=7, time=1.5, prompt_tokens=3,
                                       cached_tokens=1),
            ),
        ],
        metrics={"input_tokens": [3], "output_tokens": [4], "time": [1.5]},
        extra_data=RunResponseExtraData(
            add_messages=[Message(role="user", content="extra context", created_at=created)],
            references=[MessageReferences(query=f"tea {index}", references=[{"doc": "tea.md"}], time=0.25)],
        ),
        images=[ImageArtifact(id=f"img-{index}", url=f"https://example.com/{index}.png", original_prompt="p")],
    )


def seed(backend: str, target: str, schema: str | None, sessions: int) -> dict[str, Any]:
    from agno.memory.v2.db.schema import MemoryRow
    from agno.memory.v2.schema import UserMemory
    from agno.run.team import TeamRunResponse
    from agno.run.v2.workflow import WorkflowRunResponse
    from agno.storage.session.agent import AgentSession
    from agno.storage.session.team import TeamSession
    from agno.storage.session.v2.workflow import WorkflowSession as WorkflowSessionV2

    report: dict[str, Any] = {"tables": {}, "sessions": {}, "runs": {}, "memories": {}}

    agent = storage(backend, target, schema, TABLES["agent"], "agent")
    team = storage(backend, target, schema, TABLES["team"], "team")
    workflow = storage(backend, target, schema, TABLES["workflow"], "workflow_v2")
    classic = storage(backend, target, schema, TABLES["workflow_classic"], "workflow")
    for kind, s in (("agent", agent), ("team", team), ("workflow", workflow), ("workflow_classic", classic)):
        s.create()
        report["tables"][kind] = TABLES[kind]
        report["sessions"][kind], report["runs"][kind] = [], []

    for i in range(sessions):
        # agent sessions: two runs each, the second one of an agent inside a team
        sid = f"agent-session-{i:03d}"
        runs = [agent_run(sid, 0).to_dict(), agent_run(sid, 1, team_session_id=sid).to_dict()]
        if i == 0:
            runs.append({"content": "a run without run_id", "agent_id": "agent-1"})  # not importable: no run_id
        agent.upsert(AgentSession(
            session_id=sid, agent_id="agent-1", user_id=f"user-{i % 2}",
            memory={"runs": runs, "messages": [], "summaries": None},
            agent_data={"name": "helper", "model": {"id": "gpt-4o", "provider": "OpenAI"}},
            session_data={"session_name": f"chat {i}",
                          "session_metrics": {"input_tokens": 6, "output_tokens": 8, "time": 3.0}},
            extra_data={"source": "v1"},
        ))
        report["sessions"]["agent"].append(sid)
        report["runs"]["agent"] += [r["run_id"] for r in runs if r.get("run_id")]

        # team sessions: one team run with an agent member response
        tid = f"team-session-{i:03d}"
        member = agent_run(tid, 5, team_session_id=tid).to_dict()
        member["team_id"] = "team-1"
        trun = TeamRunResponse(run_id=f"{tid}-run-0", team_id="team-1", session_id=tid, content="team answer",
                               created_at=BASE_TS + 5, metrics={"input_tokens": [1], "time": [0.5]})
        tdict = trun.to_dict()
        tdict["member_responses"] = [member]
        team.upsert(TeamSession(
            session_id=tid, team_id="team-1", user_id="user-0", memory={"runs": [tdict]},
            team_data={"name": "crew"}, session_data={"session_name": f"team chat {i}"},
        ))
        report["sessions"]["team"].append(tid)
        report["runs"]["team"].append(tdict["run_id"])

        # workflow v2 sessions: runs in their own column
        wid = f"workflow-session-{i:03d}"
        wrun = WorkflowRunResponse(run_id=f"{wid}-run-0", workflow_id="wf-1", session_id=wid, content="done",
                                   created_at=BASE_TS + 7)
        workflow.upsert(WorkflowSessionV2(
            session_id=wid, workflow_id="wf-1", workflow_name="pipeline", user_id="user-1", runs=[wrun],
            workflow_data={"name": "pipeline"}, session_data={"session_name": f"wf {i}"},
        ))
        report["sessions"]["workflow"].append(wid)
        report["runs"]["workflow"].append(wrun.run_id)

    mdb = memory_db(backend, target, schema, TABLES["memories"])
    if mdb is not None:
        mdb.create()
        report["tables"]["memories"] = TABLES["memories"]
        for i in range(sessions):
            mid = f"memory-{i:03d}"
            text = f"user {i % 2} likes tea {i}" + (" it's \"quoted\"" if i == 1 else "")
            memory = UserMemory(memory=text, topics=["food", "drinks"], input=f"I like tea {i}", memory_id=mid)
            mdb.upsert_memory(MemoryRow(id=mid, user_id=f"user-{i % 2}", memory=memory.to_dict()))
            report["memories"][mid] = {"memory": text, "topics": ["food", "drinks"], "input": f"I like tea {i}",
                                       "user_id": f"user-{i % 2}"}
    seed_real(backend, target, schema, report)
    return report


# ------------------------------------------------------------------ real runs: agno 1.8.4 itself, a scripted model


def scripted_model(replies: list[str]) -> Any:
    """A model that answers from a script, in order (no LLM, no network): agno's own run loop around it."""
    from agno.models.base import Model
    from agno.models.response import ModelResponse

    class Scripted(Model):
        def __init__(self) -> None:
            super().__init__(id="scripted", name="Scripted", provider="Scripted")
            self.script = list(replies)

        def _next(self) -> str:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

        def invoke(self, *args: Any, **kwargs: Any) -> Any:
            return self._next()

        async def ainvoke(self, *args: Any, **kwargs: Any) -> Any:
            return self._next()

        def invoke_stream(self, *args: Any, **kwargs: Any) -> Any:
            yield self._next()

        async def ainvoke_stream(self, *args: Any, **kwargs: Any) -> Any:
            yield self._next()

        def parse_provider_response(self, response: Any, **kwargs: Any) -> Any:
            return ModelResponse(role="assistant", content=response)

        def parse_provider_response_delta(self, response: Any) -> Any:
            return ModelResponse(role="assistant", content=response)

    return Scripted()


def _stored_runs(s: Any, session_id: str) -> list[dict[str, Any]]:
    """The runs list agno 1.8.4 wrote for a session, as its storage reads it back."""
    session = s.read(session_id)
    if getattr(session, "runs", None) is not None:  # workflow v2 sessions: their own column
        return [r if isinstance(r, dict) else r.to_dict() for r in session.runs]
    return list((session.memory or {}).get("runs") or [])


def _run_ids(entries: list[dict[str, Any]]) -> list[str]:
    """Run ids of stored entries: a run dict, or an ``AgentRun``/``TeamRun``/``WorkflowRun`` ``{..., response}``."""
    out = []
    for entry in entries:
        run = entry.get("response") if isinstance(entry.get("response"), dict) else entry
        if run.get("run_id"):
            out.append(run["run_id"])
    return out


def seed_real(backend: str, target: str, schema: str | None, report: dict[str, Any]) -> None:
    """Sessions written by agno 1.8.4's own Agent, Team, Workflow (classic and v2) and memory classes."""
    from agno.agent import Agent
    from agno.memory.agent import AgentMemory
    from agno.memory.summary import SessionSummary as AgentMemorySummary
    from agno.memory.team import TeamMemory
    from agno.memory.v2.memory import Memory
    from agno.memory.v2.schema import SessionSummary, UserMemory
    from agno.memory.workflow import WorkflowMemory
    from agno.run.response import RunResponse
    from agno.team import Team
    from agno.workflow import Workflow
    from agno.workflow.v2 import Step
    from agno.workflow.v2 import Workflow as WorkflowV2

    agent_storage = storage(backend, target, schema, TABLES["agent"], "agent")
    team_storage = storage(backend, target, schema, TABLES["team"], "team")
    wf_storage = storage(backend, target, schema, TABLES["workflow"], "workflow_v2")
    classic_storage = storage(backend, target, schema, TABLES["workflow_classic"], "workflow")
    summaries = report.setdefault("summaries", {})

    # an agent on memory v2 (agno 1.8.4's default), two runs, non-ASCII text, a session summary
    sid = "real-agent-ü"
    agent = Agent(agent_id="real-agent", name="Grüße", model=scripted_model(["Grüß Gott 👋", "東京は晴れ"]),
                  storage=agent_storage, user_id="user-ü", session_id=sid)
    agent.run("Wie geht's? ☕")
    agent.run("天気はどう")
    assert isinstance(agent.memory, Memory)
    agent.memory.summaries = {"user-ü": {sid: SessionSummary(summary="Begrüßung und Wetter 🌤", topics=["wetter"])}}
    agent.write_to_storage(session_id=sid, user_id="user-ü")
    report["sessions"]["agent"].append(sid)
    report["runs"]["agent"] += _run_ids(_stored_runs(agent_storage, sid))
    summaries[sid] = {"summary": "Begrüßung und Wetter 🌤", "topics": ["wetter"]}

    # an agent on 1.x's older AgentMemory: runs stored as {"message": ..., "response": {...}}
    sid = "real-agentmemory"
    old = Agent(agent_id="old-agent", model=scripted_model(["first ✓", "second ✓"]), memory=AgentMemory(),
                storage=agent_storage, user_id="user-1", session_id=sid)
    old.run("hello, AgentMemory")
    old.run("again — encore")
    old.memory.summary = AgentMemorySummary(summary="two greetings ✓", topics=["greeting"])
    old.write_to_storage(session_id=sid, user_id="user-1")
    entries = _stored_runs(agent_storage, sid)
    assert entries and all("response" in e for e in entries), entries
    report["sessions"]["agent"].append(sid)
    report["runs"]["agent"] += _run_ids(entries)
    report.setdefault("inputs", {}).update(
        {e["response"]["run_id"]: e["message"]["content"] for e in entries})
    summaries[sid] = {"summary": "two greetings ✓", "topics": ["greeting"]}

    # a team (memory v2) with one member, two runs
    tid = "real-team"
    member = Agent(agent_id="member", name="Member", model=scripted_model(["member says hi"]))
    team = Team(team_id="real-team", name="Crew", members=[member], model=scripted_model(["team: ça va", "done ✓"]),
                storage=team_storage, user_id="user-1", session_id=tid)
    team.run("plan the trip — Zürich")
    team.run("and back")
    report["sessions"]["team"].append(tid)
    report["runs"]["team"] += _run_ids(_stored_runs(team_storage, tid))

    # a team on 1.x's older TeamMemory: runs stored as {"message": ..., "member_responses": ..., "response": {...}}
    tid = "real-teammemory"
    old_team = Team(team_id="old-team", name="Old crew", members=[Agent(agent_id="m2", model=scripted_model(["ok"]))],
                    model=scripted_model(["équipe ✓"]), memory=TeamMemory(), storage=team_storage, user_id="user-1",
                    session_id=tid)
    old_team.run("bonjour l'équipe")
    entries = _stored_runs(team_storage, tid)
    assert entries and all("response" in e for e in entries), entries
    report["sessions"]["team"].append(tid)
    report["runs"]["team"] += _run_ids(entries)
    report["inputs"].update({e["response"]["run_id"]: e["message"]["content"] for e in entries})

    # classic workflows: memory v2 (plain runs in memory.runs) and WorkflowMemory ({"input", "response"})
    class Classic(Workflow):
        def run(self, topic: str) -> RunResponse:  # type: ignore[override]
            return RunResponse(content=f"wrote about {topic} ✍")

    for cid, memory in (("real-classic", None), ("real-classic-wfmemory", WorkflowMemory())):
        wf = Classic(workflow_id="classic-wf", name="Classic", storage=classic_storage, session_id=cid,
                     user_id="user-1", memory=memory)
        wf.run(topic="Köln")
        wf.run(topic="東京")
        entries = _stored_runs(classic_storage, cid)
        report["sessions"]["workflow_classic"].append(cid)
        report["runs"]["workflow_classic"] = report["runs"].get("workflow_classic", []) + _run_ids(entries)
        assert len(_run_ids(entries)) == 2, entries

    # a workflow v2: one agent step, two runs
    wid = "real-workflow-v2"
    step_agent = Agent(agent_id="step-agent", model=scripted_model(["step output ✓"]))
    wf2 = WorkflowV2(workflow_id="wf-v2", name="Pipeline ✓", steps=[Step(name="write", agent=step_agent)],
                     storage=wf_storage, session_id=wid, user_id="user-1")
    wf2.run(message="go — los")
    wf2.run(message="again")
    entries = _stored_runs(wf_storage, wid)
    report["sessions"]["workflow"].append(wid)
    report["runs"]["workflow"] += _run_ids(entries)
    report["step_outputs"] = {e["run_id"]: len(e.get("step_responses") or []) for e in entries}

    # memories through the memory v2 API (agno 1.x has no MySQL memory database)
    mdb = memory_db(backend, target, schema, TABLES["memories"])
    if mdb is not None:
        api = Memory(db=mdb)
        for i, text in enumerate(("mag Käse 🧀", "лубит чай")):
            mid = api.add_user_memory(UserMemory(memory=text, topics=["essen"], input=f"ввод {i}"), user_id="user-ü")
            report["memories"][mid] = {"memory": text, "topics": ["essen"], "input": f"ввод {i}", "user_id": "user-ü"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["seed-v1"])
    parser.add_argument("--backend", required=True, choices=["sqlite", "postgres", "mysql"])
    parser.add_argument("--target", required=True)
    parser.add_argument("--db-schema")
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        report = {"ok": True, **seed(args.backend, args.target, args.db_schema, args.sessions)}
    except Exception as exc:
        report = {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc),
                                         "traceback": traceback.format_exc()}}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
