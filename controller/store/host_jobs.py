"""SQL of hosts' job history and of what an inventory's sources and hosts say about failures.

``hosts.last_job`` and ``hosts.last_job_host_summary`` are columns (AWX keeps them on the host
row too), written once per job when its host summaries are stored; everything else here reads.
Every ``*_sql`` function returns ``(sql, params)`` usable as a WHERE over the named table.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..status import FINISHED
from .imports import SOURCE_GROUPS, SOURCE_HOSTS
from .inventory import all_hosts_sql

if TYPE_CHECKING:
    from . import Store

# over ``inventory_sources src``: the source's newest ended update failed (AWX's
# ``last_job_failed``; only an ended update says whether its source failed)
_SOURCE_FAILED = ("EXISTS (SELECT 1 FROM inventory_updates u WHERE u.failed = 1 AND u.id = (SELECT max(id)"
                  " FROM inventory_updates WHERE inventory_source = src.id AND status IN ("
                  + ", ".join(f"'{s}'" for s in FINISHED) + ")))")


def mark_last_job(store: Store, job_id: int) -> int:
    """Point every host the job summarized at the job and at its summary row, as AWX does when
    it saves a job's summaries (called in the transaction that stores them: the job whose
    summaries were stored last is every host's last); returns how many hosts changed."""
    with store.transaction():
        cursor = store.execute(
            'UPDATE "hosts" SET last_job = ?, last_job_host_summary = s.id '
            'FROM (SELECT host, max(id) AS id FROM job_host_summaries WHERE job = ? AND host IS NOT NULL '
            'GROUP BY host) AS s WHERE "hosts".id = s.host', (job_id, job_id))
    return cursor.rowcount


def failed_hosts_sql() -> tuple[str, list]:
    """Hosts (over ``hosts``) whose last job host summary failed (AWX
    ``last_job_host_summary__failed=True``)."""
    # one primary-key lookup per host (not a scan of every failed summary ever stored)
    return ('EXISTS (SELECT 1 FROM job_host_summaries s WHERE s.id = "hosts".last_job_host_summary'
            ' AND s.failed = 1)'), []


def failed_summaries(store: Store, summary_ids: list[int]) -> set[int]:
    """Which of these job host summaries failed."""
    if not summary_ids:
        return set()
    marks = ",".join("?" * len(summary_ids))
    return {r[0] for r in store.query(
        f"SELECT id FROM job_host_summaries WHERE failed = 1 AND id IN ({marks})", summary_ids)}


def recent_jobs(store: Store, host_ids: list[int], limit: int = 5) -> dict[int, list[dict]]:
    """``{host id: [{id, name, type, status, finished}]}``: the jobs of each host's newest
    ``limit`` summaries, newest first (AWX ``summary_fields.recent_jobs``; the name is the job
    template's, "" once it is gone)."""
    if not host_ids:
        return {}
    # each host's newest summaries through the host index, ``limit`` rows each: the cost does
    # not grow with a host's history (summary ids grow with time, as AWX orders by created)
    rows = store.query(
        "SELECT s.host, s.job, coalesce(t.name, '') AS name, j.status, j.finished FROM json_each(?) h"
        " JOIN job_host_summaries s ON s.id IN"
        "  (SELECT id FROM job_host_summaries WHERE host = h.value ORDER BY id DESC LIMIT ?)"
        " JOIN jobs j ON j.id = s.job LEFT JOIN job_templates t ON t.id = j.job_template"
        " ORDER BY s.host, s.id DESC", [json.dumps(host_ids), limit])
    out: dict[int, list[dict]] = {}
    for r in rows:
        out.setdefault(r["host"], []).append(
            {"id": r["job"], "name": r["name"], "type": "job", "status": r["status"], "finished": r["finished"]})
    return out


def hosts_with_sources(store: Store, host_ids: list[int]) -> set[int]:
    """Which of these hosts an inventory source imported (AWX ``host.inventory_sources``)."""
    if not host_ids:
        return set()
    marks = ",".join("?" * len(host_ids))
    return {r[0] for r in store.query(f"SELECT DISTINCT host_id FROM {SOURCE_HOSTS} WHERE host_id IN ({marks})",
                                      host_ids)}


def imported_hosts_sql() -> tuple[str, list]:
    """Hosts (over ``hosts``) some inventory source imported."""
    return f"id IN (SELECT host_id FROM {SOURCE_HOSTS})", []


