"""Import Agno 1.x storage tables into the current (3.0.0) schema: sessions, their runs, and memories.

Agno 1.x kept one table per kind of session (``AgentStorage``/``TeamStorage``/``WorkflowStorage`` classes such as
``SqliteStorage``, ``PostgresStorage``, ``MySQLStorage``) and, for memory v2, one memories table
(``SqliteMemoryDb``, ``PostgresMemoryDb``).  :func:`import_v1` reads those tables (never writing to them) and
writes:

* one sessions row per v1 session (``session_type`` ``agent``/``team``/``workflow``), upserted by ``session_id``;
* the session's runs into the runs table, with the rules of the 3.0.0 data step
  (:func:`agno_alembic.data.runs.build_rows`); a run already in the runs table wins;
* one memories row per v1 memory, keyed by the v1 row's own ``id`` so a re-run upserts the same rows.

Agno's v1 -> v2 field conversions (its ``v1_to_v2`` module; the rules are re-stated here, not copied):

* runs come from ``memory["runs"]`` (agent, team and classic workflow sessions) or the ``runs`` column (workflow
  v2 sessions); agent runs lose ``team_id`` and take ``team_session_id`` as ``session_id`` (``event`` becoming
  ``events``); team runs lose ``agent_id``, and so do the ``team_id``/``team_session_id`` of their agent member
  responses;
* every object, recursively: ``team_session_id``, ``formatted_tool_calls``, ``event``, ``events`` and
  ``extra_data`` are dropped, ``extra_data``'s ``add_messages`` (as ``additional_input``), ``references``,
  ``reasoning_steps``, ``reasoning_content`` and ``reasoning_messages`` lifted to the object, ``thinking`` merged
  into ``reasoning_content``; media (``images``, ``videos``, ``audio``, ``response_audio``) get an ``id``,
  ``length`` becomes ``duration``, ``base64_audio`` becomes ``content``, ``format`` sets ``mime_type``;
* metrics objects (a deprecated v1 key, at least two metric keys, or the value of a ``metrics`` key) rename
  ``time``, ``audio_tokens``, ``input_audio_tokens``, ``output_audio_tokens``, ``cached_tokens`` and drop
  ``prompt_tokens``, ``completion_tokens`` and their ``*_details``;
* NUL characters are stripped from every string.

Where Agno's script goes wrong (AGNO_MIGRATIONS.md section 4.4), this import differs on purpose (docs/v1-import.md
lists what is carried and what is still lost, with the reasons):

* runs are written to the runs table (Agno 3.x drops them), from every form agno 1.x stored them in: plain runs,
  and the ``{"message" | "input": ..., "response": {run}}`` entries of ``AgentMemory``, ``TeamMemory`` and classic
  ``WorkflowMemory`` (:func:`unwrap_entry`); the summary counts them per form, and before it reports success the
  import reads back every run id it read (:class:`~agno_alembic.errors.V1ImportIncompleteError` otherwise);
* session summaries go to the ``summary`` column, workflow v2 ``step_responses`` to ``step_results`` (with
  ``step_executor_runs``), ``workflow_metrics`` to ``metrics``, ``workflow_name`` to ``workflow_data["name"]``;
  ``MessageReferences`` keep their ``time`` (it is not a metric);
* memory ids are the v1 ids and ``memory`` is the memory's text with its own ``topics`` and ``input`` (Agno
  regenerates ids, stores the whole v1 dict and loses the topics), ``created_at`` is the v1 row's;
* JSON read from SQLite/MySQL text columns is decoded before it is converted and written once-encoded;
  SQLite memory v2 rows (a Python ``repr`` of a dict, which Agno 1.x reads back with ``eval``) are parsed with
  :func:`ast.literal_eval`;
* media ids are derived from the run id and the media's position (``uuid5``), not random, so a re-run writes the
  same run data; AudioResponse ``content`` stays base64 text (bytes cannot be stored in JSON);
* the v1 tables are read with keyset pagination ordered by their primary key (Agno uses ``LIMIT``/``OFFSET``
  without ``ORDER BY``), and a row that cannot be converted is reported, not silently dropped;
* a session whose ``session_id`` already belongs to another user in the target is skipped and reported (Agno's
  upsert silently refuses the update).

The target tables must exist at the latest schema (run ``up()`` first; :func:`import_v1` checks and raises
:class:`~agno_alembic.errors.ConfigurationError` otherwise).  Each batch is one transaction.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import datetime
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from agno_alembic import registry, shapes
from agno_alembic.data import runs as runs_data
from agno_alembic.errors import ConfigurationError, V1ImportIncompleteError
from agno_alembic.naming import Names

log = logging.getLogger("agno_alembic")

__all__ = [
    "ImportSummary", "RunCounts", "TableImport", "convert_fields", "convert_runs", "import_v1", "memory_row",
    "session_row", "unwrap_entry",
]

SESSION_KINDS = ("agent", "team", "workflow")
_MEDIA_NAMESPACE = uuid.UUID("6f1d3c52-4f0c-5d6e-9a55-0c1b7e1a9f10")

# ------------------------------------------------------------------ the summary


@dataclass
class RunCounts:
    """The runs of one stored form in one v1 table."""

    read: int = 0
    inserted: int = 0
    existing: int = 0
    skipped: int = 0

    def text(self) -> str:
        return f"{self.read} read, {self.inserted} inserted, {self.existing} already there, {self.skipped} skipped"


@dataclass
class TableImport:
    """What happened to one v1 table."""

    table: str
    kind: str  # agent | team | workflow | memories
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    runs_read: int = 0
    runs_inserted: int = 0
    runs_existing: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """``(row key, reason)`` of every row (or run) not written."""
    error: str | None = None
    """A read error that stopped this table early (rows after it were not read)."""
    run_forms: dict[str, RunCounts] = field(default_factory=dict)
    """Runs per form they were stored in (``memory.runs``, ``AgentMemory``, ``TeamMemory``, ``WorkflowMemory``,
    ``runs column``): read, inserted, already there, skipped."""
    run_ids: list[str] = field(default_factory=list, repr=False)
    """Ids of the runs read from sessions that were written: each must be in the runs table at the end."""

    def form(self, name: str) -> RunCounts:
        return self.run_forms.setdefault(name, RunCounts())

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def line(self) -> str:
        text = (
            f"{self.table} ({self.kind}): {self.read} read, {self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped"
        )
        if self.kind != "memories":
            text += f"; runs: {self.runs_read} read, {self.runs_inserted} inserted, {self.runs_existing} already there"
            if self.run_forms:
                text += " (" + "; ".join(f"{k}: {v.text()}" for k, v in sorted(self.run_forms.items())) + ")"
        if self.error:
            text += f"; STOPPED: {self.error}"
        return text


@dataclass
class ImportSummary:
    """The closing summary of :func:`import_v1`: per v1 table, rows read, written and skipped (with reasons)."""

    tables: list[TableImport] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(t.read for t in self.tables)

    @property
    def written(self) -> int:
        return sum(t.written for t in self.tables)

    @property
    def skipped(self) -> list[tuple[str, str, str]]:
        """``(table, key, reason)`` of every skipped row or run."""
        return [(t.table, key, reason) for t in self.tables for key, reason in t.skipped]

    @property
    def errors(self) -> list[str]:
        return [f"{t.table}: {t.error}" for t in self.tables if t.error]

    @property
    def ok(self) -> bool:
        """Every row read was written or already there, and no table stopped early."""
        return not self.skipped and not self.errors

    def lines(self) -> list[str]:
        out = [t.line() for t in self.tables]
        out += [f"  skipped {table} {key}: {reason}" for table, key, reason in self.skipped]
        out.append(
            f"total: {self.read} read, {self.written} written, {len(self.skipped)} skipped, "
            f"{len(self.errors)} table(s) stopped early"
        )
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


# ------------------------------------------------------------------ conversions (Agno's v1 -> v2 rules)

_DROPPED = ("team_session_id", "formatted_tool_calls", "event", "events")
_LIFTED = {
    "add_messages": "additional_input",
    "references": "references",
    "reasoning_steps": "reasoning_steps",
    "reasoning_content": "reasoning_content",
    "reasoning_messages": "reasoning_messages",
}
_MEDIA_FIELDS = ("images", "videos", "audio", "response_audio")
_MIME = {
    "mp4": "video/mp4", "mov": "video/quicktime", "avi": "video/x-msvideo", "webm": "video/webm",
    "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "png": "image/png", "jpg": "image/jpeg",
    "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
}
_METRIC_RENAMES = {
    "time": "duration",
    "audio_tokens": "audio_total_tokens",
    "input_audio_tokens": "audio_input_tokens",
    "output_audio_tokens": "audio_output_tokens",
    "cached_tokens": "cache_read_tokens",
}
_METRIC_DROPPED = ("prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details")
_METRIC_KEYS = frozenset({
    "input_tokens", "output_tokens", "total_tokens", "time", "duration", "audio_tokens", "audio_total_tokens",
    "audio_input_tokens", "audio_output_tokens", "cached_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens", "prompt_tokens", "completion_tokens", "time_to_first_token", "provider_metrics",
    "additional_metrics",
})
_V1_METRIC_KEYS = frozenset({"time", "audio_tokens", "cached_tokens", "prompt_tokens", "completion_tokens"})


def _clean(value: Any) -> Any:
    """NUL characters stripped from strings (PostgreSQL refuses them in text and JSONB)."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def _metrics(data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for old, new in _METRIC_RENAMES.items():
        if old in out:
            out[new] = out.pop(old)
    for key in _METRIC_DROPPED:
        out.pop(key, None)
    # a workflow's metrics hold each step's (``steps``: name -> step metrics): converted as metrics too
    return {k: convert_fields(v, k) if k == "steps" and isinstance(v, dict) else _clean_deep(v) for k, v in out.items()}


