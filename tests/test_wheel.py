"""The built wheel, installed in a fresh venv, migrates a database with nothing but what the wheel holds.

One session fixture makes a fresh venv, installs the wheel (its dependencies come from the package index) and
hands out the venv.  The wheel is built once per test run from a clean copy of the project (:func:`built_wheel`:
under a file lock in a folder the pytest-xdist workers of the run share; ``tests/test_docs.py`` installs the same
wheel).  Each migration test then works in an
empty directory holding only a small ``alembic.ini`` whose locations name package resources, and runs the
venv's own ``alembic`` console script there: no checkout, no ``PYTHONPATH``, no ``prepend_sys_path``.

The wheel is built from a copy because pip builds in the source tree: it would write ``build/`` and
``*.egg-info`` into the checkout, and a stale ``build/lib`` can carry files into the wheel that the sources no
longer ship (or that the package-data globs would not pick up), which would hide the packaging bugs this
module is here to catch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from agno_alembic import registry
from tests.golden.generate import _file_lock

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
VERSIONS = REPO / "versions"
SNAPSHOT = REPO / "tests" / "golden" / "snapshots" / "3.0.0" / "sqlite.json"

ALEMBIC_INI = """\
[alembic]
script_location = agno_alembic:
version_locations = agno_alembic.revisions:
recursive_version_locations = true
path_separator = space
sqlalchemy.url = sqlite:///agno.db
"""

#: Tables Agno 3.x creates on SQLite but its 3.0.0 snapshot lacks, plus our version table.
EXTRA_TABLES = {"agno_culture", "agno_alembic_version"}

#: Left out of the copy the wheel is built from (top level of the project only).
_TOP_LEVEL_JUNK = {".git", ".venv", "venv", "build", "dist", "site", ".pytest_cache", ".ruff_cache", ".mypy_cache"}

#: ``rev (label) (head)``; a head another branch depends on (runs, traces, versions) is an "effective head".
_HEAD_LINE = re.compile(r"^(?P<rev>\S+) \((?P<labels>[^)]*)\) \((?:effective )?head\)$")

BUILD_TIMEOUT = 600
INSTALL_TIMEOUT = 900
ALEMBIC_TIMEOUT = 300


@dataclass
class Installed:
    wheel: Path
    venv: Path
    python: Path
    alembic: Path
    env: dict[str, str]


def _clean_env() -> dict[str, str]:
    """The environment for every subprocess: nothing that could put the checkout on ``sys.path``."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
                                                            "VIRTUAL_ENV", "PYTHONSAFEPATH", "__PYVENV_LAUNCHER__")}
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str | os.PathLike[str]], *, cwd: Path, env: dict[str, str], timeout: float,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {proc.returncode} in {cwd}\n"
                    f"--- stdout ---\n{proc.stdout[-8000:]}\n--- stderr ---\n{proc.stderr[-8000:]}", pytrace=False)
    return proc


def _ignore(directory: str, names: list[str]) -> set[str]:
    ignored = {n for n in names if n == "__pycache__" or n.endswith((".egg-info", ".pyc"))}
    if Path(directory).resolve() == REPO:
        ignored |= {n for n in names if n in _TOP_LEVEL_JUNK or n.endswith(".db")}
    return ignored


def _bin(venv_dir: Path, name: str) -> Path:
    return venv_dir / ("Scripts" if os.name == "nt" else "bin") / (name + (".exe" if os.name == "nt" else ""))


def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run: under pytest-xdist the one its workers share (their base temporary folders' parent,
    which the controller made for this run), else the session's own base temporary folder."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built once per test run from a clean copy of the project.

    The first worker to ask builds it while holding the run's wheel lock; the others wait for the lock, then find
    it.  A build that failed leaves no wheel behind: the next worker to ask builds it again (and fails the same)."""
    root = run_dir(tmp_path_factory) / "agno-alembic-wheel"
    wheelhouse = root / "wheelhouse"
    with _file_lock(root.with_name(root.name + ".lock")):
        if not wheelhouse.is_dir():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            env = _clean_env()
            source = root / "source"
            shutil.copytree(REPO, source, ignore=_ignore, symlinks=True)
            building = root / "wheelhouse.partial"
            _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", building, source], cwd=root, env=env,
                 timeout=BUILD_TIMEOUT)
            building.rename(wheelhouse)  # only a finished build is ever found
    wheels = sorted(wheelhouse.glob("agno_alembic-*.whl"))
    assert len(wheels) == 1, f"expected one agno_alembic wheel in {wheelhouse}, found {wheels}"
    return wheels[0]


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    wheel = built_wheel(tmp_path_factory)
    base = tmp_path_factory.mktemp("wheel")
    env = _clean_env()
    venv_dir = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    python = _bin(venv_dir, "python")
    _run([python, "-m", "pip", "install", wheel], cwd=base, env=env, timeout=INSTALL_TIMEOUT)

    alembic = _bin(venv_dir, "alembic")
    assert alembic.exists(), f"the venv has no alembic console script at {alembic}"
    return Installed(wheel=wheel, venv=venv_dir, python=python, alembic=alembic, env=env)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty directory holding only the small ``alembic.ini``."""
    d = tmp_path / "project"
    d.mkdir()
    (d / "alembic.ini").write_text(ALEMBIC_INI)
    assert sorted(p.name for p in d.iterdir()) == ["alembic.ini"]
    return d


