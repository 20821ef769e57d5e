"""A passphrase-protected SSH key (``ssh_key_unlock``) on a controller whose data dir path is
long (issue 11).

ansible-runner answers prompts by matching only the last 100 characters of output, and
``ssh-add <path>`` used to prompt with the key's full path inside the run dir: past ~30
characters of data dir the prompt never matched and the job hung until its timeout.  Real
keys made by ``ssh-keygen``, real jobs, a data dir path longer than 120 characters.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from controller import create_app, open_state
from controller.config import Settings
from controller.services.bootstrap import initialize
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
