"""The ``agno-alembic`` command line: Alembic's own :class:`alembic.config.CommandLine`, plus agno-alembic's verbs
from the table :data:`VERBS`, and exit codes (:mod:`agno_alembic.exits`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import __version__ as alembic_version
from alembic.config import CommandLine as AlembicCommandLine
from alembic.config import Config
from alembic.util import CommandError

from agno_alembic import commands, errors
from agno_alembic.cli import adopt, break_lock, migrate, plan_verify, status
from agno_alembic.cli import options as options_module
from agno_alembic.cli.options import Verb
from agno_alembic.cli.progress import progress
from agno_alembic.exits import EXIT_OK, error_message, exit_code
from agno_alembic.guard import OWN_COMMAND_LINE

__all__ = ["DESCRIPTION", "VERBS", "CommandLine", "main"]

DESCRIPTION = """\
Alembic migrations for Agno's SQL tables. Every alembic verb works as in alembic (upgrade heads, downgrade
agno_memories@-1, history, current, heads, check...; -x url=... -x schema=... -x session_table=...), with
alembic.ini when there is one and agno-alembic's own environment otherwise. On top, the MigrationManager's verbs:
up, down, status, adopt, break-lock, and import-v1 for Agno 1.x data (see 'agno-alembic <verb> --help').
Exit codes: 0 ok, 1 pending (status --check, check), 2 usage or configuration, 3 refused (data would be lost),
4 migration or database failed, 5 migration lock."""

#: agno-alembic's verbs, in the order ``--help`` lists them; each is declared beside its code.
VERBS: tuple[Verb, ...] = (
    migrate.UP, migrate.DOWN, status.STATUS, adopt.ADOPT, adopt.IMPORT_V1, migrate.CONTRACT, break_lock.BREAK_LOCK,
    plan_verify.PLAN, plan_verify.VERIFY,
)


class CommandLine(AlembicCommandLine):
    """Alembic's command line with agno-alembic's verbs added, and exit codes."""

    def __init__(self, prog: str | None = "agno-alembic") -> None:
        super().__init__(prog)
        self.parser.description = DESCRIPTION
        self.parser.formatter_class = argparse.RawDescriptionHelpFormatter
        for action in self.parser._actions:
            if isinstance(action, argparse._VersionAction):
                from agno_alembic import __version__

                action.version = f"agno-alembic {__version__} (alembic {alembic_version})"
        self._add_verbs()

    def _add_verbs(self) -> None:
        database = options_module.database_arguments()
        selection = options_module.selection_arguments()
        for verb in VERBS:
            parents = [database, selection] if verb.select else [database]
            sub = self.subparsers.add_parser(verb.name, help=verb.help, description=verb.help, parents=parents)
            sub.set_defaults(cmd=None, agno_verb=verb.run)
            verb.arguments(sub)

    def config(self, options: argparse.Namespace) -> Config:
        """The Alembic config of an alembic verb: alembic.ini (or -c) when present, else agno-alembic's own."""
        toml, ini = options_module.inis(options)
        if ini is not None or toml is not None:
            config = Config(file_=ini, toml_file=toml, ini_section=options.name, cmd_opts=options)
        else:
            config = commands.make_config(options_module.DEFAULT_URL)
            config.cmd_opts = options
        config.attributes[OWN_COMMAND_LINE] = True  # progress lines and errors are this command line's own
        return config

    def run_cmd(self, config: Config, options: argparse.Namespace) -> None:
        fn, positional, kwarg = options.cmd
        fn(config, *[getattr(options, k, None) for k in positional], **{k: getattr(options, k, None) for k in kwarg})

    def run(self, argv: Sequence[str] | None = None) -> int:
        """Parse ``argv`` and run the verb; returns the exit code."""
        options = self.parser.parse_args(argv)
        if not hasattr(options, "cmd"):
            self.parser.error("too few arguments")
        try:
            if getattr(options, "agno_verb", None) is not None:
                return int(options.agno_verb(options))
            with progress(options.quiet or getattr(options, "sql", False)):
                self.run_cmd(self.config(options), options)
            return EXIT_OK
        except KeyboardInterrupt:
            sys.stderr.write("Interrupted\n")
            return 130
        except BrokenPipeError:  # the reader of stdout went away (| head): nothing of ours failed
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        except Exception as exc:
            code = exit_code(exc)
            expected = isinstance(exc, errors.AgnoAlembicError | CommandError | sa.exc.SQLAlchemyError)
            if options.raiseerr or not expected:
                traceback.print_exc()
            sys.stderr.write(f"FAILED: {error_message(exc)}\n")
            return code

    def main(self, argv: Sequence[str] | None = None) -> None:
        sys.exit(self.run(argv))


def main(argv: Sequence[str] | None = None) -> None:
    """The ``agno-alembic`` console script."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    CommandLine().main(argv)
