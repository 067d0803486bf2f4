"""Small command functions over the script directory, shared by the facade, the CLI helpers and the tests.

Like :mod:`alembic.command`, each function takes an :class:`alembic.config.Config`; :func:`make_config`
builds one that needs no ``alembic.ini`` and no checkout (the revisions are package resources).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory

from agno_alembic import environment, plan, registry
from agno_alembic.naming import Names
from agno_alembic.plan import branch_position, revision_at, revisions_of

__all__ = [
    "branch_position", "current_heads", "downgrade", "downgrade_table", "make_config", "revision_at",
    "revisions_of", "script_directory", "upgrade",
]


def script_location() -> str:
    return str(resources.files("agno_alembic"))


def version_location() -> str:
    return str(resources.files("agno_alembic.revisions"))


def make_config(
    url: str | sa.URL | None = None,
    *,
    connection: sa.Connection | None = None,
    names: Names | None = None,
    target_version: str | None = None,
    allow_data_loss: bool | None = None,
    ini: str | None = None,
    **attributes: Any,
) -> Config:
    """An Alembic :class:`Config` for agno-alembic's revisions, from Python values."""
    config = Config(ini) if ini else Config()
    config.set_main_option("script_location", script_location())
    config.set_main_option("version_locations", version_location())
    config.set_main_option("recursive_version_locations", "true")
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", sa.make_url(url).render_as_string(hide_password=False)
                               .replace("%", "%%"))
    attrs = config.attributes
    if connection is not None:
        attrs[environment.ATTR_CONNECTION] = connection
    if names is not None:
        attrs[environment.ATTR_NAMES] = names
    if target_version is not None:
        attrs[environment.ATTR_TARGET] = target_version
    if allow_data_loss is not None:
        attrs[environment.ATTR_ALLOW_DATA_LOSS] = allow_data_loss
    attrs.update(attributes)
    return config


_SCRIPTS: dict[tuple[str | None, str | None], ScriptDirectory] = {}


def script_directory(config: Config) -> ScriptDirectory:
    """The config's script directory; agno-alembic's own (a config from :func:`make_config`) is loaded once.

    Our revisions are package resources that cannot change while the process runs, so their parsed modules and
    revision map are kept: every facade call used to load all of them again, several times.  A directory from
    an ``alembic.ini`` (a host project, whose revisions ``alembic revision`` may add to) is loaded afresh.
    """
    location = config.get_main_option("script_location")
    versions = config.get_main_option("version_locations")
    if config.config_file_name is not None or (location, versions) != (script_location(), version_location()):
        return ScriptDirectory.from_config(config)
    key = (location, versions)
    script = _SCRIPTS.get(key)
    if script is None:
        script = _SCRIPTS[key] = ScriptDirectory.from_config(config)
    return script


def upgrade(config: Config, destinations: Sequence[str], *, sql: bool = False) -> None:
    """Upgrade several branches in one run (``upgrade a@x b@y`` in one environment, one connection)."""
    script = script_directory(config)
    targets = _without_ancestors(script, destinations)

    def steps(rev: Any, context: Any) -> list[Any]:
        # Alembic's (private) _upgrade_revs takes several destinations (upgrade a@x b@y), typed as one.
        return script._upgrade_revs(targets, rev)  # type: ignore[arg-type]

    with EnvironmentContext(config, script, fn=steps, as_sql=sql, destination_rev=targets, tag=None):
        script.run_env()


def _without_ancestors(script: ScriptDirectory, destinations: Sequence[str]) -> tuple[str, ...]:
    """Alembic refuses targets that overlap; a target another one depends on is implied by it."""
    implied: set[str] = set()
    for dest in destinations:
        implied.update(r.revision for r in script.revision_map.iterate_revisions(dest, "base") if r.revision != dest)
    return tuple(dict.fromkeys(d for d in destinations if d not in implied))


def stamp(config: Config, revision: str | Sequence[str], *, purge: bool = False) -> None:
    """Record branches at ``revision`` (``<label>@base`` to clear one) without running anything.

    With ``purge``, the version table is emptied first and holds exactly the given revisions afterwards (those
    implied by another one's dependencies are left out, as Alembic requires).
    """
    script = script_directory(config)
    targets = (revision,) if isinstance(revision, str) else _without_ancestors(script, revision) or ("base",)

    def steps(rev: Any, context: Any) -> list[Any]:
        return script._stamp_revs(targets, rev)

    with EnvironmentContext(config, script, fn=steps, destination_rev=targets, tag=None, purge=purge):
        script.run_env()


def sync_stamps(config: Config) -> None:
    """Run the environment with nothing to migrate: only its stamp synchronisation (``ATTR_SYNC_STAMPS``)."""
    script = script_directory(config)
    with EnvironmentContext(config, script, fn=lambda rev, context: []):
        script.run_env()


def downgrade(config: Config, destination: str, *, sql: bool = False) -> None:
    """``alembic downgrade destination`` (with ``sql``: ``from:to``, as Alembic's offline mode requires)."""
    if sql:
        command.downgrade(config, destination, sql=True)
        return
    script = script_directory(config)

    def steps(rev: Any, context: Any) -> list[Any]:
        return script._downgrade_revs(destination, rev)

    with EnvironmentContext(config, script, fn=steps, destination_rev=destination, tag=None):
        script.run_env()


def downgrade_table(config: Config, table_type: registry.TableType, version: str, *, sql: bool = False) -> bool:
    """Downgrade one table's branch to the revision of schema ``version``; never runs a step above its position.

    Returns whether anything was to be done.
    """
    script = script_directory(config)
    position = plan.branch_position(script, current_heads(config), table_type)
    target = plan.revision_at(script, table_type, version)
    if plan.order(script, table_type, position) <= plan.order(script, table_type, target):
        return False
    downgrade(config, target or f"{table_type.label}@base", sql=sql)
    return True


def current_heads(config: Config) -> tuple[str, ...]:
    """The heads recorded in our version table."""
    script = script_directory(config)
    found: list[str] = []

    def read(rev: Any, context: Any) -> list[Any]:
        found.extend(context.get_current_heads())
        return []

    with EnvironmentContext(config, script, fn=read, dont_mutate=True):
        script.run_env()
    return tuple(found)
