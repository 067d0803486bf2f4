"""The verbs revisions use, written once over the shapes and the dialect layer.

A revision says *which* table moves from *which* schema version to *which*; the shapes say what the table
looks like at each version, and these operations compute and apply the difference, on every backend:

* :func:`create_table` / :func:`drop_table` for base revisions;
* :func:`evolve` for every later step.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import op

from agno_alembic import dialects, online, registry, runtime, shapes
from agno_alembic.dialects import online as online_dialect
from agno_alembic.errors import DataVerificationError, DowngradeRefusedError, OfflineSQLError, RewriteRefusedError
from agno_alembic.shapes._dsl import ForeignKey, Index, TableSpec, Unique

if TYPE_CHECKING:
    from agno_alembic.vectors import VectorTable

log = logging.getLogger("agno_alembic")

#: A fill computes a new NOT NULL column's value for existing rows from the table's other columns.
Fill = Callable[[sa.TableClause], sa.ColumnElement[Any]]
#: A data rule of a step: a check before it, or a change to rows after it (:mod:`agno_alembic.data.checks`).
DataRule = Callable[[sa.Connection, TableSpec], object]


def _spec(table_type: str, version: str) -> TableSpec | None:
    run = runtime.state()
    tt = registry.table_type(table_type)
    if not tt.on(run.backend):
        return None
    return shapes.spec(tt.name, run.backend, version, run.names)


def _exists(name: str, schema: str | None) -> bool:
    return sa.inspect(op.get_bind()).has_table(name, schema=schema)


# -- offline (--sql): what the script knows, and what it refuses ----------------------------------------------

_CREATED_HERE = "agno_created_here"
OFFLINE_READER = "agno_offline_reader"
OFFLINE_PREVIEW = "agno_offline_preview"
"""A script written to be read, not applied (``plan``): a step decided by the rows is described, not refused."""
"""Context option: a read-only connection to the database a ``--sql`` script is written for (``agno-alembic up/down
--sql`` give one), read as it is before the script: what holds rows decides the data-dependent steps."""


def _created_here(spec: TableSpec) -> bool:
    """Offline: whether this script created ``spec``'s table (so it holds no row when the step runs)."""
    return (spec.schema, spec.name) in op.get_context().opts.get(_CREATED_HERE, set())


def _reader_columns(spec: TableSpec) -> tuple[sa.Connection, set[str]] | None:
    reader = op.get_context().opts.get(OFFLINE_READER)
    if reader is None:
        return None
    insp = sa.inspect(reader)
    if not insp.has_table(spec.name, schema=spec.schema):
        return None
    return reader, {c["name"] for c in insp.get_columns(spec.name, schema=spec.schema)}


def _known_empty(spec: TableSpec) -> bool:
    """Offline: whether the table is known to hold no row when the step runs (this script created it, or the
    database the script is written for holds none)."""
    if _created_here(spec):
        return True
    found = _reader_columns(spec)
    if found is None:
        return False
    query = sa.select(sa.literal(1)).select_from(_table_clause(spec, [])).limit(1)
    return found[0].execute(query).first() is None


def _known_holding(spec: TableSpec, column: str, empty: object = None) -> bool | None:
    """Offline: whether ``column`` holds data, read from the database the script is written for; ``None``: unknown."""
    if _known_empty(spec):
        return False
    found = _reader_columns(spec)
    if found is None or column not in found[1]:
        return None
    t = _table_clause(spec, [column])
    query = sa.select(sa.literal(1)).select_from(t).where(*_holding(t, column, empty)).limit(1)
    return found[0].execute(query).first() is not None


def _note_created(spec: TableSpec, created: bool) -> None:
    tables = op.get_context().opts.setdefault(_CREATED_HERE, set())
    (tables.add if created else tables.discard)((spec.schema, spec.name))


def _running_step() -> str:
    """The revision being run, as ``upgrade agno_sessions_3_0_0``, read from the revision module's frame."""
    frame = inspect.currentframe()
    while frame is not None:
        found = frame.f_globals
        if "agno_table_type" in found and isinstance(found.get("revision"), str):
            return f"{frame.f_code.co_name} {found['revision']}"
        frame = frame.f_back
    return "this step"


def _refuse_offline(spec: TableSpec, what: str, advice: str = "") -> None:
    """Refuse to write a ``--sql`` script across a step whose outcome depends on the rows in the database."""
    step = _running_step()
    if op.get_context().opts.get(OFFLINE_PREVIEW):
        op.execute(f"-- {step}: {what}; decided by the rows when it runs")
        return
    raise OfflineSQLError(
        f"--sql cannot write {step} for {spec.backend}: {what}. Run this step online (without --sql), or write the "
        f"script up to the step before it{advice}; nothing was printed.",
        step=step, table=spec.name, backend=spec.backend,
    )


def _online_forms() -> bool:
    """The statements take their online forms: online mode is running, or ``plan`` describes it (a script written to
    be read, of a run in online mode).  The forms are decided here once, so ``plan`` lists what online mode runs."""
    run = runtime.state()
    return run.live or (run.online and run.offline and bool(op.get_context().opts.get(OFFLINE_PREVIEW)))


def _populated(spec: TableSpec) -> bool:
    """Whether the table holds rows: read, or, in a script, as the database it is written for says."""
    return not _known_empty(spec) if runtime.state().offline else _has_rows(spec)


def create_table(table_type: str, version: str) -> None:
    """Create ``table_type``'s table as Agno creates it fresh at schema ``version``."""
    spec = _spec(table_type, version)
    if spec is None:
        return
    run = runtime.state()
    if table_type == "versions" and not run.offline and _exists(spec.name, spec.schema):
        log.info("%s already exists (Agno creates it on first use); keeping it", spec.name)
        return
    # Where each DDL statement commits by itself (MySQL; every backend online) an interrupted run may have left the
    # table created without all its indexes.
    if not run.offline and (run.online or not dialects.capabilities(run.backend).transactional_ddl) \
            and _exists(spec.name, spec.schema) and _resume_create(spec):
        return
    online.ddl(lambda: op.create_table(
        spec.name, *spec.sa_columns(), *spec.sa_constraints(), schema=spec.schema, **dialects.table_options(spec)
    ), kind="create_table", table=spec.name, schema=spec.schema)
    if run.backend == registry.MYSQL and _online_forms() and spec.indexes:
        # one statement for every index: the application may use the table the moment it exists (an Agno 3.x
        # replica writing runs), and each online try on MariaDB is NOWAIT: one metadata lock to find a gap for,
        # not one per index (nine CREATE INDEX on the empty runs table took 3 to 31 tries each, 20 s in all)
        statement = add_indexes_statement(op.get_context().dialect, spec, list(spec.indexes))
        if run.live:
            bind = op.get_bind()
            online.ddl(lambda: bind.exec_driver_sql(statement), kind="create_index", table=spec.name,
                       schema=spec.schema)
        else:  # plan's preview of online mode
            op.execute(statement)
    else:
        for name, index in spec.indexes.items():
            _create_index(spec, name, index, fresh=True)
    if run.offline:
        _note_created(spec, True)


