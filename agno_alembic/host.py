"""Merging agno-alembic's branches into an existing Alembic project (the *host*).

A host's ``env.py`` calls :func:`configure` where it would call ``context.configure``::

    from agno_alembic import host

    with connectable.connect() as connection, host.locked(connection, schema=None):
        host.configure(context, connection=connection, target_metadata=target_metadata, schema=None)
        with context.begin_transaction():
            context.run_migrations()

:func:`locked` holds agno-alembic's migration lock around the run, as agno-alembic's own environment does.

It passes everything else to ``context.configure`` and, on top:

* adds agno-alembic's revisions (the package resource ``agno_alembic.revisions:``) to the script directory's
  version locations when the host's configuration lacks them, and reports the classic mistake of splitting
  ``agno_alembic.revisions:`` on its colon (``path_separator = os``), which Alembic silently ignores;
* installs the one ``agno_schema_versions`` hook, :func:`agno_alembic.stamps.on_version_apply`, with the run state
  the revisions read (the same hook and state as agno-alembic's own ``env.py`` and the ``MigrationManager``);
* keeps Agno's tables, ``agno_schema_versions`` and agno-alembic's own version tables out of the host's
  autogenerate and ``alembic check`` (composed with the host's ``include_name`` / ``include_object``);
* widens the host's ``version_num`` column to 128 characters (Alembic's default holds 32; our revision ids have
  up to 35), creates Agno's schema when it is missing, and reports version rows that no version location
  provides by name (:class:`agno_alembic.errors.UnknownRevisionsError`) instead of "Can't locate revision".
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionMap

from agno_alembic import commands, dialects, guard, naming, registry, settings, stamps, vectors
from agno_alembic.dialects import mysql
from agno_alembic.errors import ConfigurationError
from agno_alembic.naming import DEFAULT_ALEMBIC_VERSION_TABLE, Names
from agno_alembic.runtime import RUN_STATE_KEY, RunState

__all__ = [
    "AGNO_DEFAULT_SCHEMA", "VERSION_LOCATION", "add_version_locations", "configure", "exclude_agno", "locked",
    "version_location",
]

log = logging.getLogger("agno_alembic")

VERSION_LOCATION = "agno_alembic.revisions:"
"""agno-alembic's revisions as a package resource, for a host's ``version_locations``."""
VERSION_NUM_LENGTH = 128


class _AgnoDefault:
    def __repr__(self) -> str:
        return "AGNO_DEFAULT_SCHEMA"


AGNO_DEFAULT_SCHEMA: Any = _AgnoDefault()
"""``schema=`` default of :func:`configure`: Agno's own (``ai`` on PostgreSQL and MySQL, none elsewhere)."""

IncludeName = Callable[[str | None, str, Mapping[Any, Any]], bool]
IncludeObject = Callable[[Any, str | None, str, bool, Any], bool]


def version_location() -> str:
    """The directory holding agno-alembic's revisions (what ``agno_alembic.revisions:`` resolves to)."""
    return commands.version_location()


