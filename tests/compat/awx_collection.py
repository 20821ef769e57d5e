"""The real ``awx.awx`` Ansible collection (24.6.1), prepared on demand in a cache.

awx.awx 24.6.1 is not on PyPI by itself: it is bundled in the ``ansible==12.3.0``
package (reference/clients.md section 2.1).  ``ensure_awx_collection()`` downloads
that wheel once with ``pip download --no-deps``, extracts **only**
``ansible_collections/awx/awx/`` into ``<repo>/.cache/awx-collection/`` and drops
the 54 MB wheel.  A stamp file records what was extracted; an exclusive ``fcntl``
lock beside the cache serialises the build, so parallel pytest-xdist workers can
call it at once.  The collection runs on the ansible-core already installed in the
interpreter running us (``ansible-core~=2.19.5`` is what ansible 12.3.0 requires).

``collection_env(controller, ...)`` is the environment for ``ansible-playbook`` /
``ansible-inventory`` processes: CONTROLLER_HOST/USERNAME/PASSWORD for the modules
(``module_defaults: group/awx.awx.controller`` does not resolve under ansible-core
2.19 when a play mixes in builtin tasks, so the env is the way),
ANSIBLE_COLLECTIONS_PATH=<cache>, ANSIBLE_PYTHON_INTERPRETER=<this python>
(interpreter discovery can otherwise pick a python without ansible), and a private
ANSIBLE_HOME so nothing from the developer's ~/.ansible or shell leaks in.

Run ``python -m tests.compat.awx_collection`` to prepare the cache ahead of time; it
prints the collections path and the build time.

No pytest import here: the module is usable from scripts too.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import yaml

ANSIBLE_PACKAGE = "ansible==12.3.0"
COLLECTION_VERSION = "24.6.1"
_MEMBER_PREFIX = "ansible_collections/awx/awx/"

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache"
COLLECTION_CACHE = CACHE_DIR / "awx-collection"
_STAMP_NAME = ".turret-awx-collection-stamp.json"

# Variables through which the collection (or ansible) would pick up a host,
# credentials or config on its own; removed so a developer's shell cannot leak in.
_CLIENT_ENV_PREFIXES = ("CONTROLLER_", "TOWER_", "AWXKIT_", "ANSIBLE_")

# Seconds the last build took in this process (None: the cache was already there).
last_build_seconds: float | None = None


def _stamp_data() -> dict:
    return {"package": ANSIBLE_PACKAGE, "collection": "awx.awx", "version": COLLECTION_VERSION}


def _collection_dir(cache: Path) -> Path:
    return cache / "ansible_collections" / "awx" / "awx"


def _read_stamp(cache: Path) -> dict | None:
    try:
        return json.loads((cache / _STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None


def _is_ready(cache: Path) -> bool:
    return (
        _read_stamp(cache) == _stamp_data()
        and (_collection_dir(cache) / "MANIFEST.json").is_file()
        and (_collection_dir(cache) / "plugins" / "module_utils" / "controller_api.py").is_file()
    )


def _run_checked(cmd: list[str], what: str, timeout: float) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )


def _build(cache: Path, timeout: float) -> None:
    shutil.rmtree(cache, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="awx-collection-", dir=cache.parent) as tmp:
        tmp_path = Path(tmp)
        _run_checked(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             "--disable-pip-version-check", "--only-binary=:all:", "-d", str(tmp_path / "dl"),
             ANSIBLE_PACKAGE],
            f"pip download {ANSIBLE_PACKAGE}", timeout,
        )
        wheels = sorted((tmp_path / "dl").glob("ansible-*.whl"))
        if len(wheels) != 1:
            raise RuntimeError(f"expected one ansible wheel, got {wheels}")
        staging = tmp_path / "staging"
        with zipfile.ZipFile(wheels[0]) as zf:
            members = [m for m in zf.infolist() if m.filename.startswith(_MEMBER_PREFIX)]
            if not members:
                raise RuntimeError(f"{wheels[0].name} holds no {_MEMBER_PREFIX}")
            for m in members:
                # The prefix check plus this keeps every member inside staging.
                if ".." in Path(m.filename).parts or m.filename.startswith("/"):
                    raise RuntimeError(f"unsafe member {m.filename!r} in {wheels[0].name}")
                zf.extract(m, staging)
        manifest = json.loads((_collection_dir(staging) / "MANIFEST.json").read_text())
        version = manifest["collection_info"]["version"]
        if version != COLLECTION_VERSION:
            raise RuntimeError(f"{wheels[0].name} bundles awx.awx {version}, wanted {COLLECTION_VERSION}")
        (staging / _STAMP_NAME).write_text(json.dumps(_stamp_data(), indent=2) + "\n")
        staging.replace(cache)  # same filesystem: an atomic rename of the whole tree


def ensure_awx_collection(cache: Path | str | None = None, timeout: float = 600) -> Path:
    """Return the directory to put in ANSIBLE_COLLECTIONS_PATH (it holds
    ``ansible_collections/awx/awx``), building the cache if needed."""
    global last_build_seconds
    cache = Path(cache) if cache is not None else COLLECTION_CACHE
    if _is_ready(cache):
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    # The lock lives beside the cache so the cache itself can be deleted freely.
    lock_path = cache.parent / (cache.name + ".lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _is_ready(cache):  # another process may have built it meanwhile
                started = time.monotonic()
                _build(cache, timeout)
                last_build_seconds = time.monotonic() - started
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return cache


def ansible_bin(name: str) -> str:
    """``ansible-playbook``/``ansible-inventory``… of the ansible-core running us."""
    path = Path(sys.executable).parent / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def collection_env(controller: Any, home: Path | str, env: dict[str, str] | None = None,
                   *, username: str | None = None, password: str | None = None,
                   token: str | None = None) -> dict[str, str]:
    """The environment for an ansible process that uses awx.awx against ``controller``
    (anything with ``url``, ``admin_username``, ``admin_password``).

    ``home`` is a scratch directory (ANSIBLE_HOME, HOME, temp dirs).  Credentials
    default to the admin's username/password (the collection then mints a token per
    module run); ``token`` gives CONTROLLER_OAUTH_TOKEN instead.
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    out = {k: v for k, v in os.environ.items() if not k.startswith(_CLIENT_ENV_PREFIXES)}
    out.update({
        "LANG": "C.UTF-8",
        "HOME": str(home),  # no ~/.tower_cli.cfg, ~/.ansible from the developer
        "ANSIBLE_HOME": str(home / ".ansible"),
        "ANSIBLE_LOCAL_TEMP": str(home / ".ansible" / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(home / ".ansible" / "remote_tmp"),
        "ANSIBLE_CONFIG": str(home / "ansible.cfg.none"),  # no ansible.cfg from cwd or /etc
        "ANSIBLE_COLLECTIONS_PATH": str(ensure_awx_collection()),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "CONTROLLER_HOST": controller.url,
        "CONTROLLER_VERIFY_SSL": "false",
    })
    if token is not None:
        out["CONTROLLER_OAUTH_TOKEN"] = token
    else:
        out["CONTROLLER_USERNAME"] = username if username is not None else controller.admin_username
        out["CONTROLLER_PASSWORD"] = password if password is not None else controller.admin_password
    out.update(env or {})
    return out


def run_ansible(tool: str, *args: str, env: dict[str, str], cwd: Path | str,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``ansible-<tool>`` (e.g. ``playbook``, ``inventory``) and capture text output.
    Never raises on a non-zero exit: check ``returncode``."""
    cmd = [ansible_bin(f"ansible-{tool}"), *[str(a) for a in args]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=str(cwd), stdin=subprocess.DEVNULL)


def describe(proc: subprocess.CompletedProcess, tail: int = 30000) -> str:
    """The command, exit code and output (tail), for assertion messages."""
    return (
        f"$ {' '.join(map(str, proc.args))}\nexit code {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-tail:]}\n--- stderr ---\n{proc.stderr[-tail:]}"
    )


def run_plays(controller: Any, work: Path, tag: str, plays: list[dict], timeout: float = 300
              ) -> subprocess.CompletedProcess:
    """Write ``plays`` to ``work/play-<tag>.yml`` and run it on ``localhost,`` with the
    collection's environment for ``controller``; the run must succeed (AssertionError with its
    output otherwise)."""
    path = work / f"play-{tag}.yml"
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    proc = run_ansible("playbook", "-i", "localhost,", str(path), env=collection_env(controller, work / "home"),
                       cwd=work, timeout=timeout)
    assert proc.returncode == 0, describe(proc)
    return proc


def run_play(controller: Any, work: Path, tag: str, tasks: list[dict], name: str = "", timeout: float = 300
             ) -> subprocess.CompletedProcess:
    """:func:`run_plays` of one local play (no facts) named ``name`` (default ``tag``) of ``tasks``."""
    play = {"name": name or tag, "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}
    return run_plays(controller, work, tag, [play], timeout)


# the suite's results_json callback (tests/collection/callback_plugins): one JSON line per task result
CALLBACKS = Path(__file__).resolve().parents[1] / "collection" / "callback_plugins"


def run_recorded(controller: Any, work: Path, tag: str, tasks: list[dict], timeout: float = 600,
                 ignore_errors: bool = True) -> tuple[dict[str, dict], subprocess.CompletedProcess]:
    """Run ``tasks`` as one local play on ``localhost,`` (written to ``work/play-<tag>.yml``),
    recording each task's result through the ``results_json`` callback: ``({task name: result},
    the run)``.  With ``ignore_errors`` the play goes on past a failed task (the caller asserts
    on the results); every task must have reported, else AssertionError with the run's output."""
    play = {"name": f"awx.awx {tag}", "hosts": "localhost", "connection": "local", "gather_facts": False,
            "tasks": tasks, **({"ignore_errors": True} if ignore_errors else {})}
    path = work / f"play-{tag}.yml"
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    out = work / f"results-{tag}.jsonl"
    env = collection_env(controller, work / "home", {
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS), "ANSIBLE_CALLBACKS_ENABLED": "results_json",
        "RESULTS_JSON": str(out)})
    proc = run_ansible("playbook", "-i", "localhost,", str(path), env=env, cwd=work, timeout=timeout)
    lines = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    got = {line["task"]: line["result"] for line in lines}
    assert len(got) == len(tasks), "the playbook did not finish\n" + describe(proc)
    return got, proc


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    path = ensure_awx_collection()
    took = time.monotonic() - started
    print(f"{path} (awx.awx {COLLECTION_VERSION} from {ANSIBLE_PACKAGE}; "
          f"{'built' if last_build_seconds is not None else 'cached'} in {took:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