def _resume_create(spec: TableSpec) -> bool:
    """Finish a CREATE TABLE step an interrupted run left half done (MySQL, SingleStore, and every backend online:
    each DDL statement commits by itself).

    The table is taken as the step's own only when its columns and primary key are exactly the shape's; then the
    indexes it lacks are created.  Anything else is left to fail as "table exists".
    """
    insp = sa.inspect(op.get_bind())
    actual = {c["name"]: c for c in insp.get_columns(spec.name, schema=spec.schema)}
    pk = tuple(insp.get_pk_constraint(spec.name, schema=spec.schema).get("constrained_columns") or ())
    dialect = op.get_bind().dialect
    if set(actual) != set(spec.columns) or set(pk) != set(spec.primary_key) or not all(
        _column_matches(actual[c], spec, c, dialect) for c in spec.columns
    ):
        return False
    present = {i["name"] for i in insp.get_indexes(spec.name, schema=spec.schema)}
    missing = {n: i for n, i in spec.indexes.items() if n not in present}
    log.warning("%s exists with this step's shape (an interrupted run created it); creating its %d missing "
                "index(es)", _qualified(spec), len(missing))
    for name, index in missing.items():
        _create_index(spec, name, index)
    return True


def rebuild_table(connection: sa.Connection, state: runtime.RunState, table_type: str, version: str) -> None:
    """Create a table that is gone again, outside any revision, as Agno creates it fresh at schema ``version``.

    The facade calls it for a table agno-alembic recorded that no longer exists (someone dropped it): the
    branch's record stays, the table comes back at the recorded version's shape (empty), and foreign keys of
    tables referring to it that went with it (PostgreSQL's ``DROP TABLE ... CASCADE``) are restored.
    """
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    # The table is gone, so no session holds a lock on it: its CREATE needs no online care, and runs in the
    # facade's transaction like the adoption around it (online mode would commit that transaction under it).
    context = MigrationContext.configure(connection, opts={runtime.RUN_STATE_KEY: replace(state, online=False)})
    with Operations.context(context):
        create_table(table_type, version)


def restore_foreign_keys(connection: sa.Connection, spec: TableSpec, parents: Collection[str]) -> list[str]:
    """Add the foreign keys of ``spec`` to the tables of ``parents`` (table types) that its table lacks.

    Returns the referred table names whose key was added.  SQLite keeps a foreign key in the table's own DDL,
    so there nothing is ever missing.
    """
    wanted = [fk for fk in spec.foreign_keys if fk.referred_type in parents]
    if not wanted or spec.backend == registry.SQLITE:
        return []
    present = {
        (tuple(found["constrained_columns"]), found["referred_table"])
        for found in sa.inspect(connection).get_foreign_keys(spec.name, schema=spec.schema)
    }
    added = []
    for fk in wanted:
        target = spec.referred[fk.referred_type]
        if (fk.columns, target) in present:
            continue
        constraint = spec.sa_foreign_key(fk)
        table = sa.Table(spec.name, sa.MetaData(), *[sa.Column(c) for c in fk.columns], schema=spec.schema)
        sa.Table(target, table.metadata, *[sa.Column(c) for c in fk.referred_columns], schema=spec.schema)
        table.append_constraint(constraint)
        connection.execute(sa.schema.AddConstraint(constraint))
        added.append(target)
    return added


#: Counts what dropping a table would lose, where not every row is loss (see :func:`drop_table`).
LossCount = Callable[[sa.Connection, runtime.RunState], int]


def drop_table(table_type: str, version: str, *, lost: LossCount | None = None) -> None:
    """Drop ``table_type``'s table; refused while it holds rows, unless data loss is explicitly allowed.

    ``lost`` counts the rows that would really be lost, for a table whose rows are kept elsewhere.
    """
    spec = _spec(table_type, version)
    if spec is None:
        return
    run = runtime.state()
    if run.offline and not _known_empty(spec) and not run.allow_data_loss:
        _refuse_offline(spec, f"dropping {_qualified(spec)} destroys the rows it holds, which a script cannot check",
                        " (or allow data loss explicitly: --allow-data-loss, -x allow_data_loss=true)")
    if run.offline:
        _note_created(spec, False)
    else:
        if not _exists(spec.name, spec.schema):
            return
        if lost is not None:
            rows = lost(op.get_bind(), run)
        elif table_type == "versions":
            # Agno's own bookkeeping: rows saying 2.0.0 say what a missing row says, so they carry nothing.
            rows = _count(spec, "version", registry.SCHEMA_VERSIONS[0])
        else:
            rows = _count(spec, None)
        if rows and not run.allow_data_loss:
            raise DowngradeRefusedError(
                f"Refusing to drop {_qualified(spec)}: it holds {rows} row(s). Back them up, then allow data "
                "loss explicitly (-x allow_data_loss=true, or allow_data_loss=True in Python).",
                table=spec.name,
                would_destroy=f"{rows} row(s)",
                allow_option="allow_data_loss",
            )
    online.ddl(lambda: op.drop_table(spec.name, schema=spec.schema), kind="drop_table", table=spec.name,
               schema=spec.schema)


@dataclass
class _Diff:
    old: TableSpec
    new: TableSpec
    add_columns: list[str] = field(default_factory=list)
    drop_columns: list[str] = field(default_factory=list)
    alter_columns: list[str] = field(default_factory=list)
    add_uniques: dict[str, Unique] = field(default_factory=dict)
    drop_uniques: dict[str, Unique] = field(default_factory=dict)
    add_indexes: dict[str, Index] = field(default_factory=dict)
    drop_indexes: dict[str, Index] = field(default_factory=dict)
    add_fks: list[ForeignKey] = field(default_factory=list)
    drop_fks: list[ForeignKey] = field(default_factory=list)
    reflected: dict[str, Mapping[str, object]] = field(default_factory=dict)
    """Columns already present whose reflected definition differs from the shape (see :func:`_reconcile`)."""

    @property
    def pk_changed(self) -> bool:
        return self.old.primary_key != self.new.primary_key

    @property
    def empty(self) -> bool:
        return not (
            self.add_columns or self.drop_columns or self.alter_columns or self.add_uniques or self.drop_uniques
            or self.add_indexes or self.drop_indexes or self.add_fks or self.drop_fks or self.pk_changed
        )

    def needs_rebuild(self) -> bool:
        """Whether SQLite must rebuild the table (it cannot ALTER keys, types or NOT NULL)."""
        not_null_added = any(not self.new.columns[c].is_nullable(self.new.backend) for c in self.add_columns)
        return bool(
            self.pk_changed or self.alter_columns or self.add_uniques or self.drop_uniques or self.add_fks
            or self.drop_fks or self.drop_columns or not_null_added
            or any(self.new.columns[c].unique for c in self.add_columns)
        )


def _type_sig(spec: TableSpec, name: str) -> tuple[str, bool]:
    col = spec.columns[name]
    return repr(col.type.on(spec.backend, spec.version)), col.is_nullable(spec.backend)


