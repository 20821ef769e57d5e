"""Per-process figures from ``/proc``, for the benchmarks' servers and the processes they start:
the process tree (a pid and everything below it), command lines, CPU seconds, RSS and PSS.

Linux only; every reader returns an empty / zero / NaN figure once the process is gone rather
than raising, since the processes measured come and go during a run.  ``bench/harness.py``
re-exports these names, so benchmarks reach them as ``harness.<name>``.
"""
from __future__ import annotations

import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (children of all its threads, recursively)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (of any of its threads); [] once it is gone."""
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return out


def cmdline(pid: int) -> str:
    """The process's command line, its arguments joined by spaces ("" once it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def rss_kb(pid: int, key: str = "VmRSS") -> int:
    """Sum of the ``/proc/<pid>/status`` figure ``key`` (kB) over the process and its descendants."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def pss_kb(pid: int) -> int:
    """Proportional set size (kB) of the process and its descendants: pages shared by forked
    web workers (copy-on-write) count once over the tree, not once per process as RSS does."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def cpu_seconds(pid: int, with_children: bool = False) -> float:
    """utime + stime of the process (all its threads), plus those of its reaped children
    (e.g. finished ansible runs) when ``with_children``; NaN once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if with_children else 0)
    return ticks / CLK_TCK
