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
    from agno.models.message import Message, MessageMetrics
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
            references=[],
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
    from agno.storage.session.workflow import WorkflowSession

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

        # classic v1 workflow sessions (their memory holds no importable runs)
        cid = f"classic-session-{i:03d}"
        classic.upsert(WorkflowSession(
            session_id=cid, workflow_id="wf-classic", user_id="user-1",
            memory={"runs": [{"input": {"x": 1}, "response": {"content": "ok"}}]},
            workflow_data={"name": "classic"}, session_data={"session_name": f"classic {i}"},
        ))
        report["sessions"]["workflow_classic"].append(cid)

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
    return report


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
