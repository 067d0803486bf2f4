"""What every agno-alembic verb reads from its command line: the database, the table selection, the target
version, ``-x`` options, online mode, and the :class:`~agno_alembic.SyncMigrationManager` built from them.

The argument groups shared by the verbs are :func:`database_arguments` and :func:`selection_arguments`; a verb's own
arguments are declared beside its code (one module per group of verbs, see :mod:`agno_alembic.cli`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import CommandLine as AlembicCommandLine
from alembic.config import Config

from agno_alembic import dialects, errors, registry, settings
from agno_alembic.manager import SyncMigrationManager

DEFAULT_URL = "sqlite:///agno.db"


@dataclass(frozen=True)
class Verb:
    """One agno-alembic verb: its name, what it runs (returning the exit code), its help, and its own arguments."""

    name: str
    run: Callable[[argparse.Namespace], int]
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    select: bool = True
    """Whether it takes the table selection (``--table-type``, ``--table``, ``--vector-table``, ``--version-table``)."""


def database_arguments() -> argparse.ArgumentParser:
    """``--db-url``, ``--schema``, ``-q``: every agno-alembic verb's."""
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db-url", help="database URL (default: -x url=, sqlalchemy.url of alembic.ini, else "
                                     f"{DEFAULT_URL}); async drivers work too")
    db.add_argument("--schema", help="PostgreSQL schema / MySQL database of Agno's tables ('none': the "
                                     "connection's own; default: Agno's, ai on PostgreSQL and MySQL)")
    db.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                    help="no progress lines on stderr")
    return db


def selection_arguments() -> argparse.ArgumentParser:
    """Which tables a verb works on, and under which names."""
    select = argparse.ArgumentParser(add_help=False)
    select.add_argument("--table-type", action="append", metavar="TYPE",
                        help="only this table type (sessions, memory, eval...); repeat or comma-separate")
    select.add_argument("--table", action="append", metavar="TYPE=NAME",
                        help="a table's name when not Agno's default (session=my_sessions); repeatable")
    select.add_argument("--vector-table", action="append", metavar="NAME",
                        help="an Agno pgvector knowledge table to migrate (default: every one found in the "
                             "schema); repeatable")
    select.add_argument("--version-table", help="agno-alembic's Alembic version table (default: "
                                                "agno_alembic_version, or its per-configuration variant)")
    return select


def x_options(options: argparse.Namespace) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in getattr(options, "x", None) or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise errors.ConfigurationError(f"-x takes key=value, got {item!r}", option=item)
        out[key.strip()] = value
    return out


def ini_url(options: argparse.Namespace) -> str | None:
    toml, ini = inis(options)
    if ini is None:
        return None
    config = Config(file_=ini, toml_file=toml, ini_section=options.name)
    return config.get_main_option("sqlalchemy.url")


def inis(options: argparse.Namespace) -> tuple[str | None, str | None]:
    """The ini (and pyproject.toml) an alembic verb would read, or ``(None, None)`` when there is none."""
    # Alembic's own rule (-c, ALEMBIC_CONFIG, alembic.ini, pyproject.toml); the method does not use its instance.
    toml, ini = AlembicCommandLine._inis_from_config(None, options)  # type: ignore[arg-type]
    if Path(ini).is_file():
        return (toml if Path(toml).is_file() else None), ini
    if Path(toml).is_file() and "[tool.alembic]" in Path(toml).read_text(encoding="utf-8", errors="replace"):
        return toml, None
    return None, None


