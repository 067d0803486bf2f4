"""PostgreSQL, online: a type change that rewrites a table (the 2.3.0 JSON to JSONB columns), done through a shadow
table, so the application's reads and writes wait only for a short, bounded swap at the end.

1. In one transaction: the shadow table is created in the step's new shape, exactly as Agno creates the table fresh
   (column order, nullability, keys and indexes; its constraints and indexes under temporary names), with a trigger
   on the table mirroring every INSERT, UPDATE, DELETE and TRUNCATE into it (with the casts), and a progress row.
2. A backfill copies the table into the shadow in committed batches sized by time (``INSERT ... SELECT ... ON
   CONFLICT DO NOTHING``: a row the trigger wrote first, the application's, wins), recording in the progress row
   where it stopped: after a crash (``kill -9`` included) the step resumes after the last committed batch.
3. A check compares, in one snapshot, every row of the table (cast) with the shadow's by the key; a row that differs
   (the application deleted a row while its batch copied it) is repaired and the check runs again.
   Then ``ANALYZE`` of the shadow table (whose autovacuum is off until the swap: see :func:`create_statements`).
4. The swap, in one transaction under a bounded, retried exclusive lock (:func:`agno_alembic.online.ddl`): the
   table is dropped (its trigger with it), the shadow renamed in, its constraints and indexes renamed to the final
   names, the trigger function and the progress row removed.

A rerun after a crash at any point converges: before the shadow's transaction committed, nothing is there; after
it, the progress row says the shadow is this step's and the backfill resumes (a shadow without it is dropped and
built again); after the swap the table has its new shape and the step has nothing left to do.

What the shadow cannot carry makes the step fall back to the in-place rewrite (refused online unless accepted):
see :func:`obstacles`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from agno_alembic import dialects
from agno_alembic.data import batched
from agno_alembic.shapes._dsl import TableSpec

log = logging.getLogger("agno_alembic")

SHADOW_PREFIX = "_agno_alembic_shadow_"
"""Name prefix of the shadow table (its trigger and function: ``_agno_alembic_sync_``; its constraints and indexes,
until the swap: ``_agno_alembic_s<n>_``)."""
SYNC_PREFIX = "_agno_alembic_sync_"
BATCH_SECONDS = 0.1
"""Target duration of one backfill batch: an application write of a row the running batch has just copied waits
for that batch's commit (its trigger's upsert meets the batch's uncommitted copy), so batches stay short."""
BATCH_LOCK_WAIT = 0.2
"""How long a backfill batch or repair waits for a row lock before it rolls back and tries again (seconds): shorter
than PostgreSQL's ``deadlock_timeout`` (1 s), so where an application transaction and a batch wait for each other
(each inserted a copy the other now needs), the batch gives way before the server breaks the deadlock, which might
have chosen the application's transaction."""
REPAIR_ROUNDS = 20
"""How many check-and-repair rounds before the step gives up (each repairs up to :data:`REPAIR_KEYS` rows)."""
REPAIR_KEYS = 1000
_MAX_NAME = 63

Fill = Callable[[sa.TableClause], sa.ColumnElement[Any]]


def _short(prefix: str, name: str) -> str:
    """``prefix + name`` within PostgreSQL's 63 bytes (a long one: cut, with a hash of the whole)."""
    full = prefix + name
    if len(full.encode()) <= _MAX_NAME:
        return full
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    cut = full
    while len(cut.encode()) > _MAX_NAME - 9:
        cut = cut[:-1]
    return f"{cut}_{digest}"


def _pg_default_name(table: str, column: str | None, label: str) -> str:
    """The name PostgreSQL gives an unnamed constraint (``makeObjectName``: ``<table>[_<column>]_<label>``, the
    longer part cut first to fit 63 bytes)."""
    avail = _MAX_NAME - len(label) - 1 - (1 if column else 0)
    n1, n2 = len(table), len(column or "")
    while n1 + n2 > avail:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    return "_".join(p for p in (table[:n1], (column or "")[:n2] if column else None, label) if p)


