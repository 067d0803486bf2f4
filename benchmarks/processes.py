"""The benchmarks' timed processes: a contender runs as its own process (``benchmarks/children.py``), timed as a
whole by the parent, with its peak RSS and the CPU the database server and other processes used meanwhile."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import seeding
from benchmarks.seeding import Backend, log

CHILDREN = Path(__file__).resolve().parent / "children.py"
AGNO_RELEASE = "3.1.10"
"""The Agno release the contenders run against (its venv: ``tests/golden/generate.py``)."""


def agno_python() -> Path:
    """The interpreter of Agno's release venv, made on first use (shared with the tests)."""
    from tests.golden import generate

    return generate.ensure_venv(AGNO_RELEASE)


@dataclass
class ProcessResult:
    ok: bool
    seconds: float  # the whole process, as the parent saw it
    rss_mb: float  # the child's own peak RSS: VmHWM, read by the child at exit
    report: dict[str, Any]
    log_path: str
    foreign_cpu_s: float = 0.0  # CPU other processes (not ours, not the database servers) used meanwhile
    child_cpu_s: float = 0.0  # the child's own CPU (user + system)
    server_cpu_s: float = 0.0  # the database server's CPU for it (see CpuMeter)

    @property
    def work_s(self) -> float | None:
        return self.report.get("work_s")


DB_SERVERS = ("postgres", "mariadbd", "mysqld")
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_table() -> dict[int, tuple[str, int, float]]:
    """pid -> (comm, ppid, cpu seconds) of every process, from /proc."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1: raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        out[int(entry)] = (comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class CpuMeter:
    """Samples /proc every quarter second while a timed process runs, and adds up CPU seconds of:

    * ``foreign``: processes that are neither this benchmark (with its children) nor a database server, i.e.
      other work on the machine that skews a timing;
    * ``server``: the database server's share of the work: on PostgreSQL the backends connected to
      ``database`` (their process title names it), on MariaDB the whole ``mariadbd`` (every connection, so
      approximate when other clients are busy).

    Processes that start and end between two samples are missed, and a backend's last quarter second too.
    """

    def __init__(self, database: str | None = None) -> None:
        import threading

        self.database = f" {database} " if database else None
        self.foreign = 0.0
        self.server = 0.0
        self._titles: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _ours(self, table: dict[int, tuple[str, int, float]], pid: int) -> bool:
        me = os.getpid()
        seen = 0
        while pid > 1 and seen < 64:
            if pid == me:
                return True
            pid, seen = table.get(pid, ("", 0, 0.0))[1], seen + 1
        return False

    def _server_share(self, pid: int, comm: str) -> bool:
        if comm in ("mariadbd", "mysqld"):
            return True
        if comm == "postgres" and self.database:
            if pid not in self._titles:
                self._titles[pid] = _cmdline(pid)
            return self.database in self._titles[pid]
        return False

    def _run(self) -> None:
        before = _proc_table()
        while not self._stop.wait(0.25):
            now = _proc_table()
            for pid, (comm, _, cpu) in now.items():
                delta = max(0.0, cpu - before[pid][2]) if pid in before and before[pid][0] == comm else 0.0
                if not delta:
                    continue
                if comm in DB_SERVERS:
                    if self._server_share(pid, comm):
                        self.server += delta
                elif not self._ours(now, pid):
                    self.foreign += delta
            before = now

    def __enter__(self) -> CpuMeter:
        if Path("/proc/self/stat").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def wait_quiet(limit: float) -> float:
    """Wait (up to ``limit`` s) until other processes use under a quarter of a core; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        with CpuMeter() as load:
            time.sleep(3.1)
        if load.foreign / 3.0 < 0.25:
            break
        time.sleep(5)
    waited = time.monotonic() - started
    if waited > 10:
        log(f"  waited {waited:.0f}s for other processes to quieten")
    return waited


def run_child(python: Path, mode: str, backend: Backend, role: str, tag: str, *extra: str,
              quiet: float = 0.0) -> ProcessResult:
    seeding.SCRATCH.joinpath("logs").mkdir(parents=True, exist_ok=True)
    out = seeding.SCRATCH / "logs" / f"{tag}.json"
    log_path = seeding.SCRATCH / "logs" / f"{tag}.log"
    out.unlink(missing_ok=True)
    target = backend.agno_target(role) if mode == "agno" else backend.url(role)
    cmd = [str(python), "-B", str(CHILDREN), mode, "--backend", backend.kind, "--url", target, "--out", str(out),
           *extra]
    schema = backend.schema(role)
    if schema:
        cmd += ["--schema", schema]
    if quiet:
        wait_quiet(quiet)
    database = getattr(backend, "db", None)
    with open(log_path, "w", encoding="utf-8") as logfile, CpuMeter(database(role) if database else None) as load:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=logfile, stderr=subprocess.STDOUT, cwd=str(seeding.SCRATCH))
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {"ok": False, "error": "no report"}
    ok = proc.returncode == 0 and bool(report.get("ok"))
    if not ok:
        tail = Path(log_path).read_text(encoding="utf-8", errors="replace")[-3000:]
        log(f"  !! {tag} failed (exit {proc.returncode}): {report.get('error')}\n{report.get('traceback', '')}\n{tail}")
    # ru_maxrss of a child started by fork/vfork+exec carries the parent's pre-exec high-water mark on Linux,
    # so the child's own VmHWM is the figure; ru_maxrss is the fallback where /proc is missing.
    rss_kb = report.get("vm_hwm_kb") or usage.ru_maxrss
    return ProcessResult(ok, seconds, rss_kb / 1024, report, str(log_path), round(load.foreign, 1),
                         round(usage.ru_utime + usage.ru_stime, 1), round(load.server, 1))