def manager_kwargs(options: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The database URL and ``SyncMigrationManager`` keywords, from ``--db-url``, ``--schema``... and ``-x``."""
    x = x_options(options)
    for key in ("agno_version", "allow_data_loss"):  # read by _target and _allow_data_loss
        x.pop(key, None)
    online = online_kwargs(options, x)
    url = options.db_url or x.pop("url", None) or ini_url(options) or DEFAULT_URL
    x.pop("url", None)
    schema = x.pop("schema", None)
    if options.schema is not None:
        schema = options.schema
    version_table = options.version_table if getattr(options, "version_table", None) else x.pop("version_table", None)
    x.pop("version_table", None)
    kwargs: dict[str, Any] = dict(online)
    if schema is not None:
        kwargs["db_schema"] = "" if schema.strip().lower() in ("", "none", "null", "default") else schema
    if version_table:
        kwargs["version_table"] = version_table
    given = [n for item in getattr(options, "vector_table", None) or [] for n in item.split(",")]
    if "vector_tables" in x:
        given += x.pop("vector_tables").split(",")
    if given:
        kwargs["vector_tables"] = [n.strip() for n in given]
    tables = dict(x)
    for item in getattr(options, "table", None) or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise errors.ConfigurationError(f"--table takes TYPE=NAME (session=my_sessions), got {item!r}",
                                            option="table")
        key = key.strip()
        tables[key if key.endswith("_table") else f"{key}_table"] = value
    for key, value in tables.items():
        if not key.endswith("_table"):
            raise errors.ConfigurationError(
                f"Unknown option {key!r}; valid: url, schema, version_table, agno_version, allow_data_loss, "
                "<table type>_table", option=key)
        registry.table_type(key[: -len("_table")])
        kwargs[key] = value
    dialects.checked_url(url, option="db-url")
    return url, kwargs


def table_types(options: argparse.Namespace) -> list[str] | None:
    wanted = [t.strip() for item in options.table_type or [] for t in item.split(",") if t.strip()]
    for name in wanted:
        if not registry.is_vectors(name):
            registry.table_type(name)
    return wanted or None


def selected(options: argparse.Namespace, backend: str) -> list[registry.TableType]:
    given = table_types(options)
    wanted = [t for t in given or [] if not registry.is_vectors(t)]
    types = registry.table_types(wanted) if wanted else [] if given else list(registry.TABLE_TYPES)
    return [t for t in types if t.on(backend)]


def target(options: argparse.Namespace, required: bool) -> str | None:
    value = options.to or x_options(options).get("agno_version")
    if value is None:
        if required:
            raise errors.ConfigurationError(
                f"down needs --to VERSION (one of {', '.join(registry.SCHEMA_VERSIONS)})", option="to")
        return None
    return registry.resolve_version(value)


def allow_data_loss(options: argparse.Namespace) -> bool:
    return bool(options.allow_data_loss) or settings.is_true(x_options(options).get("allow_data_loss"))


def online_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offline", action="store_true", help="maintenance-window mode: the fastest path, one "
                        "transaction per step, which blocks the application (default: online, docs/online.md)")
    parser.add_argument("--allow-rewrite", action="store_true", help="online: accept a step that rewrites a "
                        "populated table under an exclusive lock (PostgreSQL JSON to JSONB, where the table has what "
                        "the online rewrite through a shadow table cannot carry)")
    parser.add_argument("--ddl-deadline", metavar="SECONDS", help="online: how long a DDL statement keeps retrying "
                        "for its lock (default 300)")


def online_kwargs(options: argparse.Namespace, x: dict[str, str]) -> dict[str, Any]:
    """``SyncMigrationManager``'s online keywords from ``--offline``... and ``-x online=``..."""
    kwargs: dict[str, Any] = {}
    online = x.pop("online", None)
    if getattr(options, "offline", False):
        kwargs["online"] = False
    elif online is not None:
        kwargs["online"] = settings.yes_no(online, "online")
    allow = x.pop("allow_rewrite", "")
    kwargs["allow_rewrite"] = bool(getattr(options, "allow_rewrite", False)) or settings.is_true(allow)
    for option in ("ddl_deadline", "ddl_lock_wait"):
        value = getattr(options, option, None) or x.pop(option, None)
        x.pop(option, None)
        if value is not None:
            kwargs[option] = value
    return kwargs


def manager(options: argparse.Namespace) -> tuple[SyncMigrationManager, str, str]:
    url, kwargs = manager_kwargs(options)
    backend = dialects.backend_of(sa.make_url(url).get_backend_name())
    return SyncMigrationManager(url, **kwargs), url, backend
