"""Checks for tests that drive a live controller over HTTP with a ``requests`` session (the
compat and collection suites): the status and body of an answer, one object of a filtered list,
polling an object until it reaches a state, and a small world of objects to run jobs with."""
from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable


def expect(resp, status: int) -> Any:
    """Assert the HTTP status, showing the request and body otherwise; return the JSON (or None)."""
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.request.url} -> {resp.status_code}, expected {status}\n{resp.text[:2000]}"
    )
    return resp.json() if resp.content else None


def only(api, path: str, **params) -> dict:
    """The one object of list ``path`` filtered by ``params`` (asserting there is exactly one)."""
    listing = expect(api.get(path, params=params), 200)
    assert listing["count"] == 1, (path, params, listing)
    return listing["results"][0]


def wait_for(api, path: str, done: Callable[[dict], bool], timeout: float = 60.0, what: str = "",
             interval: float = 0.2) -> dict:
    """GET ``path`` until ``done(body)``; the body then (an assertion error after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        obj = expect(api.get(path), 200)
        if done(obj):
            return obj
        assert time.monotonic() < deadline, f"timed out waiting for {what or path}: {obj.get('status', obj)}"
        time.sleep(interval)


def local_world(controller, tag: str, folder: str, playbooks: dict[str, str],
                templates: dict[str, tuple[str, dict]]) -> dict:
    """On a live ``controller`` (tests/conftest.py): organization ``<tag>Org``, inventory
    ``<tag>Inv`` with one host ``<tag lower>h1`` run locally by this Python, a manual project
    ``<tag>Proj`` in projects/``folder`` holding ``playbooks`` (file -> text), and a job template
    per ``templates`` entry (name -> (playbook, other fields)).  Returns {"org", "inv", "proj",
    "jts": {name: template}}; any refused POST fails the test."""
    path = controller.data_dir / "projects" / folder
    path.mkdir(parents=True, exist_ok=True)
    for name, text in playbooks.items():
        (path / name).write_text(text)
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    with controller.client() as api:
        def made(url: str, body: dict) -> dict:
            resp = api.post(url, body)
            resp.raise_for_status()
            return resp.json()
        org = made("/api/v2/organizations/", {"name": f"{tag}Org"})
        inv = made("/api/v2/inventories/", {"name": f"{tag}Inv", "organization": org["id"],
                                            "variables": json.dumps(local)})
        made("/api/v2/hosts/", {"name": f"{tag.lower()}h1", "inventory": inv["id"]})
        proj = made("/api/v2/projects/", {"name": f"{tag}Proj", "organization": org["id"], "local_path": folder})
        jts = {name: made("/api/v2/job_templates/", {"name": name, "project": proj["id"], "inventory": inv["id"],
                                                     "playbook": playbook, **fields})
               for name, (playbook, fields) in templates.items()}
    return {"org": org, "inv": inv, "proj": proj, "jts": jts}
