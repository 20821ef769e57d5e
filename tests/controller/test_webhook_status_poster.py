"""The webhook status poster's own conduct (session 25, F2), on a real SQLite file with real
posts to a receiver on 127.0.0.1:

* a poster told to stop while it claims posts gives those claims back, unsent, so the next
  poster on the database sends them, once (it used to leave them claimed: never sent);
* a post waiting behind its job's post being sent costs no write transaction per poll (the
  poller used to claim, give up and prune every poll while any post was queued).

No job stack runs in this module (no ``jobs`` fixture): the only posters are the tests' own.
What the poster's loop thread runs is read through SQLite's trace callback on the store's
connections (each thread has its own; the callback keeps the loop thread's statements).
"""
from __future__ import annotations

import sqlite3
import threading
import time
from typing import Callable

import pytest

from controller.jobs import wake as wakes
from controller.store import Store
from controller.store import webhook_status as q
from controller.webhooks import status
from test_webhook_status import CRED_TYPES, PLAYBOOKS, TOKENS, deliver, gitlab_merge_request, webhook_template
from tests.support.jobs import make_credential, make_stage, type_id, wait_until
from tests.support.receivers import Answer, HttpSink

LOOP = "turret-webhook-status"      # the name of a poster's claiming thread (its senders add "_<n>")
CREATED = Answer(status=201, json={"id": 1})


@pytest.fixture(scope="module")
def scene(admin, app_state) -> dict:
    stage = make_stage(admin, app_state.settings.data_dir, PLAYBOOKS)
    return {**stage, "creds": {"gitlab": make_credential(admin, stage["org"], type_id(admin, CRED_TYPES["gitlab"]),
                                                         {"token": TOKENS["gitlab"]})}}


def launch(admin, anon, scene: dict, sink: HttpSink) -> int:
    """A job launched by a GitLab merge request event naming ``sink``: its ``pending`` post is
    recorded (no job stack runs it further)."""
    jt, key = webhook_template(admin, scene, "gitlab")
    return deliver(anon, "job_templates", jt["id"], "gitlab", key, gitlab_merge_request(sink.url))["job"]


def record(store, job: int, *changes: str) -> None:
    """Record more status changes of ``job`` (as its start and end would) and ring the poster."""
    with store.transaction():
        for change in changes:
            assert q.record(store, "job", job, change, time.time())
    wakes.ring_webhook_status()


def rows(store, job: int) -> list[tuple]:
    return [(r["status"], r["claimed_by"], r["done_at"] is not None) for r in store.dicts(
        "SELECT status, claimed_by, done_at FROM webhook_status_posts WHERE kind = 'job' AND job = ? ORDER BY id",
        (job,))]


def states(sink: HttpSink) -> list[str]:
    return [r.json()["state"] for r in sink.requests]


def loop_ended() -> bool:
    return all(t.name != LOOP for t in threading.enumerate())


class LoopTrace:
    """The statements a poster's loop thread runs from now on, through the trace callback of
    every connection the store has opened so far (the loop's included: it must have looked
    once).  ``hook(sql)`` runs on the loop thread before each of its statements."""

    def __init__(self, store, hook: Callable[[str], None] | None = None) -> None:
        self.statements: list[str] = []
        self.hook = hook
        with store._lock:                   # the store's connections (one per thread)
            self.conns = list(store._all)
        for conn in self.conns:
            conn.set_trace_callback(self._seen)

    def _seen(self, sql: str) -> None:
        if threading.current_thread().name == LOOP:
            self.statements.append(sql)
            if self.hook is not None:
                self.hook(sql)

    def close(self) -> list[str]:
        for conn in self.conns:
            conn.set_trace_callback(None)
        return self.statements


def send_with_a_new_poster(app_state, job: int) -> status.Poster:
    """Start a second poster on the database, wait until every post of ``job`` is done, stop it."""
    poster = status.Poster(app_state, poll=0.1)
    poster.start()
    try:
        wait_until(lambda: status.settled(app_state.store, "job", job), 10, "the new poster to send the posts")
        time.sleep(0.3)
    finally:
        poster.stop()
    return poster