@dataclass(frozen=True)
class Plan:
    """What the online rewrite of one table does: names, the shadow's DDL, its statements."""

    old: TableSpec
    new: TableSpec
    key: str
    carried: tuple[str, ...]
    """Columns copied from the table (cast to their new type)."""
    filled: tuple[str, ...]
    """New columns computed by their fill for existing rows (written once: the first copy of a row wins)."""
    shadow: str
    sync: str
    renames: tuple[tuple[str, str, bool], ...]
    """``(temporary, final, is_constraint)`` names of the shadow's keys and indexes."""
    select_list: str
    """The shadow's row, computed from a row of the table named ``src``."""
    dialect: sa.engine.Dialect

    @property
    def step(self) -> str:
        # ``<table>.``: status lists it under its table; the last word names what ``done`` counts (batched.UNITS)
        return f"{self.old.name}.* to {self.new.version} {batched.REWRITE}"

    def q(self, name: str) -> str:
        return self.dialect.identifier_preparer.quote(name)

    def qualified_name(self, name: str) -> str:
        return f"{self.old.schema}.{name}" if self.old.schema else name

    def table(self, name: str) -> str:
        return self.dialect.identifier_preparer.format_table(sa.table(name, schema=self.old.schema))

    @property
    def on_truncate(self) -> str:
        """The statement trigger mirroring TRUNCATE (the row trigger is named :attr:`sync`, as its function)."""
        return _short("_agno_alembic_truncate_", self.new.name)

    @property
    def columns(self) -> str:
        return ", ".join(self.q(c) for c in (*self.carried, *self.filled))


def key_of(old: TableSpec, new: TableSpec) -> str | None:
    """The one column that identifies a row in both shapes (primary key, else a one-column unique constraint)."""
    def keys(spec: TableSpec) -> set[str]:
        found = {spec.primary_key[0]} if len(spec.primary_key) == 1 else set()
        found |= {u.columns[0] for u in spec.uniques.values() if len(u.columns) == 1}
        found |= {c for c, col in spec.columns.items() if col.unique}
        return {c for c in found if not spec.columns[c].is_nullable(spec.backend)}

    both = keys(old) & keys(new)
    if new.primary_key and new.primary_key[0] in both:
        return new.primary_key[0]
    return min(both) if both else None


def plan(old: TableSpec, new: TableSpec, fill: Mapping[str, Fill], dialect: sa.engine.Dialect,
         cast: Collection[str] = ()) -> Plan | None:
    """The rewrite of ``old`` into ``new`` (``cast``: columns cast whatever the shapes say, those whose type in the
    database differs from the old shape's); ``None`` when the shapes alone rule it out (no key both share, a
    foreign key in the new shape, a new NOT NULL column with no fill)."""
    key = key_of(old, new)
    if key is None or new.foreign_keys:
        return None
    carried = tuple(c for c in new.columns if c in old.columns)
    added = [c for c in new.columns if c not in old.columns]
    if any(c not in fill and not new.columns[c].is_nullable(new.backend) for c in added):
        return None
    filled = tuple(c for c in added if c in fill)
    src = sa.table("src", *[sa.column(c) for c in old.columns])
    parts: list[sa.ColumnElement[Any]] = []
    for c in carried:
        old_type = old.columns[c].type.on(old.backend, old.version)
        new_type = new.columns[c].type.on(new.backend, new.version)
        same = dialects.type_matches(old_type, new_type, dialect)
        parts.append((src.c[c] if same and c not in cast else sa.cast(src.c[c], new_type)).label(c))
    parts += [fill[c](src).label(c) for c in filled]
    select_list = ", ".join(
        str(sa.select(p).compile(dialect=dialect, compile_kwargs={"literal_binds": True})).split("\n")[0]
        .removeprefix("SELECT ").strip() for p in parts)
    shadow = _short(SHADOW_PREFIX, new.name)
    renames: list[tuple[str, str, bool]] = []
    n = 0

    def temp() -> str:
        nonlocal n
        n += 1
        return _short(f"_agno_alembic_s{n}_", new.name)

    if new.primary_key:
        renames.append((temp(), _pg_default_name(new.name, None, "pkey"), True))
    for name in new.uniques:
        renames.append((temp(), name, True))
    for c, col in new.columns.items():
        if col.unique:
            renames.append((temp(), _pg_default_name(new.name, c, "key"), True))
    for name in new.indexes:
        renames.append((temp(), name, False))
    return Plan(old, new, key, carried, filled, shadow, _short(SYNC_PREFIX, new.name), tuple(renames), select_list,
                dialect)


