"""First-start set-up: the ``admin`` superuser (and, later, demo content)."""
from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from ..context import Context
from ..store.install import managed_project
from . import crud
from .surveys import validate_spec

SYSTEM_USER = {"id": None, "is_superuser": True, "is_system_auditor": True, "username": "system"}


def system_context(state) -> Context:
    """A context acting as the system itself (no actor in the activity stream)."""
    return Context(store=state.store, registry=state.registry, settings=state.settings,
                   user=dict(SYSTEM_USER), vault=state.vault, jobs=state.dispatcher)


def acting_as_system(ctx: Context, **changes: Any) -> Context:
    """``ctx`` (same store, registry, settings, vault) acting as the system: no user's roles
    limit it and nobody is the actor; a fresh request cache.  ``changes`` override other fields
    (e.g. ``jobs=None``)."""
    return dataclasses.replace(ctx, **{"user": dict(SYSTEM_USER), "scope": "write", "cache": {}, **changes})


def create_superuser(state, username: str, password: str, email: str = "") -> dict:
    ctx = system_context(state)
    return crud.create(ctx, state.registry["user"], {"username": username, "password": password,
                                                      "email": email, "is_superuser": True})


BUILTIN_PROJECT = "Turret Collection Playbooks"


def ensure_builtin_project(state, organization: int | None = None) -> dict:
    """The read-only project serving the collection's own playbooks (idempotent)."""
    ctx = system_context(state)
    store = state.store
    found = managed_project(store)
    if found:
        return found
    # No organization: only superusers and auditors see it until it is shared (by granting
    # its use_role), which keeps a fresh controller's organization list empty.
    return crud.insert_trusted(ctx, state.registry["project"], {
        "name": BUILTIN_PROJECT, "organization": organization, "managed": True, "scm_type": "",
        "description": "The playbooks shipped with the turret.controller collection (read-only)."})


DEMO_SURVEY = {"name": "Greeting", "description": "Who should the demo greet?", "spec": [
    {"question_name": "Name to greet", "question_description": "Printed by the Hello Message task",
     "variable": "greeting_name", "type": "text", "required": False, "default": "World",
     "min": 0, "max": 64, "choices": ""}]}


def ensure_demo(state, project: dict, org: dict) -> None:
    """AWX's demo content, ready to launch: Default organization, Demo Inventory (localhost,
    local connection) and Demo Job Template with a one-question survey."""
    ctx = system_context(state)
    reg = state.registry
    inv = crud.create(ctx, reg["inventory"], {"name": "Demo Inventory", "organization": org["id"]})
    crud.create(ctx, reg["host"], {"name": "localhost", "inventory": inv["id"],
                                   "variables": "ansible_connection: local\n"})
    jt = crud.create(ctx, reg["job_template"], {"name": "Demo Job Template", "inventory": inv["id"],
                                                "project": project["id"], "playbook": "hello_world.yml",
                                                "survey_enabled": True})
    spec = validate_spec(DEMO_SURVEY, {}, state.vault.encrypt)
    with state.store.transaction():
        state.store.update("job_templates", jt["id"], {"survey_spec": spec})


def initialize(state, admin_password: str | None, demo: bool = True) -> str | None:
    """Everything a fresh data directory gets on first start; returns a generated password."""
    fresh = state.store.count("users") == 0
    generated = ensure_admin(state, admin_password)
    org = None
    if fresh and demo:
        # as in AWX, the demo objects (and here the built-in project) belong to "Default", so
        # "Demo Job Template++Default" names the demo template
        org = crud.create(system_context(state), state.registry["organization"], {"name": "Default"})
    project = ensure_builtin_project(state, org["id"] if org else None)
    if org is not None:
        ensure_demo(state, project, org)
    return generated


def ensure_admin(state, password: str | None) -> str | None:
    """On an empty database create ``admin``; returns the generated password (else None)."""
    if state.store.count("users") > 0:
        return None
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    create_superuser(state, "admin", password, "admin@example.com")
    return generated
