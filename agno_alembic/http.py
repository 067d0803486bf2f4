"""Agno's AgentOS migration endpoints as an optional ASGI router (extra ``http``, FastAPI).

``POST /databases/{db_id}/migrate`` and ``POST /databases/all/migrate``, with Agno's paths, response shapes and
status codes, minus Agno's defects (docs/http.md lists them):

* ``target_version`` is read from the query string *or* the request body (JSON ``{"target_version": ...}`` or a
  form), as Agno's own client sends it;
* up or down is decided per table, from each table's own version, not from the sessions table's stamp;
* an unknown version is a 400 naming the known versions, not a 500, and is refused before anything is touched;
* the migration runs in a worker thread, never on the event loop, whatever the driver;
* a bearer token is required unless explicitly turned off (``allow_unauthenticated=True``), or the host's own
  authentication dependency takes its place (``auth=``).

Inside AgentOS, :func:`attach` puts these routes in place of AgentOS's own, behind AgentOS's authentication, and
:func:`migrate_lifespan` brings every AgentOS database up before AgentOS starts.

FastAPI is imported only when a router is built; without it the factories raise an ``ImportError`` naming the
``http`` extra.
"""

import asyncio
import contextlib
import dataclasses
import hmac
import json
import logging
import os
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from agno_alembic import registry
from agno_alembic.errors import (
    BlockedByDataError,
    ConfigurationError,
    DowngradeRefusedError,
    LockError,
    MigrationError,
    UnknownTableTypeError,
    UnknownVersionError,
)
from agno_alembic.manager import SyncMigrationManager, TableStatus, _Core

if TYPE_CHECKING:
    import fastapi

__all__ = ["TOKEN_ENV_VARS", "attach", "create_app", "migrate_lifespan", "migration_router"]

log = logging.getLogger("agno_alembic")

TOKEN_ENV_VARS: tuple[str, ...] = ("AGNO_ALEMBIC_HTTP_TOKEN", "OS_SECURITY_KEY")
"""Where the bearer token is read from when ``token=None``, in this order (``OS_SECURITY_KEY`` is AgentOS's)."""

_CONFLICT = (DowngradeRefusedError, BlockedByDataError, LockError)
"""Errors answered 409: the database's data or another migration stands in the way; nothing was lost."""


def _need_fastapi() -> None:
    """Raise an ImportError naming the extra to install when FastAPI is missing (the callers import it next)."""
    try:
        import fastapi  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised with fastapi hidden
        raise ImportError(
            "agno_alembic.http needs FastAPI: install the 'http' extra, pip install 'agno-alembic[http]'"
        ) from exc


# -- databases ---------------------------------------------------------------------------------------------------


def _manager(db_id: str, entry: Any) -> SyncMigrationManager:
    """A manager for one configured database: ``db`` or ``(db, kwargs)``, where ``db`` is what MigrationManager takes.

    An ``AsyncEngine`` is replaced by its URL (a fresh engine without a pool per call), so that the migration can
    run on its own event loop in a worker thread: a pooled async connection belongs to the server's loop.
    """
    db, kwargs = entry, {}
    if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], Mapping):
        db, kwargs = entry[0], dict(entry[1])
    try:
        mm = SyncMigrationManager(db, **kwargs)
    except Exception as exc:
        raise ConfigurationError(f"Database {db_id!r}: {exc}", option=db_id) from exc
    core = mm._core
    source = core.source
    if source.engine is not None and source.is_async:
        mm._core = _Core(dataclasses.replace(source, engine=None, url=source.engine.url), core.lock_timeout,
                         core.online)
    return mm


def _version_of(history: list[tuple[str, str]], version: str | None) -> str | None:
    """The newest version of a branch at or below ``version`` (``None``: below the branch's first one)."""
    if version is None or version not in registry.SCHEMA_VERSIONS:
        return None
    key = registry.version_index(version)
    found = [v for _, v in history if registry.version_index(v) <= key]
    return found[-1] if found else None


