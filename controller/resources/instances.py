"""Instances and instance groups (AWX §7.7): the controller is one instance, seeded in the
groups ``controlplane`` and ``default``; groups are ordered lists on organizations,
inventories, job templates and schedules (and workflow template nodes, stored for AWX clients),
and the dispatcher honours their limits.

Contracts:
  * Instances are not created or deleted over the API: the controller is found by hostname at
    each start; in distributed mode every ``turret worker`` is an ``execution`` instance the
    fleet monitor mirrors from its registration (``controller.workers.fleet``).  A superuser
    changes ``enabled`` (disabling a worker drains it), ``capacity_adjustment`` and the policy
    flags; ``node_state`` only to ``deprovisioning`` (AWX's rule), and only for a worker that is
    gone (``unavailable``), which removes its instance and memberships at once.
    ``POST instances/N/health_check/`` re-measures the controller; a worker's figures are
    those of its last heartbeat.
  * Groups: superusers create them; container groups are refused (Turret runs no Kubernetes);
    ``controlplane`` and ``default`` cannot be deleted.  ``admin_role`` > ``use_role`` >
    ``read_role`` as AWX; admins of an organization also see the groups it uses.
  * Capacity figures are computed when shown, from the stored measurement and the jobs of
    every unified-job table claimed on the node / in the group.
"""
from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..registry import Field, Registry, Relation, Resource, RoleSpec
from ..services import instances as nodes
from ..services.bootstrap import system_context
from ..store import instances as sql
from ..store import rbac
from . import execution_environments as environments

# workflow template nodes store the list for AWX clients; the jobs they spawn do not read it yet
_ORDERED_OWNERS = ("organization", "inventory", "job_template", "schedule", "workflow_job_template_node")
NODE_TYPES = [("control", "Control plane node"), ("execution", "Execution plane node"),
              ("hybrid", "Controller and execution"), ("hop", "Message-passing node, no execution capability")]
NODE_STATES = [("provisioning", "Provisioning"), ("provision-fail", "Provisioning Failure"),
               ("installed", "Installed"), ("ready", "Ready"), ("unavailable", "Unavailable"),
               ("deprovisioning", "De-provisioning"), ("deprovision-fail", "De-provisioning Failure")]
PROTECTED_GROUPS = (nodes.CONTROL_PLANE, nodes.DEFAULT_GROUP)
CONTAINER_GROUPS = "Container groups are not supported: Turret runs no Kubernetes."


def _job_tables(ctx) -> list[str]:
    return [k.table for k in ctx.registry.process_jobs()]


def _impact_of(ctx):
    kinds = {k.table: k for k in ctx.registry.process_jobs()}

    def impact(table: str, row: dict) -> int:
        kind = kinds.get(table)
        return int(kind.impact(ctx, row)) if kind is not None and kind.impact else 1
    return impact


def _consumed(ctx, column: str, key: Any) -> tuple[int, int]:
    """(capacity consumed, jobs waiting or running) of the jobs claimed with ``column`` =
    ``key`` (``instance_group`` or ``execution_node``) over every job table."""
    impact = _impact_of(ctx)
    used = running = 0
    for table in _job_tables(ctx):
        if not sql.has_column(ctx.store, table, column):
            continue
        rows = sql.active_where(ctx.store, table, column, key)
        used += sum(impact(table, r) for r in rows)
        running += len(rows)
    return used, running


def _percent(cap: int, used: int) -> float:
    return round(100.0 * (cap - used) / cap, 2) if cap else 0.0


def _instance_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    configured = int(getattr(ctx.settings, "CAPACITY", 0) or 0)
    out = {}
    for r in rows:
        cap = nodes.capacity(r, configured if r["hostname"] == nodes.node_name() else 0)
        used, running = _consumed(ctx, "execution_node", r["hostname"])
        out[r["id"]] = {"capacity": cap, "consumed_capacity": used, "percent_capacity_remaining": _percent(cap, used),
                        "jobs_running": running,
                        "jobs_total": sql.total_jobs_by_node(ctx.store, _job_tables(ctx), r["hostname"]),
                        "health_check_pending": False, "reverse_peers": []}
    return out


def _group_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    configured = int(getattr(ctx.settings, "CAPACITY", 0) or 0)
    members = sql.group_instances(ctx.store, [r["id"] for r in rows])
    out = {}
    for r in rows:
        insts = members[r["id"]]
        cap = sum(nodes.capacity(i, configured if i["hostname"] == nodes.node_name() else 0) for i in insts)
        used, running = _consumed(ctx, "instance_group", r["id"])
        total = sum(ctx.store.count(t, "instance_group = ?", [r["id"]]) for t in _job_tables(ctx)
                    if sql.has_column(ctx.store, t, "instance_group"))
        out[r["id"]] = {"capacity": cap, "consumed_capacity": used, "percent_capacity_remaining": _percent(cap, used),
                        "jobs_running": running, "jobs_total": total, "instances": len(insts)}
    return out


