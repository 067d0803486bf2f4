"""``agno-alembic plan``: what an ``up`` would do to a live database, found without changing it.

For every pending step of every selected table: the statements it runs (the offline script, as ``--sql`` prints
it), the lock each takes (:mod:`agno_alembic.dialects.locks`), the rows it reads and writes (table statistics, or
exact counts), a time range (the measured per-row rates of :mod:`agno_alembic.dialects.rates`) and the findings of
the data checks the step depends on (:mod:`agno_alembic.data.checks`), each with the SQL listing its rows and a
suggested fix.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy.dialects import postgresql

from agno_alembic import commands, detect, dialects, plan, registry, shapes
from agno_alembic.data import checks
from agno_alembic.data.checks import Finding
from agno_alembic.dialects import locks, rates
from agno_alembic.dialects.locks import LockInfo
from agno_alembic.naming import Names
from agno_alembic.ops import OFFLINE_PREVIEW, OFFLINE_READER, _diff
from agno_alembic.shapes._dsl import TableSpec

EXIT_NOTHING, EXIT_PENDING, EXIT_BLOCKED = 0, 1, 3


@dataclass(frozen=True)
class PlannedStatement:
    """One statement of a step, with the lock it takes."""

    sql: str
    lock: LockInfo | None
    """``None`` for bookkeeping (our version table, ``agno_schema_versions``) and comments."""
    bookkeeping: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"sql": self.sql, "bookkeeping": self.bookkeeping,
                "lock": self.lock.to_dict() if self.lock is not None else None}


@dataclass(frozen=True)
class PlannedStep:
    """One revision an ``up`` would run, and what it would cost."""

    table_type: str
    table_name: str
    revision: str
    from_version: str | None
    """``None``: the step creates the table."""
    to_version: str
    statements: tuple[PlannedStatement, ...]
    rows: int | None
    """Rows of the step's table now (``None``: no such table yet)."""
    rows_exact: bool
    """``rows`` is a count (``exact=True``, or no statistics); otherwise the database's estimate."""
    rows_read: int
    rows_written: int
    seconds: tuple[float, float]
    """Expected duration, low and high (see :mod:`agno_alembic.dialects.rates`)."""
    findings: tuple[Finding, ...] = ()

    @property
    def rewrite(self) -> bool:
        return any(s.lock is not None and s.lock.rewrite for s in self.statements)

    @property
    def online(self) -> bool:
        """Every statement lets reads and writes go on (``False``: some statement blocks them while it runs)."""
        return all(s.lock is None or s.lock.online for s in self.statements)

    @property
    def blocked(self) -> bool:
        return any(f.blocking for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "table_type": self.table_type, "table": self.table_name, "revision": self.revision,
            "from_version": self.from_version, "to_version": self.to_version,
            "statements": [s.to_dict() for s in self.statements], "rows": self.rows, "rows_exact": self.rows_exact,
            "rows_read": self.rows_read, "rows_written": self.rows_written, "seconds": list(self.seconds),
            "rewrite": self.rewrite, "online": self.online, "blocked": self.blocked,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class Plan:
    """What ``up`` to ``target_version`` would do, step by step, in the order it would run them."""

    backend: str
    target_version: str
    steps: tuple[PlannedStep, ...] = field(default=())

    @property
    def blocked(self) -> bool:
        return any(s.blocked for s in self.steps)

    @property
    def exit_code(self) -> int:
        """0 nothing pending, 1 pending and runnable, 3 a data check would stop a step."""
        if self.blocked:
            return EXIT_BLOCKED
        return EXIT_PENDING if self.steps else EXIT_NOTHING

    @property
    def seconds(self) -> tuple[float, float]:
        return (sum(s.seconds[0] for s in self.steps), sum(s.seconds[1] for s in self.steps))

    def to_dict(self) -> dict[str, object]:
        return {"backend": self.backend, "target_version": self.target_version, "exit_code": self.exit_code,
                "blocked": self.blocked, "seconds": list(self.seconds), "steps": [s.to_dict() for s in self.steps]}


# -- the statements: the offline script, cut into steps --------------------------------------------------------------

_STEP = re.compile(r"^-- Running upgrade (\S*) -> (\S+)\s*$", re.MULTILINE)


def offline_script(url: sa.URL, names: Names, target: str, heads: Sequence[str], destinations: Sequence[str],
                   *, version_table_exists: bool, reader: sa.Connection | None = None) -> str:
    """The ``--sql`` script of an upgrade from ``heads`` to ``destinations`` (what ``up --sql`` prints); the steps
    whose outcome depends on the rows read them through ``reader``, as ``up --sql`` reads its database."""
    config = commands.make_config(url.render_as_string(hide_password=False), names=names, target_version=target)
    config.attributes[OFFLINE_PREVIEW] = True  # to be read: a step decided by the rows is described, not refused
    if reader is not None:
        config.attributes[OFFLINE_READER] = reader
    script = commands.script_directory(config)
    targets = commands._without_ancestors(script, destinations)
    buffer = io.StringIO()
    # Alembic's (private) _upgrade_revs takes several destinations, typed as one: hence the ignore.
    with contextlib.redirect_stdout(buffer), EnvironmentContext(
        config, script, fn=lambda rev, context: script._upgrade_revs(targets, rev), as_sql=True,  # type: ignore[arg-type]
        starting_rev=list(heads) or None, destination_rev=targets, tag=None,
    ):
        script.run_env()
    text = buffer.getvalue()
    if version_table_exists and not heads:
        version_table = names.alembic_version_table
        text = re.sub(rf"CREATE TABLE [^\n]*\b{re.escape(version_table)}\b[^\n]*\(\n.*?\n\);\n\n", "", text,
                      count=1, flags=re.DOTALL)
    return text


def split_steps(text: str) -> list[tuple[str, list[str]]]:
    """``(revision, statements)`` of each step of an offline script, in order."""
    marks = list(_STEP.finditer(text))
    out = []
    for i, m in enumerate(marks):
        body = text[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        out.append((m.group(2), split_statements(body)))
    return out


def split_statements(body: str) -> list[str]:
    """The statements of a script's part: each ends with ``;`` at the end of a line followed by a blank line."""
    parts = re.split(r";[ \t]*\n(?:[ \t]*\n)+", body.strip() + "\n\n")
    return [p.strip() + ";" for p in parts if p.strip() and p.strip() != ";"]


def _statement(backend: str, sql: str, names: Names) -> PlannedStatement:
    text = locks.normalise(sql)
    ours = re.search(rf"\b{re.escape(names.alembic_version_table.upper())}\b", text) is not None
    stamp = re.match(rf"(INSERT INTO|UPDATE|DELETE FROM) (\S+\.)?{re.escape(names.versions_table.upper())}\b", text)
    bookkeeping = ours or stamp is not None
    if not text or bookkeeping:
        return PlannedStatement(sql, None, bookkeeping=bool(text))
    return PlannedStatement(sql, locks.describe(backend, sql))


# -- rows -------------------------------------------------------------------------------------------------------------


def estimated_rows(connection: sa.Connection, backend: str, name: str, schema: str | None) -> tuple[int, bool] | None:
    """The database's own estimate of a table's rows, ``(rows, False)``; ``None`` when it has none."""
    if backend == registry.POSTGRESQL:
        found = connection.execute(sa.text(
            "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = :t AND n.nspname = COALESCE(:s, current_schema())"), {"t": name, "s": schema}).scalar()
        return None if found is None or found < 0 else (int(found), False)
    if dialects.is_mysql_like(backend):
        found = connection.execute(sa.text(
            "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_NAME = :t "
            "AND TABLE_SCHEMA = COALESCE(:s, DATABASE())"), {"t": name, "s": schema}).scalar()
        return None if found is None else (int(found), False)
    return None  # SQLite keeps no row estimate unless ANALYZE ran; its count is cheap


def count_rows(connection: sa.Connection, name: str, schema: str | None) -> int:
    return int(connection.execute(sa.select(sa.func.count()).select_from(sa.table(name, schema=schema))).scalar_one())


def table_rows(connection: sa.Connection, backend: str, name: str, schema: str | None,
               exact: bool) -> tuple[int, bool]:
    """``(rows, exact)``: the estimate, or a count with ``exact`` or where there is no estimate."""
    if not exact:
        found = estimated_rows(connection, backend, name, schema)
        if found is not None:
            return found
    return count_rows(connection, name, schema), True


# -- data checks ------------------------------------------------------------------------------------------------------

Special = Callable[[sa.Connection, TableSpec], list[Finding]]

#: Checks a step depends on beyond what its shape change implies: (table type, version) -> finder.
_SPECIAL: dict[tuple[str, str], Special] = {
    ("sessions", "2.5.0"): checks.find_session_id_problems,
    ("schedules", "3.0.0"): checks.find_schedule_name_problems,
    ("sessions", "3.0.0"): checks.find_shared_run_ids,
}


def step_findings(connection: sa.Connection, old: TableSpec, new: TableSpec) -> list[Finding]:
    """Run, read-only, the data checks of the step from ``old`` to ``new`` on the table as it is."""
    insp = sa.inspect(connection)
    if not insp.has_table(old.name, schema=old.schema):
        return []
    present = {c["name"]: c for c in insp.get_columns(old.name, schema=old.schema)}
    special = _SPECIAL.get((new.table_type, new.version))
    out: list[Finding] = list(special(connection, old)) if special else []
    if special is not None:
        return out  # the special check covers the keys its step adds
    d = _diff(old, new)
    if d.pk_changed and new.primary_key:
        for c in new.primary_key:
            if c in present and present[c]["nullable"]:
                out += checks.find_nulls(connection, old, c)
        out += checks.find_duplicate_keys(connection, old, "primary key", list(new.primary_key))
    for name, u in d.add_uniques.items():
        out += checks.find_duplicate_keys(connection, old, name, list(u.columns))
    for name, ix in d.add_indexes.items():
        if ix.unique and ix.where is None:
            out += checks.find_duplicate_keys(connection, old, name, list(ix.columns))
    for c in d.alter_columns:
        col = present.get(c)
        if col is None:
            continue
        if col["nullable"] and not new.columns[c].is_nullable(new.backend):
            out += checks.find_nulls(connection, old, c)
        if new.backend == registry.POSTGRESQL and isinstance(new.columns[c].type.on(new.backend, new.version),
                                                             postgresql.JSONB) \
                and not isinstance(col["type"], postgresql.JSONB):
            out += checks.find_jsonb_refusals(connection, old, c)
    return out


# -- the plan ---------------------------------------------------------------------------------------------------------


def build(
    connection: sa.Connection,
    backend: str,
    names: Names,
    types: Sequence[registry.TableType],
    target: str,
    *,
    exact: bool = False,
    url: sa.URL | None = None,
) -> Plan:
    """The plan of ``up`` to ``target`` for ``types`` on this connection; reads only."""
    config = commands.make_config(connection=connection, names=names)
    script = commands.script_directory(config)
    insp = sa.inspect(connection)
    has_version_table = insp.has_table(names.alembic_version_table, schema=names.schema)
    heads = list(commands.current_heads(config)) if has_version_table else []
    positions: dict[str, str | None] = {}
    for tt in types:
        position = plan.branch_position(script, heads, tt)
        if position is None and tt.name != "versions" and insp.has_table(names.table(tt.name), schema=names.schema):
            position = detect.detect_revision(connection, script, backend, names, tt)  # what up() adopts first
            if position is not None:
                heads.append(position)
        positions[tt.name] = position
    destinations = [
        rev for tt in types
        if (rev := plan.revision_at(script, tt, target))
        and plan.order(script, tt, positions[tt.name]) < plan.order(script, tt, rev)
    ]
    if not destinations:
        return Plan(backend, target)
    heads = list(commands._without_ancestors(script, list(dict.fromkeys(heads))))
    text = offline_script(url or connection.engine.url, names, target, heads, destinations,
                          version_table_exists=has_version_table, reader=connection)
    steps = []
    rows_cache: dict[str, tuple[int, bool]] = {}
    for revision, statements in split_steps(text):
        module = script.get_revision(revision).module
        tt = registry.table_type(module.agno_table_type)
        revs = plan.revisions_of(script, tt)
        i = [r for r, _ in revs].index(revision)
        before = revs[i - 1][1] if i else None
        version = module.agno_version
        name = names.table(tt.name)
        planned = tuple(_statement(backend, s, names) for s in statements)
        if (tt.name, version) == ("sessions", "3.0.0"):
            planned = _with_deferred_indexes(connection, backend, names, planned)
        exists = insp.has_table(name, schema=names.schema)
        if exists and name not in rows_cache:
            rows_cache[name] = table_rows(connection, backend, name, names.schema, exact)
        rows, rows_exact = rows_cache.get(name, (0, True)) if exists else (None, True)
        findings: list[Finding] = []
        if exists and before is not None:
            old = shapes.spec(tt.name, backend, before, names)
            new = shapes.spec(tt.name, backend, version, names)
            findings = step_findings(connection, old, new)
        n = rows or 0
        scans = any(s.lock is not None and s.lock.scan for s in planned)
        writes = any(s.lock is not None and (s.lock.rewrite or s.lock.operation == "data") for s in planned)
        written = n if writes else 0
        if (tt.name, version) == ("sessions", "3.0.0"):
            written = _legacy_runs(connection, backend, names) if exists else 0
        steps.append(PlannedStep(
            table_type=tt.name, table_name=name, revision=revision, from_version=before, to_version=version,
            statements=planned, rows=rows, rows_exact=rows_exact, rows_read=n if scans else 0,
            rows_written=written, seconds=rates.expected_seconds(backend, tt.name, version, n, planned),
            findings=tuple(findings),
        ))
    return Plan(backend, target, tuple(steps))


def _with_deferred_indexes(
    connection: sa.Connection, backend: str, names: Names, planned: tuple[PlannedStatement, ...]
) -> tuple[PlannedStatement, ...]:
    """The 3.0.0 copy into an empty runs table on PostgreSQL and SQLite drops the runs table's secondary indexes
    first and builds them after (:func:`agno_alembic.ops.copy_legacy_runs`): the statements a live run adds."""
    if backend not in (registry.POSTGRESQL, registry.SQLITE):
        return planned
    sessions = shapes.spec("sessions", backend, "2.5.6", names)
    runs = shapes.spec("runs", backend, registry.LATEST_VERSION, names)
    insp = sa.inspect(connection)
    if not insp.has_table(sessions.name, schema=sessions.schema) or "runs" not in {
            c["name"] for c in insp.get_columns(sessions.name, schema=sessions.schema)}:
        return planned
    if insp.has_table(runs.name, schema=runs.schema) and connection.execute(
            sa.select(sa.literal(1)).select_from(sa.table(runs.name, schema=runs.schema)).limit(1)).first():
        return planned
    table = runs.sa_table()
    indexes = sorted(table.indexes, key=lambda i: list(runs.indexes).index(str(i.name)))
    drops = [_statement(backend, f"{sa.schema.DropIndex(i).compile(dialect=connection.dialect)};", names)
             for i in indexes]
    creates = [_statement(backend, f"{sa.schema.CreateIndex(i).compile(dialect=connection.dialect)};", names)
               for i in indexes]
    at = next((i for i, s in enumerate(planned) if s.lock is not None and s.lock.operation == "data"), None)
    if at is None:
        return planned
    return (*planned[:at], *drops, planned[at], *creates, *planned[at + 1:])


def _legacy_runs(connection: sa.Connection, backend: str, names: Names) -> int:
    """The runs the 3.0.0 copy writes: legacy run ids not yet in the runs table (every one when it is absent)."""
    from agno_alembic.data import runs as runs_data

    sessions = shapes.spec("sessions", backend, "2.5.6", names)
    runs = shapes.spec("runs", backend, registry.LATEST_VERSION, names)
    insp = sa.inspect(connection)
    if "runs" not in {c["name"] for c in insp.get_columns(sessions.name, schema=sessions.schema)}:
        return 0
    if insp.has_table(runs.name, schema=runs.schema):
        return runs_data.runs_missing_from_table(connection, sessions, runs)
    s = sa.table(sessions.name, sa.column("runs"), schema=sessions.schema)
    query = sa.select(s.c.runs).where(s.c.runs.is_not(None)).execution_options(yield_per=500)
    return sum(len(runs_data._run_ids(blob)) for (blob,) in connection.execute(query))


# -- text ----------------------------------------------------------------------------------------------------


def _seconds(low: float, high: float) -> str:
    return f"{low:.2f}-{high:.2f}s" if high < 60 else f"{low / 60:.1f}-{high / 60:.1f} min"


def render(result: Plan, *, sql: bool = False) -> str:
    """The plan as text: a block per step, a line per statement (its first line unless ``sql``), then findings."""
    if not result.steps:
        return f"Nothing pending: every selected table is at {result.target_version} or later."
    lines = []
    for i, step in enumerate(result.steps, 1):
        rows = "no table yet" if step.rows is None else f"{step.rows} row(s){'' if step.rows_exact else ' (estimate)'}"
        head = f"[{i}] {step.revision}: {step.table_name} {step.from_version or '(new)'} -> {step.to_version}"
        lines.append(f"{head}  {rows}, reads {step.rows_read}, writes {step.rows_written}, "
                     f"{_seconds(*step.seconds)}{', REWRITES the table' if step.rewrite else ''}"
                     f"{', BLOCKED by data' if step.blocked else ''}")
        for s in step.statements:
            if s.bookkeeping:
                continue
            text = s.sql if sql else s.sql.splitlines()[0][:100]
            if s.lock is None:
                lines.append(f"      {text}")
                continue
            lk = s.lock
            where = f"ALGORITHM={lk.algorithm}, LOCK={lk.lock}" if lk.algorithm else lk.lock
            flags = ", ".join(f for f, on in (("rewrite", lk.rewrite), ("scans every row", lk.scan)) if on)
            lines.append(f"    {lk.operation}: {where}; blocks {lk.blocks}{'; ' + flags if flags else ''}")
            lines.append(f"      {text}")
        for f in step.findings:
            lines.append(f"    {'STOPS THE STEP' if f.blocking else 'note'} [{f.check}] {f.problem}")
            lines.append("      rows: " + f.sql.replace("\n", "\n            "))
            if f.fix:
                lines.append("      fix:  " + f.fix.replace("\n", "\n            "))
            lines.append(f"      ({f.advice})")
    low, high = result.seconds
    tail = f"{len(result.steps)} step(s), expected {_seconds(low, high)}"
    if result.blocked:
        tail += "; a data check would stop a step (exit 3): fix the rows listed, then run plan again"
    return "\n".join([*lines, "", tail])