# -- what the shadow cannot carry --------------------------------------------------------------------------------


def obstacles(connection: sa.Connection, p: Plan, known_indexes: set[str]) -> list[str]:
    """What the table has that a shadow table would lose or could not take: columns or indexes the shapes do not
    know, triggers, rules, row security policies, views on it, foreign keys referring to it, identity columns or
    column defaults, inheritance or partitions.  Empty: the online rewrite may run."""
    found: list[str] = []
    oid = connection.execute(sa.text("SELECT to_regclass(:t)::oid"), {"t": p.table(p.old.name)}).scalar()
    if oid is None:
        return ["the table does not exist"]

    def rows(sql: str) -> list[Any]:
        return list(connection.execute(sa.text(sql), {"oid": oid}).scalars())

    columns = rows("SELECT attname FROM pg_attribute WHERE attrelid = :oid AND attnum > 0 AND NOT attisdropped")
    if extra := [c for c in columns if c not in p.old.columns]:
        found.append(f"column(s) the shapes do not know: {', '.join(extra)}")
    if kind := rows("SELECT relkind FROM pg_class WHERE oid = :oid AND (relkind <> 'r' OR relhassubclass "
                    "OR relrowsecurity)"):
        found.append(f"a table kind the rewrite does not carry (relkind {kind[0]}, children or row security)")
    if rows("SELECT 1 FROM pg_inherits WHERE inhrelid = :oid"):
        found.append("a parent table (inheritance)")
    if generated := rows("SELECT attname FROM pg_attribute WHERE attrelid = :oid AND attnum > 0 AND NOT attisdropped "
                         "AND (attidentity <> '' OR attgenerated <> '' OR atthasdef)"):
        found.append(f"column default(s), identity or generated column(s): {', '.join(generated)}")
    indexes = rows("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                   "WHERE i.indrelid = :oid AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = "
                   "i.indexrelid AND k.conrelid = :oid)")
    if extra := [i for i in indexes if i not in known_indexes]:
        found.append(f"index(es) the shapes do not know: {', '.join(extra)}")
    if triggers := [t for t in rows("SELECT tgname FROM pg_trigger WHERE tgrelid = :oid AND NOT tgisinternal")
                    if t not in (p.sync, p.on_truncate)]:
        found.append(f"trigger(s): {', '.join(triggers)}")
    if checks := rows("SELECT conname FROM pg_constraint WHERE conrelid = :oid AND contype NOT IN ('p', 'u', 'n')"):
        found.append(f"constraint(s) the shapes do not know: {', '.join(checks)}")
    if refs := rows("SELECT conrelid::regclass::text || '.' || conname FROM pg_constraint WHERE confrelid = :oid "
                    "AND contype = 'f'"):
        found.append(f"foreign key(s) referring to it: {', '.join(refs)}")
    if views := rows("SELECT DISTINCT r.ev_class::regclass::text FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
                     "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = :oid AND r.ev_class <> :oid"):
        found.append(f"view(s) or rule(s) on it: {', '.join(views)}")
    if rules := rows("SELECT rulename FROM pg_rewrite WHERE ev_class = :oid"):
        found.append(f"rule(s): {', '.join(rules)}")
    if rows("SELECT 1 FROM pg_policy WHERE polrelid = :oid"):
        found.append("row security policies")
    return found


# -- the statements ----------------------------------------------------------------------------------------------


