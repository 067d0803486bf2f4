"""``agno-alembic plan``: what an ``up`` would do to a live database, found without changing it.

For every pending step of every selected table: the statements it runs in the mode that will run (online, the
default: the forms online mode gives them, written by the same operations, :func:`agno_alembic.ops._online_forms`;
offline: the script ``--sql`` prints), the lock each takes in that mode (:mod:`agno_alembic.dialects.locks`), the
rows it reads and writes (table statistics, or exact counts), a time range (the measured per-row rates of
:mod:`agno_alembic.dialects.rates`) and the findings of the data checks the step depends on
(:mod:`agno_alembic.data.checks`), each with the SQL listing its rows and a suggested fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from agno_alembic import commands, detect, dialects, plan, registry, shapes
from agno_alembic.data import checks
from agno_alembic.data.checks import Finding
from agno_alembic.dialects import locks, rates
from agno_alembic.dialects.locks import LockInfo
from agno_alembic.naming import Names
from agno_alembic.ops import OFFLINE_PREVIEW, _diff, add_indexes_statement
from agno_alembic.shapes._dsl import TableSpec

EXIT_NOTHING, EXIT_PENDING, EXIT_BLOCKED = 0, 1, 3


@dataclass(frozen=True)
class PlannedStatement:
    """One statement of a step, with the lock it takes."""

    sql: str
    lock: LockInfo | None
    """``None`` for bookkeeping (our version table, ``agno_schema_versions``) and comments."""
    bookkeeping: bool = False
    bounded: bool = False
    """Online: the statement runs alone, in a transaction of its own, its lock wait bounded and retried (the
    plan's ``ddl_lock_wait`` / ``ddl_deadline``), so it never queues in front of the application for longer."""

    def to_dict(self) -> dict[str, object]:
        return {"sql": self.sql, "bookkeeping": self.bookkeeping, "bounded": self.bounded,
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
    online: bool = True
    """The mode the plan describes: online (``up()``'s default) or offline (``online=False``, ``--offline``)."""
    ddl_lock_wait: float = 0.05
    ddl_deadline: float = 300.0

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
        return {"backend": self.backend, "target_version": self.target_version,
                "mode": "online" if self.online else "offline", "ddl_lock_wait": self.ddl_lock_wait,
                "ddl_deadline": self.ddl_deadline, "exit_code": self.exit_code, "blocked": self.blocked,
                "seconds": list(self.seconds), "steps": [s.to_dict() for s in self.steps]}


# -- the statements: the offline script, cut into steps --------------------------------------------------------------

_STEP = re.compile(r"^-- Running upgrade (\S*) -> (\S+)\s*$", re.MULTILINE)


def offline_script(url: sa.URL, names: Names, target: str, heads: Sequence[str], destinations: Sequence[str],
                   *, version_table_exists: bool, reader: sa.Connection | None = None,
                   settings: Mapping[str, Any] | None = None) -> str:
    """The script of an upgrade from ``heads`` to ``destinations``, written to be read: as ``up --sql`` prints it
    (``settings`` with online mode off), or in the forms online mode runs (``settings``: the run's online settings,
    online by default); the steps whose outcome depends on the rows read them through ``reader``."""
    config = commands.make_config(url.render_as_string(hide_password=False), names=names, target_version=target,
                                  **dict(settings or {}))
    config.attributes[OFFLINE_PREVIEW] = True  # to be read: a step decided by the rows is described, not refused
    script = commands.script_directory(config)
    targets = commands._without_ancestors(script, destinations)
    # Alembic's (private) _upgrade_revs takes several destinations, typed as one: hence the ignore.
    return commands.offline_script(
        config, lambda rev, context: script._upgrade_revs(targets, rev), heads, targets,  # type: ignore[arg-type]
        version_table=names.alembic_version_table if version_table_exists else None, reader=reader)


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


def _statement(backend: str, sql: str, names: Names, *, online: bool = False) -> PlannedStatement:
    """One statement of the script and its lock; ``online``: in the form online mode sends it, and bounded."""
    text = locks.normalise(sql)
    ours = re.search(rf"\b{re.escape(names.alembic_version_table.upper())}\b", text) is not None
    stamp = re.match(rf"(INSERT INTO|UPDATE|DELETE FROM) (\S+\.)?{re.escape(names.versions_table.upper())}\b", text)
    bookkeeping = ours or stamp is not None or text in ("BEGIN", "COMMIT")  # the step's own transaction
    if not text or bookkeeping:
        return PlannedStatement(sql, None, bookkeeping=bool(text))
    if online:
        sql = locks.online_statement(backend, sql)
    info = locks.describe(backend, sql)
    return PlannedStatement(sql, info, bounded=online and info.operation != "data")


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
    settings: Mapping[str, Any] | None = None,
    vector_tables: bool = False,
) -> Plan:
    """The plan of ``up`` to ``target`` for ``types`` on this connection; reads only.

    ``settings``: the run's online settings, as ``config.attributes`` (``environment.ATTR_ONLINE``, default on,
    ``ATTR_ALLOW_REWRITE``, ``ATTR_DDL_LOCK_WAIT``, ``ATTR_DDL_DEADLINE``): the plan is of that mode.
    ``vector_tables``: the pgvector knowledge tables' branch too (what ``up()`` moves with them), when there are any.
    """
    from agno_alembic import environment
    from agno_alembic.runtime import RunState

    settings = dict(settings or {})
    defaults = RunState(names=names, backend=backend)
    online = bool(settings.get(environment.ATTR_ONLINE, True))
    allow_rewrite = bool(settings.get(environment.ATTR_ALLOW_REWRITE, False))
    mode = {"online": online, "ddl_lock_wait": float(settings.get(environment.ATTR_DDL_LOCK_WAIT) or
                                                      defaults.ddl_lock_wait),
            "ddl_deadline": float(settings.get(environment.ATTR_DDL_DEADLINE) or defaults.ddl_deadline)}
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
    vector_names: list[str] = []
    if vector_tables and registry.VECTORS.on(backend):
        types, vector_names = _with_vector_branch(connection, script, names, list(types), heads, positions)
    destinations = [
        rev for tt in types
        if (rev := plan.revision_at(script, tt, target))
        and plan.order(script, tt, positions[tt.name]) < plan.order(script, tt, rev)
    ]
    if not destinations:
        return Plan(backend, target, **mode)  # type: ignore[arg-type]
    heads = list(commands._without_ancestors(script, list(dict.fromkeys(heads))))
    text = offline_script(url or connection.engine.url, names, target, heads, destinations,
                          version_table_exists=has_version_table, reader=connection,
                          settings={**settings, environment.ATTR_ONLINE: online})
    steps = []
    rows_cache: dict[str, tuple[int, bool]] = {}
    for revision, statements in split_steps(text):
        module = script.get_revision(revision).module
        if getattr(module, "agno_vector_type", None):
            steps.append(_vector_step(connection, backend, names, script, revision, statements, vector_names,
                                      exact, online))
            continue
        tt = registry.table_type(module.agno_table_type)
        revs = plan.revisions_of(script, tt)
        i = [r for r, _ in revs].index(revision)
        before = revs[i - 1][1] if i else None
        version = module.agno_version
        name = names.table(tt.name)
        planned = _proved_not_null(tuple(_statement(backend, s, names, online=online) for s in statements))
        if (tt.name, version) == ("sessions", "3.0.0"):
            planned = _in_batches(connection, backend, names, planned) if online else \
                _with_deferred_indexes(connection, backend, names, planned)
        exists = insp.has_table(name, schema=names.schema)
        if exists and name not in rows_cache:
            rows_cache[name] = table_rows(connection, backend, name, names.schema, exact)
        rows, rows_exact = rows_cache.get(name, (0, True)) if exists else (None, True)
        findings: list[Finding] = []
        if exists and before is not None:
            old = shapes.spec(tt.name, backend, before, names)
            new = shapes.spec(tt.name, backend, version, names)
            findings = step_findings(connection, old, new)
        if online and not allow_rewrite and backend == registry.POSTGRESQL and exists:
            qualified = connection.dialect.identifier_preparer.format_table(sa.table(name, schema=names.schema))
            findings += _online_rewrite(planned, qualified, rows or 0)
        n = rows or 0
        scans = any(s.lock is not None and s.lock.scan for s in planned)
        writes = any(s.lock is not None and (s.lock.rewrite or s.lock.operation == "data") for s in planned)
        written = n if writes else 0
        if (tt.name, version) == ("sessions", "3.0.0"):
            written = _legacy_runs(connection, backend, names) if exists else 0
        steps.append(PlannedStep(
            table_type=tt.name, table_name=name, revision=revision, from_version=before, to_version=version,
            statements=planned, rows=rows, rows_exact=rows_exact, rows_read=n if scans else 0,
            rows_written=written, seconds=rates.expected_seconds(backend, tt.name, version, n, planned,
                                                                 online=online),
            findings=tuple(findings),
        ))
    return Plan(backend, target, tuple(steps), **mode)  # type: ignore[arg-type]


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


def _with_vector_branch(
    connection: sa.Connection, script: Any, names: Names, types: list[registry.TableType], heads: list[str],
    positions: dict[str, str | None],
) -> tuple[list[registry.TableType], list[str]]:
    """The pgvector tables' branch, placed where ``up()`` puts it first (:meth:`_Core.move_vectors`: where the
    oldest knowledge table is), and the tables' names; the branch only when there is a table to move."""
    from agno_alembic import vectors

    found = vectors.selected(connection, names)
    if not found:
        return types, []
    tt = registry.VECTORS
    position = plan.branch_position(script, heads, tt)
    oldest = plan.revision_at(script, tt, min((t.version for t in found), key=registry.version_index))
    if oldest is not None and oldest != position:
        ours = {r for r, _ in plan.revisions_of(script, tt)}
        heads[:] = [h for h in heads if h not in ours] + [oldest]
        position = oldest
    positions[tt.name] = position
    return [*types, tt], [t.name for t in found]


def _vector_step(connection: sa.Connection, backend: str, names: Names, script: Any, revision: str,
                 statements: Sequence[str], tables: Sequence[str], exact: bool, online: bool) -> PlannedStep:
    """A step of the pgvector tables' branch: every knowledge table at once (online: each statement bounded, the
    index built ``CONCURRENTLY``, as ``ops.evolve_vector_tables`` writes it), the rows of them all."""
    tt = registry.VECTORS
    revs = plan.revisions_of(script, tt)
    i = [r for r, _ in revs].index(revision)
    planned = tuple(_statement(backend, s, names, online=online) for s in statements)
    counted = [table_rows(connection, backend, t, names.schema, exact) for t in tables]
    rows = sum(n for n, _ in counted)
    version = revs[i][1]
    scans = any(s.lock is not None and s.lock.scan for s in planned)
    return PlannedStep(
        table_type=tt.name, table_name=", ".join(tables), revision=revision,
        from_version=revs[i - 1][1] if i else None, to_version=version, statements=planned, rows=rows,
        rows_exact=all(e for _, e in counted), rows_read=rows if scans else 0, rows_written=0,
        seconds=rates.expected_seconds(backend, tt.name, version, rows, planned),
    )


def _proved_not_null(planned: tuple[PlannedStatement, ...]) -> tuple[PlannedStatement, ...]:
    """PostgreSQL, online: a ``SET NOT NULL`` after the ``VALIDATE`` of its helper check (``ops._set_not_null``)
    scans nothing under its exclusive lock (PostgreSQL 12+ take the validated check as the proof)."""
    from agno_alembic.ops import _NN_CHECK

    proved: set[str] = set()
    out = []
    for s in planned:
        text = locks.normalise(s.sql)
        found = re.search(rf"VALIDATE CONSTRAINT {re.escape(_NN_CHECK.upper())}(\S+)$", text)
        if found:
            proved.add(found.group(1))
        column = re.search(r"ALTER COLUMN (\S+) SET NOT NULL$", text)
        if column and column.group(1) in proved and s.lock is not None:
            s = replace(s, lock=replace(s.lock, operation="set not null (proved by the validated check)",
                                        scan=False))
        out.append(s)
    return tuple(out)


def _in_batches(
    connection: sa.Connection, backend: str, names: Names, planned: tuple[PlannedStatement, ...]
) -> tuple[PlannedStatement, ...]:
    """Online, the 3.0.0 copy of legacy runs runs in committed, resumable batches (:mod:`agno_alembic.data.batched`):
    its statement is replaced by the batch it repeats, with the lock one batch holds, between the creation and the
    removal of the progress table (agno-alembic's bookkeeping); the runs table keeps its indexes."""
    from agno_alembic.data import batched
    from agno_alembic.data import runs as runs_data

    at = next((i for i, s in enumerate(planned) if s.lock is not None and s.lock.operation == "data"), None)
    if at is None:
        return planned
    sessions = shapes.spec("sessions", backend, "2.5.6", names)
    runs = shapes.spec("runs", backend, registry.LATEST_VERSION, names)
    progress = batched.progress_table(sessions.schema)
    dialect = connection.dialect
    if backend == registry.POSTGRESQL:
        # the form each batch sends first (runs_data._PostgresCopy)
        batch_sql = ("-- (a batch holding a value that is not a JSON array runs again, in a savepoint, with the form "
                     "that takes any value)\n" + runs_data._postgresql(runs_data._Names(dialect, sessions, runs),
                                                                      arrays=True))
    else:
        q = dialect.identifier_preparer
        source = q.format_table(sa.table(sessions.name, schema=sessions.schema))
        target = q.format_table(sa.table(runs.name, schema=runs.schema))
        batch_sql = (f"SELECT session_id, runs FROM {source} WHERE session_id > :after AND session_id <= :upto;\n"
                     f"-- the lists parsed in the client, then their runs not yet in {target}:\n"
                     f"INSERT INTO {target} (...) VALUES (...), ...")
    low, high = batched.MIN_BATCH, batched.MAX_BATCH
    batch = PlannedStatement(
        f"-- in committed batches of about {batched.batch_seconds(backend):g} s of work ({low} to {high} sessions "
        "each), "
        f"each recorded in {progress.name} and resumed from there after a crash; then the sessions updated "
        "meanwhile are copied again and the copy is checked. One batch:\n" + batch_sql.strip().rstrip(";") + ";",
        locks.BATCH[backend])
    create = PlannedStatement(f"{sa.schema.CreateTable(progress).compile(dialect=dialect)};".strip(), None,
                              bookkeeping=True)
    drop = PlannedStatement(f"{sa.schema.DropTable(progress).compile(dialect=dialect)};".strip(), None,
                            bookkeeping=True)
    deferred = batched.deferred_runs_indexes(connection, backend, sessions, runs)
    if not deferred:
        return (*planned[:at], create, batch, drop, *planned[at + 1:])
    # MySQL/MariaDB: the indexes the copy builds after it (ops.copy_legacy_runs), dropped where the table has them
    insp = sa.inspect(connection)
    present = {i["name"] for i in insp.get_indexes(runs.name, schema=runs.schema)} \
        if insp.has_table(runs.name, schema=runs.schema) else set(runs.indexes)
    table = {str(i.name): i for i in runs.sa_table().indexes}
    drops = [_statement(backend, f"{sa.schema.DropIndex(table[n]).compile(dialect=dialect)};", names, online=True)
             for n in deferred if n in present]
    build = _statement(backend, f"{add_indexes_statement(dialect, runs, deferred)};", names, online=True)
    return (*planned[:at], *drops, create, batch, drop, build, *planned[at + 1:])


def _online_rewrite(planned: Sequence[PlannedStatement], table: str, rows: int) -> list[Finding]:
    """Online on PostgreSQL, a step that rewrites a table of more than ``REWRITE_MOMENT_ROWS`` rows is refused
    (``RewriteRefusedError``) unless the caller accepts the rewrite: a finding that stops the step."""
    from agno_alembic.dialects.online import REWRITE_MOMENT_ROWS

    # the online rewrite through a shadow table (agno_alembic.rewrite) rewrites the table too, but blocks nothing
    rewrites = [s for s in planned if s.lock is not None and s.lock.rewrite and not s.lock.online]
    if not rewrites or rows <= REWRITE_MOMENT_ROWS:
        return []
    return [Finding(
        check="online_rewrite", table=table,
        problem=f"{len(rewrites)} statement(s) rewrite {table} ({rows} row(s)) under ACCESS EXCLUSIVE: online mode "
                f"refuses this above {REWRITE_MOMENT_ROWS} rows (the application could neither read nor write it "
                "until the rewrite ends) where the table has what the online rewrite through a shadow table cannot "
                "carry (up() names it)",
        rows=rows, sql=f"SELECT count(*) FROM {table};", fix="",
        advice="accept the rewrite (allow_rewrite=True, --allow-rewrite) in a quiet moment, or run this step "
               "offline (online=False, --offline)",
        blocking=True,
    )]


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
    if result.online:
        lines = [f"Online mode: each DDL statement alone, its lock wait bounded ({result.ddl_lock_wait:g} s a try, "
                 f"retried until {result.ddl_deadline:g} s; marked 'bounded'); data copies in committed batches "
                 "(--offline: the maintenance-window plan)", ""]
    else:
        lines = ["Offline mode: one transaction per step, each statement waits for its lock as long as it takes", ""]
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
            bounded = "; bounded" if s.bounded else ""
            lines.append(f"    {lk.operation}: {where}; blocks {lk.blocks}{'; ' + flags if flags else ''}{bounded}")
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
