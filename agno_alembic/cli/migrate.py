"""``up``, ``down`` and ``contract``: the verbs that move tables between schema versions (through the facade)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from agno_alembic import registry
from agno_alembic.cli import offline_sql, options
from agno_alembic.cli.options import Verb
from agno_alembic.cli.progress import progress
from agno_alembic.exits import EXIT_OK

__all__ = ["CONTRACT", "DOWN", "UP"]


def _print_changes(changes: Sequence[Any], target: str | None, verb: str) -> None:
    if not changes:
        print(f"Nothing to do: every selected table is already where {verb} {target or 'latest'} puts it.")
        return
    width = max(len(c.table_type) for c in changes)
    for c in changes:
        print(f"{c.table_type:<{width}}  {c.table_name}: {c.before or '(no table)'} -> {c.after or '(no table)'}")


def up(args: argparse.Namespace) -> int:
    mm, url, backend = options.manager(args)
    target = options.target(args, required=False)
    if args.sql:
        return offline_sql.up_sql(args, mm, url, backend, target or registry.LATEST_VERSION)
    with progress(args.quiet):
        changes = mm.up(target_version=target, table_type=options.table_types(args), force=args.force,
                        create_missing=args.create_missing)
    _print_changes(changes, target, "up to")
    return EXIT_OK


def _up_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", metavar="VERSION", help="target schema version (2.0.0, 2.3.0, 2.5.0, 2.5.6, 3.0.0; "
                                                        "v2.3.0 and in-between versions work as in Agno)")
    parser.add_argument("--force", action="store_true", help="re-detect every selected table from the table itself "
                                                             "and re-record it before upgrading")
    parser.add_argument("--sql", action="store_true", help="print the SQL instead of running it (reads where each "
                                                           "table is from the database, changes nothing)")
    parser.add_argument("--create-missing", action="store_true",
                        help="create every selected table that does not exist too (default, as Agno: only the "
                             "tables that exist are migrated, and dropped ones agno-alembic recorded rebuilt)")
    options.online_arguments(parser)


def down(args: argparse.Namespace) -> int:
    mm, url, backend = options.manager(args)
    target = options.target(args, required=True)
    assert target is not None  # required: options.target raised otherwise
    if args.sql:
        return offline_sql.down_sql(args, mm, url, backend, target)
    with progress(args.quiet):
        changes = mm.down(target_version=target, table_type=options.table_types(args), force=args.force,
                          allow_data_loss=options.allow_data_loss(args))
    _print_changes(changes, target, "down to")
    return EXIT_OK


def _down_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", metavar="VERSION", help="target schema version (required)")
    parser.add_argument("--force", action="store_true", help="re-detect every selected table first")
    parser.add_argument("--allow-data-loss", action="store_true",
                        help="let the downgrade drop columns and tables that hold data (refused otherwise)")
    parser.add_argument("--sql", action="store_true", help="print the SQL of one table type's downgrade instead "
                                                           "of running it (reads where it is, changes nothing); "
                                                           "a step whose outcome depends on the rows is refused "
                                                           "by name, and dropping columns or tables needs "
                                                           "--allow-data-loss")


def contract(args: argparse.Namespace) -> int:
    mm, _, _ = options.manager(args)
    with progress(args.quiet):
        dropped = mm.contract(allow_data_loss=options.allow_data_loss(args))
    print(f"Dropped {', '.join(dropped)}." if dropped else "Nothing to contract.")
    return EXIT_OK


def _contract_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-data-loss", action="store_true",
                        help="drop even what the runs table lacks (back it up first)")


UP = Verb("up", up, "Bring Agno's tables up to a schema version (default: the latest), adopting tables Agno built "
          "on first use", _up_arguments)
DOWN = Verb("down", down, "Bring Agno's tables down to a schema version; never runs a step above a table's version",
            _down_arguments)
CONTRACT = Verb("contract", contract, "After an online up(), once no replica runs Agno 2.x: copy the legacy runs "
                "written since, then drop what the latest schema no longer has (sessions.runs); refused while "
                "anything would be lost", _contract_arguments, select=False)