def _diff(old: TableSpec, new: TableSpec) -> _Diff:
    d = _Diff(old, new)
    d.add_columns = [c for c in new.columns if c not in old.columns]
    d.drop_columns = [c for c in old.columns if c not in new.columns]
    d.alter_columns = [c for c in new.columns if c in old.columns and _type_sig(old, c) != _type_sig(new, c)]
    d.add_uniques = {n: u for n, u in new.uniques.items() if old.uniques.get(n) != u}
    d.drop_uniques = {n: u for n, u in old.uniques.items() if new.uniques.get(n) != u}
    d.add_indexes = {n: i for n, i in new.indexes.items() if old.indexes.get(n) != i}
    d.drop_indexes = {n: i for n, i in old.indexes.items() if new.indexes.get(n) != i}
    d.add_fks = [f for f in new.foreign_keys if f not in old.foreign_keys]
    d.drop_fks = [f for f in old.foreign_keys if f not in new.foreign_keys]
    return d


def evolve(
    table_type: str,
    from_version: str,
    to_version: str,
    *,
    fill: Mapping[str, Fill] | None = None,
    empty: Mapping[str, object] | None = None,
    keep_if_populated: Collection[str] = (),
    may_exist: Collection[str] = (),
    before: DataRule | None = None,
    after: DataRule | None = None,
) -> None:
    """Bring ``table_type``'s table from its shape at ``from_version`` to its shape at ``to_version``.

    ``fill`` gives the value of an added NOT NULL column for existing rows.  A dropped column that holds data
    (a value that is not NULL and not its ``empty`` value; a tuple there lists JSON texts that mean empty,
    such as ``("null", "[]")``) is kept when named in ``keep_if_populated``;
    otherwise the step refuses unless data loss is explicitly allowed.

    ``before`` runs on the live table before any change (a check that may refuse the step), ``after`` once the
    table has its new shape (a data rule of the step); offline, both are left out with a comment.
    ``may_exist`` names columns an offline script cannot know the presence of (kept by ``keep_if_populated`` on
    the way up): offline, the script says so instead of adding them.
    """
    old, new = _spec(table_type, from_version), _spec(table_type, to_version)
    if old is None or new is None:
        return
    run = runtime.state()
    _data_rule(before, old, "check")
    d = _diff(old, new)
    if d.empty:
        _data_rule(after, new, "data rule")
        return
    if not run.offline:
        d = _reconcile(d)
        if d.empty:
            return
    elif may_exist and any(c in may_exist for c in d.add_columns) and not _created_here(old):
        found = _reader_columns(old)
        if found is None:
            kept = ", ".join(f"{new.name}.{c}" for c in d.add_columns if c in may_exist)
            _refuse_offline(old, f"{kept} may still exist (kept while it held data), which a script cannot check")
        else:  # the database read for this script says which are there
            d = replace(d, add_columns=[c for c in d.add_columns if c not in may_exist or c not in found[1]])
    d = _protect_dropped_columns(d, empty or {}, keep_if_populated, run)
    if run.backend == registry.SQLITE and d.needs_rebuild():
        _rebuild_sqlite(d, fill or {})
    else:
        _alter(d, fill or {})
    _data_rule(after, new, "data rule")


def _data_rule(rule: DataRule | None, spec: TableSpec, what: str) -> None:
    """Run a check or a data rule; offline, a check is left out with a comment (it changes nothing: the step's
    DDL fails on the data it guards against), a data rule is refused unless the script created the table."""
    if rule is None:
        return
    if runtime.state().offline:
        name = getattr(rule, "__name__", what)
        if _known_empty(spec):
            op.execute(f"-- {spec.name}: {name} ({what}) has nothing to do: the table holds no row")
        elif what == "check":
            op.execute(f"-- {spec.name}: {name} ({what}) needs a live connection")
        else:
            _refuse_offline(spec, f"its data rule {name} changes rows of {_qualified(spec)} by what they hold")
        return
    rule(op.get_bind(), spec)


def _reconcile(d: _Diff) -> _Diff:
    """Fit the planned changes to the table as it is: skip what is already there, fix what is there but differs.

    This is what makes a step safe to re-run, and what repairs a table Agno's own migration left unlike its fresh
    create (a column of the wrong type or with a leftover default, an index under another name).
    """
    bind = op.get_bind()
    insp = sa.inspect(bind)
    name, schema = d.old.name, d.old.schema
    actual = {c["name"]: c for c in insp.get_columns(name, schema=schema)}
    indexes = {i["name"] for i in insp.get_indexes(name, schema=schema)}
    if runtime.state().live and runtime.state().backend == registry.POSTGRESQL:
        # An interrupted CREATE INDEX CONCURRENTLY left these INVALID: dropped now (a type change would rebuild
        # them and fail), built again with the step's other indexes.
        for invalid in online_dialect.invalid_indexes(bind, name, schema) & (set(d.old.indexes) | set(d.new.indexes)):
            _drop_invalid_index(name, schema, invalid)
            indexes.discard(invalid)
        # ... and an interrupted SET NOT NULL may have left its helper check (see _set_not_null)
        for check in insp.get_check_constraints(name, schema=schema):
            if str(check.get("name") or "").startswith(_NN_CHECK):
                _drop_check(d.old, str(check["name"]))
    uniques = {u["name"] for u in insp.get_unique_constraints(name, schema=schema)} | indexes
    pk = tuple(insp.get_pk_constraint(name, schema=schema).get("constrained_columns") or ())
    old_columns = dict(d.old.columns)
    # a column already as the new shape says (an interrupted run changed it, and committed) is left alone: online,
    # a type change the run already made must not rewrite the table again
    add = []
    alter = [c for c in d.alter_columns if c not in actual or not _column_matches(actual[c], d.new, c, bind.dialect)]
    for c in d.add_columns:
        if c not in actual:
            add.append(c)
            continue
        old_columns[c] = d.new.columns[c]
        if not _column_matches(actual[c], d.new, c, bind.dialect):
            alter.append(c)
            d.reflected[c] = actual[c]
    legacy = {
        i.replaces.format(T=d.new.name): i
        for i in d.new.indexes.values()
        if i.replaces and i.replaces.format(T=d.new.name) in indexes
    }
    return replace(
        d,
        old=replace(d.old, columns=old_columns, primary_key=pk),
        add_columns=add,
        alter_columns=alter,
        drop_columns=[c for c in d.drop_columns if c in actual],
        add_uniques={n: u for n, u in d.add_uniques.items() if n not in uniques},
        drop_uniques={n: u for n, u in d.drop_uniques.items() if n in uniques},
        add_indexes={n: i for n, i in d.add_indexes.items() if n not in indexes},
        drop_indexes={**{n: i for n, i in d.drop_indexes.items() if n in indexes}, **legacy},
    )


def _column_matches(reflected: Mapping[str, Any], spec: TableSpec, name: str, dialect: sa.engine.Dialect) -> bool:
    col = spec.columns[name]
    return (
        dialects.type_matches(reflected["type"], col.type.on(spec.backend, spec.version), dialect)
        and bool(reflected["nullable"]) == col.is_nullable(spec.backend)
        and reflected.get("default") is None
    )