def _group_validate(ctx, values: dict, existing: dict | None) -> None:
    if values.get("is_container_group") or values.get("pod_spec_override"):
        raise ValidationError({"is_container_group": [CONTAINER_GROUPS]})
    if existing is not None and existing["name"] in PROTECTED_GROUPS and values.get("name", existing["name"]) \
            != existing["name"]:
        raise ValidationError({"name": [f"{existing['name']} instance group name may not be changed."]})
    listed = values.get("policy_instance_list")
    if listed is not None and (not isinstance(listed, list) or not all(isinstance(h, str) for h in listed)):
        raise ValidationError({"policy_instance_list": ["Expected a list of hostnames."]})


def _instance_validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is not None and "node_state" in values:
        problem = nodes.node_state_problem(existing, values["node_state"], nodes.distributed(ctx))
        if problem:
            raise ValidationError({"node_state": [problem]})


def _instance_after_save(ctx, row: dict, existing: dict | None) -> None:
    nodes.deprovision(ctx, row, existing)


def _group_visibility(ctx):
    """Holders of the group's read role, and admins of an organization that uses it."""
    roles = ctx.effective_roles()
    own_sql, own_params = rbac.objects_with_role_ids_sql("instance_group", "read_role", roles)
    org_sql, org_params = sql.groups_of_orgs_sql(roles.user_id)
    return f"({own_sql}) OR ({org_sql})", [*own_params, *org_params]


def _instance_visibility(ctx):
    where, params = _group_visibility(ctx)
    return sql.instances_in_groups_sql(where, params)


def _group_can_delete(ctx, row: dict) -> bool:
    return ctx.is_superuser and row["name"] not in PROTECTED_GROUPS


def _instance_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    groups = sql.instance_group_ids(ctx.store, [r["id"] for r in rows])
    names = ctx.store.get_many("instance_groups", sorted({g for ids in groups.values() for g in ids}))
    return {r["id"]: {"instance_groups": [{"id": g, "name": names[g]["name"]}
                                                      for g in groups[r["id"]] if g in names]} for r in rows}


def _instance_jobs_scope(ctx, instance: dict) -> tuple[str, list]:
    return sql.jobs_on_node_sql(instance["hostname"])


def _instance_fields() -> list[Field]:
    ro: dict[str, Any] = dict(read_only=True)
    return [
        Field("hostname", "string", max_length=250, unique=True, create_only=True),
        Field("uuid", "string", default="", **ro),
        Field("last_seen", "datetime", null=True, default=None,
              help_text="Last time instance ran its heartbeat task for main cluster nodes. Last known connection "
                        "to receptor mesh for execution nodes.", **ro),
        Field("health_check_started", "datetime", null=True, default=None,
              help_text="The last time a health check was initiated on this instance.", **ro),
        Field("health_check_pending", "boolean", stored=False, **ro),
        Field("last_health_check", "datetime", null=True, default=None,
              help_text="Last time a health check was ran on this instance to refresh cpu, memory, and capacity.",
              **ro),
        Field("errors", "text", default="", help_text="Any error details from the last health check.", **ro),
        Field("capacity_adjustment", "float", default=1.0, min_value=0, max_value=1),
        Field("version", "string", default="", **ro),
        Field("capacity", "integer", default=0, **ro),   # stored for readers of the table; shown live
        Field("consumed_capacity", "integer", stored=False, **ro),
        Field("percent_capacity_remaining", "float", stored=False, **ro),
        Field("jobs_running", "integer", stored=False,
              help_text="Count of jobs in the running or waiting state that are targeted for this instance", **ro),
        Field("jobs_total", "integer", stored=False, help_text="Count of all jobs that target this instance", **ro),
        Field("cpu", "float", default=0.0, **ro),
        Field("memory", "integer", default=0, **ro),
        Field("cpu_capacity", "integer", default=0, **ro),
        Field("mem_capacity", "integer", default=0, **ro),
        Field("enabled", "boolean", default=True),
        Field("managed_by_policy", "boolean", default=True),
        Field("node_type", "choice", choices=NODE_TYPES, default="execution", create_only=True,
              help_text="Role that this node plays in the mesh."),
        Field("node_state", "choice", choices=NODE_STATES, default="ready",
              help_text="Indicates the current life cycle stage of this instance."),
        Field("managed", "boolean", default=False, help_text="If True, this instance is managed by the control plane.",
              **ro),
        Field("ip_address", "string", default="", **ro),
        Field("peers", "json", default=[], help_text="Primary keys of receptor addresses to peer to."),
        Field("reverse_peers", "json", stored=False, **ro),
        Field("listener_port", "integer", null=True, default=None, min_value=0, max_value=65535,
              help_text="Port that Receptor will listen for incoming connections on."),
        Field("peers_from_control_nodes", "boolean", default=False,
              help_text="If True, control plane cluster nodes should automatically peer to it."),
    ]


