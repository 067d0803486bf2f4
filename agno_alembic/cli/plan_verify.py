"""``plan`` and ``verify`` (docs/plan.md): what ``up`` would do, and every table against its recorded version."""

from __future__ import annotations

import argparse
import json

from agno_alembic.cli import options
from agno_alembic.cli.options import Verb

__all__ = ["PLAN", "VERIFY"]


def plan(args: argparse.Namespace) -> int:
    """What ``up`` would do, without doing it; exit 0 nothing pending, 1 pending, 3 a data check would stop a step."""
    from agno_alembic import preview

    mm, _, _ = options.manager(args)
    result = mm.plan(target_version=options.target(args, required=False), table_type=options.table_types(args),
                     exact=args.exact, create_missing=args.create_missing)
    print(json.dumps(result.to_dict(), indent=2) if args.json else preview.render(result, sql=args.sql))
    return int(result.exit_code)


def verify(args: argparse.Namespace) -> int:
    """Every table against the shape of its recorded version; exit 1 on any difference (after ``--fix``: left)."""
    from agno_alembic import verify as verify_module

    mm, _, _ = options.manager(args)
    report = mm.verify(table_type=options.table_types(args), fix=args.fix)
    print(json.dumps(report.to_dict(), indent=2) if args.json else verify_module.render(report))
    return int(report.exit_code)


def _plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", metavar="VERSION", help="target schema version (default: the latest)")
    parser.add_argument("--exact", action="store_true", help="count rows instead of using table statistics")
    parser.add_argument("--create-missing", action="store_true",
                        help="plan the tables that do not exist too, as 'up --create-missing' would create them")
    parser.add_argument("--sql", action="store_true", help="show every statement in full")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fix", action="store_true", help="repair what moves no data (a missing index, a "
                        "missing nullable column, a wrong record) and list the rest")
    parser.add_argument("--json", action="store_true", help="print JSON")


PLAN = Verb("plan", plan, "Show what 'up' would do, changing nothing: each pending step's statements, locks, rows, "
            "expected time and data-check findings (exit 1 pending, 3 a check would stop a step)", _plan_arguments)
VERIFY = Verb("verify", verify, "Compare every table with the shape of its recorded schema version and the records "
              "with each other (exit 1 on any difference)", _verify_arguments)