def _protect_dropped_columns(
    d: _Diff, empty: Mapping[str, object], keep: Collection[str], run: runtime.RunState
) -> _Diff:
    if not d.drop_columns:
        return d
    if run.offline:
        holding = {c: _known_holding(d.old, c, empty.get(c)) for c in d.drop_columns}
        unknown = [c for c, held in holding.items() if held is None]
        if [c for c in unknown if c in keep]:
            _refuse_offline(d.old, f"{', '.join(f'{d.old.name}.{c}' for c in unknown if c in keep)} is kept while "
                                   "it holds data and dropped otherwise, which a script cannot check")
        lost = [c for c, held in holding.items() if held is not False and c not in keep]
        if lost and not run.allow_data_loss:
            _refuse_offline(d.old, f"dropping {', '.join(f'{d.old.name}.{c}' for c in lost)} destroys the values "
                                   "they hold" + (", which a script cannot check" if unknown else ""),
                            " (or allow data loss explicitly: --allow-data-loss, -x allow_data_loss=true)")
        return _keep_columns(d, [c for c in d.drop_columns if c in keep and holding[c]])
    populated = [c for c in d.drop_columns if _holds_data(d.old, c, empty.get(c))]  # stops at the first such row
    kept = [c for c in populated if c in keep]
    refused = {c: _count(d.old, c, empty.get(c)) for c in populated if c not in keep}
    if refused and not run.allow_data_loss:
        what = ", ".join(f"{c} ({n} row(s) with data)" for c, n in refused.items())
        raise DowngradeRefusedError(
            f"Refusing to drop {what} from {_qualified(d.old)}: the values would be lost. Back them up, then allow "
            "data loss explicitly (-x allow_data_loss=true, or allow_data_loss=True in Python).",
            table=d.old.name,
            would_destroy=what,
            allow_option="allow_data_loss",
        )
    for c in kept:
        log.warning("Keeping %s.%s: it holds data", d.old.name, c)
    return _keep_columns(d, kept)


def _keep_columns(d: _Diff, kept: list[str]) -> _Diff:
    if not kept:
        return d
    columns = dict(d.new.columns)
    columns.update({c: d.old.columns[c] for c in kept})
    new = replace(d.new, columns=columns)
    return replace(d, new=new, drop_columns=[c for c in d.drop_columns if c not in kept])


def _qualified(spec: TableSpec) -> str:
    return f"{spec.schema}.{spec.name}" if spec.schema else spec.name


def _table_clause(spec: TableSpec, columns: Collection[str]) -> sa.TableClause:
    return sa.table(spec.name, *[sa.column(c) for c in columns], schema=spec.schema)


def _count(spec: TableSpec, column: str | None, empty: object = None) -> int:
    t = _table_clause(spec, [column] if column else [])
    query = sa.select(sa.func.count()).select_from(t)
    if column is not None:
        query = query.where(*_holding(t, column, empty))
    return int(op.get_bind().execute(query).scalar_one())


def _has_rows(spec: TableSpec) -> bool:
    """Whether the table holds any row; reads up to the first."""
    query = sa.select(sa.literal(1)).select_from(_table_clause(spec, [])).limit(1)
    return op.get_bind().execute(query).first() is not None


def _holds_data(spec: TableSpec, column: str, empty: object = None) -> bool:
    """Whether any row has a value in ``column`` (other than the ``empty`` ones); reads up to the first."""
    t = _table_clause(spec, [column])
    query = sa.select(sa.literal(1)).select_from(t).where(*_holding(t, column, empty)).limit(1)
    return op.get_bind().execute(query).first() is not None


def _holding(t: sa.TableClause, column: str, empty: object) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [t.c[column].is_not(None)]
    if isinstance(empty, tuple):  # JSON values that mean "nothing here", compared as text
        where.append(sa.cast(t.c[column], sa.Text()).not_in(empty))
    elif empty is not None:
        where.append(t.c[column] != sa.literal(empty))
    return where


# -- ALTER-capable backends ------------------------------------------------------------------------------


def _ddl(spec: TableSpec, kind: str, fn: Callable[[], object]) -> None:
    online.ddl(fn, kind=kind, table=spec.name, schema=spec.schema)


def _alter(d: _Diff, fill: Mapping[str, Fill]) -> None:
    old, new = d.old, d.new
    obstacles = _rewrite_online(d, fill)
    if obstacles is None:
        return
    _refuse_rewrite(d, obstacles)
    for name in d.add_columns:
        _add_column(new, name, fill.get(name))
    for name in d.alter_columns:
        if name in d.reflected and name in fill and not new.columns[name].is_nullable(new.backend):
            # present but still nullable: an interrupted run added it (MySQL commits each ALTER) and may not have
            # filled it yet
            _fill(new, name, fill[name], only_null=True)
        _alter_column(old, new, name, d.reflected.get(name))
    for name, unique in d.add_uniques.items():
        _ddl(new, "add_unique", functools.partial(
            op.create_unique_constraint, name, new.name, list(unique.columns), schema=new.schema))
    for name, index in d.add_indexes.items():
        _create_index(new, name, index)
    if d.pk_changed:
        _swap_primary_key(old, new)
    for fk in d.add_fks:
        _add_foreign_key(new, fk)
    for fk in d.drop_fks:
        _drop_foreign_key(old, fk)
    for name in d.drop_uniques:
        _ddl(old, "drop_unique",
             functools.partial(op.drop_constraint, name, old.name, type_="unique", schema=old.schema))
    for name in d.drop_indexes:
        _ddl(old, "drop_index", functools.partial(op.drop_index, name, table_name=old.name, schema=old.schema))
    for name in d.drop_columns:
        _ddl(old, "drop_column", functools.partial(op.drop_column, old.name, name, schema=old.schema))


def _fill(spec: TableSpec, name: str, fill: Fill, *, only_null: bool) -> None:
    """A new NOT NULL column's value on the rows where it is NULL: online, in committed batches
    (:mod:`agno_alembic.data.fill`); offline (or a table without a primary key), one statement (on every row of
    a column just added: ``only_null`` false)."""
    run = runtime.state()
    if run.live and spec.primary_key:
        from agno_alembic.data import fill as filling

        filling.fill_column(op.get_bind(), run.backend, spec, name, fill)
        return
    t = _table_clause(spec, spec.columns)
    update = t.update().where(t.c[name].is_(None)) if only_null else t.update()
    op.execute(update.values({name: fill(t)}))
    _commit_if_online()


def _commit_if_online() -> None:
    """Online: a data statement between DDL statements commits at once (its row locks go with it)."""
    if runtime.state().live:
        online.commit()


def _retyped(d: _Diff) -> list[str]:
    """Columns whose change of type rewrites the table (reflected or declared old type differs)."""
    dialect = op.get_context().dialect
    out = []
    for name in d.alter_columns:
        reflected = d.reflected.get(name)
        old_type = reflected["type"] if reflected is not None else d.old.columns[name].type.on(
            d.old.backend, d.old.version)
        # The type-ignore below: a reflected column's type, held in a Mapping[str, object].
        if not dialects.type_matches(old_type, d.new.columns[name].type.on(d.new.backend, d.new.version),  # type: ignore[arg-type]
                                     dialect):
            out.append(name)
    return out


def _rewrite_rows(d: _Diff) -> int:
    """The rows of a table a step rewrites: counted, or in ``plan`` read from the database it is written for."""
    if not runtime.state().offline:
        return _count(d.old, None) if _has_rows(d.old) else 0
    found = _reader_columns(d.old)
    if found is None or _created_here(d.old):
        return 0
    return int(found[0].execute(sa.select(sa.func.count()).select_from(_table_clause(d.old, []))).scalar_one())