def create_statements(connection: sa.Connection | None, p: Plan) -> list[str]:
    """The shadow table, its indexes, the trigger function and triggers, the table's grants and owner (read from
    ``connection``; none without one), in one transaction (``BEGIN`` ... ``COMMIT``)."""
    md = sa.MetaData()
    temp = iter(t for t, _, _ in p.renames)
    constraints: list[sa.Constraint] = []
    if p.new.primary_key:
        constraints.append(sa.PrimaryKeyConstraint(*p.new.primary_key, name=next(temp)))
    for u in p.new.uniques.values():
        constraints.append(sa.UniqueConstraint(*u.columns, name=next(temp)))
    for c, col in p.new.columns.items():
        if col.unique:
            constraints.append(sa.UniqueConstraint(c, name=next(temp)))
    table = sa.Table(p.shadow, md, *p.new.sa_columns(), *constraints, schema=p.new.schema)
    out = [str(sa.schema.CreateTable(table).compile(dialect=p.dialect)).strip()]
    for index in p.new.indexes.values():
        ix = sa.Index(next(temp), *[table.c[c] for c in index.columns], unique=index.unique,
                      **p.new.index_kwargs(index))
        out.append(str(sa.schema.CreateIndex(ix).compile(dialect=p.dialect)).strip())
    shadow, key = p.table(p.shadow), p.q(p.key)
    # no autovacuum on the shadow table until the swap: its lock would make the swap's bounded tries fail again and
    # again (it gives way only to a wait longer than deadlock_timeout); ANALYZE runs before the swap instead
    out.append(f"ALTER TABLE {shadow} SET (autovacuum_enabled = false)")
    fn = p.table(p.sync)
    updates = ", ".join(f"{p.q(c)} = EXCLUDED.{p.q(c)}" for c in p.carried)
    out.append(
        f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $agno_alembic$\n"
        f"BEGIN\n"
        f"  IF TG_OP = 'TRUNCATE' THEN\n"
        f"    TRUNCATE {shadow};\n"
        f"    RETURN NULL;\n"
        f"  END IF;\n"
        f"  IF TG_OP = 'DELETE' THEN\n"
        f"    DELETE FROM {shadow} WHERE {key} = OLD.{key};\n"
        f"    RETURN NULL;\n"
        f"  END IF;\n"
        f"  IF TG_OP = 'UPDATE' THEN\n"
        f"    IF OLD.{key} IS DISTINCT FROM NEW.{key} THEN\n"
        f"      DELETE FROM {shadow} WHERE {key} = OLD.{key};\n"
        f"    END IF;\n"
        f"  END IF;\n"
        f"  INSERT INTO {shadow} ({p.columns}) SELECT {p.select_list} FROM (SELECT NEW.*) AS src\n"
        f"    ON CONFLICT ({key}) DO UPDATE SET {updates};\n"
        f"  RETURN NULL;\n"
        f"END\n"
        f"$agno_alembic$")
    old = p.table(p.old.name)
    trigger = p.q(p.sync)
    out.append(f"CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE ON {old} FOR EACH ROW "
               f"EXECUTE FUNCTION {fn}()")
    out.append(f"CREATE TRIGGER {p.q(p.on_truncate)} AFTER TRUNCATE ON {old} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()")
    if connection is not None:
        out += _grants(connection, p)
    return out


def _grants(connection: sa.Connection, p: Plan) -> list[str]:
    """The table's owner (where it is not the migration's role) and privileges, given to the shadow."""
    owner, current = connection.execute(sa.text(
        "SELECT pg_get_userbyid(relowner), current_user FROM pg_class WHERE oid = to_regclass(:t)"),
        {"t": p.table(p.old.name)}).one()
    shadow = p.table(p.shadow)
    out = [f"ALTER TABLE {shadow} OWNER TO {p.q(owner)}"] if owner != current else []
    for grantee, privilege, grantable in connection.execute(sa.text(
            "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, "
            "a.is_grantable FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = to_regclass(:t) "
            "AND a.grantee <> c.relowner ORDER BY 1, 2"), {"t": p.table(p.old.name)}):
        who = "PUBLIC" if grantee is None else p.q(grantee)
        out.append(f"GRANT {privilege} ON {shadow} TO {who}{' WITH GRANT OPTION' if grantable else ''}")
    return out


def batch_statement(p: Plan, *, first: bool) -> str:
    """One backfill batch: the next ``:size`` rows after key ``:after`` (the first batch: from the start) copied
    where the shadow has no row of their key yet; returns the batch's last key and its row count."""
    key = p.q(p.key)
    key_type = p.old.columns[p.key].type.on(p.old.backend, p.old.version).compile(dialect=p.dialect)
    where = "" if first else f" WHERE src.{key} > CAST(:after AS {key_type})"
    return (f"WITH batch AS (SELECT {p.select_list} FROM {p.table(p.old.name)} AS src{where} "
            f"ORDER BY src.{key} LIMIT :size), "
            f"copied AS (INSERT INTO {p.table(p.shadow)} ({p.columns}) SELECT {p.columns} FROM batch "
            f"ON CONFLICT DO NOTHING RETURNING 1) "
            f"SELECT CAST(max({key}) AS TEXT), count(*), (SELECT count(*) FROM copied) FROM batch")


