"""SQL of the job queue: claim, transition and reap unified jobs (compare-and-set, so two
workers or two processes can never run the same job)."""
from __future__ import annotations

from . import now_iso


def oldest_pending(store, table: str) -> dict | None:
    row = store.one(f'SELECT * FROM "{table}" WHERE status = \'pending\' ORDER BY created, id LIMIT 1')
    return dict(row) if row else None


def claim(store, table: str, pk: int, node: str) -> bool:
    """pending -> waiting, only if still pending."""
    with store.transaction():
        return store.update_where(table, {"status": "waiting", "execution_node": node, "modified": now_iso()},
                                  "id = ? AND status = 'pending'", [pk]) == 1


def set_fields(store, table: str, pk: int, values: dict) -> None:
    with store.transaction():
        store.update(table, pk, {**values, "modified": now_iso()})


def cancel_pending(store, table: str, pk: int) -> bool:
    """new/pending -> canceled at once (nothing runs yet)."""
    now = now_iso()
    with store.transaction():
        return store.update_where(table, {"status": "canceled", "failed": True, "finished": now,
                                          "canceled_on": now, "cancel_flag": True, "event_processing_finished": True,
                                          "job_explanation": "Job was canceled before it started",
                                          "modified": now},
                                  "id = ? AND status IN ('new', 'pending')", [pk]) == 1


def flag_cancel(store, table: str, pk: int) -> bool:
    with store.transaction():
        return store.update_where(table, {"cancel_flag": True, "canceled_on": now_iso()},
                                  "id = ? AND status IN ('waiting', 'running')", [pk]) == 1


def cancel_requested(store, table: str, pk: int) -> bool:
    return bool(store.scalar(f'SELECT cancel_flag FROM "{table}" WHERE id = ?', (pk,)))


def reap(store, table: str, explanation: str) -> list[int]:
    """Jobs left waiting/running by a process that died become ``error``."""
    with store.transaction():
        ids = store.ids_where(table, "status IN ('waiting', 'running')", [])
        if ids:
            marks = ",".join("?" * len(ids))
            store.update_where(table, {"status": "error", "failed": True, "finished": now_iso(),
                                       "job_explanation": explanation, "event_processing_finished": True},
                               f"id IN ({marks})", ids)
    return ids


def active_using(store, table: str, column: str, pk: int) -> list[int]:
    return store.ids_where(table, f"\"{column}\" = ? AND status IN ('new', 'pending', 'waiting', 'running')", [pk])


def latest(store, table: str, column: str, ids: list[int], active: bool) -> dict[int, dict]:
    """Newest active (or newest finished) job per parent id."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    cond = "status IN ('new', 'pending', 'waiting', 'running')" if active else \
        "status IN ('successful', 'failed', 'error', 'canceled')"
    rows = store.query(f'SELECT * FROM "{table}" WHERE id IN (SELECT max(id) FROM "{table}" '
                       f'WHERE "{column}" IN ({marks}) AND {cond} GROUP BY "{column}")', ids)
    return {r[column]: dict(r) for r in rows}


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
