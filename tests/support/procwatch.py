"""Sampling of every process's command line while something runs: ``/proc/<pid>/cmdline`` is
readable by every user of the machine, so a secret must never be in one."""
from __future__ import annotations

import os
import threading
import time


class CmdlineWatch:
    """Samples every process's command line while a job runs, looking for ``needle`` (one
    string or several); ``witness`` (a string the watched command lines do carry) proves the
    sampling sees them."""

    def __init__(self, needle: bytes | tuple[bytes, ...], witness: bytes = b"") -> None:
        self.needles = needle if isinstance(needle, tuple) else (needle,)
        self.witness, self.hits, self.samples, self.witnessed = witness, [], 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()

    def poll(self) -> None:
        while not self.stop.is_set():
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as fh:
                        cmd = fh.read()
                except OSError:
                    continue
                if any(n in cmd for n in self.needles):
                    self.hits.append(cmd.replace(b"\0", b" ").decode(errors="replace"))
                if self.witness and self.witness in cmd:
                    self.witnessed += 1
            self.samples += 1
            time.sleep(0.005)

    def done(self) -> list[str]:
        self.stop.set()
        self.thread.join(5)
        return self.hits
