"""SQL of instances, instance groups and execution environments: the seeds, the ordered
instance-group lists of templates/inventories/organizations, and the live counts of jobs.

Instance-group lists are association tables ``<owner>_instance_groups(<owner>_id,
instance_group_id, position)``, kept in association order (AWX's ``position``): the first group
is preferred.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from . import links, now_iso

if TYPE_CHECKING:
    from . import Store

GROUP_LINKS = {"organization": "organization_instance_groups", "inventory": "inventory_instance_groups",
               "job_template": "job_template_instance_groups", "schedule": "schedule_instance_groups",
               "workflow_job_template_node": "workflow_job_template_node_instance_groups",
               "workflow_job_node": "workflow_job_node_instance_groups"}
MEMBERS = "instance_group_instances"
ACTIVE = ("waiting", "running")


def link_key(owner: str) -> str:
    """The m2m ``Relation`` key of ``owner``'s ordered instance groups."""
    return f"{GROUP_LINKS[owner]}:{owner}_id:instance_group_id"


def ordered_groups(store: Store, owner: str, owner_id: int | None) -> list[int]:
    """Ids of ``owner``'s instance groups in the order they were associated."""
    if not owner_id:
        return []
    return links.linked_ids(store, GROUP_LINKS[owner], f"{owner}_id", "instance_group_id", owner_id, ordered=True)


def copy_groups(store: Store, source: str, source_id: int, target: str, target_id: int) -> None:
    """Give ``target`` the ordered instance groups of ``source`` (a workflow template node's to
    the job node made from it), in the same order."""
    for group_id in ordered_groups(store, source, source_id):
        links.link(store, GROUP_LINKS[target], f"{target}_id", "instance_group_id", target_id, group_id,
                   ordered=True)


def group_named(store: Store, name: str) -> dict | None:
    return store.one_dict("SELECT * FROM instance_groups WHERE name = ?", (name,))


def instance_named(store: Store, hostname: str) -> dict | None:
    return store.one_dict("SELECT * FROM instances WHERE hostname = ?", (hostname,))


def group_instances(store: Store, group_ids: Sequence[int]) -> dict[int, list[dict]]:
    """{group id: [instance rows]} for the given groups."""
    return store.grouped(f"SELECT m.instance_group_id AS grouped_by, i.* FROM {MEMBERS} m JOIN instances i "
                         "ON i.id = m.instance_id WHERE m.instance_group_id IN ({marks}) ORDER BY i.id", group_ids)


def instance_group_ids(store: Store, instance_ids: Sequence[int]) -> dict[int, list[int]]:
    """{instance id: [group ids]}."""
    rows = store.grouped(f"SELECT instance_id AS grouped_by, instance_group_id FROM {MEMBERS} "
                         "WHERE instance_id IN ({marks}) ORDER BY instance_group_id", instance_ids)
    return {pk: [r["instance_group_id"] for r in found] for pk, found in rows.items()}


def link_member(store: Store, group_id: int, instance_id: int) -> None:
    store.execute(f"INSERT OR IGNORE INTO {MEMBERS} (instance_group_id, instance_id) VALUES (?, ?)",
                  (group_id, instance_id))


def remove_instance(store: Store, instance_id: int) -> None:
    """Delete instance ``instance_id`` and its group memberships (jobs keep its hostname as
    their ``execution_node``: a string, not a reference)."""
    with store.transaction():
        store.execute(f"DELETE FROM {MEMBERS} WHERE instance_id = ?", (instance_id,))
        store.execute("DELETE FROM instances WHERE id = ?", (instance_id,))


def set_memberships(store: Store, instance_id: int, group_ids: Sequence[int]) -> None:
    """Make ``instance_id`` a member of exactly ``group_ids`` (a worker serves its queues)."""
    with store.transaction():
        marks = ",".join("?" * len(group_ids)) or "NULL"
        store.execute(f"DELETE FROM {MEMBERS} WHERE instance_id = ? AND instance_group_id NOT IN ({marks})",
                      (instance_id, *group_ids))
        for group_id in group_ids:
            link_member(store, group_id, instance_id)


def total_jobs_by_node(store: Store, tables: Sequence[str], node: str) -> int:
    """Every job (any status) that ran on ``node``."""
    total = 0
    for table in tables:
        cols = {r[1] for r in store.query(f'PRAGMA table_info("{table}")')}
        if "execution_node" in cols:
            total += store.scalar(f'SELECT count(*) FROM "{table}" WHERE execution_node = ?', (node,)) or 0
    return total


def active_in_group(store: Store, table: str, group_id: int, exclude: int) -> list[dict]:
    """Jobs of ``table`` claimed (waiting or running) in instance group ``group_id``, but
    job ``exclude``."""
    return [r for r in active_where(store, table, "instance_group", group_id) if r["id"] != exclude]


def active_where(store: Store, table: str, column: str, key: Any) -> list[dict]:
    """Jobs of ``table`` waiting or running whose ``column`` is ``key``."""
    return [dict(r) for r in store.query(
        f'SELECT * FROM "{table}" WHERE "{column}" = ? AND status IN (?, ?)', (key, *ACTIVE))]


def has_column(store: Store, table: str, column: str) -> bool:
    return any(r[1] == column for r in store.query(f'PRAGMA table_info("{table}")'))


def default_environment(store: Store) -> dict | None:
    """The global default execution environment: the oldest managed one without organization."""
    return store.one_dict("SELECT * FROM execution_environments WHERE managed = 1 AND organization IS NULL "
                          "ORDER BY id LIMIT 1")


def set_health(store: Store, instance_id: int, values: dict) -> None:
    """Store a health measurement (capacity, cpu, memory, versions, last_health_check ...)."""
    with store.transaction():
        store.update("instances", instance_id, {**values, "modified": now_iso()})


def groups_of_orgs_sql(user_id: int) -> tuple[str, list]:
    """WHERE over instance_groups: groups some organization uses whose admin role the user holds
    (through the role-ancestor table, from the roles the user is a direct member of)."""
    return ("id IN (SELECT instance_group_id FROM organization_instance_groups WHERE organization_id IN "
            "(SELECT object_id FROM role_ancestors WHERE ancestor IN (SELECT role_id FROM role_members"
            " WHERE user_id = ?) AND content_type = 'organization' AND role_field = 'admin_role'))", [user_id])


def instances_in_groups_sql(group_where: str, params: list) -> tuple[str, list]:
    """WHERE over instances: members of the instance groups matching ``group_where``."""
    return (f"id IN (SELECT instance_id FROM {MEMBERS} WHERE instance_group_id IN "
            f"(SELECT id FROM instance_groups WHERE {group_where}))", params)


def jobs_on_node_sql(hostname: str) -> tuple[str, list]:
    """WHERE over a job table: jobs that ran on ``hostname``."""
    return "execution_node = ?", [hostname]


def all_rows(store: Store, table: str) -> list[dict]:
    """Every row of ``table`` (instances, instance_groups: a handful) by id."""
    return [dict(r) for r in store.query(f'SELECT * FROM "{table}" ORDER BY id')]