def _is_metrics(data: Mapping[str, Any]) -> bool:
    keys = set(data)
    if "query" in keys and "references" in keys:  # MessageReferences: its ``time`` is the retrieval time, kept
        return False
    return bool(keys & _V1_METRIC_KEYS) or len(keys & _METRIC_KEYS) >= 2


def _clean_deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {_clean(k): _clean_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_deep(v) for v in value]
    return _clean(value)


def _media(item: Any, seed: str) -> Any:
    if not isinstance(item, dict):
        return item
    out = dict(item)
    if out.get("id") is None:
        out["id"] = str(uuid.uuid5(_MEDIA_NAMESPACE, seed))
    if "eta" in out or "length" in out:
        length = out.pop("length", None)
        if isinstance(length, int | float) and not isinstance(length, bool) and length:
            out["duration"] = length
        elif isinstance(length, str) and length:
            with contextlib.suppress(ValueError):
                out["duration"] = float(length)
    if "base64_audio" in out:
        audio = out.pop("base64_audio", None)
        if audio:
            out["content"] = audio
    fmt = out.get("format")
    if "mime_type" not in out and isinstance(fmt, str) and fmt.lower() in _MIME:
        out["mime_type"] = _MIME[fmt.lower()]
    return out


def _fields(data: Mapping[str, Any], seed: str) -> dict[str, Any]:
    """Agno's per-object v1 -> v2 field rules (not recursive; :func:`convert_fields` recurses)."""
    out = dict(data)
    extra = out.get("extra_data")
    if isinstance(extra, dict) and extra:
        for old, new in _LIFTED.items():
            if old in extra:
                out[new] = extra[old]
    thinking, reasoning = out.get("thinking"), out.get("reasoning_content")
    if thinking and reasoning:
        out["reasoning_content"] = f"{thinking}\n{reasoning}"
    elif thinking:
        out["reasoning_content"] = thinking
    out.pop("thinking", None)
    for name in _MEDIA_FIELDS:
        value = out.get(name)
        if isinstance(value, list) and value:
            out[name] = [_media(v, f"{seed}/{name}/{i}") for i, v in enumerate(value)]
        elif isinstance(value, dict) and value:
            out[name] = _media(value, f"{seed}/{name}")
    out.pop("extra_data", None)
    for name in _DROPPED:
        out.pop(name, None)
    return out


