"""The facade: Agno's ``MigrationManager`` API on top of Alembic.

Two thin fronts over one core, as httpx does it: :class:`MigrationManager` is awaitable like Agno's (``await
MigrationManager(db).up()``), :class:`SyncMigrationManager` is its twin for code without an event loop.  The core
turns ``(table_type, target_version, force)`` into Alembic commands on one connection and keeps
``agno_schema_versions`` true.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from alembic.util import CommandError

from agno_alembic import (
    commands,
    detect,
    dialects,
    identifiers,
    lock,
    naming,
    ops,
    plan,
    registry,
    shapes,
    stamps,
    vectors,
)
from agno_alembic.environment import (
    ATTR_ALLOW_REWRITE,
    ATTR_DDL_DEADLINE,
    ATTR_DDL_LOCK_WAIT,
    ATTR_ONLINE,
    ATTR_STAMP_TABLES,
    ATTR_SYNC_STAMPS,
)
from agno_alembic.errors import AgnoAlembicError, ConfigurationError, MigrationError, UnknownVersionError
from agno_alembic.naming import Names
from agno_alembic.runtime import RunState

if TYPE_CHECKING:
    from agno_alembic.preview import Plan
    from agno_alembic.verify import VerifyReport

log = logging.getLogger("agno_alembic")
T = TypeVar("T")


@dataclass(frozen=True)
class TableStatus:
    """Where one table stands."""

    table_type: str
    table_name: str
    exists: bool
    revision: str | None
    """Its branch's revision in our version table (``None``: at base, or never adopted)."""
    recorded_version: str | None
    """What ``agno_schema_versions`` says (``None``: no row, which Agno reads as 2.0.0)."""
    detected_version: str | None
    """The schema version read from the table itself (``None``: no table)."""
    pending: tuple[str, ...]
    """Revisions an ``up()`` to the latest version would run (with the same ``create_missing``).

    A table not adopted yet counts from where its shape is (``up()`` adopts it there); one agno-alembic recorded
    that no longer exists lists its recorded revision too (``up()`` rebuilds it at that revision's shape, then
    upgrades it); one that does not exist and was never recorded has none unless ``create_missing``.
    """
    in_progress: tuple[str, ...] = ()
    """Online data steps of this table begun and not finished: ``"<step>: <done>/<total> sessions copied"``."""
    contract_pending: str | None = None
    """What ``contract()`` would drop once nothing would be lost (``"agno_sessions.runs"``), or ``None``."""


@dataclass(frozen=True)
class TableChange:
    """What an ``up()`` or ``down()`` did to one table: its schema version before and after."""

    table_type: str
    table_name: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class _Source:
    """Where the database is and what is configured, read once from what the caller passed."""

    engine: sa.Engine | Any | None  # an Engine or AsyncEngine
    url: sa.URL | None
    backend: str
    names: Names
    configured: tuple[str, ...] | None = None
    """Table types an Agno db object names; ``None``: every type of the backend."""
    owns_engine: bool = field(default=False)

    @property
    def is_async(self) -> bool:
        if self.engine is not None:
            return hasattr(self.engine, "sync_engine")
        assert self.url is not None
        return bool(self.url.get_dialect().is_async)


def _url(value: Any) -> sa.URL:
    try:
        return sa.make_url(value)
    except (sa.exc.ArgumentError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"Not a database URL: {value!r} ({exc})", option="url") from None


def _read_source(db: Any, db_schema: str | None, version_table: str | None, tables: dict[str, str | None]) -> _Source:
    configured: tuple[str, ...] | None = None
    table_names: dict[str, str] = {}
    schema_given = db_schema
    if isinstance(db, str | sa.URL):
        engine, url = None, _url(db)
    elif hasattr(db, "dialect") and (isinstance(db, sa.Engine) or hasattr(db, "sync_engine")):
        engine, url = db, None
    elif hasattr(db, "db_engine") or hasattr(db, "db_url"):
        engine = getattr(db, "db_engine", None)
        url = None if engine is not None else _url(db.db_url)
        if schema_given is None:
            schema_given = getattr(db, "db_schema", None) or ""
        found = []
        for tt in registry.TABLE_TYPES:
            name = getattr(db, tt.agno_attribute or "", None)
            if isinstance(name, str) and name:
                table_names[tt.name] = name
                found.append(tt.name)
        configured = tuple(found)
    else:
        raise ConfigurationError(
            f"MigrationManager takes an Agno db object, a SQLAlchemy Engine or AsyncEngine, or a database URL; "
            f"got {type(db).__name__}",
            option="db",
        )
    dialect_name = engine.dialect.name if engine is not None else url.get_backend_name()  # type: ignore[union-attr]
    backend = dialects.backend_of(dialect_name)
    if url is not None:
        dialects.checked_url(url)
    for key, value in tables.items():
        if value is not None:
            table_names[registry.table_type(key[: -len("_table")]).name] = naming._checked(key, value)
    schema = naming.default_schema(backend) if schema_given is None else schema_given or None
    names = Names(schema=schema, tables=table_names, version_table=version_table)
    return _Source(engine=engine, url=url, backend=backend, names=names, configured=configured)


def wants_vectors(backend: str, table_type: str | Iterable[str] | None) -> bool:
    """Whether a call selecting ``table_type`` moves the pgvector tables on ``backend``: every call without
    ``table_type`` on PostgreSQL, or one naming ``vectors``."""
    if not registry.VECTORS.on(backend):
        return False
    if table_type is None:
        return True
    given = [table_type] if isinstance(table_type, str) else table_type
    return isinstance(given, Iterable) and any(registry.is_vectors(t) for t in given)


