"""Helpers for tests that run real jobs: manual projects, local-connection inventories, job
templates, waiting for jobs, AWX's stdout rebuilt from events, and process / file scans.

Everything goes through the API (a ``tests/controller/conftest.py`` ``Client``) except the
project folder, which a manual project needs on disk before it is created.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Iterable

FINISHED = ("successful", "failed", "error", "canceled")
ACTIVE = ("new", "pending", "waiting", "running")
# the connection every test host uses: this machine, modules run by the venv's python
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_seq = itertools.count(1)


def uniq(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{next(_seq)}"


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def created(resp, status: int = 201) -> dict:
    """The body of a response that must have ``status`` (201 by default)."""
    assert resp.status_code == status, resp.json
    return resp.json


# -- objects ------------------------------------------------------------------------------------
def make_org(admin) -> dict:
    resp = admin.post("/api/v2/organizations/", {"name": uniq("org")})
    assert resp.status_code == 201, resp.json
    return resp.json


def make_project(admin, data_dir: Path, org: dict, playbooks: dict[str, str]) -> dict:
    """A manual project whose folder (under ``<data_dir>/projects``) holds ``playbooks``."""
    folder_name = uniq("folder")
    folder = Path(data_dir) / "projects" / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in playbooks.items():
        (folder / name).write_text(text)
    resp = admin.post("/api/v2/projects/", {"name": uniq("project"), "organization": org["id"],
                                            "local_path": folder_name})
    assert resp.status_code == 201, resp.json
    project = resp.json
    project["_folder"] = str(folder)
    return project


def make_inventory(admin, org: dict, hosts: Iterable[str] = ("h1",), **host_vars: Any) -> dict:
    """An inventory of local-connection hosts; returns the inventory with ``_hosts`` {name: id}."""
    resp = admin.post("/api/v2/inventories/", {"name": uniq("inv"), "organization": org["id"]})
    assert resp.status_code == 201, resp.json
    inventory = resp.json
    inventory["_hosts"] = {}
    for name in hosts:
        host = admin.post("/api/v2/hosts/", {"name": name, "inventory": inventory["id"],
                                             "variables": json.dumps({**LOCAL, **host_vars})})
        assert host.status_code == 201, host.json
        inventory["_hosts"][name] = host.json["id"]
    return inventory


def make_jt(admin, project: dict, inventory: dict | None, playbook: str, **fields: Any) -> dict:
    body = {"name": uniq("jt"), "project": project["id"], "playbook": playbook, **fields}
    if inventory is not None:
        body["inventory"] = inventory["id"]
    resp = admin.post("/api/v2/job_templates/", body)
    assert resp.status_code == 201, resp.json
    return resp.json


def make_stage(admin, data_dir: Path, playbooks: dict[str, str], hosts: Iterable[str] = ("h1",)) -> dict:
    """A fresh organization with a manual project holding ``playbooks`` and an inventory of
    local ``hosts``: ``{"org", "project", "inventory"}``."""
    org = make_org(admin)
    return {"org": org, "project": make_project(admin, data_dir, org, playbooks),
            "inventory": make_inventory(admin, org, hosts)}


def type_id(admin, namespace: str) -> int:
    found = admin.get(f"/api/v2/credential_types/?namespace={namespace}").json
    assert found["count"] == 1, found
    return found["results"][0]["id"]


def make_credential(admin, org: dict, credential_type: int, inputs: dict) -> dict:
    resp = admin.post("/api/v2/credentials/", {"name": uniq("cred"), "organization": org["id"],
                                               "credential_type": credential_type, "inputs": inputs})
    assert resp.status_code == 201, resp.json
    return resp.json


def attach_credential(admin, jt: dict, cred: dict) -> None:
    resp = admin.post(f"/api/v2/job_templates/{jt['id']}/credentials/", {"id": cred["id"]})
    assert resp.status_code == 204, resp.json


def set_survey(admin, jt: dict, questions: list[dict], enabled: bool = True) -> None:
    """Give a job or workflow job template (its API body) a survey, enabled or not."""
    resp = admin.post(f"{jt['url']}survey_spec/", {"name": "Survey", "description": "d", "spec": questions})
    assert resp.status_code == 200, resp.json
    resp = admin.patch(jt["url"], {"survey_enabled": enabled})
    assert resp.status_code == 200, resp.json


# -- jobs ---------------------------------------------------------------------------------------
def launch(admin, jt: dict, body: dict | None = None) -> dict:
    resp = admin.post(f"/api/v2/job_templates/{jt['id']}/launch/", body or {})
    assert resp.status_code == 201, resp.json
    return resp.json


def wait_finished(client, path: str, timeout: float = 60, processed: bool = True) -> dict:
    """The unified job at ``path`` (``/api/v2/project_updates/7/``) once finished (and, by
    default, once all its events are stored)."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(path).json
        if body["status"] in FINISHED and (body["event_processing_finished"] or not processed):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{path} did not finish in {timeout}s: {body.get('status')}")