def convert_fields(data: Any, seed: str = "") -> Any:
    """Agno's v1 -> v2 conversion of any JSON value, recursively (fields, media, metrics, NUL bytes).

    ``seed`` makes the media ids deterministic: it names the value's place (a run id, a session id).
    """
    if isinstance(data, dict):
        data = _fields(data, seed)
        if _is_metrics(data):
            return _metrics(data)
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key == "metrics" and isinstance(value, dict):
                out[_clean(key)] = _metrics(value)
            else:
                out[_clean(key)] = convert_fields(value, f"{seed}/{key}")
        return out
    if isinstance(data, list):
        return [convert_fields(v, f"{seed}/{i}") for i, v in enumerate(data)]
    return _clean(data)


def _fix_run(run: Any) -> Any:
    """Agno's fix-ups of a v1 run before conversion: agent runs inside teams, team runs and their members."""
    if not isinstance(run, dict):
        return run
    run = dict(run)
    if run.get("agent_id") is not None:
        if run.get("team_id") is not None:
            run.pop("team_id")
        if run.get("team_session_id") is not None:
            run["session_id"] = run.pop("team_session_id")
            if run.get("event"):
                run["events"] = [run.pop("event")]
    if run.get("team_id") is not None:
        if run.get("agent_id") is not None:
            run.pop("agent_id")
        members = run.get("member_responses")
        if isinstance(members, list) and members:
            fixed = []
            for member in members:
                if isinstance(member, dict):
                    member = dict(member)
                    if member.get("agent_id") is not None and member.get("team_id") is not None:
                        member.pop("team_id")
                    if member.get("agent_id") is not None and member.get("team_session_id") is not None:
                        member["session_id"] = member.pop("team_session_id")
                fixed.append(member)
            run["member_responses"] = fixed
    return run