def _group_fields() -> list[Field]:
    ro: dict[str, Any] = dict(read_only=True, stored=False)
    return [
        Field("name", "string", required=True, max_length=250, unique=True),
        Field("capacity", "integer", **ro),
        Field("consumed_capacity", "integer", **ro),
        Field("percent_capacity_remaining", "float", **ro),
        Field("jobs_running", "integer", **ro),
        Field("max_concurrent_jobs", "integer", default=0, min_value=0,
              help_text="Maximum number of concurrent jobs to run on a group. When set to zero, no maximum is "
                        "enforced."),
        Field("max_forks", "integer", default=0, min_value=0,
              help_text="Maximum number of forks to execute concurrently on a group. When set to zero, no maximum "
                        "is enforced."),
        Field("jobs_total", "integer", help_text="Count of all jobs that target this instance group", **ro),
        Field("instances", "integer", **ro),
        Field("is_container_group", "boolean", default=False,
              help_text="Indicates whether instances in this group are containerized.Containerized groups have a "
                        "designated Openshift or Kubernetes cluster."),
        Field("credential", "id", fk="credential", null=True, default=None, on_delete="set_null"),
        Field("policy_instance_percentage", "integer", default=0, min_value=0, max_value=100,
              help_text="Minimum percentage of all instances that will be automatically assigned to this group when "
                        "new instances come online."),
        Field("policy_instance_minimum", "integer", default=0, min_value=0,
              help_text="Static minimum number of Instances that will be automatically assign to this group when "
                        "new instances come online."),
        Field("policy_instance_list", "json", default=[],
              help_text="List of exact-match Instances that will be assigned to this group"),
        Field("pod_spec_override", "text", default="", prevent_search=True),
    ]


def declare(reg: Registry) -> None:
    reg.add(Resource(
        name="instance", plural="instances", common_fields=False, fields=_instance_fields(),
        ordering=("id",), search_fields=("hostname",), named_url=(("hostname",),),
        summary_keys=("id", "hostname"),
        relations=[
            Relation("instance_groups", "instance_group", "m2m",
                     key=f"{sql.MEMBERS}:instance_id:instance_group_id"),
            Relation("jobs", "job", "reverse_fk", read_only=True, scope_hook=_instance_jobs_scope),
        ],
        creatable=False, deletable=False, capabilities=("edit",), actions=("health_check",),
        compute=_instance_compute, extra_summary=_instance_summary, visibility=_instance_visibility,
        validate=_instance_validate, after_save=_instance_after_save,
    ))
    reg.add(Resource(
        name="instance_group", plural="instance_groups", common_fields=False, fields=_group_fields(),
        ordering=("id",), search_fields=("name",), named_url=(("name",),),
        roles=[
            RoleSpec("admin_role", "Admin", "Can manage all aspects of the {model}"),
            RoleSpec("use_role", "Use", "Can use the {model} in a job template", ("admin_role",)),
            RoleSpec("read_role", "Read", "May view settings for the {model}", ("use_role",)),
        ],
        relations=[
            Relation("instances", "instance", "m2m", key=f"{sql.MEMBERS}:instance_group_id:instance_id"),
            Relation("jobs", "job", "reverse_fk", key="instance_group", read_only=True),
        ],
        create_role=None, capabilities=("edit", "delete"), validate=_group_validate,
        compute=_group_compute, visibility=_group_visibility, can_delete=_group_can_delete,
    ))
    for owner in _ORDERED_OWNERS:
        reg[owner].relations.append(Relation("instance_groups", "instance_group", "m2m", key=sql.link_key(owner),
                                             ordered=True))
    # a workflow job node keeps the groups its template node prompted for (copied at launch)
    reg["workflow_job_node"].relations.append(Relation("instance_groups", "instance_group", "m2m", ordered=True,
                                                       key=sql.link_key("workflow_job_node"), read_only=True))


def seed(state) -> None:
    """At every start: this node's instance (re-measured) in the seeded groups, and the
    managed execution environment."""
    ctx = system_context(state)
    nodes.seed(ctx)
    environments.seed(ctx)