def _current(status: TableStatus, history: list[tuple[str, str]]) -> str | None:
    """A table's schema version as its branch sees it: its recorded revision, else (never adopted) its shape."""
    if status.revision is not None:
        return dict(history).get(status.revision)
    if status.exists:
        return _version_of(history, status.detected_version)
    return None


def _settled(status: TableStatus, target: str) -> bool:
    """Whether a table whose shape is already the target's needs nothing: one Agno made (never adopted) or whose
    row says another version goes with the ups, where it is adopted and its row set to the target."""
    if not status.exists or status.table_type == "versions":
        return True
    recorded = status.recorded_version or registry.SCHEMA_VERSIONS[0]  # no row: Agno reads 2.0.0
    return status.revision is not None and recorded == target


def _plan(
    statuses: list[TableStatus], history: Mapping[str, list[tuple[str, str]]], target: str
) -> tuple[list[str], list[str]]:
    """Split tables into those to bring up and those to bring down to ``target`` (a schema version).

    A table already at the target but never adopted goes with the ups, so that it gets its revision too.
    """
    ups: list[str] = []
    downs: list[str] = []
    for status in statuses:
        branch = history[f"agno_{status.table_type}"]
        wanted = _version_of(branch, target)
        current = _current(status, branch)
        if wanted == current:
            if not _settled(status, target):
                ups.append(status.table_type)  # already there: up() adopts it and sets its row, running nothing
            continue
        rank: dict[str | None, int] = {None: -1, **{v: registry.version_index(v) for _, v in branch}}
        (ups if rank[wanted] > rank.get(current, -1) else downs).append(status.table_type)
    return ups, downs


def _migrate(mm: SyncMigrationManager, target: str | None) -> None:
    """Agno's endpoint, fixed: no target means ``up()``; a target moves each table up or down to it."""
    if target is None:
        mm.up()
        return
    ups, downs = _plan(mm.status(), mm.history(), target)
    if downs:
        mm.down(target, table_type=downs)
    if ups:
        mm.up(target, table_type=ups)


# -- requests ----------------------------------------------------------------------------------------------------


def _described(target: str | None) -> str:
    return f"version {target}" if target else "latest version"


async def _target_version(request: Any, query: str | None) -> str | None:
    """The requested version from the query string or the body (JSON object or form); both must agree."""
    _need_fastapi()
    import fastapi
    body: str | None = None
    raw = await request.body()
    if raw.strip():
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"))
            body = form.get("target_version", [None])[0]
        else:
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise fastapi.HTTPException(
                    400, 'The request body must be a JSON object such as {"target_version": "2.3.0"}'
                )
            value = data.get("target_version")
            if value is not None and not isinstance(value, str):
                raise fastapi.HTTPException(400, f"Invalid target version {value!r}: expected a string")
            body = value
    query = query or None
    body = body or None
    if query and body and query != body:
        raise fastapi.HTTPException(
            400, f"Conflicting target versions: {query!r} in the query string, {body!r} in the body"
        )
    return query or body


def _resolved(target: str | None) -> str | None:
    _need_fastapi()
    import fastapi
    if target is None:
        return None
    try:
        return registry.resolve_version(target)
    except UnknownVersionError as exc:
        raise fastapi.HTTPException(400, f"Invalid target version: {exc}") from exc