def convert_runs(runs: Any, session_id: str) -> list[Any]:
    """A v1 session's runs list, fixed up and converted (entries that are not objects are kept as they are)."""
    runs = _json(runs)
    if not isinstance(runs, list):
        return []
    out = []
    for index, run in enumerate(runs):
        fixed = _fix_run(run)
        seed = str(fixed.get("run_id") or f"{session_id}#{index}") if isinstance(fixed, dict) else session_id
        out.append(convert_fields(fixed, seed))
    return out


# ------------------------------------------------------------------ decoding what the v1 tables hold


def _json(value: Any) -> Any:
    """A JSON column's value as Python: text and bytes decoded (twice when encoded twice), dicts as they are."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode()
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            decoded = json.loads(value)
        except ValueError:
            raise ValueError(f"not JSON: {value[:80]!r}") from None
        if isinstance(decoded, str):  # JSON text stored as a JSON string (encoded twice)
            with contextlib.suppress(ValueError):
                return json.loads(decoded)
        return decoded
    return value


def _memory_json(value: Any) -> Any:
    """A memory v2 ``memory`` value: JSON (PostgreSQL JSONB), or the Python ``repr`` SQLite stores."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode()
    if isinstance(value, str):
        try:
            return _json(value)
        except ValueError:
            return ast.literal_eval(value)  # literals only: never eval
    return value


def _epoch(value: Any) -> int | None:
    """Seconds since the epoch from an int, float, numeric text or a datetime (naive: UTC, as SQLite's clock)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return int(value.timestamp())
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return int(float(text))
        except ValueError:
            return _epoch(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")))
    return None


# ------------------------------------------------------------------ the forms agno 1.x stored runs in

_ENTRY_FORMS = {"agent": "AgentMemory", "team": "TeamMemory", "workflow": "WorkflowMemory"}


def unwrap_entry(entry: Any, kind: str) -> tuple[Any, str]:
    """One stored runs-list entry as a run, and the form it was stored in.

    Agno 1.x's memory v2 (and workflow v2's ``runs`` column) store runs as they are; the older ``AgentMemory``,
    ``TeamMemory`` and classic ``WorkflowMemory`` store ``{"message" | "input": ..., "response": {run}}``, whose
    ``response`` is the run: its ``message`` content (``AgentRun``/``TeamRun``) or run arguments (``WorkflowRun``)
    becomes the run's ``input``, a ``TeamRun``'s member runs its ``member_responses`` when the response has none.
    """
    if not isinstance(entry, dict) or entry.get("run_id") is not None or not isinstance(entry.get("response"), dict):
        return entry, "memory.runs"
    run = dict(entry["response"])
    if run.get("input") is None:
        message = entry.get("message")
        if kind == "workflow" and entry.get("input") is not None:
            run["input"] = entry["input"]
        elif isinstance(message, dict) and message.get("content") is not None:
            run["input"] = {"input_content": message["content"]}
    members = entry.get("member_responses")
    if not run.get("member_responses") and isinstance(members, list) and members:
        responses = [m.get("response") if isinstance(m, dict) and isinstance(m.get("response"), dict) else m
                     for m in members]
        run["member_responses"] = [r for r in responses if isinstance(r, dict)]
    return run, _ENTRY_FORMS.get(kind, "memory.runs")


def _flat(items: Any) -> Iterator[Any]:
    for item in items:
        if isinstance(item, list):
            yield from _flat(item)
        else:
            yield item


def _step_output(step: Any) -> Any:
    """A workflow v2 ``StepOutput`` of agno 1.x as 3.x reads one: its executor run by id (``step_run_id``), its
    own metrics, parallel outputs as ``steps``."""
    if not isinstance(step, dict):
        return step
    out = {k: v for k, v in step.items() if k not in ("response", "parallel_step_outputs", "metrics") and v is not None}
    response = step.get("response")
    if isinstance(response, dict) and response.get("run_id") is not None and "step_run_id" not in out:
        out["step_run_id"] = response["run_id"]
    metrics = step.get("metrics")
    if isinstance(metrics, dict) and "step_name" in metrics:  # 1.x kept the step's StepMetrics: its own metrics
        metrics = metrics.get("metrics")
    if isinstance(metrics, dict):
        out["metrics"] = metrics
    parallel = step.get("parallel_step_outputs")
    if isinstance(parallel, dict) and parallel:
        out["steps"] = [_step_output(v) for v in parallel.values()]
    return out


def _step_runs(steps: Any) -> Iterator[dict[str, Any]]:
    for step in _flat(steps):
        if not isinstance(step, dict):
            continue
        if isinstance(step.get("response"), dict):
            yield _fix_run(step["response"])
        parallel = step.get("parallel_step_outputs")
        if isinstance(parallel, dict):
            yield from _step_runs(list(parallel.values()))


def _workflow_v2(run: Any) -> Any:
    """A workflow v2 run's agno 1.x fields under the names 3.x reads: ``step_responses`` as ``step_results`` (with
    the executors' runs as ``step_executor_runs``), ``workflow_metrics`` as ``metrics``."""
    if not isinstance(run, dict):
        return run
    run = dict(run)
    steps = run.get("step_responses")
    if isinstance(steps, list) and run.get("step_results") is None:
        run.pop("step_responses")
        run["step_results"] = [_step_output(s) for s in _flat(steps)]
        executors = list(_step_runs(steps))
        if executors and run.get("step_executor_runs") is None:
            run["step_executor_runs"] = executors
    metrics = run.get("workflow_metrics")
    if isinstance(metrics, dict) and isinstance(metrics.get("steps"), dict) and run.get("metrics") is None:
        run.pop("workflow_metrics")
        run["metrics"] = {k: v for k, v in metrics.items() if k in ("steps", "duration")}
    return run


