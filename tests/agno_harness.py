"""Drive real Agno releases from the tests: seed databases with them, run Agno's own migration and validation.

Each Agno release lives in a throwaway venv made by ``tests/golden/generate.py`` under
``${TMPDIR:-/tmp}/agno-alembic-golden/venvs/agno-<R>`` (created on first use, reused afterwards).
``tests/agno_worker.py`` runs inside that venv; everything here runs in the project venv, and the database is
reflected with ``tests/golden/reflect.py`` from here.

* :func:`seed`: release R creates every table it knows, with a few rows in each;
* :func:`agno_up`: agno 3.1.10's ``MigrationManager(db).up()``, with the schema and version rows before and after;
* :func:`validate`: agno 3.1.10's checks of existing tables (``is_valid_table``, ``_get_table``, and
  ``_create_all_tables()`` as AgentOS calls it at startup); returns the failures.
"""

from __future__ import annotations

import functools
import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.golden import generate
from tests.golden.reflect import diff, reflect

#: Releases whose fresh creates are adopted (the last release of each 2.x schema version).
RELEASES: tuple[str, ...] = ("2.2.13", "2.4.8", "2.5.5", "2.9.0")
#: The release whose own migration and validation judge the result.
AGNO_LATEST = "3.1.10"
VERSIONS_TABLE = "agno_schema_versions"
WORKER = Path(__file__).resolve().with_name("agno_worker.py")
WORKER_TIMEOUT = 600


class HarnessError(RuntimeError):
    """An Agno release could not be installed or its worker failed."""


@functools.cache
def agno_python(release: str) -> Path:
    """The python of the venv holding ``agno==release`` (installed on first use)."""
    try:
        return generate.ensure_venv(release)
    except generate.GenerationError as exc:
        raise HarnessError(str(exc)) from exc


@dataclass(frozen=True)
class Target:
    """Where Agno works: a SQLite file, a PostgreSQL schema, or a MySQL/MariaDB database."""

    kind: str  # sqlite | postgres | mysql
    url: str  # sync SQLAlchemy URL (the project reflects through it)
    schema: str | None = None

    @classmethod
    def of(cls, backend: Any) -> Target:
        """From a ``tests.conftest.Backend``."""
        return cls(backend.kind, backend.url, backend.schema)

    @property
    def agno_target(self) -> str:
        """What the worker passes to Agno: the SQLite file path, or the URL."""
        if self.kind == "sqlite":
            return str(sa.make_url(self.url).database)
        return self.url

    def worker_options(self) -> list[str]:
        options = ["--backend", self.kind, "--target", self.agno_target]
        return [*options, "--db-schema", self.schema] if self.schema else options

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url, poolclass=sa.pool.NullPool)


def run_worker(release: str, mode: str, target: Target, *extra: str) -> dict[str, Any]:
    """Run ``agno_worker.py <mode>`` in the release's venv; return its report (``ok`` False: Agno raised)."""
    python = agno_python(release)
    with tempfile.TemporaryDirectory(prefix="agno-alembic-worker-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [str(python), "-B", str(WORKER), mode, *target.worker_options(), "--out", str(out), *extra]
        try:
            proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=WORKER_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"agno {release} {mode} timed out after {WORKER_TIMEOUT}s") from exc
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stdout + proc.stderr)[-4000:]
            raise HarnessError(f"agno {release} worker {mode} failed ({proc.returncode}):\n{tail}")
        report = json.loads(out.read_text(encoding="utf-8"))
    report["log"] = (proc.stdout + proc.stderr)[-8000:]
    return report


def _raise_on_error(release: str, mode: str, report: dict[str, Any]) -> dict[str, Any]:
    if not report.get("ok"):
        error = report.get("error") or {}
        raise HarnessError(f"agno {release} {mode}: {error.get('type')}: {error.get('message')}\n"
                           f"{error.get('traceback', '')}")
    return report


# ------------------------------------------------------------------ seeding


@dataclass
class Seeded:
    """What :func:`seed` put in the database."""

    release: str
    tables: dict[str, str]  # table type -> table name, every table the release created
    seeded: dict[str, int]  # table name -> rows inserted (every table but the versions table)
    run_ids: list[str]  # the run_ids held in the sessions' legacy ``runs`` column
    sessions_with_runs: int


def seed(release: str, target: Target, *, with_runs: bool = True) -> Seeded:
    """Agno ``release`` creates every table it knows on ``target``; then a few rows go into each.

    ``with_runs=False`` leaves the sessions' legacy ``runs`` column NULL.
    """
    extra = () if with_runs else ("--no-runs",)
    report = _raise_on_error(release, "seed", run_worker(release, "seed", target, *extra))
    return Seeded(release, report["tables"], report["seeded"], report["run_ids"], report["sessions_with_runs"])


# ------------------------------------------------------------------ reading the database


def row_counts(target: Target) -> dict[str, int]:
    """Rows per table of the target's schema."""
    engine = target.engine()
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names(schema=target.schema)
            return {n: conn.execute(sa.select(sa.func.count()).select_from(sa.table(n, schema=target.schema)))
                    .scalar_one() for n in sorted(names)}
    finally:
        engine.dispose()


def version_rows(target: Target, versions_table: str = VERSIONS_TABLE) -> dict[str, dict[str, Any]] | None:
    """Agno's version rows by table name, timestamps unmasked; ``None`` without a versions table."""
    engine = target.engine()
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(versions_table, schema=target.schema):
                return None
            rows = conn.execute(sa.select(sa.text("*")).select_from(sa.table(versions_table, schema=target.schema)))
            return {str(r._mapping["table_name"]): {k: str(v) for k, v in r._mapping.items()} for r in rows}
    finally:
        engine.dispose()


