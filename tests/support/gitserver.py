"""A real git server for tests: bare repositories served by ``git daemon`` on 127.0.0.1."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

_GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
            "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=_GIT_ENV, check=True, capture_output=True,
                          text=True).stdout.strip()


class GitServer:
    """Serves every bare repository under ``base`` at git://127.0.0.1:<port>/<name>."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.work = base / "_work"
        self.work.mkdir(parents=True, exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            ["git", "daemon", f"--base-path={base}", "--export-all", "--reuseaddr", "--listen=127.0.0.1",
             f"--port={self.port}", str(base)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("git daemon did not start")

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def create(self, name: str, files: dict[str, str], branch: str = "main") -> str:
        """A new repository with one commit of ``files``; returns that commit's sha."""
        bare = self.base / name
        git(self.base, "init", "-q", "--bare", "-b", branch, str(bare))
        clone = self.work / name
        git(self.work, "clone", "-q", str(bare), str(clone))
        git(clone, "checkout", "-q", "-b", branch)
        return self.commit(name, files, branch)

    def commit(self, name: str, files: dict[str, str], branch: str = "main") -> str:
        clone = self.work / name
        git(clone, "checkout", "-q", "-B", branch)
        for rel, text in files.items():
            path = clone / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git(clone, "add", "-A")
        git(clone, "commit", "-q", "-m", f"update {', '.join(files)}")
        git(clone, "push", "-q", "origin", f"{branch}:{branch}")
        return git(clone, "rev-parse", "HEAD")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
