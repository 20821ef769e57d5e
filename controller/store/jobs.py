"""SQL of the job queue: claim, transition and reap unified jobs (compare-and-set, so two
workers or two processes can never run the same job)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Iterable

from ..status import ACTIVE, FAILED, FINISHED, QUEUED, STARTED
from . import host_jobs, now_iso


def _status_in(statuses: tuple[str, ...]) -> str:
    """``status IN (?, ...)``: the statuses are bound as parameters, never restated in SQL."""
    return f"status IN ({','.join('?' * len(statuses))})"


def pending(store, table: str, limit: int) -> list[dict]:
    """The oldest pending jobs of one table, oldest first."""
    return [dict(r) for r in store.query(
        f'SELECT * FROM "{table}" WHERE status = \'pending\' ORDER BY created, id LIMIT ?', (limit,))]


def is_active(store, table: str, pk: int) -> bool:
    return store.exists(table, f"id = ? AND {_status_in(ACTIVE)}", [pk, *ACTIVE])


def status_of(store, table: str, pk: int) -> str | None:
    return store.scalar(f'SELECT status FROM "{table}" WHERE id = ?', (pk,))


def claim(store, table: str, pk: int, node: str) -> bool:
    """pending -> waiting, only if still pending."""
    with store.transaction():
        return store.update_where(table, {"status": "waiting", "execution_node": node, "modified": now_iso()},
                                  "id = ? AND status = 'pending'", [pk]) == 1


def set_fields(store, table: str, pk: int, values: dict) -> None:
    with store.transaction():
        store.update(table, pk, {**values, "modified": now_iso()})


def forget_credential_passwords(store, pk: int) -> None:
    """Blank the launch's credential passwords of job ``pk`` (kept encrypted until it ends)."""
    with store.transaction():
        store.execute("UPDATE jobs SET credential_passwords = '' WHERE id = ? AND credential_passwords != ''", (pk,))


def cancel_pending(store, table: str, pk: int) -> bool:
    """new/pending -> canceled at once (nothing runs yet)."""
    now = now_iso()
    with store.transaction():
        return store.update_where(table, {"status": "canceled", "failed": True, "finished": now,
                                          "canceled_on": now, "cancel_flag": True, "event_processing_finished": True,
                                          "job_explanation": "Job was canceled before it started",
                                          "modified": now},
                                  f"id = ? AND {_status_in(QUEUED)}", [pk, *QUEUED]) == 1


def flag_cancel(store, table: str, pk: int) -> bool:
    with store.transaction():
        return store.update_where(table, {"cancel_flag": True, "canceled_on": now_iso()},
                                  f"id = ? AND {_status_in(STARTED)}", [pk, *STARTED]) == 1


def cancel_requested(store, table: str, pk: int) -> bool:
    return bool(store.scalar(f'SELECT cancel_flag FROM "{table}" WHERE id = ?', (pk,)))


def claim_remote(store, table: str, pk: int, node: str) -> bool:
    """waiting -> running on worker ``node`` (execution_node, started): only while the job is
    still waiting and no node has it yet, so of two deliveries of its task one runs it."""
    now = now_iso()
    with store.transaction():
        return store.update_where(table, {"status": "running", "execution_node": node, "started": now,
                                          "modified": now},
                                  "id = ? AND status = 'waiting' AND coalesce(execution_node, '') = ''", [pk]) == 1


def end_if_started(store, table: str, pk: int, values: dict) -> bool:
    """Write a job's final ``values`` only while it is still waiting/running (nobody ended it
    meanwhile, e.g. the fleet monitor after its worker was lost)."""
    with store.transaction():
        return store.update_where(table, {**values, "modified": now_iso()}, f"id = ? AND {_status_in(STARTED)}",
                                  [pk, *STARTED]) == 1


def event_counters(store, events_table: str, parent_col: str, pk: int) -> set[int]:
    """The counters of the events stored for job ``pk`` (a replayed stream skips them)."""
    return {r[0] for r in store.query(f'SELECT counter FROM "{events_table}" WHERE "{parent_col}" = ?', (pk,))}


def left_running(store, table: str) -> list[int]:
    """Jobs waiting or running: at start-up, candidates for reaping."""
    return store.ids_where(table, _status_in(STARTED), list(STARTED))


