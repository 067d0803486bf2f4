"""The facade: Agno's ``MigrationManager`` API on top of Alembic.

Two thin fronts over one core, as httpx does it: :class:`MigrationManager` is awaitable like Agno's (``await
MigrationManager(db).up()``), :class:`SyncMigrationManager` is its twin for code without an event loop.  The core
turns ``(table_type, target_version, force)`` into Alembic commands on one connection and keeps
``agno_schema_versions`` true.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic.util import CommandError

from agno_alembic import commands, detect, dialects, naming, plan, registry, stamps
from agno_alembic.environment import ATTR_SYNC_STAMPS
from agno_alembic.errors import AgnoAlembicError, ConfigurationError, MigrationError
from agno_alembic.naming import Names
from agno_alembic.runtime import RunState

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
    """Revisions an ``up()`` to the latest version would run."""


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


def _read_source(db: Any, db_schema: str | None, version_table: str | None, tables: dict[str, str | None]) -> _Source:
    configured: tuple[str, ...] | None = None
    table_names: dict[str, str] = {}
    schema_given = db_schema
    if isinstance(db, str | sa.URL):
        engine, url = None, sa.make_url(db)
    elif hasattr(db, "dialect") and (isinstance(db, sa.Engine) or hasattr(db, "sync_engine")):
        engine, url = db, None
    elif hasattr(db, "db_engine") or hasattr(db, "db_url"):
        engine = getattr(db, "db_engine", None)
        url = None if engine is not None else sa.make_url(db.db_url)
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
    for key, value in tables.items():
        if value is not None:
            table_names[registry.table_type(key[: -len("_table")]).name] = naming._checked(key, value)
    schema = naming.default_schema(backend) if schema_given is None else schema_given or None
    names = Names(schema=schema, tables=table_names, version_table=version_table)
    return _Source(engine=engine, url=url, backend=backend, names=names, configured=configured)


class _Core:
    """The shared, synchronous core: every operation runs on one sync connection."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.names = source.names
        self.backend = source.backend

    # -- selection and versions --------------------------------------------------------------------------

    def select(self, table_type: str | Iterable[str] | None) -> list[registry.TableType]:
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
        return commands.make_config(connection=connection, names=self.names, **kw)

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

    def adopt(self, connection: sa.Connection, types: Sequence[registry.TableType], force: bool) -> None:
        """Record each table's branch where the table really is, judged by inspecting it.

        Without ``force`` only branches with no record are adopted (and records of missing tables cleared);
        with ``force`` every selected table is re-detected and re-recorded.
        """
        config = self.config(connection)
        script = commands.script_directory(config)
        positions = self._positions(connection, [*types, registry.table_type("versions")])
        versions_tt = registry.table_type("versions")
        if positions["versions"] is None and sa.inspect(connection).has_table(
            self.names.versions_table, schema=self.names.schema
        ):
            commands.stamp(config, versions_tt.revision_id(versions_tt.since))
        moves: list[tuple[registry.TableType, str | None, str | None]] = []
        for tt in types:
            if tt.name == "versions":
                continue
            position = positions[tt.name]
            exists = sa.inspect(connection).has_table(self.names.table(tt.name), schema=self.names.schema)
            if position is not None and exists and not force:
                continue
            found = detect.detect_revision(connection, script, self.backend, self.names, tt)
            if found != position:
                moves.append((tt, position, found))
        first_versioned = registry.version_index("2.3.0")
        needs_versions = any(
            found is not None and registry.version_index(dict(plan.revisions_of(script, tt))[found]) >= first_versioned
            for tt, _, found in moves
        )
        if needs_versions and not sa.inspect(connection).has_table(self.names.versions_table, schema=self.names.schema):
            commands.upgrade(self.config(connection), [f"{versions_tt.label}@head"])
        for tt, before, found in moves:
            log.info("Adopting %s: recorded %s, found %s", self.names.table(tt.name), before, found)
            commands.stamp(self.config(connection), found or f"{tt.label}@base")

    # -- the verbs ---------------------------------------------------------------------------------------------

    def up(
        self, connection: sa.Connection, target: str, types: Sequence[registry.TableType], force: bool
    ) -> list[TableChange]:
        self.adopt(connection, types, force)
        before = self._versions(connection, types)
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
        return self._changes(connection, types, before)

    def down(
        self,
        connection: sa.Connection,
        target: str,
        types: Sequence[registry.TableType],
        force: bool,
        allow_data_loss: bool,
    ) -> list[TableChange]:
        self.adopt(connection, types, force)
        before = self._versions(connection, types)
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

    def status(self, connection: sa.Connection, types: Sequence[registry.TableType]) -> list[TableStatus]:
        config = self.config(connection)
        script = commands.script_directory(config)
        positions = self._positions(connection, types)
        recorded = stamps.read(connection, self._state())
        out = []
        for tt in types:
            name = self.names.table(tt.name)
            found = detect.detect_revision(connection, script, self.backend, self.names, tt)
            position = positions[tt.name]
            head = plan.revisions_of(script, tt)
            pending = tuple(r for r, _ in head if plan.order(script, tt, r) > plan.order(script, tt, position))
            out.append(
                TableStatus(
                    table_type=tt.name,
                    table_name=name,
                    exists=found is not None,
                    revision=position,
                    recorded_version=recorded.get(name),
                    detected_version=plan.version_at(script, tt, found, None) if found else None,
                    pending=pending,
                )
            )
        return out

    def history(self) -> dict[str, list[tuple[str, str]]]:
        script = commands.script_directory(commands.make_config())
        return {tt.label: plan.revisions_of(script, tt) for tt in registry.TABLE_TYPES}

    # -- running ---------------------------------------------------------------------------------------------

    def run_sync(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run ``fn`` on a sync connection of a sync engine (or URL)."""
        engine = self.source.engine
        owned = engine is None
        if owned:
            engine = sa.create_engine(self.source.url, poolclass=sa.pool.NullPool)  # type: ignore[arg-type]
        try:
            with engine.connect() as connection:  # type: ignore[union-attr]
                return _mapped(fn, connection)
        finally:
            if owned:
                engine.dispose()  # type: ignore[union-attr]

    async def run_async(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run ``fn`` on the sync face of an async connection (Alembic drives it through ``run_sync``)."""
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = self.source.engine
        owned = engine is None
        if owned:
            engine = create_async_engine(self.source.url, poolclass=sa.pool.NullPool)  # type: ignore[arg-type]
        try:
            async with engine.connect() as connection:  # type: ignore[union-attr]
                return await connection.run_sync(lambda sync: _mapped(fn, sync))
        finally:
            if owned:
                await engine.dispose()  # type: ignore[union-attr]


def _mapped(fn: Callable[[sa.Connection], T], connection: sa.Connection) -> T:
    """Run ``fn``, turning Alembic and driver errors into :class:`MigrationError` where they cross into our API."""
    try:
        return fn(connection)
    except AgnoAlembicError:
        raise
    except (CommandError, sa.exc.SQLAlchemyError) as exc:
        raise MigrationError(f"Migration failed: {exc}") from exc


def _target(target_version: object, *, required: bool) -> str:
    if target_version is None or target_version == "":
        if required:
            raise registry.UnknownVersionError("None", registry.SCHEMA_VERSIONS)
        return registry.LATEST_VERSION
    return registry.resolve_version(target_version)


class _Front:
    def __init__(
        self,
        db: Any,
        *,
        db_schema: str | None = None,
        version_table: str | None = None,
        **table_names: str | None,
    ) -> None:
        unknown = [k for k in table_names if not k.endswith("_table")]
        if unknown:
            raise ConfigurationError(
                f"Unknown keyword(s) {', '.join(sorted(unknown))}; MigrationManager takes db_schema=, version_table= "
                "and <table type>_table= (session_table=, memory_table=, ...)",
                option=unknown[0],
            )
        self._core = _Core(_read_source(db, db_schema, version_table, table_names))

    @property
    def names(self) -> Names:
        """The names in play: table names, schema, versions table, our Alembic version table."""
        return self._core.names

    def history(self) -> dict[str, list[tuple[str, str]]]:
        """Each branch's revisions, ``{label: [(revision id, schema version), ...]}``, oldest first."""
        return self._core.history()

    def _up(self, target_version: object, table_type: Any, force: bool) -> Callable[[sa.Connection], Any]:
        target = _target(target_version, required=False)
        types = self._core.select(table_type)
        return lambda conn: self._core.up(conn, target, types, bool(force))

    def _down(
        self, target_version: object, table_type: Any, force: bool, allow_data_loss: bool
    ) -> Callable[[sa.Connection], Any]:
        target = _target(target_version, required=True)
        types = self._core.select(table_type)
        return lambda conn: self._core.down(conn, target, types, bool(force), bool(allow_data_loss))

    def _status(self, table_type: Any) -> Callable[[sa.Connection], Any]:
        types = self._core.select(table_type)
        return lambda conn: self._core.status(conn, types)


class MigrationManager(_Front):
    """Agno's ``MigrationManager``, awaitable like Agno's: ``await MigrationManager(db).up()``.

    ``db`` is an Agno db object (PostgresDb, AsyncPostgresDb, SqliteDb, AsyncSqliteDb, MySQLDb, AsyncMySQLDb,
    SingleStoreDb), a SQLAlchemy ``Engine`` or ``AsyncEngine``, or a database URL.  Sync engines run in a worker
    thread, so a migration never blocks the event loop.
    """

    async def _run(self, fn: Callable[[sa.Connection], T]) -> T:
        if self._core.source.is_async:
            return await self._core.run_async(fn)
        return await asyncio.to_thread(self._core.run_sync, fn)

    async def up(
        self, target_version: str | None = None, table_type: str | Sequence[str] | None = None, force: bool = False
    ) -> list[TableChange]:
        """Bring tables up to ``target_version`` (default: the latest); adopt tables Agno built on first use."""
        return await self._run(self._up(target_version, table_type, force))

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

    async def status(self, table_type: str | Sequence[str] | None = None) -> list[TableStatus]:
        """Per table: name, existence, revision, recorded and detected versions, pending revisions."""
        return await self._run(self._status(table_type))


class SyncMigrationManager(_Front):
    """The synchronous twin of :class:`MigrationManager`: the same calls, without ``await``."""

    def _run(self, fn: Callable[[sa.Connection], T]) -> T:
        if self._core.source.is_async:
            return asyncio.run(self._core.run_async(fn))
        return self._core.run_sync(fn)

    def up(
        self, target_version: str | None = None, table_type: str | Sequence[str] | None = None, force: bool = False
    ) -> list[TableChange]:
        """Bring tables up to ``target_version`` (default: the latest); adopt tables Agno built on first use."""
        return self._run(self._up(target_version, table_type, force))

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

    def status(self, table_type: str | Sequence[str] | None = None) -> list[TableStatus]:
        """Per table: name, existence, revision, recorded and detected versions, pending revisions."""
        return self._run(self._status(table_type))
