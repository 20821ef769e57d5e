"""The real AWX clients, installed on demand into a cached virtualenv.

``ensure_awx_cli()`` builds ``<repo>/.cache/clients-venv`` with the pinned
``awxkit`` (the ``awx`` CLI) the first time it is needed and reuses it while the
pinned requirement set and the interpreter stay the same.  Several pytest-xdist
workers may call it at once: an exclusive ``fcntl`` lock serialises the build.

``awx_cli(host, *args, ...)`` runs that CLI against a controller and returns the
``subprocess.CompletedProcess`` with text output.

``AwxCli(controller)`` wraps it for tests: ``.json(*args)`` runs with ``-f json`` and
returns the parsed output, ``.fails(*args)`` expects a non-zero exit code.

Run ``python -m tests.compat.clients`` (or ``./dev clients``) to prepare the
environment ahead of time; it prints the path of the ``awx`` executable.

No pytest import here: the module is usable from scripts too.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

# awxkit 24.6.1 imports pkg_resources, which setuptools >= 81 no longer ships
# (reference/clients.md section 1.1), hence the second pin.
AWX_CLI_REQUIREMENTS: tuple[str, ...] = ("awxkit==24.6.1", "setuptools<81")

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache"
CLIENTS_VENV = CACHE_DIR / "clients-venv"
_STAMP_NAME = ".turret-clients-stamp.json"

# Variables through which awxkit picks up a host or credentials on its own; they
# are removed from the CLI's environment so a developer's shell cannot leak in.
_CLIENT_ENV_PREFIXES = ("CONTROLLER_", "TOWER_", "AWXKIT_")


def _stamp_data() -> dict:
    return {
        "requirements": sorted(AWX_CLI_REQUIREMENTS),
        "python": ".".join(map(str, sys.version_info[:3])),
    }


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _read_stamp(venv: Path) -> dict | None:
    try:
        return json.loads((venv / _STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None


def _is_ready(venv: Path) -> bool:
    return (
        _read_stamp(venv) == _stamp_data()
        and _venv_python(venv).exists()
        and (venv / "bin" / "awx").exists()
    )


def _run_checked(cmd: list[str], what: str, timeout: float) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )


def _build(venv: Path, timeout: float) -> None:
    shutil.rmtree(venv, ignore_errors=True)
    # Same interpreter as the one running us (a venv's python creates a venv on
    # its base interpreter).
    _run_checked([sys.executable, "-m", "venv", str(venv)], "creating the clients venv", timeout)
    _run_checked(
        [
            str(_venv_python(venv)), "-m", "pip", "install",
            "--quiet", "--disable-pip-version-check",
            *AWX_CLI_REQUIREMENTS,
        ],
        "installing " + " ".join(AWX_CLI_REQUIREMENTS),
        timeout,
    )
    awx = venv / "bin" / "awx"
    _run_checked([str(awx), "--version"], "running the freshly installed awx CLI", 60)
    tmp = venv / (_STAMP_NAME + ".tmp")
    tmp.write_text(json.dumps(_stamp_data(), indent=2) + "\n")
    tmp.replace(venv / _STAMP_NAME)


def ensure_awx_cli(venv: Path | str | None = None, timeout: float = 900) -> Path:
    """Return the path of the ``awx`` executable, building its venv if needed."""
    venv = Path(venv) if venv is not None else CLIENTS_VENV
    if _is_ready(venv):
        return venv / "bin" / "awx"
    venv.parent.mkdir(parents=True, exist_ok=True)
    # The lock lives beside the venv so the venv itself can be deleted freely.
    lock_path = venv.parent / (venv.name + ".lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _is_ready(venv):  # another process may have built it meanwhile
                _build(venv, timeout)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return venv / "bin" / "awx"


def client_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a client process: ours without CONTROLLER_*/TOWER_*, plus ``env``."""
    out = {k: v for k, v in os.environ.items() if not k.startswith(_CLIENT_ENV_PREFIXES)}
    out.setdefault("LANG", "C.UTF-8")
    out["ANSI_COLORS_DISABLED"] = "1"  # awx colours create/modify output otherwise
    # awxkit warns about pkg_resources on import; keep stderr for real errors.
    out["PYTHONWARNINGS"] = "ignore::DeprecationWarning,ignore::UserWarning"
    out.update(env or {})
    return out