def _summary(memory: Any, session_id: str, user_id: Any) -> dict[str, Any] | None:
    """The session's summary as 3.x stores it (``summary``, ``topics``, ``updated_at``): memory v2 keeps every
    summary it knows under ``summaries[user_id][session_id]``, ``AgentMemory`` its session's under ``summary``."""
    if not isinstance(memory, dict):
        return None
    found: Any = None
    summaries = memory.get("summaries")
    if isinstance(summaries, dict):
        users = [summaries.get(user_id)] + [v for k, v in summaries.items() if k != user_id]
        for per_user in users:
            if isinstance(per_user, dict) and isinstance(per_user.get(session_id), dict):
                found = per_user[session_id]
                break
    if found is None:
        found = memory.get("summary")
    if not isinstance(found, dict) or not isinstance(found.get("summary"), str):
        return None
    out: dict[str, Any] = {"summary": _clean(found["summary"])}
    if isinstance(found.get("topics"), list):
        out["topics"] = _clean_deep(found["topics"])
    updated = found.get("updated_at") or found.get("last_updated")
    if isinstance(updated, str):
        with contextlib.suppress(ValueError):
            out["updated_at"] = datetime.datetime.fromisoformat(updated).isoformat()
    return out


# ------------------------------------------------------------------ v1 rows -> current rows


def session_row(kind: str, item: Mapping[str, Any], now: int) -> tuple[dict[str, Any], list[Any]]:
    """A v1 session row as the current sessions row (without ``runs``) and its converted runs list."""
    row, runs = _session(kind, item, now)
    return row, [run for _, run in runs]


def _session(kind: str, item: Mapping[str, Any], now: int) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """:func:`session_row`, each run with the form it was stored in."""
    session_id = item.get("session_id")
    if session_id is None or session_id == "":
        raise ValueError("no session_id")
    session_id = _clean(str(session_id))
    data_column = f"{kind}_data"
    raw_data = _json(item.get(data_column))
    memory = _json(item.get("memory"))
    entries: list[tuple[str, Any]] = []
    if kind == "workflow":  # workflow v2: a runs column; classic workflows: memory.runs
        column = _json(item.get("runs"))
        entries += [("runs column", run) for run in column] if isinstance(column, list) else []
        name = _clean(item.get("workflow_name"))
        if name and (raw_data is None or (isinstance(raw_data, dict) and not raw_data.get("name"))):
            raw_data = {**(raw_data or {}), "name": name}  # 3.x keeps the workflow's name in workflow_data
    stored = memory.get("runs") if isinstance(memory, dict) else None
    if isinstance(stored, list):
        entries += [unwrap_entry(entry, kind)[::-1] for entry in stored]
    runs = []
    for index, (form, run) in enumerate(entries):
        fixed = _fix_run(_workflow_v2(run) if kind == "workflow" else run)
        seed = str(fixed.get("run_id") or f"{session_id}#{index}") if isinstance(fixed, dict) else session_id
        runs.append((form, convert_fields(fixed, seed)))
    created = _epoch(item.get("created_at"))
    updated = _epoch(item.get("updated_at"))
    row = {
        "session_id": session_id,
        "session_type": kind,
        "agent_id": None,
        "team_id": None,
        "workflow_id": None,
        "user_id": _clean(item.get("user_id")),
        "session_data": convert_fields(_json(item.get("session_data")), session_id),
        "agent_data": None,
        "team_data": None,
        "workflow_data": None,
        "metadata": convert_fields(_json(item.get("extra_data")), session_id),
        "summary": _summary(memory, session_id, item.get("user_id")) if kind != "workflow" else None,
        "created_at": created if created is not None else (updated if updated is not None else now),
        "updated_at": updated,
    }
    row[f"{kind}_id"] = _clean(item.get(f"{kind}_id"))
    row[data_column] = _clean_deep(raw_data) if raw_data else None
    return row, runs


