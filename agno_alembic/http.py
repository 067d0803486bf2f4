"""Agno's AgentOS migration endpoints as an optional ASGI router (extra ``http``, FastAPI).

``POST /databases/{db_id}/migrate`` and ``POST /databases/all/migrate``, with Agno's paths, response shapes and
status codes, minus Agno's defects (docs/http.md lists them):

* ``target_version`` is read from the query string *or* the request body (JSON ``{"target_version": ...}`` or a
  form), as Agno's own client sends it;
* up or down is decided per table, from each table's own version, not from the sessions table's stamp;
* an unknown version is a 400 naming the known versions, not a 500, and is refused before anything is touched;
* the migration runs in a worker thread, never on the event loop, whatever the driver;
* a bearer token is required unless explicitly turned off (``allow_unauthenticated=True``).

FastAPI is imported only when a router is built; without it the factories raise an ``ImportError`` naming the
``http`` extra.
"""

import asyncio
import dataclasses
import hmac
import json
import os
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from agno_alembic import registry
from agno_alembic.errors import (
    BlockedByDataError,
    ConfigurationError,
    DowngradeRefusedError,
    LockError,
    UnknownVersionError,
)
from agno_alembic.manager import SyncMigrationManager, TableStatus, _Core

if TYPE_CHECKING:
    import fastapi

__all__ = ["TOKEN_ENV_VARS", "create_app", "migration_router"]

TOKEN_ENV_VARS: tuple[str, ...] = ("AGNO_ALEMBIC_HTTP_TOKEN", "OS_SECURITY_KEY")
"""Where the bearer token is read from when ``token=None``, in this order (``OS_SECURITY_KEY`` is AgentOS's)."""

_CONFLICT = (DowngradeRefusedError, BlockedByDataError, LockError)
"""Errors answered 409: the database's data or another migration stands in the way; nothing was lost."""


def _fastapi() -> Any:
    try:
        import fastapi
    except ImportError as exc:  # pragma: no cover - exercised with fastapi hidden
        raise ImportError(
            "agno_alembic.http needs FastAPI: install the 'http' extra, pip install 'agno-alembic[http]'"
        ) from exc
    return fastapi


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
        mm._core = _Core(dataclasses.replace(source, engine=None, url=source.engine.url), core.lock_timeout)
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


def _plan(
    statuses: list[TableStatus], history: Mapping[str, list[tuple[str, str]]], target: str
) -> tuple[list[str], list[str]]:
    """Split tables into those to bring up and those to bring down to ``target`` (a schema version)."""
    ups, downs = [], []
    for status in statuses:
        branch = history[f"agno_{status.table_type}"]
        wanted = _version_of(branch, target)
        current = _current(status, branch)
        if wanted == current:
            continue
        rank = {None: -1, **{v: registry.version_index(v) for _, v in branch}}
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
    fastapi = _fastapi()
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
    fastapi = _fastapi()
    if target is None:
        return None
    try:
        return registry.resolve_version(target)
    except UnknownVersionError as exc:
        raise fastapi.HTTPException(400, f"Invalid target version: {exc}") from exc


def _auth_dependency(token: str | None) -> Callable[..., Any]:
    fastapi = _fastapi()
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


def migration_router(
    databases: Mapping[str, Any],
    *,
    token: str | None = None,
    allow_unauthenticated: bool = False,
) -> "fastapi.APIRouter":
    """Agno's migration endpoints for ``databases`` (``{db_id: db or (db, MigrationManager kwargs)}``).

    ``db`` is anything :class:`~agno_alembic.MigrationManager` takes: an Agno db object, an ``Engine`` or
    ``AsyncEngine``, or a URL.  ``token`` is the bearer token every request must carry; ``None`` reads
    :data:`TOKEN_ENV_VARS`.  With no token anywhere the router is refused, unless ``allow_unauthenticated=True``.
    """
    fastapi = _fastapi()
    secret = _token(token, allow_unauthenticated)
    managers = {str(db_id): _manager(str(db_id), entry) for db_id, entry in databases.items()}
    router = fastapi.APIRouter(tags=["Database"], dependencies=[fastapi.Depends(_auth_dependency(secret))])

    async def run(db_id: str, target: str | None) -> None:
        await asyncio.to_thread(_migrate, managers[db_id], target)

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
            return fastapi.responses.JSONResponse(
                status_code=207,
                content={
                    "message": f"Migrated {len(managers) - len(failed)}/{len(managers)} databases to "
                    f"{_described(requested)}",
                    "failed": failed,
                },
            )
        return {"message": f"All databases migrated successfully to {_described(requested)}"}

    @router.post("/databases/{db_id}/migrate", operation_id="migrate_database")
    async def migrate_database(db_id: str, request: fastapi.Request, target_version: str | None = None) -> Any:
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


def _plan_and_verify_routes(router: Any, managers: Mapping[str, SyncMigrationManager]) -> None:
    """``GET /databases/{db_id}/plan``, ``GET /databases/{db_id}/verify``, ``POST /databases/{db_id}/verify``
    (``fix``): :meth:`~agno_alembic.SyncMigrationManager.plan` and ``verify`` as JSON (their ``to_dict()``)."""
    fastapi = _fastapi()

    def manager(db_id: str) -> SyncMigrationManager:
        if db_id not in managers:
            raise fastapi.HTTPException(404, f"No database found with id '{db_id}'")
        return managers[db_id]

    def types(table_type: str | None) -> list[str] | None:
        return [t.strip() for t in table_type.split(",") if t.strip()] if table_type else None

    async def answer(fn: Callable[[], Any]) -> Any:
        try:
            return (await asyncio.to_thread(fn)).to_dict()
        except (ConfigurationError, UnknownVersionError, registry.UnknownTableTypeError) as exc:
            raise fastapi.HTTPException(400, str(exc)) from exc
        except LockError as exc:
            raise fastapi.HTTPException(409, str(exc)) from exc
        except Exception as exc:
            raise fastapi.HTTPException(500, f"Failed: {exc}") from exc

    @router.get("/databases/{db_id}/plan", operation_id="plan_database_migration")
    async def plan_database(db_id: str, target_version: str | None = None, table_type: str | None = None,
                            exact: bool = False) -> Any:
        mm = manager(db_id)
        return await answer(lambda: mm.plan(target_version, types(table_type), exact=exact))

    @router.get("/databases/{db_id}/verify", operation_id="verify_database")
    async def verify_database(db_id: str, table_type: str | None = None) -> Any:
        mm = manager(db_id)
        return await answer(lambda: mm.verify(types(table_type)))

    @router.post("/databases/{db_id}/verify", operation_id="verify_and_fix_database")
    async def fix_database(db_id: str, table_type: str | None = None) -> Any:
        mm = manager(db_id)
        return await answer(lambda: mm.verify(types(table_type), fix=True))


def create_app(
    databases: Mapping[str, Any],
    *,
    token: str | None = None,
    allow_unauthenticated: bool = False,
    health: bool = True,
) -> "fastapi.FastAPI":
    """A FastAPI app serving :func:`migration_router`, plus an open ``GET /health`` unless ``health=False``."""
    fastapi = _fastapi()
    app = fastapi.FastAPI(title="agno-alembic migrations")
    app.include_router(migration_router(databases, token=token, allow_unauthenticated=allow_unauthenticated))
    if health:

        @app.get("/health", tags=["Health"])
        async def health_check() -> dict[str, str]:
            return {"status": "ok"}

    return app
