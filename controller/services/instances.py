"""The controller as an AWX instance: its measured capacity, its seeded instance groups, and
where a job runs (AWX's instance-group precedence) and whether its group has room for it.

Contracts:
  * Capacity is AWX's (``awx.main.utils.common``): ``cpu_capacity`` = CPUs x 4 forks,
    ``mem_capacity`` = (memory - 2 GiB) / 100 MiB per fork (each at least 1); the instance's
    ``capacity`` lies between the two by ``capacity_adjustment`` (1.0: the larger), 0 when
    the instance is disabled.  Turret's ``CAPACITY`` setting, when set, is the capacity.
  * :func:`seed` runs at every start: this node's instance is found by hostname (created the
    first time) and re-measured; the groups ``controlplane`` and ``default`` exist and hold it.
  * :func:`choose_instance_group` follows AWX: a launch prompt's groups, else the template's,
    the inventory's and the organization's groups in that order (a ``prevent_instance_group_
    fallback`` on the template or inventory stops the walk there), else ``default``.
  * Distributed mode (``BROKER_URL`` set): every ``turret worker`` is an ``execution``
    instance mirrored from its registration (:func:`register_worker`), a member of exactly the
    groups whose queues it serves; a worker whose heartbeat is gone keeps its row with
    capacity 0 (:func:`lose_worker`).  :func:`has_room` then also admits a job only while the
    group's capacity (its enabled, live members; this controller only when it runs jobs
    itself) minus the impact of the jobs active in it holds the job's impact.
"""
from __future__ import annotations

import json
import os
import socket
import uuid
from typing import Any, Callable, Iterable

from ..config import AWX_COMPAT_VERSION
from ..store import instances as sql
from ..store import now_iso
from ..store.install import ensure_install_uuid
from . import crud
from .variables import json_mapping

FORKS_PER_CPU = 4
MEM_MB_PER_FORK = 100
MEM_PENALTY = 2 * 1024 ** 3          # AWX keeps 2 GiB for the controller's own services
CONTROL_PLANE, DEFAULT_GROUP = "controlplane", "default"


