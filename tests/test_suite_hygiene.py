"""The suite cleans up after itself: a process a test leaves running fails the run and is killed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

LEAKING_TEST = '''
import subprocess


def test_leaves_a_process_behind(tmp_path):
    process = subprocess.Popen(["sleep", "600"], start_new_session=True)
    (tmp_path.parent.parent / "leaked.pid").write_text(str(process.pid))
'''


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_process_left_running_fails_the_run_and_is_killed(tmp_path):
    (tmp_path / "test_leak.py").write_text(LEAKING_TEST)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider",
                          "--basetemp", str(tmp_path / "base"), str(tmp_path / "test_leak.py")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    pid = int((tmp_path / "leaked.pid").read_text())
    assert run.returncode != 0, run.stdout
    assert "outlived the tests" in run.stdout
    assert "sleep 600" in run.stdout
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def test_the_run_passes_when_nothing_is_left(tmp_path):
    (tmp_path / "test_clean.py").write_text("def test_nothing():\n    assert True\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider",
                          str(tmp_path / "test_clean.py")], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout
