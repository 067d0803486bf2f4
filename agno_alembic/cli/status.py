"""``status``: where each table is (revision, recorded and detected schema versions, pending revisions)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from agno_alembic import commands, plan, registry
from agno_alembic.cli import options
from agno_alembic.cli.options import Verb
from agno_alembic.exits import EXIT_OK, EXIT_PENDING
from agno_alembic.manager import TableStatus

__all__ = ["STATUS", "render_status"]


def _effective_pending(script: Any, status: TableStatus) -> tuple[str, ...]:
    """Revisions an ``up`` would run: from the recorded position, or from the detected one if not adopted."""
    if status.revision is not None or not status.exists or status.detected_version is None \
            or registry.is_vectors(status.table_type):  # a knowledge base's pending steps are read from it
        return status.pending
    tt = registry.table_type(status.table_type)
    found = plan.revision_at(script, tt, status.detected_version)
    after = plan.order(script, tt, found)
    return tuple(r for r, _ in plan.revisions_of(script, tt) if plan.order(script, tt, r) > after)


def status(args: argparse.Namespace) -> int:
    mm, _, _ = options.manager(args)
    rows = mm.status(table_type=options.table_types(args), create_missing=args.create_missing)
    script = commands.script_directory(commands.make_config())
    pending = {(s.table_type, s.table_name): _effective_pending(script, s) for s in rows}
    if args.json:
        print(json.dumps([
            {
                "table_type": s.table_type, "table": s.table_name, "exists": s.exists, "revision": s.revision,
                "adopted": s.revision is not None or not s.exists, "recorded_version": s.recorded_version,
                "detected_version": s.detected_version, "pending": list(pending[s.table_type, s.table_name]),
                "in_progress": list(s.in_progress), "contract_pending": s.contract_pending,
            }
            for s in rows
        ], indent=2))
    else:
        print(render_status(rows, pending))
        for s in rows:
            for line in s.in_progress:
                print(f"in progress: {line} (up resumes it)")
            if s.contract_pending:
                print(f"contract pending: {s.contract_pending} (agno-alembic contract, once no replica runs Agno 2.x)")
    waiting = [s for s in rows if pending[s.table_type, s.table_name]]
    if not args.json:
        print(f"\n{len(rows)} table(s): {len(rows) - len(waiting)} up to date, {len(waiting)} pending"
              + (" (agno-alembic up runs them)" if waiting else ""))
        print(STATUS_LEGEND)
    return EXIT_PENDING if args.check and waiting else EXIT_OK


STATUS_LEGEND = """
RECORDED  what agno_schema_versions says, which is what Agno reads ('-': no row, read as 2.0.0)
DETECTED  the newest schema version whose shape the table has, read from the table itself; where a table's shape
          did not change after a version, it matches the later ones too (memories at 2.3.0 has 3.0.0's shape, so
          RECORDED 2.3.0 with DETECTED 3.0.0 is a table at 2.3.0 with nothing pending); '?': no version's shape
PENDING   the revisions 'agno-alembic up' would run (from the detected position for a table not adopted yet;
          from its recorded revision for a recorded table that was dropped, which up rebuilds; none for a table
          that does not exist, which Agno creates itself, unless --create-missing)"""


def render_status(rows: Sequence[TableStatus], pending: dict[tuple[str, str], tuple[str, ...]]) -> str:
    """The status table: one line per table, aligned columns."""
    header = ("TABLE TYPE", "TABLE", "REVISION", "RECORDED", "DETECTED", "PENDING")
    lines = [header]
    for s in rows:
        if s.revision is not None:
            revision = s.revision
        elif s.exists:
            revision = "(not adopted)"
        else:
            revision = "(base)"
        todo = pending[s.table_type, s.table_name]
        todo_text = "-" if not todo else (todo[0] if len(todo) == 1 else f"{len(todo)}: {todo[0]} .. {todo[-1]}")
        lines.append((s.table_type, s.table_name, revision, s.recorded_version or "-",
                      s.detected_version or ("-" if not s.exists else "?"), todo_text))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(f"{cell:<{widths[i]}}" for i, cell in enumerate(line[:-1])) + "  " + line[-1] for line in lines
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="exit 1 when anything is pending")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--create-missing", action="store_true",
                        help="count the tables that do not exist as pending, as 'up --create-missing' would create "
                             "them")


STATUS = Verb("status", status, "Show where each table is: revision, recorded and detected schema versions, pending "
              "revisions", _arguments)
