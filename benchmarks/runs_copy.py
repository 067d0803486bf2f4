"""Benchmark the 3.0.0 sessions -> runs copy: our upgrade against Agno 3.1.10's own, side by side (issue 4).

Usage (with the project's interpreter)::

    python benchmarks/runs_copy.py --backends sqlite postgres mysql --sessions 50000 --runs 5 [--seed 42]
    python benchmarks/runs_copy.py --quick                      # 2,000 sessions x 5 runs
    python benchmarks/runs_copy.py --sessions 10000 50000       # several sizes: also checks RSS does not grow

Per backend and size:

1. A 2.5.6 database is built once: the sessions table through our facade
   (``SyncMigrationManager(url, db_schema=...).up(target_version="2.5.6", table_type="sessions")``), then N
   sessions of K runs each (seeded; about 100 users; each run an Agno-like ``RunOutput`` dict of ~3 KB: messages,
   tool calls, metrics, content) inserted in bulk (PostgreSQL ``COPY``, MariaDB/SQLite ``executemany``).
2. It is cloned for each contender (PostgreSQL ``CREATE DATABASE ... TEMPLATE``; MariaDB a database filled by
   ``INSERT ... SELECT``; SQLite a file copy), so all start identical.
3. Each contender runs as its own process (``benchmarks/children.py``), timed as a whole process by this one,
   peak RSS from ``wait4`` (the child's own ``ru_maxrss``):

   * ours: ``SyncMigrationManager(url, db_schema=...).up(table_type="sessions")`` (project venv);
   * agno: ``asyncio.run(MigrationManager(db).up(table_type="sessions"))`` of agno 3.1.10 (its venv), which
     creates the runs table itself;
   * baseline: the runs table created through our facade, then ONE ``INSERT INTO runs SELECT ...`` (our dialect
     statement over every session at once); its statement+commit time is what ``ours/base`` divides by. On
     PostgreSQL it is run a second time with ``SET default_toast_compression = lz4`` (``base lz4``, for
     information).
4. The runs tables of ours and Agno's are compared row by row, streamed in ``run_id`` order by keyset pages
   (all columns but ``updated_at``; ``created_at`` where the run carries its own), run_data as parsed JSON.
5. A no-op ``up()`` (every table, on a database already at the latest version) is timed as a whole process,
   ours against Agno's ``MigrationManager(db).up()``: one warm-up each, then ``--noop-repeats`` interleaved runs;
   the median seconds and the largest peak RSS are reported.

Only databases named ``agno_alembic_bench_*`` (PostgreSQL and MariaDB) and files under
``${TMPDIR:-/tmp}/agno-alembic-bench`` are touched; they are dropped at the end unless ``--keep``. Server URLs:
``--pg-url`` / ``--mysql-url`` (defaults: the local servers, ``postgresql+psycopg://postgres@127.0.0.1:5432``
and ``mysql+pymysql://root@127.0.0.1:3306``). Agno's venv is made by ``tests/golden/generate.py`` on first use.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agno_alembic.data import runs as runs_data  # noqa: E402
from benchmarks import seeding  # noqa: E402
from benchmarks.processes import AGNO_RELEASE, ProcessResult, run_child  # noqa: E402
from benchmarks.processes import agno_python as agno_venv_python  # noqa: E402
from benchmarks.seeding import (  # noqa: E402
    BACKEND_CLASSES,
    PG_SCHEMA,
    QUICK_SESSIONS,
    RUNS_TABLE,
    Backend,
    build,
    log,
)

CONTENDERS = ("ours", "agno", "base")

# Targets of issue 4.
SPEEDUP_TARGET = {"postgres": 2.0, "mysql": 2.0, "sqlite": 1.3}
BASELINE_FACTOR = 1.2
RSS_LIMIT_MB = 120.0
RSS_GROWTH_TOLERANCE_MB = 5.0

def copy_loop_seconds(log_path: str) -> float | None:
    """The copy's own time, from our per-chunk log lines (the last chunk's elapsed seconds)."""
    found = None
    for line in Path(log_path).read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.search(r"copied runs of \d+/\d+ sessions into \S+ \(([0-9.]+)s\)", line)
        if m:
            found = float(m.group(1))
    return found


# ====================================================================== comparison

#: The runs table's columns compared: all but ``updated_at`` (the time of each copy).
RUN_COLS = tuple(c for c in runs_data.RUN_COLUMNS if c != "updated_at")


def _parse(value: Any) -> Any:
    """``run_data`` as Agno reads it (:func:`agno_alembic.data.runs.decode`), the text itself where it is no JSON."""
    decoded = runs_data.decode(value)
    return value if decoded is None else decoded


def _pages(engine: sa.Engine, schema: str | None, page: int) -> Iterator[dict[str, Any]]:
    t = sa.table(RUNS_TABLE, *[sa.column(c) for c in RUN_COLS], schema=schema)
    last = None
    with engine.connect() as conn:
        while True:
            q = sa.select(*t.c).order_by(t.c.run_id).limit(page)
            if last is not None:
                q = q.where(t.c.run_id > last)
            rows = conn.execute(q).mappings().all()
            if not rows:
                return
            for row in rows:
                yield dict(row)
            last = rows[-1]["run_id"]
            conn.rollback()  # no long-lived snapshot


def compare_runs(backend: Backend, left: str, right: str, page: int = 2000) -> dict[str, Any]:
    """Stream both runs tables in run_id order and compare them row by row (memory stays flat)."""
    a_engine, b_engine = backend.engine(left), backend.engine(right)
    n = mismatches = 0
    examples: list[str] = []
    sentinel = object()
    try:
        a_rows, b_rows = _pages(a_engine, backend.schema(left), page), _pages(b_engine, backend.schema(right), page)
        while True:
            a, b = next(a_rows, sentinel), next(b_rows, sentinel)
            if a is sentinel and b is sentinel:
                break
            if a is sentinel or b is sentinel:
                mismatches += 1
                extra = b if a is sentinel else a
                examples.append(f"only in {'agno' if a is sentinel else 'ours'}: {extra['run_id']}")  # type: ignore[index]
                # count the rest of the longer side
                rest = b_rows if a is sentinel else a_rows
                mismatches += sum(1 for _ in rest)
                break
            n += 1
            assert isinstance(a, dict) and isinstance(b, dict)
            diffs = _row_diff(a, b)
            if diffs:
                mismatches += 1
                if len(examples) < 5:
                    examples.append(f"{a['run_id']} / {b['run_id']}: {', '.join(diffs)}")
    finally:
        a_engine.dispose()
        b_engine.dispose()
    return {"equal": mismatches == 0, "rows": n, "mismatches": mismatches, "examples": examples}


def _row_diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    diffs = []
    data_a, data_b = _parse(a["run_data"]), _parse(b["run_data"])
    for c in RUN_COLS:
        if c == "run_data":
            if data_a != data_b:
                diffs.append("run_data")
        elif c == "created_at":
            own = data_a.get("created_at") if isinstance(data_a, dict) else None
            if runs_data.is_time(own) and a[c] != b[c]:  # a run's own created_at is kept; else each copy's time
                diffs.append(f"created_at {a[c]!r} != {b[c]!r}")
        elif a[c] != b[c]:
            diffs.append(f"{c} {a[c]!r} != {b[c]!r}")
    return diffs


def count_rows(backend: Backend, role: str, table: str) -> int:
    engine = backend.engine(role)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(
                sa.table(table, schema=backend.schema(role)))).scalar_one())
    finally:
        engine.dispose()


# ====================================================================== the benchmark
def bench_copy(backend: Backend, args: argparse.Namespace, sessions: int, agno_python: Path) -> dict[str, Any]:
    data = build(backend, args, sessions)
    roles = [role for role in CONTENDERS if role in args.contenders]
    started = time.perf_counter()
    for role in roles:
        backend.clone("src", role)
    log(f"{backend.kind}: cloned for {', '.join(roles)} in {time.perf_counter() - started:.1f}s")
    here = Path(sys.executable)
    tag = f"{backend.kind}-{sessions}"
    result: dict[str, Any] = {"backend": backend.kind, "sessions": sessions, "runs_per_session": args.runs,
                              "data": data}
    procs: dict[str, ProcessResult] = {}
    for role, python, mode, label in (("ours", here, "ours", "ours"),
                                      ("agno", agno_python, "agno", f"agno {AGNO_RELEASE}"),
                                      ("base", here, "baseline", "baseline INSERT ... SELECT")):
        if role not in roles:
            result[role] = {"ok": False, "skipped": True}
            continue
        backend.settle()
        log(f"{backend.kind}: {label} ...")
        p = procs[role] = run_child(python, mode, backend, role, f"{tag}-{role}", quiet=args.quiet_wait)
        result[role] = _proc(p)
        statement = "" if mode != "baseline" else f" (its statement {p.work_s or float('nan'):.1f}s)"
        log(f"{backend.kind}: {label} {p.seconds:.1f}s{statement}, {p.rss_mb:.0f} MB")
    ours, agno = procs.get("ours"), procs.get("agno")
    if ours is not None:
        result["ours"]["copy_loop_s"] = copy_loop_seconds(ours.log_path)
    if "base" in roles and backend.kind == "postgres" and not args.no_lz4:
        engine = backend.engine("base")
        with engine.begin() as conn:  # untimed: empty the runs table again
            conn.exec_driver_sql(f'TRUNCATE "{PG_SCHEMA}"."{RUNS_TABLE}"')
        engine.dispose()
        backend.settle()
        lz4 = run_child(here, "baseline", backend, "base", f"{tag}-base-lz4", "--toast", "lz4",
                        quiet=args.quiet_wait)
        result["base_lz4"] = _proc(lz4)
        log(f"{backend.kind}: baseline with lz4 {lz4.work_s or float('nan'):.1f}s")

    result["rows"] = {role: count_rows(backend, role, RUNS_TABLE) for role in ("ours", "agno") if role in roles}
    result["runs_table_mb"] = {role: round((backend.table_bytes(role, RUNS_TABLE) or 0) / 2**20, 1)
                               for role in roles}
    started = time.perf_counter()
    if ours is not None and agno is not None and ours.ok and agno.ok:
        result["compare"] = compare_runs(backend, "ours", "agno")
        c = result["compare"]
        log(f"{backend.kind}: row-equal: {'yes' if c['equal'] else 'no'} ({c['rows']:,} rows, "
            f"{time.perf_counter() - started:.1f}s){'' if c['equal'] else ' ' + '; '.join(c['examples'])}")
    else:
        ran = ours is not None and agno is not None
        result["compare"] = {"equal": False, "rows": 0, "mismatches": None, "skipped": not ran,
                             "examples": ["a contender failed" if ran else "not compared: a contender was not run"]}
    if not args.keep:
        for role in roles:
            backend.drop(role)
    return result


def bench_noop(backend: Backend, args: argparse.Namespace, agno_python: Path) -> dict[str, Any]:
    """A no-op up() of every table, as a whole process, on a database already at the latest version."""
    here = Path(sys.executable)
    backend.create("noop")
    setup = run_child(here, "ours", backend, "noop", f"{backend.kind}-noop-setup", "--table-type", "all")
    if not setup.ok:
        return {"ok": False}
    warm_agno = run_child(agno_python, "agno", backend, "noop", f"{backend.kind}-noop-agno-warmup",
                          "--table-type", "all")
    warm_ours = run_child(here, "ours", backend, "noop", f"{backend.kind}-noop-ours-warmup", "--table-type", "all")
    runs: dict[str, list[ProcessResult]] = {"ours": [], "agno": []}
    for i in range(args.noop_repeats):
        runs["ours"].append(run_child(here, "ours", backend, "noop", f"{backend.kind}-noop-ours-{i}",
                                      "--table-type", "all", quiet=args.quiet_wait))
        runs["agno"].append(run_child(agno_python, "agno", backend, "noop", f"{backend.kind}-noop-agno-{i}",
                                      "--table-type", "all", quiet=args.quiet_wait))
    agno_steps = sum(Path(p.log_path).read_text(errors="replace").count("Applying migration") for p in runs["agno"])
    ours_changes = sum(len(p.report.get("changes") or []) for p in runs["ours"])
    out = {
        "ok": all(p.ok for ps in runs.values() for p in ps) and warm_agno.ok and warm_ours.ok,
        "setup_s": round(setup.seconds, 2),
        "agno_warmup_steps": Path(warm_agno.log_path).read_text(errors="replace").count("Applying migration"),
        "agno_steps": agno_steps,
        "ours_changes": ours_changes,
    }
    for who, ps in runs.items():
        out[who] = {"seconds": round(statistics.median(p.seconds for p in ps), 3),
                    "all_seconds": [round(p.seconds, 3) for p in ps],
                    "work_s": round(statistics.median(p.work_s or 0 for p in ps), 3),
                    "rss_mb": round(max(p.rss_mb for p in ps), 1)}
    log(f"{backend.kind}: no-op up(): ours {out['ours']['seconds']}s {out['ours']['rss_mb']} MB, "
        f"agno {out['agno']['seconds']}s {out['agno']['rss_mb']} MB")
    if not args.keep:
        backend.drop("noop")
    return out


def _proc(p: ProcessResult) -> dict[str, Any]:
    out = {"ok": p.ok, "seconds": round(p.seconds, 2), "rss_mb": round(p.rss_mb, 1), "log": p.log_path,
           "foreign_cpu_s": p.foreign_cpu_s, "child_cpu_s": p.child_cpu_s, "server_cpu_s": p.server_cpu_s}
    if p.work_s is not None:
        out["work_s"] = round(p.work_s, 2)
    if not p.ok:
        out["error"] = p.report.get("error")
    return out


# ====================================================================== report


def _cpu_s(p: dict[str, Any]) -> float | None:
    return p["child_cpu_s"] + p["server_cpu_s"] if p.get("ok") else None


def _cpu(p: dict[str, Any]) -> str:
    if p.get("skipped"):
        return "not run"
    return f"{p['child_cpu_s']:.1f}+{p['server_cpu_s']:.1f}" if p.get("ok") else "failed"


def _equal(c: dict[str, Any]) -> str:
    if c.get("skipped"):
        return "not compared"
    return f"{'yes' if c['equal'] else 'no'} ({c['rows']:,} rows)"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def _f(value: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def report(results: list[dict[str, Any]], noop: dict[str, dict[str, Any]]) -> tuple[str, list[tuple[str, bool]]]:
    lines: list[str] = []
    verdicts: list[tuple[str, bool]] = []
    sizes = sorted({r["sessions"] for r in results})
    for size in sizes:
        rows = [r for r in results if r["sessions"] == size]
        k = rows[0]["runs_per_session"]
        lines.append(f"\n{size:,} sessions x {k} runs")
        header = ("| backend | ours s | ours MB | agno s | agno MB | agno/ours | base s | ours/base | base lz4 s "
                  "| ours copy loop s | row-equal | other CPU s (ours/agno/base) |")
        lines += [header, "|" + "---|" * (header.count("|") - 1)]
        for r in rows:
            o, a, b, lz = r["ours"], r["agno"], r["base"], r.get("base_lz4")
            speedup = a["seconds"] / o["seconds"] if o["ok"] and a["ok"] else None
            vs_base = o["seconds"] / b["work_s"] if o["ok"] and b.get("work_s") else None
            c = r["compare"]
            lines.append(
                f"| {r['backend']} | {_f(o.get('seconds'))} | {_f(o.get('rss_mb'), '{:.0f}')} | {_f(a.get('seconds'))} "
                f"| {_f(a.get('rss_mb'), '{:.0f}')} | {_f(speedup, '{:.2f}x')} | {_f(b.get('work_s'))} "
                f"| {_f(vs_base, '{:.2f}x')} | {_f(lz.get('work_s')) if lz else '-'} "
                f"| {_f(o.get('copy_loop_s'))} | {_equal(c)} "
                f"| {'/'.join(_f(p.get('foreign_cpu_s'), '{:.0f}') for p in (o, a, b))} |"
            )
            need = SPEEDUP_TARGET[r["backend"]]
            if not a.get("skipped") and not o.get("skipped"):
                verdicts.append((f"{size:,} {r['backend']}: agno/ours {_f(speedup, '{:.2f}')}x >= {need}x",
                                 speedup is not None and speedup >= need))
            if not b.get("skipped") and not o.get("skipped"):
                verdicts.append((f"{size:,} {r['backend']}: ours/base {_f(vs_base, '{:.2f}')}x <= {BASELINE_FACTOR}x",
                                 vs_base is not None and vs_base <= BASELINE_FACTOR))
            if not o.get("skipped"):
                verdicts.append((f"{size:,} {r['backend']}: ours peak RSS {_f(o.get('rss_mb'), '{:.0f}')} MB <= "
                                 f"{RSS_LIMIT_MB:.0f} MB", o["ok"] and o["rss_mb"] <= RSS_LIMIT_MB))
            if not a.get("skipped") and not o.get("skipped"):
                verdicts.append((f"{size:,} {r['backend']}: row-equal ({c['rows']:,} rows)", bool(c["equal"])))
        lines.append("  CPU seconds, process + its database server work (a cross-check that load from other "
                     "processes cannot inflate): " + "; ".join(
            f"{r['backend']}: ours {_cpu(r['ours'])}, agno {_cpu(r['agno'])}, base {_cpu(r['base'])}"
            f" (agno/ours {_ratio(_cpu_s(r['agno']), _cpu_s(r['ours']))})" for r in rows))
        lines.append("  data: " + "; ".join(
            f"{r['backend']}: {r['data']['users']} users, {r['data']['avg_run_bytes']} B/run, sessions table "
            f"{r['data']['sessions_table_mb']} MB, runs table ours {r['runs_table_mb'].get('ours', '-')} MB / agno "
            f"{r['runs_table_mb'].get('agno', '-')} MB" for r in rows))
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for backend in dict.fromkeys(r["backend"] for r in results):
            a = next((r for r in results if r["backend"] == backend and r["sessions"] == small), None)
            b = next((r for r in results if r["backend"] == backend and r["sessions"] == large), None)
            if a and b and a["ours"]["ok"] and b["ours"]["ok"]:
                grow = b["ours"]["rss_mb"] - a["ours"]["rss_mb"]
                verdicts.append((f"{backend}: ours peak RSS {a['ours']['rss_mb']:.0f} MB at {small:,} -> "
                                 f"{b['ours']['rss_mb']:.0f} MB at {large:,} (growth {grow:+.1f} MB <= "
                                 f"{RSS_GROWTH_TOLERANCE_MB} MB)", grow <= RSS_GROWTH_TOLERANCE_MB))
    if noop:
        lines.append("\nno-op up() (every table, database already at the latest version; whole process, median)")
        lines += ["| backend | ours s | ours MB | agno s | agno MB | agno/ours | runs (ours; agno) |",
                  "|---|---|---|---|---|---|---|"]
        for backend, n in noop.items():
            if not n.get("ok"):
                lines.append(f"| {backend} | failed | | | | |")
                verdicts.append((f"no-op {backend}", False))
                continue
            o, a = n["ours"], n["agno"]
            lines.append(f"| {backend} | {o['seconds']:.2f} | {o['rss_mb']:.0f} | {a['seconds']:.2f} "
                         f"| {a['rss_mb']:.0f} | {a['seconds'] / o['seconds']:.2f}x "
                         f"| {', '.join(map(str, o['all_seconds']))}; {', '.join(map(str, a['all_seconds']))} |")
            verdicts.append((f"no-op {backend}: ours {o['seconds']:.2f}s <= agno {a['seconds']:.2f}s",
                             o["seconds"] <= a["seconds"]))
    lines.append("\ntargets:")
    lines += [f"  [{'met' if ok else 'NOT MET'}] {what}" for what, ok in verdicts]
    return "\n".join(lines), verdicts


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlalchemy": sa.__version__,
    }
    try:
        import importlib.metadata as md

        info["alembic"] = md.version("alembic")
        info["agno_alembic"] = md.version("agno-alembic")
    except Exception:
        pass
    import sqlite3

    info["sqlite"] = sqlite3.sqlite_version
    return info


def server_versions(backends: dict[str, Backend]) -> dict[str, str]:
    out = {}
    for name, b in backends.items():
        if name == "postgres":
            out[name] = b._admin("SELECT version()")[0][0][0].split(" on ")[0]
        elif name == "mysql":
            out[name] = b._admin("SELECT version()")[0][0][0]
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="runs_copy.py", description=__doc__.split("\n\n")[0])
    seeding.server_arguments(parser)
    parser.add_argument("--sessions", nargs="+", type=int, default=[10_000],
                        help="sessions (several sizes: each is run, and peak RSS growth is checked)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SESSIONS:,} sessions")
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS),
                        help="which copies to time (default all; the report marks the others as not run)")
    parser.add_argument("--no-noop", action="store_true", help="skip the no-op up() timing")
    parser.add_argument("--noop-repeats", type=int, default=3)
    parser.add_argument("--no-lz4", action="store_true", help="skip the PostgreSQL lz4 baseline")
    parser.add_argument("--quiet-wait", type=float, default=60.0,
                        help="before each timed process, wait up to this many seconds for other processes to "
                             "quieten (0: do not wait)")
    parser.add_argument("--mysql-buffer-pool", metavar="SIZE",
                        help="run with the MariaDB/MySQL server's innodb_buffer_pool_size set to SIZE (e.g. 2G; "
                             "SET GLOBAL, restored at the end); default: the server's own setting")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    sizes = [QUICK_SESSIONS] if args.quick else args.sessions

    started = time.perf_counter()
    agno_python = agno_venv_python()
    backends = {name: BACKEND_CLASSES[name](args) for name in args.backends}
    restore = None
    if args.mysql_buffer_pool and "mysql" in backends:
        mysql = backends["mysql"]
        restore = mysql._admin("SELECT @@innodb_buffer_pool_size")[0][0][0]
        size = _bytes(args.mysql_buffer_pool)
        mysql._admin(f"SET GLOBAL innodb_buffer_pool_size = {size}")
        log(f"mysql: innodb_buffer_pool_size {int(restore) >> 20} MB -> {size >> 20} MB for this run")
    try:
        return _main(args, backends, sizes, agno_python, started)
    finally:
        if restore is not None:
            backends["mysql"]._admin(f"SET GLOBAL innodb_buffer_pool_size = {int(restore)}")
            log(f"mysql: innodb_buffer_pool_size restored to {int(restore) >> 20} MB")


def _bytes(size: str) -> int:
    m = re.fullmatch(r"(\d+)([KMG]?)", size.strip().upper())
    if not m:
        raise SystemExit(f"--mysql-buffer-pool: {size!r} is not a size like 512M or 2G")
    return int(m[1]) << {"": 0, "K": 10, "M": 20, "G": 30}[m[2]]


def _main(args: argparse.Namespace, backends: dict[str, Backend], sizes: list[int], agno_python: Path,
          started: float) -> int:
    env = environment() | {"servers": server_versions(backends), "agno": AGNO_RELEASE}
    if "mysql" in backends:
        env["mysql_buffer_pool_mb"] = int(
            backends["mysql"]._admin("SELECT @@innodb_buffer_pool_size")[0][0][0]) >> 20
    log(f"environment: {json.dumps(env)}")
    results = []
    for size in sizes:
        for backend in backends.values():
            results.append(bench_copy(backend, args, size, agno_python))
    noop = {} if args.no_noop else {name: bench_noop(b, args, agno_python) for name, b in backends.items()}
    text, verdicts = report(results, noop)
    print(text, flush=True)
    elapsed = time.perf_counter() - started
    log(f"done in {elapsed:.0f}s")
    out = {"environment": env, "results": results, "noop": noop,
           "verdicts": [{"target": w, "met": ok} for w, ok in verdicts], "elapsed_s": round(elapsed, 1)}
    path = args.json or seeding.SCRATCH / f"results-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, default=str))
    log(f"results: {path}")
    if not args.keep and not args.reuse:
        for b in backends.values():
            b.drop("src")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
