"""A passphrase-protected SSH key on a ``turret worker`` (a job's machine credential with
``ssh_key_unlock``): unlocked on the worker exactly as on the controller.

The worker runs ``ansible-runner worker``; with runner's stock ssh-agent wrapper, ``ssh-add
<path>`` prompts with the key's full path inside the worker's run dir, and runner matches
prompts only in the last 100 characters of output: on a worker whose data dir path is long
the prompt never matched and the job hung until its timeout.  Real Redis (with a password),
a real worker process with a data dir path of more than 120 characters, real keys made by
``ssh-keygen``, real jobs.  While a job runs, every command line on the machine and every
command the broker executes is watched: the passphrase travels only inside the job's payload.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import pytest
import redis

from controller.workers import keys
from tests.support.jobs import (
    attach_credential, launch, make_credential, make_inventory, make_jt, make_org, make_project, strip_ansi,
    type_id, uniq, wait_job, wait_until,
)
from tests.support.workers import instance_group, registered_worker, scaleout_fixtures

from conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.slow

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: reached the play\n      debug: msg=unlocked\n"
PASSPHRASE = "correct horse battery " + uniq("p")
GROUP = "unlockers"


broker, app_state = scaleout_fixtures(ADMIN_PASSWORD, "pw-" + uniq("b"))


@pytest.fixture(scope="module")
def worker(tmp_path_factory, broker):
    """One worker serving ``GROUP``, its data dir path longer than 120 characters."""
    data = tmp_path_factory.mktemp("long-worker-dir-" + "w" * 60) / ("nested-" + "n" * 50)
    assert len(str(data)) > 120
    with registered_worker(broker.url, "wk-unlock", GROUP, 2, data) as proc:
        yield proc


@pytest.fixture(scope="module")
def setup(admin, app_state, worker):
    app_state.start_jobs(workers=1)
    org = make_org(admin)
    group = instance_group(admin, GROUP)
    yield {"org": org, "group": group, "inv": make_inventory(admin, org, ["h1"]),
           "project": make_project(admin, app_state.settings.data_dir, org, {"play.yml": PLAY})}
    app_state.stop_jobs()


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> str:
    """An ed25519 private key encrypted with PASSPHRASE (ssh-keygen's default OpenSSH format)."""
    path = tmp_path_factory.mktemp("key") / "id_test"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", PASSPHRASE, "-C", "turret-test", "-f", str(path)],
                   check=True)
    return path.read_text()


class _Watch:
    """While it runs: every command the broker executes (``MONITOR``) and every command line
    of every process on this machine (``/proc/*/cmdline``, sampled every 10 ms)."""

    def __init__(self, url: str) -> None:
        self.conn = redis.Redis.from_url(url)
        self.commands: list[str] = []
        self.cmdlines: set[str] = set()
        self.done = threading.Event()
        ready = threading.Event()
        self.threads = [threading.Thread(target=self._monitor, args=(ready,), daemon=True),
                        threading.Thread(target=self._sample, daemon=True)]
        for t in self.threads:
            t.start()
        ready.wait(5)

    def _monitor(self, ready: threading.Event) -> None:
        try:
            with self.conn.monitor() as m:
                ready.set()
                for cmd in m.listen():
                    self.commands.append(cmd["command"])
        except Exception:  # noqa: BLE001 - the connection is closed at the end
            return

    def _sample(self) -> None:
        while not self.done.wait(0.01):
            for entry in os.listdir("/proc"):
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as fh:
                        self.cmdlines.add(fh.read().replace(b"\0", b" ").decode(errors="replace"))
                except OSError:
                    continue

    def stop(self) -> None:
        self.done.set()
        self.conn.connection_pool.disconnect()
        for t in self.threads:
            t.join(5)