def reap(store, table: str, ids: list[int], explanation: str) -> list[int]:
    """Jobs ``ids`` left waiting/running by a process that died become ``error`` (only those
    still waiting/running); returns the ids reaped.  ``event_processing_finished`` is left to
    the caller, which first completes the events (``events_unfinished``)."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    where, params = f"id IN ({marks}) AND {_status_in(STARTED)}", [*ids, *STARTED]
    with store.transaction():
        found = store.ids_where(table, where, params)
        if found:
            store.update_where(table, {"status": "error", "failed": True, "finished": now_iso(),
                                       "job_explanation": explanation, "modified": now_iso()}, where, params)
    return found


def events_unfinished(store, table: str) -> list[int]:
    """Ended jobs whose ``event_processing_finished`` never turned true."""
    return store.ids_where(table, f"{_status_in(FINISHED)} AND NOT coalesce(event_processing_finished, 0)",
                           list(FINISHED))


def active_using(store, table: str, column: str, pk: int) -> list[int]:
    return store.ids_where(table, f'"{column}" = ? AND {_status_in(ACTIVE)}', [pk, *ACTIVE])


def latest(store, table: str, column: str, ids: list[int], active: bool) -> dict[int, dict]:
    """Newest active (or newest finished) job per parent id."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    statuses = ACTIVE if active else FINISHED
    rows = store.query(f'SELECT * FROM "{table}" WHERE id IN (SELECT max(id) FROM "{table}" '
                       f'WHERE "{column}" IN ({marks}) AND {_status_in(statuses)} GROUP BY "{column}")',
                       [*ids, *statuses])
    return {r[column]: dict(r) for r in rows}


def update_state(store, table: str, column: str, ids: list[int]) -> dict[int, tuple[dict | None, dict | None]]:
    """{parent id: (its current active job, its last finished job)} for the jobs of ``table``
    whose ``column`` names the parent (a project's updates, an inventory source's ...)."""
    active = latest(store, table, column, ids, active=True)
    done = latest(store, table, column, ids, active=False)
    return {pk: (active.get(pk), done.get(pk)) for pk in ids}


def insert_job(store, table: str, values: dict) -> int:
    with store.transaction():
        return store.insert(table, values)


def events_text(store, table: str, column: str, pk: int, start: int | None = None,
                end: int | None = None) -> list[tuple[int, int, str]]:
    """(start_line, end_line, stdout) of a job's events in output order."""
    where, params = f'"{column}" = ? AND stdout != \'\'', [pk]
    if start is not None:
        where += " AND end_line > ?"
        params.append(start)
    if end is not None:
        where += " AND start_line < ?"
        params.append(end)
    return [(r[0], r[1], r[2]) for r in store.query(
        f'SELECT start_line, end_line, stdout FROM "{table}" WHERE {where} ORDER BY start_line, counter', params)]


def job_credentials(store, job_id: int) -> list[dict]:
    return [dict(r) for r in store.query(
        "SELECT c.* FROM credentials c JOIN job_credentials jc ON jc.credential_id = c.id WHERE jc.job_id = ?"
        " ORDER BY c.id", (job_id,))]


def store_host_summaries(store, job_id: int, rows: list[dict]) -> None:
    """The job's host summaries (in place of any it had), and each host's ``last_job`` /
    ``last_job_host_summary`` pointed at them in the same transaction, as AWX saves both."""
    with store.transaction():
        store.clear_references_in("hosts", "last_job_host_summary", "job_host_summaries", "job = ?", [job_id])
        store.delete_where("job_host_summaries", "job = ?", [job_id])
        store.insert_many("job_host_summaries", rows)
        host_jobs.mark_last_job(store, job_id)


def host_count(store, inventory_id: int | None) -> int:
    if not inventory_id:
        return 0
    return store.count("hosts", "inventory = ? AND enabled = 1", [inventory_id])


def template_running(store, template_id: int, job_id: int) -> bool:
    return store.exists("jobs", f"job_template = ? AND id != ? AND {_status_in(STARTED)}",
                        [template_id, job_id, *STARTED])


def sibling_running(store, table: str, column: str, template_id: int, job_id: int) -> bool:
    """Another run of ``table`` for the same template (its foreign key ``column``) is waiting or
    running: project and inventory updates of one template run one at a time (AWX)."""
    return store.exists(table, f'"{column}" = ? AND id != ? AND {_status_in(STARTED)}',
                        [template_id, job_id, *STARTED])


def template_credentials(store, jt_id: int) -> list[int]:
    return [r[0] for r in store.query(
        "SELECT credential_id FROM job_template_credentials WHERE job_template_id = ? ORDER BY credential_id",
        (jt_id,))]


def template_labels(store, jt_id: int) -> list[int]:
    return [r[0] for r in store.query(
        "SELECT label_id FROM job_template_labels WHERE job_template_id = ? ORDER BY label_id", (jt_id,))]


def job_credential_ids(store, job_id: int) -> list[int]:
    return [r[0] for r in store.query(
        "SELECT credential_id FROM job_credentials WHERE job_id = ? ORDER BY credential_id", (job_id,))]


def link(store, table: str, left: str, right: str, pk: int, ids: list[int]) -> None:
    for other in ids:
        store.execute(f'INSERT OR IGNORE INTO "{table}" ("{left}", "{right}") VALUES (?, ?)', (pk, other))


def project_failed(store, project_id: int) -> bool:
    """The project's newest finished update failed (and nothing newer succeeded)."""
    row = store.one(f"SELECT status FROM project_updates WHERE project = ? AND {_status_in(FINISHED)} "
                    "ORDER BY id DESC LIMIT 1", (project_id, *FINISHED))
    return row is not None and row["status"] in FAILED


def _succeeded_within(store, table: str, column: str, pk: int, cache_timeout: int) -> bool:
    """A successful update of ``table`` whose ``column`` is ``pk`` finished within
    ``cache_timeout`` seconds (0: never fresh)."""
    if cache_timeout <= 0:
        return False
    since = (datetime.now(timezone.utc) - timedelta(seconds=cache_timeout)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return store.exists(table, f'"{column}" = ? AND status = \'successful\' AND finished >= ?', [pk, since])


def update_is_fresh(store, project_id: int, cache_timeout: int) -> bool:
    """A successful update of the project finished within ``cache_timeout`` seconds (0: never fresh)."""
    return _succeeded_within(store, "project_updates", "project", project_id, cache_timeout)


def failed_hosts(store, job_id: int) -> list[str]:
    return [r[0] for r in store.query(
        "SELECT host_name FROM job_host_summaries WHERE job = ? AND failed = 1 ORDER BY host_name", (job_id,))]


def has_stats_event(store, job_id: int) -> bool:
    """The job recorded its ``playbook_on_stats`` event (a retry by host status needs it).
    The play recap is the playbook's last event, so only the job's highest counters are read
    (the (job, counter) index), not every event of a long job."""
    rows = store.query("SELECT event FROM job_events WHERE job = ? ORDER BY counter DESC LIMIT 3", (job_id,))
    return any(row[0] == "playbook_on_stats" for row in rows)


def retry_counts(store, job_id: int) -> dict:
    total = store.count("job_host_summaries", "job = ?", [job_id])
    failed = store.count("job_host_summaries", "job = ? AND failed = 1", [job_id])
    return {"all": total, "failed": failed}


def events_after(store, table: str, column: str, pk: int, counter: int, limit: int) -> list[dict]:
    return [dict(r) for r in store.query(
        f'SELECT * FROM "{table}" WHERE "{column}" = ? AND counter > ? ORDER BY counter LIMIT ?',
        (pk, counter, limit))]


def job_state(store, table: str, pk: int) -> dict | None:
    return store.one_dict(f'SELECT status, event_processing_finished FROM "{table}" WHERE id = ?', (pk,))


def summaries_of(store, job_ids: list[int]) -> list[dict]:
    if not job_ids:
        return []
    marks = ",".join("?" * len(job_ids))
    return [dict(r) for r in store.query(
        f"SELECT job, dark, failures, changed, ok FROM job_host_summaries WHERE job IN ({marks})", job_ids)]


def play_task_counts(store, job_ids: list[int]) -> list[tuple[int, int, int]]:
    if not job_ids:
        return []
    marks = ",".join("?" * len(job_ids))
    return [(r[0], r[1], r[2]) for r in store.query(
        f"SELECT job, sum(event = 'playbook_on_play_start'), sum(event = 'playbook_on_task_start') "
        f"FROM job_events WHERE job IN ({marks}) AND event IN ('playbook_on_play_start', 'playbook_on_task_start') "
        f"GROUP BY job", job_ids)]


def credentials_summary(store, table: str, column: str, ids: list[int]) -> dict[int, list[dict]]:
    """``summary_fields.credentials`` of each owner in ``ids`` (a job or a template, through the
    link ``table``): by name then id, ``kind`` being the type's namespace as AWX's
    ``Credential.kind`` ("ssh", "aws", None for a custom type), ``cloud`` its type's kind."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    out: dict[int, list[dict]] = {}
    for r in store.query(
            f'SELECT a."{column}" AS owner, c.id, c.name, c.description, t.namespace AS kind, '
            f't.kind = \'cloud\' AS cloud FROM "{table}" a JOIN credentials c ON c.id = a.credential_id '
            f'JOIN credential_types t ON t.id = c.credential_type WHERE a."{column}" IN ({marks}) '
            f'ORDER BY c.name, c.id', ids):
        out.setdefault(r["owner"], []).append({"id": r["id"], "name": r["name"], "description": r["description"],
                                               "kind": r["kind"], "cloud": bool(r["cloud"])})
    return out


def labels_summary(store, table: str, column: str, ids: list[int]) -> dict[int, list[dict]]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    out: dict[int, list[dict]] = {}
    for r in store.query(f'SELECT a."{column}" AS owner, l.id, l.name FROM "{table}" a '
                         f'JOIN labels l ON l.id = a.label_id WHERE a."{column}" IN ({marks}) '
                         f'ORDER BY l.name, l.id', ids):
        out.setdefault(r["owner"], []).append({"id": r["id"], "name": r["name"]})
    return out


def claim_daily(store, key: str, period: float) -> bool:
    """True (and the time recorded) when ``key`` last ran more than ``period`` seconds ago; the
    write lock is taken only then (and the time read again under it: one process claims)."""
    now = time.time()

    def due() -> bool:
        row = store.one("SELECT value FROM meta WHERE key = ?", (key,))
        return row is None or now - float(row["value"]) >= period

    if not due():
        return False
    with store.transaction():
        if not due():
            return False
        store.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(now)))
    return True


def sources_to_update(store, inventory_id: int | None) -> list[dict]:
    if not inventory_id:
        return []
    return [dict(r) for r in store.query(
        "SELECT * FROM inventory_sources WHERE inventory = ? AND update_on_launch = 1 ORDER BY id", (inventory_id,))]


def inventory_update_is_fresh(store, source_id: int, cache_timeout: int) -> bool:
    """A successful sync of the source finished within ``cache_timeout`` seconds (0: never fresh)."""
    return _succeeded_within(store, "inventory_updates", "inventory_source", source_id, cache_timeout)


def propagate_event_flags(store, table: str, column: str, pk: int) -> None:
    """AWX: once the run ends, parents (task, play, playbook starts) of failed/changed events
    are flagged too; three passes reach the playbook level."""
    with store.transaction():
        for flag in ("failed", "changed"):
            for _level in range(3):
                store.execute(
                    f'UPDATE "{table}" SET "{flag}" = 1 WHERE "{column}" = ? AND "{flag}" = 0 AND uuid IN '
                    f'(SELECT parent_uuid FROM "{table}" WHERE "{column}" = ? AND "{flag}" = 1 '
                    f"AND parent_uuid != '')",
                    (pk, pk))


# -- job templates' computed output (resources/templates.py) -----------------------------------
_TEMPLATE_JOB_COLUMNS = "id, job_template, name, description, status, failed, finished, canceled_on"


def template_jobs(store, template_ids: list[int], finished: Iterable[str],
                  active: Iterable[str]) -> dict[int, dict]:
    """``{template id: {"recent": [...], "current": job | None, "last": job | None}}`` for
    every id: its 10 newest jobs (newest first), its newest job in an ``active`` status and
    its newest in a ``finished`` one.  Jobs carry :data:`_TEMPLATE_JOB_COLUMNS` only."""
    out: dict[int, dict] = {i: {"recent": [], "current": None, "last": None} for i in template_ids}
    if not template_ids:
        return out
    marks = ",".join("?" * len(template_ids))
    cols = _TEMPLATE_JOB_COLUMNS
    recent = store.query(f"SELECT * FROM (SELECT {cols}, ROW_NUMBER() OVER (PARTITION BY job_template "
                         f"ORDER BY id DESC) AS rn FROM jobs WHERE job_template IN ({marks})) WHERE rn <= 10 "
                         f"ORDER BY id DESC", template_ids)
    for r in recent:
        out[r["job_template"]]["recent"].append(dict(r))
    for key, states in (("last", list(finished)), ("current", list(active))):
        wanted = ",".join("?" * len(states))
        for r in store.query(f"SELECT {cols} FROM jobs j WHERE job_template IN ({marks}) AND id = (SELECT "
                             f"max(id) FROM jobs k WHERE k.job_template = j.job_template AND k.status IN "
                             f"({wanted}))", [*template_ids, *states]):
            out[r["job_template"]][key] = dict(r)
    return out