def check_statement(p: Plan) -> str:
    """The rows whose shadow copy is missing, extra or differs (carried columns, compared as text), in one
    snapshot: ``(key as text, missing_in_shadow, missing_in_table)``, at most :data:`REPAIR_KEYS`."""
    key = p.q(p.key)
    differ = " OR ".join(f"CAST(o.{p.q(c)} AS TEXT) IS DISTINCT FROM CAST(s.{p.q(c)} AS TEXT)" for c in p.carried)
    return (f"SELECT CAST(COALESCE(o.{key}, s.{key}) AS TEXT), s.{key} IS NULL, o.{key} IS NULL "
            f"FROM (SELECT {p.select_list} FROM {p.table(p.old.name)} AS src) AS o "
            f"FULL JOIN {p.table(p.shadow)} AS s ON s.{key} = o.{key} "
            f"WHERE o.{key} IS NULL OR s.{key} IS NULL OR {differ} LIMIT {REPAIR_KEYS}")


def repair_statements(p: Plan) -> tuple[str, str]:
    """Copy again the rows of keys ``:keys`` from the table (the table's row wins), and delete the shadow's rows of
    keys ``:keys`` the table no longer has."""
    key = p.q(p.key)
    key_type = p.old.columns[p.key].type.on(p.old.backend, p.old.version).compile(dialect=p.dialect)
    updates = ", ".join(f"{p.q(c)} = EXCLUDED.{p.q(c)}" for c in p.carried)
    shadow, old = p.table(p.shadow), p.table(p.old.name)
    return (
        f"INSERT INTO {shadow} ({p.columns}) SELECT {p.select_list} FROM {old} AS src "
        f"WHERE src.{key} = ANY(CAST(:keys AS {key_type}[])) ON CONFLICT ({key}) DO UPDATE SET {updates}",
        f"DELETE FROM {shadow} AS s WHERE s.{key} = ANY(CAST(:keys AS {key_type}[])) "
        f"AND NOT EXISTS (SELECT 1 FROM {old} AS o WHERE o.{key} = s.{key})",
    )


def swap_statements(p: Plan) -> list[str]:
    """The swap, one transaction: the table locked (bounded wait), dropped with its trigger, the shadow renamed in
    with its final constraint and index names, the function gone (the progress row goes in the same transaction)."""
    old = p.table(p.old.name)
    out = [f"LOCK TABLE {old} IN ACCESS EXCLUSIVE MODE", f"DROP TABLE {old}",
           f"ALTER TABLE {p.table(p.shadow)} RENAME TO {p.q(p.new.name)}"]
    new = p.table(p.new.name)
    for temp, final, constraint in p.renames:
        if constraint:  # renames its index too
            out.append(f"ALTER TABLE {new} RENAME CONSTRAINT {p.q(temp)} TO {p.q(final)}")
        else:
            out.append(f"ALTER INDEX {p.table(temp)} RENAME TO {p.q(final)}")
    out.append(f"ALTER TABLE {new} RESET (autovacuum_enabled)")
    out.append(f"DROP FUNCTION {p.table(p.sync)}()")
    return out


def analyze_statement(p: Plan) -> str:
    """Statistics for the shadow table before it is swapped in (its autovacuum is off until then)."""
    return f"ANALYZE {p.table(p.shadow)}"


def cleanup_statements(p: Plan) -> list[str]:
    """What a shadow left behind by another run (or not this step's) is removed with (its triggers go with the
    function)."""
    return [f"DROP TABLE IF EXISTS {p.table(p.shadow)}", f"DROP FUNCTION IF EXISTS {p.table(p.sync)}() CASCADE"]


def in_transaction(statements: Sequence[str]) -> list[str]:
    return ["BEGIN", *statements, "COMMIT"]


# -- running it --------------------------------------------------------------------------------------------------


def _plan_only(statement: str) -> str:
    """A statement with parameters, written into ``plan``'s script as it is (its ``:name`` kept as text)."""
    return statement.replace(":after", r"\:after").replace(":size", r"\:size").replace(":keys", r"\:keys")


