"""A 3-node MariaDB Galera cluster on this machine, for the tests and by hand.

    python tests/servers/galera.py start [DIR]   # prints the node URLs; DIR defaults to a new temporary folder
    python tests/servers/galera.py stop DIR

Three ``mariadbd --defaults-file=DIR/nodeN/my.cnf`` processes, each with its own data directory (made by
``mariadb-install-db``, owned by the ``mysql`` user: the rsync state transfer refuses to run as root), SQL port,
group-communication port and IST port, all picked at run time among free ports outside the kernel's ephemeral
range (never 3306, 3310 or 5432).  The first node bootstraps the cluster (``--wsrep-new-cluster``); :func:`start`
returns once every node reports ``wsrep_cluster_size=3`` and ``Synced``.  :func:`stop` (and a failed start) leaves
no process behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROVIDER = "/usr/lib/galera/libgalera_smm.so"
MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
USER = "mysql"
RESERVED = {3306, 3310, 5432}
INSTALL_ATTEMPTS = 3
PORT_ATTEMPTS = 3
PORT_TAKEN = "Address already in use"
STATE = "cluster.json"


@dataclass
class Node:
    index: int
    port: int
    gcomm: int
    ist: int
    sst: int
    pid: int | None = None

    def url(self, database: str = "", driver: str = "mysql+pymysql") -> str:
        return f"{driver}://root@127.0.0.1:{self.port}/{database}"


@dataclass
class Cluster:
    root: str
    nodes: list[Node] = field(default_factory=list)
    started_in: float = 0.0
    """Seconds from the first ``mariadbd`` to the whole cluster synced."""

    def urls(self, database: str = "", driver: str = "mysql+pymysql") -> list[str]:
        return [n.url(database, driver) for n in self.nodes]

    def node_dir(self, node: Node) -> Path:
        return Path(self.root) / f"node{node.index}"

    def save(self) -> None:
        (Path(self.root) / STATE).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, root: str | os.PathLike[str]) -> Cluster:
        data = json.loads((Path(root) / STATE).read_text())
        return cls(data["root"], [Node(**n) for n in data["nodes"]], data.get("started_in", 0.0))


def available() -> str | None:
    """Why a cluster cannot be started here, or ``None`` when it can."""
    for path in (MARIADBD, INSTALL_DB, PROVIDER, shutil.which("rsync") or ""):
        if not path or not os.path.exists(path):
            return f"missing {path or 'rsync'}"
    try:
        pwd.getpwnam(USER)
    except KeyError:
        return f"no {USER!r} user"
    return None


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(v) for v in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return low, high


def _free_ports(count: int) -> list[int]:
    """``count`` ports free now, outside the kernel's ephemeral range.

    A port the kernel hands out for ``bind(0)`` comes from that range, and so does the local port of every outgoing
    connection: between the pick and the node's own ``bind`` (seconds, ``mariadb-install-db`` runs in between), one of
    the suite's many client connections took a node's group-communication port on CI ("Address already in use").
    Outside the range only an explicit ``bind`` can take it.
    """
    low, high = _ephemeral_range()
    pool = list(range(20000, low)) if low > 21000 else list(range(high + 1, 65536))
    random.shuffle(pool)
    ports: list[int] = []
    for port in pool:
        if port in RESERVED:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError(f"fewer than {count} free ports outside the ephemeral range {low}-{high}")


def _config(cluster: Cluster, node: Node) -> str:
    d = cluster.node_dir(node)
    members = ",".join(f"127.0.0.1:{n.gcomm}" for n in cluster.nodes)
    options = (f"gmcast.listen_addr=tcp://127.0.0.1:{node.gcomm};ist.recv_addr=127.0.0.1:{node.ist};"
               "gcache.size=32M;evs.suspect_timeout=PT5S;evs.inactive_timeout=PT10S;pc.wait_prim_timeout=PT30S")
    return f"""[mariadbd]
