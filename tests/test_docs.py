"""Every command of the README and the docs runs as written, as a new user would run it; the site builds strictly.

One session fixture installs the wheel of the project (built once per test run from a clean copy of it,
``tests/test_wheel.built_wheel``), with its ``postgres``, ``mysql`` and ``async`` extras, into a fresh venv: one
venv per pytest-xdist worker, so the pages run on every worker, and a page that installs into its venv (index.md,
offline.md) never does so while another page runs from it.  Then each page's fenced blocks run top to bottom, in
a fresh directory per page, with that venv first on ``PATH`` (the rules, also in docs/verification.md):

* ``bash`` / ``sh`` / ``shell`` blocks run with ``bash -e``; ``python`` blocks with the venv's Python; ``text``
  blocks are output, never run; ``ini`` / ``toml`` blocks are shown configuration unless a marker says otherwise.
* ``pip install agno-alembic[...]`` installs the built wheel instead.
* The placeholder URLs ``postgresql[+driver]://user@host/db`` and ``mysql[+driver]://root@host/db`` point at a
  fresh database on the test servers (the conftest's), dropped afterwards.
* An HTML comment on the line before a block (blank lines between are allowed) says how to treat it:
  ``<!-- docs-test: skip: <reason> -->``, ``<!-- docs-test: file <path> -->`` (write the block there first),
  ``<!-- docs-test: cwd checkout -->`` (run in a clean copy of the repository), ``<!-- docs-test: same-as
  <path> -->`` (equals that repository file), ``<!-- docs-test: in <path> -->`` (its lines appear in order there).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
import venv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import forked_cli
from tests.conftest import MYSQL_DATABASE_CHARSET, REQUIRED, server_url
from tests.test_wheel import _bin, _clean_env, _ignore, built_wheel

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUN_LANGS = {"bash", "sh", "shell", "python"}
SHOWN_LANGS = {"text", "ini", "toml", "console-output", ""}
TIMEOUT = 900
_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*docs-test:\s*(?P<kind>[a-z-]+)(?::?\s+(?P<arg>.*?))?\s*-->\s*$")
_PG = re.compile(r"\b(postgresql(?:\+\w+)?)://user@host/db\b")
_MY = re.compile(r"\b(mysql(?:\+\w+)?)://root@host/db\b")
_PIP = re.compile(r"pip install (['\"]?)agno-alembic(\[[^\]]*\])?\1")


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    text: str
    marker: tuple[str, str] | None = None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page, each with the docs-test marker before it, if any."""
    out: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        marker = None
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0 and (mm := _MARKER.match(lines[k].strip())):
            marker = (mm["kind"], (mm["arg"] or "").strip())
        out.append(Block(page, start + 1, m[1].lower(), "\n".join(lines[start + 1 : j]) + "\n", marker))
        i = j + 1
    return out


# -- the venv with the wheel, and the servers ------------------------------------------------------------------


@dataclass
class Installed:
    wheel: Path
    venv: Path
    python: Path
    env: dict[str, str]


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{what} exited {proc.returncode}\n--- stdout ---\n{proc.stdout[-6000:]}\n"
                    f"--- stderr ---\n{proc.stderr[-6000:]}", pytrace=False)
    return proc