def describe(p: Plan, reader: sa.Connection | None) -> None:
    """``plan``: the statements the online rewrite sends, in order, written into the script being read."""
    from alembic import op

    from agno_alembic.data import batched

    for statement in in_transaction(create_statements(reader, p)):
        op.execute(statement)
    op.execute(_plan_only(
        f"-- in committed batches of about {BATCH_SECONDS:g} s of work ({batched.MIN_BATCH} to {batched.MAX_BATCH} "
        f"rows each), each recorded in {batched.PROGRESS_TABLE} and resumed from there after a crash; the "
        "application's writes reach the shadow table through the trigger meanwhile (its row wins). One batch:\n"
        + batch_statement(p, first=False)))
    op.execute(_plan_only(
        "-- then, in one snapshot, every row compared with its copy (rows that differ copied again, and the check "
        "run again):\n" + check_statement(p)))
    op.execute(analyze_statement(p))
    for statement in in_transaction(swap_statements(p)):
        op.execute(statement)


def run(p: Plan) -> None:
    """The online rewrite on the step's connection (see the module): resumed where a previous run stopped."""
    from alembic import op

    from agno_alembic import online, runtime
    from agno_alembic.data import batched
    from agno_alembic.errors import DataVerificationError

    state = runtime.state()
    bind = op.get_bind()
    progress = batched.progress_table(p.old.schema)
    insp = sa.inspect(bind)
    if not insp.has_table(progress.name, schema=progress.schema):
        online.ddl(lambda: progress.create(bind, checkfirst=True), kind="create_table", table=progress.name,
                   schema=progress.schema)
    batched._commit(bind)

    def transaction(kind: str, statements: Sequence[str], last: Callable[[], object] | None = None) -> None:
        def go() -> None:
            try:
                op.execute("BEGIN")
                for statement in statements:
                    op.execute(statement)
                if last is not None:
                    last()
                op.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sa.exc.DBAPIError):
                    bind.exec_driver_sql("ROLLBACK")
                raise
        online.ddl(go, kind=kind, table=p.old.name, schema=p.old.schema)

    row = bind.execute(sa.select(progress).where(progress.c.step == p.step)).first()
    trigger = bind.execute(sa.text(
        "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(:t) AND tgname = :n"),
        {"t": p.table(p.old.name), "n": p.sync}).first()
    shadow = insp.has_table(p.shadow, schema=p.old.schema)
    batched._commit(bind)
    if row is not None and trigger is not None and shadow:
        after: str | None = row.position or None
        done = int(row.done)
        log.info("%s: resuming the backfill after %d row(s) (key %r)", p.step, done, after)
    else:
        if row is not None or trigger is not None or shadow:
            log.warning("%s: removing a shadow table left by an interrupted run that is not this step's, to begin "
                        "again", p.step)
            transaction("alter_type", cleanup_statements(p),
                        lambda: bind.execute(progress.delete().where(progress.c.step == p.step)))
        total = int(bind.execute(sa.select(sa.func.count()).select_from(sa.table(
            p.old.name, schema=p.old.schema))).scalar_one())
        batched._commit(bind)
        now = int(time.time())
        transaction("alter_type", create_statements(bind, p), lambda: bind.execute(progress.insert().values(
            step=p.step, position="", done=0, total=total, started_at=now, updated_at=now)))
        after, done = None, 0
    began = time.monotonic()
    try:
        with _giving_way(bind):
            done = _backfill(bind, state.backend, p, progress, after, done)
            log.info("%s: %d row(s) copied into the shadow table in committed batches (%.1fs)", p.step, done,
                     time.monotonic() - began)
            _check_and_repair(bind, state.backend, p)
    except (sa.exc.DBAPIError, DataVerificationError) as exc:
        # a row the new type refuses, a check that does not converge: resuming would not help, and the trigger
        # would go on taxing (and, for such a row, failing) the application's writes; the table is unchanged
        log.warning("%s failed (%s); removing the shadow table and its trigger", p.step,
                    str(getattr(exc, "orig", exc)).splitlines()[0])
        online._rollback_any(bind)
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            transaction("alter_type", cleanup_statements(p),
                        lambda: bind.execute(progress.delete().where(progress.c.step == p.step)))
            _drop_progress_if_empty(bind, progress)
        raise
    online.ddl(lambda: op.execute(analyze_statement(p)), kind="alter_type", table=p.old.name, schema=p.old.schema,
               patient=True)  # its lock blocks none of the application's reads and writes
    transaction("alter_type", swap_statements(p),
                lambda: bind.execute(progress.delete().where(progress.c.step == p.step)))
    log.info("%s: swapped in under a short exclusive lock", p.step)
    _drop_progress_if_empty(bind, progress)


