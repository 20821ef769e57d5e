"""First-start set-up: the ``admin`` superuser (and, later, demo content)."""
from __future__ import annotations

import secrets

from ..context import Context
from . import crud

SYSTEM_USER = {"id": None, "is_superuser": True, "is_system_auditor": True, "username": "system"}


def system_context(state) -> Context:
    """A context acting as the system itself (no actor in the activity stream)."""
    return Context(store=state.store, registry=state.registry, settings=state.settings,
                   user=dict(SYSTEM_USER), vault=state.vault, jobs=state.dispatcher)


def create_superuser(state, username: str, password: str, email: str = "") -> dict:
    ctx = system_context(state)
    return crud.create(ctx, state.registry["user"], {"username": username, "password": password,
                                                      "email": email, "is_superuser": True})


BUILTIN_PROJECT = "Turret Collection Playbooks"


def ensure_builtin_project(state) -> dict:
    """The read-only project serving the collection's own playbooks (idempotent)."""
    ctx = system_context(state)
    store = state.store
    found = store.one("SELECT * FROM projects WHERE managed = 1 LIMIT 1")
    if found:
        return dict(found)
    # No organization: only superusers and auditors see it until it is shared (by granting
    # its use_role), which keeps a fresh controller's organization list empty.
    return crud.insert_trusted(ctx, state.registry["project"], {
        "name": BUILTIN_PROJECT, "organization": None, "managed": True, "scm_type": "",
        "description": "The playbooks shipped with the turret.controller collection (read-only)."})


def initialize(state, admin_password: str | None) -> str | None:
    """Everything a fresh data directory gets on first start; returns a generated password."""
    generated = ensure_admin(state, admin_password)
    ensure_builtin_project(state)
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
