"""Regenerate the golden schema snapshots in tests/golden/snapshots from real Agno releases.

Usage (with the project's interpreter, which reflects the databases)::

    python tests/golden/generate.py                      # every schema version and backend
    python tests/golden/generate.py --versions 3.0.0 --backends sqlite postgres mysql
    python tests/golden/generate.py --no-generate --compare-with /path/to/golden/releases

For each schema version, the last PyPI release of Agno that stamps it (see ``RELEASES``) is
installed into a throwaway venv under ``${TMPDIR:-/tmp}/agno-alembic-golden/venvs/agno-<R>``
(reused when present). This script then runs itself in that venv ("worker" mode), and
Agno's own code creates every table its ``_get_table(<type>, create_table_if_not_found=True)``
accepts on:

* sqlite:   a temporary file (``SqliteDb(db_file=...)``);
* postgres: database ``agno_alembic_golden_<R>``, Agno's default ``db_schema`` "ai";
* mysql:    MariaDB database ``agno_alembic_golden_<R>``, passed as ``MySQLDb(db_schema=...)``.

The project's SQLAlchemy then reflects it with ``reflect.py`` into
``snapshots/<version>/<backend>.json``. The databases are dropped afterwards; only databases
named ``agno_alembic_golden_*`` are ever touched. Server URLs: ``GOLDEN_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432``), ``GOLDEN_MYSQL_URL`` (default
``mysql+pymysql://root@127.0.0.1:3306``).

SingleStore has no server here. ``SingleStoreDb(db_schema="ai")`` is driven against a
SQLAlchemy mock engine (dialect from sqlalchemy-singlestoredb) with a recording fake
session, the same approach as the reference ``make_golden.py``. The CREATE statements Agno
issues go to ``snapshots/<version>/singlestore.sql``: timestamps are masked, duplicates
dropped, runs of CREATE INDEX sorted, and DML (the version-stamp upserts) left out.

``--compare-with DIR`` diffs the snapshots against reference files
``DIR/agno-<R>/<backend>.json`` and ``DIR/agno-<R>/singlestore_schema_ai.singlestoredb.issued.sql``,
as produced by make_golden.py.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, text
from sqlalchemy.exc import CompileError

if TYPE_CHECKING:
    from typing import Self

try:
    from . import reflect as golden  # imported as tests.golden.generate
except ImportError:
    import reflect as golden  # run as a script: this directory is sys.path[0]

HERE = Path(__file__).resolve().parent
SNAPSHOTS = HERE / "snapshots"
SCRATCH = Path(tempfile.gettempdir()) / "agno-alembic-golden"

# schema version -> the last Agno release on PyPI that stamps it on a fresh create
RELEASES = {
    "2.0.0": "2.2.13",
    "2.3.0": "2.4.8",
    "2.5.0": "2.5.5",
    "2.5.6": "2.9.0",
    "3.0.0": "3.1.10",
}
DB_BACKENDS = ("sqlite", "postgres", "mysql")
BACKENDS = (*DB_BACKENDS, "singlestore")
DB_PREFIX = "agno_alembic_golden_"
PG_URL = os.environ.get("GOLDEN_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
MYSQL_URL = os.environ.get("GOLDEN_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
SINGLESTORE_URL = "singlestoredb://"
SINGLESTORE_SCHEMA = "ai"

# Pins as in make_golden.py: Agno-side SQLAlchemy fixed so the DDL Agno sends is reproducible.
VENV_REQUIREMENTS = (
    "sqlalchemy[asyncio]==2.0.58",
    "psycopg[binary]",
    "pymysql",
    "aiosqlite",
    "packaging",
    "sqlalchemy-singlestoredb==1.2.1",
)
# agno 2.3.0 does `from pymongo.cursor import Union`, which pymongo >= 4.16 no longer has
EXTRA_REQUIREMENTS = {"2.3.0": ("pymongo==4.15.4",)}

_FK_NOTE = "foreign keys referring to the reflected schema have referred_schema '<schema>'"
SCHEMA_NOTES = {
    "sqlite": f"SqliteDb(db_file=<temporary file>), main schema; {_FK_NOTE}",
    "postgres": f"PostgresDb with Agno's default db_schema 'ai', schema 'ai' reflected; {_FK_NOTE}",
    "mysql": (
        "MariaDB 10.11 standing in for MySQL; MySQLDb(db_schema=<throwaway database>) "
        f"instead of Agno's default 'ai'; {_FK_NOTE}"
    ),
}

_TIMESTAMP = re.compile(r"'\d{4}-\d\d-\d\dT[0-9:.]+(?:[+-]\d\d:\d\d|Z)?'")
_SESSION_KEEP = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE", "RENAME")
_DML = ("INSERT", "UPDATE", "DELETE")
_CREATE_INDEX = re.compile(r"\s*CREATE\s+(UNIQUE\s+)?INDEX", re.IGNORECASE)


class GenerationError(RuntimeError):
    """A release could not create or report its tables."""


# ============================================================ worker (runs in a release venv)


def table_types(db: Any) -> list[str]:
    """Table types the release's ``_get_table`` accepts, in source order (read, not guessed)."""
    source = inspect.getsource(type(db)._get_table)
    types = re.findall(r'table_type\s*==\s*"(\w+)"', source)
    module = sys.modules[type(db)._get_table.__module__]
    for name in re.findall(r"table_type\s+in\s+([A-Za-z_]\w*)", source):
        mapping = getattr(module, name, None)
        if isinstance(mapping, dict):
            types += list(mapping)
    return list(dict.fromkeys(types))