def awx_cli(
    host: str,
    *args: str,
    username: str | None = None,
    password: str | None = None,
    token: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """Run ``awx --conf.host HOST [credentials] ARGS...`` and capture its text output.

    ``token`` gives ``--conf.token`` (Bearer); otherwise ``username``/``password``
    give ``--conf.username``/``--conf.password`` (session login, or Basic for
    ``awx login``).  Never raises on a non-zero exit: check ``returncode``.
    """
    cmd: list[str] = [str(ensure_awx_cli()), "--conf.host", host]
    if token is not None:
        cmd += ["--conf.token", token]
    if username is not None:
        cmd += ["--conf.username", username]
    if password is not None:
        cmd += ["--conf.password", password]
    cmd += [str(a) for a in args]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout,
        env=client_env(env), stdin=subprocess.DEVNULL,
    )


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def unique(prefix: str) -> str:
    """A name no other test (or rerun) on a shared server will use."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def describe(proc: subprocess.CompletedProcess) -> str:
    """The command (secrets masked), exit code and output, for assertion messages."""
    cmd = [str(a) for a in proc.args]
    for flag in ("--conf.password", "--conf.token"):
        if flag in cmd[:-1]:
            cmd[cmd.index(flag) + 1] = "***"
    return (
        f"$ {' '.join(cmd)}\nexit code {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    )


# The start of a script run with awxkit itself (the library under the CLI) in the clients venv:
# sys.argv[1:4] are the controller's URL, user and password; ``v2`` is then the API's root page.
AWXKIT_PRELUDE = """\
import json, sys
from awxkit import api, config, utils
config.base_url = sys.argv[1]
config.client_connection_attempts = 1
config.credentials = utils.PseudoNamespace({"default": {"username": sys.argv[2], "password": sys.argv[3]}})
root = api.Api()
root.load_session().get()
v2 = root.get().available_versions.v2.get()
"""


def run_awxkit(controller: Any, script: str, *args: str) -> Any:
    """Run ``script`` after :data:`AWXKIT_PRELUDE` as the controller's admin (``args`` follow the
    prelude's three); the JSON the script prints on its last line."""
    proc = subprocess.run([str(CLIENTS_VENV / "bin" / "python"), "-c", AWXKIT_PRELUDE + script, controller.url,
                           controller.admin_username, controller.admin_password, *args],
                          capture_output=True, text=True, timeout=120, env=client_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


class AwxCli:
    """The real ``awx`` CLI bound to one controller (anything with ``url``,
    ``admin_username`` and ``admin_password``, e.g. the ``controller`` fixture).

    Credentials default to the admin's username/password (session login); pass
    ``token=`` for Bearer auth or ``username=``/``password=`` for another user.
    """

    def __init__(self, controller: Any) -> None:
        self.controller = controller

    def run(self, *args: str, token: str | None = None, username: str | None = None,
            password: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        if token is None and username is None:
            username, password = self.controller.admin_username, self.controller.admin_password
        return awx_cli(self.controller.url, *args, username=username, password=password,
                       token=token, env=env, timeout=timeout)

    def json(self, *args: str, **kwargs: Any) -> Any:
        """Run with ``-f json``, require exit code 0 and return the parsed output."""
        proc = self.run("-f", "json", *args, **kwargs)
        assert proc.returncode == 0, describe(proc)
        out = _ANSI.sub("", proc.stdout).strip()
        try:
            return json.loads(out)
        except ValueError:
            raise AssertionError("awx did not print JSON\n" + describe(proc)) from None

    def fails(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
        """Run with ``-f json`` and require a non-zero exit code."""
        proc = self.run("-f", "json", *args, **kwargs)
        assert proc.returncode != 0, "expected a failure\n" + describe(proc)
        return proc


def main(argv: list[str] | None = None) -> int:
    awx = ensure_awx_cli()
    version = subprocess.run(
        [str(awx), "--version"], capture_output=True, text=True, env=client_env()
    ).stdout.strip()
    print(f"{awx} (awxkit {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