@pytest.fixture(scope="session")
def docs_venv(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """This worker's venv with the wheel and its extras (not grouped on one worker: ``SHARED_FIXTURES`` in
    ``tests/conftest.py`` does not name it; the wheel itself is built once per run)."""
    wheel = built_wheel(tmp_path_factory)
    base = tmp_path_factory.mktemp("docs-venv")
    env = _clean_env()
    venv_dir = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    python = _bin(venv_dir, "python")
    _run([str(python), "-m", "pip", "install", f"{wheel}[postgres,mysql,async]"], cwd=base, env=env,
         what="installing the wheel")
    env = dict(env)
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_MKDOCS_2_WARNING"] = "1"
    return Installed(wheel, venv_dir, python, env)


@dataclass
class Servers:
    """Fresh databases for one page, created on first use."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    urls: dict[str, str] = field(default_factory=dict)

    def url(self, kind: str) -> str:
        if kind not in self.urls:
            server = server_url(kind)
            if server is None:
                message = f"no {kind} server for the docs' {kind} commands"
                if kind in REQUIRED:
                    pytest.fail(message)
                pytest.skip(message)
            name = f"agno_docs_{self.tag}"
            admin = sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"' if kind == "postgres"
                                     else f"CREATE DATABASE `{name}` {MYSQL_DATABASE_CHARSET}")
            admin.dispose()
            self.urls[kind] = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
        return self.urls[kind]

    def drop(self) -> None:
        for kind in self.urls:
            server = server_url(kind)
            admin = sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
            name = f"agno_docs_{self.tag}"
            with admin.connect() as conn:
                if kind == "postgres":
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                else:
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
            admin.dispose()


@pytest.fixture
def servers() -> Iterator[Servers]:
    s = Servers()
    try:
        yield s
    finally:
        s.drop()


def substitute(text: str, installed: Installed, servers: Servers) -> str:
    """The documented substitutions: the built wheel for ``pip install agno-alembic``, live servers for URLs."""
    text = _PIP.sub(lambda m: f'pip install "{installed.wheel}{m[2] or ""}"', text)

    def live(kind: str, m: re.Match) -> str:
        url = sa.make_url(servers.url(kind))
        return url.set(drivername=m[1]).render_as_string(hide_password=False)

    text = _PG.sub(lambda m: live("postgres", m), text)
    return _MY.sub(lambda m: live("mysql", m), text)


# -- running a page ----------------------------------------------------------------------------------------------


def _checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    if not root.exists():
        shutil.copytree(REPO, root, ignore=_ignore, symlinks=True)
    return root


def run_page(page: Path, tmp_path: Path, installed: Installed, servers: Servers) -> list[str]:
    """Run every block of ``page``; returns a log line per block."""
    work = tmp_path / "work"
    work.mkdir()
    log = []
    for block in blocks(page):
        kind, arg = block.marker or ("", "")
        if kind == "skip":
            assert arg, f"{block.where}: a skip marker needs a reason"
            log.append(f"{block.where}: skipped ({arg})")
            continue
        if kind == "file":
            target = work / arg
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text)
            log.append(f"{block.where}: wrote {arg}")
            continue
        if kind == "same-as":
            assert block.text.rstrip("\n") == (REPO / arg).read_text().rstrip("\n"), (
                f"{block.where}: the block differs from {arg}")
            log.append(f"{block.where}: same as {arg}")
            continue
        if kind == "in":
            haystack = [ln.rstrip() for ln in (REPO / arg).read_text().splitlines()]
            pos = 0
            for wanted in (ln.rstrip() for ln in block.text.splitlines() if ln.strip()):
                assert wanted in haystack[pos:], f"{block.where}: {wanted!r} is not in {arg} (in this order)"
                pos = haystack.index(wanted, pos) + 1
            log.append(f"{block.where}: in {arg}")
            continue
        assert kind in ("", "cwd"), f"{block.where}: unknown docs-test marker {kind!r}"
        if block.lang not in RUN_LANGS:
            assert block.lang in SHOWN_LANGS, f"{block.where}: a ```{block.lang} block: run it, or mark it"
            continue
        cwd = _checkout(tmp_path) if (kind, arg) == ("cwd", "checkout") else work
        assert kind == "" or (kind, arg) == ("cwd", "checkout"), f"{block.where}: unknown cwd {arg!r}"
        text = substitute(block.text, installed, servers)
        if block.lang == "python":
            script = tmp_path / f"block_{block.line}.py"
            script.write_text(text)
            cmd = [str(installed.python), str(script)]
        else:
            cmd = ["bash", "-e", "-c", text]
        proc = subprocess.run(cmd, cwd=cwd, env=installed.env, capture_output=True, text=True, timeout=TIMEOUT,
                              check=False)
        if proc.returncode != 0:
            pytest.fail(f"{block.where}: the ```{block.lang} block failed (exit {proc.returncode}) in {cwd}\n"
                        f"--- block ---\n{text}--- stdout ---\n{proc.stdout[-5000:]}\n"
                        f"--- stderr ---\n{proc.stderr[-5000:]}", pytrace=False)
        log.append(f"{block.where}: ran ({block.lang}, {len(text.splitlines())} line(s))")
    return log


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_every_command_of_the_page_runs_as_written(page, tmp_path, docs_venv, servers):
    log = run_page(page, tmp_path, docs_venv, servers)
    print("\n".join(log))
    # Nothing silently left out: every block is accounted for (run, written, compared, skipped with a reason, or
    # shown output/configuration).
    runnable = [b for b in blocks(page) if b.lang in RUN_LANGS or b.marker]
    assert len(log) == len(runnable), log


def test_the_docs_have_runnable_commands_and_valid_markers():
    kinds = {"skip", "file", "cwd", "same-as", "in"}
    ran = 0
    for page in PAGES:
        for block in blocks(page):
            if block.marker:
                assert block.marker[0] in kinds, f"{block.where}: unknown marker {block.marker}"
                if block.marker[0] in ("file", "same-as", "in", "cwd"):
                    assert block.marker[1], f"{block.where}: {block.marker[0]} needs an argument"
                if block.marker[0] in ("same-as", "in"):
                    assert (REPO / block.marker[1]).is_file(), f"{block.where}: no file {block.marker[1]}"
            elif block.lang in RUN_LANGS:
                ran += 1
            else:
                assert block.lang in SHOWN_LANGS, f"{block.where}: ```{block.lang}"
    assert ran >= 20, ran
    skipped = [b for p in PAGES for b in blocks(p) if b.marker and b.marker[0] == "skip"]
    assert all(len(b.marker[1]) >= 10 for b in skipped), [b.where for b in skipped]  # a reason, not a word
    assert len(skipped) < ran, (len(skipped), ran)  # skips stay the exception


def test_the_readme_keeps_its_first_two_commands_and_ci_runs_the_second():
    readme = [b for b in blocks(REPO / "README.md") if b.lang == "bash"]
    assert readme[0].text.strip() == (
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/alembic upgrade heads")
    assert readme[1].text.strip() == (
        'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && .venv/bin/python -m pytest -n 4')
    ci = (REPO / ".ci" / "run").read_text()
    assert readme[1].text.strip() in ci
    assert "mkdocs build --strict" in ci
    assert "AGNO_ALEMBIC_REQUIRE_BACKENDS=postgres,mysql" in ci


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    mkdocs = Path(sys.executable).parent / "mkdocs"
    assert mkdocs.exists(), "mkdocs is not installed: pip install -e '.[docs]' (the test extra includes it)"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([str(mkdocs), "build", "--strict", "-d", str(tmp_path / "site")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    nav = (REPO / "mkdocs.yml").read_text()
    for page in (REPO / "docs").glob("*.md"):
        assert f": {page.name}" in nav, f"{page.name} is not in mkdocs.yml's nav"
        assert (tmp_path / "site" / ("" if page.stem == "index" else page.stem) / "index.html").exists(), page


def test_the_cli_reference_covers_every_verb_and_option():
    agno = Path(sys.executable).parent / "agno-alembic"
    reference = (REPO / "docs" / "cli.md").read_text()
    verbs = ["up", "down", "status", "adopt", "break-lock"]
    for verb in verbs:
        assert f"`{verb}`" in reference, verb
        done = forked_cli.run(agno, [verb, "--help"], cwd=REPO, env=os.environ, timeout=120)
        assert done.returncode == 0, done.stderr
        out = done.stdout
        for option in sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", out)) - {"--help"}):
            assert f"`{option}" in reference, f"agno-alembic {verb} {option} is not in docs/cli.md"
    for code in range(6):
        assert re.search(rf"^\| {code} \|", reference, re.MULTILINE), f"exit code {code} is not in docs/cli.md"