user={USER}
datadir={d}/data
socket={d}/mysqld.sock
pid-file={d}/mysqld.pid
log-error={d}/error.log
port={node.port}
bind-address=127.0.0.1
skip-name-resolve
innodb_buffer_pool_size=64M
innodb_log_file_size=32M
performance_schema=OFF
max_connections=200
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
innodb_flush_log_at_trx_commit=2
wsrep_on=ON
wsrep_provider={PROVIDER}
wsrep_cluster_name=agno_alembic_test
wsrep_cluster_address=gcomm://{members}
wsrep_provider_options="{options}"
wsrep_node_address=127.0.0.1
wsrep_node_name=node{node.index}
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:{node.sst}
wsrep_slave_threads=2
"""


def _chown(path: Path) -> None:
    entry = pwd.getpwnam(USER)
    for p in [path, *path.rglob("*")]:
        with contextlib.suppress(FileNotFoundError):
            os.chown(p, entry.pw_uid, entry.pw_gid)


def _query(node: Node, sql: str, timeout: float = 10) -> str | None:
    """Run ``sql`` on ``node`` with the ``mariadb`` client; ``None`` when it does not answer."""
    client = shutil.which("mariadb") or shutil.which("mysql") or "mariadb"
    try:
        done = subprocess.run([client, "-h", "127.0.0.1", "-P", str(node.port), "-u", "root", "-N", "-B", "-e", sql],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def status(node: Node) -> dict[str, str]:
    out = _query(node, "SHOW GLOBAL STATUS WHERE Variable_name IN "
                       "('wsrep_cluster_size','wsrep_local_state_comment','wsrep_ready','wsrep_cluster_status')")
    if not out:
        return {}
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def _synced(node: Node, size: int) -> bool:
    s = status(node)
    return (s.get("wsrep_cluster_size") == str(size) and s.get("wsrep_local_state_comment") == "Synced"
            and s.get("wsrep_ready") == "ON")


def _spawn(cluster: Cluster, node: Node, *, new_cluster: bool) -> None:
    d = cluster.node_dir(node)
    args = [MARIADBD, f"--defaults-file={d}/my.cnf"] + (["--wsrep-new-cluster"] if new_cluster else [])
    with open(d / "stdout.log", "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    node.pid = proc.pid
    cluster.save()


def _wait(cluster: Cluster, nodes: list[Node], size: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        pending = [n for n in nodes if not _synced(n, size)]
        if not pending:
            return
        for n in pending:
            if n.pid is not None and not _alive(n.pid):
                raise RuntimeError(f"node{n.index} (pid {n.pid}) exited; its log:\n{_tail(cluster, n)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"node(s) {[n.index for n in pending]} not Synced in a cluster of {size} after "
                               f"{timeout:g}s; status {[status(n) for n in pending]}; log of the first:\n"
                               f"{_tail(cluster, pending[0])}")
        time.sleep(0.5)


def _tail(cluster: Cluster, node: Node, lines: int = 30) -> str:
    path = cluster.node_dir(node) / "error.log"
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of this process is not alive
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _install_db(node_dir: Path) -> None:
    """``mariadb-install-db`` into the first node's data directory; tried again on a clean directory when it fails
    (seen once under a loaded machine, not reproduced by hand), and the error names its output."""
    data = node_dir / "data"
    for attempt in range(1, INSTALL_ATTEMPTS + 1):
        done = subprocess.run([INSTALL_DB, f"--defaults-file={node_dir}/my.cnf",
                               "--auth-root-authentication-method=normal", "--skip-test-db", "--user=" + USER],
                              capture_output=True, text=True, timeout=300)
        if done.returncode == 0:
            return
        if attempt == INSTALL_ATTEMPTS:
            raise RuntimeError(f"mariadb-install-db failed {attempt} times (exit {done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-2000:]}")
        shutil.rmtree(data)
        data.mkdir()
        _chown(node_dir)
        time.sleep(1)


def start(root: str | None = None, *, timeout: float = 300.0) -> Cluster:
    """Start a 3-node cluster in ``root`` (a new temporary folder by default); stop it again if it fails.

    A node that exits because one of its ports was taken meanwhile is not a failure of the cluster: the start is
    tried again, up to :data:`PORT_ATTEMPTS` times, on new ports in a clean folder.
    """
    why = available()
    if why:
        raise RuntimeError(f"cannot start a Galera cluster here: {why}")
    for attempt in range(1, PORT_ATTEMPTS + 1):
        folder = root or tempfile.mkdtemp(prefix="agno-alembic-galera-")
        try:
            return _start(folder, timeout)
        except RuntimeError as exc:
            if PORT_TAKEN not in str(exc) or attempt == PORT_ATTEMPTS:
                raise
            print(f"galera: a port was taken before its node bound it; new ports (try {attempt + 1})",
                  file=sys.stderr)
    raise AssertionError("unreachable")


def _start(root: str, timeout: float) -> Cluster:
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o755)
    ports = _free_ports(12)
    cluster = Cluster(root, [Node(i + 1, *ports[4 * i:4 * i + 4]) for i in range(3)])
    try:
        for node in cluster.nodes:
            d = cluster.node_dir(node)
            (d / "data").mkdir(parents=True)
            (d / "my.cnf").write_text(_config(cluster, node))
            _chown(d)
        # one datadir made by mariadb-install-db, copied: the joiners get their state by SST anyway
        first = cluster.node_dir(cluster.nodes[0])
        _install_db(first)
        for node in cluster.nodes[1:]:
            d = cluster.node_dir(node) / "data"
            shutil.rmtree(d)
            shutil.copytree(first / "data", d)
            _chown(cluster.node_dir(node))
        began = time.monotonic()
        _spawn(cluster, cluster.nodes[0], new_cluster=True)
        _wait(cluster, cluster.nodes[:1], 1, timeout)
        for node in cluster.nodes[1:]:
            _spawn(cluster, node, new_cluster=False)
        _wait(cluster, cluster.nodes, 3, timeout)
        cluster.started_in = round(time.monotonic() - began, 1)
        cluster.save()
    except BaseException:
        stop(cluster)
        raise
    return cluster


def stop_node(cluster: Cluster, node: Node, *, kill: bool = False, timeout: float = 120.0) -> None:
    """Stop one node (``kill``: ``SIGKILL`` at once, as a crash) and wait until its process is gone."""
    if node.pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(node.pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(node.pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(node.pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
        time.sleep(0.2)
    node.pid = None
    cluster.save()


def restart_node(cluster: Cluster, node: Node, *, timeout: float = 300.0) -> None:
    """Start a stopped node again; it rejoins the cluster by state transfer (IST or SST).  Waits until Synced."""
    _spawn(cluster, node, new_cluster=False)
    live = [n for n in cluster.nodes if n.pid is not None]
    _wait(cluster, [node], len(live), timeout)


def stop(cluster: Cluster, *, remove: bool = True) -> None:
    """Stop every node (SIGTERM, then SIGKILL after a while); remove the folder unless ``remove=False``."""
    for node in cluster.nodes:
        if node.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(node.pid, signal.SIGTERM)
    for node in cluster.nodes:
        stop_node(cluster, node, timeout=60)
    if remove:
        shutil.rmtree(cluster.root, ignore_errors=True)


def _main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in ("start", "stop", "status"):
        print(__doc__)
        return 2
    if argv[1] == "start":
        cluster = start(argv[2] if len(argv) > 2 else None)
        print(f"# started in {cluster.started_in}s in {cluster.root}")
        print("AGNO_ALEMBIC_TEST_GALERA_URLS=" + ",".join(cluster.urls()))
        return 0
    if len(argv) < 3:
        print("usage: galera.py stop|status DIR", file=sys.stderr)
        return 2
    cluster = Cluster.load(argv[2])
    if argv[1] == "status":
        for node in cluster.nodes:
            print(node.index, node.port, node.pid, status(node))
        return 0
    stop(cluster)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
