"""Lint and type baselines of the controller stay clean (issue 12, item 9).

``ruff check controller bench`` and ``mypy controller`` run with the configuration in
pyproject.toml (``[tool.ruff]``, ``[tool.mypy]``), through the Python that runs the tests, so
they use the versions the ``test`` extras installed.  A finding fails the test with the tool's
own report; fix the code (or, for a real false positive, add a narrow ``# noqa: CODE`` /
``# type: ignore[code]`` that says why).

Both are quick enough for the fast tier: ruff well under a second, mypy about 4 s on a cold
cache (``.cache/mypy``) and 1 s on a warm one.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(module: str, *args: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec(module) is None:
        pytest.fail(f"{module} is not installed: pip install -e '.[test]'")
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_ruff_finds_nothing():
    done = _run("ruff", "check", "controller", "bench")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing():
    done = _run("mypy", "controller")
    assert done.returncode == 0, done.stdout + done.stderr