def _rewrite_online(d: _Diff, fill: Mapping[str, Fill]) -> list[str] | None:
    """PostgreSQL, online (or ``plan`` of it): a type change on a table of more than ``REWRITE_MOMENT_ROWS`` rows
    through a shadow table (:mod:`agno_alembic.rewrite`); the whole step is done then (``None``).  Otherwise the
    reasons it cannot run (empty when it is not needed: not online, no rewrite, a small table)."""
    from agno_alembic import rewrite

    run = runtime.state()
    if run.backend != registry.POSTGRESQL or not _online_forms() or not _retyped(d):
        return []
    if _rewrite_rows(d) <= online_dialect.REWRITE_MOMENT_ROWS:
        return []
    dialect = op.get_context().dialect
    shadow = rewrite.plan(d.old, d.new, fill, dialect, cast=d.alter_columns)
    if shadow is None:
        return [f"the shapes of {_qualified(d.old)} share no one-column key, or the new one has foreign keys or a "
                "NOT NULL column without a fill"]
    reader = op.get_context().opts.get(OFFLINE_READER) if run.offline else op.get_bind()
    known = set(d.old.indexes) | set(d.new.indexes) | set(d.drop_indexes)
    obstacles = rewrite.obstacles(reader, shadow, known) if reader is not None else []
    if obstacles:
        return obstacles
    if run.offline:
        rewrite.describe(shadow, reader)
    else:
        log.info("Rewriting %s (%s) online through a shadow table", _qualified(d.old), ", ".join(_retyped(d)))
        rewrite.run(shadow)
    return None


def _refuse_rewrite(d: _Diff, obstacles: Collection[str] = ()) -> None:
    """Online on PostgreSQL, where the online rewrite cannot run (``obstacles``): a type change rewrites the table
    under ACCESS EXCLUSIVE for the whole rewrite; on a populated table it is refused unless the caller accepts it
    (``allow_rewrite``)."""
    run = runtime.state()
    if not run.live or run.backend != registry.POSTGRESQL:
        return
    retyped = _retyped(d)
    if not retyped or not _has_rows(d.old):
        return
    rows = _count(d.old, None)
    what = f"{_qualified(d.old)} ({', '.join(retyped)}: {rows} row(s))"
    if rows <= online_dialect.REWRITE_MOMENT_ROWS:
        log.info("Rewriting %s under a short exclusive lock (a small table)", what)
        return
    if not run.allow_rewrite:
        why = f" The online rewrite through a shadow table cannot carry what the table has: {'; '.join(obstacles)}." \
            if obstacles else ""
        raise RewriteRefusedError(
            f"Refusing, in online mode, to change the type of {what} in place: PostgreSQL rewrites the table under "
            "an ACCESS EXCLUSIVE lock, so the application could neither read nor write it until the rewrite ends."
            f"{why} "
            "Accept it explicitly (allow_rewrite=True, --allow-rewrite, -x allow_rewrite=true) or run it in a "
            "maintenance window (online=False, --offline, -x online=false).",
            table=d.old.name, columns=retyped, rows=rows, allow_option="allow_rewrite",
        )
    log.warning("Rewriting %s under an exclusive lock (accepted with allow_rewrite): the application waits for it",
                what)


def _add_foreign_key(spec: TableSpec, fk: ForeignKey) -> None:
    run = runtime.state()
    pg_online = _online_forms() and run.backend == registry.POSTGRESQL
    kw: dict[str, Any] = {"postgresql_not_valid": True} if pg_online else {}
    _ddl(spec, "add_foreign_key", lambda: op.create_foreign_key(
        None, spec.name, spec.referred[fk.referred_type], list(fk.columns), list(fk.referred_columns),
        ondelete=fk.ondelete, source_schema=spec.schema, referent_schema=spec.schema, **kw,
    ))
    if not pg_online:
        return
    # NOT VALID took its lock for a moment; VALIDATE scans under SHARE UPDATE EXCLUSIVE (reads and writes go on).
    quoted = op.get_context().dialect.identifier_preparer
    table = quoted.format_table(sa.table(spec.name, schema=spec.schema))
    if run.offline:  # plan: the name PostgreSQL gives the unnamed key
        name = f"{spec.name}_{'_'.join(fk.columns)}_fkey"[:63]
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {quoted.quote(name)}")
        return
    for found in sa.inspect(op.get_bind()).get_foreign_keys(spec.name, schema=spec.schema):
        if tuple(found["constrained_columns"]) == fk.columns and (fk_name := found.get("name")):
            validate = f"ALTER TABLE {table} VALIDATE CONSTRAINT {quoted.quote(fk_name)}"
            online.ddl(functools.partial(op.execute, validate),
                       kind="add_foreign_key", table=spec.name, schema=spec.schema, patient=True)


def _add_column(spec: TableSpec, name: str, fill: Fill | None) -> None:
    column = spec.sa_column(name)
    if column.nullable or fill is None:
        kind = "add_column" if column.nullable else "add_column_not_null"
        _ddl(spec, kind, lambda: op.add_column(spec.name, column, schema=spec.schema))
        return
    column.nullable = True
    _ddl(spec, "add_column", lambda: op.add_column(spec.name, column, schema=spec.schema))
    _fill(spec, name, fill, only_null=False)
    _set_not_null(spec, name, column.type)


_NN_CHECK = "agno_alembic_nn_"
"""Name prefix of the helper check :func:`_set_not_null` adds and drops (PostgreSQL, online)."""


