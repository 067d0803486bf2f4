"""``break-lock``: clear a stale migration lock (:func:`agno_alembic.lock.break_lock`)."""

from __future__ import annotations

import argparse

from agno_alembic import lock
from agno_alembic.cli import options
from agno_alembic.cli.options import Verb
from agno_alembic.exits import EXIT_OK

__all__ = ["BREAK_LOCK"]


def break_lock(args: argparse.Namespace) -> int:
    url, kwargs = options.manager_kwargs(args)
    holder = lock.break_lock(url, db_schema=kwargs.get("db_schema"), force=args.force)
    print("Nobody held the migration lock." if holder is None else f"Broke the migration lock held by {holder}.")
    return EXIT_OK


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="break a lock whose holder may still be alive")


BREAK_LOCK = Verb("break-lock", break_lock, "Clear a stale migration lock (a held one only with --force, after "
                  "making sure its holder is gone)", _arguments, select=False)
