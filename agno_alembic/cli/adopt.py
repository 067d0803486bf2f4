"""``adopt`` and ``import-v1``: bring tables agno-alembic did not build under its record (Agno 2.x tables read
from their shape; Agno 1.x storage tables imported into the current ones)."""

from __future__ import annotations

import argparse

from agno_alembic import errors
from agno_alembic.cli import offline_sql, options
from agno_alembic.cli.options import Verb
from agno_alembic.cli.progress import progress
from agno_alembic.exits import EXIT_FAILED, EXIT_OK, EXIT_REFUSED

__all__ = ["ADOPT", "IMPORT_V1"]


def adopt(args: argparse.Namespace) -> int:
    mm, url, backend = options.manager(args)
    if args.sql:
        return offline_sql.adopt_sql(args, mm, url, backend)
    wanted = options.table_types(args)
    before = {s.table_type: s.revision for s in mm.status(table_type=wanted)}
    with progress(args.quiet):
        mm.adopt(table_type=wanted, force=bool(args.force))
    after = mm.status(table_type=wanted)
    moved = [s for s in after if before.get(s.table_type) != s.revision]
    if not moved:
        print("Nothing to adopt: every selected table's branch is recorded where the table is.")
    for s in moved:
        where = f"{s.revision} (schema {s.detected_version})" if s.revision else "base (no table)"
        print(f"{s.table_type}  {s.table_name}: recorded at {where}, was {before.get(s.table_type) or 'unrecorded'}")
    return EXIT_OK


def import_v1(args: argparse.Namespace) -> int:
    """Import Agno 1.x storage tables; exit 3 when rows were skipped (the summary says which and why)."""
    mm, _, _ = options.manager(args)
    given = {k: getattr(args, k) for k in ("agent_sessions", "team_sessions", "workflow_sessions", "memories")}
    if not any(given.values()):
        raise errors.ConfigurationError(
            "import-v1 needs at least one v1 table: --agent-sessions, --team-sessions, --workflow-sessions or "
            "--memories", option="agent_sessions",
        )
    with progress(args.quiet):
        summary = mm.import_v1(**given, v1_schema=args.v1_schema, batch=args.batch)
    print(summary)
    if summary.errors:
        return EXIT_FAILED
    return EXIT_OK if summary.ok else EXIT_REFUSED


def _adopt_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="re-detect and re-record every selected table, "
                                                             "recorded or not")
    parser.add_argument("--sql", action="store_true", help="print the SQL recording it instead of running it")


def _import_v1_arguments(parser: argparse.ArgumentParser) -> None:
    for flag in ("--agent-sessions", "--team-sessions", "--workflow-sessions", "--memories"):
        parser.add_argument(flag, metavar="TABLE", help=f"the v1 {flag[2:].replace('-', ' ')} table")
    parser.add_argument("--v1-schema", help="schema of the v1 tables (default: the target's)")
    parser.add_argument("--batch", type=int, default=1000, help="rows per batch (default 1000)")


ADOPT = Verb("adopt", adopt, "Record where the tables of a database Agno built are, read from the tables "
             "themselves, without migrating", _adopt_arguments)
IMPORT_V1 = Verb("import-v1", import_v1, "Import Agno 1.x sessions (with their runs) and memories into the current "
                 "tables, bringing them up first; a re-run changes nothing", _import_v1_arguments, select=False)
