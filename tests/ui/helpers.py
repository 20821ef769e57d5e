"""Helpers of the browser tests: playbooks, objects made through the API, waiting."""
from __future__ import annotations

import json
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

from controller import create_app, open_state
from controller.config import Settings
from controller.services.bootstrap import initialize


LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
FINISHED = ("successful", "failed", "error", "canceled")

SLOW_PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: First line
      ansible.builtin.debug:
        msg: ui-live-first-line
    - name: Take a while
      ansible.builtin.command: sleep 8
      changed_when: false
    - name: Last line
      ansible.builtin.debug:
        msg: ui-live-last-line
"""

FAIL_ONE_PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: Fail on the bad host only
      ansible.builtin.fail:
        msg: this host is bad
      when: inventory_hostname == 'ui-bad'
    - name: Greet
      ansible.builtin.debug:
        msg: "hello from {{ inventory_hostname }}"
"""


# -- API helpers (requests through tests/conftest.py's ApiClient) ------------------------------
def ok(resp, status=(200, 201, 204)):
    assert resp.status_code in ((status,) if isinstance(status, int) else status), resp.text
    return resp.json() if resp.text else None


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def one(api, path: str) -> dict:
    body = ok(api.get(path))
    assert body["count"] == 1, body
    return body["results"][0]


def make_jt(api, data_dir: Path, playbook_text: str, hosts: tuple[str, ...]) -> dict:
    org = one(api, "/api/v2/organizations/?name=Default")
    folder = uniq("ui-folder")
    (Path(data_dir) / "projects" / folder).mkdir(parents=True, exist_ok=True)
    (Path(data_dir) / "projects" / folder / "play.yml").write_text(playbook_text)
    project = ok(api.post("/api/v2/projects/", {"name": uniq("ui-project"), "organization": org["id"],
                                                "local_path": folder}))
    inv = ok(api.post("/api/v2/inventories/", {"name": uniq("ui-inv"), "organization": org["id"]}))
    for name in hosts:
        ok(api.post("/api/v2/hosts/", {"name": name, "inventory": inv["id"], "variables": json.dumps(LOCAL)}))
    return ok(api.post("/api/v2/job_templates/", {"name": uniq("ui-jt"), "project": project["id"],
                                                  "inventory": inv["id"], "playbook": "play.yml"}))


def wait_job(api, job_id: int, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = ok(api.get(f"/api/v2/jobs/{job_id}/"))
        if body["status"] in FINISHED and body["event_processing_finished"]:
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {body.get('status')}")


def job_id_of(page) -> int:
    m = re.search(r"/ui/jobs/(\d+)$", page.url)
    assert m, page.url
    return int(m.group(1))


def wait_status_on_page(page, status: str, timeout: float = 90_000) -> None:
    page.locator(f"#job-status [data-status='{status}']").wait_for(timeout=timeout)

QUICK_PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: quick
"""

ALL_TYPES_SURVEY = {"name": "All types", "description": "every question type", "spec": [
    {"question_name": "Text", "variable": "q_text", "type": "text", "required": True, "min": 0, "max": 20},
    {"question_name": "Long text", "variable": "q_textarea", "type": "textarea", "required": False},
    {"question_name": "Secret", "variable": "q_password", "type": "password", "required": True},
    {"question_name": "Count", "variable": "q_integer", "type": "integer", "required": True, "min": 1, "max": 10},
    {"question_name": "Ratio", "variable": "q_float", "type": "float", "required": False},
    {"question_name": "Colour", "variable": "q_choice", "type": "multiplechoice", "required": True,
     "choices": ["red", "green", "blue"], "default": "green"},
    {"question_name": "Sizes", "variable": "q_multi", "type": "multiselect", "required": False,
     "choices": ["s", "m", "l"], "default": "m"},
]}


def demo_app(tmp_path_factory, password: str) -> Iterator:
    """An in-process app (Flask test client use) on a fresh data dir with the demo content, its
    admin's password ``password``; for ``yield from`` in a fixture (the store closes after)."""
    state = open_state(Settings({"DATA_DIR": str(tmp_path_factory.mktemp("data"))}, environ={}))
    initialize(state, password, demo=True)
    yield create_app(state=state)
    state.store.close()
