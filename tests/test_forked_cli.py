"""``tests/forked_cli.py`` runs a command as the installed console script does: same exit code, stdout and stderr,
in the command's own working directory, environment and ``sys.path``."""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from tests import forked_cli

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


def _masked(text: str) -> str:
    return re.sub(r"\d+(\.\d+)?", "N", text)


@pytest.mark.parametrize("tool,args,rc", [
    ("agno-alembic", ["--help"], 0),
    ("agno-alembic", ["up", "--db-url", "sqlite:///here.db", "--table-type", "no_such_type"], 2),
    ("agno-alembic", ["up", "--db-url", "sqlite:///here.db", "--table-type", "sessions", "--create-missing"], 0),
    ("alembic", ["-c", str(REPO / "alembic.ini"), "heads"], 0),
    ("alembic", ["-c", str(REPO / "alembic.ini"), "upgrade", "head"], 255),
])
def test_a_forked_command_exits_and_prints_as_the_console_script(tool, args, rc, tmp_path):
    (tmp_path / "spawned").mkdir()
    (tmp_path / "forked").mkdir()
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "100"}
    spawned = forked_cli.subprocess.run([str(BIN / tool), *args], cwd=tmp_path / "spawned", env=environment,
                                        capture_output=True, text=True, timeout=300, check=False)
    forked = forked_cli.run(BIN / tool, args, cwd=tmp_path / "forked", env=environment, timeout=300)
    assert (forked.returncode, spawned.returncode) == (rc, rc), (forked.stderr, spawned.stderr)
    assert _masked(forked.stdout) == _masked(spawned.stdout)
    assert _masked(forked.stderr) == _masked(spawned.stderr)
    if "sessions" in args:  # the relative URL resolved in the command's own directory
        for where in ("spawned", "forked"):
            with sqlite3.connect(tmp_path / where / "here.db") as db:
                assert db.execute("SELECT count(*) FROM agno_sessions").fetchone() == (0,)


def test_a_forked_command_has_its_own_environment_stdin_and_path(tmp_path):
    """A module on the environment's ``PYTHONPATH`` is importable in the command, the test run's own path is not, and
    a variable set for the command is seen by it and by no later command."""
    (tmp_path / "probe_env.py").write_text(
        "import os, sys\n"
        f"print(os.environ.get('PROBE'), sys.stdin.read().strip(), {str(REPO)!r} in sys.path)\n")
    ini = tmp_path / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {tmp_path / 'scripts'}\n")
    (tmp_path / "scripts" / "versions").mkdir(parents=True)
    (tmp_path / "scripts" / "env.py").write_text("import probe_env\n")
    (tmp_path / "scripts" / "script.py.mako").write_text("")
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    first = forked_cli.run(BIN / "alembic", ["current"], cwd=tmp_path, stdin="from stdin\n", timeout=300,
                           env={**base, "PROBE": "set", "PYTHONPATH": str(tmp_path)})
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == "set from stdin False"
    second = forked_cli.run(BIN / "alembic", ["current"], cwd=tmp_path, timeout=300, env=base)
    assert second.returncode == 1 and "No module named 'probe_env'" in second.stderr
    assert os.environ.get("PROBE") is None