def _auth_dependency(token: str | None) -> Callable[..., Any]:
    _need_fastapi()
    import fastapi
    expected = None if token is None else token.encode("utf-8")

    def check(authorization: str | None = fastapi.Header(default=None)) -> None:
        if expected is None:
            return
        scheme, _, given = (authorization or "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8"), expected)
        if not ok:
            raise fastapi.HTTPException(
                401,
                "Missing bearer token" if not authorization else "Invalid bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def _token(token: str | None, allow_unauthenticated: bool) -> str | None:
    if token is None:
        token = next((os.environ[v] for v in TOKEN_ENV_VARS if os.environ.get(v)), None)
    if token is not None and not token.strip():
        raise ConfigurationError("The bearer token is empty", option="token")
    if token is None and not allow_unauthenticated:
        raise ConfigurationError(
            "The migration endpoints need a bearer token: pass token=..., set "
            f"{' or '.join(TOKEN_ENV_VARS)}, or pass allow_unauthenticated=True to leave them open",
            option="token",
        )
    return token


# -- the factories -----------------------------------------------------------------------------------------------


def _router(
    managers: Mapping[str, SyncMigrationManager], dependencies: list[Any], remote: tuple[str, ...] = ()
) -> "fastapi.APIRouter":
    """The two routes over ``managers``, behind ``dependencies``; ``remote`` ids are AgentOS ``RemoteDb``s."""
    _need_fastapi()
    import fastapi
    router = fastapi.APIRouter(tags=["Database"], dependencies=dependencies)

    async def run(db_id: str, target: str | None) -> None:
        await asyncio.to_thread(_migrate, managers[db_id], target)

    def answer(status: int, message: str, **extra: Any) -> Any:
        content: dict[str, Any] = {"message": message, **extra}
        if remote:
            content["skipped"] = list(remote)
        return fastapi.responses.JSONResponse(status_code=status, content=content)

    @router.post("/databases/all/migrate", operation_id="migrate_all_databases")
    async def migrate_all_databases(request: fastapi.Request, target_version: str | None = None) -> Any:
        requested = await _target_version(request, target_version)
        target = _resolved(requested)
        failed: dict[str, str] = {}
        for db_id in managers:
            try:
                await run(db_id, target)
            except Exception as exc:
                failed[db_id] = str(exc)
        if failed:
            return answer(
                207,
                f"Migrated {len(managers) - len(failed)}/{len(managers)} databases to {_described(requested)}",
                failed=failed,
            )
        return answer(200, f"All databases migrated successfully to {_described(requested)}")

    @router.post("/databases/{db_id}/migrate", operation_id="migrate_database")
    async def migrate_database(db_id: str, request: fastapi.Request, target_version: str | None = None) -> Any:
        if db_id in remote:
            raise fastapi.HTTPException(
                400, f"Database '{db_id}' is remote; run the migration on the AgentOS that owns it instead."
            )
        if db_id not in managers:
            raise fastapi.HTTPException(404, f"No database found with id '{db_id}'")
        requested = await _target_version(request, target_version)
        target = _resolved(requested)
        try:
            await run(db_id, target)
        except _CONFLICT as exc:
            raise fastapi.HTTPException(409, f"Failed to migrate database: {exc}") from exc
        except Exception as exc:
            raise fastapi.HTTPException(500, f"Failed to migrate database: {exc}") from exc
        return {"message": f"Database migrated successfully to {_described(requested)}"}

    _plan_and_verify_routes(router, managers)
    return router


# -- plan and verify (docs/plan.md): read-only answers as JSON, and verify's repair ----------------------------------


_PLAN_VERIFY_PATHS = frozenset({"/databases/{db_id}/plan", "/databases/{db_id}/verify"})


def _plan_and_verify_routes(router: "fastapi.APIRouter", managers: Mapping[str, SyncMigrationManager]) -> None:
    """``GET /databases/{db_id}/plan``, ``GET /databases/{db_id}/verify``, ``POST /databases/{db_id}/verify``
    (``fix``): :meth:`~agno_alembic.SyncMigrationManager.plan` and ``verify`` as JSON (their ``to_dict()``)."""
    _need_fastapi()
    import fastapi

    def manager(db_id: str) -> SyncMigrationManager:
        if db_id not in managers:
            raise fastapi.HTTPException(404, f"No database found with id '{db_id}'")
        return managers[db_id]

    def types(table_type: str | None) -> list[str] | None:
        return [t.strip() for t in table_type.split(",") if t.strip()] if table_type else None

    async def answer(fn: Callable[[], Any]) -> Any:
        try:
            return (await asyncio.to_thread(fn)).to_dict()
        except (ConfigurationError, UnknownVersionError, UnknownTableTypeError) as exc:
            raise fastapi.HTTPException(400, str(exc)) from exc
        except LockError as exc:
            raise fastapi.HTTPException(409, str(exc)) from exc
        except Exception as exc:
            raise fastapi.HTTPException(500, f"Failed: {exc}") from exc

    @router.get("/databases/{db_id}/plan", operation_id="plan_database_migration")
    async def plan_database(db_id: str, target_version: str | None = None, table_type: str | None = None,
                            exact: bool = False, online: bool | None = None) -> Any:
        mm = manager(db_id)  # online: the mode to plan (default: the manager's, online unless it says offline)
        return await answer(lambda: mm.plan(target_version, types(table_type), exact=exact, online=online))

    @router.get("/databases/{db_id}/verify", operation_id="verify_database")
    async def verify_database(db_id: str, table_type: str | None = None) -> Any:
        mm = manager(db_id)
        return await answer(lambda: mm.verify(types(table_type)))

    @router.post("/databases/{db_id}/verify", operation_id="verify_and_fix_database")
    async def fix_database(db_id: str, table_type: str | None = None) -> Any:
        mm = manager(db_id)
        return await answer(lambda: mm.verify(types(table_type), fix=True))


def migration_router(
    databases: Mapping[str, Any],
    *,
    token: str | None = None,
    allow_unauthenticated: bool = False,
    auth: Callable[..., Any] | None = None,
) -> "fastapi.APIRouter":
    """Agno's migration endpoints for ``databases`` (``{db_id: db or (db, MigrationManager kwargs)}``).

    ``db`` is anything :class:`~agno_alembic.MigrationManager` takes: an Agno db object, an ``Engine`` or
    ``AsyncEngine``, or a URL.  ``token`` is the bearer token every request must carry; ``None`` reads
    :data:`TOKEN_ENV_VARS`.  With no token anywhere the router is refused, unless ``allow_unauthenticated=True``.

    ``auth`` is a FastAPI dependency that authenticates each request *instead of* the bearer token check (the host
    application's own, such as AgentOS's): with it, ``token`` and ``allow_unauthenticated`` do not apply and are
    refused.
    """
    _need_fastapi()
    import fastapi
    if auth is not None:
        if token is not None or allow_unauthenticated:
            raise ConfigurationError(
                "auth= replaces the bearer token check: pass token= or allow_unauthenticated=True only without it",
                option="auth",
            )
        if not callable(auth):
            raise ConfigurationError(f"auth= takes a FastAPI dependency (a callable), got {auth!r}", option="auth")
        dependency = auth
    else:
        dependency = _auth_dependency(_token(token, allow_unauthenticated))
    managers = {str(db_id): _manager(str(db_id), entry) for db_id, entry in databases.items()}
    return _router(managers, [fastapi.Depends(dependency)])


def create_app(
    databases: Mapping[str, Any],
    *,
    token: str | None = None,
    allow_unauthenticated: bool = False,
    health: bool = True,
) -> "fastapi.FastAPI":
    """A FastAPI app serving :func:`migration_router`, plus an open ``GET /health`` unless ``health=False``."""
    _need_fastapi()
    import fastapi
    app = fastapi.FastAPI(title="agno-alembic migrations")
    app.include_router(migration_router(databases, token=token, allow_unauthenticated=allow_unauthenticated))
    if health:

        @app.get("/health", tags=["Health"])
        async def health_check() -> dict[str, str]:
            return {"status": "ok"}

    return app


# -- inside AgentOS ----------------------------------------------------------------------------------------------

_PATHS = frozenset({"/databases/{db_id}/migrate", "/databases/all/migrate"})


def _is_remote(db: Any) -> bool:
    try:
        from agno.remote.base import RemoteDb
    except ImportError:  # pragma: no cover - an Agno without remote databases
        return False
    return isinstance(db, RemoteDb)


def _db_lists(agent_os: Any, knowledge: bool) -> list[tuple[str, list[Any]]]:
    """``agent_os.dbs`` (``{id: [db, ...]}``) and, with ``knowledge``, then ``agent_os.knowledge_dbs``, as pairs."""
    sources = [getattr(agent_os, "dbs", None) or {}]
    if knowledge:
        sources.append(getattr(agent_os, "knowledge_dbs", None) or {})
    return [(str(db_id), list(dbs)) for source in sources for db_id, dbs in source.items()]


def _agentos_dbs(agent_os: Any, knowledge: bool) -> tuple[dict[str, Any], tuple[str, ...]]:
    """AgentOS's databases by its own ids: the first local db of each id (as its ``get_db``), and the remote ids.

    ``agent_os.dbs`` first; with ``knowledge``, then the knowledge ``contents_db``s (``agent_os.knowledge_dbs``)
    whose ids ``dbs`` does not have.
    """
    local: dict[str, Any] = {}
    remote: list[str] = []
    for db_id, dbs in _db_lists(agent_os, knowledge):
        if db_id in local or db_id in remote:
            continue
        first = next((db for db in dbs if not _is_remote(db)), None)
        if first is None:
            remote.append(db_id)
        else:
            local[db_id] = first
    return local, tuple(remote)


class _Challenge:
    """ASGI middleware: a 401 answer on the two migrate paths carries ``WWW-Authenticate: Bearer``.

    AgentOS answers a bad credential from its authentication middleware (or its ``HTTPException`` handler), and
    neither sends the header; this puts it back on our routes only.
    """

    _PATH = re.compile(r"^/databases/[^/]+/migrate/?$")

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not self._PATH.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        async def challenging(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                headers = list(message.get("headers") or [])
                if not any(name.lower() == b"www-authenticate" for name, _ in headers):
                    message = {**message, "headers": [*headers, (b"www-authenticate", b"Bearer")]}
            await send(message)

        await self.app(scope, receive, challenging)


def _is_migrate_route(route: Any) -> bool:
    path = getattr(route, "path", None)
    # our plan and verify routes too, so that attaching again replaces them with the new databases' ones
    return (path in _PATHS and "POST" in (getattr(route, "methods", None) or ())) or path in _PLAN_VERIFY_PATHS


def _holds_migrate_route(route: Any) -> bool:
    """``route`` is one of the two migrate routes, or an included router (FastAPI >= 0.137) holding one."""
    inner = getattr(route, "original_router", None)
    if inner is not None:
        return any(_holds_migrate_route(r) for r in getattr(inner, "routes", ()))
    return _is_migrate_route(route)


def _drop_migrate_routes(routes: list[Any], owner: Any) -> bool:
    """Remove every ``POST`` route of the two paths from ``routes``, through included routers (FastAPI >= 0.137)."""
    removed = False
    for route in list(routes):
        inner = getattr(route, "original_router", None)
        if inner is not None and isinstance(getattr(inner, "routes", None), list):
            removed = _drop_migrate_routes(inner.routes, inner) or removed
        elif _is_migrate_route(route):
            routes.remove(route)
            removed = True
    if removed:
        # FastAPI >= 0.137 caches an included router's routes by a version the router bumps on its own changes.
        changed = getattr(owner, "_mark_routes_changed", None)
        if callable(changed):
            changed()
    return removed


def attach(agent_os: Any, app: "fastapi.FastAPI", *, knowledge: bool = False) -> "fastapi.FastAPI":
    """Serve agno-alembic's migration routes in place of AgentOS's own on ``app`` (what ``agent_os.get_app()`` gave).

    The routes keep AgentOS's paths and sit where AgentOS's were (ahead of a mounted MCP app), keyed by AgentOS's own
    database ids (``agent_os.dbs``: the first local db of each id; ``RemoteDb``s are answered and listed as AgentOS
    does; knowledge ``contents_db``s too with ``knowledge=True``).  They take AgentOS's authentication dependency
    (security key, JWT with its scopes, service-account tokens, the scheduler's internal token), not a token of
    ours.  Call it after ``get_app()``, and again after every ``agent_os.resync(app)`` (which puts AgentOS's routes
    back and may change the databases).  Returns ``app``.
    """
    _need_fastapi()
    import fastapi
    from agno.os.auth import get_authentication_dependency

    local, remote = _agentos_dbs(agent_os, knowledge)
    managers = {db_id: _manager(db_id, db) for db_id, db in local.items()}
    router = _router(managers, [fastapi.Depends(get_authentication_dependency(agent_os.settings))], remote=remote)

    routes = app.router.routes
    place = next((i for i, route in enumerate(routes) if _holds_migrate_route(route)), None)
    _drop_migrate_routes(routes, app.router)
    count = len(routes)
    app.include_router(router)
    ours = routes[count:]
    del routes[count:]
    at = len(routes) if place is None else place
    routes[at:at] = ours
    changed = getattr(app.router, "_mark_routes_changed", None)
    if callable(changed):
        changed()
    if not any(m.cls is cast(object, _Challenge) for m in app.user_middleware):  # typed as a factory, is our class
        if app.middleware_stack is None:
            app.add_middleware(_Challenge)
        else:  # attached again on a running app (after resync): middleware can no longer be added
            log.debug("agno-alembic: app already started; 401s on the migrate routes go out without WWW-Authenticate")
    app.openapi_schema = None  # regenerated with our routes on the next /openapi.json
    return app


def _startup_dbs(agent_os: Any, knowledge: bool) -> list[tuple[str, Any]]:
    """Every local db AgentOS initializes at startup (``dbs`` and, with ``knowledge``, ``knowledge_dbs``), once each."""
    seen: dict[int, tuple[str, Any]] = {}
    for db_id, dbs in _db_lists(agent_os, knowledge):
        for db in dbs:
            if not _is_remote(db):
                seen.setdefault(id(db), (db_id, db))
    return list(seen.values())


@contextlib.asynccontextmanager
async def migrate_lifespan(
    app: Any, agent_os: Any = None, *, on_error: str = "raise", knowledge: bool = True
) -> Any:
    """AgentOS's ``lifespan=``: bring every local database up with the facade before AgentOS creates its tables.

    ``AgentOS(lifespan=migrate_lifespan)`` runs it before AgentOS's own database startup (which creates missing tables
    and only warns about stale ones).  Each db (``agent_os.dbs`` and, unless ``knowledge=False``, the knowledge
    ``contents_db``s; ``RemoteDb``s skipped) gets ``MigrationManager(db).up()`` with the facade's defaults, under the
    migration lock, so replicas starting together migrate once; each table's change is logged (logger
    ``agno_alembic``).  A failure stops startup with a :class:`~agno_alembic.errors.MigrationError` naming the db,
    unless ``on_error="warn"`` (``functools.partial(migrate_lifespan, on_error="warn")``): then it is logged and
    AgentOS starts.  Inside a lifespan of your own: ``async with migrate_lifespan(app, agent_os): ...``.
    """
    if agent_os is None:
        raise TypeError(
            "migrate_lifespan needs the AgentOS: pass it as AgentOS(lifespan=migrate_lifespan), which hands it "
            "agent_os=, or call migrate_lifespan(app, agent_os) from your own lifespan"
        )
    if on_error not in ("raise", "warn"):
        raise ConfigurationError(f"on_error must be 'raise' or 'warn', got {on_error!r}", option="on_error")
    for db_id, db in _startup_dbs(agent_os, knowledge):
        try:
            mm = _manager(db_id, db)
            changes = await asyncio.to_thread(mm.up)
        except Exception as exc:
            message = f"agno-alembic: migrating AgentOS database {db_id!r} ({type(db).__name__}) failed: {exc}"
            if on_error == "warn":
                log.warning("%s; AgentOS starts anyway (on_error='warn')", message)
                continue
            raise MigrationError(
                f"{message}. AgentOS does not start; fix the database or the error, or pass on_error='warn' to "
                "start anyway"
            ) from exc
        for change in changes:
            log.info(
                "agno-alembic: database %r: %s (%s) %s -> %s",
                db_id, change.table_name, change.table_type, change.before or "absent", change.after or "absent",
            )
        if not changes:
            log.info("agno-alembic: database %r: up to date", db_id)
    yield
