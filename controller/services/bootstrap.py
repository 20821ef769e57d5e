"""First-start set-up: the ``admin`` superuser, the built-in project and (services.demo) AWX's demo content."""
from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from ..context import Context
from ..store import sessions
from ..store.install import managed_project
from . import crud, demo as demo_content

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
        admin = sessions.user_named(state.store, "admin")
        demo_content.ensure_demo(system_context(state), org, project, admin)
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
