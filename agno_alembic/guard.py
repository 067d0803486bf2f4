"""What every ``env.py`` running agno-alembic's revisions does around Alembic: ours, and a host's.

Alembic's own messages are poor at three points where a plugin with one branch per table type hurts, and this
module catches each before anything runs:

* a plain ``head`` (``alembic upgrade head``) with one head per table type: :class:`PlainHeadError`, naming
  ``heads`` and ``<label>@head``;
* version rows that no version location provides (a newer agno-alembic wrote them, or another project shares the
  version table): :class:`UnknownRevisionsError`, naming each row and its branch instead of Alembic's
  "Can't locate revision";
* ``alembic check`` / ``revision --autogenerate`` in agno-alembic's own environment: Agno's tables at their heads
  are the target metadata, and only Agno's tables are compared.

:func:`install` puts the checks around the command's work function; our ``env.py`` calls it, and so does
:func:`agno_alembic.host.configure` in a host project's.  :func:`command_line_errors` turns agno-alembic's own
errors into Alembic's ``CommandError`` when a command line runs the environment, so ``alembic`` prints
``FAILED: <message>`` instead of a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import sqlalchemy as sa
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from agno_alembic import dialects, exits, plan, registry, runtime, shapes
from agno_alembic.errors import AgnoAlembicError, PlainHeadError, UnknownRevisionsError
from agno_alembic.naming import DEFAULT_ALEMBIC_VERSION_TABLE, Names

__all__ = [
    "PlainHeadError",
    "UnknownRevisionsError",
    "agno_metadata",
    "agno_table_names",
    "command_line_errors",
    "configure_logging",
    "enable_loggers",
    "environment_context",
    "install",
]

_OUR_REVISION = re.compile(r"^(?P<label>agno_[a-z0-9_]+?)_(?P<version>\d+_\d+_\d+)$")
_GUARDED = "_agno_alembic_guarded"


def environment_context(context: Any) -> EnvironmentContext | None:
    """The :class:`EnvironmentContext` behind ``alembic.context`` (or ``context`` itself if it is one)."""
    if isinstance(context, EnvironmentContext):
        return context
    found = getattr(context, "_proxy", None)
    return found if isinstance(found, EnvironmentContext) else None


# -- plain "head" --------------------------------------------------------------------------------------------


_PLAIN_HEAD = re.compile(r"head(?:[+-]\d+)?")
_RELATIVE = re.compile(r"[+-]\d+")


def check_destination(script: ScriptDirectory, destination: object, *, verb: str = "upgrade") -> None:
    """Refuse a plain ``head`` (``head``, ``head-1``, ``x:head``) or a relative step (``-1``, ``+1``, ``x:-2``) when
    the history has several heads: Alembic would pick a branch of its own (an arbitrary Agno table) for it.
    """
    if destination is None:
        return
    # The type-ignore below: Alembic's destination: a str or a sequence of them
    wanted = [destination] if isinstance(destination, str) else list(destination)  # type: ignore[call-overload]
    given = [d.strip().rpartition(":")[2] for d in wanted if isinstance(d, str)]
    plain = [d for d in given if _PLAIN_HEAD.fullmatch(d)]
    relative = [d for d in given if _RELATIVE.fullmatch(d)]
    if not plain and not relative:
        return
    heads = script.get_heads()
    if len(heads) < 2:
        return
    labels = sorted({label for h in heads for label in (script.get_revision(h).branch_labels or ())})
    # An application's own branch is the likeliest meant in a host project; agno_sessions in agno-alembic's own.
    example = next((lb for lb in labels if not lb.startswith("agno_")),
                   next((lb for lb in labels if lb == "agno_sessions"), labels[0] if labels else "<label>"))
    if relative:
        step = relative[0]
        raise PlainHeadError(
            f"'{step}' is ambiguous here: there are {len(heads)} heads, one per branch (every Agno table type is "
            f"its own branch), and a relative step does not say which branch moves. Use '<label>@{step}' for one "
            f"branch (alembic {verb} {example}@{step}); 'alembic heads' lists the labels, 'alembic current' where "
            "each branch is."
        )
    raise PlainHeadError(
        f"'{plain[0]}' is ambiguous here: there are {len(heads)} heads, one per branch (every Agno table type is "
        f"its own branch). Use 'heads' for every branch (alembic upgrade heads) or '<label>@head' for one "
        f"(alembic upgrade {example}@head); 'alembic heads' lists them."
    )


# -- unknown revisions ---------------------------------------------------------------------------------------


def _installed_version() -> str:
    try:
        from importlib.metadata import version

        return version("agno-alembic")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "unknown"


def check_known(
    script: ScriptDirectory, heads: Iterable[str | None], version_table: str, *, own_environment: bool = False
) -> None:
    """Raise :class:`UnknownRevisionsError` naming every row of the version table no version location provides.

    ``own_environment``: agno-alembic's own ``env.py`` runs, whose version table should hold nothing but ours.
    """
    rows = [h for h in heads if h]
    if not rows:
        return
    known = plan.index(script).revisions
    unknown = [r for r in rows if r not in known]
    if not unknown:
        return
    lines = []
    for rev in unknown:
        m = _OUR_REVISION.match(rev)
        tt = registry.by_label(m["label"]) if m else None
        if tt is not None:
            ours = [r.revision for r in script.walk_revisions("base", "heads")
                    if getattr(getattr(r, "module", None), "agno_table_type", None) == tt.name]
            if ours:
                newest = max(ours, key=lambda r: tuple(int(p) for p in r.rsplit("_", 3)[-3:]))
                lines.append(
                    f"  {rev}: branch {tt.label} of agno-alembic, but not a revision of the installed agno-alembic "
                    f"{_installed_version()} (its newest is {newest}); a newer agno-alembic migrated this database: "
                    "install that version or a later one"
                )
            else:
                lines.append(
                    f"  {rev}: branch {tt.label} of agno-alembic, whose revisions are not in version_locations: "
                    "add 'agno_alembic.revisions:' (with path_separator = space and recursive_version_locations = "
                    "true), or call agno_alembic.host.configure() in env.py"
                )
        elif m:
            lines.append(
                f"  {rev}: branch {m['label']}, which the installed agno-alembic {_installed_version()} does not have "
                "(a newer agno-alembic added it): install that version or a later one"
            )
        elif own_environment:
            lines.append(f"  {rev}: not an agno-alembic revision; another Alembic project wrote it")
        else:
            lines.append(
                f"  {rev}: not an agno-alembic revision; the project that wrote it is not installed or not in "
                f"version_locations. Add its version location; if that branch was removed for good, delete its row "
                f"(DELETE FROM {version_table} WHERE version_num = '{rev}')"
            )
    advice = ""
    if own_environment and any(not _OUR_REVISION.match(r) for r in unknown):
        advice = (
            f"\n{version_table} is shared with another Alembic project: give agno-alembic a version table of its own "
            f"(-x version_table=..., default {DEFAULT_ALEMBIC_VERSION_TABLE}), or merge agno-alembic's branches into "
            "that project (agno_alembic.host.configure)."
        )
    raise UnknownRevisionsError(
        f"{version_table} holds {len(unknown)} revision(s) that no version location here provides, so nothing "
        "was run:\n" + "\n".join(lines) + advice,
        revisions=unknown,
        version_table=version_table,
    )


# -- Agno's tables, as metadata and as names -----------------------------------------------------------------


def agno_table_names(names: Names, backend: str) -> set[str]:
    """The actual names of every Agno table on ``backend``, Agno's bookkeeping table included."""
    return {names.table(tt.name) for tt in registry.TABLE_TYPES if tt.on(backend)}