def _drop_check(spec: TableSpec, name: str) -> None:
    q = op.get_context().dialect.identifier_preparer
    table = q.format_table(sa.table(spec.name, schema=spec.schema))
    _ddl(spec, "set_not_null", lambda: op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {q.quote(name)}"))


def _set_not_null(spec: TableSpec, name: str, type_: sa.types.TypeEngine[Any]) -> None:
    """``SET NOT NULL``; online on PostgreSQL through a ``CHECK ... NOT VALID`` validated first, so the ALTER
    itself needs no scan under its exclusive lock (PostgreSQL 12 and later use the check)."""
    run = runtime.state()
    if not (_online_forms() and run.backend == registry.POSTGRESQL):
        _ddl(spec, "set_not_null", lambda: op.alter_column(spec.name, name, nullable=False, existing_type=type_,
                                                           schema=spec.schema))
        return
    q = op.get_context().dialect.identifier_preparer
    table = q.format_table(sa.table(spec.name, schema=spec.schema))
    check = q.quote(f"{_NN_CHECK}{name}"[:63])
    column = q.quote(name)
    _drop_check(spec, f"{_NN_CHECK}{name}"[:63])
    _ddl(spec, "set_not_null", lambda: op.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID"))
    online.ddl(lambda: op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}"), kind="set_not_null",
               table=spec.name, schema=spec.schema, patient=True)
    _ddl(spec, "set_not_null", lambda: op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL"))
    _ddl(spec, "set_not_null", lambda: op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {check}"))


def _alter_column(old: TableSpec, new: TableSpec, name: str, reflected: Mapping[str, Any] | None = None) -> None:
    new_type = new.columns[name].type.on(new.backend, new.version)
    kw: dict[str, Any] = {}
    old_type: sa.types.TypeEngine[Any]
    if reflected is not None:
        old_type = reflected["type"]
        old_nullable = bool(reflected["nullable"])
        if reflected.get("default") is not None:
            kw["server_default"] = None
    else:
        old_type = old.columns[name].type.on(old.backend, old.version)
        old_nullable = old.columns[name].is_nullable(old.backend)
    dialect = op.get_context().dialect
    if not dialects.type_matches(old_type, new_type, dialect):
        kw["type_"] = new_type
        if new.backend == registry.POSTGRESQL:
            quoted = op.get_context().dialect.identifier_preparer.quote(name)
            kw["postgresql_using"] = f"{quoted}::{new_type.compile(dialect=dialect)}"
    run = runtime.state()
    not_null = old_nullable and not new.columns[name].is_nullable(new.backend)
    if _online_forms() and run.backend == registry.POSTGRESQL and not kw and not_null:
        _set_not_null(new, name, old_type)
        return
    kind = "alter_type" if "type_" in kw else "set_not_null"
    _ddl(new, kind, lambda: op.alter_column(
        new.name, name, existing_type=old_type, nullable=new.columns[name].is_nullable(new.backend),
        existing_nullable=old_nullable, schema=new.schema, **kw,
    ))


def _swap_primary_key(old: TableSpec, new: TableSpec) -> None:
    pk_name = f"{new.name}_pkey"
    if old.primary_key:
        name = sa.inspect(op.get_bind()).get_pk_constraint(old.name, schema=old.schema).get("name") \
            if not runtime.state().offline else None
        _ddl(old, "primary_key", lambda: op.drop_constraint(name or pk_name, old.name, type_="primary",
                                                            schema=old.schema))
    if new.primary_key:
        _ddl(new, "primary_key", lambda: op.create_primary_key(pk_name, new.name, list(new.primary_key),
                                                               schema=new.schema))


def _drop_foreign_key(spec: TableSpec, fk: ForeignKey) -> None:
    for found in sa.inspect(op.get_bind()).get_foreign_keys(spec.name, schema=spec.schema):
        if tuple(found["constrained_columns"]) == fk.columns and (fk_name := found.get("name")):
            _ddl(spec, "drop_foreign_key", functools.partial(
                op.drop_constraint, fk_name, spec.name, type_="foreignkey", schema=spec.schema))


def _drop_invalid_index(table: str, schema: str | None, name: str) -> None:
    """PostgreSQL, online: drop index ``name`` of ``table``, left INVALID by an interrupted ``CONCURRENTLY`` build
    (``IF NOT EXISTS`` would take it as built), to build it again."""
    log.warning("%s: dropping index %s, left INVALID by an interrupted build, to build it again", table, name)
    q = op.get_context().dialect.identifier_preparer
    index = q.format_table(sa.table(name, schema=schema))
    online.ddl(lambda: op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index}"), kind="drop_index",
               table=table, schema=schema, patient=True)


def _create_index(spec: TableSpec, name: str, index: Index, *, fresh: bool = False) -> None:
    """Create one index.  Online on PostgreSQL, on a table the application may use (not ``fresh``), it is
    built ``CONCURRENTLY``; an INVALID index of that name an interrupted build left is dropped first."""
    run = runtime.state()
    kw = dict(spec.index_kwargs(index))
    if _online_forms() and run.backend == registry.POSTGRESQL and not fresh and _populated(spec):
        kw["postgresql_concurrently"] = True

        def build() -> None:  # an INVALID index of this name was dropped by _reconcile
            op.create_index(name, spec.name, list(index.columns), unique=index.unique, schema=spec.schema, **kw)
        # its locks block none of the application's reads and writes: it may wait as long as the deadline allows
        online.ddl(build, kind="create_index", table=spec.name, schema=spec.schema, patient=True)
        return
    else:
        def build() -> None:
            op.create_index(name, spec.name, list(index.columns), unique=index.unique, schema=spec.schema, **kw)
    _ddl(spec, "create_index", build)


# -- SQLite: rebuild ---------------------------------------------------------------------------------------


def _rebuild_sqlite(d: _Diff, fill: Mapping[str, Fill]) -> None:
    """Rebuild a SQLite table into its new shape, keeping every row and every index that is not Agno's."""
    online.ddl(lambda: _rebuild_sqlite_now(d, fill), kind="alter_type", table=d.old.name, schema=d.old.schema)


def _rebuild_sqlite_now(d: _Diff, fill: Mapping[str, Fill]) -> None:
    old, new = d.old, d.new
    bind = op.get_bind()
    run = runtime.state()
    own_indexes = set(old.indexes) | set(new.indexes) | set(d.drop_indexes)
    extra = [] if run.offline else _extra_sqlite_indexes(old, own_indexes)
    tmp = f"_agno_alembic_rebuild_{new.name}"
    op.create_table(tmp, *new.sa_columns(), *new.sa_constraints(), schema=new.schema)
    src = _table_clause(old, old.columns)
    carried = [c for c in new.columns if c in old.columns]
    filled = [c for c in new.columns if c not in old.columns and c in fill]
    select = sa.select(*[src.c[c] for c in carried], *[fill[c](src).label(c) for c in filled])
    dst = sa.table(tmp, *[sa.column(c) for c in [*carried, *filled]], schema=new.schema)
    op.execute(dst.insert().from_select([*carried, *filled], select))
    if not run.offline:
        _verify_rebuild(old, tmp, carried)
    op.drop_table(old.name, schema=old.schema)
    op.rename_table(tmp, new.name, schema=new.schema)
    for name, index in new.indexes.items():
        op.create_index(name, new.name, list(index.columns), unique=index.unique, schema=new.schema,
                        **new.index_kwargs(index))
    for name, sql, columns in extra:
        if set(columns) <= set(new.columns):
            bind.exec_driver_sql(sql)
        else:
            log.warning("Dropped index %s on %s: its columns %s are gone", name, new.name, columns)


def _verify_rebuild(old: TableSpec, tmp: str, carried: list[str]) -> None:
    """Before the old table goes: the rebuilt one holds as many rows (a shortfall raises, naming the first rows
    missing by their primary key or first columns; the step's transaction then rolls back, nothing dropped)."""
    bind = op.get_bind()
    src = _table_clause(old, old.columns)
    dst = sa.table(tmp, *[sa.column(c) for c in carried], schema=old.schema)
    expected = int(bind.execute(sa.select(sa.func.count()).select_from(src)).scalar_one())
    written = int(bind.execute(sa.select(sa.func.count()).select_from(dst)).scalar_one())
    if written >= expected:
        return
    key = [c for c in old.primary_key if c in carried] or carried[:1]
    examples = [row[0] if len(row) == 1 else tuple(row) for row in bind.execute(
        sa.select(*[src.c[c] for c in key]).except_(sa.select(*[dst.c[c] for c in key])).limit(10)
    )]
    raise DataVerificationError(
        f"Rebuilding {_qualified(old)} copied {written} of its {expected} row(s) (missing e.g. {examples}); the "
        "step is not recorded as applied and the table was not dropped.",
        step=f"rebuild {old.name}", table=old.name, expected=expected, missing=expected - written, examples=examples,
    )


def _extra_sqlite_indexes(spec: TableSpec, own: set[str]) -> list[tuple[str, str, list[str]]]:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"),
        {"t": spec.name},
    ).all()
    out = []
    for name, sql in rows:
        if name in own:
            continue
        quoted = bind.dialect.identifier_preparer.quote(name)
        columns = [r[2] for r in bind.exec_driver_sql(f"PRAGMA index_info({quoted})")]
        out.append((name, sql, columns))
    return out


# -- Agno's pgvector knowledge tables (agno_alembic.vectors) --------------------------------------------------


def adopt_vector_tables() -> None:
    """The base step of the vector tables: nothing to create (``PgVector.create()`` makes each table with its
    embedder's dimensions); it checks that every named table is one of Agno's and says what it found."""
    from agno_alembic import vectors

    run = runtime.state()
    if run.backend not in dialects.VECTOR_OWNER:
        return
    if run.offline:
        op.execute("-- vector tables: Agno's create() makes them with its embedder's dimensions; nothing to create")
        return
    for t in vectors.selected(op.get_bind(), run.names):
        log.info("vector table %s: embedding %s, vector indexes %s, schema %s", t.name, t.columns.get("embedding"),
                 t.vector_indexes or "none", t.version)


def evolve_vector_tables(from_version: str, to_version: str) -> None:
    """Bring every vector table of this run from its shape at ``from_version`` to its shape at ``to_version``.

    Across 3.0.0 that is Agno 3's owner column ``user_id`` (and, for pgvector, its index ``idx_<table>_user_id``),
    added or dropped; the embedding column and the vector and full-text indexes stay as they are.  Dropping the
    owner column from a table where rows have an owner is refused unless data loss is explicitly allowed.
    Offline, the tables must be named (``-x vector_tables=a,b``): finding them needs a live connection.
    """
    from agno_alembic import vectors

    run = runtime.state()
    owner = dialects.VECTOR_OWNER.get(run.backend)
    if owner is None:
        return
    up = registry.version_index(to_version) > registry.version_index(from_version)
    low, high = sorted((from_version, to_version), key=registry.version_index)
    if not registry.version_index(low) < registry.version_index(vectors.OWNED_SINCE) <= registry.version_index(high):
        return
    reader = op.get_context().opts.get(OFFLINE_READER) if run.offline else None
    if run.offline and reader is None:
        if run.names.vector_tables is None:
            op.execute("-- vector tables are found by inspection, which needs a live connection; name them with "
                       "-x vector_tables=a,b for a script")
            return
        # the owner column and its index: unknown offline (None)
        tables: dict[str, tuple[bool | None, bool | None]] = dict.fromkeys(run.names.vector_tables, (None, None))
    elif reader is not None:  # up --sql, plan: the database the script is for says which tables, and what they have
        tables = {t.name: (vectors.OWNER in t.columns, vectors.owner_index(t.name) in t.indexes)
                  for t in vectors.selected(reader, run.names)}
    else:
        found = vectors.selected(op.get_bind(), run.names)
        if not up:
            _refuse_owned_rows(found, run)
        tables = {t.name: (vectors.OWNER in t.columns, vectors.owner_index(t.name) in t.indexes) for t in found}
    q = op.get_context().dialect.identifier_preparer
    column = q.quote(vectors.OWNER)
    guard = " IF NOT EXISTS" if owner.if_not_exists else ""
    gone = " IF EXISTS" if owner.if_not_exists else ""
    schema = run.names.schema
    # Online (or plan describing it): every statement through online.ddl (alone, its lock wait bounded, retried
    # until the deadline; offline it runs as it is), the index in its online form (CONCURRENTLY), an INVALID one
    # an interrupted build left dropped and built again, as ops._create_index does.
    concurrently = owner.create_index_online if _online_forms() else None
    catalog = reader if reader is not None else (None if run.offline else op.get_bind())

    def ddl(kind: str, name: str, sql: str, *, patient: bool = False) -> None:
        online.ddl(functools.partial(op.execute, sql), kind=kind, table=name, schema=schema, patient=patient)

    for name, (has_owner, has_index) in tables.items():
        index = q.quote(vectors.owner_index(name))
        where = {
            "table": q.format_table(sa.table(name, schema=schema)), "index": index, "column": column,
            "qualified_index": f"{q.quote(schema)}.{index}" if schema else index,
        }
        if up:
            if not has_owner:
                ddl("add_column", name, f"ALTER TABLE {where['table']} ADD COLUMN{guard} {column} {owner.type_sql}")
            if concurrently is not None and has_index and catalog is not None \
                    and vectors.owner_index(name) in online_dialect.invalid_indexes(catalog, name, schema):
                _drop_invalid_index(name, schema, vectors.owner_index(name))
                has_index = False
            if not has_index:
                if concurrently is not None:  # its locks block none of the application's reads and writes
                    ddl("create_index", name, concurrently.format(**where), patient=True)
                else:
                    ddl("create_index", name, owner.create_index.format(**where))
        else:
            if has_index is not False:
                if concurrently is not None and owner.drop_index_online is not None:  # as patient as its build
                    ddl("drop_index", name, owner.drop_index_online.format(**where), patient=True)
                else:
                    ddl("drop_index", name, owner.drop_index.format(**where))
            if has_owner is not False:
                ddl("drop_column", name, f"ALTER TABLE {where['table']} DROP COLUMN{gone} {column}")


def _refuse_owned_rows(tables: list[VectorTable], run: runtime.RunState) -> None:
    from agno_alembic import vectors

    owned = {t.name: n for t in tables if vectors.OWNER in t.columns and (n := vectors.owned_rows(op.get_bind(), t))}
    if owned and not run.allow_data_loss:
        what = ", ".join(f"{name}.{vectors.OWNER} ({n} row(s) with an owner)" for name, n in owned.items())
        raise DowngradeRefusedError(
            f"Refusing to drop {what}: those rows would become shared with every user. Back them up, then allow "
            "data loss explicitly (-x allow_data_loss=true, or allow_data_loss=True in Python).",
            table=next(iter(owned)),
            would_destroy=what,
            allow_option="allow_data_loss",
        )


__all__ = ["Fill", "adopt_vector_tables", "create_table", "drop_table", "evolve", "evolve_vector_tables"]


# -- data steps --------------------------------------------------------------------------------------------


def _data_specs(sessions_version: str) -> tuple[TableSpec, TableSpec] | None:
    sessions, runs = _spec("sessions", sessions_version), _spec("runs", registry.LATEST_VERSION)
    return None if sessions is None or runs is None else (sessions, runs)


def copy_legacy_runs(sessions_version: str) -> None:
    """Copy every legacy ``sessions.runs`` entry into the runs table by Agno's rules (:mod:`agno_alembic.data.runs`).

    When the runs table starts empty, its secondary indexes are built after the copy on PostgreSQL and SQLite, and
    MySQL/MariaDB writes it with one bulk insert.
    """
    from agno_alembic.data import NO_RUNS
    from agno_alembic.data import runs as runs_data

    specs = _data_specs(sessions_version)
    if specs is None:
        return
    sessions, runs = specs
    run = runtime.state()
    if run.offline:
        if _known_holding(sessions, "runs", NO_RUNS["runs"]) is False:
            op.execute(f"-- {sessions.name}.runs -> {runs.name}: nothing to copy, no session holds runs")
            return
        sql = runs_data.whole_table_statement(op.get_context().dialect, run.backend, sessions, runs)
        if sql is None:
            _refuse_offline(sessions, f"copying {sessions.name}.runs into {runs.name} has no single-statement form "
                                      f"on {run.backend}")  # plan's preview: a comment, the rows decide
        else:
            op.execute(sa.text(sql).bindparams(now=int(time.time())))
        _note_created(runs, False)  # it holds rows now
        return
    bind = op.get_bind()
    present = {c["name"] for c in sa.inspect(bind).get_columns(sessions.name, schema=sessions.schema)}
    if "runs" not in present:
        return
    if run.live:
        from agno_alembic.data import batched

        # committed, resumable batches; the runs table keeps the indexes the application may need (MySQL/MariaDB:
        # the others are built after the copy, batched.deferred_runs_indexes)
        present = _index_names(runs)
        for name in batched.deferred_runs_indexes(bind, run.backend, sessions, runs):
            if name in present:
                _ddl(runs, "drop_index", functools.partial(op.drop_index, name, table_name=runs.name,
                                                           schema=runs.schema))
        # checked inside: every legacy run of a session not updated since the catch-up (verify_copy would count
        # the runs a live Agno 2.x replica appends right now)
        with _exact_characters(bind, run.backend):
            batched.copy_runs_online(bind, run.backend, sessions, runs,
                                     step=f"{sessions.name}.runs -> {runs.name}")
        present = _index_names(runs)  # dropped above, or by an interrupted run (online or offline)
        missing = {name: index for name, index in runs.indexes.items() if name not in present}
        if run.backend == registry.MYSQL and len(missing) > 1:
            # MariaDB takes the table's metadata lock at the start of an online ALTER and again at its end, where
            # a try that cannot get it (NOWAIT: whenever an application transaction on the table is open) throws
            # the whole build away: this one waits up to a second for the application's open transactions
            statement = add_indexes_statement(bind.dialect, runs, list(missing))
            online.ddl(lambda: bind.exec_driver_sql(statement), kind="create_index", table=runs.name,
                       schema=runs.schema, lock_wait=max(run.ddl_lock_wait, INDEX_BUILD_LOCK_WAIT))
            return
        for name, index in missing.items():
            _create_index(runs, name, index)
        return
    empty = not _has_rows(runs)
    defer = empty and run.backend in (registry.POSTGRESQL, registry.SQLITE)
    if defer:
        present = _index_names(runs)
        for name in (n for n in runs.indexes if n in present):
            _ddl(runs, "drop_index", functools.partial(op.drop_index, name, table_name=runs.name, schema=runs.schema))
    with _exact_characters(bind, run.backend):
        copied = runs_data.copy_runs(bind, run.backend, sessions, runs, into_empty=empty)
        present = _index_names(runs)  # an interrupted run may have dropped them, and committed that
        for name, index in runs.indexes.items():
            if name not in present:
                _create_index(runs, name, index)
        log.info("Copied %d legacy run(s) from %s.runs into %s", copied, sessions.name, runs.name)
        checked = runs_data.verify_copy(bind, sessions, runs)
    log.info("Checked: each of the %d legacy run id(s) has its row in %s", checked, runs.name)


INDEX_BUILD_LOCK_WAIT = 1.0
"""MySQL/MariaDB, online: how long each try of the deferred build of the runs table's indexes waits for the table's
metadata lock (MySQL's and MariaDB's bound is in whole seconds; the least above NOWAIT). While it waits, the
application's new statements on the runs table wait behind it: for as long as the application's transactions
open on that table take to end."""


_IDENTIFIER = r"(?:`(?:[^`]|``)*`|[^\s`.(]+)"
_MYSQL_CREATE_INDEX = re.compile(
    rf"CREATE\s+(UNIQUE\s+)?INDEX\s+({_IDENTIFIER})\s+ON\s+(?:{_IDENTIFIER}\.)?{_IDENTIFIER}\s*(\(.*\))",
    re.DOTALL)
"""MySQL's ``CREATE INDEX`` as SQLAlchemy compiles it: whether unique, the name (quoted where it needs it), the column
list (a hostile name may hold spaces, quotes, backticks and ``ON``)."""


def add_indexes_statement(dialect: sa.engine.Dialect, spec: TableSpec, names: Collection[str]) -> str:
    """MySQL/MariaDB: one ``ALTER TABLE ... ADD INDEX ..., ADD INDEX ...`` building ``names`` (in the shape's order)
    in one pass over the table (InnoDB reads the clustered index once and sorts each index), where a
    ``CREATE INDEX`` each would read the whole table once per index. Online mode appends its
    ``ALGORITHM=INPLACE, LOCK=NONE``."""
    table = spec.sa_table()
    built = {str(i.name): i for i in table.indexes}
    adds = []
    for name in (n for n in spec.indexes if n in names):
        text = str(sa.schema.CreateIndex(built[name]).compile(dialect=dialect)).strip()
        found = _MYSQL_CREATE_INDEX.fullmatch(text)  # names kept as compiled (quoted; any "%" doubled)
        assert found is not None, text
        adds.append(f"ADD {'UNIQUE ' if found.group(1) else ''}INDEX {found.group(2)} {found.group(3)}")
    qualified = dialect.identifier_preparer.format_table(sa.table(spec.name, schema=spec.schema))
    return f"ALTER TABLE {qualified} {', '.join(adds)}"


def _exact_characters(bind: sa.Connection, backend: str) -> contextlib.AbstractContextManager[None]:
    """MySQL, SingleStore: the connection in utf8mb4 while rows cross it (:func:`dialects.mysql.utf8mb4`)."""
    from agno_alembic.dialects import mysql

    return mysql.utf8mb4(bind) if dialects.is_mysql_like(backend) else contextlib.nullcontext()


def _index_names(spec: TableSpec) -> set[str]:
    return {n for i in sa.inspect(op.get_bind()).get_indexes(spec.name, schema=spec.schema) if (n := i["name"])}


def merge_legacy_runs(sessions_version: str) -> None:
    """Put the runs table's rows back into the legacy ``sessions.runs`` lists, by ``run_id``, losing nothing."""
    from agno_alembic.data import runs as runs_data

    specs = _data_specs(sessions_version)
    if specs is None:
        return
    if runtime.state().offline:
        if not _known_empty(specs[1]):
            _refuse_offline(specs[0], f"merging {specs[1].name}'s rows back into {specs[0].name}.runs moves data "
                                      "by run_id, which agno-alembic writes online only")
        return
    if not _exists(specs[1].name, specs[1].schema):
        return
    with _exact_characters(op.get_bind(), runtime.state().backend):
        merged = runs_data.merge_back(op.get_bind(), *specs)
    log.info("Merged the runs of %d session(s) back into %s.runs", merged, specs[0].name)


def runs_not_in_sessions(connection: sa.Connection, run: runtime.RunState) -> int:
    """What dropping the runs table would lose: its rows that are not in their session's legacy list."""
    from agno_alembic.data import runs as runs_data

    sessions = shapes.spec("sessions", run.backend, "2.5.6", run.names)
    runs = shapes.spec("runs", run.backend, registry.LATEST_VERSION, run.names)
    if not sa.inspect(connection).has_table(sessions.name, schema=sessions.schema):
        return _count(runs, None)
    return runs_data.unpreserved_runs(connection, sessions, runs)
