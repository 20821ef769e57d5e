"""Build the registry from every domain's declarations, then derive the generic sub-lists."""
from __future__ import annotations

from . import (adhoc, applications, constructed, credential_input_sources, credentials, execution_environments,
               galaxy, identity, instances, inventory, inventory_sources, jobs, labels, notifications, projects,
               role_definitions, schedules, system, templates, webhooks, workflow_jobs, workflows)
from ..registry import ENCRYPTED, Field, Registry, Relation, Resource, RoleSpec

DOMAINS = (identity, credentials, credential_input_sources, projects, inventory, inventory_sources, constructed, labels,
           templates, jobs, adhoc, system, workflows, workflow_jobs, notifications, schedules, webhooks, applications,
           execution_environments, instances, galaxy, role_definitions)   # role_definitions last: it derives
                                                                           # from every declared role
# no activity_stream sub-list (AWX has none for these; their history is in /activity_stream/)
_NO_HISTORY = {"activity_stream", "role", "notification_template", "notification"}


def build_registry() -> Registry:
    """A fresh registry: every declared resource plus derived sub-lists."""
    reg = Registry()
    for domain in DOMAINS:
        domain.declare(reg)
    for res in reg:
        if res.has_roles:
            res.relations.append(Relation("object_roles", "role", "object_roles", read_only=True))
            res.relations.append(Relation("access_list", "user", "access_list", read_only=True))
        if res.name not in _NO_HISTORY:
            res.relations.append(Relation("activity_stream", "activity_stream", "activity", read_only=True))
    return reg


__all__ = ["build_registry", "Registry", "Resource", "Field", "Relation", "RoleSpec", "ENCRYPTED"]