def test_a_stop_while_waiting_for_the_write_lock_leaves_the_posts_to_the_next_poster(admin, anon, app_state, scene):
    store = app_state.store
    with HttpSink(CREATED) as sink:
        job = launch(admin, anon, scene, sink)
        record(store, job, "running", "successful")
        blocker = sqlite3.connect(store.path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")          # another writer (the event writer, say) holds the lock
        first = status.Poster(app_state, poll=0.1)
        try:
            first.start()
            time.sleep(0.5)                         # its first look waits for the lock to claim
            first.stop(timeout=0.2)                 # gives up waiting for that look; the pool shuts
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        wait_until(loop_ended, 10, "the stopped poster's look to end")
        assert rows(store, job) == [("pending", None, False), ("running", None, False),
                                    ("successful", None, False)]   # nothing claimed, nothing given up
        assert sink.requests == []
        second = send_with_a_new_poster(app_state, job)
        assert states(sink) == ["pending", "running", "success"]       # each once, in order
        assert rows(store, job) == [(change, second.owner, True) for change in ("pending", "running", "successful")]


def test_claims_made_as_the_stop_comes_are_given_back_to_the_next_poster(admin, anon, app_state, scene):
    store = app_state.store
    with HttpSink(CREATED) as sink:
        job = launch(admin, anon, scene, sink)
        first = status.Poster(app_state, poll=0.1)
        first.start()
        stopper = threading.Thread(target=first.stop, kwargs={"timeout": 0.1})
        claimed: list[str] = []

        def stop_at_the_claim_s_commit(sql: str) -> None:
            if sql.startswith("UPDATE webhook_status_posts SET claimed_by"):
                claimed.append(sql)
            elif sql == "COMMIT" and claimed and stopper.ident is None:
                stopper.start()                     # the stop comes as the claim commits ...
                time.sleep(0.5)                     # ... and is done (pool shut) before the hand-off

        trace = None
        try:
            wait_until(lambda: status.settled(store, "job", job), 10, "the creation post")
            trace = LoopTrace(store, stop_at_the_claim_s_commit)
            record(store, job, "running")
            wait_until(lambda: stopper.ident is not None, 10, "the poster to claim the running post")
            stopper.join(10)
            wait_until(loop_ended, 10, "the stopped poster's look to end")
        finally:
            if trace is not None:
                trace.close()
            first.stop()
        assert claimed, "the poster claimed nothing"
        assert states(sink) == ["pending"]
        assert rows(store, job) == [("pending", first.owner, True), ("running", None, False)]   # given back
        second = send_with_a_new_poster(app_state, job)
        assert states(sink) == ["pending", "running"]
        assert rows(store, job)[1] == ("running", second.owner, True)


def test_a_post_waiting_behind_its_job_s_post_being_sent_costs_no_write(admin, anon, app_state, scene):
    store = app_state.store
    with HttpSink(Answer(status=201, json={"id": 1}, delay=2.5)) as sink:     # a slow service
        job = launch(admin, anon, scene, sink)
        record(store, job, "running")
        poster = status.Poster(app_state, poll=0.05)
        poster.start()
        trace = None
        try:
            wait_until(lambda: sink.requests, 10, "the creation post")      # now being answered, slowly
            sink.default = CREATED                                          # the next answer is quick
            trace = LoopTrace(store)
            time.sleep(1.0)                                                 # some 20 polls
            seen = trace.close()
            assert rows(store, job) == [("pending", poster.owner, False), ("running", None, False)]
            wait_until(lambda: status.settled(store, "job", job), 10, "the running post")
            time.sleep(0.3)
        finally:
            if trace is not None:
                trace.close()
            poster.stop()
    polls = [sql for sql in seen if sql.startswith("SELECT 1 FROM webhook_status_posts")]
    assert len(polls) >= 5, seen                                            # it kept looking ...
    assert [sql for sql in seen if sql.startswith(("BEGIN", "UPDATE", "DELETE", "INSERT"))] == []   # ... reading only
    assert states(sink) == ["pending", "running"]


def test_has_queued_and_release_see_only_what_a_claim_would(app_state):
    store, now = app_state.store, time.time()
    job = 990001
    with store.transaction():
        for change in ("pending", "running"):
            q.record(store, "job", job, change, now)
    try:
        assert q.has_queued(store)
        [row] = q.claim_next(store, "host:1:a", now, 10)
        assert not q.has_queued(store)              # "running" waits behind the claimed "pending"
        assert q.release(store, [row["id"]], "host:2:b") == 0       # not its claim
        assert q.release(store, [row["id"]], "host:1:a") == 1
        assert q.has_queued(store)
        assert store.one_dict("SELECT claimed_by, claimed_at, done_at FROM webhook_status_posts WHERE id = ?",
                              (row["id"],)) == {"claimed_by": None, "claimed_at": None, "done_at": None}
        [again] = q.claim_next(store, "host:2:b", now, 10)
        assert again["id"] == row["id"]
        q.conclude(store, again["id"], "host:2:b", now)
        assert q.release(store, [again["id"]], "host:2:b") == 0      # done: stays done
        assert [r["status"] for r in q.claim_next(store, "host:2:b", now, 10)] == ["running"]
        # the sweep's two statements each read a partial index of the not-done rows only
        for sql in ("UPDATE webhook_status_posts SET done_at = 1 WHERE done_at IS NULL AND claimed_at < 1",
                    "UPDATE webhook_status_posts SET done_at = 1 WHERE claimed_by IS NULL AND done_at IS NULL "
                    "AND recorded < 1"):
            plan = " ".join(r["detail"] for r in store.dicts("EXPLAIN QUERY PLAN " + sql))
            assert "USING INDEX webhook_status_posts_" in plan, plan
    finally:
        with store.transaction():
            store.execute("DELETE FROM webhook_status_posts WHERE job = ?", (job,))


def _claim_plans(store) -> list[str]:
    """The query plans of the reads :func:`q.has_queued` and :func:`q.claim_next` really run
    (caught by the connection's trace callback, then explained), one string each."""
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        q.has_queued(store)
        claimed = q.claim_next(store, "host:1:plan", time.time(), 10)
        q.release(store, [row["id"] for row in claimed], "host:1:plan")     # no claim left behind
    finally:
        store.conn.set_trace_callback(None)
    reads = [sql for sql in seen if sql.startswith(f"SELECT 1 FROM {q.TABLE}") or sql.startswith("SELECT id, kind")]
    assert len(reads) == 2, seen
    return [" | ".join(r["detail"] for r in store.dicts("EXPLAIN QUERY PLAN " + sql)) for sql in reads]


def test_the_claim_check_seeks_a_partial_index_of_not_done_rows_also_in_an_older_database(tmp_path):
    """``_CLAIMABLE``'s per-row subquery (the lowest not-done row of the job) reads the partial
    index ``(kind, job, id) WHERE done_at IS NULL``; a database made before it (the outbox and
    its other indexes only) gets it from ``install`` at the next start, which stays idempotent."""
    store = Store(str(tmp_path / "older.db"))
    try:
        with store.transaction():       # an outbox as an older version left it
            for sql in (q._TABLE, q._QUEUED_INDEX, q._DONE_INDEX, q._CLAIMED_INDEX, q._WAITING_INDEX):
                store.execute(sql)
            now = time.time()
            for job in range(1, 40):
                for change in ("pending", "running", "successful"):
                    q.record(store, "job", job, change, now)
            store.execute(f"UPDATE {q.TABLE} SET claimed_by = 'old', done_at = ? WHERE job < 30 "
                          "AND status != 'successful'", (now,))
        before = _claim_plans(store)
        assert not any(f"{q.TABLE}_pending" in plan for plan in before), before    # the older plan
        q.install(store)
        q.install(store)                # idempotent
        [index] = store.dicts("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                              (f"{q.TABLE}_pending",))
        assert "(kind, job, id)" in index["sql"] and "WHERE done_at IS NULL" in index["sql"]
        for plan in _claim_plans(store):
            subquery = plan.split("CORRELATED SCALAR SUBQUERY")[1]
            assert f"INDEX {q.TABLE}_pending (kind=? AND job=?)" in subquery, plan
        # the same answers: jobs 1-29 wait on "successful", 30-39 on "pending", oldest first
        assert q.has_queued(store)
        claimed = q.claim_next(store, "host:1:a", time.time(), 100)
        assert [(r["job"], r["status"]) for r in claimed] == (
            [(job, "successful") for job in range(1, 30)] + [(job, "pending") for job in range(30, 40)])
        assert not q.has_queued(store)  # each job's next post waits behind the claimed one
    finally:
        store.close()