def memory_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """A v1 memory row as a memories row.

    Memory v2 tables (``agno.memory.v2.db``) and the older agent-memory tables (``agno.memory.db``) share the
    shape ``id``, ``user_id``, ``memory`` (a dict: ``memory`` text, ``topics`` or ``topic``, ``input``),
    ``created_at``/``updated_at`` timestamps.
    """
    memory_id = item.get("id") if item.get("id") is not None else item.get("memory_id")
    if memory_id is None or memory_id == "":
        raise ValueError("no id")
    value = _memory_json(item.get("memory"))
    if isinstance(value, dict):
        text, topics, input_ = value.get("memory"), value.get("topics"), value.get("input")
        if not topics and isinstance(value.get("topic"), str) and value["topic"]:
            topics = [value["topic"]]  # the older agent-memory tables (agno.memory.db) had one topic
        last_updated = value.get("last_updated")
    else:
        text, topics, input_, last_updated = value, None, None, None
    if text is None:
        raise ValueError("memory has no text")
    created = _epoch(item.get("created_at"))
    updated = _epoch(item.get("updated_at")) or _epoch(last_updated) or created
    return {
        "memory_id": _clean(str(memory_id)),
        "memory": _clean_deep(text),
        "input": _clean(input_) if isinstance(input_, str) else None,
        "agent_id": None,
        "team_id": None,
        "user_id": _clean(item.get("user_id")),
        "topics": _clean_deep(topics) if topics else None,
        "updated_at": updated,
        "feedback": None,
        "created_at": created if created is not None else (updated if updated is not None else int(time.time())),
    }


# ------------------------------------------------------------------ reading v1 tables


def _pages(
    connection: sa.Connection, table: str, schema: str | None, key: str, batch: int
) -> Iterator[list[dict[str, Any]]]:
    """Pages of a v1 table's rows, keyset-paginated by ``key`` (its primary key), each read in its transaction."""
    columns = [c["name"] for c in sa.inspect(connection).get_columns(table, schema=schema)]
    if key not in columns:
        raise ConfigurationError(f"{table} has no {key} column: not an Agno 1.x table", option=table)
    t = sa.table(table, *(sa.column(c) for c in columns), schema=schema)
    after: Any = None
    while True:
        query = sa.select(*t.c).order_by(t.c[key]).limit(batch)
        if after is not None:
            query = query.where(t.c[key] > after)
        rows = [dict(r._mapping) for r in connection.execute(query)]
        if not rows:
            return
        yield rows
        after = rows[-1][key]
        if len(rows) < batch:
            return


# ------------------------------------------------------------------ writing


_PART = 500
"""Keys per ``IN`` list and rows per multi-row insert: well under every backend's bound-parameter limit."""


def _parts(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _PART):
        yield items[start:start + _PART]


def _same(a: Any, b: Any) -> bool:
    return bool(_json_or(a) == _json_or(b))


def _json_or(value: Any) -> Any:
    if isinstance(value, str | bytes | bytearray):
        try:
            return _json(value)
        except ValueError:
            return value
    return value


def _upsert(
    connection: sa.Connection,
    table: sa.Table,
    key: str,
    rows: Sequence[dict[str, Any]],
    report: TableImport,
    *,
    keep_on_update: tuple[str, ...] = (),
    owned_by: str | None = None,
) -> set[str]:
    """Insert new rows, update changed ones, count unchanged ones; returns the keys written or already equal.

    ``owned_by``: a row whose existing value of that column is set and differs is skipped (another owner's row).
    """
    if not rows:
        return set()
    unique: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row[key] in unique:
            report.skipped.append((row[key], f"duplicate {key} in the v1 table"))
            continue
        unique[row[key]] = row
    existing = {
        r._mapping[key]: dict(r._mapping)
        for part in _parts(list(unique))
        for r in connection.execute(sa.select(table).where(table.c[key].in_(part)))
    }
    fresh = [r for k, r in unique.items() if k not in existing]
    done = set()
    for k, row in unique.items():
        old = existing.get(k)
        if old is None:
            continue
        if owned_by and old.get(owned_by) is not None and old[owned_by] != row[owned_by]:
            report.skipped.append((k, f"{key} already in {table.name} for another {owned_by}"))
            continue
        done.add(k)
        values = {c: v for c, v in row.items() if c != key and c not in keep_on_update}
        if all(_same(old.get(c), v) for c, v in values.items()):
            report.unchanged += 1
            continue
        connection.execute(table.update().where(table.c[key] == k).values(**values))
        report.updated += 1
    for part in _parts(fresh):
        connection.execute(table.insert(), part)
        report.inserted += len(part)
    return done | {r[key] for r in fresh}


