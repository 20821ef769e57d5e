"""The processes of a run, found through ``/proc``: ended after the run, or after a
controller died mid-run.

Contract: every process of a run carries ``AWX_ISOLATED_DATA_DIR`` (set by ansible-runner to
the run's artifact dir, made absolute) in its environment; a process group would not do, as
ansible's workers and ``async`` tasks call ``setsid`` and leave the group.  Ending is SIGTERM,
a moment for a clean exit, then SIGKILL.  Linux only (``/proc``); no ansible-runner needed.
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path
from typing import Callable


def sweep(artifact_dir: str) -> int:
    """SIGTERM then SIGKILL every process still carrying this run's marker variable.  The
    path is normalized as ansible-runner normalizes it (``abspath``) before it sets the
    variable: compared as given, a relative or ``..`` path would match no process."""
    marker = f"AWX_ISOLATED_DATA_DIR={os.path.abspath(artifact_dir)}".encode()
    return _signal_all(_processes_with(lambda env: marker in env))


def sweep_leftovers(root: Path, ident: str) -> int:
    """After a controller died: end every process of run ``ident`` and remove its folders
    (``<root>/<ident>-*``: the run dir with its secrets, a job's credential work dir).  Every
    process of a run carries an ``AWX_ISOLATED_DATA_DIR`` inside ``<root>/<ident>-<hex>/``,
    whatever its artifact dir's name.  Returns the processes ended."""
    prefix = f"AWX_ISOLATED_DATA_DIR={os.path.abspath(root)}/{ident}-".encode()
    ended = _signal_all(_processes_with(lambda env: any(e.startswith(prefix) for e in env)))
    for folder in Path(root).glob(f"{ident}-*"):
        shutil.rmtree(folder, ignore_errors=True)
    return ended


def _signal_all(victims: list[int]) -> int:
    """SIGTERM, a moment for a clean exit, then SIGKILL; returns how many were signalled."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in victims:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        if sig == signal.SIGTERM and victims:
            time.sleep(0.2)
    return len(victims)


def _processes_with(match: Callable[[list[bytes]], bool]) -> list[int]:
    """Pids (other than this process) whose environment entries satisfy ``match``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
        except OSError:
            continue
        if match(env):
            found.append(int(entry))
    return found