def failed_sources_by_inventory(store: Store, inventory_ids: list[int]) -> dict[int, int]:
    """``{inventory id: sources whose newest ended update failed}`` (AWX counts the sources
    whose ``last_job_failed`` is set, which is that update's ``failed``)."""
    if not inventory_ids:
        return {}
    marks = ",".join("?" * len(inventory_ids))
    return {r[0]: r[1] for r in store.query(
        f"SELECT src.inventory, count(*) FROM inventory_sources src WHERE src.inventory IN ({marks})"
        f" AND {_SOURCE_FAILED} GROUP BY src.inventory", inventory_ids)}


def count_failed_hosts(store: Store, where: str, params: list) -> int:
    """Hosts matching ``where`` (a compiled fragment over ``hosts``) whose last summary failed."""
    failed, extra = failed_hosts_sql()
    return store.count("hosts", f"({where}) AND {failed}", [*params, *extra])


# -- sub-list scopes (compilers) ----------------------------------------------------------------
def host_ad_hoc_commands_sql(host_id: int) -> tuple[str, list]:
    """Ad hoc commands (over ``ad_hoc_commands``) that ran on the host (AWX: through their
    events)."""
    return "id IN (SELECT ad_hoc_command FROM ad_hoc_command_events WHERE host = ?)", [host_id]


def of_group_hosts_sql(column: str, group_id: int) -> tuple[str, list]:
    """Rows whose ``column`` names a host of the group or of its descendants (AWX
    ``Group.job_host_summaries`` / ``job_events``: over the group's ``all_hosts``)."""
    hosts_sql, params = all_hosts_sql(group_id)
    return f'"{column}" IN (SELECT id FROM "hosts" WHERE {hosts_sql})', params


def group_ad_hoc_commands_sql(group_id: int) -> tuple[str, list]:
    """Ad hoc commands (over ``ad_hoc_commands``) that ran on a host of the group."""
    events_sql, params = of_group_hosts_sql("host", group_id)
    return f"id IN (SELECT ad_hoc_command FROM ad_hoc_command_events WHERE {events_sql})", params


# -- inventories' counters as SQL (regular inventories) -----------------------------------------
def inventory_counter_sql(name: str) -> str:
    """A scalar expression (over ``inventories``) of the computed field ``name`` of a regular
    inventory, as ``services/inventory_contents.counters`` computes it; "" for an unknown name."""
    failed_hosts = failed_hosts_sql()[0]
    counts = {
        "total_hosts": 'SELECT count(*) FROM "hosts" WHERE "hosts".inventory = "inventories".id',
        "hosts_with_active_failures": 'SELECT count(*) FROM "hosts" WHERE "hosts".inventory = "inventories".id'
                                      f" AND {failed_hosts}",
        "total_groups": 'SELECT count(*) FROM "groups" WHERE "groups".inventory = "inventories".id',
        "total_inventory_sources": 'SELECT count(*) FROM inventory_sources src WHERE src.inventory = "inventories".id',
        "inventory_sources_with_failures": ('SELECT count(*) FROM inventory_sources src'
                                            f' WHERE src.inventory = "inventories".id AND {_SOURCE_FAILED}'),
    }
    flags = {"has_active_failures": "hosts_with_active_failures", "has_inventory_sources": "total_inventory_sources"}
    if name in counts:
        return f"({counts[name]})"
    if name in flags:
        return f"(({counts[flags[name]]}) > 0)"
    return "0" if name == "pending_deletion" else ""


def sources_importing_group(store: Store, group_id: int) -> set[int]:
    """The inventory sources whose imports brought group ``group_id``."""
    return {r[0] for r in store.query(f"SELECT source_id FROM {SOURCE_GROUPS} WHERE group_id = ?", (group_id,))}


def smart_inventories(store: Store, visible: tuple[str, list] | None = None) -> list[dict]:
    """The smart inventories ``visible`` (SQL over ``inventories``; None: all) selects: their
    counters are their filters' matches, computed, not SQL."""
    where, params = visible or ("1", [])
    return store.dicts(f"SELECT * FROM inventories WHERE kind = 'smart' AND ({where}) ORDER BY id", params)


def counter_term(name: str, sql_op: str, value: int, smart_ids: list[int]) -> tuple[str, list]:
    """(sql, params) over ``inventories``: a regular inventory whose counter ``name`` compares
    with ``sql_op`` to ``value``, or one of the smart inventories ``smart_ids`` (whose counters
    were computed and compared by the caller)."""
    return (f"((kind != 'smart' AND {inventory_counter_sql(name)} {sql_op} ?)"
            " OR id IN (SELECT value FROM json_each(?)))"), [value, json.dumps(smart_ids)]