def _write_runs(
    connection: sa.Connection, table: sa.Table, runs: Sequence[tuple[str, dict[str, Any]]], report: TableImport
) -> None:
    """Insert the runs whose ``run_id`` is not in the runs table yet; ``runs`` are ``(form, row)`` pairs."""
    if not runs:
        return
    unique: dict[str, tuple[str, dict[str, Any]]] = {}
    for form, row in runs:
        if row["run_id"] in unique:
            report.skipped.append((f"run {row['run_id']}", "duplicate run_id (the first one was imported)"))
            report.form(form).skipped += 1
            continue
        unique[row["run_id"]] = (form, row)
    existing: set[str] = set()
    for part in _parts(list(unique)):
        existing.update(connection.execute(sa.select(table.c.run_id).where(table.c.run_id.in_(part))).scalars())
    fresh = [(form, r) for k, (form, r) in unique.items() if k not in existing]
    report.runs_existing += len(unique) - len(fresh)
    for k, (form, _) in unique.items():
        if k in existing:
            report.form(form).existing += 1
    for part in _parts(fresh):
        connection.execute(table.insert(), [r for _, r in part])
        report.runs_inserted += len(part)
        for form, _ in part:
            report.form(form).inserted += 1


def _sessions_batch(
    connection: sa.Connection,
    kind: str,
    page: Sequence[Mapping[str, Any]],
    sessions: sa.Table,
    runs: sa.Table,
    report: TableImport,
    now: int,
) -> list[str]:
    """One page of a v1 sessions table imported; returns the ids of the runs that must now be in the runs table."""
    rows, run_lists = [], {}
    for item in page:
        report.read += 1
        key = str(item.get("session_id"))
        try:
            row, converted = _session(kind, item, now)
        except Exception as exc:  # a row that cannot be read is reported, never dropped silently
            report.skipped.append((key, f"cannot convert: {type(exc).__name__}: {exc}"))
            continue
        rows.append(row)
        run_lists[row["session_id"]] = (converted, row["user_id"])
    written = _upsert(connection, sessions, "session_id", rows, report, keep_on_update=("created_at",),
                      owned_by="user_id")
    run_rows: list[tuple[str, dict[str, Any]]] = []
    for session_id, (converted, user_id) in run_lists.items():
        by_form: dict[str, list[dict[str, Any]]] = {}
        for form, run in converted:
            if not isinstance(run, dict):
                continue
            report.runs_read += 1
            report.form(form).read += 1
            if run.get("run_id") is None:
                report.form(form).skipped += 1
                report.runs_read -= 1
                by_form.setdefault(form, [])
                report.skipped.append((session_id, f"{form} run without run_id (not importable into the runs table)"))
                continue
            by_form.setdefault(form, []).append(run)
        for form, form_runs in by_form.items():
            built = runs_data.build_rows(form_runs, session_id, user_id, now)
            if session_id not in written:
                if built:
                    report.form(form).skipped += len(built)
                    report.skipped.append((session_id, f"{len(built)} {form} run(s) of a skipped session"))
                continue
            run_rows.extend((form, row) for row in built)
    _write_runs(connection, runs, run_rows, report)
    return [row["run_id"] for _, row in run_rows]


def _check_runs(connection: sa.Connection, table: sa.Table, report: TableImport) -> None:
    """Every run id read (from sessions that were written) is in the runs table, or :class:`V1ImportIncompleteError`."""
    wanted = list(dict.fromkeys(report.run_ids))
    present: set[str] = set()
    with connection.begin():
        for part in _parts(wanted):
            present.update(connection.execute(sa.select(table.c.run_id).where(table.c.run_id.in_(part))).scalars())
    missing = [run_id for run_id in wanted if run_id not in present]
    if missing:
        raise V1ImportIncompleteError(table=report.table, runs_table=table.name, expected=len(wanted),
                                      missing=len(missing), first_missing=missing[:5])


def _memories_batch(
    connection: sa.Connection, page: Sequence[Mapping[str, Any]], memories: sa.Table, report: TableImport
) -> None:
    rows = []
    for item in page:
        report.read += 1
        key = str(item.get("id", item.get("memory_id")))
        try:
            rows.append(memory_row(item))
        except Exception as exc:
            report.skipped.append((key, f"cannot convert: {type(exc).__name__}: {exc}"))
    _upsert(connection, memories, "memory_id", rows, report, keep_on_update=("created_at",), owned_by="user_id")


