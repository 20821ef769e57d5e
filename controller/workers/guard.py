"""The guard of one remote run: ends the run's whole process tree when its worker goes away.

``python <path of guard.py> <pgid> <run dir>`` is started by the ``turret.run_job``
task right after ``ansible-runner worker`` (which runs in a session of its own, so Celery
never signals it).  The guard blocks reading its stdin, a pipe whose only writer is the task's
process: the read returns end-of-file when the task closes it (the run ended) or when that
process dies in any way, SIGKILL included.  Then the guard SIGTERMs the process group, waits
a moment, SIGKILLs it, and ends every process whose ``AWX_ISOLATED_DATA_DIR`` lies inside the
run dir (ansible's workers and ``async`` tasks call ``setsid`` and leave the group).  Nothing
is imported beyond the standard library: the guard must start in milliseconds.
"""
from __future__ import annotations

import os
import signal
import sys
import time

GRACE = 2.0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except OSError:
        return False


def end_group(pgid: int) -> None:
    """SIGTERM process group ``pgid``, SIGKILL what is left after ``GRACE`` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def marked(run_dir: str) -> list[int]:
    """Pids (not this one) whose environment has ``AWX_ISOLATED_DATA_DIR`` inside ``run_dir``."""
    prefix = f"AWX_ISOLATED_DATA_DIR={os.path.abspath(run_dir)}/".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
        except OSError:
            continue
        if any(e.startswith(prefix) for e in env):
            found.append(int(entry))
    return found


def sweep(run_dir: str) -> int:
    """SIGTERM, then SIGKILL, every process of the run; returns how many there were."""
    victims = marked(run_dir)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in victims:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        if sig == signal.SIGTERM and victims:
            time.sleep(0.2)
    return len(victims)


def main(argv: list[str]) -> int:
    pgid, run_dir = int(argv[0]), argv[1]
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # a ^C to the worker's terminal is not our end
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    end_group(pgid)
    sweep(run_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