def node_name() -> str:
    """This node's hostname: the ``hostname`` of its instance and every job's execution_node."""
    return socket.gethostname()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _memory_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def awx_capacities(cpu: int, memory: int) -> tuple[int, int]:
    """AWX's (cpu_capacity, mem_capacity) in forks for ``cpu`` CPUs and ``memory`` bytes."""
    return max(1, cpu * FORKS_PER_CPU), max(1, (memory - MEM_PENALTY) // (1024 * 1024) // MEM_MB_PER_FORK)


def measure() -> dict[str, Any]:
    """A health check of this node: CPUs, memory and the capacities AWX derives from them."""
    cpu, memory = _cpu_count(), _memory_bytes()
    cpu_capacity, mem_capacity = awx_capacities(cpu, memory)
    return {"cpu": float(cpu), "memory": memory, "cpu_capacity": cpu_capacity, "mem_capacity": mem_capacity,
            "version": AWX_COMPAT_VERSION, "errors": "", "last_health_check": now_iso(), "last_seen": now_iso(),
            "health_check_started": None}


def capacity(instance: dict, configured: int = 0) -> int:
    """The capacity of ``instance`` (see the module contract)."""
    if not instance.get("enabled") or instance.get("node_type") == "hop":
        return 0
    if configured:
        return configured
    low, high = sorted((int(instance.get("cpu_capacity") or 0), int(instance.get("mem_capacity") or 0)))
    raw = instance.get("capacity_adjustment")
    adjustment = 1.0 if raw is None else float(raw)
    return int(low + (high - low) * adjustment)


def health_check(ctx, instance: dict) -> dict:
    """Re-measure ``instance`` (this node only: there is no other to reach) and store it.  A
    worker (``execution``) is left as its last heartbeat stored it (refreshed every few
    seconds while it lives; its ``errors`` say when it is lost)."""
    if instance.get("node_type") == "execution":
        return ctx.store.get("instances", instance["id"])
    values = measure() if instance["hostname"] == node_name() else {
        "errors": "Turret reaches no other node: only the controller's own instance is checked.",
        "last_health_check": now_iso()}
    sql.set_health(ctx.store, instance["id"], values)
    row = ctx.store.get("instances", instance["id"])
    sql.set_health(ctx.store, row["id"], {"capacity": capacity(row, int(getattr(ctx.settings, "CAPACITY", 0) or 0))})
    return ctx.store.get("instances", instance["id"])


def seed(ctx) -> dict:
    """This node's instance (created or re-measured) in ``controlplane`` and ``default``;
    returns the instance row.  ``ctx`` acts as the system."""
    registry, store = ctx.registry, ctx.store
    host = node_name()
    with store.transaction():
        inst = sql.instance_named(store, host)
        if inst is None:
            inst = crud.insert_trusted(ctx, registry["instance"], {
                "hostname": host, "uuid": ensure_install_uuid(store), "node_type": "hybrid",
                "node_state": "ready", "managed": True, "enabled": True, "capacity_adjustment": 1.0,
                "ip_address": "", **measure()})
        else:
            sql.set_health(store, inst["id"], measure())
        inst = store.get("instances", inst["id"])
        sql.set_health(store, inst["id"], {"capacity": capacity(inst, int(getattr(ctx.settings, "CAPACITY", 0) or 0))})
        for name in (CONTROL_PLANE, DEFAULT_GROUP):
            group = sql.group_named(store, name) or crud.insert_trusted(ctx, registry["instance_group"], {
                "name": name, "policy_instance_list": []})
            sql.link_member(store, group["id"], inst["id"])
    return store.get("instances", inst["id"])


# -- where a job runs -------------------------------------------------------------------------
def _as_ids(value: Any) -> list[int]:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else {}
        except ValueError:
            return []
    return [v for v in value if isinstance(v, int)] if isinstance(value, list) else []


def preferred_groups(ctx, job: dict) -> list[int]:
    """The instance groups ``job`` (a row of any job kind) may run in, most preferred first."""
    store = ctx.store
    prompted = _as_ids(json_mapping(job.get("launch_prompts")).get("instance_groups") or [])
    if prompted:
        return prompted
    chosen: list[int] = []
    owners: list[tuple[str, dict | None]] = []
    if job.get("job_template"):
        owners.append(("job_template", store.get("job_templates", job["job_template"])))
    inventory = store.get("inventories", job["inventory"]) if job.get("inventory") else None
    owners.append(("inventory", inventory))
    org_id = job.get("organization") or (inventory or {}).get("organization")
    owners.append(("organization", store.get("organizations", org_id) if org_id else None))
    for owner, row in owners:
        if row is None:
            continue
        chosen += [g for g in sql.ordered_groups(store, owner, row["id"]) if g not in chosen]
        if row.get("prevent_instance_group_fallback"):
            break
    if chosen:
        return chosen
    default = sql.group_named(store, DEFAULT_GROUP)
    return [default["id"]] if default else []


def distributed(ctx) -> bool:
    """True when jobs may run on ``turret worker``s (a broker is configured)."""
    return bool(getattr(ctx.settings, "BROKER_URL", ""))


def usable_capacity(ctx, instance: dict) -> int:
    """What ``instance`` can hold for new jobs: its capacity when enabled and live (a lost
    worker's capacity is 0), and this controller's only when it runs jobs itself."""
    if instance["hostname"] == node_name():
        if distributed(ctx) and int(getattr(ctx.settings, "JOB_WORKERS", 1) or 0) <= 0:
            return 0
        return capacity(instance, int(getattr(ctx.settings, "CAPACITY", 0) or 0))
    return capacity(instance)


def runs_on_workers(job: dict) -> bool:
    """May ``job`` (a row of any job kind) run on a worker?  Jobs (a ``playbook``) and ad hoc
    commands (a ``module_name``) may; project, inventory and system jobs always run on the
    controller (they write its files), so no worker's capacity holds them back."""
    return "playbook" in job or "module_name" in job


def choose_instance_group(ctx, job: dict) -> int | None:
    """The group ``job`` runs in: the first preferred group holding an enabled instance (in
    distributed mode: one with usable capacity), else the first preferred one (embedded: this
    node runs every job; distributed: the job waits for a worker of it); None when there is
    none."""
    groups = preferred_groups(ctx, job)
    members = sql.group_instances(ctx.store, groups)
    usable = (lambda i: usable_capacity(ctx, i) > 0) if distributed(ctx) else (lambda i: bool(i.get("enabled")))
    for gid in groups:
        if any(usable(i) for i in members.get(gid, [])):
            return gid
    return groups[0] if groups else None


def has_room(ctx, group_id: int | None, job: dict, impact: int, tables: Iterable[str],
             impact_of: Callable[[str, dict], int]) -> bool:
    """Does ``group_id`` take one more job of ``impact`` forks now?  Its ``max_concurrent_jobs``
    and ``max_forks`` (0: no limit) count the jobs claimed in it over every job table; a group
    running nothing always takes one job, so a job larger than ``max_forks`` still runs alone.
    Distributed mode adds the group's capacity (see the module contract): a group with no
    usable capacity takes nothing, one running nothing takes one job of any size."""
    group = ctx.store.get("instance_groups", group_id) if group_id else None
    limited = group is not None and bool(group.get("max_concurrent_jobs") or group.get("max_forks"))
    counted = distributed(ctx) and runs_on_workers(job)
    if group is None or not (limited or counted):
        return True
    running = [(t, r) for t in tables if sql.has_column(ctx.store, t, "instance_group")
               for r in sql.active_in_group(ctx.store, t, group["id"], job["id"])]
    if counted:
        room = sum(usable_capacity(ctx, i) for i in sql.group_instances(ctx.store, [group["id"]])[group["id"]])
        if room <= 0:
            return False
        if running and sum(impact_of(t, r) for t, r in running) + impact > room:
            return False
    if not running:
        return True
    if group.get("max_concurrent_jobs") and len(running) + 1 > group["max_concurrent_jobs"]:
        return False
    used = sum(impact_of(t, r) for t, r in running)
    return not (group.get("max_forks") and used + impact > group["max_forks"])


def topology(ctx) -> dict[str, list[dict]]:
    """The ``instances`` and ``instance_groups`` of ``/api/v2/ping/`` (AWX's shape), from the
    stored instances and groups."""
    configured = int(getattr(ctx.settings, "CAPACITY", 0) or 0)
    instances = sql.all_rows(ctx.store, "instances")
    caps = {i["id"]: capacity(i, configured if i["hostname"] == node_name() else 0) for i in instances}
    groups = sql.all_rows(ctx.store, "instance_groups")
    members = sql.group_instances(ctx.store, [g["id"] for g in groups])
    return {
        "instances": [{"node": i["hostname"], "node_type": i["node_type"], "uuid": i["uuid"],
                       "heartbeat": i["last_seen"], "capacity": caps[i["id"]], "version": i["version"]}
                      for i in instances],
        "instance_groups": [{"name": g["name"], "capacity": sum(caps.get(m["id"], 0) for m in members[g["id"]]),
                             "instances": [m["hostname"] for m in members[g["id"]]]} for g in groups],
    }


# -- the fleet: turret workers as execution instances -------------------------------------------
INSTANCE_LOST = "Worker {name} stopped sending its heartbeat: its capacity is 0 until it comes back."


def register_worker(ctx, name: str, info: dict[str, Any]) -> dict | None:
    """Mirror the registration of live worker ``name`` (``cpu``, ``memory``, ``version``,
    ``queues`` …, see ``controller.workers.registration``) into its ``execution`` instance:
    created the first time (enabled), re-measured and marked seen every time, a member of
    exactly the groups named by its queues (created when missing).  ``enabled`` and
    ``capacity_adjustment`` stay the API's.  None when ``name`` is another kind of instance
    (this controller's own hostname): a worker needs a name of its own."""
    store, registry = ctx.store, ctx.registry
    cpu, memory = int(float(info.get("cpu") or 1)), int(info.get("memory") or 0)
    cpu_capacity, mem_capacity = awx_capacities(cpu, memory)
    now = now_iso()
    values = {"cpu": float(cpu), "memory": memory, "cpu_capacity": cpu_capacity, "mem_capacity": mem_capacity,
              "version": str(info.get("version") or ""), "last_seen": now, "last_health_check": now,
              "errors": "", "node_state": "ready", "ip_address": str(info.get("ip_address") or "")}
    with store.transaction():
        inst = sql.instance_named(store, name)
        if inst is not None and inst["node_type"] != "execution":
            return None
        if inst is None:
            inst = crud.insert_trusted(ctx, registry["instance"], {
                "hostname": name, "uuid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"turret-worker.{name}")),
                "node_type": "execution",
                "managed": False, "enabled": True, "capacity_adjustment": 1.0, **values})
        else:
            sql.set_health(store, inst["id"], values)
        inst = store.get("instances", inst["id"])
        sql.set_health(store, inst["id"], {"capacity": capacity(inst)})
        wanted = []
        for queue in [q for q in str(info.get("queues") or "").split(",") if q]:
            group = sql.group_named(store, queue) or crud.insert_trusted(ctx, registry["instance_group"], {
                "name": queue, "policy_instance_list": []})
            wanted.append(group["id"])
        sql.set_memberships(store, inst["id"], wanted)
    return store.get("instances", inst["id"])


def lose_worker(ctx, instance: dict) -> None:
    """Worker ``instance`` stopped sending its heartbeat: capacity 0 (as AWX marks a lost
    node), ``node_state`` unavailable, the reason in ``errors``; its row and groups stay."""
    sql.set_health(ctx.store, instance["id"], {
        "cpu_capacity": 0, "mem_capacity": 0, "capacity": 0, "node_state": "unavailable",
        "errors": INSTANCE_LOST.format(name=instance["hostname"])})


DEPROVISIONING = "deprovisioning"
ONLY_DEPROVISIONING = "Can only change instances to the 'deprovisioning' state."
MANAGED_NODE = "Cannot deprovision managed nodes."
LIVE_WORKER = ("Cannot deprovision worker {name} while it is registered: stop it first (its instance becomes "
               "unavailable once its heartbeat is gone).")


def node_state_problem(instance: dict, value: Any, with_broker: bool = True) -> str:
    """Why ``instance``'s ``node_state`` may not become ``value`` ("" when it may).  As AWX, the
    only change allowed is to ``deprovisioning``, and never for a managed node (this
    controller's own); Turret also refuses it for a worker still registered (not
    ``unavailable``): the fleet monitor would bring it back at its next heartbeat anyway.
    ``with_broker`` False (no broker configured: no worker can be registered, and no monitor
    marks one unavailable) lifts that last condition."""
    if value == instance["node_state"]:
        return ""
    if value != DEPROVISIONING:
        return ONLY_DEPROVISIONING
    if instance["managed"] or instance["node_type"] != "execution":
        return MANAGED_NODE
    if with_broker and instance["node_state"] != "unavailable":
        return LIVE_WORKER.format(name=instance["hostname"])
    return ""


def deprovision(ctx, instance: dict, before: dict | None) -> bool:
    """Remove worker ``instance`` with its group memberships when it has just been set to
    ``deprovisioning`` (``before``: its row before; :func:`node_state_problem` allowed it only
    for a gone worker).  AWX removes such a node in the background; Turret has no mesh to
    tell, so it removes it at once.  True when removed.  A worker that registers again later
    comes back as a new instance."""
    if instance["node_state"] != DEPROVISIONING or (before or {}).get("node_state") == DEPROVISIONING:
        return False
    sql.remove_instance(ctx.store, instance["id"])
    return True


def worker_instances(ctx) -> list[dict]:
    """Every ``execution`` instance (live or lost worker)."""
    return [i for i in sql.all_rows(ctx.store, "instances") if i["node_type"] == "execution"]


def worker_enabled(store, name: str) -> bool:
    """May worker ``name`` start a job now?  False when its instance is disabled or lost;
    True for a worker not mirrored yet (it registered a moment ago)."""
    inst = sql.instance_named(store, name)
    if inst is None:
        return True
    return bool(inst["enabled"]) and inst["node_state"] != "unavailable"