def create_all_tables(db: Any) -> dict[str, str | None]:
    """Table type -> table name; any error propagates (a snapshot must be complete)."""
    results: dict[str, str | None] = {}
    for table_type in table_types(db):
        table = db._get_table(table_type=table_type, create_table_if_not_found=True)
        results[table_type] = None if table is None else table.name
    return results


def make_db(backend: str, target: str, db_schema: str | None) -> Any:
    """The release's own sync Db class, default table names."""
    if backend == "sqlite":
        from agno.db.sqlite import SqliteDb

        return SqliteDb(db_file=target)
    if backend == "postgres":
        from agno.db.postgres import PostgresDb

        return PostgresDb(db_url=target)
    if backend == "mysql":
        from agno.db.mysql import MySQLDb

        return MySQLDb(db_url=target, db_schema=db_schema)
    raise ValueError(backend)


class _NoRows:
    """Result of every statement the fake session runs: the fake server has no rows."""

    rowcount = 0

    def scalar(self) -> None:
        return None

    def fetchone(self) -> None:
        return None

    def first(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []

    def all(self) -> list[Any]:
        return []

    def scalars(self) -> Self:
        return self

    def __iter__(self) -> Iterator[Any]:
        return iter([])


class _RecordingSession:
    """Stands in for Agno's scoped_session: records statements, never touches a server."""

    def __init__(self, sink: list[list[str]], dialect: Any) -> None:
        self.sink, self.dialect = sink, dialect

    def __call__(self) -> Self:
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def begin(self) -> Self:
        return self

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...

    def remove(self) -> None: ...

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> _NoRows:
        try:
            compiled = statement.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True})
            self.sink.append(["session", str(compiled)])
        except (CompileError, NotImplementedError):
            self.sink.append(["session", str(statement)])
        return _NoRows()


def singlestore_statements() -> dict[str, Any]:
    """Run SingleStoreDb(db_schema='ai') against a mock engine; return what Agno sent."""
    from agno.db.singlestore import SingleStoreDb
    from sqlalchemy import create_mock_engine

    sink: list[list[str]] = []

    def executor(sql: Any, *multiparams: Any, **params: Any) -> None:
        # compile now, as a real engine would, so compile errors surface inside Agno's code
        sink.append(["ddl", str(sql.compile(dialect=engine.dialect))])

    engine = create_mock_engine(SINGLESTORE_URL, executor)
    db = SingleStoreDb(db_engine=engine, id="agno-alembic-golden", db_schema=SINGLESTORE_SCHEMA)
    db.Session = _RecordingSession(sink, engine.dialect)
    db.table_exists = lambda *args, **kwargs: False
    return {"results": create_all_tables(db), "statements": sink}


def worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="generate.py worker")
    parser.add_argument("backend", choices=BACKENDS)
    parser.add_argument("--target", help="sqlite file or database URL")
    parser.add_argument("--db-schema")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.backend == "singlestore":
        report = singlestore_statements()
    else:
        db = make_db(args.backend, args.target, args.db_schema)
        report = {"results": create_all_tables(db)}
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")


# ============================================================ orchestrator (project interpreter)


@dataclass(frozen=True)
class Target:
    """Where one release creates its tables, and what to reflect afterwards."""

    backend: str
    agno_target: str
    reflect_url: str
    schema: str | None
    db_schema: str | None = None


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-4000:]
        raise GenerationError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc


def ensure_venv(release: str) -> Path:
    """Create (or reuse) the venv for ``agno==release``; return its python.

    Safe when several processes (pytest-xdist workers, other test runs) ask for the same release at once: the
    first builds it while holding ``venvs/agno-<R>.lock``; the others wait for the lock, then find it ready.
    """
    venv = SCRATCH / "venvs" / f"agno-{release}"
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    with venv_lock(release):
        if not python.exists():
            log(f"creating venv {venv}")
            run([sys.executable, "-m", "venv", str(venv)])
        if installed_agno(python) != release:
            log(f"installing agno=={release} into {venv}")
            requirements = [f"agno=={release}", *VENV_REQUIREMENTS, *EXTRA_REQUIREMENTS.get(release, ())]
            run([str(python), "-m", "pip", "install", "-q", *requirements])
    return python