def agno_metadata(names: Names, backend: str, *, schema: str | Literal[True] | None = True) -> sa.MetaData:
    """Every Agno table of ``backend`` as agno-alembic's heads leave it (Agno's fresh create at its last version).

    ``schema=True`` keeps ``names.schema``; anything else replaces it (``None``: the connection's default schema).
    """
    if schema is not True:
        names = names.with_schema(schema)
    metadata = sa.MetaData()
    # Registry order puts every foreign key's parent before its children, so no stub table is ever needed.
    for tt in registry.TABLE_TYPES:
        if tt.on(backend):
            shapes.spec(tt.name, backend, tt.last_version, names).sa_table(metadata)
    return metadata


def _compare_type(names: Names, backend: str) -> Callable[..., bool | None]:
    def compare(context: MigrationContext, inspected: sa.Column[Any], metadata: sa.Column[Any], *_: Any) -> bool | None:
        assert context.dialect is not None
        return not dialects.type_matches(inspected.type, metadata.type, context.dialect)

    return compare


def _own_autogenerate(context: MigrationContext) -> None:
    """Make Agno's tables at their heads the target of ``alembic check`` in agno-alembic's own environment."""
    if context.opts.get("target_metadata") is not None:
        return
    state = runtime.state(context)
    names, backend = state.names, state.backend
    assert context.connection is not None
    default = context.connection.dialect.default_schema_name
    schema = None if names.schema in (None, default) else names.schema
    tables = agno_table_names(names, backend)

    def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        if type_ == "schema":
            return name == schema
        if type_ == "table":
            return name in tables
        return True

    context.opts["target_metadata"] = agno_metadata(names, backend, schema=schema)
    context.opts["include_schemas"] = schema is not None
    context.opts["include_name"] = include_name
    context._user_compare_type = _compare_type(names, backend)


