"""The 3.0.0 copy's check (``verify_copy``), in SQL on PostgreSQL and in Python elsewhere: the same answer.

PostgreSQL reads each chunk of legacy lists with one statement (``jsonb_array_elements`` anti-joined with the runs
table) instead of decoding every list in the client. Each test crafts sessions where the two could differ (a
missing run, an extra row, a run id two sessions hold, duplicate ids in one list, entries that are not runs, runs
without ``run_id``, unicode ids whose code point order is not a collation's, NULL and empty lists) and checks:

* on every backend, what ``verify_copy`` answers (how many ids it checked, the missing count and the first ids in
  code point order, the warning and the settling of a shared run id);
* on PostgreSQL, that the statement and the client's check give the same parts, chunk by chunk, whatever the chunk
  size, and that the chunks the statement cannot read as Python does (a run id that is not a string, a list stored
  as JSON text in a JSON string, a value ``jsonb`` cannot hold) go to the client.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from agno_alembic import DataVerificationError, SyncMigrationManager, registry, shapes
from agno_alembic.data import runs as runs_data
from agno_alembic.shapes._dsl import TableSpec
from tests.conftest import Backend

BASE_TS = 1_735_689_600
KIND = {"sqlite": registry.SQLITE, "postgres": registry.POSTGRESQL, "mysql": registry.MYSQL}
UNICODE = "рун-😀"
COMPOSED, DECOMPOSED = "\u00e9", "e\u0301"  # the same letter to a human and to some collations, not to Python


def _run(run_id: Any, **fields: Any) -> dict[str, Any]:
    return {"run_id": run_id, "agent_id": "agent-1", "status": "COMPLETED", "content": f"answer of {run_id!s} ✓",
            "created_at": BASE_TS, **fields}


def _session(session_id: str, runs: Any, created_at: int = BASE_TS, updated_at: int | None = None) -> dict[str, Any]:
    return {"session_id": session_id, "session_type": "agent", "user_id": "user-1", "runs": runs,
            "created_at": created_at, "updated_at": created_at + 1 if updated_at is None else updated_at}


MISSING_MANY = [f"m-{i:02d}" for i in range(12)]
SESSIONS = [
    _session("s-01", [_run("ok-1"), _run("ok-2")]),
    _session("s-02", [_run("gone-1")]),  # a missing run
    _session("s-03", [_run("shared", content="of s-03")], created_at=BASE_TS + 10),  # shared, its row, written later
    _session("s-04", [_run("shared", content="of s-04")]),  # shared, written first: the winner
    _session("s-05", [_run("dup"), _run("dup", content="again")]),  # one id twice in one list
    _session("s-06", [1, "ok-3", None, ["ok-3"], _run("ok-3"), {"agent_id": "no run_id"}, {"run_id": None}]),
    _session("s-07", [_run(UNICODE), _run(COMPOSED), _run(DECOMPOSED), _run("B"), _run("Z"), _run("a")]),
    _session("s-08", [_run(m) for m in MISSING_MANY]),
    _session("s-09", []),
    _session("s-10", sa.null()),  # SQL NULL
    _session("s-11", None),  # JSON null
    _session("s-12", {"run_id": "an-object-not-a-list"}),
    _session("s-13", [_run("late")], updated_at=BASE_TS + 10_000),  # updated after BEFORE
    _session("s-14", [_run("moved")]),  # its row is under s-01, whose list does not hold it
]
BEFORE = BASE_TS + 5_000
ROWS = {  # run_id -> session of its runs-table row
    "ok-1": "s-01", "ok-2": "s-01", "shared": "s-03", "dup": "s-05", "ok-3": "s-06", UNICODE: "s-07", COMPOSED: "s-07",
    "extra-1": "s-01",  # an extra row no list holds (Agno 3 wrote it)
    "moved": "s-01",
}
#: Distinct run ids of the lists, without s-13's (updated after BEFORE).
CHECKED = {"ok-1", "ok-2", "gone-1", "shared", "dup", "ok-3", UNICODE, COMPOSED, DECOMPOSED, "B", "Z", "a",
           *MISSING_MANY, "moved"}
MISSING = sorted({"gone-1", DECOMPOSED, "B", "Z", "a", *MISSING_MANY})  # code point order: B, Z, a, e..., gone-1


def _specs(backend: Backend) -> tuple[TableSpec, TableSpec]:
    kind = KIND[backend.kind]
    return shapes.spec("sessions", kind, "2.5.6", backend.names), shapes.spec("runs", kind, "3.0.0", backend.names)


def _seed(backend: Backend, sessions_rows: list[dict[str, Any]], rows: dict[str, str]) -> tuple[TableSpec, TableSpec]:
    mm = SyncMigrationManager(backend.url, db_schema=backend.schema)
    mm.up(target_version="2.5.6", table_type="sessions", create_missing=True)
    mm.up(table_type="runs", create_missing=True)
    sessions, runs = _specs(backend)
    with backend.engine.begin() as c:
        c.execute(sessions.sa_table().insert(), sessions_rows)
        if rows:
            c.execute(runs.sa_table().insert(), [
                {"run_id": run_id, "session_id": sid, "run_type": "agent", "run_index": 0, "created_at": BASE_TS,
                 "updated_at": BASE_TS, "run_data": _entry(sessions_rows, sid, run_id)}
                for run_id, sid in rows.items()])
    return sessions, runs


def _entry(sessions_rows: list[dict[str, Any]], sid: str, run_id: str) -> Any:
    """The first entry of ``sid``'s list with ``run_id`` (as the copy would have written it), else an Agno 3 run."""
    for s in sessions_rows:
        if s["session_id"] == sid and isinstance(s["runs"], list):
            for e in s["runs"]:
                if isinstance(e, dict) and e.get("run_id") == run_id:
                    return e
    return {"run_id": run_id, "by": "agno 3"}


