"""The suite runs under pytest-xdist: what workers share is built once, behind a lock across processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from tests import agno_harness
from tests.golden import generate

_TRY_LOCK = """
import fcntl, sys
with open(sys.argv[1], "a+b") as f:
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(3)
"""


def _other_process_can_lock(path) -> bool:
    proc = subprocess.run([sys.executable, "-c", _TRY_LOCK, str(path)], check=False, timeout=60)
    assert proc.returncode in (0, 3), proc
    return proc.returncode == 0


def test_the_file_lock_excludes_other_processes_until_released(tmp_path):
    path = tmp_path / "venvs" / "agno-x.lock"
    with generate._file_lock(path):
        assert path.exists()
        assert not _other_process_can_lock(path)
    assert _other_process_can_lock(path)


def test_ensure_venv_waits_for_the_process_building_the_venv():
    release = agno_harness.AGNO_LATEST
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(generate.ensure_venv(release)), daemon=True)
    with generate.venv_lock(release):  # as if another worker were building it (or installing into it) right now
        worker.start()
        time.sleep(1.5)
        assert worker.is_alive() and not result, "ensure_venv went on while another process held the venv's lock"
    worker.join(600)
    assert not worker.is_alive()
    (python,) = result
    assert generate.installed_agno(python) == release