def run_on_worker(admin, setup, broker, worker_dir, inputs: dict,
                  body: dict | None = None) -> tuple[dict, str, float, dict]:
    """(job, its stdout, seconds it took, what the watch saw: where the passphrase was seen
    outside the payload, whether the payload was sent, whether the run's key went through
    ``ssh-add -`` (ssh-add reading the key on stdin) in ``worker_dir``)."""
    cred = make_credential(admin, setup["org"], type_id(admin, "ssh"), {"username": "deployer", **inputs})
    # the job timeout is the old symptom's bound: the test wants an answer long before it
    jt = make_jt(admin, setup["project"], setup["inv"], "play.yml", timeout=60)
    attach_credential(admin, jt, cred)
    assert admin.post(f"/api/v2/job_templates/{jt['id']}/instance_groups/",
                      {"id": setup["group"]["id"]}).status_code == 204
    watch = _Watch(broker.url)
    try:
        started = time.monotonic()
        made = launch(admin, jt, body)
        job = wait_job(admin, made["id"], timeout=45)
        elapsed = time.monotonic() - started
    finally:
        watch.stop()
    text = strip_ansi(admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=txt").data.decode())
    payload_set = f"SET {keys.payload('job', job['id'])} "
    conn = redis.Redis.from_url(broker.url)
    try:
        stored = "\n".join(repr(conn.dump(k)) for k in conn.keys("*"))
    finally:
        conn.close()
    secret = PASSPHRASE.encode().hex()    # MONITOR and DUMP show bytes escaped: compare both ways
    sources = {"broker commands": "\n".join(c for c in watch.commands if not c.startswith(payload_set)),
               "broker keys": stored, "command lines": "\n".join(watch.cmdlines), "stdout": text,
               "job_args": job["job_args"], "job_env": json.dumps(job["job_env"]),
               "explanation": job["job_explanation"]}
    seen = {where for where, value in sources.items() if PASSPHRASE in value or secret in value}
    return job, text, elapsed, {"seen": seen, "payload sent": any(c.startswith(payload_set) for c in watch.commands),
                                # the watch saw the run: the worker's runner and its ssh-agent wrapper
                                "wrapper seen": any("ssh-add - <" in c and str(worker_dir) in c
                                                    for c in watch.cmdlines)}


def test_encrypted_key_unlocks_on_a_worker_with_a_long_data_dir(admin, setup, broker, worker, key):
    job, text, elapsed, leaks = run_on_worker(admin, setup, broker, worker.data_dir,
                                              {"ssh_key_data": key, "ssh_key_unlock": PASSPHRASE})
    assert job["execution_node"] == "wk-unlock"
    assert job["status"] == "successful", (job["job_explanation"], text, worker.output()[-2000:])
    assert "TASK [reached the play]" in text and "unlocked" in text
    assert elapsed < 30
    assert leaks == {"seen": set(), "payload sent": True, "wrapper seen": True}
    assert PASSPHRASE not in worker.output()
    wait_until(lambda: not any(worker.data_dir.iterdir()), 10, "the worker's run dir (with the key) to go")


def test_passphrase_asked_at_launch_unlocks_on_a_worker(admin, setup, broker, worker, key):
    job, text, _elapsed, leaks = run_on_worker(admin, setup, broker, worker.data_dir,
                                               {"ssh_key_data": key, "ssh_key_unlock": "ASK"},
                                               {"credential_passwords": {"ssh_key_unlock": PASSPHRASE}})
    assert (job["status"], job["execution_node"]) == ("successful", "wk-unlock"), (job["job_explanation"], text)
    assert "TASK [reached the play]" in text
    assert leaks["seen"] == set()


def test_wrong_passphrase_fails_on_a_worker_instead_of_hanging(admin, setup, broker, worker, key):
    job, text, elapsed, _leaks = run_on_worker(admin, setup, broker, worker.data_dir,
                                               {"ssh_key_data": key, "ssh_key_unlock": "not the passphrase"})
    assert (job["status"], job["execution_node"]) == ("failed", "wk-unlock"), (job["job_explanation"], text)
    assert "timeout" not in job["job_explanation"].lower()
    assert "TASK [reached the play]" not in text      # ssh-add gave up before ansible-playbook started
    assert elapsed < 30