def _parts(c: sa.Connection, sessions: TableSpec, runs: TableSpec, chunk: int, before: int | None,
           in_sql: bool) -> list[tuple[int, int, list[str], list[tuple[str, list[str], str]]] | None]:
    """Each chunk's part as the statement (``in_sql``) or the client reads it (``None``: nothing to check /
    the statement leaves the chunk to the client). The shared run ids sorted: each is settled on its own, in no
    particular order (the client's order of two ids of one list is a set's)."""
    check = runs_data._SqlCheck.of(c, sessions, runs, before) if in_sql else None
    assert (check is not None) == in_sql
    found = []
    for lo, hi, _ in runs_data._chunks(c, sessions, chunk):
        part = check.part(lo, hi) if check is not None else runs_data._python_part(c, sessions, runs, lo, hi, before)
        found.append(None if part is None or (part.checked == 0 and not in_sql) else
                     (part.checked, part.missing, part.examples, sorted(part.shared)))
    return found


def _normal(parts: list[Any]) -> list[Any]:
    """A chunk without runs: ``None`` from the client, zero counts from the statement."""
    return [None if p is None or p[0] == 0 else p for p in parts]


def test_the_check_answers_the_same_on_every_backend(backend: Backend, caplog):
    sessions, runs = _seed(backend, SESSIONS, ROWS)
    with backend.engine.connect() as c:
        with pytest.raises(DataVerificationError) as caught:
            runs_data.verify_copy(c, sessions, runs, updated_before=BEFORE)
        found = caught.value
        assert (found.expected, found.missing) == (len(CHECKED), len(MISSING))
        assert list(found.examples) == MISSING[:runs_data.MISSING_EXAMPLES]
        assert list(found.examples)[:4] == ["B", "Z", "a", DECOMPOSED]  # code point order, not a collation's
        with pytest.raises(DataVerificationError) as caught:
            runs_data.verify_copy(c, sessions, runs)  # s-13 too
        assert caught.value.missing == len(MISSING) + 1 and "late" in caught.value.examples
        with pytest.raises(DataVerificationError) as caught:  # a session per chunk: the first ids in chunk order
            runs_data.verify_copy(c, sessions, runs, updated_before=BEFORE, chunk=1)
        assert list(caught.value.examples) == ["gone-1", "B", "Z", "a", DECOMPOSED, *MISSING_MANY[:5]]
        assert caught.value.expected == len(CHECKED) + 1  # "shared": once in each of its two chunks
        c.commit()
    # the shared run went to the session written first, with a warning; the other rows are untouched
    assert "run 'shared' is held by two sessions, 's-04' and 's-03'" in caplog.text
    assert "'moved'" not in caplog.text  # s-01 does not hold it: the row is Agno 3's, it wins
    r = runs.sa_table()
    with backend.engine.connect() as c:
        rows = dict(c.execute(sa.select(r.c.run_id, r.c.session_id)).all())
    assert rows == {**ROWS, "shared": "s-04"}
    # complete once the missing runs are there
    with backend.engine.begin() as c:
        c.execute(r.insert(), [{"run_id": m, "session_id": "s-08", "run_type": "agent", "run_index": 0,
                                "created_at": BASE_TS, "updated_at": BASE_TS, "run_data": {}}
                               for m in ["gone-1", DECOMPOSED, "B", "Z", "a", *MISSING_MANY]])
    with backend.engine.connect() as c:
        assert runs_data.verify_copy(c, sessions, runs, updated_before=BEFORE) == len(CHECKED)
        with pytest.raises(DataVerificationError) as caught:
            runs_data.verify_copy(c, sessions, runs)
        assert caught.value.examples == ("late",)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("chunk", [1, 3, 2000])