def configure(
    context: Any,
    *,
    connection: sa.Connection | None = None,
    schema: str | None = AGNO_DEFAULT_SCHEMA,
    tables: Mapping[str, str] | None = None,
    names: Names | None = None,
    target_version: str | None = None,
    allow_data_loss: bool | None = None,
    include_name: IncludeName | None = None,
    include_object: IncludeObject | None = None,
    on_version_apply: Callable[..., None] | Sequence[Callable[..., None]] | None = None,
    **configure_kwargs: Any,
) -> RunState:
    """Configure a host's migration context to run agno-alembic's branches next to its own.

    ``context`` is ``alembic.context`` (or an :class:`EnvironmentContext`); ``connection`` the host's connection
    (online), or leave it out and pass ``url=`` / ``dialect_name=`` for ``--sql``.  Agno's tables are where the
    application's Agno db object keeps them: ``schema`` (default: Agno's, ``ai`` on PostgreSQL and MySQL; ``None``:
    the connection's own) and ``tables`` (``{"sessions": "my_sessions", ...}``, by table type or alias), or a
    complete :class:`~agno_alembic.naming.Names`.  ``target_version`` and ``allow_data_loss`` default to the
    ``-x agno_version=`` and ``-x allow_data_loss=`` arguments.  Every other keyword goes to ``context.configure``
    (``target_metadata``, ``version_table``, ``render_as_batch``...); ``include_name``, ``include_object`` and
    ``on_version_apply`` of the host are kept and run after agno-alembic's.

    Returns the :class:`~agno_alembic.runtime.RunState` the revisions run with.
    """
    env = guard.environment_context(context)
    if env is None:
        raise ConfigurationError(
            "agno_alembic.host.configure needs alembic.context (from alembic import context) inside env.py, or an "
            "EnvironmentContext",
            option="context",
        )
    guard.enable_loggers()  # a stock env.py's fileConfig() disabled them: its warnings must be seen
    add_version_locations(env.script, env.config)
    offline = env.is_offline_mode()
    if connection is None and not offline:
        raise ConfigurationError("agno_alembic.host.configure needs connection= when not in --sql mode",
                                 option="connection")
    backend = _backend(connection, configure_kwargs)
    if names is None:
        resolved = naming.default_schema(backend) if schema is AGNO_DEFAULT_SCHEMA else schema
        table_names = {registry.table_type(k).name: naming._checked(f"{k} table", v) for k, v in (tables or {}).items()}
        names = Names(schema=resolved, tables=table_names)
    x = env.get_x_argument(as_dictionary=True)
    if target_version is None and x.get("agno_version"):
        target_version = x["agno_version"]
    if target_version is not None:
        target_version = registry.resolve_version(target_version)
    if allow_data_loss is None:
        allow_data_loss = settings.is_true(x.get("allow_data_loss"))
    state = RunState(names=names, backend=backend, target_version=target_version,
                     allow_data_loss=bool(allow_data_loss), offline=offline)

    version_table = configure_kwargs.get("version_table", "alembic_version")
    version_schema = configure_kwargs.get("version_table_schema")
    if connection is not None:
        _prepare(connection, state, version_table, version_schema)

    guard.install(env)
    hooks: list[Callable[..., None]] = [stamps.on_version_apply]
    if on_version_apply is not None:
        hooks.extend([on_version_apply] if callable(on_version_apply) else on_version_apply)
    default_schema = connection.dialect.default_schema_name if connection is not None else None
    name_filter, object_filter = exclude_agno(names, backend, default_schema=default_schema,
                                              include_name=include_name, include_object=include_object)
    if offline:
        configure_kwargs.setdefault("literal_binds", True)
    env.configure(
        connection=connection,
        on_version_apply=stamps.each(hooks),
        include_name=name_filter,
        include_object=object_filter,
        **{**configure_kwargs, RUN_STATE_KEY: state},
    )
    version = env.get_context()._version.c.version_num
    if (getattr(version.type, "length", None) or 0) < VERSION_NUM_LENGTH:
        version.type.length = VERSION_NUM_LENGTH  # type: ignore[attr-defined]  # a String: it has a length
    if offline and names.schema and backend == registry.POSTGRESQL:
        env.execute(sa.schema.CreateSchema(names.schema, if_not_exists=True))
    return state


@contextlib.contextmanager
def locked(
    connection: sa.Connection,
    *,
    schema: str | None = AGNO_DEFAULT_SCHEMA,
    timeout: float | str | None = None,
    ttl: float | str | None = None,
) -> Iterator[None]:
    """Hold agno-alembic's migration lock of Agno's ``schema`` on ``connection`` for the block.

    agno-alembic's own environment and the ``MigrationManager`` take this lock around every run that may change
    the database; a host's ``env.py`` takes it by wrapping its run (``configure``, ``begin_transaction``,
    ``run_migrations``) in this block, on the connection that migrates.  ``timeout`` / ``ttl`` in seconds (also
    as text, e.g. from ``-x lock_timeout=``); ``None``: the lock's defaults.  See :mod:`agno_alembic.lock`.
    """
    from agno_alembic import lock

    backend = dialects.backend_of(connection.dialect)
    resolved = naming.default_schema(backend) if schema is AGNO_DEFAULT_SCHEMA else schema
    with lock.hold(connection, schema=resolved, backend=backend, timeout=lock.parse_seconds(timeout, "lock_timeout"),
                   ttl=lock.parse_seconds(ttl, "lock_ttl")):
        yield


def _backend(connection: sa.Connection | None, kwargs: Mapping[str, Any]) -> str:
    if connection is not None:
        return dialects.backend_of(connection.dialect)
    if kwargs.get("url") is not None:
        return dialects.backend_of(sa.make_url(kwargs["url"]).get_backend_name())
    if kwargs.get("dialect_name"):
        return dialects.backend_of(kwargs["dialect_name"])
    raise ConfigurationError("agno_alembic.host.configure in --sql mode needs url= or dialect_name=", option="url")


# -- version locations ---------------------------------------------------------------------------------------