# -- a stable order of steps -----------------------------------------------------------------------------------


def _key(script: Any) -> tuple[int, int, str]:
    tt_name = getattr(getattr(script, "module", None), "agno_table_type", None)
    version = getattr(getattr(script, "module", None), "agno_version", None)
    if tt_name is None or version not in registry.SCHEMA_VERSIONS:
        return (len(registry.TABLE_TYPES), 0, script.revision)
    return (registry.TABLE_TYPES.index(registry.table_type(tt_name)), registry.version_index(version),
            script.revision)


def stable_order(steps: Any) -> Any:
    """The same steps in one reproducible order: each branch's steps together, in registry order, every step
    after what it depends on (before, for downgrades).

    Alembic orders the revisions of independent branches by set iteration, which changes from run to run; a
    reproducible order makes ``--sql`` scripts diffable and logs comparable.  Anything but a list of revision
    steps all going one way (stamps, mixed directions) is returned as it is.
    """
    if not isinstance(steps, list) or len(steps) < 2:
        return steps
    if any(type(s).__name__ != "RevisionStep" for s in steps):
        return steps
    directions = {bool(s.is_upgrade) for s in steps}
    if len(directions) != 1:
        return steps
    by_rev = {s.revision.revision: s for s in steps}
    if len(by_rev) != len(steps):
        return steps
    ordered: list[Any] = []
    done: set[str] = set()

    def visit(rev: str) -> None:
        if rev in done:
            return
        done.add(rev)
        script = by_rev[rev].revision
        deps = [d for d in script._all_down_revisions if d in by_rev]
        for dep in sorted(deps, key=lambda d: _key(by_rev[d].revision)):
            visit(dep)
        ordered.append(by_rev[rev])

    for rev in sorted(by_rev, key=lambda r: _key(by_rev[r].revision)):
        visit(rev)
    return ordered if directions == {True} else list(reversed(ordered))


# -- putting it together -------------------------------------------------------------------------------------


def install(context: Any, *, own_environment: bool = False) -> None:
    """Put the checks of this module around the running command (call it before ``context.configure``).

    ``own_environment``: this is agno-alembic's own ``env.py``, so ``alembic check`` compares Agno's tables.
    """
    env = environment_context(context)
    if env is None:
        return
    enable_loggers()
    work = env.context_opts.get("fn")
    verb = "downgrade" if getattr(work, "__name__", "") == "downgrade" else "upgrade"
    check_destination(env.script, env.context_opts.get("destination_rev"), verb=verb)
    if work is None or getattr(work, _GUARDED, False):
        return

    def guarded(heads: Any, migration_context: MigrationContext) -> Any:
        script = migration_context.script or env.script
        check_known(script, heads if isinstance(heads, tuple | list) else [heads], migration_context.version_table,
                    own_environment=own_environment)
        if own_environment and env.context_opts.get("revision_context") is not None:
            _own_autogenerate(migration_context)
        with _sorted_current(env.script):
            return stable_order(work(heads, migration_context))

    setattr(guarded, _GUARDED, True)
    env.context_opts["fn"] = guarded


