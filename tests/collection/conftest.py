"""Helpers for the collection tests: run real ``ansible-playbook`` subprocesses against the
live ``controller`` fixture (tests/conftest.py) and read back every task's registered result.

``run_tasks(controller, tasks, tmp_path)`` wraps ``tasks`` in a localhost play whose
``module_defaults`` (group/turret.controller.controller) point at the controller, runs each
with ``ignore_errors`` and returns ``Play(results, stdout, stderr, rc)``: every task's result,
written by the test-only ``results_json`` callback (callback_plugins/).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PLAYBOOK_TIMEOUT = 300


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sanity: runs ansible-test sanity (slow when its venvs are cold)")


@dataclass
class Play:
    results: list[dict]
    stdout: str
    stderr: str
    rc: int

    def __getitem__(self, i: int) -> dict:
        return self.results[i]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def ansible_env(workdir: Path, collections_path: Path | str = REPO, **extra: str) -> dict[str, str]:
    """A hermetic environment for ansible-* commands: no connection settings leak in."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TURRET_", "CONTROLLER_", "TOWER_", "ANSIBLE_"))}
    home = workdir / "ansible-home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        ANSIBLE_DEPRECATION_WARNINGS="False",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_REMOTE_TMP=str(home / "remote-tmp"),
        ANSIBLE_PIPELINING="True",
        ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).parent / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="results_json",
        LANG="C.UTF-8",
    )
    env.update(extra)
    return env


def connection(controller: Any) -> dict[str, Any]:
    return {"controller_host": controller.url, "controller_username": controller.admin_username,
            "controller_password": controller.admin_password}


def run_playbook(args: list[str], workdir: Path, env: dict[str, str] | None = None,
                 timeout: float = PLAYBOOK_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "ansible-playbook"), *args], cwd=workdir, env=env or ansible_env(workdir),
                          capture_output=True, text=True, timeout=timeout)


def run_tasks(controller: Any, tasks: list[dict], workdir: Path, *, defaults: bool = True,
              env: dict[str, str] | None = None, play_vars: dict | None = None) -> Play:
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "results.jsonl"
    if out.exists():
        out.unlink()
    body = [dict(t, ignore_errors=True, register=f"r{i}", name=f"task{i}") for i, t in enumerate(tasks)]
    play: dict[str, Any] = {"name": "test", "hosts": "localhost", "connection": "local", "gather_facts": False,
                            "tasks": body}
    if defaults:
        play["module_defaults"] = {"group/turret.controller.controller": connection(controller)}
    if play_vars:
        play["vars"] = play_vars
    path = workdir / "play.yml"
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    env = dict(env or ansible_env(workdir))
    env["RESULTS_JSON"] = str(out)
    proc = run_playbook([str(path)], workdir, env)
    lines = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    results = [line["result"] for line in lines]
    assert len(results) == len(tasks), \
        f"playbook did not finish (rc {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return Play(results, proc.stdout, proc.stderr, proc.returncode)


@pytest.fixture
def play(controller, tmp_path):
    """``play(tasks)`` -> :class:`Play` against this module's controller."""
    counter = iter(range(1000))

    def _run(tasks: list[dict], **kwargs: Any) -> Play:
        return run_tasks(controller, tasks, tmp_path / f"play{next(counter)}", **kwargs)
    return _run


def failed_cleanly(result: dict, *fragments: str) -> None:
    """A module failure that carries the server's message, not a traceback."""
    assert result.get("failed"), result
    msg = result.get("msg", "")
    assert "Traceback" not in msg and "MODULE FAILURE" not in msg, result
    assert "Traceback" not in str(result.get("exception", "")), result
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)