@pytest.mark.parametrize("before", [None, BEFORE])
def test_postgresql_statement_and_client_give_the_same_parts(backend: Backend, chunk: int, before: int | None):
    sessions, runs = _seed(backend, SESSIONS, ROWS)
    with backend.engine.connect() as c:
        in_sql = _parts(c, sessions, runs, chunk, before, in_sql=True)
        in_python = _parts(c, sessions, runs, chunk, before, in_sql=False)
    assert None not in in_sql  # no chunk of these went to the client
    assert _normal(in_sql) == _normal(in_python)
    assert sum(p[1] for p in in_python if p) == len(MISSING) + (before is None)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgresql_leaves_to_the_client_what_only_python_reads(backend: Backend):
    """Run ids that are not strings (Python checks ``str(value)``: ``5``, ``True``, ``1.0``) and a list stored as
    JSON text inside a JSON string (Python decodes it again): the statement leaves those chunks to the client, so
    the answer stays Python's."""
    twice = json.dumps([_run("twice-1"), _run("twice-2")])
    rows = [
        _session("s-1", [_run("plain")]),
        _session("s-2", [_run(5), _run(True), _run(1.0)]),
        _session("s-3", twice),  # a JSON string holding the list's text
    ]
    sessions, runs = _seed(backend, rows, {"plain": "s-1", "5": "s-2", "twice-1": "s-3"})
    with backend.engine.connect() as c:
        assert _parts(c, sessions, runs, 1, None, in_sql=True) == [(1, 0, [], []), None, None]
        with pytest.raises(DataVerificationError) as caught:
            runs_data.verify_copy(c, sessions, runs)
    assert caught.value.expected == 6 and list(caught.value.examples) == ["1.0", "True", "twice-2"]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgresql_legacy_column_not_jsonb(backend: Backend):
    """A ``json`` legacy column (a database whose 2.3.0 JSONB rewrite did not run) may hold ``\\u0000``, which a
    ``jsonb`` cannot: that chunk goes to the client. A ``text`` column may hold text that is not JSON (no list to
    the client): the statement is not used at all."""
    rows = [_session("s-1", [_run("plain")]), _session("s-2", [_run("nul", content="a\u0000b"), _run("nul-2")])]
    sessions, runs = _specs(backend)
    mm = SyncMigrationManager(backend.url, db_schema=backend.schema)
    mm.up(target_version="2.5.6", table_type="sessions", create_missing=True)
    mm.up(table_type="runs", create_missing=True)
    table = f'"{backend.schema}".agno_sessions'
    with backend.engine.begin() as c:
        c.exec_driver_sql(f"ALTER TABLE {table} ALTER COLUMN runs TYPE json USING runs::json")
        for row in rows:
            c.execute(sa.text(f"INSERT INTO {table} (session_id, session_type, runs, created_at) "
                              "VALUES (:sid, 'agent', CAST(:runs AS json), 1)"),
                      {"sid": row["session_id"], "runs": json.dumps(row["runs"])})
        c.execute(runs.sa_table().insert(), [{"run_id": "plain", "session_id": "s-1", "run_type": "agent",
                                              "run_data": {}, "created_at": 1}])
    with backend.engine.connect() as c:
        assert _parts(c, sessions, runs, 1, None, in_sql=True) == [(1, 0, [], []), None]
        with pytest.raises(DataVerificationError) as caught:
            runs_data.verify_copy(c, sessions, runs)
        assert caught.value.expected == 3 and list(caught.value.examples) == ["nul", "nul-2"]
        c.rollback()
    with backend.engine.begin() as c:
        c.exec_driver_sql(f"ALTER TABLE {table} ALTER COLUMN runs TYPE text USING runs::text")
        c.exec_driver_sql(f"INSERT INTO {table} (session_id, session_type, runs, created_at) "
                          "VALUES ('s-3', 'agent', 'not json [', 1)")
        c.exec_driver_sql(f"DELETE FROM {table} WHERE session_id = 's-2'")
    with backend.engine.connect() as c:
        assert runs_data._SqlCheck.of(c, sessions, runs, None) is None
        assert runs_data.verify_copy(c, sessions, runs) == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_malformed_json_holds_no_run(backend: Backend):
    """SQLite keeps text that is not JSON as it is: the check reads it as no list, as the copy does."""
    sessions, runs = _seed(backend, [_session("s-1", [_run("plain")])], {"plain": "s-1"})
    with backend.engine.begin() as c:
        c.exec_driver_sql("INSERT INTO agno_sessions (session_id, session_type, runs, created_at) "
                          "VALUES ('s-2', 'agent', '[{\"run_id\": \"x\"', 1)")
    with backend.engine.connect() as c:
        assert runs_data.verify_copy(c, sessions, runs) == 1


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgresql_check_through_the_async_driver(backend: Backend):
    """``AsyncMigrationManager`` runs the steps through ``run_sync`` on psycopg's async driver: the same answer."""
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    sessions, runs = _seed(backend, SESSIONS, ROWS)

    async def check() -> tuple[bool, int, list[str]]:
        engine = create_async_engine(backend.async_url(), poolclass=sa.pool.NullPool)
        try:
            async with engine.connect() as c:
                in_sql = await c.run_sync(lambda sc: runs_data._SqlCheck.of(sc, sessions, runs, BEFORE) is not None)
                try:
                    await c.run_sync(lambda sc: runs_data.verify_copy(sc, sessions, runs, updated_before=BEFORE))
                except DataVerificationError as exc:
                    return in_sql, exc.missing, list(exc.examples)
                return in_sql, 0, []
        finally:
            await engine.dispose()

    assert asyncio.run(check()) == (True, len(MISSING), MISSING[:runs_data.MISSING_EXAMPLES])


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgresql_first_form_reads_arrays_once_and_fails_on_anything_else(backend: Backend):
    """The statement's first form (each list read once) answers a chunk of arrays as the second does, and fails on
    a chunk holding a value that is not an array (JSON null, an object), which the second form then takes."""
    sessions, runs = _seed(backend, SESSIONS, ROWS)
    with backend.engine.connect() as c:
        check = runs_data._SqlCheck.of(c, sessions, runs, None)
        assert check is not None and len(check.forms) == 2
        arrays, anything = check.forms
        for lo, hi in [("", "s-10"), ("s-10", "s-12"), ("s-12", "s-14")]:
            params = {"lo": lo, "hi": hi}
            with c.begin_nested():
                second = c.execute(anything, params).all()
            if lo == "s-10":  # s-11 (JSON null) and s-12 (an object)
                with pytest.raises(sa.exc.DataError), c.begin_nested():
                    c.execute(arrays, params).all()
            else:
                with c.begin_nested():
                    assert c.execute(arrays, params).all() == second


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("chunk", [1, 2000])
def test_postgresql_copy_reads_arrays_once_and_takes_any_other_value_as_before(backend: Backend, chunk: int):
    """The copy's first form reads each list once; a chunk holding a value that is not an array (JSON null, an
    object) falls back to the form that takes any value: the runs table gets exactly Agno's rows either way (the
    first entry of each run id in key order, its position in its list)."""
    sessions, runs = _seed(backend, SESSIONS, {})
    expected: dict[str, tuple[str, int]] = {}
    for s in sorted(SESSIONS, key=lambda s: s["session_id"]):
        for row in runs_data.build_rows(s["runs"] if isinstance(s["runs"], list | dict) else None,
                                        s["session_id"], None, 0):
            expected.setdefault(row["run_id"], (s["session_id"], row["run_index"]))
    with backend.engine.begin() as c:
        runs_data.copy_runs(c, registry.POSTGRESQL, sessions, runs, chunk=chunk)
    r = runs.sa_table()
    with backend.engine.connect() as c:
        got = {run_id: (sid, index) for run_id, sid, index in c.execute(sa.select(r.c.run_id, r.c.session_id,
                                                                                   r.c.run_index))}
    assert got == expected
    assert expected["dup"] == ("s-05", 0) and expected["shared"] == ("s-03", 0) and expected["ok-3"] == ("s-06", 4)