def _table(connection: sa.Connection, table_type: str, backend: str, names: Names) -> sa.Table:
    spec = shapes.spec(table_type, backend, registry.LATEST_VERSION, names)
    insp = sa.inspect(connection)
    if not insp.has_table(spec.name, schema=spec.schema):
        raise ConfigurationError(
            f"The target table {spec.name} ({table_type}) does not exist: run up() before importing v1 tables",
            option=f"{table_type}_table",
        )
    have = {c["name"] for c in insp.get_columns(spec.name, schema=spec.schema)}
    table = spec.sa_table()
    missing = [c.name for c in table.columns if c.name not in have]
    if missing:
        raise ConfigurationError(
            f"The target table {spec.name} lacks {', '.join(missing)}: bring it to schema "
            f"{registry.LATEST_VERSION} with up() before importing v1 tables",
            option=f"{table_type}_table",
        )
    return table


def import_v1(
    connection: sa.Connection,
    backend: str,
    names: Names,
    *,
    agent_sessions: str | None = None,
    team_sessions: str | None = None,
    workflow_sessions: str | None = None,
    memories: str | None = None,
    v1_schema: str | None = None,
    batch: int = 1000,
    progress: Callable[[str], None] | None = None,
) -> ImportSummary:
    """Import Agno 1.x tables into the current sessions, runs and memories tables; returns the summary.

    ``connection``: a sync connection (any transaction it has open is committed first); every batch of
    ``batch`` v1 rows is read and written in one transaction of its own.  ``names``: the target's names (schema,
    table names).  ``v1_schema``: where the v1 tables are; ``None``: the target's schema (``names.schema``), ``""``
    the connection's own.  Only the tables named are read; they are never written to.

    Idempotent: sessions are upserted by ``session_id`` (``created_at`` kept), runs inserted unless their
    ``run_id`` is already there, memories upserted by the v1 id; a re-run reports every row unchanged.
    """
    if batch < 1:
        raise ConfigurationError(f"batch must be a positive number of rows, got {batch!r}", option="batch")
    given = {"agent": agent_sessions, "team": team_sessions, "workflow": workflow_sessions, "memories": memories}
    if not any(given.values()):
        raise ConfigurationError(
            "Name at least one v1 table: agent_sessions=, team_sessions=, workflow_sessions= or memories=",
            option="agent_sessions",
        )
    schema = names.schema if v1_schema is None else (v1_schema or None)
    if connection.in_transaction():
        connection.commit()
    say = progress or log.info
    needs_sessions = any(given[k] for k in SESSION_KINDS)
    sessions_t = _table(connection, "sessions", backend, names) if needs_sessions else None
    runs_t = _table(connection, "runs", backend, names) if needs_sessions else None
    memories_t = _table(connection, "memories", backend, names) if memories else None
    if connection.in_transaction():
        connection.commit()
    summary = ImportSummary()
    now = int(time.time())
    for kind, name in given.items():
        if not name:
            continue
        report = TableImport(name, kind)
        summary.tables.append(report)
        if not sa.inspect(connection).has_table(name, schema=schema):
            report.error = f"v1 table {name} not found" + (f" in schema {schema}" if schema else "")
            if connection.in_transaction():
                connection.commit()
            continue
        if connection.in_transaction():
            connection.commit()
        key = "id" if kind == "memories" else "session_id"
        pages = _pages(connection, name, schema, key, batch)
        while True:
            before = dataclasses.replace(report, skipped=list(report.skipped), run_ids=list(report.run_ids),
                                         run_forms={k: dataclasses.replace(v) for k, v in report.run_forms.items()})
            try:
                with connection.begin():
                    page = next(pages, None)
                    if page is None:
                        break
                    if kind == "memories":
                        assert memories_t is not None
                        _memories_batch(connection, page, memories_t, report)
                    else:
                        assert sessions_t is not None and runs_t is not None
                        expected = _sessions_batch(connection, kind, page, sessions_t, runs_t, report, now)
                        report.run_ids.extend(expected)
            except (ConfigurationError, sa.exc.SQLAlchemyError) as exc:
                # The batch was rolled back: its counts go too, and the table stops here, loudly.
                for name_ in ("read", "inserted", "updated", "unchanged", "runs_read", "runs_inserted",
                              "runs_existing", "skipped", "run_forms", "run_ids"):
                    setattr(report, name_, getattr(before, name_))
                first = str(exc).splitlines()[0] if str(exc) else ""
                report.error = f"{type(exc).__name__}: {first} (after {report.read} row(s) imported)"
                break
            say(report.line())
        if kind != "memories":
            assert runs_t is not None
            _check_runs(connection, runs_t, report)
    for line in summary.lines():
        say(line)
    return summary