def add_version_locations(script: ScriptDirectory, config: Any = None) -> bool:
    """Make ``script`` load agno-alembic's revisions too; returns whether anything had to be added.

    Commands that run ``env.py`` (upgrade, downgrade, current, stamp, check) then see Agno's branches.  ``alembic
    heads``, ``history`` and ``branches`` never run ``env.py``: for them ``agno_alembic.revisions:`` belongs in
    ``version_locations`` of the host's configuration, so its absence is logged as a warning.
    """
    ours = Path(version_location()).resolve()
    locations = [Path(p).resolve() for p in script._version_locations]
    missing = ours not in locations
    if not missing and script.recursive_version_locations:
        return False
    configured = (config.get_version_locations_list() or []) if config is not None else []
    split = [c for c in configured if c.strip() == VERSION_LOCATION.rstrip(":")]
    if split:
        log.warning(
            "version_locations holds %r, which is not a directory: %r was split on its colon (path_separator = os "
            "or ':'); Alembic ignores such entries. Use path_separator = space or newline. agno-alembic adds its "
            "revisions itself for this run.", split[0], VERSION_LOCATION,
        )
    elif missing:
        log.warning(
            "version_locations lacks %r: agno-alembic adds its revisions for this run, but 'alembic heads', "
            "'history' and 'branches' (which never run env.py) will not list Agno's branches. Add it, with "
            "path_separator = space (or newline) and recursive_version_locations = true.", VERSION_LOCATION,
        )
    else:
        log.warning("recursive_version_locations is off: agno-alembic's revisions live in one folder per branch; "
                    "turning it on for this run. Set recursive_version_locations = true.")
    if missing:
        script.version_locations = [str(p) for p in locations] + [str(ours)]
        script.__dict__.pop("_version_locations", None)
    script.recursive_version_locations = True
    script.revision_map = RevisionMap(script._load_revisions)
    return True


# -- keeping Agno's tables out of the host's autogenerate ----------------------------------------------------


def exclude_agno(
    names: Names,
    backend: str,
    *,
    default_schema: str | None = None,
    include_name: IncludeName | None = None,
    include_object: IncludeObject | None = None,
) -> tuple[IncludeName, IncludeObject]:
    """``include_name`` and ``include_object`` filters leaving out Agno's tables, ``agno_schema_versions``,
    agno-alembic's own version tables (``agno_alembic_version*``) and Agno's knowledge bases (named, or reflected
    with Agno's vector columns), then asking the host's own filters, if any.

    ``default_schema`` is the connection's default schema name, so that ``schema=None`` and its real name match.
    """
    agno = guard.agno_table_names(names, backend) | set(names.vector_tables or ())
    agno_schema = names.schema or default_schema
    knowledge = set(vectors.SINGLESTORE_COLUMNS)  # the columns every Agno vector table has

    def is_agno(name: str | None, schema: str | None, obj: Any = None) -> bool:
        if name is None or (schema or default_schema) != agno_schema:
            return False
        if isinstance(obj, sa.Table) and knowledge <= {c.name for c in obj.columns}:
            return True  # a knowledge base (agno_alembic.vectors), found in the database
        return name in agno or name.startswith(DEFAULT_ALEMBIC_VERSION_TABLE)

    def name_filter(name: str | None, type_: str, parent_names: Mapping[str, Any]) -> bool:
        if type_ == "table" and is_agno(name, parent_names.get("schema_name")):
            return False
        return include_name(name, type_, parent_names) if include_name is not None else True

    def object_filter(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table" and is_agno(name, getattr(obj, "schema", None), obj if reflected else None):
            return False
        return include_object(obj, name, type_, reflected, compare_to) if include_object is not None else True

    return name_filter, object_filter


# -- before configure: schema and version table --------------------------------------------------------------


def _prepare(connection: sa.Connection, state: RunState, version_table: str, version_schema: str | None) -> None:
    """Create Agno's schema if missing and widen the host's ``version_num``; leave the transaction as found."""
    was_in_transaction = connection.in_transaction()
    insp = sa.inspect(connection)
    schema = state.names.schema
    if schema and state.backend != registry.SQLITE and schema not in insp.get_schema_names():
        log.info("Creating schema %s for Agno's tables", schema)
        connection.execute(mysql.CreateSchema(schema))
    if state.backend != registry.SQLITE and insp.has_table(version_table, schema=version_schema):
        column = next((c for c in insp.get_columns(version_table, schema=version_schema)
                       if c["name"] == "version_num"), None)
        length = getattr(column["type"], "length", None) if column else None
        if column is not None and length is not None and length < VERSION_NUM_LENGTH:
            log.warning("Widening %s.version_num from %s to %s characters: agno-alembic's revision ids have up to 35",
                        version_table, length, VERSION_NUM_LENGTH)
            Operations(MigrationContext.configure(connection)).alter_column(
                version_table, "version_num", type_=sa.String(VERSION_NUM_LENGTH), existing_type=column["type"],
                existing_nullable=False, schema=version_schema,
            )
    if not was_in_transaction and connection.in_transaction():
        connection.commit()