def reflect_target(target: Target, exclude: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    engine = target.engine()
    try:
        return reflect(engine, target.schema, exclude=exclude)
    finally:
        engine.dispose()


# ------------------------------------------------------------------ Agno 3.1.10's own migration


@dataclass
class AgnoUpReport:
    """What ``MigrationManager(db).up()`` of agno 3.1.10 did."""

    error: dict[str, Any] | None
    before: dict[str, Any]
    after: dict[str, Any]
    versions_before: dict[str, dict[str, Any]] | None
    versions_after: dict[str, dict[str, Any]] | None
    log: str = ""
    changes: list[str] = field(default_factory=list)
    """Every difference between before and after: schema, masked version rows, row counts of the other tables."""
    phantom_stamps: list[str] = field(default_factory=list)
    """Version rows Agno added for tables that do not exist (its manager stamps missing tables)."""
    rewritten_timestamps: list[str] = field(default_factory=list)
    """Version rows whose created_at/updated_at Agno rewrote while the version stayed the same."""

    @property
    def real_changes(self) -> list[str]:
        """``changes`` without the phantom stamps."""
        phantoms = {f"agno_schema_versions row {t} extra" for t in self.phantom_stamps}
        return [c for c in self.changes if not any(c.startswith(p) for p in phantoms)]


def agno_up(target: Target) -> AgnoUpReport:
    """Run agno 3.1.10's ``asyncio.run(MigrationManager(db).up())`` on ``target`` and report what changed."""
    before, versions_before, counts_before = reflect_target(target), version_rows(target), row_counts(target)
    report = run_worker(AGNO_LATEST, "agno-up", target)
    after, versions_after, counts_after = reflect_target(target), version_rows(target), row_counts(target)
    result = AgnoUpReport(None if report.get("ok") else report.get("error"), before, after,
                          versions_before, versions_after, log=report.get("log", ""))
    result.changes = diff(before, after)
    result.changes += [f"{t}: {counts_before.get(t)} row(s) before, {counts_after.get(t)} after"
                       for t in sorted(counts_before.keys() | counts_after.keys())
                       if t != VERSIONS_TABLE and counts_before.get(t) != counts_after.get(t)]
    old, new = versions_before or {}, versions_after or {}
    result.phantom_stamps = sorted(t for t in new.keys() - old.keys() if t not in after["tables"])
    for name in sorted(old.keys() & new.keys()):
        if old[name].get("version") == new[name].get("version"):
            moved = [k for k in ("created_at", "updated_at") if old[name].get(k) != new[name].get(k)]
            if moved:
                result.rewritten_timestamps.append(f"{name}: {', '.join(moved)}")
    return result


def agno_migrate_tables(
    target: Target,
    table_types: list[str] | tuple[str, ...],
    *,
    down: bool = False,
    target_version: str | None = None,
    configs: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """agno 3.1.10's ``MigrationManager(db).up(target_version, table_type=t)`` (``down=True``: ``down``) for each
    table type, once per Db configuration (extra Db keyword arguments, e.g. ``{"metrics_table": "m1"}``).

    Returns one entry per configuration: ``{"config", "ok", "error"?}`` (Agno's exception is reported, not raised).
    """
    extra: list[str] = [arg for t in table_types for arg in ("--table-type", t)]
    if target_version is not None:
        extra += ["--target-version", target_version]
    extra += [arg for c in (configs or [{}]) for arg in ("--db-config", json.dumps(c))]
    mode = "agno-down-tables" if down else "agno-up-tables"
    return _raise_on_error(AGNO_LATEST, mode, run_worker(AGNO_LATEST, mode, target, *extra))["results"]


# ------------------------------------------------------------------ Agno 3.1.10's validation


@dataclass
class Validation:
    """Agno 3.1.10's verdict on the tables of a database."""

    failures: list[str]
    checks: dict[str, Any]
    created: list[str]
    """Tables that did not exist and Agno's startup call created."""


def validate(target: Target) -> Validation:
    """Agno 3.1.10 validates every table it knows, as at startup.

    For every table type of ``_get_table``: the table exists, ``is_valid_table`` accepts it and
    ``_get_table(t)`` (which raises ``MigrationRequiredError``/``SchemaMismatchError`` on a stale table) loads
    it; then ``_create_all_tables()``, the call AgentOS makes at startup, runs without error and creates nothing.
    """
    tables_before = set(row_counts(target))
    report = _raise_on_error(AGNO_LATEST, "validate", run_worker(AGNO_LATEST, "validate", target))
    created = sorted(set(row_counts(target)) - tables_before)
    failures: list[str] = []
    for table_type, check in report["checks"].items():
        where = f"{table_type} ({check.get('table')})"
        if not check.get("exists"):
            failures.append(f"{where}: table missing")
        elif not check.get("is_valid_table"):
            error = check.get("is_valid_table_error")
            failures.append(f"{where}: is_valid_table is False" + (f": {error['message']}" if error else ""))
        if "get_table_error" in check:
            error = check["get_table_error"]
            failures.append(f"{where}: _get_table raised {error['type']}: {error['message']}")
    if not report["startup"]["ok"]:
        error = report["startup"]["error"]
        failures.append(f"_create_all_tables raised {error['type']}: {error['message']}")
    failures += [f"_create_all_tables created {t}" for t in created]
    return Validation(failures, report["checks"], created)