def _drop_progress_if_empty(bind: sa.Connection, progress: sa.Table) -> None:
    """No step in progress: agno-alembic's bookkeeping leaves nothing behind (as :mod:`agno_alembic.data.batched`)."""
    from agno_alembic import online
    from agno_alembic.data import batched

    if not bind.execute(sa.select(sa.func.count()).select_from(progress)).scalar_one():
        online.ddl(lambda: progress.drop(bind, checkfirst=True), kind="drop_table", table=progress.name,
                   schema=progress.schema)
    batched._commit(bind)


@contextlib.contextmanager
def _giving_way(bind: sa.Connection) -> Iterator[None]:
    """The backfill's and the repairs' lock waits bounded by :data:`BATCH_LOCK_WAIT` (a session setting, committed
    at once so that a batch rolled back does not take it back with it)."""
    from agno_alembic import online
    from agno_alembic.data import batched

    saved = bind.exec_driver_sql("SELECT current_setting('lock_timeout')").scalar_one()
    bind.exec_driver_sql(f"SET lock_timeout = '{round(BATCH_LOCK_WAIT * 1000)}ms'")
    batched._commit(bind)
    try:
        yield
    finally:
        with contextlib.suppress(sa.exc.DBAPIError):
            online._rollback_any(bind)
            bind.exec_driver_sql(f"SET lock_timeout = '{saved}'")
            batched._commit(bind)


def _backfill(bind: sa.Connection, backend: str, p: Plan, progress: sa.Table, after: str | None, done: int) -> int:
    from agno_alembic.data import batched

    sizer = batched._Sizer(backend, seconds=BATCH_SECONDS)
    first, rest = sa.text(batch_statement(p, first=True)), sa.text(batch_statement(p, first=False))
    last_log = time.monotonic()

    def one(position: str | None, size: int) -> tuple[str | None, int]:
        statement = first if position is None else rest
        params: dict[str, Any] = {"size": size} if position is None else {"size": size, "after": position}
        last, rows, _ = bind.execute(statement, params).one()
        if rows:
            bind.execute(progress.update().where(progress.c.step == p.step).values(
                position=last, done=progress.c.done + rows, updated_at=int(time.time())))
        batched._commit(bind)
        return last, int(rows)

    while True:
        with sizer.timing():
            last, rows = batched._retrying(bind, backend, lambda a=after, s=sizer.size: one(a, s))
        if not rows:
            return done
        after, done = last, done + rows
        if time.monotonic() - last_log >= 10:
            last_log = time.monotonic()
            log.info("%s: %d row(s) copied (%d per batch)", p.step, done, sizer.size)


def _check_and_repair(bind: sa.Connection, backend: str, p: Plan) -> None:
    """Every row of the table has its exact copy in the shadow table, and the shadow no other row."""
    from agno_alembic.data import batched
    from agno_alembic.errors import DataVerificationError

    check = sa.text(check_statement(p))
    upsert, delete = (sa.text(s) for s in repair_statements(p))
    found: list[Any] = []

    def repair(copy: list[str], gone: list[str]) -> None:
        if copy:
            bind.execute(upsert, {"keys": copy})
        if gone:
            bind.execute(delete, {"keys": gone})
        batched._commit(bind)

    for _ in range(REPAIR_ROUNDS):
        found = list(bind.execute(check))
        batched._commit(bind)
        if not found:
            return
        copy = [k for k, missing, extra in found if not extra]
        gone = [k for k, missing, extra in found if extra]
        log.info("%s: copying %d row(s) again and removing %d the table no longer has", p.step, len(copy), len(gone))
        batched._retrying(bind, backend, lambda c=copy, g=gone: repair(c, g))
    examples = [k for k, _, _ in found[:10]]
    raise DataVerificationError(
        f"{p.step}: after {REPAIR_ROUNDS} rounds, {len(found)} row(s) of the shadow table still differ from the "
        f"table (e.g. keys {examples}); the table is unchanged and the step is not recorded as applied (run it "
        "again: it resumes).",
        step=p.step, table=p.old.name, expected=len(found), missing=len(found), examples=examples,
    )