class _Core:
    """The shared, synchronous core: every operation runs on one sync connection."""

    def __init__(self, source: _Source, lock_timeout: float | None = None,
                 online: dict[str, Any] | None = None) -> None:
        self.source = source
        self.names = source.names
        self.backend = source.backend
        self.lock_timeout = lock_timeout
        """Seconds to wait for the migration lock (:data:`agno_alembic.lock.DEFAULT_TIMEOUT` when ``None``)."""
        self.online = dict(online or {})
        """The online-mode settings, as ``config.attributes`` (:mod:`agno_alembic.online`)."""

    # -- selection and versions --------------------------------------------------------------------------

    def wants_vectors(self, table_type: str | Iterable[str] | None) -> bool:
        """Whether a call moves the pgvector tables (:func:`wants_vectors` on this manager's backend)."""
        return wants_vectors(self.backend, table_type)

    def select(self, table_type: str | Iterable[str] | None) -> list[registry.TableType]:
        if isinstance(table_type, Iterable) and not isinstance(table_type, str):
            table_type = [t for t in table_type if not registry.is_vectors(t)]
        elif registry.is_vectors(table_type):
            return []
        if table_type is None:
            wanted = self.source.configured
            types = registry.table_types(wanted) if wanted is not None else list(registry.TABLE_TYPES)
            # Agno's bookkeeping table comes along: down to 2.0.0 removes it, as Agno 2.0-2.2 never had one.
            types = [t for t in types if t.name != "versions"] + [registry.table_type("versions")]
        else:
            if not isinstance(table_type, str) and not isinstance(table_type, Iterable):
                raise registry.UnknownTableTypeError(repr(table_type), registry.valid_names())
            types = registry.table_types(table_type)
        return [t for t in types if t.on(self.backend)]

    def config(self, connection: sa.Connection, **kw: Any) -> Any:
        return commands.make_config(connection=connection, names=self.names, **{**self.online, **kw})

    def _state(self) -> RunState:
        return RunState(names=self.names, backend=self.backend)

    def _positions(self, connection: sa.Connection, types: Sequence[registry.TableType]) -> dict[str, str | None]:
        config = self.config(connection)
        script = commands.script_directory(config)
        heads = commands.current_heads(config)
        return {tt.name: plan.branch_position(script, heads, tt) for tt in types}

    def _versions(
        self, connection: sa.Connection, types: Sequence[registry.TableType], target: str | None = None
    ) -> dict[str, str | None]:
        """Each table's schema version: its recorded one where its branch position covers it."""
        script = commands.script_directory(self.config(connection))
        recorded = stamps.read(connection, self._state())
        out: dict[str, str | None] = {}
        for name, rev in self._positions(connection, types).items():
            tt = registry.table_type(name)
            if rev is None:
                out[name] = None
                continue
            first, top = plan.coverage(script, tt, rev)
            row = recorded.get(self.names.table(name))
            in_range = row is not None and registry.version_index(first) <= registry.version_index(row) <= (
                registry.version_index(top)) if row in registry.SCHEMA_VERSIONS else False
            out[name] = row if in_range and target is None else plan.version_at(script, tt, rev, target)
        return out

    # -- adoption --------------------------------------------------------------------------------------------

    def adopt(
        self, connection: sa.Connection, types: Sequence[registry.TableType], force: bool, *, keep_missing: bool = False
    ) -> bool:
        """Record each table's branch where the table really is, judged by inspecting it.

        Without ``force`` only branches with no record are adopted (and records of missing tables cleared,
        unless ``keep_missing``: ``up()`` and ``down()`` rebuild such a table instead); with ``force`` every
        selected table is re-detected and re-recorded.  The tables the selected ones depend on (foreign-key
        parents) are adopted too when they exist with no record: recording a dependant records its parents'
        revisions, which must be where those tables really are.  All records are written at once (one purging
        stamp of every branch's position), so re-recording one branch never moves another that depended on it.
        """
        config = self.config(connection)
        script = commands.script_directory(config)
        versions_tt = registry.table_type("versions")
        every = [t for t in registry.TABLE_TYPES if t.on(self.backend)]
        positions = self._positions(connection, every)
        insp = sa.inspect(connection)
        desired = dict(positions)
        has_versions = insp.has_table(self.names.versions_table, schema=self.names.schema)
        desired["versions"] = versions_tt.revision_id(versions_tt.since) if has_versions else None
        moved: list[str] = []
        parents = [t for t in self._closure(types) if t not in types]
        for tt, forced in [*((t, force) for t in types), *((t, False) for t in parents)]:
            if tt.name == "versions":
                continue
            position = positions[tt.name]
            exists = insp.has_table(self.names.table(tt.name), schema=self.names.schema)
            if position is not None and ((exists and not forced) or (not exists and keep_missing)):
                continue
            found = detect.detect_revision(connection, script, self.backend, self.names, tt)
            if found != position:
                log.info("Adopting %s: recorded %s, found %s", self.names.table(tt.name), position, found)
                desired[tt.name] = found
                moved.append(tt.name)
        if desired == positions:
            return False
        first_versioned = registry.version_index("2.3.0")
        needs_versions = any(
            rev is not None
            and registry.version_index(dict(plan.revisions_of(script, registry.table_type(name)))[rev])
            >= first_versioned
            for name, rev in desired.items()
            if name != "versions"
        )
        if needs_versions and not has_versions:
            # Every revision from 2.3.0 on stands on the versions table; create it as its base revision would.
            spec = shapes.spec("versions", self.backend, versions_tt.since, self.names)
            if connection.in_transaction():
                connection.commit()
            with connection.begin():
                spec.sa_table().create(connection, checkfirst=True)
            desired["versions"] = versions_tt.revision_id(versions_tt.since)
        stamp_config = self.config(connection, **{ATTR_STAMP_TABLES: moved})
        commands.stamp(stamp_config, [rev for rev in desired.values() if rev], purge=True)
        # A branch moved back to base has no table: its row goes (the hook only writes for stamped revisions).
        gone = [name for name in moved if desired[name] is None]
        if gone:
            commands.sync_stamps(self.config(connection, **{ATTR_SYNC_STAMPS: gone}))
        return True

    # -- the verbs ---------------------------------------------------------------------------------------------

    def _closure(self, types: Iterable[registry.TableType]) -> list[registry.TableType]:
        """``types`` and every table type they depend on (foreign-key parents, transitively), in registry order."""
        wanted = {t.name for t in types}
        todo = list(wanted)
        while todo:
            for parent in registry.table_type(todo.pop()).depends_on:
                if parent not in wanted:
                    wanted.add(parent)
                    todo.append(parent)
        return [t for t in registry.TABLE_TYPES if t.name in wanted and t.on(self.backend)]

    def _existing(self, connection: sa.Connection, types: Iterable[registry.TableType]) -> set[str]:
        """The table types whose tables exist (one listing of the schema; ``has_table`` only where case may differ)."""
        insp = sa.inspect(connection)
        listed = set(insp.get_table_names(schema=self.names.schema))
        folded = {n.lower() for n in listed}
        return {
            t.name for t in types
            if (name := self.names.table(t.name)) in listed
            or (name.lower() in folded and insp.has_table(name, schema=self.names.schema))
        }

    def in_scope(
        self,
        connection: sa.Connection,
        types: Sequence[registry.TableType],
        create_missing: bool,
        positions: dict[str, str | None] | None = None,
    ) -> list[registry.TableType]:
        """The selected tables an ``up()`` touches.

        As Agno's own manager: the tables that exist (Agno creates the others itself, at the latest version, when
        it first needs them), plus those agno-alembic recorded that are gone (rebuilt); every selected table
        with ``create_missing``.
        """
        if create_missing:
            return list(types)
        positions = positions or self._positions(connection, types)
        existing = self._existing(connection, types)
        return [t for t in types if t.name in existing or positions[t.name] is not None]

    def rebuild(
        self,
        connection: sa.Connection,
        types: Sequence[registry.TableType],
        positions: dict[str, str | None] | None = None,
    ) -> list[str]:
        """Rebuild each recorded table that no longer exists, at the shape of the version it is recorded at.

        Covers the selected tables, the tables they depend on and Agno's versions table (every one of them must
        exist before a step runs); the tables referring to a rebuilt one get back the foreign keys a ``DROP ...
        CASCADE`` took.  Their records are kept, so the upgrade that follows goes on from there.  Returns the
        rebuilt table types.
        """
        every = self._closure([*types, registry.table_type("versions")])
        positions = positions or self._positions(connection, every)
        existing = self._existing(connection, every)
        gone = [t for t in every if positions[t.name] is not None and t.name not in existing]
        if not gone:
            return []
        state = self._state()
        versions = self._versions(connection, gone)
        rebuilt = {t.name for t in gone}
        dependants = [
            t for t in registry.TABLE_TYPES
            if t.on(self.backend) and t.name not in rebuilt and rebuilt.intersection(t.depends_on)
        ]
        # Versions are read first: reading our version table runs Alembic's environment, which ends transactions.
        others = [t for t in registry.TABLE_TYPES if t.on(self.backend) and t.name != "versions"]
        known = self._versions(connection, others)
        present = self._existing(connection, others)
        if connection.in_transaction():
            connection.commit()
        with connection.begin():
            for tt in gone:
                log.warning("%s is gone but recorded at %s: rebuilding it (empty) at that version's shape",
                            self.names.table(tt.name), versions[tt.name] or tt.since)
                ops.rebuild_table(connection, state, tt.name, versions[tt.name] or tt.since)
            for tt in dependants:
                if tt.name not in present:
                    continue
                spec = shapes.spec(tt.name, self.backend, known[tt.name] or tt.last_version, self.names)
                for parent in ops.restore_foreign_keys(connection, spec, rebuilt):
                    log.warning("Restored the foreign key of %s to %s", spec.name, parent)
            if "versions" in rebuilt:
                # Agno's bookkeeping went with its rows: every recorded table's row is written again.
                for name, version in known.items():
                    if version is not None and name in present | rebuilt and version != registry.SCHEMA_VERSIONS[0]:
                        stamps.write(connection, state, self.names.table(name), version)
        return [t.name for t in gone]

    def _rebuild_and_adopt(
        self,
        connection: sa.Connection,
        types: Sequence[registry.TableType],
        force: bool,
        positions: dict[str, str | None] | None = None,
    ) -> list[str]:
        """Rebuild the recorded tables that are gone, then adopt; returns the rebuilt table types."""
        rebuilt = self.rebuild(connection, types, positions)
        if self.adopt(connection, types, force, keep_missing=True):
            rebuilt += self.rebuild(connection, types)  # adopting a dependant records its parents, maybe gone ones
        return rebuilt

    def up(
        self,
        connection: sa.Connection,
        target: str,
        types: Sequence[registry.TableType],
        force: bool,
        *,
        create_missing: bool,
    ) -> list[TableChange]:
        positions = self._positions(connection, [t for t in registry.TABLE_TYPES if t.on(self.backend)])
        types = self.in_scope(connection, types, create_missing, positions)
        rebuilt = self._rebuild_and_adopt(connection, types, force, positions)
        before = self._versions(connection, types)
        before.update({name: None for name in rebuilt if name in before})
        config = self.config(connection, target_version=target, **{ATTR_SYNC_STAMPS: [t.name for t in types]})
        script = commands.script_directory(config)
        positions = self._positions(connection, types)
        destinations = [
            rev
            for tt in types
            if (rev := plan.revision_at(script, tt, target))
            and plan.order(script, tt, positions[tt.name]) < plan.order(script, tt, rev)
        ]
        if destinations:
            commands.upgrade(config, destinations)
        else:
            commands.sync_stamps(config)
        if before.get("sessions") == registry.LATEST_VERSION and self._legacy_column(connection) == "runs":
            # expanded already, not contracted: copy what Agno 2.x replicas appended since
            from agno_alembic.data import batched

            batched.catch_up(connection, self.backend, shapes.spec("sessions", self.backend, "2.5.6", self.names),
                             shapes.spec("runs", self.backend, registry.LATEST_VERSION, self.names))
        return self._changes(connection, types, before)

    def down(
        self,
        connection: sa.Connection,
        target: str,
        types: Sequence[registry.TableType],
        force: bool,
        allow_data_loss: bool,
    ) -> list[TableChange]:
        rebuilt = self._rebuild_and_adopt(connection, types, force)
        before = self._versions(connection, types)
        before.update({name: None for name in rebuilt if name in before})
        config = self.config(
            connection, target_version=target, allow_data_loss=allow_data_loss,
            **{ATTR_SYNC_STAMPS: [t.name for t in types]},
        )
        for tt in sorted(reversed(types), key=lambda t: t.name == "versions"):
            commands.downgrade_table(config, tt, target)
        commands.sync_stamps(config)
        return self._changes(connection, types, before)

    def _changes(
        self,
        connection: sa.Connection,
        types: Sequence[registry.TableType],
        before: dict[str, str | None],
    ) -> list[TableChange]:
        after = self._versions(connection, types)
        return [
            TableChange(tt.name, self.names.table(tt.name), before[tt.name], after[tt.name])
            for tt in types
            if before[tt.name] != after[tt.name]
        ]

    def status(
        self, connection: sa.Connection, types: Sequence[registry.TableType], create_missing: bool = False
    ) -> list[TableStatus]:
        config = self.config(connection)
        script = commands.script_directory(config)
        positions = self._positions(connection, types)
        recorded = stamps.read(connection, self._state())
        from agno_alembic.data import batched

        progress = batched.read_progress(connection, self.names.schema)
        contract = self._contract_pending(connection)
        existing = self._existing(connection, types)
        out = []
        for tt in types:
            name = self.names.table(tt.name)
            found = detect.detect_revision(connection, script, self.backend, self.names, tt)
            position = positions[tt.name]
            head = plan.revisions_of(script, tt)
            if position is not None and tt.name not in existing:
                start = plan.order(script, tt, position) - 1  # gone: up() rebuilds it at its recorded revision
            elif position is None and tt.name not in existing and not create_missing:
                start = len(head)  # as Agno: a table that does not exist is created when first needed
            elif position is None and found is not None:
                start = plan.order(script, tt, found)  # not adopted yet: up() adopts it where it is, then goes on
            else:
                start = plan.order(script, tt, position)
            pending = tuple(r for r, _ in head if plan.order(script, tt, r) > start)
            out.append(
                TableStatus(
                    table_type=tt.name,
                    table_name=name,
                    exists=found is not None,
                    revision=position,
                    recorded_version=recorded.get(name),
                    detected_version=plan.version_at(script, tt, found, None) if found else None,
                    pending=pending,
                    in_progress=tuple(p.describe() for p in progress if p.step.startswith(f"{name}.")),
                    contract_pending=contract if tt.name == "sessions" and recorded.get(name) == registry.LATEST_VERSION
                    else None,
                )
            )
        return out

    def _legacy_column(self, connection: sa.Connection) -> str | None:
        """Where the legacy runs lists are: ``runs``, :data:`~agno_alembic.data.batched.LEGACY_RUNS_GUARD` (a
        contract step was interrupted between its guard and its drop), or ``None`` (no sessions table or runs
        table, or nothing left to contract)."""
        from agno_alembic.data import batched

        sessions = shapes.spec("sessions", self.backend, "2.5.6", self.names)
        insp = sa.inspect(connection)
        if not insp.has_table(sessions.name, schema=sessions.schema) or not insp.has_table(
                self.names.table("runs"), schema=self.names.schema):
            return None
        columns = {c["name"] for c in insp.get_columns(sessions.name, schema=sessions.schema)}
        return next((c for c in ("runs", batched.LEGACY_RUNS_GUARD) if c in columns), None)

    def _contract_pending(self, connection: sa.Connection) -> str | None:
        """``sessions.runs`` once sessions are at 3.0.0 and the column is still there (expand done, not contracted)."""
        if self._legacy_column(connection) is None:
            return None
        return f"{shapes.spec('sessions', self.backend, '2.5.6', self.names).name}.runs"

    def contract(self, connection: sa.Connection, allow_data_loss: bool) -> list[str]:
        """The contract step: copy what older replicas wrote since ``up()`` (legacy runs appended to sessions), then
        drop what the latest schema no longer has (``sessions.runs``); refused, naming the count and ids, while
        anything would be lost.  Returns what was dropped."""
        sessions = shapes.spec("sessions", self.backend, "2.5.6", self.names)
        if self._contract_pending(connection) is None:
            return []
        versions = self._versions(connection, [registry.table_type("sessions")])
        if versions.get("sessions") != registry.LATEST_VERSION:
            raise ConfigurationError(
                f"contract drops what schema {registry.LATEST_VERSION} no longer has: run up() first "
                f"({sessions.name} is at {versions.get('sessions')})", option="contract")
        return [f"{sessions.name}.runs"] if self._drop_legacy_runs(connection, allow_data_loss, copy=True) else []

    # -- plan and verify (docs/plan.md) ----------------------------------------------------------------------

    def plan(
        self, connection: sa.Connection, target: str, types: Sequence[registry.TableType], exact: bool,
        create_missing: bool = False, online: bool | None = None, vector_tables: bool = False,
    ) -> Plan:
        """What ``up`` to ``target`` (with the same ``create_missing``) would do in this manager's mode, or in the
        one ``online`` names (:class:`agno_alembic.preview.Plan`), the pgvector tables with ``vector_tables``;
        reads only."""
        from agno_alembic import preview

        types = self.in_scope(connection, types, create_missing)
        url = self.source.url if self.source.url is not None else connection.engine.url
        settings = {**self.online, **({} if online is None else {ATTR_ONLINE: online})}
        return preview.build(connection, self.backend, self.names, types, target, exact=exact, url=url,
                             settings=settings, vector_tables=vector_tables)

    def _verify_reports(self, connection: sa.Connection, types: Sequence[registry.TableType]) -> list[Any]:
        from agno_alembic import verify

        script = commands.script_directory(self.config(connection))
        positions = self._positions(connection, types)
        recorded = stamps.read(connection, self._state())
        return [verify.table_report(connection, script, self.backend, self.names, tt, positions[tt.name], recorded,
                                    bool(recorded)) for tt in types]

    def verify(self, connection: sa.Connection, types: Sequence[registry.TableType], fix: bool,
               vector_tables: bool = False) -> VerifyReport:
        """Every table against the shape of its recorded version (:class:`agno_alembic.verify.VerifyReport`);
        with ``fix``, repair what needs no data to move, then report again; ``vector_tables``: the pgvector
        knowledge tables too (reported, never repaired: ``up()`` does)."""
        from agno_alembic import verify

        reports = self._verify_reports(connection, types)
        fixed: list[Any] = []
        if fix:
            # A record the table contradicts beyond repair (a NOT NULL column or a key of its version missing) is
            # re-read from the table first; otherwise the table is repaired towards its record.
            rerecord = [r.table_type for r in reports if verify.needs_rerecord(r)]
            if rerecord:
                self.adopt(connection, self.select(rerecord), True)
                fixed += [d for r in reports if r.table_type in rerecord for d in r.differences if d.kind == "branch"]
                reports = self._verify_reports(connection, types)
            repaired = [d for r in reports for d in verify.repair_shape(connection, self.backend, self.names, r)]
            if repaired:
                fixed += repaired
                reports = self._verify_reports(connection, types)
            branch, stamp = verify.records_to_fix(reports)
            if branch:
                self.adopt(connection, self.select(branch), True)
            if branch or stamp:
                commands.sync_stamps(self.config(connection, **{ATTR_SYNC_STAMPS: [*branch, *stamp]}))
                fixed += [d for r in reports for d in r.differences if d.kind in ("branch", "stamp") and d.fixable]
                reports = self._verify_reports(connection, types)
        if vector_tables and registry.VECTORS.on(self.backend):
            config = self.config(connection)
            script = commands.script_directory(config)
            position = plan.branch_position(script, commands.current_heads(config), registry.VECTORS)
            reports += verify.vector_reports(connection, script, self.names, position)
        return verify.VerifyReport(self.backend, tuple(reports), tuple(fixed))

    # -- the pgvector knowledge tables (agno_alembic.vectors) ---------------------------------------------------

    def move_vectors(
        self, connection: sa.Connection, target: str, *, down: bool = False, allow_data_loss: bool = False
    ) -> list[TableChange]:
        """Bring the pgvector tables of this configuration to ``target``; their branch is first put where the
        oldest of them stands (a table Agno 2.x created after the last ``up()`` pulls it back)."""
        tt = registry.VECTORS
        before = {t.name: t.version for t in vectors.selected(connection, self.names)}
        config = self.config(connection, target_version=target, allow_data_loss=allow_data_loss)
        script = commands.script_directory(config)
        position = plan.branch_position(script, commands.current_heads(config), tt)
        if before:
            oldest = min(before.values(), key=registry.version_index)
            found = plan.revision_at(script, tt, oldest)
            if found != position and found is not None:
                log.info("Adopting the pgvector tables at %s: recorded %s", found, position)
                commands.stamp(config, found)
                position = found
        if down:
            commands.downgrade_table(config, tt, target)
        else:
            destination = plan.revision_at(script, tt, target)
            if destination and plan.order(script, tt, position) < plan.order(script, tt, destination):
                commands.upgrade(config, [destination])
        after = {t.name: t.version for t in vectors.selected(connection, self.names)}
        return [TableChange(tt.name, name, before.get(name), version)
                for name, version in after.items() if before.get(name) != version]

    def vector_status(self, connection: sa.Connection) -> list[TableStatus]:
        tt = registry.VECTORS
        config = self.config(connection)
        script = commands.script_directory(config)
        position = plan.branch_position(script, commands.current_heads(config), tt)
        out = []
        for table in vectors.selected(connection, self.names):
            at = plan.revision_at(script, tt, table.version)
            pending = tuple(r for r, _ in plan.revisions_of(script, tt) if plan.order(script, tt, r) >
                            plan.order(script, tt, at))
            out.append(TableStatus(tt.name, table.name, True, position, None, table.version, pending))
        return out

    def cleanup_legacy_runs_column(self, connection: sa.Connection, allow_data_loss: bool) -> bool:
        """Drop ``sessions.runs`` once every run it holds is in the runs table; returns whether it was dropped."""
        return self._drop_legacy_runs(connection, allow_data_loss, copy=False)

    def _drop_legacy_runs(self, connection: sa.Connection, allow_data_loss: bool, *, copy: bool) -> bool:
        """Drop ``sessions.runs``, never losing a run a replica appends meanwhile.

        The column is first renamed to :data:`~agno_alembic.data.batched.LEGACY_RUNS_GUARD` (a catalog change,
        its lock wait bounded and retried as online DDL is): from then on a replica still writing legacy runs
        fails loudly (no such column) instead of appending a run the drop would lose, on every backend and on
        every Galera node (the rename is one TOI event).  The check then reads the guarded column, and the drop
        follows with nothing able to change it in between.  With ``copy`` the runs appended between the catch-up
        and the guard are copied from the guarded column first.  While runs would still be lost the column gets
        its name back and the step is refused, naming them.
        """
        from agno_alembic import online
        from agno_alembic.data import batched
        from agno_alembic.dialects import online as dialect
        from agno_alembic.errors import DowngradeRefusedError

        sessions = shapes.spec("sessions", self.backend, "2.5.6", self.names)
        runs = shapes.spec("runs", self.backend, registry.LATEST_VERSION, self.names)
        insp = sa.inspect(connection)
        if not insp.has_table(sessions.name, schema=sessions.schema):
            return False
        columns = {c["name"] for c in insp.get_columns(sessions.name, schema=sessions.schema)}
        guard = batched.LEGACY_RUNS_GUARD
        if "runs" not in columns and guard not in columns:
            return False
        bounds = {"lock_wait": float(self.online.get(ATTR_DDL_LOCK_WAIT) or 0.05),
                  "deadline": float(self.online.get(ATTR_DDL_DEADLINE) or 300.0)}

        def rename(old: str, new: str) -> None:
            online.ddl_statement(
                connection, self.backend,
                dialect.rename_column(connection, self.backend, sessions.name, sessions.schema, old, new),
                kind="rename_column", table=sessions.name, schema=sessions.schema, **bounds)

        if guard in columns:  # an interrupted contract: start again from the column as replicas know it
            log.info("%s: the legacy runs column is still guarded (an interrupted contract); renaming it back to "
                     "runs first", sessions.name)
            rename(guard, "runs")
        if copy:
            batched.catch_up(connection, self.backend, sessions, runs)  # rows already in the runs table win
        rename("runs", guard)  # no replica can write a legacy run from here on
        try:
            lost = batched.missing_runs(connection, sessions, runs, column=guard, commit=True)
            if lost and copy:  # appended between the catch-up and the guard: copied now, nothing can add more
                batched.copy_guarded(connection, self.backend, sessions, runs, guard)
                lost = batched.missing_runs(connection, sessions, runs, column=guard, commit=True)
        except Exception:
            with contextlib.suppress(Exception):  # the column back under the name replicas know, then the error
                if connection.in_transaction():
                    connection.rollback()
                rename(guard, "runs")
            raise
        if not lost or allow_data_loss:
            if lost:
                log.warning("%s: dropping the legacy runs column with %d run(s) the runs table lacks "
                            "(allow_data_loss): %s", sessions.name, len(lost), ", ".join(lost[:20]))
            online.ddl_statement(connection, self.backend,
                                 dialect.drop_column(connection, sessions.name, sessions.schema, guard),
                                 kind="drop_column", table=sessions.name, schema=sessions.schema, **bounds)
            return True
        rename(guard, "runs")
        raise DowngradeRefusedError(
            f"Refusing to drop {sessions.name}.runs: {len(lost)} legacy run(s) there are not in {runs.name} "
            f"(run ids: {', '.join(lost[:20])}{', ...' if len(lost) > 20 else ''}). Run up() or contract() "
            "first (they copy them), or allow data loss explicitly (allow_data_loss=True).",
            table=sessions.name,
            would_destroy=f"{len(lost)} legacy run(s): {', '.join(lost[:20])}",
            allow_option="allow_data_loss",
        )

    def import_v1(self, connection: sa.Connection, tables: dict[str, Any], v1_schema: str | None,
                  batch: int) -> Any:
        """Bring every table to the latest version, then import Agno 1.x storage tables (:mod:`agno_alembic.v1`)."""
        from agno_alembic import v1

        self.up(connection, registry.LATEST_VERSION, self.select(["sessions", "runs", "memories"]), False,
                create_missing=True)
        return v1.import_v1(connection, self.backend, self.names, v1_schema=v1_schema, batch=batch, **tables)

    def history(self) -> dict[str, list[tuple[str, str]]]:
        script = commands.script_directory(commands.make_config())
        return {tt.label: plan.revisions_of(script, tt) for tt in registry.TABLE_TYPES}

    # -- running ---------------------------------------------------------------------------------------------

    def _url(self) -> sa.URL:
        """The URL of a source given as one (a source without an engine always has its URL)."""
        assert self.source.url is not None
        return self.source.url

    def run_sync(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run ``fn`` on a sync connection of a sync engine (or URL)."""
        given: sa.Engine | None = self.source.engine
        owned = given is None
        engine = sa.create_engine(self._url(), poolclass=sa.pool.NullPool) if given is None else given
        try:
            with _connecting(), engine.connect() as connection:
                return _mapped(self._locked(fn), connection)
        finally:
            if owned:
                engine.dispose()

    async def run_async(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run ``fn`` on the sync face of an async connection (Alembic drives it through ``run_sync``)."""
        from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

        given = cast("AsyncEngine | None", self.source.engine)  # an async source's engine is an AsyncEngine
        owned = given is None
        engine = create_async_engine(self._url(), poolclass=sa.pool.NullPool) if given is None else given
        locked = self._locked(fn)

        def work(sync: sa.Connection) -> T:
            return _mapped(locked, sync)

        try:
            with _connecting():
                async with engine.connect() as connection:
                    return await connection.run_sync(work)
        finally:
            if owned:
                await engine.dispose()


    def _locked(self, fn: Callable[[sa.Connection], T]) -> Callable[[sa.Connection], T]:
        """``fn`` under the migration lock on its connection, unless it only reads (``status()``)."""
        if getattr(fn, "read_only", False):
            return fn

        def locked(connection: sa.Connection) -> T:
            identifiers.check(self.names, self.backend)  # before anything, even the lock (a table on SingleStore)
            with lock.hold(connection, schema=self.names.schema, backend=self.backend, timeout=self.lock_timeout):
                return fn(connection)

        return locked


@contextlib.contextmanager
def _connecting() -> Iterator[None]:
    """Errors of connecting (and of closing) the connection, as :class:`MigrationError`."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise MigrationError(f"Database connection failed: {exc}") from exc


def _mapped(fn: Callable[[sa.Connection], T], connection: sa.Connection) -> T:
    """Run ``fn``, turning Alembic and driver errors into :class:`MigrationError` where they cross into our API."""
    try:
        return fn(connection)
    except AgnoAlembicError:
        raise
    except (CommandError, sa.exc.SQLAlchemyError) as exc:
        raise MigrationError(f"Migration failed: {exc}") from exc


def _flag(option: str, value: object) -> None:
    """``force=`` and ``allow_data_loss=`` take True or False: ``allow_data_loss="no"`` must not allow data loss."""
    if not isinstance(value, bool):
        raise ConfigurationError(f"{option} must be True or False, got {value!r}", option=option)


def _target(target_version: object, *, required: bool) -> str:
    if target_version is None or target_version == "":
        if required:
            raise UnknownVersionError("None", registry.SCHEMA_VERSIONS)
        return registry.LATEST_VERSION
    return registry.resolve_version(target_version)


class _Front:
    def __init__(
        self,
        db: Any,
        *,
        db_schema: str | None = None,
        version_table: str | None = None,
        lock_timeout: float | None = None,
        online: bool = True,
        ddl_lock_wait: float | None = None,
        ddl_deadline: float | None = None,
        allow_rewrite: bool = False,
        vector_tables: Iterable[str] | None = None,
        **table_names: str | None,
    ) -> None:
        unknown = [k for k in table_names if not k.endswith("_table")]
        if unknown:
            raise ConfigurationError(
                f"Unknown keyword(s) {', '.join(sorted(unknown))}; MigrationManager takes db_schema=, version_table= "
                "and <table type>_table= (session_table=, memory_table=, ...)",
                option=unknown[0],
            )
        timeout = lock.parse_seconds(lock_timeout, "lock_timeout")
        _flag("online", online)
        _flag("allow_rewrite", allow_rewrite)
        settings: dict[str, Any] = {ATTR_ONLINE: online, ATTR_ALLOW_REWRITE: allow_rewrite}
        for option, value, attribute in (("ddl_lock_wait", ddl_lock_wait, ATTR_DDL_LOCK_WAIT),
                                         ("ddl_deadline", ddl_deadline, ATTR_DDL_DEADLINE)):
            seconds = lock.parse_seconds(value, option)
            if seconds is not None:
                settings[attribute] = seconds
        source = _read_source(db, db_schema, version_table, table_names)
        if vector_tables is not None:
            given = naming.vector_table_names(vector_tables)
            source = replace(source, names=replace(source.names, vector_tables=given))
        self._core = _Core(source, lock_timeout=timeout, online=settings)

    @property
    def names(self) -> Names:
        """The names in play: table names, schema, versions table, our Alembic version table."""
        return self._core.names

    def history(self) -> dict[str, list[tuple[str, str]]]:
        """Each branch's revisions, ``{label: [(revision id, schema version), ...]}``, oldest first."""
        return self._core.history()

    def _up(
        self, target_version: object, table_type: Any, force: bool, create_missing: bool
    ) -> Callable[[sa.Connection], Any]:
        _flag("force", force)
        _flag("create_missing", create_missing)
        target = _target(target_version, required=False)
        core = self._core
        types = core.select(table_type)
        if not core.wants_vectors(table_type):
            return lambda conn: core.up(conn, target, types, bool(force), create_missing=create_missing)
        return lambda conn: [*(core.up(conn, target, types, bool(force), create_missing=create_missing)
                               if types else []),
                             *core.move_vectors(conn, target)]

    def _down(
        self, target_version: object, table_type: Any, force: bool, allow_data_loss: bool
    ) -> Callable[[sa.Connection], Any]:
        _flag("force", force)
        _flag("allow_data_loss", allow_data_loss)
        target = _target(target_version, required=True)
        core = self._core
        types = core.select(table_type)
        if not core.wants_vectors(table_type):
            return lambda conn: core.down(conn, target, types, bool(force), bool(allow_data_loss))
        return lambda conn: [
            *core.move_vectors(conn, target, down=True, allow_data_loss=bool(allow_data_loss)),
            *(core.down(conn, target, types, bool(force), bool(allow_data_loss)) if types else []),
        ]

    def _adopt(self, table_type: Any, force: bool) -> Callable[[sa.Connection], bool]:
        _flag("force", force)
        core = self._core
        types = core.select(table_type)
        return lambda conn: core.adopt(conn, types, bool(force))

    def _import_v1(
        self, agent_sessions: str | None, team_sessions: str | None, workflow_sessions: str | None,
        memories: str | None, v1_schema: str | None, batch: int,
    ) -> Callable[[sa.Connection], Any]:
        tables = {"agent_sessions": agent_sessions, "team_sessions": team_sessions,
                  "workflow_sessions": workflow_sessions, "memories": memories}
        return lambda conn: self._core.import_v1(conn, tables, v1_schema, batch)

    def _status(self, table_type: Any, create_missing: bool) -> Callable[[sa.Connection], Any]:
        _flag("create_missing", create_missing)
        types = self._core.select(table_type)

        vector_rows = self._core.wants_vectors(table_type)

        def read(conn: sa.Connection) -> list[TableStatus]:
            rows = self._core.status(conn, types, create_missing) if types or not vector_rows else []
            return rows + (self._core.vector_status(conn) if vector_rows else [])

        read.read_only = True  # type: ignore[attr-defined]  # no migration lock: status never waits for one
        return read


    def _plan(
        self, target_version: object, table_type: Any, exact: bool, create_missing: bool, online: bool | None
    ) -> Callable[[sa.Connection], Plan]:
        _flag("exact", exact)
        _flag("create_missing", create_missing)
        if online is not None:
            _flag("online", online)
        target = _target(target_version, required=False)
        types = self._core.select(table_type)
        vector_tables = self._core.wants_vectors(table_type)  # as up(): with the pgvector tables

        def read(conn: sa.Connection) -> Plan:
            return self._core.plan(conn, target, types, exact, create_missing, online, vector_tables)

        read.read_only = True  # type: ignore[attr-defined]  # plan changes nothing: no migration lock
        return read

    def _verify(self, table_type: Any, fix: bool) -> Callable[[sa.Connection], VerifyReport]:
        _flag("fix", fix)
        types = self._core.select(table_type)
        vector_tables = self._core.wants_vectors(table_type)

        def check(conn: sa.Connection) -> VerifyReport:
            return self._core.verify(conn, types, fix, vector_tables)

        check.read_only = not fix  # type: ignore[attr-defined]  # only a repair takes the migration lock
        return check


class MigrationManager(_Front):
    """Agno's ``MigrationManager``, awaitable like Agno's: ``await MigrationManager(db).up()``.

    ``db`` is an Agno db object (PostgresDb, AsyncPostgresDb, SqliteDb, AsyncSqliteDb, MySQLDb, AsyncMySQLDb,
    SingleStoreDb), a SQLAlchemy ``Engine`` or ``AsyncEngine``, or a database URL.  Sync engines run in a worker
    thread, so a migration never blocks the event loop.

    ``online`` (default ``True``) migrates under a live application (docs/online.md): each DDL statement alone,
    its lock wait bounded by ``ddl_lock_wait`` seconds and retried until ``ddl_deadline``
    (:class:`~agno_alembic.errors.DDLLockTimeoutError`); ``allow_rewrite=True`` accepts a step that rewrites a
    populated table under an exclusive lock (where the online rewrite through a shadow table cannot run).
    ``online=False`` is the maintenance-window path.
    """

    async def _run(self, fn: Callable[[sa.Connection], T]) -> T:
        async with lock.process_lock_async(self._core.lock_timeout):  # Alembic's proxies are process-global
            if self._core.source.is_async:
                return await self._core.run_async(fn)
            return await asyncio.to_thread(self._core.run_sync, fn)

    async def up(
        self,
        target_version: str | None = None,
        table_type: str | Sequence[str] | None = None,
        force: bool = False,
        *,
        create_missing: bool = False,
    ) -> list[TableChange]:
        """Bring tables up to ``target_version`` (default: the latest); adopt tables Agno built on first use.

        As Agno's own ``up()``, only the selected tables that exist are migrated (Agno creates the others itself,
        at the latest version, when it first needs them); a table agno-alembic recorded that was dropped is
        rebuilt at its recorded version's shape, then upgraded.  ``create_missing=True`` creates every selected
        table that does not exist too.
        """
        return await self._run(self._up(target_version, table_type, force, create_missing))

    async def down(
        self,
        target_version: str,
        table_type: str | Sequence[str] | None = None,
        force: bool = False,
        *,
        allow_data_loss: bool = False,
    ) -> list[TableChange]:
        """Bring tables down to ``target_version``; never runs a step above a table's current version."""
        return await self._run(self._down(target_version, table_type, force, allow_data_loss))

    async def status(
        self, table_type: str | Sequence[str] | None = None, *, create_missing: bool = False
    ) -> list[TableStatus]:
        """Per table: name, existence, revision, recorded and detected versions, pending revisions.

        ``pending`` is what ``up(create_missing=...)`` with the same flag would run.
        """
        return await self._run(self._status(table_type, create_missing))

    async def plan(
        self, target_version: str | None = None, table_type: str | Sequence[str] | None = None, *,
        exact: bool = False, create_missing: bool = False, online: bool | None = None,
    ) -> Plan:
        """What ``up(target_version, create_missing=...)`` would do, step by step, without changing anything:
        statements, locks, rows, time ranges and data-check findings (an :class:`agno_alembic.preview.Plan`;
        ``.to_dict()`` for JSON), in the mode ``up()`` runs (this manager's ``online``, default on) or the one
        ``online`` names: online, the statements in the forms online mode gives them and the locks they take
        there; ``online=False``, those of offline mode."""
        return await self._run(self._plan(target_version, table_type, exact, create_missing, online))

    async def verify(self, table_type: str | Sequence[str] | None = None, *, fix: bool = False) -> VerifyReport:
        """Every table against the shape of its recorded version (an :class:`agno_alembic.verify.VerifyReport`);
        ``fix=True`` repairs missing indexes, missing nullable columns and wrong records, and lists the rest."""
        return await self._run(self._verify(table_type, fix))

    async def adopt(self, table_type: str | Sequence[str] | None = None, *, force: bool = False) -> bool:
        """Record where the selected tables are, read from the tables themselves, without migrating them
        (docs/adopting.md): each table Agno built that agno-alembic has no record of gets the revision its shape
        matches (its foreign-key parents too), a record whose table is gone is cleared; ``force=True`` re-detects and
        re-records every selected table.  ``up()`` and ``down()`` adopt the same way on their own; this is
        ``agno-alembic adopt``.  Returns whether any record was written."""
        return await self._run(self._adopt(table_type, force))

    async def import_v1(
        self,
        *,
        agent_sessions: str | None = None,
        team_sessions: str | None = None,
        workflow_sessions: str | None = None,
        memories: str | None = None,
        v1_schema: str | None = None,
        batch: int = 1000,
    ) -> Any:
        """Import Agno 1.x sessions (with their runs) and memories into the current tables; idempotent.

        Table names are the v1 tables' (``agent_sessions=``, ``team_sessions=``, ``workflow_sessions=``,
        ``memories=``); the v1 tables are only read.  Returns an ``ImportSummary`` of rows read, written and
        skipped, with reasons.
        """
        work = self._import_v1(agent_sessions, team_sessions, workflow_sessions, memories, v1_schema, batch)
        return await self._run(work)

    async def contract(self, *, allow_data_loss: bool = False) -> list[str]:
        """The contract step of an online migration (docs/online.md): once no replica runs Agno 2.x any more, copy
        the legacy runs written since ``up()``, then drop ``sessions.runs``; refused, with the count and run ids,
        while anything would be lost.  Returns what was dropped (``["agno_sessions.runs"]``)."""
        _flag("allow_data_loss", allow_data_loss)
        return await self._run(lambda conn: self._core.contract(conn, allow_data_loss))

    async def cleanup_legacy_runs_column(self, *, allow_data_loss: bool = False) -> bool:
        """Drop the legacy ``sessions.runs`` column, refused while it holds runs the runs table lacks."""
        return await self._run(lambda conn: self._core.cleanup_legacy_runs_column(conn, allow_data_loss))


class SyncMigrationManager(_Front):
    """The synchronous twin of :class:`MigrationManager`: the same calls, without ``await``."""

    def _run(self, fn: Callable[[sa.Connection], T]) -> T:
        with lock.process_lock(self._core.lock_timeout):  # Alembic's proxies are process-global
            if self._core.source.is_async:
                return asyncio.run(self._core.run_async(fn))
            return self._core.run_sync(fn)

    def up(
        self,
        target_version: str | None = None,
        table_type: str | Sequence[str] | None = None,
        force: bool = False,
        *,
        create_missing: bool = False,
    ) -> list[TableChange]:
        """Bring tables up to ``target_version`` (default: the latest); adopt tables Agno built on first use.

        As Agno's own ``up()``, only the selected tables that exist are migrated (Agno creates the others itself,
        at the latest version, when it first needs them); a table agno-alembic recorded that was dropped is
        rebuilt at its recorded version's shape, then upgraded.  ``create_missing=True`` creates every selected
        table that does not exist too.
        """
        return self._run(self._up(target_version, table_type, force, create_missing))

    def down(
        self,
        target_version: str,
        table_type: str | Sequence[str] | None = None,
        force: bool = False,
        *,
        allow_data_loss: bool = False,
    ) -> list[TableChange]:
        """Bring tables down to ``target_version``; never runs a step above a table's current version."""
        return self._run(self._down(target_version, table_type, force, allow_data_loss))

    def status(
        self, table_type: str | Sequence[str] | None = None, *, create_missing: bool = False
    ) -> list[TableStatus]:
        """Per table: name, existence, revision, recorded and detected versions, pending revisions.

        ``pending`` is what ``up(create_missing=...)`` with the same flag would run.
        """
        return self._run(self._status(table_type, create_missing))

    def plan(
        self, target_version: str | None = None, table_type: str | Sequence[str] | None = None, *,
        exact: bool = False, create_missing: bool = False, online: bool | None = None,
    ) -> Plan:
        """What ``up(target_version, create_missing=...)`` would do, step by step, without changing anything:
        statements, locks, rows, time ranges and data-check findings (an :class:`agno_alembic.preview.Plan`;
        ``.to_dict()`` for JSON), in the mode ``up()`` runs (this manager's ``online``, default on) or the one
        ``online`` names: online, the statements in the forms online mode gives them and the locks they take
        there; ``online=False``, those of offline mode."""
        return self._run(self._plan(target_version, table_type, exact, create_missing, online))

    def verify(self, table_type: str | Sequence[str] | None = None, *, fix: bool = False) -> VerifyReport:
        """Every table against the shape of its recorded version (an :class:`agno_alembic.verify.VerifyReport`);
        ``fix=True`` repairs missing indexes, missing nullable columns and wrong records, and lists the rest."""
        return self._run(self._verify(table_type, fix))

    def adopt(self, table_type: str | Sequence[str] | None = None, *, force: bool = False) -> bool:
        """Record where the selected tables are, without migrating them: see :meth:`MigrationManager.adopt`."""
        return self._run(self._adopt(table_type, force))

    def import_v1(
        self,
        *,
        agent_sessions: str | None = None,
        team_sessions: str | None = None,
        workflow_sessions: str | None = None,
        memories: str | None = None,
        v1_schema: str | None = None,
        batch: int = 1000,
    ) -> Any:
        """Import Agno 1.x sessions (with their runs) and memories into the current tables; idempotent.

        Table names are the v1 tables' (``agent_sessions=``, ``team_sessions=``, ``workflow_sessions=``,
        ``memories=``); the v1 tables are only read.  Returns an ``ImportSummary`` of rows read, written and
        skipped, with reasons.
        """
        work = self._import_v1(agent_sessions, team_sessions, workflow_sessions, memories, v1_schema, batch)
        return self._run(work)

    def contract(self, *, allow_data_loss: bool = False) -> list[str]:
        """The contract step of an online migration: see :meth:`MigrationManager.contract`."""
        _flag("allow_data_loss", allow_data_loss)
        return self._run(lambda conn: self._core.contract(conn, allow_data_loss))

    def cleanup_legacy_runs_column(self, *, allow_data_loss: bool = False) -> bool:
        """Drop the legacy ``sessions.runs`` column, refused while it holds runs the runs table lacks."""
        return self._run(lambda conn: self._core.cleanup_legacy_runs_column(conn, allow_data_loss))