def _alembic(installed: Installed, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run([installed.alembic, *args], cwd=workdir, env=installed.env, timeout=ALEMBIC_TIMEOUT)


def _tables(db: Path) -> set[str]:
    assert db.exists(), f"{db} was not created"
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return {r[0] for r in rows}
    finally:
        con.close()


def _expected_tables() -> set[str]:
    return set(json.loads(SNAPSHOT.read_text())["tables"]) | EXTRA_TABLES


def _revision_files() -> list[Path]:
    return sorted(p.relative_to(VERSIONS) for p in VERSIONS.glob("*/*.py"))


def _inside(path: str | Path, root: Path) -> bool:
    return Path(path).resolve().is_relative_to(root.resolve())


def test_wheel_holds_the_environment_and_every_revision(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    revisions = _revision_files()
    assert len(revisions) > len(registry.TABLE_TYPES)  # the sources are where we think they are
    expected = {"agno_alembic/env.py", "agno_alembic/script.py.mako", "agno_alembic/py.typed",
                "agno_alembic/revisions/__init__.py"}
    expected |= {f"agno_alembic/revisions/{p.as_posix()}" for p in revisions}
    expected |= {p.relative_to(REPO).as_posix() for p in (REPO / "agno_alembic").rglob("*.py")
                 if "__pycache__" not in p.parts}
    missing = sorted(expected - names)
    assert not missing, f"missing from {installed.wheel.name}: {missing}"
    stray = sorted(n for n in names if n.startswith(("versions/", "tests/")) or "__pycache__" in n)
    assert not stray, f"unexpected in {installed.wheel.name}: {stray}"


def test_venv_imports_the_installed_package_not_the_checkout(installed, workdir):
    code = ("import json, os, sys, agno_alembic, alembic; print(json.dumps({'agno_alembic': agno_alembic.__file__, "
            "'alembic': alembic.__file__, 'path': [os.path.abspath(p) for p in sys.path]}))")
    out = json.loads(_run([installed.python, "-c", code], cwd=workdir, env=installed.env,
                          timeout=ALEMBIC_TIMEOUT).stdout)
    assert _inside(out["agno_alembic"], installed.venv), out["agno_alembic"]
    assert _inside(out["alembic"], installed.venv), out["alembic"]
    checkout = [p for p in out["path"] if _inside(p, REPO) and not _inside(p, installed.venv)
                and not _inside(p, workdir)]
    assert not checkout, f"the test venv sees the checkout: {checkout}"


def test_heads_lists_one_head_per_branch_from_the_installed_files(installed, workdir):
    lines = [ln for ln in _alembic(installed, workdir, "heads").stdout.splitlines() if ln.strip()]
    labels = []
    for line in lines:
        m = _HEAD_LINE.match(line)
        assert m, f"unexpected `alembic heads` line: {line!r}"
        labels.extend(lb.strip() for lb in m["labels"].split(","))
    branches = sorted(tt.label for tt in (*registry.TABLE_TYPES, *registry.VECTOR_TYPES))
    assert len(lines) == len(branches)
    assert sorted(labels) == branches
    assert branches == sorted(p.name for p in VERSIONS.iterdir() if p.is_dir() and p.name != "__pycache__")

    verbose = _alembic(installed, workdir, "heads", "--verbose").stdout
    paths = re.findall(r"^Path: (.+)$", verbose, flags=re.MULTILINE)
    assert len(paths) == len(branches)
    outside = [p for p in paths if not _inside(p, installed.venv)]
    assert not outside, f"revisions loaded from outside the venv: {outside}"


def test_upgrade_heads_creates_every_table_agno_creates_on_sqlite(installed, workdir):
    _alembic(installed, workdir, "upgrade", "heads")
    assert _tables(workdir / "agno.db") == _expected_tables()


def test_downgrade_one_branch_to_base_drops_only_its_table(installed, workdir):
    _alembic(installed, workdir, "upgrade", "heads")
    before = _tables(workdir / "agno.db")
    assert "agno_memories" in before
    _alembic(installed, workdir, "downgrade", "agno_memories@base")
    after = _tables(workdir / "agno.db")
    assert before - after == {"agno_memories"}
    assert after - before == set()


def test_every_revision_folder_is_a_declared_package():
    """setuptools warns "Package would be ignored" for a folder of modules it was not told about (and a future
    setuptools drops it): pyproject.toml names every revision folder as a package of agno_alembic.revisions."""
    import tomllib

    declared = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {f"agno_alembic.revisions.{p.parent.name}" for p in VERSIONS.glob("*/*.py")}
    assert folders <= declared, f"add to [tool.setuptools] packages: {sorted(folders - declared)}"
    assert {d for d in declared if d.startswith("agno_alembic.revisions.")} <= folders, "a declared folder is gone"