def _label_key(script: Any) -> tuple[str, str]:
    """A revision's branch label (its own, or its Agno table type's), then its id."""
    labels = sorted(getattr(script, "branch_labels", None) or ())
    if labels:
        return (labels[0], script.revision)
    tt_name = getattr(getattr(script, "module", None), "agno_table_type", None)
    found = next((tt for tt in registry.TABLE_TYPES if tt.name == tt_name), None)
    return (found.label if found is not None else script.revision, script.revision)


@contextlib.contextmanager
def _sorted_current(script: ScriptDirectory) -> Iterator[None]:
    """``alembic current`` lists the current revisions by branch label (Alembic's own order is a set's)."""
    if "get_all_current" in vars(script):
        yield
        return
    original = script.get_all_current

    def get_all_current(id_: Any) -> Any:
        return sorted(original(id_), key=_label_key)

    # The type-ignore below: the check wraps this ScriptDirectory's own method
    script.get_all_current = get_all_current  # type: ignore[method-assign]
    try:
        yield
    finally:
        del script.get_all_current


def enable_loggers() -> None:
    """Undo a stock ``env.py``'s ``fileConfig`` (``disable_existing_loggers``) for agno-alembic's loggers, whose
    warnings (version locations, widened columns, kept columns) a user must see."""
    for name in ("agno_alembic", *[n for n in logging.root.manager.loggerDict if n.startswith("agno_alembic.")]):
        logging.getLogger(name).disabled = False


#: ``config.attributes`` key set by the ``agno-alembic`` command line, which reports progress and errors itself.
OWN_COMMAND_LINE = "agno_alembic_command_line"


def configure_logging(config: Any) -> None:
    """Under ``alembic``'s command line, apply the ini's logging sections, as a stock ``env.py`` does (so
    ``alembic upgrade`` prints its ``Running upgrade ...`` lines); loggers that exist already stay enabled.

    Not under ``agno-alembic`` (it prints its own progress) nor the Python API (the caller owns logging).
    """
    if getattr(config, "cmd_opts", None) is None or config.attributes.get(OWN_COMMAND_LINE):
        return
    name = config.config_file_name
    if name is None or not config.file_config.has_section("loggers"):
        return
    from logging.config import fileConfig

    fileConfig(name, disable_existing_loggers=False)


@contextlib.contextmanager
def command_line_errors(context: Any) -> Iterator[None]:
    """Under ``alembic``'s command line, report agno-alembic's errors and the database's (a refused connection, a
    wrong password, a URL whose driver is missing) as one ``FAILED: <message>`` line, as Alembic reports its own
    ``CommandError`` (on stdout), without a traceback, and exit with ``agno-alembic``'s exit code for it
    (2 usage or configuration, 3 refused, 4 failed, 5 lock; see :mod:`agno_alembic.exits`).

    Alembic's own errors (``CommandError``, a plain ``head`` included) are left to Alembic (``FAILED:``, exit 255);
    ``--raiseerr`` keeps the traceback.  The Python API (``config.cmd_opts`` unset) and ``agno-alembic`` (which
    reports errors itself) get the errors as they are.
    """
    try:
        yield
    except (AgnoAlembicError, sa.exc.SQLAlchemyError) as exc:
        config = context.config
        options = getattr(config, "cmd_opts", None)
        if options is None or config.attributes.get(OWN_COMMAND_LINE) or getattr(options, "raiseerr", False):
            raise
        sys.stdout.write(f"FAILED: {exits.error_message(exc)}\n")
        sys.stdout.flush()
        raise SystemExit(exits.exit_code(exc)) from exc