def venv_lock(release: str) -> contextlib.AbstractContextManager[None]:
    """The lock of the venv of ``agno==release``: hold it to install anything into that venv (not reentrant)."""
    return _file_lock(SCRATCH / "venvs" / f"agno-{release}.lock")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if missing), held across processes until the block ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as f:
        if os.name == "nt":
            import msvcrt

            f.seek(0)
            while True:
                try:
                    msvcrt.locking(f.fileno(), msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
                    break
                except OSError:  # LK_LOCK gives up after ten seconds: keep waiting
                    continue
            try:
                yield
            finally:
                f.seek(0)
                msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def installed_agno(python: Path) -> str | None:
    if not python.exists():
        return None
    check = "import importlib.metadata as m, psycopg, pymysql, sqlalchemy_singlestoredb; print(m.version('agno'))"
    proc = subprocess.run([str(python), "-c", check], check=False, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def run_worker(python: Path, backend: str, out: Path, *options: str) -> dict[str, Any]:
    script = str(Path(__file__).resolve())  # -B: leave no __pycache__ next to it
    run([str(python), "-B", script, "worker", backend, "--out", str(out), *options])
    report = json.loads(out.read_text(encoding="utf-8"))
    missing = [t for t, name in report["results"].items() if name is None]
    if missing:
        raise GenerationError(f"{backend}: _get_table returned None for {missing}")
    return report


def database_name(release: str) -> str:
    name = DB_PREFIX + re.sub(r"\W", "_", release)
    if not re.fullmatch(r"agno_alembic_golden_[0-9a-z_]+", name):
        raise ValueError(f"refusing to touch database {name!r}")
    return name


@contextmanager
def server_database(backend: str, name: str) -> Iterator[None]:
    """Create database ``name`` (dropping a leftover first) and drop it afterwards."""
    if backend == "postgres":
        admin_url, quoted, force = f"{PG_URL}/postgres", f'"{name}"', " WITH (FORCE)"
    else:
        admin_url, quoted, force = f"{MYSQL_URL}/", f"`{name}`", ""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    drop = text(f"DROP DATABASE IF EXISTS {quoted}{force}")
    try:
        with engine.connect() as conn:
            conn.execute(drop)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
        yield
    finally:
        with engine.connect() as conn:
            conn.execute(drop)
        engine.dispose()


@contextmanager
def target_for(backend: str, release: str, tmp: Path) -> Iterator[Target]:
    if backend == "sqlite":
        path = tmp / f"agno-{release}.sqlite"
        yield Target(backend, str(path), f"sqlite:///{path}", None)
        return
    name = database_name(release)
    with server_database(backend, name):
        if backend == "postgres":
            url = f"{PG_URL}/{name}"
            yield Target(backend, url, url, "ai")
        else:
            url = f"{MYSQL_URL}/{name}"
            yield Target(backend, url, url, name, db_schema=name)


def snapshot_database(python: Path, release: str, backend: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="agno-alembic-golden-") as tmp_name:
        tmp = Path(tmp_name)
        with target_for(backend, release, tmp) as target:
            options = ["--target", target.agno_target]
            if target.db_schema:
                options += ["--db-schema", target.db_schema]
            run_worker(python, backend, tmp / "create.json", *options)
            engine = create_engine(target.reflect_url)
            try:
                return golden.reflect(engine, target.schema)
            finally:
                engine.dispose()


def write_json_snapshot(version: str, release: str, backend: str, doc: dict[str, Any]) -> Path:
    header = {
        "agno_release": release,
        "schema_version": version,
        "backend": backend,
        "schema_note": SCHEMA_NOTES[backend],
    }
    path = SNAPSHOTS / version / f"{backend}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"header": header, **doc}, sort_keys=True, indent=1)
    path.write_text(body + "\n", encoding="utf-8")
    return path


def normalise_statements(sink: list[list[str]], *, ddl_only: bool = True) -> list[str]:
    """Drop existence probes (and DML if ``ddl_only``), mask timestamps, drop duplicates,
    and sort runs of CREATE INDEX (Agno emits them in set-iteration order)."""
    statements: list[str] = []
    for kind, raw in sink:
        statement = _TIMESTAMP.sub("'<timestamp>'", raw.strip()).rstrip(";").rstrip()
        upper = statement.upper()
        if kind == "session" and not upper.startswith(_SESSION_KEEP):
            continue
        if ddl_only and upper.startswith(_DML):
            continue
        if statement not in statements:
            statements.append(statement)
    return sort_index_runs(statements)


def sort_index_runs(statements: list[str]) -> list[str]:
    out: list[str] = []
    pending: list[str] = []
    for statement in statements:
        if _CREATE_INDEX.match(statement):
            pending.append(statement)
            continue
        out += [*sorted(pending), statement]
        pending = []
    return out + sorted(pending)


def write_singlestore_snapshot(version: str, release: str, statements: list[str]) -> Path:
    header = (
        f"-- agno {release} (schema version {version}): SingleStoreDb(db_schema='{SINGLESTORE_SCHEMA}'),"
        " default table names, dialect sqlalchemy-singlestoredb\n"
        "-- DDL Agno issues from _get_table(t, create_table_if_not_found=True) for every table type,\n"
        "-- against a SQLAlchemy mock engine and a recording fake session (no server). Existence\n"
        "-- probes and version-stamp DML left out; timestamps masked; duplicates dropped; runs of\n"
        "-- CREATE INDEX sorted. Generated by tests/golden/generate.py.\n\n"
    )
    path = SNAPSHOTS / version / "singlestore.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + ";\n\n".join(statements) + ";\n", encoding="utf-8")
    return path


def snapshot_singlestore(python: Path, version: str, release: str) -> Path:
    with tempfile.TemporaryDirectory(prefix="agno-alembic-golden-") as tmp:
        report = run_worker(python, "singlestore", Path(tmp) / "singlestore.json")
    return write_singlestore_snapshot(version, release, normalise_statements(report["statements"]))


def generate(version: str, backends: list[str]) -> list[str]:
    """Write the snapshots of one schema version; return failure messages."""
    release = RELEASES[version]
    started = time.monotonic()
    try:
        python = ensure_venv(release)
    except GenerationError as exc:
        return [f"{version}: {exc}"]
    log(f"{version}: agno {release} venv ready ({time.monotonic() - started:.0f}s)")
    failures = []
    for backend in backends:
        started = time.monotonic()
        try:
            if backend == "singlestore":
                path = snapshot_singlestore(python, version, release)
            else:
                doc = snapshot_database(python, release, backend)
                path = write_json_snapshot(version, release, backend, doc)
        except GenerationError as exc:
            failures.append(f"{version}/{backend}: {exc}")
            continue
        log(f"{version}/{backend}: wrote {path.relative_to(HERE)} ({time.monotonic() - started:.1f}s)")
    return failures


# ============================================================ comparison with make_golden.py output


def from_reference(reference: dict[str, Any]) -> dict[str, Any]:
    """Turn a make_golden.py reflection file into the reflect() shape, FKs normalised."""
    same_schema = {None, reference.get("schema"), "<database>"}
    tables = json.loads(json.dumps(reference["tables"]))
    for table in tables.values():
        for fk in table["foreign_keys"]:
            if fk["referred_schema"] in same_schema:
                fk["referred_schema"] = golden.SCHEMA_PLACEHOLDER
        table["foreign_keys"].sort(key=lambda f: (str(f["name"]), f["columns"]))
    versions = reference.get("agno_schema_versions") or {}
    rows = versions.get("rows") if versions.get("exists") else None
    return {"tables": tables, "agno_schema_versions": rows}


def read_sql_statements(path: Path) -> list[str]:
    body = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("-- "))
    parts = (part.strip().rstrip(";").rstrip() for part in body.split(";\n\n"))
    return [part for part in parts if part]


def compare_one(version: str, backend: str, reference_dir: Path) -> list[str]:
    release_dir = reference_dir / f"agno-{RELEASES[version]}"
    if backend == "singlestore":
        reference = read_sql_statements(release_dir / "singlestore_schema_ai.singlestoredb.issued.sql")
        expected = normalise_statements([["ddl", s] for s in reference])
        actual = read_sql_statements(SNAPSHOTS / version / "singlestore.sql")
        lines = difflib.unified_diff(expected, actual, "reference", "snapshot", lineterm="", n=0)
        return [line for line in lines if not line.startswith(("---", "+++", "@@"))]
    reference = json.loads((release_dir / f"{backend}.json").read_text(encoding="utf-8"))
    snapshot = golden.load_snapshot(version, backend)
    return golden.diff(from_reference(reference), snapshot, ignore_column_order=False)


def compare(versions: list[str], backends: list[str], reference_dir: Path) -> int:
    """Print the differences from the make_golden.py references; return how many."""
    total = 0
    for version in versions:
        for backend in backends:
            differences = compare_one(version, backend, reference_dir)
            total += len(differences)
            print(f"{version}/{backend} vs agno-{RELEASES[version]}: {len(differences)} difference(s)")
            for line in differences:
                print(f"    {line}")
    return total


# ============================================================ command line


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", nargs="+", choices=list(RELEASES), default=list(RELEASES))
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--compare-with", type=Path, metavar="DIR", help="make_golden.py releases/ dir")
    parser.add_argument("--no-generate", action="store_true", help="only compare existing snapshots")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:
        worker_main(argv[1:])
        return 0
    args = parse_args(argv)
    failures: list[str] = []
    if not args.no_generate:
        for version in args.versions:
            failures += generate(version, args.backends)
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    differences = compare(args.versions, args.backends, args.compare_with) if args.compare_with else 0
    return 1 if failures or differences else 0


if __name__ == "__main__":
    sys.exit(main())
