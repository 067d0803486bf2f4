"""The two command lines, each run in a process of its own forked from one that has already imported them.

Starting ``agno-alembic`` or ``alembic`` costs about a second of CPU before the command does anything: importing
SQLAlchemy, Alembic and this package.  The suite runs those commands hundreds of times.  :func:`run` asks a fork
server (:mod:`multiprocessing`'s ``forkserver``, these modules preloaded) for a new process per command instead.  The
command still runs in a process of its own, with its own pid, exit code, stdout, stderr, stdin, environment and
working directory, and ends as the console script does (``sys.exit``, or a traceback and exit code 1).  What the
process shares with the others is only what importing did: the server imports, it connects to nothing, configures
no logging and starts no thread.  Its ``sys.path`` is the console script's: the script's folder, the environment's
``PYTHONPATH``, then the interpreter's own (never the test run's additions, such as the repository's root).

Not covered here, on purpose: the console scripts' own wrappers and the interpreter's start.  ``tests/test_wheel.py``
runs the installed scripts, and ``AGNO_ALEMBIC_TEST_SPAWN=1`` makes :func:`run` start the real scripts for every
command.
"""

from __future__ import annotations

import io
import json
import locale
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

SPAWN = os.environ.get("AGNO_ALEMBIC_TEST_SPAWN") == "1"
"""Start the installed console scripts instead (slower by about a second per command)."""

PRELOAD = ["agno_alembic.cli", "alembic.config", "tests.forked_cli"]
TOOLS = ("agno-alembic", "alembic")

_context: multiprocessing.context.ForkServerContext | None = None
_started = threading.Lock()
_base_path: list[str] | None = None


def _server() -> multiprocessing.context.ForkServerContext:
    global _context
    with _started:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _context = context
        return _context


def _interpreter_path() -> list[str]:
    """``sys.path`` of this interpreter started bare, without its first entry (the script's folder)."""
    global _base_path
    with _started:
        if _base_path is None:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            done = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(sys.path[1:]))"],
                                  env=env, capture_output=True, text=True, check=True)
            _base_path = json.loads(done.stdout)
        return _base_path


def _streams(env: Mapping[str, str]) -> None:
    encoding = env.get("PYTHONIOENCODING", "").split(":")[0] or locale.getpreferredencoding(False)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=encoding)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding=encoding)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding=encoding, errors="backslashreplace",
                                  line_buffering=True)


def _command(tool: str, args: list[str], env: dict[str, str], cwd: str, files: tuple[str, str, str],
             path: list[str]) -> None:
    """The forked process: the command's environment, directory, ``sys.path`` and standard streams, then the
    console script."""
    sys.path[:] = path
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    for fd, (path, flags) in enumerate(zip(files, (os.O_RDONLY, os.O_WRONLY, os.O_WRONLY), strict=True)):
        opened = os.open(path, flags)
        os.dup2(opened, fd)
        os.close(opened)
    _streams(env)
    sys.argv = [tool, *args]
    if Path(tool).name == "alembic":
        from alembic.config import main as alembic

        alembic(argv=args, prog="alembic")
        raise SystemExit(0)
    from agno_alembic.cli import main as agno_alembic

    agno_alembic(args)


def run(tool: str | os.PathLike[str], args: Sequence[str], *, cwd: str | os.PathLike[str], env: Mapping[str, str],
        stdin: str | None = None, timeout: float) -> subprocess.CompletedProcess[str]:
    """``tool`` (the path of the ``alembic`` or ``agno-alembic`` script) with ``args``: what
    :func:`subprocess.run` with ``capture_output=True, text=True`` returns for it."""
    tool = str(tool)
    if SPAWN or Path(tool).name not in TOOLS:
        return subprocess.run([tool, *args], cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout,
                              input=stdin, check=False)
    with tempfile.TemporaryDirectory(prefix="agno-alembic-cli-") as d:
        files = (os.path.join(d, "stdin"), os.path.join(d, "stdout"), os.path.join(d, "stderr"))
        for path, text in zip(files, (stdin or "", "", ""), strict=True):
            Path(path).write_text(text, encoding="utf-8")
        path = [os.path.dirname(tool), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep)),
                *_interpreter_path()]
        process = _server().Process(target=_command, args=(tool, list(args), dict(env), str(cwd), files, path))
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired([tool, *args], timeout)
        out, err = (Path(p).read_text(encoding="utf-8", errors="replace") for p in files[1:])
        return subprocess.CompletedProcess([tool, *args], process.exitcode, out, err)
