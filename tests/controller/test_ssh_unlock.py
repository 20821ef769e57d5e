"""A passphrase-protected SSH key (``ssh_key_unlock``) on a controller whose data dir path is
long (issue 11).

ansible-runner answers prompts by matching only the last 100 characters of output, and
``ssh-add <path>`` used to prompt with the key's full path inside the run dir: past ~30
characters of data dir the prompt never matched and the job hung until its timeout.  Real
keys made by ``ssh-keygen``, real jobs, a data dir path longer than 120 characters.  The same
holds for the runner a ``turret worker`` starts (``executor_agent``), fed a real transmit
stream here; with a real broker and worker: test_scaleout_ssh_unlock.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from controller import create_app, open_state
from controller.config import Settings
from controller.jobs import executor
from controller.jobs.spec import RunSpec
from controller.services.bootstrap import initialize
from controller.workers import task
from tests.support.jobs import (
    attach_credential, launch, make_credential, make_inventory, make_jt, make_org, make_project, strip_ansi,
    type_id, wait_job,
)

from conftest import ADMIN_PASSWORD, Client  # tests/controller/conftest.py (rootdir-less import)

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: reached the play\n      debug: msg=unlocked\n"
PASSPHRASE = "correct horse battery"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(admin client, data dir) of a controller on a data dir path of more than 120 characters."""
    data = tmp_path_factory.mktemp("long-data-dir-" + "d" * 60) / ("nested-" + "n" * 50)
    assert len(str(data)) > 120
    state = open_state(Settings({"DATA_DIR": str(data)}, environ={}))
    initialize(state, ADMIN_PASSWORD, demo=False)
    state.start_jobs(workers=2)
    yield Client(create_app(state=state), "admin", ADMIN_PASSWORD), Path(state.settings.data_dir)
    state.stop_jobs()
    state.store.close()


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> str:
    """An ed25519 private key encrypted with PASSPHRASE (ssh-keygen's default OpenSSH format)."""
    path = tmp_path_factory.mktemp("key") / "id_test"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", PASSPHRASE, "-C", "turret-test", "-f", str(path)],
                   check=True)
    return path.read_text()


@pytest.fixture(scope="module")
def setup(env):
    admin, data = env
    org = make_org(admin)
    return {"org": org, "inv": make_inventory(admin, org, ["h1"]),
            "project": make_project(admin, data, org, {"play.yml": PLAY})}


def run_with_key(admin, setup, inputs: dict, body: dict | None = None) -> tuple[dict, str, float]:
    cred = make_credential(admin, setup["org"], type_id(admin, "ssh"), {"username": "deployer", **inputs})
    # the job timeout is the old symptom's bound: the test wants an answer long before it
    jt = make_jt(admin, setup["project"], setup["inv"], "play.yml", timeout=60)
    attach_credential(admin, jt, cred)
    started = time.monotonic()
    job = wait_job(admin, launch(admin, jt, body)["id"], timeout=45)
    elapsed = time.monotonic() - started
    text = strip_ansi(admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=txt").data.decode())
    return job, text, elapsed


def test_encrypted_key_unlocks_with_a_long_data_dir(env, setup, key):
    admin, _data = env
    job, text, elapsed = run_with_key(admin, setup, {"ssh_key_data": key, "ssh_key_unlock": PASSPHRASE})
    assert job["status"] == "successful", (job["job_explanation"], text)
    assert "TASK [reached the play]" in text and "unlocked" in text
    assert elapsed < 30
    assert PASSPHRASE not in text and PASSPHRASE not in job["job_args"]


def test_passphrase_asked_at_launch(env, setup, key):
    admin, _data = env
    job, text, _elapsed = run_with_key(admin, setup, {"ssh_key_data": key, "ssh_key_unlock": "ASK"},
                                       {"credential_passwords": {"ssh_key_unlock": PASSPHRASE}})
    assert job["status"] == "successful", (job["job_explanation"], text)
    assert "TASK [reached the play]" in text


def test_wrong_passphrase_fails_instead_of_hanging(env, setup, key):
    admin, _data = env
    job, text, elapsed = run_with_key(admin, setup, {"ssh_key_data": key, "ssh_key_unlock": "not the passphrase"})
    assert job["status"] == "failed", (job["job_explanation"], text)
    assert "timeout" not in job["job_explanation"].lower()
    assert "TASK [reached the play]" not in text      # ssh-add gave up before ansible-playbook started
    assert elapsed < 30


# -- a turret worker's half (no broker needed): the transmit stream fed to the worker's runner --
def _worker_run(tmp_path: Path, key: str, unlock: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """``executor.transmit`` of a one-host playbook with ``key``, fed to the command a
    ``turret worker`` runs (``task.runner_worker_command``) in a run dir of more than 120
    characters; (the process, its output frames)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "play.yml").write_text(PLAY)
    spec = RunSpec(ident="job-1", playbook="play.yml", project_dir=str(project), timeout=40,
                   inventory={"all": {"hosts": {"h1": {"ansible_connection": "local"}}}},
                   ssh_key=key, ssh_key_unlock=unlock, secrets=[unlock])
    payload, _env = executor.transmit(spec, tmp_path / "controller")
    run_dir = tmp_path / ("worker-" + "w" * 60) / ("job-1-" + "r" * 50)
    run_dir.mkdir(parents=True)
    assert len(str(run_dir)) > 120
    stream, _pattern = task.localize(payload, run_dir)
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    proc = subprocess.run([*task.runner_worker_command(), "--private-data-dir", str(run_dir)], input=stream,
                          capture_output=True, timeout=50, env=env, cwd=str(run_dir))
    frames = []
    for line in proc.stdout.splitlines():
        try:
            frames.append(json.loads(line))
        except ValueError:
            continue        # the artifacts archive that follows its ``zipfile`` frame
    return proc, frames


def test_the_workers_runner_unlocks_a_key_in_a_long_run_dir(tmp_path, key):
    started = time.monotonic()
    proc, frames = _worker_run(tmp_path, key, PASSPHRASE)
    statuses = [f["status"] for f in frames if isinstance(f, dict) and "status" in f]
    output = "".join(strip_ansi(f.get("stdout", "")) for f in frames if isinstance(f, dict) and "event" in f)
    assert statuses[-1] == "successful", (statuses, output, proc.stderr.decode()[-2000:])
    assert "TASK [reached the play]" in output and "unlocked" in output
    assert time.monotonic() - started < 30
    starting = next(f for f in frames if isinstance(f, dict) and f.get("status") == "starting")
    assert starting["command"][:2] == ["ssh-agent", "sh"] and "ssh-add - <" in starting["command"][-1]
    assert PASSPHRASE not in json.dumps(starting) and PASSPHRASE not in output


def test_the_workers_runner_fails_a_wrong_passphrase_at_once(tmp_path, key):
    started = time.monotonic()
    _proc, frames = _worker_run(tmp_path, key, "not the passphrase")
    statuses = [f["status"] for f in frames if isinstance(f, dict) and "status" in f]
    assert statuses[-1] == "failed", statuses
    assert time.monotonic() - started < 30


def test_the_workers_runner_loads_no_controller_module():
    """The worker starts it by path: the controller package (~0.3 s) is not imported."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *task.runner_worker_command()[1:], "--worker-info"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "runner_version" in proc.stdout, proc.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line]
    assert "ansible_runner.interface" in imported
    assert [m for m in imported if m.split(".")[0] == "controller"] == []