def wait_job(admin, job_id: int, timeout: float = 60, processed: bool = True) -> dict:
    """The job once finished (and, by default, once all its events are stored)."""
    return wait_finished(admin, f"/api/v2/jobs/{job_id}/", timeout, processed)


def wait_update(admin, update_id: int, timeout: float = 60) -> dict:
    """The project update once finished and its events stored."""
    return wait_finished(admin, f"/api/v2/project_updates/{update_id}/", timeout)


def wait_status(admin, job_id: int, statuses: Iterable[str], timeout: float = 30) -> dict:
    statuses = tuple(statuses)
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = admin.get(f"/api/v2/jobs/{job_id}/").json
        if body["status"] in statuses:
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {statuses}: {body.get('status')}")


def all_pages(client, url: str) -> list[dict]:
    out: list[dict] = []
    sep = "&" if "?" in url else "?"
    next_url: str | None = f"{url}{sep}page_size=200"
    while next_url:
        body = client.get(next_url).json
        out += body["results"]
        next_url = body.get("next")
    return out


def events(admin, job_id: int, query: str = "order_by=start_line&no_truncate=True") -> list[dict]:
    return all_pages(admin, f"/api/v2/jobs/{job_id}/job_events/?{query}")


def awx_stdout(event_rows: list[dict]) -> str:
    """AWX ``result_stdout_raw``: non-empty event stdout by start_line, each followed by a newline."""
    rows = sorted((e for e in event_rows if e["stdout"]), key=lambda e: (e["start_line"], e["counter"]))
    return "".join(e["stdout"].replace("\r\n", "\n") + "\n" for e in rows)


# -- processes and files ------------------------------------------------------------------------
def job_processes(job_id: int, data_dir: Path) -> list[tuple[int, str]]:
    """(pid, cmdline) of live processes of job ``job_id`` of the controller on ``data_dir``:
    the executor puts ``JOB_ID=<id>`` in the job's environment, and every path it sets there
    (temp dirs, the isolated data dir) lies under ``<data_dir>/runs``."""
    marker = f"JOB_ID={job_id}".encode()
    root = str(Path(data_dir) / "runs").encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[-1].split()[0]
        except OSError:
            continue
        if state == b"Z":      # a zombie is dead already (its parent will reap it)
            continue
        if marker in env and any(root in var for var in env):
            found.append((int(entry), cmd))
    return found


def processes_left(job_id: int, data_dir: Path, grace: float = 2.0) -> list[tuple[int, str]]:
    """The job's processes still alive after waiting up to ``grace`` seconds for them to end."""
    deadline = time.monotonic() + grace
    left = job_processes(job_id, data_dir)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = job_processes(job_id, data_dir)
    return left


def files_containing(root: Path, needle: bytes) -> list[str]:
    """Every file under ``root`` whose raw bytes contain ``needle``."""
    hits = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                with open(path, "rb") as fh:
                    if needle in fh.read():
                        hits.append(path)
            except OSError:
                continue
    return hits


def wait_until(predicate, timeout: float, what: str):
    """``predicate()``'s first truthy value within ``timeout`` seconds (polled every 0.1 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
